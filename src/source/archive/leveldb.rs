//! LevelDB and RocksDB tables (`.ldb`, `.sst`): Chrome's and every Electron app's Local
//! Storage, IndexedDB and session storage (Slack, Discord, Teams, VS Code keep their tokens
//! there), and any service built on LevelDB or RocksDB.
//!
//! A table is a run of blocks, each followed by a compression byte and a checksum; an index
//! block lists the data blocks, and a footer at the very end (with the table's magic number)
//! says where the index is. Data blocks are compressed with raw snappy by default, which
//! has no magic number to carve, and their keys are prefix-compressed, so a value that
//! snappy copied in part from a similar one nearby (a rotated token that kept its prefix,
//! one JSON settings blob after another) was never whole in the raw bytes. Every data block
//! is decoded here and its entries, each key rebuilt whole, then a line break and the value,
//! are scanned as member `entries`.
//!
//! A table has no magic number at its start, so it is recognised by its name (`.ldb`,
//! `.sst`) and confirmed by its footer; a file so named that is no table is scanned as
//! bytes. The raw bytes are always scanned too; a secret they already showed is not
//! reported again from the entries. What cannot be read is a gap: a block whose
//! compression scour does not decode (`unsupported`), a block that does not decode or parse
//! (`corrupt`), a RocksDB footer or index layout this reader does not know (`unsupported`).

use std::io::Read;

use super::format::{Format, Place};
use super::varint::leb128;
use super::{decode, leaf, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// LevelDB's magic (and RocksDB's for its first table format), little-endian at the end.
const LEVELDB_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// RocksDB's block-based table magic.
const ROCKSDB_MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
/// Most decoded bytes of one block, and of all the entries of a table.
const MAX_BLOCK: usize = 64 << 20;
const MAX_ENTRIES: usize = 256 << 20;

pub(crate) static LEVELDB_TABLE: Table = Table;

pub(crate) struct Table;

impl Format for Table {
    fn name(&self) -> &'static str {
        "leveldb-table"
    }

    fn recognise(&self, _head: &[u8], _place: Place) -> bool {
        false
    }

    /// A `.ldb` or `.sst` name; the footer, read once the table is held, decides.
    fn recognise_named(&self, head: &[u8], name: &str) -> bool {
        let named = name.ends_with(".ldb") || name.ends_with(".sst");
        named && !head.is_empty()
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let what = "the table's compressed blocks";
        super::hold_then_read(walk, chain, reader, depth, buffer, what, read_table);
    }
}

/// A block's place in the table.
#[derive(Debug, Clone, Copy)]
struct Handle {
    offset: usize,
    size: usize,
}

fn handle(bytes: &mut &[u8]) -> Option<Handle> {
    let offset = usize::try_from(leb128(bytes)?).ok()?;
    let size = usize::try_from(leb128(bytes)?).ok()?;
    Some(Handle { offset, size })
}

/// Bytes after each block: its compression type and a checksum.
const TRAILER: usize = 5;

/// The index block's handle, from the footer (or, in RocksDB's format 6 and later, from the
/// metaindex block the footer points to); `Err` with a reason for a layout this reader does
/// not know, `Ok(None)` when there is no table footer at all.
fn index_handle(bytes: &[u8]) -> Result<Option<Handle>, String> {
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(magic) = bytes
        .len()
        .checked_sub(8)
        .map(|at| u64::from_le_bytes(bytes[at..].try_into().unwrap_or_default()))
    else {
        return Ok(None);
    };
    let handles_at = match magic {
        LEVELDB_MAGIC => bytes.len().checked_sub(48),
        ROCKSDB_MAGIC => {
            let Some(footer) = bytes.len().checked_sub(53) else {
                return Ok(None);
            };
            match u32_at(bytes.len() - 12) {
                // The footer names its checksum type first, then the handles.
                Some(1..=5) => Some(footer + 1),
                // Format 6+: checksum type, extended magic, two checksums, then the size of
                // the metaindex block, which ends right before the footer.
                Some(6..=7) if bytes[footer + 1..footer + 5] == [0x3e, 0x00, 0x7a, 0x00] => {
                    let size = u32_at(footer + 13).unwrap_or(0) as usize;
                    let Some(offset) = footer.checked_sub(size + TRAILER) else {
                        return Err("a RocksDB footer whose metaindex size is wrong".to_string());
                    };
                    let metaindex = block(bytes, Handle { offset, size })?;
                    let mut index = None;
                    each_entry(&metaindex, |key, mut value| {
                        if key == b"rocksdb.index" {
                            index = handle(&mut value);
                        }
                    })?;
                    return index
                        .map(Some)
                        .ok_or_else(|| "a RocksDB metaindex with no index entry".to_string());
                }
                Some(version) => {
                    return Err(format!(
                        "a RocksDB table in format version {version}, whose footer this reader \
                         does not know"
                    ))
                }
                None => None,
            }
        }
        _ => return Ok(None),
    };
    let Some(start) = handles_at else {
        return Ok(None);
    };
    let mut footer = &bytes[start..];
    let _metaindex = handle(&mut footer);
    Ok(handle(&mut footer))
}

fn read_table(walk: &Walk, chain: &[String], bytes: &[u8], depth: u32, buffer: &mut ScanBuffer) {
    let mark = decode::reported_mark(walk);
    leaf::scan_bytes(walk, chain, bytes, depth, leaf::Kind::Plain, buffer);
    let index = match index_handle(bytes) {
        Ok(Some(index)) => index,
        // No footer: a `.ldb` is LevelDB's own name, so a table cut short (copied while
        // it was written); an `.sst` may be another format (a Windows certificate store).
        Ok(None) => {
            if chain.last().is_some_and(|name| name.ends_with(".ldb")) {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    "a LevelDB table with no footer (cut short?): its compressed blocks could \
                     not be found, only its raw bytes were scanned"
                        .to_string(),
                );
            }
            return;
        }
        Err(why) => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "{why}: its compressed blocks were not decoded, only its raw bytes scanned"
                ),
            );
            return;
        }
    };
    let mut entries = Vec::new();
    let listed = block(bytes, index).and_then(|index| data_handles(&index));
    let handles = match listed {
        Ok(handles) => handles,
        Err(why) => {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!(
                    "its index block cannot be read ({why}): its data blocks were not decoded, \
                     only its raw bytes scanned"
                ),
            );
            return;
        }
    };
    for data in handles {
        let decoded = block(bytes, data).and_then(|decoded| {
            each_entry(&decoded, |key, value| {
                entries.extend_from_slice(key);
                entries.push(b'\n');
                entries.extend_from_slice(value);
                entries.push(b'\n');
            })
        });
        if let Err(why) = decoded {
            let kind = if why.starts_with("compression") {
                GapKind::Unsupported
            } else {
                GapKind::Corrupt
            };
            walk.fail(
                kind,
                chain,
                format!(
                    "the data block at byte {} cannot be read ({why}); its raw bytes were scanned",
                    data.offset
                ),
            );
        }
        if entries.len() > MAX_ENTRIES {
            walk.fail(
                GapKind::LimitExceeded,
                chain,
                format!(
                    "its entries decode to more than {MAX_ENTRIES} bytes; the data blocks from \
                     byte {} on were not decoded",
                    data.offset
                ),
            );
            break;
        }
    }
    let mut member = chain.to_vec();
    member.push("entries".to_string());
    let raw_found = decode::reported_since(walk, mark);
    decode::inspect_suppressing(walk, &member, &entries, raw_found, depth + 1, buffer);
}

/// The data blocks an index block lists: LevelDB's entries (and RocksDB's before format
/// 4) hold a block handle as their value; RocksDB's later ones have no value length and,
/// between restart points, only the size's change (the offset follows the block before).
/// Either way data blocks follow one another from byte 0, which tells the two apart.
fn data_handles(index: &[u8]) -> Result<Vec<Handle>, String> {
    let consecutive = |handles: &[Handle]| {
        handles.first().is_some_and(|h| h.offset == 0)
            && handles
                .windows(2)
                .all(|pair| pair[0].offset + pair[0].size + TRAILER == pair[1].offset)
    };
    let mut plain = Vec::new();
    let mut bad = false;
    let listed = each_entry(index, |_, mut value| match handle(&mut value) {
        Some(found) => plain.push(found),
        None => bad = true,
    });
    if listed.is_ok() && !bad && consecutive(&plain) {
        return Ok(plain);
    }
    let delta = delta_handles(index)?;
    if consecutive(&delta) {
        Ok(delta)
    } else {
        Err("its entries do not list the data blocks one after another".to_string())
    }
}

/// Handles of a RocksDB index block whose values are delta-encoded.
fn delta_handles(index: &[u8]) -> Result<Vec<Handle>, String> {
    let (entries_end, restarts) = restart_points(index)?;
    let mut handles: Vec<Handle> = Vec::new();
    let mut data = &index[..entries_end];
    while !data.is_empty() {
        let at = entries_end - data.len();
        let mut field = || leb128(&mut data).and_then(|n| usize::try_from(n).ok());
        let (Some(_shared), Some(unshared)) = (field(), field()) else {
            return Err("an index entry header runs off the block".to_string());
        };
        data = data
            .get(unshared..)
            .ok_or("an index key runs off the block")?;
        let found = match handles.last() {
            Some(previous) if !restarts.contains(&at) => {
                let zigzag = leb128(&mut data).ok_or("an index size runs off the block")?;
                let change = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
                let size = (previous.size as i64)
                    .checked_add(change)
                    .filter(|&s| s >= 0);
                Handle {
                    offset: previous.offset + previous.size + TRAILER,
                    size: size.ok_or("an index size below zero")? as usize,
                }
            }
            _ => handle(&mut data).ok_or("an index handle runs off the block")?,
        };
        handles.push(found);
    }
    Ok(handles)
}

/// A block's contents, decompressed.
fn block(bytes: &[u8], at: Handle) -> Result<Vec<u8>, String> {
    let end = at
        .offset
        .checked_add(at.size)
        .filter(|&end| end < bytes.len())
        .ok_or_else(|| "it runs past the end of the table".to_string())?;
    let contents = &bytes[at.offset..end];
    match bytes[end] {
        0 => Ok(contents.to_vec()),
        1 => snappy(contents),
        // zstd in LevelDB 1.23+, zlib in RocksDB; RocksDB's later formats put the decoded
        // size (a varint) before the compressed bytes.
        2 => zstd(contents).or_else(|_| inflate(contents)),
        3 => bzip2(contents),
        4 | 5 => lz4(contents),
        7 => zstd(contents),
        other => Err(format!(
            "compression type {other}, which scour does not decode"
        )),
    }
}

fn snappy(contents: &[u8]) -> Result<Vec<u8>, String> {
    let declared = snap::raw::decompress_len(contents).map_err(|e| format!("snappy: {e}"))?;
    // A snappy block expands at most 32 times or so (a 3-byte copy of 64 bytes).
    if declared > MAX_BLOCK || declared > contents.len().saturating_mul(32) + 64 {
        return Err(format!("snappy: a declared size of {declared} bytes"));
    }
    snap::raw::Decoder::new()
        .decompress_vec(contents)
        .map_err(|e| format!("snappy: {e}"))
}

/// The bytes after a RocksDB decoded-size prefix, if there is one before `magic`.
fn after_size_prefix(contents: &[u8], starts: impl Fn(&[u8]) -> bool) -> &[u8] {
    if starts(contents) {
        return contents;
    }
    let mut rest = contents;
    match leb128(&mut rest) {
        Some(_) if starts(rest) => rest,
        _ => contents,
    }
}

fn zstd(contents: &[u8]) -> Result<Vec<u8>, String> {
    let frame = after_size_prefix(contents, |b| b.starts_with(b"\x28\xB5\x2F\xFD"));
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(frame)
        .map_err(|e| format!("zstd: {e}"))?
        .take(MAX_BLOCK as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("zstd: {e}"))?;
    Ok(out)
}

fn inflate(contents: &[u8]) -> Result<Vec<u8>, String> {
    let attempt = |input: &[u8]| {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(input)
            .take(MAX_BLOCK as u64 + 1)
            .read_to_end(&mut out)
            .ok()
            .map(|_| out)
    };
    let mut rest = contents;
    attempt(contents)
        .or_else(|| leb128(&mut rest).and_then(|_| attempt(rest)))
        .ok_or_else(|| "zlib: the block does not inflate".to_string())
}

fn bzip2(contents: &[u8]) -> Result<Vec<u8>, String> {
    let stream = after_size_prefix(contents, |b| b.starts_with(b"BZh"));
    let mut out = Vec::new();
    bzip2::read::BzDecoder::new(stream)
        .take(MAX_BLOCK as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("bzip2: {e}"))?;
    Ok(out)
}

/// RocksDB lz4 blocks: a bare lz4 block, after the decoded size as a varint (format 2+)
/// or with none (the decoded size then comes from the block's own 32-bit prefix).
fn lz4(contents: &[u8]) -> Result<Vec<u8>, String> {
    let mut rest = contents;
    let size = leb128(&mut rest).and_then(|size| usize::try_from(size).ok());
    match size {
        Some(size) if size <= MAX_BLOCK && size <= rest.len().saturating_mul(256) + 64 => {
            lz4_flex::block::decompress(rest, size).map_err(|e| format!("lz4: {e}"))
        }
        _ => Err("lz4: a declared size no block of this length can reach".to_string()),
    }
}

/// Where a block's entries end, and the offsets of its restart points. RocksDB keeps a
/// flag for a hash index in the count's top bit.
fn restart_points(block: &[u8]) -> Result<(usize, Vec<usize>), String> {
    let count_at = block
        .len()
        .checked_sub(4)
        .ok_or_else(|| "a block shorter than its restart count".to_string())?;
    let packed = u32::from_le_bytes(block[count_at..].try_into().unwrap_or_default());
    let restarts = (packed & 0x7fff_ffff) as usize;
    let entries_end = restarts
        .checked_mul(4)
        .and_then(|len| count_at.checked_sub(len))
        .ok_or_else(|| "a restart array longer than its block".to_string())?;
    let points = block[entries_end..count_at]
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    Ok((entries_end, points))
}

/// Calls `each(key, value)` for every entry of a block, each key rebuilt from the shared
/// prefix of the one before it.
fn each_entry(block: &[u8], mut each: impl FnMut(&[u8], &[u8])) -> Result<(), String> {
    let (entries_end, _) = restart_points(block)?;
    let mut data = &block[..entries_end];
    let mut key: Vec<u8> = Vec::new();
    while !data.is_empty() {
        let mut field = || leb128(&mut data).and_then(|n| usize::try_from(n).ok());
        let (Some(shared), Some(unshared), Some(value_len)) = (field(), field(), field()) else {
            return Err("an entry header runs off the block".to_string());
        };
        if shared > key.len() || unshared.saturating_add(value_len) > data.len() {
            return Err("an entry runs off the block".to_string());
        }
        key.truncate(shared);
        key.extend_from_slice(&data[..unshared]);
        let value = &data[unshared..unshared + value_len];
        each(&key, value);
        data = &data[unshared + value_len..];
    }
    Ok(())
}
