//! Avro object container files (`Obj\x01`: Kafka Connect sinks, Hadoop and data-lake exports,
//! BigQuery and Spark output): every data block decoded.
//!
//! The file is a header (magic, a metadata map holding the schema and `avro.codec`, a 16-byte
//! sync marker), then blocks: an object count, a byte length, the records, the sync marker
//! again. Records are serialised without delimiters, so strings are their raw bytes — but
//! with the `deflate` codec (the commonest after `null`) each block is a *raw* deflate stream
//! with no zlib or gzip header: nothing for carving to find, and a small file is not
//! sizeable enough to count as opaque. So the blocks must be read.
//!
//! The header's metadata (schema text, custom keys) and then every block's decoded bytes are
//! scanned as one member, `records`. Codecs read: `null`, `deflate`, `snappy` (raw snappy,
//! then a CRC32), `zstandard`, `bzip2`, `xz`. Another codec is an `unsupported` gap; a block
//! whose length or sync marker is wrong is a `corrupt` gap naming the block.

use std::io::{self, Cursor, Read};

use super::format::{Format, Place};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"Obj\x01";
const SYNC_LEN: usize = 16;
/// The largest header value (schema, metadata) and block read whole; Avro writers flush
/// blocks at 16 KiB - 1 MiB by default, so this only stops a damaged length.
const MAX_BLOCK: u64 = 64 << 20;

pub(crate) static AVRO: Avro = Avro;

pub(crate) struct Avro;

impl Format for Avro {
    fn name(&self) -> &'static str {
        "avro"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        // The metadata map must start with a plausible entry: a key that is an `avro.`
        // name or any short printable string.
        let Some(rest) = head.strip_prefix(MAGIC) else {
            return false;
        };
        let mut cursor = Cursor::new(rest);
        let Ok(count) = read_long(&mut cursor) else {
            return false;
        };
        if count == 0 {
            return true;
        }
        if count < 0 && read_long(&mut cursor).is_err() {
            return false;
        }
        let Ok(key_len) = read_long(&mut cursor) else {
            return false;
        };
        let at = cursor.position() as usize;
        (1..=256).contains(&key_len)
            && rest
                .get(at..at + (key_len as usize).min(5))
                .is_some_and(|key| key.iter().all(|b| b.is_ascii_graphic()))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut header = Vec::new();
        let (codec, sync) = match read_header(reader, &mut header) {
            Ok(parsed) => parsed,
            Err(error) => {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    format!("the Avro header could not be parsed ({error}); not scanned"),
                );
                return;
            }
        };
        let Some(codec) = Codec::named(&codec) else {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "Avro blocks use the codec `{}`, which scour cannot decode; only the header \
                     was scanned",
                    printable(&codec)
                ),
            );
            let mut member = chain.to_vec();
            member.push("header".to_string());
            scan_member(walk, &member, &mut &header[..], depth + 1, buffer);
            return;
        };
        let mut member = chain.to_vec();
        member.push("records".to_string());
        walk.entering(&member);
        let blocks = Blocks {
            reader,
            codec,
            sync,
            pending: Cursor::new(header),
            current: None,
            block: 0,
            done: false,
        };
        let mut decoded = Decoded::new(walk, &member, codec.name(), blocks);
        scan_member(walk, &member, &mut decoded, depth + 1, buffer);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Null,
    Deflate,
    Snappy,
    Zstandard,
    Bzip2,
    Xz,
}

impl Codec {
    fn named(name: &[u8]) -> Option<Codec> {
        Some(match name {
            b"" | b"null" => Codec::Null,
            b"deflate" => Codec::Deflate,
            b"snappy" => Codec::Snappy,
            b"zstandard" => Codec::Zstandard,
            b"bzip2" => Codec::Bzip2,
            b"xz" => Codec::Xz,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Null => "avro",
            Codec::Deflate => "avro deflate",
            Codec::Snappy => "avro snappy",
            Codec::Zstandard => "avro zstandard",
            Codec::Bzip2 => "avro bzip2",
            Codec::Xz => "avro xz",
        }
    }

    /// A reader of one block's decoded bytes.
    fn decoder(self, block: Vec<u8>) -> io::Result<Box<dyn Read>> {
        Ok(match self {
            Codec::Null => Box::new(Cursor::new(block)),
            Codec::Deflate => Box::new(flate2::read::DeflateDecoder::new(Cursor::new(block))),
            Codec::Snappy => {
                // The block is raw snappy followed by the CRC32 of the decoded bytes.
                let body = &block[..block.len().saturating_sub(4)];
                let size = snap::raw::decompress_len(body).map_err(io::Error::other)?;
                if size as u64 > MAX_BLOCK {
                    return Err(io::Error::other(format!(
                        "a snappy block claims {size} decoded bytes, over the {MAX_BLOCK}-byte \
                         block limit"
                    )));
                }
                let decoded = snap::raw::Decoder::new()
                    .decompress_vec(body)
                    .map_err(io::Error::other)?;
                Box::new(Cursor::new(decoded))
            }
            Codec::Zstandard => Box::new(zstd::stream::read::Decoder::new(Cursor::new(block))?),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(Cursor::new(block))),
            Codec::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(Cursor::new(
                block,
            ))),
        })
    }
}

/// Reads the header from just after nothing (the magic is still in `reader`); the metadata
/// keys and values are appended to `text`, one `key=value` line each. Returns the codec's
/// name and the sync marker.
fn read_header(reader: &mut dyn Read, text: &mut Vec<u8>) -> io::Result<(Vec<u8>, [u8; 16])> {
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(io::Error::other("no Avro magic"));
    }
    let mut codec = Vec::new();
    loop {
        let mut count = read_long(reader)?;
        if count == 0 {
            break;
        }
        if count < 0 {
            count = count.checked_neg().ok_or_else(|| bad("a metadata count"))?;
            read_long(reader)?; // the block's size in bytes, not needed
        }
        for _ in 0..count {
            let key = read_bytes(reader)?;
            let value = read_bytes(reader)?;
            if key == b"avro.codec" {
                codec = value.clone();
            }
            text.extend_from_slice(&key);
            text.push(b'=');
            text.extend_from_slice(&value);
            text.push(b'\n');
        }
    }
    let mut sync = [0u8; SYNC_LEN];
    reader.read_exact(&mut sync)?;
    Ok((codec, sync))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} is out of range"),
    )
}

/// An Avro `long`: a zig-zag varint of at most ten bytes.
fn read_long(reader: &mut (impl Read + ?Sized)) -> io::Result<i64> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte)?;
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
        }
    }
    Err(bad("a varint"))
}

fn read_bytes(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let len = read_long(reader)?;
    if !(0..=MAX_BLOCK as i64).contains(&len) {
        return Err(bad("a metadata length"));
    }
    let mut bytes = Vec::new();
    reader.take(len as u64).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != len as u64 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

/// Codec names are shown in gaps; anything odd in them is left out.
fn printable(name: &[u8]) -> String {
    name.iter()
        .take(40)
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The header text, then every block's decoded bytes, as one stream.
struct Blocks<'r> {
    reader: &'r mut dyn Read,
    codec: Codec,
    sync: [u8; SYNC_LEN],
    pending: Cursor<Vec<u8>>,
    current: Option<Box<dyn Read>>,
    block: u64,
    done: bool,
}

impl Blocks<'_> {
    /// Opens the next block; `false` at a clean end of the file.
    fn next_block(&mut self) -> io::Result<bool> {
        let count = match read_long(self.reader) {
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(error) => return Err(error),
        };
        let size = read_long(self.reader)?;
        let block = self.block;
        if count < 0 || !(0..=MAX_BLOCK as i64).contains(&size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("block {block} has an impossible length; the rest was not read"),
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        self.reader.take(size as u64).read_to_end(&mut bytes)?;
        let mut sync = [0u8; SYNC_LEN];
        if bytes.len() as i64 != size || self.reader.read_exact(&mut sync).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("block {block} is truncated"),
            ));
        }
        if sync != self.sync {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("block {block} does not end with the file's sync marker"),
            ));
        }
        self.block += 1;
        self.current = Some(self.codec.decoder(bytes)?);
        Ok(true)
    }
}

impl Read for Blocks<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.pending.read(out)?;
        if n > 0 || out.is_empty() {
            return Ok(n);
        }
        while !self.done {
            if let Some(current) = self.current.as_mut() {
                let n = current.read(out)?;
                if n > 0 {
                    return Ok(n);
                }
                self.current = None;
            }
            if !self.next_block()? {
                self.done = true;
            }
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(n: i64) -> Vec<u8> {
        let mut v = ((n << 1) ^ (n >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn bytes(b: &[u8]) -> Vec<u8> {
        let mut out = long(b.len() as i64);
        out.extend_from_slice(b);
        out
    }

    fn file(codec: &str, blocks: &[Vec<u8>]) -> Vec<u8> {
        let sync = [7u8; 16];
        let mut out = MAGIC.to_vec();
        out.extend(long(2));
        out.extend(bytes(b"avro.schema"));
        out.extend(bytes(br#"{"type":"string"}"#));
        out.extend(bytes(b"avro.codec"));
        out.extend(bytes(codec.as_bytes()));
        out.extend(long(0));
        out.extend(sync);
        for block in blocks {
            out.extend(long(1));
            out.extend(long(block.len() as i64));
            out.extend(block);
            out.extend(sync);
        }
        out
    }

    fn read_all(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut reader = data;
        let mut header = Vec::new();
        let (codec, sync) = read_header(&mut reader, &mut header)?;
        let mut blocks = Blocks {
            reader: &mut reader,
            codec: Codec::named(&codec).ok_or_else(|| io::Error::other("codec"))?,
            sync,
            pending: Cursor::new(header),
            current: None,
            block: 0,
            done: false,
        };
        let mut out = Vec::new();
        blocks.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn deflate_blocks_are_inflated_in_order() {
        use std::io::Write;
        let mut blocks = Vec::new();
        for text in [&b"first record "[..], b"second record"] {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text).unwrap();
            blocks.push(encoder.finish().unwrap());
        }
        let data = file("deflate", &blocks);
        assert!(AVRO.recognise(&data, Place::Filesystem));
        let out = read_all(&data).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("avro.codec=deflate"));
        assert!(text.ends_with("first record second record"));
    }

    #[test]
    fn snappy_blocks_are_decoded() {
        let mut block = snap::raw::Encoder::new()
            .compress_vec(b"snappy snappy snappy record")
            .unwrap();
        block.extend([0, 0, 0, 0]);
        let out = read_all(&file("snappy", &[block])).unwrap();
        assert!(out.ends_with(b"snappy snappy snappy record"));
    }

    #[test]
    fn a_wrong_sync_marker_is_an_error_not_an_end() {
        let mut data = file("null", &[b"abc".to_vec(), b"def".to_vec()]);
        let last = data.len() - 1;
        data[last] ^= 1;
        assert!(read_all(&data).is_err());
    }

    #[test]
    fn text_starting_with_obj_is_not_avro() {
        assert!(!AVRO.recognise(b"Obj\x01\x04\x00\x00", Place::Filesystem));
        assert!(!AVRO.recognise(b"Object files", Place::Filesystem));
    }
}
