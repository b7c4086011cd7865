//! cpio archives: initramfs images, rpm payloads, old backups. Three header formats, all
//! read as a stream of (header, name, data) until the `TRAILER!!!` entry:
//!
//! - `newc` (`070701`) and its checksummed twin `crc` (`070702`): 110-byte hex headers,
//!   name and data padded to 4 bytes (the kernel's initramfs, `cpio -H newc`);
//! - `odc` (`070707`): 76-byte octal headers, no padding (POSIX, `cpio -H odc`);
//! - the old binary format, GNU cpio's default: 26-byte headers of 16-bit words in the
//!   writer's byte order (magic `0o070707` reads `C7 71` little-endian, `71 C7` big-endian),
//!   name and data padded to 2 bytes. Its two-byte magic is weak, so the first header must
//!   also carry a plausible, NUL-terminated name.
//!
//! Every entry's data (a symlink's data is its target) is scanned as a member named by its
//! path; hard links with no data and directories add nothing.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::member::{self, read_full, Words};
use super::{drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Longest entry name accepted (the kernel's PATH_MAX).
const MAX_NAME: u64 = 4096;
const TRAILER: &str = "TRAILER!!!";

pub(crate) static CPIO: Cpio = Cpio;

pub(crate) struct Cpio;

const CPIO_WORDS: Words = Words {
    container: "cpio archive",
    member: "entry",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Newc,
    Odc,
    Binary { little_endian: bool },
}

impl Variant {
    fn of(head: &[u8]) -> Option<Variant> {
        if head.starts_with(b"070701") || head.starts_with(b"070702") {
            return Some(Variant::Newc);
        }
        if head.starts_with(b"070707") {
            return Some(Variant::Odc);
        }
        match head {
            [0xC7, 0x71, ..] => Some(Variant::Binary {
                little_endian: true,
            }),
            [0x71, 0xC7, ..] => Some(Variant::Binary {
                little_endian: false,
            }),
            _ => None,
        }
    }

    fn header_len(self) -> usize {
        match self {
            Variant::Newc => 110,
            Variant::Odc => 76,
            Variant::Binary { .. } => 26,
        }
    }

    /// Entries are padded to this alignment (name after the header, then data).
    fn align(self) -> u64 {
        match self {
            Variant::Newc => 4,
            Variant::Odc => 1,
            Variant::Binary { .. } => 2,
        }
    }

    /// The name size and the data size from a header, if its fields parse.
    fn sizes(self, header: &[u8]) -> Option<(u64, u64)> {
        match self {
            Variant::Newc => Some((hex(&header[94..102])?, hex(&header[54..62])?)),
            Variant::Odc => Some((octal(&header[59..65])?, octal(&header[65..76])?)),
            Variant::Binary { little_endian } => {
                let word = |at: usize| {
                    let pair = [header[at], header[at + 1]];
                    if little_endian {
                        u16::from_le_bytes(pair) as u64
                    } else {
                        u16::from_be_bytes(pair) as u64
                    }
                };
                Some((word(20), (word(22) << 16) | word(24)))
            }
        }
    }
}

fn hex(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

fn octal(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 8).ok()
}

impl Format for Cpio {
    fn name(&self) -> &'static str {
        "cpio"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        let Some(variant) = Variant::of(head) else {
            return false;
        };
        let header_len = variant.header_len();
        let Some(header) = head.get(..header_len) else {
            return false;
        };
        let Some((name_size, _)) = variant.sizes(header) else {
            return false;
        };
        if !(2..=MAX_NAME).contains(&name_size) {
            return false;
        }
        // The name must be in the head, printable and end with its NUL: two magic bytes
        // alone would claim random binary data.
        let Some(name) = head.get(header_len..header_len + name_size as usize) else {
            return matches!(variant, Variant::Newc | Variant::Odc);
        };
        name.last() == Some(&0)
            && name[..name.len() - 1]
                .iter()
                .all(|&b| b >= 0x20 && b != 0x7F)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        scan(walk, chain, reader, depth, buffer)
    }
}

fn scan(walk: &Walk, chain: &[String], input: &mut dyn Read, depth: u32, buffer: &mut ScanBuffer) {
    let mut offset = 0u64;
    let mut after_trailer = false;
    loop {
        let mut magic = [0u8; 6];
        let read = match read_full(input, &mut magic) {
            Ok(read) => read,
            Err(_) => {
                truncated(walk, chain, offset);
                return;
            }
        };
        if read == 0 {
            return;
        }
        // Several archives can follow each other, padded with zeros: an initramfs is often
        // an uncompressed cpio of CPU microcode, then the compressed cpio of the rest, and
        // the kernel reads them all. Whatever follows a trailer is read as a stream of its
        // own (another cpio, a compressed one, or bytes scanned raw); nothing is dropped.
        if after_trailer && Variant::of(&magic[..read]).is_none() {
            return read_what_follows(walk, chain, &magic[..read], offset, input, depth, buffer);
        }
        if read < 6 {
            truncated(walk, chain, offset);
            return;
        }
        if magic.iter().all(|&b| b == 0) {
            let _ = drain(input);
            return;
        }
        let Some(variant) = Variant::of(&magic) else {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!("bad cpio header at byte {offset}; the rest was not read"),
            );
            return;
        };
        let mut header = vec![0u8; variant.header_len()];
        header[..6].copy_from_slice(&magic);
        if !matches!(read_full(input, &mut header[6..]), Ok(n) if n == header.len() - 6) {
            truncated(walk, chain, offset);
            return;
        }
        let Some((name_size, data_size)) = variant.sizes(&header) else {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!("bad cpio header at byte {offset}; the rest was not read"),
            );
            return;
        };
        if name_size > MAX_NAME {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!("a cpio entry name of {name_size} bytes at byte {offset}; not read"),
            );
            return;
        }
        let mut name = vec![0u8; name_size as usize];
        if !matches!(read_full(input, &mut name), Ok(n) if n == name.len()) {
            truncated(walk, chain, offset);
            return;
        }
        let header_end = variant.header_len() as u64 + name_size;
        skip(input, padding(header_end, variant.align()));
        let name = String::from_utf8_lossy(&name)
            .trim_end_matches('\0')
            .to_string();
        if name == TRAILER {
            offset += header_end + padding(header_end, variant.align());
            after_trailer = true;
            continue;
        }
        after_trailer = false;
        let mut member = chain.to_vec();
        member.push(name);
        let mut data = input.take(data_size);
        let mut counted = super::limits::Counted {
            inner: &mut data,
            count: 0,
        };
        if data_size > 0 {
            walk.entering(&member);
            scan_member(walk, &member, &mut counted, depth + 1, buffer);
        }
        if !member::finish(walk, &member, &mut counted, data_size, &CPIO_WORDS) {
            return;
        }
        skip(input, padding(data_size, variant.align()));
        offset += header_end
            + padding(header_end, variant.align())
            + data_size
            + padding(data_size, variant.align());
    }
}

/// The bytes after an archive's trailer (`head` already read, at `offset`): zero padding is
/// skipped, and anything after it is inspected as a member `after-trailer@OFFSET` of the file.
fn read_what_follows(
    walk: &Walk,
    chain: &[String],
    head: &[u8],
    mut offset: u64,
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut pending = head.to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        let zeros = pending.iter().take_while(|&&b| b == 0).count();
        offset += zeros as u64;
        pending.drain(..zeros);
        if !pending.is_empty() {
            break;
        }
        match input.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                truncated(walk, chain, offset);
                return;
            }
        }
    }
    let mut member = chain.to_vec();
    member.push(format!("after-trailer@{offset}"));
    let mut rest = (&pending[..]).chain(input);
    walk.entering(&member);
    scan_member(walk, &member, &mut rest, depth + 1, buffer);
}

fn padding(length: u64, align: u64) -> u64 {
    (align - length % align) % align
}

fn truncated(walk: &Walk, chain: &[String], offset: u64) {
    walk.fail(
        GapKind::Corrupt,
        chain,
        format!("the cpio archive is truncated at byte {offset}"),
    );
}

fn skip(input: &mut dyn Read, n: u64) {
    let _ = io::copy(&mut input.take(n), &mut io::sink());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_magic_needs_a_plausible_name() {
        let mut header = vec![0xC7, 0x71];
        header.extend_from_slice(&[0u8; 18]);
        header.extend_from_slice(&6u16.to_le_bytes()); // name size
        header.extend_from_slice(&[0, 0, 3, 0]); // file size
        let mut good = header.clone();
        good.extend_from_slice(b"a.txt\0");
        assert!(CPIO.recognise(&good, Place::Inside));
        let mut bad = header;
        bad.extend_from_slice(b"\x01\x02\x03\x04\x05\x06");
        assert!(!CPIO.recognise(&bad, Place::Inside));
        assert!(!CPIO.recognise(b"\xC7\x71", Place::Inside));
    }

    #[test]
    fn padding_aligns() {
        assert_eq!(padding(110 + 6, 4), 0);
        assert_eq!(padding(110 + 5, 4), 1);
        assert_eq!(padding(7, 2), 1);
        assert_eq!(padding(7, 1), 0);
    }
}
