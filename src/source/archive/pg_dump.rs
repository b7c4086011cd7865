//! PostgreSQL custom-format dumps (`pg_dump -Fc`, magic `PGDMP`): table data decompressed.
//!
//! The file is a header, a table of contents (SQL definitions as plain strings) and then
//! one data block per table or large-object set. A block is a type byte (1 table data,
//! 3 large objects), the TOC entry's dump id, then the data as chunks, each prefixed by its
//! length; one compressed stream (zlib by default; zstd or lz4 from PostgreSQL 16) runs
//! across all the chunks of a table, so a plain scan, or carving the first chunk's zlib
//! stream, sees only the first 4 KiB of compressed rows.
//!
//! The table of contents changes with every archive version, so it is not parsed: blocks
//! are found by their shape (type byte, a dump id, a chain of chunk lengths that ends with
//! a zero length inside the file, a first chunk that starts a compressed stream) and each
//! is decoded whole and scanned as a member named `dump id N` (`dump id N blob OID` for a
//! large object). The file is then scanned raw with the decoded chunks blanked, so TOC
//! text and uncompressed dumps (`-Z0`, whose rows are never split across chunks) are read
//! once and nothing is reported twice. A block whose stream does not decode is left raw:
//! its compressed bytes are then carved or counted as opaque, never silently skipped.
//!
//! Not read: `pg_dump -Fd` (a directory of `.dat.gz` files, read as gzip files anyway) and
//! `-Ft` (a tar) need no special handling; encrypted dumps do not exist in the format.

use std::io::Read;

use super::format::{Format, Place};
use super::leaf;
use super::limits::Decoded;
use super::{buffer_whole, scan_member, Walk};
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"PGDMP";
/// Bytes before the compression field: magic, three version bytes, int size, offset size
/// and the format byte.
const FIXED_HEADER: usize = 11;
/// The format byte of the custom format (`archCustom`).
const CUSTOM_FORMAT: u8 = 1;
/// The format byte of `toc.dat` in a directory or tar dump: a TOC with no data blocks,
/// read the same way (its data is in the `.dat` files beside it).
const DIRECTORY_FORMAT: u8 = 5;
const BLOCK_DATA: u8 = 1;
const BLOCK_BLOBS: u8 = 3;

pub(crate) static PG_DUMP: PgDump = PgDump;

pub(crate) struct PgDump;

impl Format for PgDump {
    fn name(&self) -> &'static str {
        "pg_dump custom format"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() > FIXED_HEADER
            && head.starts_with(MAGIC)
            && head[5] == 1
            && (1..=8).contains(&head[8])
            && (1..=8).contains(&head[9])
            && (CUSTOM_FORMAT..=DIRECTORY_FORMAT).contains(&head[10])
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let Some(mut bytes) = buffer_whole(walk, chain, reader, "pg_dump archive") else {
            return;
        };
        let int_size = bytes[8] as usize;
        let blocks = find_blocks(&bytes, int_size);
        for block in &blocks {
            let mut member = chain.to_vec();
            member.push(block.name.clone());
            let compressed: Vec<u8> = block
                .chunks
                .iter()
                .flat_map(|&(start, len)| bytes[start..start + len].iter().copied())
                .collect();
            walk.entering(&member);
            decode(walk, &member, block.codec, &compressed, depth, buffer);
        }
        for block in &blocks {
            for &(start, len) in &block.chunks {
                bytes[start..start + len].fill(0);
            }
        }
        leaf::scan_bytes(walk, chain, &bytes[..], depth, leaf::Kind::Plain, buffer);
        walk.release(bytes.len() as u64);
    }
}

/// The compression of one block's stream, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Zlib,
    Zstd,
    Lz4,
}

fn codec_of(head: &[u8]) -> Option<Codec> {
    match head {
        // The four headers zlib writes (no preset dictionary), as in carving.
        [0x78, 0x01 | 0x5E | 0x9C | 0xDA, ..] => Some(Codec::Zlib),
        [0x28, 0xB5, 0x2F, 0xFD, ..] => Some(Codec::Zstd),
        [0x04, 0x22, 0x4D, 0x18, ..] => Some(Codec::Lz4),
        _ => None,
    }
}

fn decode(
    walk: &Walk,
    member: &[String],
    codec: Codec,
    compressed: &[u8],
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    match codec {
        Codec::Zlib => {
            let mut decoder = flate2::read::ZlibDecoder::new(compressed);
            let mut decoded = Decoded::new(walk, member, "zlib", &mut decoder);
            scan_member(walk, member, &mut decoded, depth + 1, buffer);
        }
        Codec::Lz4 => {
            let mut decoder = lz4_flex::frame::FrameDecoder::new(compressed);
            let mut decoded = Decoded::new(walk, member, "lz4", &mut decoder);
            scan_member(walk, member, &mut decoded, depth + 1, buffer);
        }
        Codec::Zstd => match zstd::stream::read::Decoder::new(compressed) {
            Ok(mut decoder) => {
                let mut decoded = Decoded::new(walk, member, "zstd", &mut decoder);
                scan_member(walk, member, &mut decoded, depth + 1, buffer);
            }
            Err(error) => {
                walk.fail(
                    crate::coverage::GapKind::Unsupported,
                    member,
                    format!("could not start a zstd decoder: {error}"),
                );
            }
        },
    }
}

/// One compressed stream of a data block: its name and the (start, length) of its chunks.
#[derive(Debug)]
struct Block {
    name: String,
    codec: Codec,
    chunks: Vec<(usize, usize)>,
}

/// A pg_dump integer: a sign byte, then `int_size` bytes, least significant first.
fn read_int(bytes: &[u8], at: usize, int_size: usize) -> Option<(i64, usize)> {
    let sign = *bytes.get(at)?;
    if sign > 1 {
        return None;
    }
    let digits = bytes.get(at + 1..at + 1 + int_size)?;
    let mut value: i64 = 0;
    for (i, &byte) in digits.iter().enumerate().take(8) {
        value |= (byte as i64) << (8 * i);
    }
    let value = if sign == 1 { -value } else { value };
    Some((value, at + 1 + int_size))
}

/// Every compressed data block, found by its shape after the header.
fn find_blocks(bytes: &[u8], int_size: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut at = FIXED_HEADER;
    while let Some(found) = memchr::memchr2(BLOCK_DATA, BLOCK_BLOBS, &bytes[at..]) {
        let start = at + found;
        match block_at(bytes, start, int_size) {
            Some((found_blocks, end)) => {
                blocks.extend(found_blocks);
                at = end;
            }
            None => at = start + 1,
        }
        if at >= bytes.len() {
            break;
        }
    }
    blocks
}

/// The block starting at `start`, if the bytes there have a block's shape, and its end.
fn block_at(bytes: &[u8], start: usize, int_size: usize) -> Option<(Vec<Block>, usize)> {
    let (id, mut at) = read_int(bytes, start + 1, int_size)?;
    if id <= 0 {
        return None;
    }
    match bytes[start] {
        BLOCK_DATA => {
            let (codec, chunks, end) = chunks_at(bytes, at, int_size)?;
            let name = format!("dump id {id}");
            Some((
                vec![Block {
                    name,
                    codec,
                    chunks,
                }],
                end,
            ))
        }
        _ => {
            let mut blocks = Vec::new();
            loop {
                let (oid, next) = read_int(bytes, at, int_size)?;
                if oid == 0 {
                    break;
                }
                let (codec, chunks, end) = chunks_at(bytes, next, int_size)?;
                let name = format!("dump id {id} blob {oid}");
                blocks.push(Block {
                    name,
                    codec,
                    chunks,
                });
                at = end;
            }
            (!blocks.is_empty()).then_some((blocks, at))
        }
    }
}

/// A chain of length-prefixed chunks ending with a zero length, whose first chunk starts a
/// compressed stream.
#[allow(clippy::type_complexity)]
fn chunks_at(
    bytes: &[u8],
    mut at: usize,
    int_size: usize,
) -> Option<(Codec, Vec<(usize, usize)>, usize)> {
    let mut chunks = Vec::new();
    let mut codec = None;
    loop {
        let (len, next) = read_int(bytes, at, int_size)?;
        if len == 0 {
            break;
        }
        let len = usize::try_from(len).ok()?;
        if next.checked_add(len)? > bytes.len() {
            return None;
        }
        if codec.is_none() {
            codec = Some(codec_of(&bytes[next..next + len])?);
        }
        chunks.push((next, len));
        at = next + len;
    }
    Some((codec?, chunks, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A data block as pg_dump writes it: type, dump id, chunks of `chunk` bytes, zero.
    fn block(id: u32, compressed: &[u8], chunk: usize) -> Vec<u8> {
        let int = |value: u32| {
            let mut out = vec![0u8];
            out.extend_from_slice(&value.to_le_bytes());
            out
        };
        let mut out = vec![BLOCK_DATA];
        out.extend(int(id));
        for piece in compressed.chunks(chunk) {
            out.extend(int(piece.len() as u32));
            out.extend_from_slice(piece);
        }
        out.extend(int(0));
        out
    }

    #[test]
    fn blocks_are_found_by_shape_and_joined() {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let rows: Vec<u8> = (0..5000)
            .flat_map(|i| format!("{i}\trow {i}\n").into_bytes())
            .collect();
        encoder.write_all(&rows).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut dump = b"PGDMP\x01\x0e\x00\x04\x08\x01 toc text \x01\x00 more".to_vec();
        dump.extend(block(3338, &compressed, 4096));
        let blocks = find_blocks(&dump, 4);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].name, "dump id 3338");
        assert!(blocks[0].chunks.len() > 1);
        let joined: Vec<u8> = blocks[0]
            .chunks
            .iter()
            .flat_map(|&(s, l)| dump[s..s + l].to_vec())
            .collect();
        assert_eq!(joined, compressed);
        assert!(PG_DUMP.recognise(&dump, Place::Filesystem));
    }

    #[test]
    fn a_truncated_chain_is_not_a_block() {
        let mut dump = b"PGDMP\x01\x0e\x00\x04\x08\x01".to_vec();
        let whole = block(7, b"\x78\x9c0123456789", 4);
        dump.extend_from_slice(&whole[..whole.len() - 6]);
        assert!(find_blocks(&dump, 4).is_empty());
    }
}
