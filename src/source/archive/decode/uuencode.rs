//! uuencode (`begin 644 name` ... `end`), as `uuencode` from sharutils and old mail and
//! Usenet tools write it.
//!
//! Each line of the body starts with its decoded length (a character from space to `M`, 0
//! to 45) and holds groups of four characters (space or backtick to `_`), three bytes each.
//! `uuencode -m` (`begin-base64`) writes plain base64 lines, which the base64 layer reads.

use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink, RUN_BUDGET};

/// Longest body line (61 characters, with slack).
const MAX_LINE: usize = 1024;

struct Block {
    start: u64,
    bytes: Vec<u8>,
    truncated: bool,
}

pub(crate) struct UuencodeRuns {
    block: Option<Block>,
}

/// `begin <octal mode> <name>`.
fn is_header(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"begin ") else {
        return false;
    };
    let mode = rest
        .iter()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    (3..=4).contains(&mode) && rest.get(mode) == Some(&b' ')
}

fn body_line(line: &[u8], out: &mut Vec<u8>) {
    let Some((&length, rest)) = line.split_first() else {
        return;
    };
    let length = usize::from(length.wrapping_sub(b' ') & 63);
    let mut produced = 0;
    for group in rest.chunks(4) {
        let mut value = 0u32;
        for i in 0..4 {
            let c = group.get(i).copied().unwrap_or(b'`');
            value = value << 6 | u32::from(c.wrapping_sub(b' ') & 63);
        }
        for shift in [16, 8, 0] {
            if produced < length {
                out.push((value >> shift) as u8);
                produced += 1;
            }
        }
    }
}

impl UuencodeRuns {
    pub(crate) fn new() -> UuencodeRuns {
        UuencodeRuns { block: None }
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some(block) = self.block.take() {
            sink.offer(DecodedRun {
                encoding: "uuencode",
                offset: block.start,
                encoded_len: end - block.start,
                bytes: block.bytes,
                truncated: block.truncated,
                map: Vec::new(),
            });
        }
    }
}

/// A block starts at its `begin MODE NAME` header.
const HEADER_MARK: &[Atom] = &[Atom::Literal(b"begin ")];

impl LineFinder for UuencodeRuns {
    fn atoms(&self) -> &[Atom] {
        HEADER_MARK
    }

    fn wake(&self) -> Wake {
        match self.block {
            None => Wake::Atoms,
            Some(_) => Wake::Always,
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let Some(mut text) = line.within(MAX_LINE) else {
            // A body line is never this long: the block ended before it.
            self.emit(line.start, sink);
            return;
        };
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        let Some(block) = &mut self.block else {
            if is_header(text) {
                self.block = Some(Block {
                    start: line.start,
                    bytes: Vec::new(),
                    truncated: false,
                });
            }
            return;
        };
        if text == b"end" {
            self.emit(line.end, sink);
        } else if block.bytes.len() >= RUN_BUDGET {
            block.truncated = true;
        } else {
            body_line(text, &mut block.bytes);
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}
