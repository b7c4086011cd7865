//! Long runs of plain hex digits: `xxd -p` (wrapped at 60 columns), `hexdump -ve '/1 "%02x"'`,
//! PostgreSQL `bytea` literals (`'\x1f8b...'`), `0x`-prefixed blobs (Solidity bytecode, SQL
//! Server `varbinary`), `.hex()` of Python bytes, and colon-separated bytes (`openssl ...
//! -text` dumps of keys and signatures, `bytes.hex(':')`, fingerprints, in either case).
//!
//! The automaton already matches the secret's own hex on one line, so this layer is for what
//! it cannot generate: chains (hex of gzip, of base64, of UTF-16), wrapped runs and colons.
//! The finder streams (it does not use the line splitter, so a run after megabytes of other
//! text on one line is still read): a token is a stretch of hex digits of one case (digits go
//! with either case; a token of both cases is an identifier or base64, not hex); a `\x` or
//! `0x` prefix ends before the token and needs nothing. A token that starts with a pair of
//! digits followed by `:` is colon-separated: it goes on while pairs and colons alternate
//! (a trailing colon, as `openssl` ends its lines, belongs to it), and a longer stretch
//! after a colon ends it and starts a token of its own (`ad:3f78...`). A token ended by a
//! line break (a newline, or a literal `\n` escape in a JSON string; `\r` is read
//! through), at least [`MIN_WIDTH`] digits wide, may be the first line of a wrapped block:
//! the next lines join it while they have the same width, case and separator (after any
//! indentation), and a shorter line or a closing quote or bracket ends it. Decoding carries
//! a nibble across lines and never fails.
//!
//! **Digests are not runs.** Git object ids (20 or 32 bytes), SHA-256 sums and the like are in
//! every tree; following each as a decoded run would cost an inspection apiece and find
//! nothing. A decoded run of at most [`DIGEST_MAX`] bytes (SHA-512's size) is kept only when
//! its bytes cannot be a digest: a compression magic number at its start, or text (UTF-8,
//! base64, UTF-16 of ASCII). A digest's bytes are uniform: 20 of them reading as text happens
//! about once in 10^6 digests, and 32 about once in 10^10. Longer runs are always kept. The
//! same guard holds for colon-separated fingerprints (`SHA256 Fingerprint=AB:CD:...`).

use super::{DecodedRun, Sink, RUN_BUDGET};

/// Narrowest line of a wrapped block (`xxd -p` writes 60, `od`-less scripts 32 to 128).
const MIN_WIDTH: usize = 16;
/// A single line longer than this is decoded as it streams, not held as text.
const LINE_FLUSH: usize = 64 << 10;
/// Decoded bytes up to which a run may be a digest (SHA-512).
const DIGEST_MAX: usize = 64;

/// What a byte is to the finder. Hex digits carry their case as bits, so a token's case is
/// the union of its digits'; every other class is a value with those three bits clear.
const DIGIT: u8 = 1;
const LOWER: u8 = 2;
const UPPER: u8 = 4;
const NEWLINE: u8 = 8;
const BLANK: u8 = 16;
const CARRIAGE_RETURN: u8 = 24;
const CLOSING: u8 = 32;
const COLON: u8 = 40;
const BACKSLASH: u8 = 48;
const OTHER: u8 = 56;
const HEX: u8 = DIGIT | LOWER | UPPER;
const MIXED: u8 = LOWER | UPPER;

const CLASSES: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'0'..=b'9' => DIGIT,
            b'a'..=b'f' => LOWER,
            b'A'..=b'F' => UPPER,
            b'\n' => NEWLINE,
            b' ' | b'\t' => BLANK,
            b'\r' => CARRIAGE_RETURN,
            b'"' | b'\'' | b'<' | b',' | b';' | b')' | b']' | b'}' | b'&' | b'`' => CLOSING,
            b':' => COLON,
            b'\\' => BACKSLASH,
            _ => OTHER,
        };
        byte += 1;
    }
    table
};

/// Bytes a token's text is made of: hex digits, and the colons between pairs. The skip over
/// idle bytes ([`next_stretch`]) looks for stretches of these, so that colon-separated runs,
/// whose digit stretches are two long, are not stepped over.
const STRETCH: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = CLASSES[byte] & HEX != 0 || CLASSES[byte] == COLON;
        byte += 1;
    }
    table
};

/// The case bits of `digits`.
fn case_of(digits: &[u8]) -> u8 {
    digits
        .iter()
        .fold(0, |case, &byte| case | CLASSES[byte as usize])
        & MIXED
}

fn nibble(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte.wrapping_sub(b'A').wrapping_add(10) & 0x0f,
    }
}

/// How a token ended (as in [`super::base64`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    LineBreak,
    /// A closing quote or bracket, or the end of the leaf: this line ends the block.
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
    /// Union of the case bits of its digits.
    case: u8,
    /// Its lines are colon-separated pairs.
    colon: bool,
    decoded: Vec<u8>,
    /// The high nibble of a byte whose low nibble is on the next line.
    high: Option<u8>,
    truncated: bool,
}

impl Block {
    fn new(start: u64, width: usize, colon: bool) -> Block {
        Block {
            start,
            end: start,
            width,
            case: 0,
            colon,
            decoded: Vec::new(),
            high: None,
            truncated: false,
        }
    }

    fn append(&mut self, line: &[u8], case: u8, end: u64) {
        self.case |= case;
        self.end = end;
        for &byte in line {
            let value = nibble(byte);
            match self.high.take() {
                None => self.high = Some(value),
                Some(high) if self.decoded.len() < RUN_BUDGET => {
                    self.decoded.push(high << 4 | value)
                }
                Some(_) => self.truncated = true,
            }
        }
    }

    /// Whether a line of `case` keeps the block one case, and one separator.
    fn takes(&self, case: u8, colon: bool) -> bool {
        (self.case | case) & MIXED != MIXED && self.colon == colon
    }

    fn emit(self, sink: &mut Sink) {
        if self.case & MIXED == MIXED || !could_be_more_than_a_digest(&self.decoded) {
            return;
        }
        sink.offer(DecodedRun {
            encoding: "hex",
            offset: self.start,
            encoded_len: self.end - self.start,
            bytes: self.decoded,
            truncated: self.truncated,
            map: Vec::new(),
        });
    }
}

/// Whether `bytes` are text: UTF-8 with no control characters but whitespace and NUL (the
/// high bytes of UTF-16 of ASCII). Random bytes seldom are: each byte is a printable ASCII
/// one less than half the time, and a high byte seldom starts a valid sequence.
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        text.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\0'))
    })
}

/// Magic numbers of the compressed formats a chain holds (gzip, zlib, bzip2, xz, zstd, lz4).
fn has_compression_magic(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 9] = [
        b"\x1f\x8b",
        b"\x78\x01",
        b"\x78\x5e",
        b"\x78\x9c",
        b"\x78\xda",
        b"BZh",
        b"\xfd7zXZ",
        b"\x28\xb5\x2f\xfd",
        b"\x04\x22\x4d\x18",
    ];
    MAGICS.iter().any(|magic| bytes.starts_with(magic))
}

/// See the module doc: a short run is followed only if it cannot be a digest.
fn could_be_more_than_a_digest(decoded: &[u8]) -> bool {
    decoded.len() > DIGEST_MAX || has_compression_magic(decoded) || is_text(decoded)
}

pub(crate) struct HexRuns {
    /// Hex digits of the current token.
    line: Vec<u8>,
    /// Union of the case bits of the current token.
    case: u8,
    /// The current token is colon-separated (it began with a pair and a colon).
    colon: bool,
    /// Digits since the current colon-separated token's last colon.
    pair: usize,
    /// A backslash was the last byte seen (an escape may follow in the next read).
    backslash: bool,
    line_start: u64,
    /// Offset just past the token's last digit.
    line_end: u64,
    block: Option<Block>,
    /// Fewest digits of a single-line run that could decode to the shortest pattern.
    min_chars: usize,
}

impl HexRuns {
    pub(crate) fn new(min_decoded: usize) -> HexRuns {
        HexRuns {
            line: Vec::new(),
            case: 0,
            colon: false,
            pair: 0,
            backslash: false,
            line_start: 0,
            line_end: 0,
            block: None,
            min_chars: (2 * min_decoded).max(MIN_WIDTH),
        }
    }

    fn idle(&self) -> bool {
        self.line.is_empty() && self.block.is_none()
    }

    fn push_digits(&mut self, digits: &[u8], case: u8, at: u64, sink: &mut Sink) {
        if self.colon {
            if self.pair + digits.len() > 2 {
                self.split_colon_token(digits, at, sink);
                return;
            }
            self.pair += digits.len();
        }
        if self.line.is_empty() {
            self.line_start = at;
        }
        self.line.extend_from_slice(digits);
        self.case |= case;
        self.line_end = at + digits.len() as u64;
        if self.line.len() >= LINE_FLUSH {
            self.flush_long_line(sink);
        }
    }

    /// A stretch of more than two digits after a colon: the colon-separated token ends at its
    /// last colon (`ad:` of `ad:3f78...`), and the stretch, whose first `self.pair` digits
    /// are already held, is a token of its own.
    fn split_colon_token(&mut self, digits: &[u8], at: u64, sink: &mut Sink) {
        let held = self.pair;
        let keep = self.line.len().saturating_sub(held);
        let mut stretch = self.line.split_off(keep);
        stretch.extend_from_slice(digits);
        let stretch_start = at.saturating_sub(held as u64);
        self.case = case_of(&self.line);
        self.line_end = stretch_start;
        self.end_token(End::Other, sink);
        self.line_start = stretch_start;
        self.case = case_of(&stretch);
        self.line.extend_from_slice(&stretch);
        self.line_end = at + digits.len() as u64;
        if self.line.len() >= LINE_FLUSH {
            self.flush_long_line(sink);
        }
    }

    /// A colon after the current token: part of it if it follows a pair.
    fn take_colon(&mut self, sink: &mut Sink) {
        let continues = if self.colon {
            self.pair == 2
        } else {
            self.line.len() == 2
        };
        if continues {
            self.colon = true;
            self.pair = 0;
        } else if !self.idle() {
            self.end_token(End::Other, sink);
        }
    }

    /// The byte after a backslash: `\n` is a line break (hex wrapped in a JSON string),
    /// `\r` is read through, anything else ends the token and is read as itself (the `x` of
    /// `\x1f8b`). Returns whether the byte was taken.
    fn escape(&mut self, byte: u8, sink: &mut Sink) -> bool {
        match byte {
            b'n' => self.end_token(End::LineBreak, sink),
            b'r' => {}
            _ => {
                if !self.idle() {
                    self.end_token(End::Other, sink);
                }
                return false;
            }
        }
        true
    }

    /// A very long line is one unwrapped run: decode it now instead of holding its text.
    /// The digits of a colon-separated token's last, unfinished stretch stay held, so that
    /// [`HexRuns::split_colon_token`] still has them if the stretch turns out longer.
    fn flush_long_line(&mut self, sink: &mut Sink) {
        let held = if self.colon { self.pair } else { 0 };
        let cut = self.line.len() - held.min(self.line.len());
        let end = self.line_end - (self.line.len() - cut) as u64;
        // Only a held stretch needs the cases counted apart.
        let (case, held_case) = if cut == self.line.len() {
            (std::mem::take(&mut self.case), 0)
        } else {
            (case_of(&self.line[..cut]), case_of(&self.line[cut..]))
        };
        match &mut self.block {
            Some(block) if block.width == 0 => block.append(&self.line[..cut], case, end),
            _ => {
                if let Some(block) = self.block.take() {
                    block.emit(sink);
                }
                let mut block = Block::new(self.line_start, 0, self.colon);
                block.append(&self.line[..cut], case, end);
                self.block = Some(block);
            }
        }
        self.line.drain(..cut);
        self.line_start = end;
        self.case = held_case;
    }

    /// The current token ended by `end`.
    fn end_token(&mut self, end: End, sink: &mut Sink) {
        let line = std::mem::take(&mut self.line);
        let case = std::mem::take(&mut self.case);
        let colon = std::mem::take(&mut self.colon);
        self.pair = 0;
        match self.block.take() {
            Some(mut block) if block.width == 0 => {
                // The rest of one long line.
                block.append(&line, case, self.line_end);
                block.emit(sink);
            }
            Some(mut block) => {
                let fits = line.len() <= block.width && block.takes(case, colon);
                match end {
                    End::LineBreak if line.is_empty() => block.emit(sink),
                    End::LineBreak if fits && line.len() == block.width => {
                        block.append(&line, case, self.line_end);
                        self.block = Some(block);
                    }
                    End::LineBreak | End::Closing if fits => {
                        block.append(&line, case, self.line_end);
                        block.emit(sink);
                    }
                    _ => {
                        block.emit(sink);
                        self.start_or_emit(&line, case, colon, end, sink);
                    }
                }
            }
            None => self.start_or_emit(&line, case, colon, end, sink),
        }
        self.line = line;
        self.line.clear();
    }

    /// A token with no open block: the first line of a block, or a run of its own.
    fn start_or_emit(&mut self, line: &[u8], case: u8, colon: bool, end: End, sink: &mut Sink) {
        if line.is_empty() || case & MIXED == MIXED {
            return;
        }
        let wraps = end == End::LineBreak && line.len() >= MIN_WIDTH;
        if !wraps && line.len() < self.min_chars {
            return;
        }
        let mut block = Block::new(self.line_start, line.len(), colon);
        block.append(line, case, self.line_end);
        if wraps {
            self.block = Some(block);
        } else {
            block.emit(sink);
        }
    }
}

/// With nothing open, the finder waits for a stretch of at least `shortest` hex digits and
/// colons (or one the read ends in, which may go on in the next read): returns where the
/// first such stretch at or after `from` starts, or `bytes.len()`. The search classifies 16
/// bytes per instruction ([`super::wake::first_hex_run`]): text, where most letters are hex
/// digits in short words, is passed over as fast as binary.
fn next_stretch(bytes: &[u8], from: usize, shortest: usize) -> usize {
    let hex = |i: usize| STRETCH[bytes[i] as usize];
    if shortest <= super::wake::BLOCK {
        if let Some(at) = super::wake::first_hex_run(&bytes[from..], shortest) {
            return from + at;
        }
    } else {
        let mut start = from;
        while start < bytes.len() {
            let len = (start..bytes.len()).take_while(|&i| hex(i)).count();
            if len >= shortest {
                return start;
            }
            start += len + 1;
        }
    }
    // None long enough: a shorter one the read ends in may go on in the next read.
    let mut start = bytes.len();
    while start > from && hex(start - 1) {
        start -= 1;
    }
    start
}

impl super::RunFinder for HexRuns {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        let shortest = MIN_WIDTH.min(self.min_chars);
        let mut i = 0;
        if self.backslash && !bytes.is_empty() {
            self.backslash = false;
            if self.escape(bytes[0], sink) {
                i = 1;
            }
        }
        while i < bytes.len() {
            if self.idle() {
                i = next_stretch(bytes, i, shortest);
                if i >= bytes.len() {
                    break;
                }
            }
            let class = CLASSES[bytes[i] as usize];
            if class & HEX != 0 {
                let from = i;
                let mut case = 0;
                while i < bytes.len() && CLASSES[bytes[i] as usize] & HEX != 0 {
                    case |= CLASSES[bytes[i] as usize];
                    i += 1;
                }
                // Short tokens in text: skip the copy unless the token can matter (a pair
                // before a colon may start a colon-separated run).
                if self.idle()
                    && i < bytes.len()
                    && i - from < shortest
                    && !(i - from == 2 && bytes[i] == b':')
                {
                    continue;
                }
                self.push_digits(&bytes[from..i], case & MIXED, at + from as u64, sink);
                continue;
            }
            match class {
                CARRIAGE_RETURN => {}
                NEWLINE => self.end_token(End::LineBreak, sink),
                BLANK => {
                    if !self.line.is_empty() {
                        self.end_token(End::Other, sink);
                    }
                }
                CLOSING => {
                    if !self.idle() {
                        self.end_token(End::Closing, sink);
                    }
                }
                COLON => self.take_colon(sink),
                BACKSLASH => {
                    if !self.idle() {
                        match bytes.get(i + 1) {
                            None => self.backslash = true,
                            Some(&next) => {
                                if self.escape(next, sink) {
                                    i += 1;
                                }
                            }
                        }
                    }
                }
                _ => {
                    if !self.idle() {
                        self.end_token(End::Other, sink);
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

    use super::super::testing::scan_memory;
    use super::super::{RunFinder, Sink};
    use super::HexRuns;

    const SECRET: &[u8] = b"sk_live_Q8vT2mX7pL4nR9sK1wZ6yB3c";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn payload() -> Vec<u8> {
        let mut text = b"# settings\nname = web\ntoken = ".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\nregion = eu\n");
        text
    }

    fn runs_in(text: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut finder = HexRuns::new(16);
        let mut sink = Sink::new(16);
        let mut at = 0;
        for piece in text.chunks(step) {
            finder.feed(piece, at, &mut sink);
            at += piece.len() as u64;
        }
        finder.finish(&mut sink);
        sink.runs.into_iter().map(|run| run.bytes).collect()
    }

    fn assert_found_under_hex(name: &str, sample: &[u8]) {
        assert!(memchr::memmem::find(sample, SECRET).is_none());
        let scanned = scan_memory(SECRET, name, sample);
        let places = scanned.places();
        assert_eq!(places.len(), 1, "{name}: {places:?}");
        assert!(
            places[0].0.starts_with(&format!("{name} › hex@")),
            "{places:?}"
        );
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    #[test]
    fn wrapped_plain_hex_is_joined_whatever_the_reads() {
        let encoded = hex(&payload());
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(60)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        let sample = format!("{}\n", wrapped.join("\n"));
        for step in [1, 7, 60, 4096] {
            assert_eq!(runs_in(sample.as_bytes(), step), [payload()], "step {step}");
        }
        let upper = format!("  {}\r\n", wrapped.join("\r\n  ").to_uppercase());
        assert_eq!(runs_in(upper.as_bytes(), 5), [payload()]);
        assert_found_under_hex("p.hex", sample.as_bytes());
    }

    #[test]
    fn hex_of_gzip_with_prefixes_is_followed() {
        let body = hex(&gzip(&payload()));
        for sample in [
            format!("{body}\n"),
            format!("INSERT INTO t VALUES ('\\x{body}');\n"),
            format!("bytecode = 0x{}\n", body.to_uppercase()),
        ] {
            assert_found_under_hex("dump.sql", sample.as_bytes());
        }
    }

    #[test]
    fn a_run_after_a_very_long_line_is_still_read() {
        let mut sample = vec![b'z'; 3 << 20];
        sample.push(b' ');
        sample.extend_from_slice(hex(&gzip(SECRET)).as_bytes());
        sample.push(b'\n');
        assert_found_under_hex("long.txt", &sample);
    }

    #[test]
    fn a_line_longer_than_the_flush_size_is_one_run() {
        let mut state = 0x1234_5678u32;
        let mut text: Vec<u8> = (0..120_000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b"abcdefghijklmnopqrstuvwxyz0123456789 \n"[(state >> 16) as usize % 38]
            })
            .collect();
        text.extend_from_slice(SECRET);
        let encoded = hex(&gzip(&text));
        assert!(encoded.len() > super::LINE_FLUSH);
        assert_found_under_hex("big.hex", format!("blob={encoded}\n").as_bytes());
    }

    #[test]
    fn short_non_ascii_text_is_not_taken_for_a_digest() {
        // 24 bytes of UTF-8 text, hex-wrapped at 32 columns: digest-sized, but text.
        let text = "clé=ünïcødé-sécrèt";
        let encoded = hex(text.as_bytes());
        let sample = format!("{}\n{}\n", &encoded[..32], &encoded[32..]);
        assert_eq!(runs_in(sample.as_bytes(), 3), [text.as_bytes().to_vec()]);
    }

    #[test]
    fn hex_wrapped_in_a_json_string_is_joined_whatever_the_reads() {
        let encoded = hex(&payload());
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(32)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        let sample = format!("{{\"data\": \"{}\\n\"}}", lines.join("\\r\\n"));
        for step in [1, 2, 33, 4096] {
            assert_eq!(runs_in(sample.as_bytes(), step), [payload()], "step {step}");
        }
        assert_found_under_hex("d.json", sample.as_bytes());
    }

    #[test]
    fn colon_separated_hex_is_joined_in_either_case_whatever_the_reads() {
        let colon = |bytes: &[u8]| -> Vec<String> {
            bytes
                .chunks(15)
                .map(|line| {
                    let pairs: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
                    pairs.join(":")
                })
                .collect()
        };
        let lines = colon(&payload());
        let openssl = format!("priv:\n    {}\npub:\n    00:11\n", lines.join(":\n    "));
        for step in [1, 3, 46, 4096] {
            assert_eq!(
                runs_in(openssl.as_bytes(), step),
                [payload()],
                "step {step}"
            );
        }
        let upper = format!("Fingerprint={}\n", colon(SECRET).join(":").to_uppercase());
        assert_eq!(runs_in(upper.as_bytes(), 5), [SECRET.to_vec()]);
        assert_found_under_hex("k.txt", openssl.as_bytes());
    }

    #[test]
    fn a_long_stretch_after_a_pair_and_a_colon_is_a_run_of_its_own() {
        let body = hex(&payload());
        for sample in [format!("ad:{body}\n"), format!("ab:cd:{body}\n")] {
            for step in [1, 2, 4096] {
                assert_eq!(runs_in(sample.as_bytes(), step), [payload()], "step {step}");
            }
        }
    }

    #[test]
    fn digests_uuids_and_mixed_case_are_not_runs() {
        let text = b"commit 3f786850e387550fdab836ed7e6dc881de23001b\n\
            sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  a.tar\n\
            id = 123e4567-e89b-12d3-a456-426614174000\n\
            sha512 cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\n\
            DeadBeefCafeBabe0123456789AbCdEf0123456789DeadBeefCafeBabe012345\n\
            SHA256 Fingerprint=9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08\n\
            ether 00:1a:2b:3c:4d:5e inet6 fe80::1ff:fe23:4567:890a at 12:34:56\n\
            {\"sha\": \"3f786850e387550fdab836ed7e6dc881de23001b\\n9f86d081884c7d659a2feaa0c55ad015\\n\"}\n";
        assert!(runs_in(text, 9).is_empty());
    }
}
