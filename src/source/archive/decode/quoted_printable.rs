//! Quoted-printable (mail bodies, MIME parts): soft line breaks joined, `=XX` decoded.
//!
//! A block is a run of lines each ending in a soft line break (`=` before the newline),
//! plus the line that ends it; it is only decoded if it holds a soft break, since a line
//! with `=XX` but no break is one line the automaton reads (it knows no QP, but a secret
//! with no `=`, non-ASCII or long line needs no escape). Base64 padding looks like a soft
//! break, so a line ending in `==` is not one, and a block needs an `=XX` escape or two
//! soft breaks. Lines are at most 76 characters in
//! QP; a longer line is not a QP line.

use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink, RUN_BUDGET};

/// Longest line taken for QP (76 by the standard, with slack for `\r` and sloppy writers).
const MAX_LINE: usize = 1000;
pub(crate) struct QuotedPrintableRuns {
    block: Option<Block>,
}

struct Block {
    start: u64,
    decoded: Vec<u8>,
    truncated: bool,
    soft_breaks: usize,
    escapes: usize,
}

impl QuotedPrintableRuns {
    pub(crate) fn new() -> QuotedPrintableRuns {
        QuotedPrintableRuns { block: None }
    }

    /// The block ends with the line that ends at `end`.
    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some(block) = self.block.take() {
            // One soft break and no escape is as likely a base64 line's padding.
            if block.escapes == 0 && block.soft_breaks < 2 {
                return;
            }
            sink.offer(DecodedRun {
                encoding: "quoted-printable",
                offset: block.start,
                encoded_len: end - block.start,
                bytes: block.decoded,
                truncated: block.truncated,
                map: Vec::new(),
            });
        }
    }
}

/// A block starts at a soft line break: `=` before the newline.
const SOFT_BREAKS: &[Atom] = &[Atom::Literal(b"=\n"), Atom::Literal(b"=\r\n")];

impl LineFinder for QuotedPrintableRuns {
    fn atoms(&self) -> &[Atom] {
        SOFT_BREAKS
    }

    fn wake(&self) -> Wake {
        match self.block {
            None => Wake::Atoms,
            Some(_) => Wake::Always,
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let Some(mut text) = line.within(MAX_LINE) else {
            self.emit(line.end, sink);
            return;
        };
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        // A line ending in `==` is base64 padding: QP writes a literal `=` as `=3D`.
        let soft_break = text.ends_with(b"=") && !text.ends_with(b"==");
        if soft_break || self.block.is_some() {
            let block = self.block.get_or_insert_with(|| Block {
                start: line.start,
                decoded: Vec::new(),
                truncated: false,
                soft_breaks: 0,
                escapes: 0,
            });
            block.soft_breaks += usize::from(soft_break);
            let body = if soft_break {
                &text[..text.len() - 1]
            } else {
                text
            };
            decode_into(body, block);
            if !soft_break {
                self.emit(line.end, sink);
            }
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Decodes one line's body (soft break removed) onto the block, leniently: an `=` not
/// followed by two hex digits stays as it is.
fn decode_into(body: &[u8], block: &mut Block) {
    let mut at = 0;
    while at < body.len() {
        if block.decoded.len() >= RUN_BUDGET {
            block.truncated = true;
            return;
        }
        if body[at] == b'=' {
            if let (Some(high), Some(low)) = (
                body.get(at + 1).copied().and_then(hex_value),
                body.get(at + 2).copied().and_then(hex_value),
            ) {
                block.decoded.push(high << 4 | low);
                block.escapes += 1;
                at += 3;
                continue;
            }
        }
        block.decoded.push(body[at]);
        at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"sk_live_51Hx9QpT2vWm8RkZe4Lc";

    #[test]
    fn soft_line_breaks_are_joined_and_escapes_decoded() {
        // Python's quopri, as mail clients write it: 76-column lines with soft breaks.
        let mut body = b"Hello team,\r\nthe new key =E2=80=94 please rotate after use: ".to_vec();
        body.extend_from_slice(&b"x".repeat(10));
        let mut text = String::from_utf8(body).unwrap();
        text.push_str(&String::from_utf8_lossy(SECRET));
        text.push_str(" thanks\r\n");
        let mut encoded = String::new();
        for line in text.split("\r\n") {
            let mut width = 0;
            for ch in line.bytes() {
                if width == 75 {
                    encoded.push_str("=\r\n");
                    width = 0;
                }
                encoded.push(ch as char);
                width += 1;
            }
            encoded.push_str("\r\n");
        }
        let sample = format!(
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{encoded}"
        );
        assert!(memchr::memmem::find(sample.as_bytes(), SECRET).is_none());
        let places = scan_memory(SECRET, "mail.eml", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("mail.eml › quoted-printable@"),
            "{places:?}"
        );
    }
}
