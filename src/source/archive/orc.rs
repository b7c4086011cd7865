//! Apache ORC files (`ORC` magic: Hive, Spark and pyarrow tables): every compressed chunk
//! decoded.
//!
//! An ORC file is `ORC`, then stripes (index streams, data streams, a stripe footer), the
//! file metadata and footer, and last an uncompressed postscript whose length is the file's
//! final byte; the postscript names the compression. With compression every stream, the
//! metadata and the footer are sequences of chunks, each a 3-byte little-endian header
//! (length << 1 | original) then the bytes: so from byte 3 to the postscript the file is
//! one run of chunks. `ZLIB` (Hive's default) chunks are *raw* deflate, with no header for
//! carving to find, so a string column's values were invisible; they are decoded here, as
//! are `SNAPPY` and `LZ4` (raw blocks) and `ZSTD`, and scanned as one member, `streams`.
//! The file's own bytes are scanned raw too (an uncompressed file is read that way, and
//! small values a raw block keeps literal are found there). `LZO` and unknown kinds are an
//! `unsupported` gap; a chunk running past the postscript is a `corrupt` gap.

use std::io::{self, Read};

use super::blocks::{Blocks, NextBlock};
use super::format::{Format, Place};
use super::limits::Decoded;
use super::{leaf, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// The largest chunk a writer makes is the compression block size (256 KiB by default);
/// a decoded chunk larger than this is damage.
const MAX_CHUNK: usize = 64 << 20;

pub(crate) static ORC: Orc = Orc;

pub(crate) struct Orc;

impl Format for Orc {
    fn name(&self) -> &'static str {
        "orc"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        // `ORC` then binary (a chunk header or a protobuf tag), never a word of text.
        head.len() >= 8
            && head.starts_with(b"ORC")
            && !head[3].is_ascii_alphanumeric()
            && !matches!(
                head[3],
                b' ' | b'\t' | b'\n' | b'\r' | b'-' | b'_' | b'.' | b','
            )
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let Some(bytes) = super::buffer_whole(walk, chain, reader, "orc") else {
            return;
        };
        let held = bytes.len() as u64;
        let tail = postscript(&bytes);
        // The file's own bytes, raw; regions the chunks below decode are interpreted, so
        // they are not opaque content.
        let kind = match tail {
            Some(tail) if tail.compression != 0 => leaf::Kind::Inert,
            _ => leaf::Kind::Plain,
        };
        leaf::scan_bytes(walk, chain, &bytes[..], depth, kind, buffer);
        if let Some(tail) = tail {
            read_chunks(walk, chain, &bytes, tail, depth, buffer);
        }
        walk.release(held);
    }
}

/// What the postscript says.
#[derive(Debug, Clone, Copy)]
struct Tail {
    /// Where the chunks end (the postscript starts).
    end: usize,
    compression: u64,
}

/// The postscript at the end of `bytes`, if it is one (it ends with the `ORC` magic field).
fn postscript(bytes: &[u8]) -> Option<Tail> {
    let ps_len = usize::from(*bytes.last()?);
    let end = bytes.len().checked_sub(1 + ps_len)?;
    if end < 3 {
        return None;
    }
    let mut ps = &bytes[end..bytes.len() - 1];
    let mut compression = 0;
    let mut magic = false;
    while !ps.is_empty() {
        let key = super::varint::leb128(&mut ps)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let value = super::varint::leb128(&mut ps)?;
                if field == 2 {
                    compression = value;
                }
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                ps = ps.get(n..)?;
            }
            2 => {
                let len = usize::try_from(super::varint::leb128(&mut ps)?).ok()?;
                let value = ps.get(..len)?;
                magic |= field == 8000 && value == b"ORC";
                ps = &ps[len..];
            }
            _ => return None,
        }
    }
    magic.then_some(Tail { end, compression })
}

fn read_chunks(
    walk: &Walk,
    chain: &[String],
    bytes: &[u8],
    tail: Tail,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let codec = match tail.compression {
        0 => return,
        1 => Codec::Zlib,
        2 => Codec::Snappy,
        4 => Codec::Lz4,
        5 => Codec::Zstd,
        kind => {
            let name = if kind == 3 { "LZO" } else { "an unknown kind" };
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "the ORC file is compressed with {name}, which scour cannot decode; only its \
                     raw bytes were scanned"
                ),
            );
            return;
        }
    };
    let mut member = chain.to_vec();
    member.push("streams".to_string());
    walk.entering(&member);
    let chunks = Blocks::new(Chunks {
        body: &bytes[3..tail.end],
        codec,
    });
    let mut decoded = Decoded::new(walk, &member, "orc", chunks);
    scan_member(walk, &member, &mut decoded, depth + 1, buffer);
}

#[derive(Debug, Clone, Copy)]
enum Codec {
    Zlib,
    Snappy,
    Lz4,
    Zstd,
}

/// The chunks from byte 3 to the postscript.
struct Chunks<'b> {
    body: &'b [u8],
    codec: Codec,
}

impl NextBlock for Chunks<'_> {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        let [a, b, c, rest @ ..] = self.body else {
            return Ok(None);
        };
        let header = u32::from(*a) | u32::from(*b) << 8 | u32::from(*c) << 16;
        let len = (header >> 1) as usize;
        let original = header & 1 == 1;
        let Some(data) = rest.get(..len) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an ORC chunk runs past the file's postscript",
            ));
        };
        self.body = &rest[len..];
        Ok(Some(if original {
            data.to_vec()
        } else {
            decode(self.codec, data)?
        }))
    }
}

fn decode(codec: Codec, data: &[u8]) -> io::Result<Vec<u8>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    match codec {
        Codec::Zlib => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_CHUNK as u64)
                .read_to_end(&mut out)?;
            Ok(out)
        }
        Codec::Snappy => snap::raw::Decoder::new()
            .decompress_vec(data)
            .map_err(|e| invalid(format!("an ORC snappy chunk: {e}"))),
        Codec::Lz4 => lz4_flex::block::decompress(data, MAX_CHUNK)
            .map_err(|e| invalid(format!("an ORC lz4 chunk: {e}"))),
        Codec::Zstd => zstd::bulk::decompress(data, MAX_CHUNK),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_starting_with_orc_is_not_claimed() {
        assert!(!ORC.recognise(b"ORCHESTRA notes", Place::Inside));
        assert!(!ORC.recognise(b"ORC - a columnar format", Place::Inside));
        assert!(ORC.recognise(b"ORC\x1d\x00\x00\x0a\x06", Place::Inside));
    }

    #[test]
    fn a_postscript_needs_its_magic() {
        // footerLength 5, compression ZLIB, magic "ORC"; then the postscript's length.
        let mut file = b"ORC\x00\x00\x00".to_vec();
        let ps = b"\x08\x05\x10\x01\x82\xf4\x03\x03ORC";
        file.extend_from_slice(ps);
        file.push(ps.len() as u8);
        let tail = postscript(&file).expect("a postscript");
        assert_eq!(tail.compression, 1);
        assert_eq!(tail.end, 6);
        assert!(postscript(b"ORC plain text that ends with a byte\x05").is_none());
    }
}
