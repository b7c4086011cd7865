//! `git format-patch --binary` and `git diff --binary` hunks: `GIT binary patch`, then
//! `literal N` or `delta N` blocks of base85 lines (each led by its decoded length, `A`-`Z`
//! for 1-26 bytes, `a`-`z` for 27-52) holding a zlib stream.
//!
//! A `literal` hunk inflates to the file itself. A `delta` hunk inflates to a git delta
//! against the other side of the change; when the patch carries that side as a literal
//! (the forward hunk is the new file, the reverse one a delta from it back to the old), the
//! delta is applied to it and the old file is inspected whole. Otherwise the delta's insert
//! instructions (the bytes it adds) are inspected, joined: bytes copied from a side the
//! patch does not hold are that side's, scanned wherever it is stored.

use std::io::Read;

use super::base85::{decode_digits, RFC1924_DIGITS};
use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink, RUN_BUDGET};

/// Longest hunk line (1 length character and 65 base85 characters, with slack).
const MAX_LINE: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Literal,
    Delta,
}

struct Hunk {
    kind: Kind,
    start: u64,
    /// Size of the inflated data the header gives.
    size: u64,
    zlib: Vec<u8>,
    broken: bool,
}

enum State {
    Idle,
    /// After `GIT binary patch`, or after a hunk: a `literal`/`delta` line may follow.
    Header,
    Hunk(Hunk),
}

pub(crate) struct GitBinaryRuns {
    state: State,
    /// The last literal hunk of this patch, the base for a following delta.
    literal: Option<Vec<u8>>,
    /// A delta met before any literal of its patch: (offset, encoded length, delta),
    /// applied to the literal if one follows, else reduced to its inserts.
    pending: Option<(u64, u64, Vec<u8>)>,
}

fn hunk_header(line: &[u8]) -> Option<(Kind, u64)> {
    let (kind, size) = if let Some(size) = line.strip_prefix(b"literal ") {
        (Kind::Literal, size)
    } else {
        (Kind::Delta, line.strip_prefix(b"delta ")?)
    };
    let size = std::str::from_utf8(size).ok()?.trim().parse().ok()?;
    Some((kind, size))
}

/// Decodes one hunk line onto `out`; `None` if it is not one.
fn hunk_line(line: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let (&length, text) = line.split_first()?;
    let length = match length {
        b'A'..=b'Z' => usize::from(length - b'A') + 1,
        b'a'..=b'z' => usize::from(length - b'a') + 27,
        _ => return None,
    };
    if text.len() != length.div_ceil(4) * 5 {
        return None;
    }
    let mut digits = Vec::with_capacity(text.len());
    for &c in text {
        match RFC1924_DIGITS[c as usize] {
            255 => return None,
            digit => digits.push(digit),
        }
    }
    let before = out.len();
    decode_digits(&digits, out)?;
    out.truncate(before + length);
    Some(())
}

/// Reads a delta's size header (7 bits a byte, least significant first).
fn varint(delta: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *delta.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Applies a git delta to `base`, or without a base keeps only the inserted bytes; stops at
/// [`RUN_BUDGET`] bytes (the flag says so) or at a malformed instruction.
fn apply_delta(base: Option<&[u8]>, delta: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    if varint(delta, &mut at).is_none() || varint(delta, &mut at).is_none() {
        return (out, false);
    }
    while let Some(&op) = delta.get(at) {
        at += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    let Some(&byte) = delta.get(at) else {
                        return (out, false);
                    };
                    offset |= usize::from(byte) << (8 * bit);
                    at += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    let Some(&byte) = delta.get(at) else {
                        return (out, false);
                    };
                    size |= usize::from(byte) << (8 * bit);
                    at += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            if let Some(base) = base {
                let Some(piece) = base.get(offset..offset.saturating_add(size)) else {
                    return (out, false);
                };
                out.extend_from_slice(piece);
            }
        } else if op != 0 {
            let Some(piece) = delta.get(at..at + usize::from(op)) else {
                return (out, false);
            };
            out.extend_from_slice(piece);
            at += usize::from(op);
        } else {
            return (out, false);
        }
        if out.len() > RUN_BUDGET {
            out.truncate(RUN_BUDGET);
            return (out, true);
        }
    }
    (out, false)
}

impl GitBinaryRuns {
    pub(crate) fn new() -> GitBinaryRuns {
        GitBinaryRuns {
            state: State::Idle,
            literal: None,
            pending: None,
        }
    }

    /// The patch ended: a delta with no literal to apply it to keeps its inserts.
    fn end_patch(&mut self, sink: &mut Sink) {
        self.literal = None;
        if let Some((offset, encoded_len, delta)) = self.pending.take() {
            let (bytes, truncated) = apply_delta(None, &delta);
            sink.offer(DecodedRun {
                encoding: "git-binary-delta-inserts",
                offset,
                encoded_len,
                bytes,
                truncated,
                map: Vec::new(),
            });
        }
    }

    /// The hunk in progress ended just before `end`.
    fn end_hunk(&mut self, end: u64, sink: &mut Sink) {
        let State::Hunk(hunk) = std::mem::replace(&mut self.state, State::Header) else {
            return;
        };
        if hunk.broken {
            self.state = State::Idle;
        }
        let limit = hunk.size.min(RUN_BUDGET as u64 + 1);
        let mut inflated = Vec::new();
        let mut decoder = flate2::read::ZlibDecoder::new(&hunk.zlib[..]).take(limit);
        // A corrupt stream still yields what inflated before the damage.
        let _ = decoder.read_to_end(&mut inflated);
        let truncated = inflated.len() as u64 > RUN_BUDGET as u64;
        inflated.truncate(RUN_BUDGET);
        let encoded_len = end - hunk.start;
        let mut offer = |encoding, bytes, truncated| {
            sink.offer(DecodedRun {
                encoding,
                offset: hunk.start,
                encoded_len,
                bytes,
                truncated,
                map: Vec::new(),
            })
        };
        match (hunk.kind, &self.literal) {
            (Kind::Literal, _) => {
                if let Some((_, _, delta)) = self.pending.take() {
                    let (bytes, cut) = apply_delta(Some(&inflated), &delta);
                    offer("git-binary-delta", bytes, cut);
                }
                self.literal = Some(inflated.clone());
                offer("git-binary-literal", inflated, truncated);
            }
            (Kind::Delta, Some(base)) => {
                let (bytes, cut) = apply_delta(Some(base), &inflated);
                offer("git-binary-delta", bytes, truncated | cut);
            }
            (Kind::Delta, None) => {
                if truncated {
                    let (bytes, cut) = apply_delta(None, &inflated);
                    offer("git-binary-delta-inserts", bytes, truncated | cut);
                } else {
                    // Two deltas: neither side is here; the first keeps its inserts.
                    if let Some((offset, encoded_len, delta)) = self.pending.take() {
                        let (bytes, cut) = apply_delta(None, &delta);
                        sink.offer(DecodedRun {
                            encoding: "git-binary-delta-inserts",
                            offset,
                            encoded_len,
                            bytes,
                            truncated: cut,
                            map: Vec::new(),
                        });
                    }
                    self.pending = Some((hunk.start, encoded_len, inflated));
                }
            }
        }
        if self.state_is_idle() {
            self.end_patch(sink);
        }
    }

    fn state_is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }
}

/// A patch starts at its `GIT binary patch` line.
const PATCH_MARK: &[Atom] = &[Atom::Literal(b"GIT binary patch")];

impl LineFinder for GitBinaryRuns {
    fn atoms(&self) -> &[Atom] {
        PATCH_MARK
    }

    fn wake(&self) -> Wake {
        if self.state_is_idle() {
            Wake::Atoms
        } else {
            Wake::Always
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let text = line
            .within(MAX_LINE)
            .map(|text| text.strip_suffix(b"\r").unwrap_or(text));
        match (&mut self.state, text) {
            (State::Hunk(hunk), Some(text)) if !text.is_empty() => {
                let damaged =
                    hunk.zlib.len() < RUN_BUDGET && hunk_line(text, &mut hunk.zlib).is_none();
                if damaged {
                    hunk.broken = true;
                    self.end_hunk(line.start, sink);
                }
            }
            (State::Hunk(_), _) => self.end_hunk(line.start, sink),
            (State::Header, Some(text)) => match hunk_header(text) {
                Some((kind, size)) => {
                    self.state = State::Hunk(Hunk {
                        kind,
                        start: line.start,
                        size,
                        zlib: Vec::new(),
                        broken: false,
                    })
                }
                None => {
                    self.state = State::Idle;
                    self.end_patch(sink);
                }
            },
            (_, Some(b"GIT binary patch")) => {
                self.end_patch(sink);
                self.state = State::Header;
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.end_hunk(end, sink);
        self.end_patch(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::apply_delta;

    #[test]
    fn a_delta_is_applied_or_its_inserts_kept() {
        // Sizes 6 and 9; copy 6 bytes from offset 0; insert "xyz".
        let delta = [6, 9, 0x90, 6, 3, b'x', b'y', b'z'];
        assert_eq!(apply_delta(Some(b"abcdef"), &delta).0, b"abcdefxyz");
        assert_eq!(apply_delta(None, &delta).0, b"xyz");
    }
}
