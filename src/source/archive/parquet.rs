//! Apache Parquet files (`PAR1`: pyarrow, pandas, Spark, DuckDB, data-lake exports): every
//! column chunk's pages decompressed.
//!
//! A Parquet file is `PAR1`, column chunks (each a run of pages: a Thrift page header, then
//! the page's bytes, compressed with the chunk's codec), then the file metadata (Thrift
//! compact protocol), its length and `PAR1` again. The metadata says where each chunk
//! starts, how long it is and its codec. `SNAPPY` (pyarrow's default), `LZ4_RAW`, `LZ4` and
//! `BROTLI` have no magic number in the page, so a string column's values were invisible to
//! carving: each compressed chunk is decoded page by page here and scanned as member `row
//! group G column C`. An uncompressed chunk is scanned as it is; the metadata (the schema,
//! key-value metadata such as pandas' and Arrow's, statistics) is scanned as member
//! `footer`. Between them these are every byte a writer puts in the file, bar bloom filters
//! and page indexes, which hold only hashes and copies of the values.
//!
//! What cannot be read is a gap: `LZO` and unknown codecs `unsupported` (the chunk's raw
//! bytes scanned), an encrypted footer (`PARE`) or encrypted column `encrypted`, metadata
//! that does not parse `corrupt` (the whole file is then scanned raw).

use std::io::{self, Read};

use super::blocks::{Blocks, NextBlock};
use super::format::{Format, Place};
use super::limits::Decoded;
use super::{leaf, scan_member, Reopen, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

mod thrift;

use thrift::Compact;

/// Largest decoded page accepted: writers cut pages at 1 MiB by default, 8 MiB at most in
/// practice; a header declaring more than this is damage.
const MAX_PAGE: usize = 256 << 20;
/// The most a snappy block can expand (a 3-byte copy of 64 bytes) and an lz4 block (each
/// further length byte adds 255), with room to spare.
const SNAPPY_MAX_RATIO: usize = 32;
const LZ4_MAX_RATIO: usize = 256;

pub(crate) static PARQUET: Parquet = Parquet;

pub(crate) struct Parquet;

impl Format for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }

    /// `PAR1` or `PARE` (encrypted footer), then a page header, whose first field is the
    /// page type (Thrift compact: field 1, i32, byte `0x15`), or an encrypted module's
    /// little-endian length.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        let module = |head: &[u8]| head[7] == 0 && head[4..7] != [0, 0, 0];
        head.len() >= 8
            && (head.starts_with(b"PAR1") || head.starts_with(b"PARE"))
            && (head[4] == 0x15 || module(head))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let Some(bytes) = super::buffer_whole(walk, chain, reader, "parquet file") else {
            return;
        };
        let held = bytes.len() as u64;
        read_file(walk, chain, &bytes, depth, buffer);
        walk.release(held);
    }
}

fn read_file(walk: &Walk, chain: &[String], bytes: &[u8], depth: u32, buffer: &mut ScanBuffer) {
    let raw = |walk: &Walk, buffer: &mut ScanBuffer, kind| {
        leaf::scan_bytes(walk, chain, bytes, depth, kind, buffer);
    };
    if bytes.starts_with(b"PARE") {
        walk.fail(
            GapKind::Encrypted,
            chain,
            "a Parquet file with an encrypted footer (modular encryption): its pages cannot be \
             read without the key; its raw bytes were scanned"
                .to_string(),
        );
        return raw(walk, buffer, leaf::Kind::Accounted);
    }
    let (footer, chunks) = match metadata(bytes) {
        Ok(found) => found,
        Err(why) => {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!(
                    "the Parquet file's metadata cannot be read ({why}); its compressed pages \
                     were not decoded, only its raw bytes were scanned"
                ),
            );
            return raw(walk, buffer, leaf::Kind::Plain);
        }
    };
    let mut member = chain.to_vec();
    member.push("footer".to_string());
    walk.entering(&member);
    scan_member(
        walk,
        &member,
        &mut &bytes[footer.clone()],
        depth + 1,
        buffer,
    );
    for chunk in &chunks {
        if walk.check_running().is_err() {
            return;
        }
        read_chunk(walk, chain, bytes, chunk, depth, buffer);
    }
    let listed = chunks.iter().filter_map(|chunk| chunk.range.clone());
    for range in unlisted(bytes.len(), listed.chain([footer])) {
        let mut member = chain.to_vec();
        member.push(format!("bytes {}-{}", range.start, range.end));
        let unlisted = &bytes[range];
        // Page indexes and bloom filters (copies of values, hashes) in a file as written;
        // anything else a writer or an editor left there. Read raw, never skipped; not opaque,
        // since bloom filters are random bits by design.
        leaf::scan(
            walk,
            &member,
            &mut &unlisted[..],
            depth + 1,
            Reopen::Memory(unlisted),
            leaf::Kind::Inert,
            buffer,
        );
    }
}

/// The ranges of a file of `len` bytes that none of `listed` covers, between the leading
/// `PAR1` and the trailing metadata length and `PAR1`.
fn unlisted(
    len: usize,
    listed: impl Iterator<Item = std::ops::Range<usize>>,
) -> Vec<std::ops::Range<usize>> {
    let (start, end) = (4, len.saturating_sub(8));
    let mut listed: Vec<_> = listed.collect();
    listed.sort_by_key(|range| range.start);
    let mut ranges = Vec::new();
    let mut at = start;
    for range in listed {
        if range.start > at {
            ranges.push(at..range.start.min(end));
        }
        at = at.max(range.end);
    }
    if at < end {
        ranges.push(at..end);
    }
    ranges.retain(|range| range.start < range.end);
    ranges
}

fn read_chunk(
    walk: &Walk,
    chain: &[String],
    bytes: &[u8],
    chunk: &Chunk,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut member = chain.to_vec();
    member.push(format!(
        "row group {} column {}",
        chunk.row_group, chunk.column
    ));
    walk.entering(&member);
    let Some(range) = chunk.range.clone() else {
        walk.fail(
            GapKind::Encrypted,
            &member,
            "the column chunk is encrypted (Parquet modular encryption): its values cannot be \
             read without the key"
                .to_string(),
        );
        return;
    };
    let Some(body) = bytes.get(range) else {
        walk.fail(
            GapKind::Corrupt,
            &member,
            "the column chunk runs past the end of the Parquet file; not read".to_string(),
        );
        return;
    };
    let codec = match Codec::from_id(chunk.codec) {
        Ok(codec) => codec,
        Err(name) => {
            walk.fail(
                GapKind::Unsupported,
                &member,
                format!(
                    "the column chunk is compressed with {name}, which scour cannot decode; its \
                     raw bytes were scanned"
                ),
            );
            let mut raw = body;
            leaf::scan(
                walk,
                &member,
                &mut raw,
                depth + 1,
                Reopen::Memory(body),
                leaf::Kind::Accounted,
                buffer,
            );
            return;
        }
    };
    let mut values: Box<dyn Read> = if codec == Codec::Uncompressed {
        Box::new(body)
    } else {
        let pages = Blocks::new(Pages { body, codec });
        Box::new(Decoded::new(walk, &member, "parquet page", pages))
    };
    if chunk.numeric {
        // Numbers: interpreted, so never opaque however random (hashes, ids, floats).
        leaf::scan(
            walk,
            &member,
            &mut values,
            depth + 1,
            Reopen::None,
            leaf::Kind::Inert,
            buffer,
        );
    } else {
        scan_member(walk, &member, &mut values, depth + 1, buffer);
    }
}

/// One column chunk, as the file metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    row_group: usize,
    column: usize,
    codec: i64,
    /// Whether its values are numbers (booleans, integers, floats: every physical type but
    /// byte arrays), which hold no text and are never opaque content.
    numeric: bool,
    /// Its bytes in the file; `None` if the chunk's metadata is encrypted.
    range: Option<std::ops::Range<usize>>,
}

/// The metadata's range in `bytes` and the column chunks it lists.
fn metadata(bytes: &[u8]) -> Result<(std::ops::Range<usize>, Vec<Chunk>), &'static str> {
    let len = bytes.len();
    if len < 12 || !bytes.ends_with(b"PAR1") {
        return Err("the file does not end with PAR1: it is truncated");
    }
    let footer_len = u32::from_le_bytes([
        bytes[len - 8],
        bytes[len - 7],
        bytes[len - 6],
        bytes[len - 5],
    ]) as usize;
    let start = (len - 8)
        .checked_sub(footer_len)
        .filter(|&start| start >= 4)
        .ok_or("the metadata length is larger than the file")?;
    let mut footer = Compact::new(&bytes[start..len - 8]);
    let chunks = file_metadata(&mut footer).ok_or("the metadata is not valid Thrift")?;
    Ok((start..len - 8, chunks))
}

/// `FileMetaData`: field 4 is the list of row groups.
fn file_metadata(thrift: &mut Compact) -> Option<Vec<Chunk>> {
    let mut chunks = Vec::new();
    thrift.each_field(|thrift, id, kind| match (id, kind) {
        (4, thrift::LIST) => {
            thrift.each_struct(|thrift, row_group| row_group_chunks(thrift, row_group, &mut chunks))
        }
        _ => thrift.skip(kind),
    })?;
    Some(chunks)
}

/// `RowGroup`: field 1 is the list of column chunks.
fn row_group_chunks(thrift: &mut Compact, row_group: usize, chunks: &mut Vec<Chunk>) -> Option<()> {
    thrift.each_field(|thrift, id, kind| match (id, kind) {
        (1, thrift::LIST) => thrift.each_struct(|thrift, column| {
            chunks.push(column_chunk(thrift, row_group, column)?);
            Some(())
        }),
        _ => thrift.skip(kind),
    })
}

/// `ColumnChunk`: field 3 is its `ColumnMetaData`. An encrypted column has
/// `crypto_metadata` (8) and `encrypted_column_metadata` (9); with a plaintext footer a
/// stripped `ColumnMetaData` is there too, for old readers, but the pages are ciphertext.
fn column_chunk(thrift: &mut Compact, row_group: usize, column: usize) -> Option<Chunk> {
    let mut chunk = Chunk {
        row_group,
        column,
        codec: 0,
        numeric: false,
        range: None,
    };
    let mut encrypted = false;
    thrift.each_field(|thrift, id, kind| {
        encrypted |= matches!(id, 8 | 9);
        if id != 3 || kind != thrift::STRUCT {
            return thrift.skip(kind);
        }
        let (codec, numeric, range) = column_metadata(thrift)?;
        chunk.codec = codec;
        chunk.numeric = numeric;
        chunk.range = Some(range);
        Some(())
    })?;
    if encrypted {
        chunk.range = None;
    }
    Some(chunk)
}

/// `ColumnMetaData`: physical type (1), codec (4), total compressed size (7), data page
/// offset (9) and dictionary page offset (11, where the chunk starts when it has a
/// dictionary).
fn column_metadata(thrift: &mut Compact) -> Option<(i64, bool, std::ops::Range<usize>)> {
    let (mut codec, mut size, mut data, mut dictionary) = (0, None, None, None);
    let mut numeric = false;
    thrift.each_field(|thrift, id, kind| {
        match (id, kind) {
            // BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE; BYTE_ARRAY (6) and
            // FIXED_LEN_BYTE_ARRAY (7) hold strings and bytes.
            (1, thrift::I32) => numeric = (0..=5).contains(&thrift.int()?),
            (4, thrift::I32) => codec = thrift.int()?,
            (7, thrift::I64) => size = Some(thrift.int()?),
            (9, thrift::I64) => data = Some(thrift.int()?),
            (11, thrift::I64) => dictionary = Some(thrift.int()?),
            _ => return thrift.skip(kind),
        }
        Some(())
    })?;
    let data = data?;
    // Some writers set the dictionary offset to 0 when there is none.
    let start = match dictionary {
        Some(offset) if offset > 0 && offset < data => offset,
        _ => data,
    };
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(size?).ok()?)?;
    Some((codec, numeric, start..end))
}

/// A page's header: its type, sizes, and for a v2 data page the level bytes that precede
/// the (possibly compressed) values uncompressed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PageHeader {
    uncompressed: usize,
    compressed: usize,
    /// Bytes at the page's start stored uncompressed (v2 repetition and definition levels).
    levels: usize,
    /// Whether the rest is compressed (a v2 page may say it is not).
    is_compressed: bool,
}

fn page_header(thrift: &mut Compact) -> Option<PageHeader> {
    let mut header = PageHeader {
        is_compressed: true,
        ..PageHeader::default()
    };
    let (mut uncompressed, mut compressed) = (None, None);
    thrift.each_field(|thrift, id, kind| {
        match (id, kind) {
            (2, thrift::I32) => uncompressed = Some(thrift.int()?),
            (3, thrift::I32) => compressed = Some(thrift.int()?),
            (8, thrift::STRUCT) => data_page_v2(thrift, &mut header)?,
            _ => return thrift.skip(kind),
        }
        Some(())
    })?;
    header.uncompressed = usize::try_from(uncompressed?).ok()?;
    header.compressed = usize::try_from(compressed?).ok()?;
    Some(header)
}

/// `DataPageHeaderV2`: definition (5) and repetition (6) level lengths, `is_compressed` (7).
fn data_page_v2(thrift: &mut Compact, header: &mut PageHeader) -> Option<()> {
    thrift.each_field(|thrift, id, kind| {
        match (id, kind) {
            (5 | 6, thrift::I32) => {
                let levels = usize::try_from(thrift.int()?).ok()?;
                header.levels = header.levels.checked_add(levels)?;
            }
            (7, thrift::BOOL_TRUE) => header.is_compressed = true,
            (7, thrift::BOOL_FALSE) => header.is_compressed = false,
            _ => return thrift.skip(kind),
        }
        Some(())
    })
}

/// A column chunk's codec (`CompressionCodec` in parquet.thrift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Uncompressed,
    Snappy,
    Gzip,
    Brotli,
    /// Hadoop's lz4 framing, or a bare block from writers that got it wrong.
    Lz4Hadoop,
    Zstd,
    Lz4Raw,
}

impl Codec {
    fn from_id(id: i64) -> Result<Codec, &'static str> {
        Ok(match id {
            0 => Codec::Uncompressed,
            1 => Codec::Snappy,
            2 => Codec::Gzip,
            3 => return Err("LZO"),
            4 => Codec::Brotli,
            5 => Codec::Lz4Hadoop,
            6 => Codec::Zstd,
            7 => Codec::Lz4Raw,
            _ => return Err("an unknown codec"),
        })
    }

    /// Decodes one page's compressed bytes, which decode to `size` bytes.
    fn decode(self, data: &[u8], size: usize) -> io::Result<Vec<u8>> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let capped = |reader: &mut dyn Read| -> io::Result<Vec<u8>> {
            let mut out = Vec::with_capacity(size);
            reader.take(size as u64).read_to_end(&mut out)?;
            Ok(out)
        };
        // snappy and lz4 zero their whole output first: a size no block of this length can
        // reach is damage, refused before that allocation.
        let reachable = |ratio: usize| size <= data.len().saturating_mul(ratio).saturating_add(64);
        match self {
            Codec::Uncompressed => Ok(data.to_vec()),
            Codec::Snappy => {
                let declared = snap::raw::decompress_len(data)
                    .map_err(|e| invalid(format!("a snappy page: {e}")))?;
                if declared > size || !reachable(SNAPPY_MAX_RATIO) {
                    return Err(invalid(
                        "a snappy page is larger than its header says".into(),
                    ));
                }
                snap::raw::Decoder::new()
                    .decompress_vec(data)
                    .map_err(|e| invalid(format!("a snappy page: {e}")))
            }
            Codec::Lz4Raw | Codec::Lz4Hadoop if !reachable(LZ4_MAX_RATIO) => Err(invalid(
                "an lz4 page declares more than its bytes can decode to".into(),
            )),
            Codec::Gzip => capped(&mut flate2::read::MultiGzDecoder::new(data)),
            Codec::Brotli => capped(&mut brotli_decompressor::Decompressor::new(data, 1 << 16)),
            Codec::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(data)?;
                decoder.window_log_max(31)?;
                capped(&mut decoder)
            }
            Codec::Lz4Raw => lz4_flex::block::decompress(data, size)
                .map_err(|e| invalid(format!("an lz4 page: {e}"))),
            Codec::Lz4Hadoop => lz4_hadoop(data, size)
                .or_else(|| lz4_flex::block::decompress(data, size).ok())
                .ok_or_else(|| invalid("an lz4 page is neither Hadoop-framed nor a block".into())),
        }
    }
}

/// Hadoop's lz4 framing: blocks, each its decoded and compressed lengths (big-endian u32)
/// then the block.
fn lz4_hadoop(mut data: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(size);
    while !data.is_empty() {
        let be = |at: usize| -> Option<usize> {
            let word: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(u32::from_be_bytes(word) as usize)
        };
        let (decoded, compressed) = (be(0)?, be(4)?);
        let block = data.get(8..8usize.checked_add(compressed)?)?;
        if out.len().checked_add(decoded)? > size {
            return None;
        }
        out.extend_from_slice(&lz4_flex::block::decompress(block, decoded).ok()?);
        data = &data[8 + compressed..];
    }
    (out.len() == size).then_some(out)
}

/// The pages of one column chunk.
struct Pages<'b> {
    body: &'b [u8],
    codec: Codec,
}

impl NextBlock for Pages<'_> {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.body.is_empty() {
            return Ok(None);
        }
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let mut thrift = Compact::new(self.body);
        let header = page_header(&mut thrift).ok_or_else(|| invalid("a page header is damaged"))?;
        let rest = &self.body[thrift.position()..];
        let data = rest
            .get(..header.compressed)
            .ok_or_else(|| invalid("a page runs past its column chunk"))?;
        self.body = &rest[header.compressed..];
        if header.uncompressed > MAX_PAGE {
            return Err(invalid(
                "a page header declares more than 256 MiB of values",
            ));
        }
        let levels = header.levels.min(data.len());
        let mut out = data[..levels].to_vec();
        let values = &data[levels..];
        if header.is_compressed {
            let size = header.uncompressed.saturating_sub(levels);
            out.extend_from_slice(&self.codec.decode(values, size)?);
        } else {
            out.extend_from_slice(values);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_by_magic_and_a_page_header() {
        assert!(PARQUET.recognise(b"PAR1\x15\x04\x15\x80\x01", Place::Inside));
        assert!(!PARQUET.recognise(b"PAR1 is a magic number", Place::Inside));
        assert!(PARQUET.recognise(b"PARE\x2c\x01\x00\x00\x11", Place::Inside));
        assert!(!PARQUET.recognise(b"PARENT directory", Place::Inside));
    }

    /// A file with one uncompressed column chunk, its metadata written by hand in Thrift's
    /// compact protocol.
    #[test]
    fn metadata_lists_each_chunk_with_its_codec_and_range() {
        let mut file = b"PAR1".to_vec();
        file.extend_from_slice(&[0u8; 20]);
        // FileMetaData { 4: list<RowGroup>[1] { 1: list<ColumnChunk>[1] { 3: ColumnMetaData
        // { 4: codec 1, 7: size 20, 9: data page offset 4 } } } }
        let footer = [
            0x49, 0x1c, // field 4, list; one struct
            0x19, 0x1c, // RowGroup field 1, list; one struct
            0x3c, // ColumnChunk field 3, struct
            0x45, 0x02, // codec: zigzag(1)
            0x36, 0x28, // field 7 (delta 3), i64: zigzag(20)
            0x26, 0x08, // field 9 (delta 2), i64: zigzag(4)
            0x00, // end ColumnMetaData
            0x00, // end ColumnChunk
            0x00, // end RowGroup
            0x00, // end FileMetaData
        ];
        file.extend_from_slice(&footer);
        file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        file.extend_from_slice(b"PAR1");
        let (range, chunks) = metadata(&file).expect("metadata");
        assert_eq!(range, 24..24 + footer.len());
        assert_eq!(
            chunks,
            vec![Chunk {
                row_group: 0,
                column: 0,
                codec: 1,
                numeric: false,
                range: Some(4..24)
            }]
        );
        assert!(metadata(&file[..file.len() - 1]).is_err());
    }

    /// Bytes between the last chunk and the metadata (where a page index would be) are
    /// scanned as member `bytes A-B`, not skipped.
    #[test]
    fn bytes_the_metadata_does_not_list_are_scanned() {
        const SECRET: &[u8] = b"Zq7p9xLm3Rt8wKd2Pq4s";
        let mut file = b"PAR1\x15".to_vec();
        file.extend_from_slice(&[b'.'; 19]);
        file.extend_from_slice(b"left here: ");
        file.extend_from_slice(SECRET);
        // One uncompressed column chunk, bytes 4 to 24.
        let footer = [
            0x49, 0x1c, 0x19, 0x1c, 0x3c, 0x45, 0x00, 0x36, 0x28, 0x26, 0x08, 0x00, 0x00, 0x00,
            0x00,
        ];
        file.extend_from_slice(&footer);
        file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        file.extend_from_slice(b"PAR1");
        let scanned = super::super::decode::testing::scan_memory(SECRET, "t.parquet", &file);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        let end = 24 + 11 + SECRET.len();
        assert_eq!(
            scanned.places(),
            vec![(format!("t.parquet › bytes 24-{end}"), "raw".to_string())]
        );
    }

    #[test]
    fn bytes_no_chunk_or_footer_lists_are_found() {
        assert!(unlisted(100, [4..40, 40..92].into_iter()).is_empty());
        assert_eq!(
            unlisted(100, [10..20, 4..8, 15..30, 60..92].into_iter()),
            vec![8..10, 30..60]
        );
        assert_eq!(unlisted(100, std::iter::once(4..50)), vec![50..92]);
    }

    #[test]
    fn hadoop_lz4_framing_is_unwrapped() {
        let text = b"a value of a column, a value of a column, a value";
        let block = lz4_flex::block::compress(text);
        let mut framed = (text.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&(block.len() as u32).to_be_bytes());
        framed.extend_from_slice(&block);
        assert_eq!(
            Codec::Lz4Hadoop.decode(&framed, text.len()).unwrap(),
            text.to_vec()
        );
        assert_eq!(
            Codec::Lz4Hadoop.decode(&block, text.len()).unwrap(),
            text.to_vec()
        );
    }
}
