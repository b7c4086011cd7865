//! Ascii85 (Adobe): `<~ ... ~>` blocks (Python's `base64.a85encode(adobe=True)`,
//! PostScript) and PDF streams whose filter is `/ASCII85Decode` (`/A85`), which end in
//! `~>` without an opening `<~`.
//!
//! Characters `!` to `u` are digits, `z` stands for four zero bytes, blanks and line breaks
//! are ignored. A PDF stream is usually also `/FlateDecode`d: decoded bytes that start with
//! a zlib header are inflated here (the carving detector only looks for zlib in binary
//! content), and the run is named `ascii85-flate`.

use std::io::Read;

use super::base85::decode_digits;
use super::lines::{Line, LineFinder};
use super::{DecodedRun, Sink, RUN_BUDGET};

struct Block {
    start: u64,
    digits: Vec<u8>,
    bytes: Vec<u8>,
    truncated: bool,
}

pub(crate) struct Ascii85Runs {
    /// Whether the leaf is a PDF (`None` before its first line): only then are filters
    /// looked for.
    pdf: Option<bool>,
    /// A PDF dictionary naming the filter was seen; its `stream` has not begun yet.
    armed: bool,
    block: Option<Block>,
}

/// What a line did to a block being read.
enum Outcome {
    Continues,
    /// `~>` (or `endstream`) ended it.
    Ended,
    /// A character that is not Ascii85: not a block after all.
    Invalid,
}

fn read_into(text: &[u8], block: &mut Block) -> Outcome {
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'!'..=b'u' => block.digits.push(c - b'!'),
            b'z' if block.digits.len().is_multiple_of(5) => block.digits.extend_from_slice(&[0; 5]),
            b'~' => return Outcome::Ended,
            b' ' | b'\t' | b'\r' | b'\x0c' | 0 => {}
            _ if text[i..].starts_with(b"endstream") => return Outcome::Ended,
            _ => return Outcome::Invalid,
        }
        if block.digits.len() >= 5 << 12 {
            flush(block, false);
        }
    }
    Outcome::Continues
}

/// Decodes the whole groups held (all of them at the end).
fn flush(block: &mut Block, last: bool) {
    let whole = if last {
        block.digits.len()
    } else {
        block.digits.len() / 5 * 5
    };
    if block.bytes.len() >= RUN_BUDGET {
        block.truncated = true;
    } else {
        // A group past 2^32 is damage; what decoded before it is kept.
        let _ = decode_digits(&block.digits[..whole], &mut block.bytes);
    }
    block.digits.drain(..whole);
}

/// A zlib header (CMF, FLG) at the start of `bytes`.
fn starts_zlib(bytes: &[u8]) -> bool {
    matches!(bytes, [cmf, flg, ..] if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0)
}

impl Ascii85Runs {
    pub(crate) fn new() -> Ascii85Runs {
        Ascii85Runs {
            pdf: None,
            armed: false,
            block: None,
        }
    }

    fn begin(&mut self, start: u64) {
        self.block = Some(Block {
            start,
            digits: Vec::new(),
            bytes: Vec::new(),
            truncated: false,
        });
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        let Some(mut block) = self.block.take() else {
            return;
        };
        flush(&mut block, true);
        let mut encoding = "ascii85";
        let mut bytes = block.bytes;
        if starts_zlib(&bytes) {
            let mut inflated = Vec::new();
            let mut decoder =
                flate2::read::ZlibDecoder::new(&bytes[..]).take(RUN_BUDGET as u64 + 1);
            // What inflated before any damage is kept.
            let _ = decoder.read_to_end(&mut inflated);
            if !inflated.is_empty() {
                block.truncated |= inflated.len() > RUN_BUDGET;
                inflated.truncate(RUN_BUDGET);
                bytes = inflated;
                encoding = "ascii85-flate";
            }
        }
        sink.offer(DecodedRun {
            encoding,
            offset: block.start,
            encoded_len: end.saturating_sub(block.start),
            bytes,
            truncated: block.truncated,
            map: Vec::new(),
        });
    }

    fn read(&mut self, text: &[u8], line: &Line, sink: &mut Sink) {
        let Some(block) = &mut self.block else {
            return;
        };
        match read_into(text, block) {
            Outcome::Continues => {}
            Outcome::Ended => self.emit(line.end, sink),
            Outcome::Invalid => self.block = None,
        }
    }
}

impl LineFinder for Ascii85Runs {
    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let pdf = *self
            .pdf
            .get_or_insert_with(|| line.text.starts_with(b"%PDF"));
        // A block open across the cut of a long line reads on after the repeated bytes;
        // any block that began in them was already read to its end in the piece before.
        let text = &line.text[line.repeated..];
        if self.block.is_some() {
            self.read(text, line, sink);
            return;
        }
        let opening = memchr::memchr_iter(b'~', text)
            .find(|&at| at > 0 && text[at - 1] == b'<')
            .map(|at| at - 1);
        if let Some(open) = opening {
            self.begin(line.start + open as u64);
            self.read(&text[open + 2..], line, sink);
            return;
        }
        if !pdf {
            return;
        }
        if memchr::memmem::find(text, b"/ASCII85Decode").is_some()
            || memchr::memmem::find(text, b"/A85").is_some()
        {
            self.armed = true;
        }
        if self.armed {
            if let Some(at) = memchr::memmem::find(text, b"stream") {
                let rest = &text[at + 6..];
                if rest.trim_ascii().is_empty() {
                    self.armed = false;
                    self.begin(line.end);
                } else if !text[..at].ends_with(b"end") {
                    self.armed = false;
                }
            }
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}
