//! A terminal-normalised view of text, for logs.
//!
//! CI logs are terminal output: colour codes (`ESC[31m`), hyperlinks and titles (OSC
//! `ESC]...BEL`), GitLab's `ESC[0K` section markers and `\r` progress redraws can sit in
//! the middle of a secret, so the raw bytes never contain it. [`TerminalView`] sees every
//! byte of a stream once (as the raw scan's observer), removes escape sequences and bare
//! `\r` (a `\r\n` line ending stays), and matches the result. Each normalised byte
//! remembers its raw offset, so a hit is reported at its raw offset, line and column.
//!
//! The raw scan still runs on the raw bytes, so nothing it finds is lost, and a view hit
//! that spans no removed byte is the raw scan's hit again and is dropped: only matches that
//! removal made visible are added. Memory is one window, as for the raw scan; a window with
//! nothing removed is not matched at all, so plain files cost a byte search and a copy.
//! Escape sequences never swallow a newline and are capped in length, so a stray `ESC`
//! cannot hide the rest of a line or a file.
//!
//! Logs that went through JSON or a shell carry the escape byte written out: docker's
//! json-file driver and CI APIs write `\u001b[33m`, scripts `\x1b[33m`, `\033[33m` or
//! `\e[33m`. Those literal forms (followed by `[` or `]`) start a sequence exactly like the
//! byte does, and are removed with it.
//!
//! Binary content is not terminal output: the view turns itself off once the first 8 KiB
//! show more than one control byte (NUL and the like) in 16, so the `ESC` and `\r` bytes of
//! executables and images cost nothing. A single NUL, as logs sometimes hold (a truncated
//! write, a process that printed one), does not turn it off: deciding on one NUL, as
//! ripgrep does, would hide a colour-split secret in such a log.

use super::encodings::Edges;
use super::{Hit, Matcher};

const ESC: u8 = 0x1B;
/// Normalised bytes gathered before matching; the window is this plus the kept tail.
const CHUNK: usize = 256 << 10;
const MAX_CSI: usize = 64;
const MAX_STRING: usize = 4096;
/// Bytes looked at for control bytes before a stream is taken for text.
const BINARY_PROBE: u64 = 8 << 10;
/// Binary: more than one control byte in this many bytes of the probe.
const CONTROL_SHARE: u64 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// After `ESC`.
    Escape,
    /// `ESC [` ... final byte.
    Csi,
    /// `ESC ]`, `ESC P`, `ESC _`, `ESC ^`, `ESC X` ... `BEL` or `ESC \`.
    Text,
    /// `ESC` inside a string sequence: `\` ends it.
    TextEscape,
}

/// The normalised view of one stream; feed it every raw byte in order, then `finish`.
pub struct TerminalView<'m> {
    matcher: &'m Matcher,
    keep: usize,
    window: Vec<u8>,
    /// `(index in window, raw offset)`: each starts a run of bytes contiguous in the raw stream.
    runs: Vec<(usize, u64)>,
    floor: usize,
    raw: u64,
    state: State,
    sequence: usize,
    carriage_return: Option<u64>,
    newlines: u64,
    last_newline: Option<u64>,
    hits: Vec<Hit>,
    binary: bool,
    /// Control bytes seen in the probe so far.
    controls: u64,
    /// The end of the last read: a possible literal ESC form, waiting for the next read.
    held: Vec<u8>,
}

impl<'m> TerminalView<'m> {
    pub fn new(matcher: &'m Matcher) -> TerminalView<'m> {
        TerminalView {
            matcher,
            keep: matcher.span_needed(),
            window: Vec::new(),
            runs: Vec::new(),
            floor: 0,
            raw: 0,
            state: State::Ground,
            sequence: 0,
            carriage_return: None,
            newlines: 0,
            last_newline: None,
            hits: Vec::new(),
            binary: false,
            controls: 0,
            held: Vec::new(),
        }
    }

    /// Takes the next raw bytes of the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.binary {
            return;
        }
        let probed = self.raw + self.held.len() as u64;
        if probed < BINARY_PROBE {
            let probe = &bytes[..bytes.len().min((BINARY_PROBE - probed) as usize)];
            self.controls += count_controls(probe);
            if probed + probe.len() as u64 >= BINARY_PROBE {
                self.decide(BINARY_PROBE);
                if self.binary {
                    return;
                }
            }
        }
        if self.held.is_empty() {
            self.feed_part(bytes, false);
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(bytes);
            self.feed_part(&joined, false);
        }
    }

    /// Turns the view off if the probe held too many control bytes.
    fn decide(&mut self, probed: u64) {
        if self.controls * CONTROL_SHARE > probed {
            self.binary = true;
            self.window = Vec::new();
            self.runs = Vec::new();
            self.held = Vec::new();
        }
    }

    /// Normalises `bytes`, which start at raw offset `self.raw`; at the end of a read, a
    /// backslash that may start a literal ESC is held for the next one unless `last`.
    fn feed_part(&mut self, bytes: &[u8], last: bool) {
        let mut i = 0;
        let mut consumed = bytes.len();
        while i < bytes.len() {
            let at = self.raw + i as u64;
            if let Some(cr) = self.carriage_return.take() {
                if bytes[i] == b'\n' {
                    self.push(b"\r", cr);
                }
            }
            let byte = bytes[i];
            match self.state {
                State::Ground => {
                    let clean =
                        memchr::memchr3(ESC, b'\r', b'\\', &bytes[i..]).unwrap_or(bytes.len() - i);
                    if clean > 0 {
                        self.push(&bytes[i..i + clean], at);
                        i += clean;
                        continue;
                    }
                    if byte == b'\\' {
                        match escaped_esc(&bytes[i..], last) {
                            Escaped::Form(len) => {
                                self.state = State::Escape;
                                self.sequence = 1;
                                i += len;
                            }
                            Escaped::NotOne => {
                                self.push(b"\\", at);
                                i += 1;
                            }
                            Escaped::NeedMore => {
                                self.held = bytes[i..].to_vec();
                                consumed = i;
                                break;
                            }
                        }
                        continue;
                    }
                    if byte == ESC {
                        self.state = State::Escape;
                        self.sequence = 1;
                    } else {
                        self.carriage_return = Some(at);
                    }
                }
                _ if byte == b'\n' => {
                    // A sequence never spans lines: the newline is text.
                    self.state = State::Ground;
                    continue;
                }
                State::Escape => {
                    self.state = match byte {
                        b'[' => State::Csi,
                        b']' | b'P' | b'X' | b'^' | b'_' => State::Text,
                        0x20..=0x2F => State::Escape,
                        0x30..=0x7E => State::Ground,
                        _ => {
                            self.state = State::Ground;
                            continue;
                        }
                    };
                }
                State::Csi => match byte {
                    0x20..=0x3F if self.sequence < MAX_CSI => {}
                    0x40..=0x7E => self.state = State::Ground,
                    _ => {
                        self.state = State::Ground;
                        continue;
                    }
                },
                State::Text => match byte {
                    0x07 => self.state = State::Ground,
                    ESC => self.state = State::TextEscape,
                    _ if self.sequence < MAX_STRING => {}
                    _ => {
                        self.state = State::Ground;
                        continue;
                    }
                },
                State::TextEscape => {
                    if byte == b'\\' {
                        self.state = State::Ground;
                    } else {
                        self.state = State::Escape;
                        continue;
                    }
                }
            }
            self.sequence += 1;
            i += 1;
        }
        self.raw += consumed as u64;
    }

    /// Matches what is left and returns the hits only this view found.
    pub fn finish(mut self) -> Vec<Hit> {
        let probed = self.raw + self.held.len() as u64;
        if !self.binary && probed < BINARY_PROBE {
            self.decide(probed);
        }
        if self.binary {
            return Vec::new();
        }
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.feed_part(&held, true);
        }
        self.search(self.window.len());
        self.hits
    }

    /// Appends normalised bytes that start at raw offset `at`.
    fn push(&mut self, mut bytes: &[u8], mut at: u64) {
        let continues = self
            .runs
            .last()
            .is_some_and(|&(index, raw)| raw + (self.window.len() - index) as u64 == at);
        if self.runs.len() <= 1 && continues && self.window.len() + bytes.len() > self.keep {
            // Nothing removed in the window: no match here can be this view's own, so the
            // bytes are only counted for lines, and a tail is kept for what follows.
            let excess = self.window.len() + bytes.len() - self.keep;
            let from_window = excess.min(self.window.len());
            self.discard(from_window);
            let from_bytes = excess - from_window;
            self.count_lines(&bytes[..from_bytes], |i| at + i as u64);
            bytes = &bytes[from_bytes..];
            at += from_bytes as u64;
            self.runs = vec![(0, at - self.window.len() as u64)];
            self.floor = Edges::CONTEXT.min(self.window.len());
        } else if !continues {
            if self
                .runs
                .last()
                .is_some_and(|&(index, _)| index == self.window.len())
            {
                self.runs.pop();
            }
            self.runs.push((self.window.len(), at));
        }
        self.window.extend_from_slice(bytes);
        if self.window.len() >= self.keep + CHUNK {
            let cut = self.window.len() - self.keep + Edges::CONTEXT;
            self.search(cut);
            self.discard(self.window.len() - self.keep);
            self.floor = Edges::CONTEXT;
        }
    }

    /// Raw offset of window byte `index`.
    fn raw_at(&self, index: usize) -> u64 {
        let run = self
            .runs
            .partition_point(|&(start, _)| start <= index)
            .saturating_sub(1);
        let (start, raw) = self.runs[run];
        raw + (index - start) as u64
    }

    /// Matches starting in `floor..cut` that span removed bytes become hits.
    fn search(&mut self, cut: usize) {
        if self.runs.len() <= 1 || self.floor >= cut {
            return;
        }
        let mut found = Vec::new();
        self.matcher
            .for_each_match(&self.window, self.floor..cut, |pattern, start| {
                let len = self.matcher.pattern(pattern).len;
                found.push((start, len, pattern, None))
            });
        // Hash mode too: a ledger entry split or glued by a colour code is a candidate here.
        let complete = cut == self.window.len();
        for hit in self
            .matcher
            .candidate_hits(&self.window, self.floor..cut, complete)
        {
            found.push((
                hit.offset as usize,
                hit.len as usize,
                hit.pattern,
                hit.ledger,
            ));
        }
        for (start, len, pattern, ledger) in found {
            let first = self.raw_at(start);
            let last = self.raw_at(start + len - 1);
            if last - first + 1 == len as u64 {
                continue; // contiguous in the raw bytes: the raw scan reports it
            }
            let before = &self.window[..start];
            let line = self.newlines + bytecount::count(before, b'\n') as u64 + 1;
            let line_start = match memchr::memrchr(b'\n', before) {
                Some(newline) => self.raw_at(newline) + 1,
                None => self.last_newline.map_or(0, |n| n + 1),
            };
            self.hits.push(Hit {
                pattern,
                offset: first,
                len: last - first + 1,
                line,
                column: first - line_start + 1,
                ledger,
            });
        }
    }

    /// Drops the first `n` window bytes, counting their lines.
    fn discard(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let dropped: Vec<u8> = self.window.drain(..n).collect();
        let runs = std::mem::take(&mut self.runs);
        let raw_of = |index: usize| {
            let run = runs
                .partition_point(|&(start, _)| start <= index)
                .saturating_sub(1);
            runs.get(run)
                .map_or(0, |&(start, raw)| raw + (index - start) as u64)
        };
        self.count_lines(&dropped, raw_of);
        let first_kept = raw_of(n);
        let mut kept: Vec<(usize, u64)> = runs
            .iter()
            .filter(|&&(start, _)| start > n)
            .map(|&(start, raw)| (start - n, raw))
            .collect();
        if !self.window.is_empty() || kept.is_empty() {
            kept.insert(0, (0, first_kept));
        }
        self.runs = kept;
        self.runs.dedup_by_key(|run| run.0);
    }

    fn count_lines(&mut self, bytes: &[u8], raw_of: impl Fn(usize) -> u64) {
        self.newlines += bytecount::count(bytes, b'\n') as u64;
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            self.last_newline = Some(raw_of(last));
        }
    }
}

/// How many bytes of `bytes` are [`is_control`], sixteen at a time: the probe sees the
/// first 8 KiB of every leaf, which for most leaves is all of it, and a byte-by-byte count
/// cost more than the rest of the view.
fn count_controls(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(16);
    let mut count = 0;
    #[cfg(target_arch = "x86_64")]
    for chunk in &mut chunks {
        // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the chunk's 16 bytes.
        count += unsafe {
            use std::arch::x86_64::*;
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let eq = |byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
            let below_space = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
            let kept = _mm_or_si128(
                _mm_or_si128(
                    _mm_or_si128(eq(b'\t'), eq(b'\n')),
                    _mm_or_si128(eq(b'\r'), eq(0x0C)),
                ),
                _mm_or_si128(_mm_or_si128(eq(0x08), eq(0x07)), eq(ESC)),
            );
            let controls = _mm_or_si128(_mm_andnot_si128(kept, below_space), eq(0x7F));
            (_mm_movemask_epi8(controls) as u32).count_ones() as u64
        };
    }
    count
        + chunks
            .remainder()
            .iter()
            .filter(|&&b| is_control(b))
            .count() as u64
}

/// A byte that text does not hold (terminal output keeps tab, newline, `\r`, form feed,
/// backspace, ESC and BEL).
fn is_control(byte: u8) -> bool {
    (byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r' | 0x0C | 0x08 | 0x07 | ESC))
        || byte == 0x7F
}

enum Escaped {
    /// A literal ESC of this many bytes (the `[` or `]` after it is not counted).
    Form(usize),
    NotOne,
    /// The bytes end before it can be told.
    NeedMore,
}

/// Whether `bytes` (starting at a backslash) start with a literal ESC followed by `[` or
/// `]`. `last`: no more bytes follow.
fn escaped_esc(bytes: &[u8], last: bool) -> Escaped {
    const FORMS: [&[u8]; 6] = [b"\\u001b", b"\\u001B", b"\\x1b", b"\\x1B", b"\\033", b"\\e"];
    let mut need_more = false;
    for form in FORMS {
        if bytes.len() > form.len() {
            if bytes.starts_with(form) && matches!(bytes[form.len()], b'[' | b']') {
                return Escaped::Form(form.len());
            }
        } else if form.starts_with(bytes) {
            need_more = true;
        }
    }
    if need_more && !last {
        Escaped::NeedMore
    } else {
        Escaped::NotOne
    }
}

#[cfg(test)]
mod tests {

    /// The vectorised count agrees with a byte-by-byte one, for every byte value at every
    /// position of a chunk and in the remainder.
    #[test]
    fn controls_are_counted_as_byte_by_byte() {
        for byte in 0..=255u8 {
            for len in [1, 15, 16, 17, 40] {
                let mut bytes = vec![b'a'; len];
                for at in (0..len).step_by(3) {
                    bytes[at] = byte;
                }
                let expected = bytes.iter().filter(|&&b| super::is_control(b)).count() as u64;
                assert_eq!(super::count_controls(&bytes), expected, "{byte:#x} {len}");
            }
        }
    }
    use super::*;
    use crate::secret::Secret;

    fn hits_in(secret: &[u8], text: &[u8], step: usize) -> Vec<Hit> {
        let matcher = Matcher::new(&[Secret::new(secret.to_vec(), "t").unwrap()]).unwrap();
        let mut view = TerminalView::new(&matcher);
        for piece in text.chunks(step) {
            view.feed(piece);
        }
        view.finish()
    }

    const SECRET: &[u8] = b"glpat-Zq8VtR3mXc1LwB7";

    #[test]
    fn finds_a_secret_split_by_colour_codes_and_redraws() {
        let text = b"line one\n\x1b[32;1m$ echo\x1b[0m\nTOKEN=glpat-Zq8\x1b[0;33mVtR3m\x1b]8;;http://x\x07Xc1\rLwB7 done\n";
        for step in [1, 3, 7, 1000] {
            let hits = hits_in(SECRET, text, step);
            assert_eq!(hits.len(), 1, "step {step}");
            let at = memchr::memmem::find(text, b"glpat").unwrap() as u64;
            assert_eq!(hits[0].offset, at);
            assert_eq!((hits[0].line, hits[0].column), (3, 7));
        }
    }

    #[test]
    fn contiguous_and_masked_values_are_not_its_hits() {
        let text =
            b"\x1b[31mred\x1b[0m TOKEN=glpat-Zq8VtR3mXc1LwB7\r\nmasked: *** and [MASKED]\r\n";
        assert!(hits_in(SECRET, text, 5).is_empty());
    }

    #[test]
    fn a_stray_escape_does_not_swallow_lines() {
        let mut text = b"\x1b]unterminated title\n".to_vec();
        text.extend_from_slice(b"glpat-Zq8VtR\r3mXc1LwB7\n");
        let hits = hits_in(SECRET, &text, 4);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].column), (2, 1));
    }

    #[test]
    fn lines_and_offsets_hold_across_many_windows() {
        let mut text = Vec::new();
        for i in 0..60_000 {
            text.extend_from_slice(format!("\x1b[36m{i:>8}\x1b[0m some progress\r\n").as_bytes());
        }
        let at = text.len() as u64;
        text.extend_from_slice(b"  glpat-Zq8VtR3m\x1b[KXc1LwB7\n");
        for step in [4096, 1 << 20] {
            let hits = hits_in(SECRET, &text, step);
            assert_eq!(hits.len(), 1);
            assert_eq!(hits[0].offset, at + 2);
            assert_eq!((hits[0].line, hits[0].column), (60_001, 3));
        }
    }

    #[test]
    fn binary_content_is_not_terminal_output() {
        let mut bytes = b"\x7fELF\x02\x01\x01\x00".to_vec();
        bytes.extend_from_slice(b"glpat-Zq8VtR\x1b[0m3mXc1LwB7");
        assert!(hits_in(SECRET, &bytes, 3).is_empty());
    }

    #[test]
    fn a_rare_nul_does_not_turn_the_view_off() {
        let mut text = b"build started\0\n".to_vec();
        text.extend_from_slice(b"TOKEN=glpat-Zq8\x1b[0;33mVtR3mXc1LwB7\n");
        text.extend_from_slice(&b"ordinary line of output\n".repeat(500));
        for step in [3, 1 << 16] {
            assert_eq!(hits_in(SECRET, &text, step).len(), 1, "step {step}");
        }
    }

    #[test]
    fn literal_escape_forms_are_removed_too() {
        for form in ["\\u001b", "\\u001B", "\\x1b", "\\033", "\\e"] {
            let line = format!(
                "{{\"log\":\"TOKEN=glpat-Zq8{form}[33mVtR3m{form}[0mXc1LwB7\\n\",\"stream\":\"stdout\"}}\n"
            );
            for step in [1, 2, 5, 1000] {
                let hits = hits_in(SECRET, line.as_bytes(), step);
                assert_eq!(hits.len(), 1, "{form} step {step}");
                assert_eq!(hits[0].offset, line.find("glpat").unwrap() as u64);
            }
        }
        // A backslash that is no escape stays text.
        let hits = hits_in(SECRET, b"a\\b \\e glpat-Zq8\x1b[0mVtR3mXc1LwB7\\", 4);
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn plain_text_costs_no_matching() {
        let text = vec![b'a'; 3 << 20];
        assert!(hits_in(SECRET, &text, 1 << 16).is_empty());
    }
}
