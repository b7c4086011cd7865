//! LevelDB and RocksDB write-ahead logs (`000003.log` beside the tables): the writes not yet
//! compacted into a table, which is where a token written last, or deleted last, lives.
//!
//! A log is cut into 32 KiB blocks, and a record that does not fit in what is left of a
//! block is split into fragments (first, middle, last), each with a 7-byte header (11 in
//! RocksDB's recyclable format) at the start of the next block. A value cut there was never
//! whole in the raw bytes. Records that were split are joined here and scanned as member
//! `records`; records kept whole are already whole in the raw bytes, which are always
//! scanned, and a secret the raw bytes already showed is not reported again.
//!
//! Recognised by a first record whose CRC32C holds (or, for a first record longer than the
//! bytes sniffed, by a `.log` name and a sane header, confirmed once the log is held). A
//! record whose checksum fails, or a fragment out of order, is a `corrupt` gap; reading
//! goes on at the next block.

use std::io::Read;

use super::format::{Format, Place};
use super::{decode, leaf, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const BLOCK: usize = 32 << 10;
/// Most bytes of one joined record (LevelDB's write batches are a few MiB at most).
const MAX_RECORD: usize = 64 << 20;

pub(crate) static LEVELDB_LOG: Log = Log;

pub(crate) struct Log;

/// The kinds of fragment: whole, first, middle, last (RocksDB's recyclable records are
/// 5 to 8, the same kinds with a log number in a longer header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fragment {
    Full,
    First,
    Middle,
    Last,
}

/// A record header at the start of `bytes`: the fragment kind, header length and data
/// length.
fn header(bytes: &[u8]) -> Option<(Fragment, usize, usize)> {
    let length = usize::from(u16::from_le_bytes([*bytes.get(4)?, *bytes.get(5)?]));
    let (kind, header) = match bytes.get(6)? {
        1 => (Fragment::Full, 7),
        2 => (Fragment::First, 7),
        3 => (Fragment::Middle, 7),
        4 => (Fragment::Last, 7),
        5 => (Fragment::Full, 11),
        6 => (Fragment::First, 11),
        7 => (Fragment::Middle, 11),
        8 => (Fragment::Last, 11),
        _ => return None,
    };
    (header + length <= BLOCK).then_some((kind, header, length))
}

/// Whether the record at the start of `bytes` (wholly inside it) has a checksum that holds:
/// CRC32C of the type byte (and log number) and the data, masked as LevelDB masks it.
fn checksum_holds(bytes: &[u8], header: usize, length: usize) -> bool {
    let Some(covered) = bytes.get(6..header + length) else {
        return false;
    };
    let crc = crc32c::crc32c(covered);
    let masked = (crc.rotate_right(15)).wrapping_add(0xa282_ead8);
    bytes[..4] == masked.to_le_bytes()
}

/// A first record: whole or a first fragment, not empty, checksum holding if it is in
/// `head` (`None` if the head is too short to tell).
fn first_record(head: &[u8]) -> Option<bool> {
    let (kind, header, length) = header(head)?;
    if !matches!(kind, Fragment::Full | Fragment::First) || length == 0 {
        return Some(false);
    }
    (header + length <= head.len()).then(|| checksum_holds(head, header, length))
}

impl Format for Log {
    fn name(&self) -> &'static str {
        "leveldb-log"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        first_record(head) == Some(true)
    }

    fn recognise_named(&self, head: &[u8], name: &str) -> bool {
        name.ends_with(".log") && first_record(head).is_none() && header(head).is_some()
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let what = "records split across its blocks";
        super::hold_then_read(walk, chain, reader, depth, buffer, what, read_log);
    }
}

fn read_log(walk: &Walk, chain: &[String], bytes: &[u8], depth: u32, buffer: &mut ScanBuffer) {
    let mark = decode::reported_mark(walk);
    leaf::scan_bytes(walk, chain, bytes, depth, leaf::Kind::Plain, buffer);
    let confirmed =
        header(bytes).is_some_and(|(_, header, length)| checksum_holds(bytes, header, length));
    if !confirmed {
        // Named like a log, but not one: read as the bytes it is.
        return;
    }
    let (joined, damage) = joined_records(bytes);
    if let Some(why) = damage {
        walk.fail(
            GapKind::Corrupt,
            chain,
            format!("{why}; the rest of that block was skipped, and its raw bytes were scanned"),
        );
    }
    if joined.is_empty() {
        return;
    }
    let mut member = chain.to_vec();
    member.push("records".to_string());
    let raw_found = decode::reported_since(walk, mark);
    decode::inspect_suppressing(walk, &member, &joined, raw_found, depth + 1, buffer);
}

/// Every record that was split into fragments, joined (one per line), and the first damage
/// met, if any.
fn joined_records(bytes: &[u8]) -> (Vec<u8>, Option<String>) {
    let mut joined = Vec::new();
    let mut pending: Option<Vec<u8>> = None;
    let mut damage = None;
    for (index, block) in bytes.chunks(BLOCK).enumerate() {
        let mut at = 0;
        while at + 7 <= block.len() {
            let rest = &block[at..];
            // Zeros: the rest of the block is padding (or space preallocated for writes).
            if rest[4..7] == [0, 0, 0] {
                break;
            }
            let offset = index * BLOCK + at;
            let record = header(rest).filter(|&(_, header, length)| {
                header + length <= rest.len() && checksum_holds(rest, header, length)
            });
            let Some((kind, header, length)) = record else {
                damage.get_or_insert(format!("the record at byte {offset} is damaged"));
                pending = None;
                break;
            };
            let data = &rest[header..header + length];
            match (kind, pending.as_mut()) {
                (Fragment::Full, _) => pending = None,
                (Fragment::First, _) => pending = Some(data.to_vec()),
                (Fragment::Middle | Fragment::Last, Some(record)) => {
                    record.extend_from_slice(data);
                    if record.len() > MAX_RECORD {
                        damage.get_or_insert(format!(
                            "the record ending at byte {offset} is longer than {MAX_RECORD} bytes"
                        ));
                        pending = None;
                    } else if kind == Fragment::Last {
                        joined.append(record);
                        joined.push(b'\n');
                        pending = None;
                    }
                }
                (Fragment::Middle | Fragment::Last, None) => {
                    // The rest of a record whose start was lost (a log that was recycled,
                    // or damage before it): its raw bytes were scanned.
                }
            }
            at += header + length;
        }
    }
    (joined, damage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut covered = vec![kind];
        covered.extend_from_slice(data);
        let masked = crc32c::crc32c(&covered)
            .rotate_right(15)
            .wrapping_add(0xa282_ead8);
        let mut out = masked.to_le_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.push(kind);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn fragments_across_blocks_are_joined_and_damage_is_named() {
        let mut log = record(1, b"whole");
        let first = BLOCK - log.len() - 7;
        log.extend(record(2, &vec![b'a'; first]));
        assert_eq!(log.len(), BLOCK);
        log.extend(record(4, b"bcd"));
        let (joined, damage) = joined_records(&log);
        let mut expected = vec![b'a'; first];
        expected.extend_from_slice(b"bcd\n");
        assert_eq!(joined, expected);
        assert_eq!(damage, None);
        assert_eq!(first_record(&log), Some(true));

        let last = log.len() - 1;
        log[last] ^= 1;
        let (joined, damage) = joined_records(&log);
        assert!(joined.is_empty());
        assert_eq!(
            damage,
            Some(format!("the record at byte {BLOCK} is damaged"))
        );
    }
}
