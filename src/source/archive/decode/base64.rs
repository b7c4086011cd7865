//! Base64 and base64url runs, wrapped at any width, indented, or with `\n` escapes.
//!
//! The finder reads tokens of the base64 alphabet (both alphabets: `+/` and `-_`). A token
//! ended by a line break (a newline, or a literal `\n` escape in a JSON string; `\r` and
//! JSON's `\/` are read through) may be the first line of a wrapped block: the next lines
//! are joined to it while they have the same width (a multiple of 4, at least
//! [`MIN_WIDTH`]) after any indentation, and the block ends with a shorter line, padding,
//! or a closing quote. A line that ends otherwise (a YAML `key:`, a space) is not part of
//! the block. Runs made only of letters and `/-_` (words, paths, identifiers), or only of hex digits (left to the hex
//! layer), and runs too short to decode to the shortest pattern are not decoded. Decoding
//! is lenient and streaming: it carries its bits across lines and never fails.

use super::base32::Base32Chars;
use super::{DecodedRun, Sink, RUN_BUDGET};

/// Narrowest line of a wrapped block.
const MIN_WIDTH: usize = 16;
/// Fewest characters of a run worth decoding, whatever the patterns.
const MIN_CHARS: usize = 20;
/// A run with only letters, `/`, `-` and `_` is taken for words, a path or an identifier
/// unless it is at least this long.
const WORDLIKE_MIN: usize = 64;
/// A single line longer than this is decoded as it streams, not held as text.
const LINE_FLUSH: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Other,
    Alphabet,
    Pad,
    Newline,
    Blank,
    CarriageReturn,
    Backslash,
}

const CLASSES: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_' => Class::Alphabet,
            b'=' => Class::Pad,
            b'\n' => Class::Newline,
            b' ' | b'\t' => Class::Blank,
            b'\r' => Class::CarriageReturn,
            b'\\' => Class::Backslash,
            _ => Class::Other,
        };
        byte += 1;
    }
    table
};

/// How a token ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    LineBreak,
    /// Padding, a closing quote or bracket, or the end of the leaf: the block ends here and
    /// this line belongs to it.
    Closing,
    /// Anything else: this line is not part of a block.
    Other,
}

/// A block of accepted lines, decoded as it grows.
struct Block {
    start: u64,
    end: u64,
    /// Width of its lines (0: one long line that cannot be continued).
    width: usize,
    chars: usize,
    /// Only letters and the separators of paths and identifiers (`/`, `-`, `_`).
    wordlike: bool,
    hex_only: bool,
    decoded: Vec<u8>,
    bits: u32,
    bit_count: u8,
    truncated: bool,
    /// The same characters, while they could be base32.
    base32: Base32Chars,
}

impl Block {
    fn new(start: u64, width: usize) -> Block {
        Block {
            start,
            end: start,
            width,
            chars: 0,
            wordlike: true,
            hex_only: true,
            decoded: Vec::new(),
            bits: 0,
            bit_count: 0,
            truncated: false,
            base32: Base32Chars::new(),
        }
    }

    fn append(&mut self, line: &[u8], end: u64) {
        self.base32.push(line);
        self.chars += line.len();
        self.end = end;
        if self.wordlike {
            self.wordlike = line
                .iter()
                .all(|&b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'-' | b'_'));
        }
        if self.hex_only {
            self.hex_only = line.iter().all(u8::is_ascii_hexdigit);
        }
        for &byte in line {
            let value = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'+' | b'-' => 62,
                _ => 63,
            };
            self.bits = (self.bits << 6) | u32::from(value);
            self.bit_count += 6;
            if self.bit_count >= 8 {
                self.bit_count -= 8;
                if self.decoded.len() < RUN_BUDGET {
                    self.decoded.push((self.bits >> self.bit_count) as u8);
                } else {
                    self.truncated = true;
                }
            }
        }
    }

    fn worth_decoding(&self) -> bool {
        self.chars >= MIN_CHARS && !self.hex_only && !(self.wordlike && self.chars < WORDLIKE_MIN)
    }

    fn emit(mut self, sink: &mut Sink) {
        std::mem::replace(&mut self.base32, Base32Chars::new()).emit(self.start, self.end, sink);
        if !self.worth_decoding() {
            return;
        }
        sink.offer(DecodedRun {
            encoding: "base64",
            offset: self.start,
            encoded_len: self.end - self.start,
            bytes: self.decoded,
            truncated: self.truncated,
            map: Vec::new(),
        });
    }
}

pub(crate) struct Base64Runs {
    /// Alphabet characters of the current token.
    line: Vec<u8>,
    line_start: u64,
    /// Offset just past the token's last character.
    line_end: u64,
    block: Option<Block>,
    /// A backslash was the last byte seen (an escape may follow in the next read).
    backslash: bool,
    min_chars: usize,
}

impl Base64Runs {
    pub(crate) fn new(min_decoded: usize) -> Base64Runs {
        Base64Runs {
            line: Vec::new(),
            line_start: 0,
            line_end: 0,
            block: None,
            backslash: false,
            min_chars: MIN_CHARS.max((min_decoded * 4).div_ceil(3)),
        }
    }

    fn push_alphabet(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        if self.line.is_empty() {
            self.line_start = at;
        }
        self.line.extend_from_slice(bytes);
        self.line_end = at + bytes.len() as u64;
        if self.line.len() >= LINE_FLUSH {
            self.flush_long_line(sink);
        }
    }

    /// A very long line is one unwrapped run: decode it now instead of holding its text.
    fn flush_long_line(&mut self, sink: &mut Sink) {
        let line = std::mem::take(&mut self.line);
        match &mut self.block {
            Some(block) if block.width == 0 => block.append(&line, self.line_end),
            _ => {
                if let Some(block) = self.block.take() {
                    block.emit(sink);
                }
                let mut block = Block::new(self.line_start, 0);
                block.append(&line, self.line_end);
                self.block = Some(block);
            }
        }
        self.line = line;
        self.line.clear();
    }

    /// The current token ended by `end`.
    fn end_token(&mut self, end: End, sink: &mut Sink) {
        let line = std::mem::take(&mut self.line);
        let line_end = self.line_end;
        if let Some(mut block) = self.block.take() {
            let fits = block.width > 0 && line.len() <= block.width;
            match end {
                _ if block.width == 0 => {
                    // The rest of one long line.
                    block.append(&line, line_end);
                    block.emit(sink);
                    self.line = line;
                    self.line.clear();
                    return;
                }
                End::LineBreak if line.is_empty() => block.emit(sink),
                End::LineBreak if line.len() == block.width => {
                    block.append(&line, line_end);
                    self.block = Some(block);
                }
                End::LineBreak | End::Closing if fits => {
                    block.append(&line, line_end);
                    block.emit(sink);
                }
                _ => {
                    block.emit(sink);
                    self.start_or_emit(&line, end, sink);
                }
            }
        } else {
            self.start_or_emit(&line, end, sink);
        }
        self.line = line;
        self.line.clear();
    }

    /// A token with no open block: the first line of a block, or a run of its own.
    fn start_or_emit(&mut self, line: &[u8], end: End, sink: &mut Sink) {
        if line.is_empty() {
            return;
        }
        let mut block = Block::new(self.line_start, line.len());
        let wraps =
            end == End::LineBreak && line.len() >= MIN_WIDTH && line.len().is_multiple_of(4);
        if !wraps && line.len() < self.min_chars {
            return;
        }
        block.append(line, self.line_end);
        if wraps {
            self.block = Some(block);
        } else if block.chars >= self.min_chars {
            block.emit(sink);
        }
    }

    fn escape(&mut self, byte: u8, at: u64, sink: &mut Sink) -> bool {
        match byte {
            b'n' => self.end_token(End::LineBreak, sink),
            b'r' => {}
            b'/' => self.push_alphabet(b"/", at, sink),
            _ => {
                self.end_token(End::Other, sink);
                return false;
            }
        }
        true
    }
}

impl super::RunFinder for Base64Runs {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        let mut i = 0;
        if self.backslash && !bytes.is_empty() {
            self.backslash = false;
            if self.escape(bytes[0], at, sink) {
                i = 1;
            }
        }
        while i < bytes.len() {
            let class = CLASSES[bytes[i] as usize];
            if class == Class::Alphabet {
                let from = i;
                while i < bytes.len() && CLASSES[bytes[i] as usize] == Class::Alphabet {
                    i += 1;
                }
                // Ordinary words are short: skip the copy unless the token can matter.
                if self.line.is_empty() && self.block.is_none() && i < bytes.len() {
                    let next = CLASSES[bytes[i] as usize];
                    if i - from < MIN_WIDTH.min(self.min_chars)
                        && matches!(next, Class::Blank | Class::Other)
                    {
                        continue;
                    }
                }
                self.push_alphabet(&bytes[from..i], at + from as u64, sink);
                continue;
            }
            match class {
                Class::Alphabet | Class::CarriageReturn => {}
                Class::Pad => {
                    if !self.line.is_empty() || self.block.is_some() {
                        self.end_token(End::Closing, sink);
                    }
                }
                Class::Newline => self.end_token(End::LineBreak, sink),
                Class::Blank => {
                    if !self.line.is_empty() {
                        self.end_token(End::Other, sink);
                    }
                }
                Class::Backslash => match bytes.get(i + 1) {
                    None => self.backslash = true,
                    Some(&next) => {
                        if self.escape(next, at + i as u64 + 1, sink) {
                            i += 1;
                        }
                    }
                },
                Class::Other => {
                    let end = match bytes[i] {
                        b'"' | b'\'' | b'<' | b',' | b';' | b')' | b']' | b'}' | b'&' => {
                            End::Closing
                        }
                        _ => End::Other,
                    };
                    if !self.line.is_empty() || self.block.is_some() {
                        self.end_token(end, sink);
                    }
                }
            }
            i += 1;
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        self.end_token(End::Closing, sink);
        if let Some(block) = self.block.take() {
            block.emit(sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine;

    use super::super::testing::scan_memory;
    use super::super::{RunFinder, Sink};
    use super::Base64Runs;

    const SECRET: &[u8] = b"hvs.CAESIJx7Lq0Zt2Wm9KpR4s";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn wrap(text: &str, width: usize, indent: &str, newline: &str) -> String {
        text.as_bytes()
            .chunks(width)
            .map(|line| format!("{indent}{}", String::from_utf8_lossy(line)))
            .collect::<Vec<_>>()
            .join(newline)
    }

    fn assert_not_raw(sample: &[u8]) {
        assert!(memchr::memmem::find(sample, SECRET).is_none());
    }

    /// A payload long enough to wrap, with the secret in the middle.
    fn config() -> Vec<u8> {
        let mut text = b"# generated\n".repeat(12);
        text.extend_from_slice(b"password = ");
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\nmore = settings that pad the block out\n");
        text
    }

    #[test]
    fn yaml_block_wrapped_at_60_and_72_is_decoded() {
        for width in [60, 72] {
            let body = wrap(&b64(&config()), width, "    ", "\n");
            let sample = format!("apiVersion: v1\ndata:\n  app.conf: |\n{body}\n  other: x\n");
            assert_not_raw(sample.as_bytes());
            let scanned = scan_memory(SECRET, "secret.yaml", sample.as_bytes());
            let places = scanned.places();
            assert_eq!(places.len(), 1, "width {width}: {places:?}");
            assert!(
                places[0].0.starts_with("secret.yaml › base64@"),
                "{places:?}"
            );
            assert_eq!(places[0].1, "raw");
            assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        }
    }

    #[test]
    fn base64_of_gzip_is_followed_into_the_gzip() {
        let body = wrap(&b64(&gzip(&config())), 76, "", "\n");
        let sample =
            format!("#cloud-config\nwrite_files:\n- encoding: gz+b64\n  content: {body}\n");
        assert_not_raw(sample.as_bytes());
        let places = scan_memory(SECRET, "user-data", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        // Compression layers add no element to a chain: the finding is in the base64 run.
        assert!(places[0].0.starts_with("user-data › base64@"), "{places:?}");
        assert_eq!(places[0].1, "raw");
    }

    #[test]
    fn helm_release_chain_base64_base64_gzip_json() {
        let mut release = b"{\"name\":\"web\",\"config\":{\"values\":{\"token\":\"".to_vec();
        release.extend_from_slice(SECRET);
        release.extend_from_slice(b"\"}}}");
        let inner = b64(&gzip(&release));
        let outer = b64(inner.as_bytes());
        let sample = format!("{{\"data\":{{\"release\":\"{outer}\"}},\"kind\":\"Secret\"}}");
        assert_not_raw(sample.as_bytes());
        let places = scan_memory(SECRET, "release.json", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        let chain = &places[0].0;
        assert!(chain.starts_with("release.json › base64@"), "{chain}");
        assert_eq!(chain.matches("base64@").count(), 2, "{chain}");
    }

    #[test]
    fn json_string_with_newline_escapes_is_joined() {
        let body = wrap(&b64(&config()), 64, "", "\\n");
        let sample = format!("{{\"cert\":\"{body}\\n\",\"x\":1}}");
        assert_not_raw(sample.as_bytes());
        assert_eq!(runs_in(sample.as_bytes(), 5), [config()]);
        let places = scan_memory(SECRET, "c.json", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
    }

    #[test]
    fn a_single_encoding_the_automaton_finds_is_reported_once() {
        let sample = format!("token: {}\n", b64(SECRET));
        assert_not_raw(sample.as_bytes());
        let places = scan_memory(SECRET, "t.yaml", sample.as_bytes()).places();
        assert_eq!(places, [("t.yaml".to_string(), "base64".to_string())]);
        // Wrapped at 76 (also forward-encoded): still one finding, the automaton's.
        let body = wrap(&b64(&config()), 76, "", "\n");
        let places = scan_memory(SECRET, "m.txt", body.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert_eq!(places[0].0, "m.txt", "{places:?}");
    }

    #[test]
    fn two_occurrences_in_one_run_are_two_findings() {
        // One is aligned so the automaton sees it; the other sits across a 60-column wrap.
        let mut text = SECRET.to_vec();
        text.extend_from_slice(&b"-".repeat(200));
        text.extend_from_slice(SECRET);
        text.extend_from_slice(&b"-".repeat(40));
        let body = wrap(&b64(&text), 60, "", "\n");
        let places = scan_memory(SECRET, "two.txt", body.as_bytes()).places();
        assert_eq!(places.len(), 2, "{places:?}");
    }

    fn runs_in(text: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut finder = Base64Runs::new(16);
        let mut sink = Sink::new(16);
        let mut at = 0;
        for piece in text.chunks(step) {
            finder.feed(piece, at, &mut sink);
            at += piece.len() as u64;
        }
        finder.finish(&mut sink);
        sink.runs.into_iter().map(|run| run.bytes).collect()
    }

    #[test]
    fn ordinary_text_and_code_are_not_decoded() {
        let text = b"The quick brown fox jumps over the lazy dog. fn scan_member(walk: &Walk) {\n\
            let commit = 3f786850e387550fdab836ed7e6dc881de23001b;\n\
            see https://example.com/some/long/path/of/words/here\n\
            Internationalization and localization considerations\n";
        assert!(runs_in(text, 7).is_empty());
    }

    #[test]
    fn runs_are_found_whatever_the_reads() {
        let payload = config();
        let body = wrap(&b64(&payload), 64, "  ", "\r\n");
        let sample = format!("key: |\r\n{body}\r\n  next: 1\r\n");
        for step in [1, 3, 64, 4096] {
            let runs = runs_in(sample.as_bytes(), step);
            assert_eq!(runs.len(), 1, "step {step}");
            assert_eq!(runs[0], payload, "step {step}");
        }
    }
}
