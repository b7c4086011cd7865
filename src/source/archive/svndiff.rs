//! Subversion's delta format, svndiff (`SVN` and a version byte): how an FSFS repository
//! stores every file's text in `db/revs/`, and how `svnadmin dump --deltas` writes it.
//!
//! A delta is a sequence of windows; each rebuilds up to ~100 KiB of text from copies out
//! of the previous version (the source), copies out of the text it has rebuilt so far, and
//! new bytes. Version 1 compresses each window's instructions and new bytes with zlib,
//! version 2 with lz4, which Subversion 1.10 and later use by default for new repositories:
//! a bare lz4 block with no magic number, so the text of every file committed to such a
//! repository was invisible to carving. Each window is rebuilt here and the text scanned as
//! member `text` of the delta. A copy out of the source (a previous version, stored in an
//! earlier delta that is scanned where it is) is stood in for by as many NUL bytes, so the
//! copies that follow land where they should and no two pieces of text run together.
//!
//! A delta has no length of its own: the windows are read until one does not parse. Where
//! what follows is what ends a delta (`ENDREP` in a revision file, a line break in a dump
//! file, the end of the input) that is its end; anything else is a damaged window, and a
//! `corrupt` gap. A first window that does not parse was a false start.

use std::io::{self, Read};

use super::blocks::{Blocks, NextBlock};
use super::format::{Format, Place};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::matcher::ScanBuffer;

/// Largest window accepted: Subversion writes 100 KiB; more than this is not a delta.
const MAX_WINDOW: u64 = 16 << 20;

pub(crate) static SVNDIFF: Svndiff = Svndiff;

pub(crate) struct Svndiff;

impl Format for Svndiff {
    fn name(&self) -> &'static str {
        "svndiff"
    }

    /// `SVN`, a version from 0 to 2, and a first window whose header is sane.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        let Some(&version) = head.get(3) else {
            return false;
        };
        head.starts_with(b"SVN")
            && version <= 2
            && window_header(&mut &head[4..]).is_some_and(|header| header.sane(version))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut magic = [0u8; 4];
        if reader.read_exact(&mut magic).is_err() {
            return;
        }
        let mut member = chain.to_vec();
        member.push("text".to_string());
        walk.entering(&member);
        let windows = Windows {
            input: Noting {
                inner: reader,
                first: Vec::new(),
            },
            version: magic[3],
            rebuilt: 0,
            ended: false,
        };
        let mut text = Decoded::new(walk, &member, "svndiff", Blocks::new(windows));
        scan_member(walk, &member, &mut text, depth + 1, buffer);
    }
}

/// A window's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WindowHeader {
    source_len: u64,
    target_len: u64,
    instructions_len: u64,
    new_len: u64,
}

impl WindowHeader {
    fn sane(&self, version: u8) -> bool {
        let sections = self.instructions_len.saturating_add(self.new_len);
        self.target_len > 0
            && self.instructions_len > 0
            && self.target_len <= MAX_WINDOW
            && self.source_len <= MAX_WINDOW
            // Compressed or not, a section is read whole into memory: bounded like the text.
            && self.instructions_len <= MAX_WINDOW
            && self.new_len <= MAX_WINDOW
            // Uncompressed, the sections are never longer than the text they make (each
            // instruction makes at least a byte, and new bytes are used once).
            && (version > 0 || sections <= self.target_len.saturating_mul(3).saturating_add(16))
    }
}

/// A big-endian base-128 integer (the high bit marks a byte that is not the last).
fn varint(input: &mut dyn Read) -> Option<u64> {
    let mut value = 0u64;
    for _ in 0..10 {
        let mut byte = [0u8];
        input.read_exact(&mut byte).ok()?;
        value = value.checked_mul(128)? | u64::from(byte[0] & 0x7F);
        if byte[0] & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn window_header(input: &mut dyn Read) -> Option<WindowHeader> {
    let _source_offset = varint(input)?;
    Some(WindowHeader {
        source_len: varint(input)?,
        target_len: varint(input)?,
        instructions_len: varint(input)?,
        new_len: varint(input)?,
    })
}

/// The windows of one delta, each rebuilt into its text.
struct Windows<'r> {
    input: Noting<'r>,
    version: u8,
    /// Windows rebuilt so far.
    rebuilt: usize,
    ended: bool,
}

/// The delta's input, noting the first bytes read since the current window began: what
/// follows a delta (`ENDREP` in a revision file, a line break in a dump file, or nothing)
/// tells its end from a damaged window.
struct Noting<'r> {
    inner: &'r mut dyn Read,
    first: Vec<u8>,
}

impl Read for Noting<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        let room = 8usize.saturating_sub(self.first.len());
        self.first.extend_from_slice(&out[..n.min(room)]);
        Ok(n)
    }
}

impl NextBlock for Windows<'_> {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.ended {
            return Ok(None);
        }
        self.input.first.clear();
        if let Some(text) = self.window() {
            self.rebuilt += 1;
            return Ok(Some(text));
        }
        self.ended = true;
        let first = &self.input.first;
        let at_end = first.is_empty() || first[0] == b'\n' || first.starts_with(b"ENDREP");
        // A first window that does not parse was a false start, not a delta.
        if self.rebuilt == 0 || at_end {
            return Ok(None);
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "window {} is damaged (neither a window nor the end of the delta); the rest \
                 of the text was not rebuilt",
                self.rebuilt + 1
            ),
        ))
    }
}

impl Windows<'_> {
    /// The next window's text; `None` if what follows is not a window.
    fn window(&mut self) -> Option<Vec<u8>> {
        let header = window_header(&mut self.input)?;
        if !header.sane(self.version) {
            return None;
        }
        let instructions = self.section(header.instructions_len)?;
        let new = self.section(header.new_len)?;
        rebuild(&instructions, &new, header.target_len as usize)
    }

    /// A section of `len` bytes, decompressed (versions 1 and 2 prefix it with its
    /// decompressed length; equal lengths mean it was stored as it is).
    fn section(&mut self, len: u64) -> Option<Vec<u8>> {
        let mut raw = Vec::new();
        (&mut self.input).take(len).read_to_end(&mut raw).ok()?;
        if raw.len() as u64 != len {
            return None;
        }
        if self.version == 0 {
            return Some(raw);
        }
        let mut body = &raw[..];
        let size = varint(&mut body)?;
        if size > MAX_WINDOW {
            return None;
        }
        if size == body.len() as u64 {
            return Some(body.to_vec());
        }
        let size = size as usize;
        match self.version {
            1 => {
                let mut out = Vec::with_capacity(size);
                flate2::read::ZlibDecoder::new(body)
                    .take(size as u64)
                    .read_to_end(&mut out)
                    .ok()?;
                (out.len() == size).then_some(out)
            }
            _ => lz4_flex::block::decompress(body, size).ok(),
        }
    }
}

/// Applies a window's instructions: copies out of the source (stood in for by NUL bytes),
/// out of the text rebuilt so far (which may overlap what they write), and of new bytes.
fn rebuild(mut instructions: &[u8], new: &[u8], target_len: usize) -> Option<Vec<u8>> {
    let mut text = Vec::with_capacity(target_len);
    let mut new_at = 0usize;
    while !instructions.is_empty() {
        let op = instructions[0];
        instructions = &instructions[1..];
        let len = match u64::from(op & 0x3F) {
            0 => varint(&mut instructions)?,
            short => short,
        } as usize;
        if text.len().checked_add(len)? > target_len {
            return None;
        }
        match op >> 6 {
            0 => {
                let _offset = varint(&mut instructions)?;
                text.resize(text.len() + len, 0);
            }
            1 => {
                let from = usize::try_from(varint(&mut instructions)?).ok()?;
                if from >= text.len() {
                    return None;
                }
                for i in 0..len {
                    text.push(text[from + i]);
                }
            }
            2 => {
                let bytes = new.get(new_at..new_at.checked_add(len)?)?;
                text.extend_from_slice(bytes);
                new_at += len;
            }
            _ => return None,
        }
    }
    (text.len() == target_len).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One window: 5 new bytes, then a copy of 7 bytes out of the text itself (overlapping
    /// what it writes), then 3 bytes out of the source.
    fn window(version: u8) -> Vec<u8> {
        let instructions = [0x80 | 5, 0x40 | 7, 0x00, 0x03, 0x00];
        let new = b"abcde";
        let mut delta = b"SVN".to_vec();
        delta.push(version);
        // source offset 0, source length 3, target length 15.
        delta.extend_from_slice(&[0, 3, 15]);
        let section = |bytes: &[u8]| {
            if version == 0 {
                bytes.to_vec()
            } else {
                let mut out = vec![bytes.len() as u8];
                out.extend_from_slice(bytes);
                out
            }
        };
        let (instructions, new) = (section(&instructions), section(new));
        delta.push(instructions.len() as u8);
        delta.push(new.len() as u8);
        delta.extend_from_slice(&instructions);
        delta.extend_from_slice(&new);
        delta
    }

    fn windows_of<'r>(input: &'r mut &[u8], version: u8) -> Windows<'r> {
        Windows {
            input: Noting {
                inner: input,
                first: Vec::new(),
            },
            version,
            rebuilt: 0,
            ended: false,
        }
    }

    #[test]
    fn a_window_is_rebuilt_with_source_copies_as_nul_bytes() {
        for version in [0, 1, 2] {
            let mut delta = window(version);
            assert!(
                SVNDIFF.recognise(&delta, Place::Inside),
                "version {version}"
            );
            delta.extend_from_slice(b"ENDREP\n");
            let mut input = &delta[4..];
            let mut windows = windows_of(&mut input, version);
            assert_eq!(
                windows.next_block().unwrap(),
                Some(b"abcdeabcdeab\0\0\0".to_vec()),
                "version {version}"
            );
            assert_eq!(windows.next_block().unwrap(), None);
        }
    }

    /// After a window, bytes that are neither a window nor what ends a delta are damage.
    #[test]
    fn a_damaged_window_after_the_first_is_an_error() {
        let mut delta = window(0);
        delta.extend_from_slice(b"\x01\x02\x05\x03\x02\xff\xff\xff");
        let mut input = &delta[4..];
        let mut windows = windows_of(&mut input, 0);
        assert!(windows.next_block().unwrap().is_some());
        assert!(windows.next_block().is_err());
        let mut delta = window(0);
        delta.extend_from_slice(b"\nNode-path: trunk/b\n");
        let mut input = &delta[4..];
        let mut windows = windows_of(&mut input, 0);
        assert!(windows.next_block().unwrap().is_some());
        assert_eq!(windows.next_block().unwrap(), None);
    }

    #[test]
    fn text_after_svn_is_not_a_delta() {
        assert!(!SVNDIFF.recognise(b"SVN repository at r1234", Place::Inside));
        assert!(!SVNDIFF.recognise(b"SVN\x00\x00\x00\x00\x00\x00", Place::Inside));
    }

    #[test]
    fn a_copy_past_the_text_ends_the_delta() {
        assert_eq!(rebuild(&[0x40 | 4, 0x00], b"", 4), None);
        assert_eq!(rebuild(&[0x80 | 4], b"ab", 4), None);
        assert_eq!(rebuild(&[0x80 | 2], b"ab", 2), Some(b"ab".to_vec()));
    }
}
