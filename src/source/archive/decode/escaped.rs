//! Lines of escaped text decoded in blocks, with an exact map back to the leaf: the shared
//! machinery of the backslash ([`super::backslash`]) and percent ([`super::percent`]) layers.
//!
//! The automaton already matches a secret under one known escaping (a JSON string, one
//! level of percent-encoding). What it cannot see is an escaping it did not generate (an
//! arbitrary character as `\x41` or `\101`, a Java `.properties` value continued on the next
//! line, `printf %q` output) and escapings applied twice (`%2541`). So every line holding an
//! escape is decoded, consecutive such lines form one block (a run of at most [`GROUP`]
//! decoded bytes, cut at a line end), and the block goes through the pipeline again, where
//! the same layers apply to what is still escaped.
//!
//! Decoding records, after every escape, where the next decoded byte came from in the leaf
//! ([`DecodedRun::map`]), so the leaf's own hits inside the block map exactly onto the
//! decoded bytes and nothing the automaton already reported is reported twice.

use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink};

/// Decoded bytes after which a block ends at the next line end.
const GROUP: usize = 1 << 20;
/// Most map entries kept per block; past it, offsets are mapped from the last entry.
const MAP_ENTRIES: usize = 1 << 16;

/// A block's decoded bytes and where they came from.
pub(crate) struct Decoded {
    pub bytes: Vec<u8>,
    map: Vec<(u64, u64)>,
}

impl Decoded {
    pub(crate) fn new() -> Decoded {
        Decoded {
            bytes: Vec::new(),
            map: Vec::new(),
        }
    }

    /// The next decoded byte comes from leaf offset `leaf`.
    pub(crate) fn mark(&mut self, leaf: u64) {
        if self.map.len() < MAP_ENTRIES {
            self.map.push((self.bytes.len() as u64, leaf));
        }
    }
}

/// How a decoder reads a line.
pub(crate) struct Escaping {
    pub encoding: &'static str,
    /// What a line must hold for [`has_escape`](Escaping::has_escape) to hold (see
    /// [`super::wake`]): the escape in text.
    pub wake: Atom,
    /// Whether a line holds an escape this decoder reads.
    pub has_escape: fn(&[u8]) -> bool,
    /// Decodes a line (its first byte at leaf offset `at`) onto `out`, marking where the
    /// bytes after each escape come from; returns whether the line ends in a continuation
    /// (the next line joins it, its leading blanks dropped).
    pub decode: fn(line: &[u8], at: u64, out: &mut Decoded) -> bool,
}

struct Block {
    start: u64,
    decoded: Decoded,
    /// Some line decoded to other bytes than it holds. A block whose escapes all stay as
    /// they are (`\ud800`, a lone surrogate in a JavaScript regex; an unknown escape) is
    /// the leaf's own bytes again: inspected, it would decode to itself once more, level
    /// after level, down to the nesting limit and a false `limit-exceeded` gap.
    changed: bool,
}

/// Whether a line is text: escapes are written in text, and a backslash or `%` among binary
/// bytes (a compressed stream cut at its newline bytes) is no escape.
fn is_text(line: &[u8]) -> bool {
    line.iter()
        .all(|&b| (b >= 0x20 && b != 0x7f) || matches!(b, b'\t' | b'\x0c' | 0x1b))
}

pub(crate) struct EscapedRuns {
    escaping: Escaping,
    block: Option<Block>,
    continued: bool,
    /// No line without this starts a block.
    wake: [Atom; 1],
}

impl EscapedRuns {
    pub(crate) fn new(escaping: Escaping) -> EscapedRuns {
        EscapedRuns {
            wake: [escaping.wake],
            escaping,
            block: None,
            continued: false,
        }
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some(block) = self.block.take().filter(|block| block.changed) {
            sink.offer(DecodedRun {
                encoding: self.escaping.encoding,
                offset: block.start,
                encoded_len: end - block.start,
                bytes: block.decoded.bytes,
                truncated: false,
                map: block.decoded.map,
            });
        }
    }
}

impl LineFinder for EscapedRuns {
    fn atoms(&self) -> &[Atom] {
        &self.wake
    }

    fn wake(&self) -> Wake {
        if self.block.is_none() && !self.continued {
            Wake::Atoms
        } else {
            Wake::Always
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let mut text = line.text;
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        // The cheap search for an escape first: most lines have none, and then whether they
        // are text does not matter.
        if !self.continued && !(self.escaping.has_escape)(text) {
            self.emit(line.start, sink);
            return;
        }
        if !is_text(text) {
            self.continued = false;
            self.emit(line.start, sink);
            return;
        }
        let mut at = line.start;
        if self.continued {
            let blanks = text
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            text = &text[blanks..];
            at += blanks as u64;
        }
        let block = self.block.get_or_insert_with(|| Block {
            start: line.start,
            decoded: Decoded::new(),
            changed: false,
        });
        if !self.continued && !block.decoded.bytes.is_empty() {
            block.decoded.bytes.push(b'\n');
        }
        block.decoded.mark(at);
        let before = block.decoded.bytes.len();
        self.continued = (self.escaping.decode)(text, at, &mut block.decoded);
        block.changed |= self.continued || block.decoded.bytes[before..] != *text;
        // A piece of a long line is a block of its own: the next piece repeats its last
        // bytes, so an escape cut in two here is read whole there.
        if line.cut {
            self.continued = false;
            self.emit(line.end, sink);
        } else if !self.continued && block.decoded.bytes.len() >= GROUP {
            self.emit(line.end, sink);
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}
