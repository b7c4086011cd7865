//! Ascii85 (Adobe): `<~ ... ~>` blocks (Python's `base64.a85encode(adobe=True)`,
//! PostScript), PDF streams whose filter is `/ASCII85Decode` (`/A85`), which end in `~>`
//! without an opening `<~`, and undelimited tokens (Python's `base64.a85encode` by default,
//! one line with no delimiters, as in `data: 6"=Kn...`).
//!
//! Characters `!` to `u` are digits, `z` stands for four zero bytes, blanks and line breaks
//! are ignored. A PDF stream is usually also `/FlateDecode`d: decoded bytes that start with
//! a zlib header are inflated here (the carving detector only looks for zlib in binary
//! content), and the run is named `ascii85-flate`.
//!
//! The Ascii85 alphabet is most of printable ASCII, so an undelimited token (a stretch of
//! it between other bytes) is only decoded when plain prose and code tokens could hardly be
//! one ([`is_token_candidate`]): at least [`TOKEN_MIN_CHARS`] long (and enough to decode to
//! the shortest pattern), mixing cases, digits and punctuation, and with every `z` where a
//! group starts. Then a trial decode of its first groups must give a compression magic or
//! mostly printable text ([`decodes_plausibly`]); a token of words or base64 decodes to
//! noise and is dropped before the rest of it is decoded.
//!
//! **Wrapped tokens.** `base64.a85encode(data, wrapcol=N)` cuts its output into lines of `N`
//! characters, which no single-line token reading can join. So lines made only of the
//! alphabet (after any indentation; prose has spaces, base64 has `v` to `y`, neither is
//! one) of one width, at least [`WRAP_MIN_WIDTH`], are held as one candidate [`Wrapped`]
//! block, ended by a shorter line (its last) or any other line. Its joined characters are
//! judged as one undelimited token, with the same guards. Each line is also read as a token
//! of its own when the joined block is not taken, or when it may be a list of separate
//! values (all lines of one width that is not a whole number of groups): two runs over the
//! same bytes report a secret once (see [`super::follow`]). A block whose first groups do
//! not decode plausibly (an `xxd -p` dump, paths) is given up as soon as they are read,
//! and its lines are read one by one, so it is never held whole.

use std::io::Read;

use super::base85::decode_digits;
use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink, RUN_BUDGET};

struct Block {
    start: u64,
    digits: Vec<u8>,
    bytes: Vec<u8>,
    truncated: bool,
}

/// Fewest characters of an undelimited token (20 decoded bytes).
const TOKEN_MIN_CHARS: usize = 25;
/// Groups decoded for the trial of an undelimited token.
const TRIAL_GROUPS: usize = 16;
/// Characters a held block needs for its trial (the groups, after the longest skip of
/// [`token_starts`]).
const TRIAL_CHARS: usize = TRIAL_GROUPS * 5 + 12;
/// Narrowest line of a wrapped token.
const WRAP_MIN_WIDTH: usize = 16;
/// Widest line taken for a line of a wrapped token (`wrapcol` is a line length).
const WRAP_MAX_WIDTH: usize = 4096;
/// Most characters of a wrapped token held (what decodes to [`RUN_BUDGET`]); the lines
/// after them are read one by one.
const WRAP_MAX_CHARS: usize = RUN_BUDGET / 4 * 5;

/// Lines of one width, all of the alphabet, that may be one wrapped undelimited token.
struct Wrapped {
    width: usize,
    /// The lines' characters, joined.
    text: Vec<u8>,
    /// Per line: the leaf offset of its first character, and its end in `text`.
    lines: Vec<(u64, usize)>,
    /// Leaf offset past the last line's characters.
    end: u64,
    /// The last line taken was shorter than the others (so the block is not a list of
    /// values of one width).
    short_last: bool,
    /// Its first groups were trial-decoded.
    tried: bool,
    /// They did not decode plausibly: its lines are read one by one.
    rejected: bool,
    /// Lines past [`WRAP_MAX_CHARS`] were read one by one, not joined.
    full: bool,
}

pub(crate) struct Ascii85Runs {
    /// Fewest characters of an undelimited token worth decoding.
    token_min_chars: usize,
    /// Outside a PDF and a block: an opening `<~`, or an undelimited token (a run of at
    /// least `token_min_chars` graphic bytes).
    wake: [Atom; 3],
    /// Whether the leaf is a PDF (`None` before its first line): only then are filters
    /// looked for.
    pdf: Option<bool>,
    /// A PDF dictionary naming the filter was seen; its `stream` has not begun yet.
    armed: bool,
    block: Option<Block>,
    wrapped: Option<Wrapped>,
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

/// Decodes what `block` holds and hands it on (inflated if it is a zlib stream).
fn offer(mut block: Block, end: u64, sink: &mut Sink) {
    flush(&mut block, true);
    let mut encoding = "ascii85";
    let mut bytes = block.bytes;
    if starts_zlib(&bytes) {
        let mut inflated = Vec::new();
        let mut decoder = flate2::read::ZlibDecoder::new(&bytes[..]).take(RUN_BUDGET as u64 + 1);
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

impl Ascii85Runs {
    pub(crate) fn new(min_decoded: usize) -> Ascii85Runs {
        Ascii85Runs {
            token_min_chars: TOKEN_MIN_CHARS.max((min_decoded * 5).div_ceil(4)),
            wake: [
                Atom::Literal(b"<~"),
                Atom::GraphicRun(TOKEN_MIN_CHARS.max((min_decoded * 5).div_ceil(4))),
                Atom::WholeLineRun(WRAP_MIN_WIDTH),
            ],
            pdf: None,
            armed: false,
            block: None,
            wrapped: None,
        }
    }

    fn begin(&mut self, start: u64, sink: &mut Sink) {
        self.end_wrapped(sink);
        self.block = Some(Block {
            start,
            digits: Vec::new(),
            bytes: Vec::new(),
            truncated: false,
        });
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some(block) = self.block.take() {
            offer(block, end, sink);
        }
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

/// A byte of an undelimited Ascii85 token.
#[inline(always)]
fn is_token_byte(byte: u8) -> bool {
    TOKEN_BYTES[byte as usize]
}

/// [`is_token_byte`] as a table: every line of every leaf is searched for tokens, and one
/// load per byte is cheaper than two range compares.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(byte as u8, b'!'..=b'u' | b'z');
        byte += 1;
    }
    table
};

/// Whether a token mixes character classes as encoded bytes do: upper and lower case,
/// digits, and punctuation (about a third of the alphabet; words, identifiers and paths
/// have little or none).
fn is_token_candidate(token: &[u8]) -> bool {
    let (mut upper, mut lower, mut digit, mut punct) = (false, false, false, 0);
    for &b in token {
        match b {
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            _ => punct += 1,
        }
    }
    upper && lower && digit && punct >= 3 && punct * 8 >= token.len()
}

/// The digits of `chars` (`z` as five zero digits), at most about `limit` of them; `None`
/// if a `z` sits inside a group (not Ascii85).
fn token_digits(chars: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut digits = Vec::with_capacity(chars.len().min(limit) + 5);
    for &c in chars {
        if digits.len() >= limit {
            break;
        }
        if c == b'z' {
            if !digits.len().is_multiple_of(5) {
                return None;
            }
            digits.extend_from_slice(&[0; 5]);
        } else {
            digits.push(c - b'!');
        }
    }
    Some(digits)
}

/// Whether the first decoded bytes of a token are what encoded data starts with: a
/// compression or archive magic, or mostly printable text.
fn decodes_plausibly(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 8] = [
        b"\x1f\x8b",
        b"\x28\xb5\x2f\xfd",
        b"BZh",
        b"\xfd7zXZ\x00",
        b"\x04\x22\x4d\x18",
        b"PK\x03\x04",
        b"7z\xbc\xaf",
        b"\x89PNG",
    ];
    if MAGICS.iter().any(|magic| bytes.starts_with(magic)) || starts_zlib(bytes) {
        return true;
    }
    let printable = bytes
        .iter()
        .filter(|&&b| matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r'))
        .count();
    !bytes.is_empty() && printable * 10 >= bytes.len() * 9
}

/// Unless `bytes` are a gzip stream, true; if they are, whether it inflates without error.
///
/// `\` and `"` are Ascii85 digits, so a token inside an escaped string is read twice: in
/// its leaf as written, and in the run the backslash layer decoded. Only one of the two is
/// the encoder's output; the other starts with the same gzip header and then breaks. That
/// one is dropped here rather than reported as a damaged stream, since its twin is read.
fn gzip_intact(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"\x1f\x8b") {
        return true;
    }
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(RUN_BUDGET as u64);
    std::io::copy(&mut decoder, &mut std::io::sink()).is_ok()
}

/// Where in a token its encoded text may begin: at its start, or after one of the first
/// quote, `=`, `:` or bracket characters (all in the alphabet, so `key="...` is one token).
fn token_starts(token: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let prefix = &token[..token.len().min(12)];
    std::iter::once(0).chain(
        prefix
            .iter()
            .enumerate()
            .filter(|&(_, &b)| matches!(b, b'"' | b'\'' | b'=' | b':' | b'(' | b'['))
            .map(|(i, _)| i + 1)
            .take(3),
    )
}

/// Where the encoded text of a token that begins at `skip` ends: before the closing quote or
/// bracket that matches the one before it (and a `,` or `;` after that), else at its end. A
/// closing quote read as a digit would complete the last partial group into a wrong one.
fn token_end(token: &[u8], skip: usize) -> usize {
    let closer = match skip.checked_sub(1).map(|at| token[at]) {
        Some(b'"') => b'"',
        Some(b'\'') => b'\'',
        Some(b'(') => b')',
        Some(b'[') => b']',
        _ => return token.len(),
    };
    let mut end = token.len();
    while end > skip && matches!(token[end - 1], b',' | b';') {
        end -= 1;
    }
    if end > skip && token[end - 1] == closer {
        end - 1
    } else {
        token.len()
    }
}

impl Ascii85Runs {
    /// Offers the undelimited tokens of a line that starts at leaf offset `start`.
    /// The tokens of `line` (all of its text: a token is judged whole, so across the cut of
    /// a long line one running into the cut is read in the next piece, and one that ends in
    /// the bytes that piece repeats was read in this one).
    // Inlined into the one hot call (a line of prose, no block held): it is most of the
    // finder's time there.
    #[inline(always)]
    fn tokens(&self, line: &Line, sink: &mut Sink) {
        let text = line.text;
        let start = line.start;
        // A token is at least `window` long: look at the last byte of the next window
        // first, and from a byte outside the alphabet jump past it (prose is short words
        // and spaces, so most bytes are never looked at).
        let window = self.token_min_chars;
        let mut from = 0;
        while from + window <= text.len() {
            match text[from..from + window]
                .iter()
                .rposition(|&b| !is_token_byte(b))
            {
                Some(separator) => from += separator + 1,
                None => {
                    let len = text[from..]
                        .iter()
                        .take_while(|&&b| is_token_byte(b))
                        .count();
                    let end = from + len;
                    let at_cut = line.cut && end == text.len();
                    let read_before = end < line.repeated;
                    if !at_cut && !read_before {
                        self.token(&text[from..end], start + from as u64, None, sink);
                    }
                    from = end + 1;
                }
            }
        }
    }

    /// One token at leaf offset `start`: decoded and offered if it passes the guards.
    /// `span_end` is where it ends in the leaf if that is not `start` plus its length (a
    /// wrapped token). Returns whether it was offered.
    fn token(&self, token: &[u8], start: u64, span_end: Option<u64>, sink: &mut Sink) -> bool {
        if !is_token_candidate(token) {
            return false;
        }
        for skip in token_starts(token) {
            let chars = &token[skip..token_end(token, skip)];
            if chars.len() < self.token_min_chars {
                continue;
            }
            let Some(trial_digits) = token_digits(chars, TRIAL_GROUPS * 5) else {
                continue;
            };
            let mut trial = Vec::new();
            if decode_digits(&trial_digits, &mut trial).is_none() || !decodes_plausibly(&trial) {
                continue;
            }
            let Some(digits) = token_digits(chars, usize::MAX) else {
                continue;
            };
            let mut check = Vec::new();
            // A group past 2^32 anywhere: not Ascii85.
            if decode_digits(&digits, &mut check).is_none() || !gzip_intact(&check) {
                continue;
            }
            let begin = start + skip as u64;
            let block = Block {
                start: begin,
                digits: Vec::new(),
                bytes: check,
                truncated: false,
            };
            let end = span_end.unwrap_or(begin + chars.len() as u64);
            offer(block, end, sink);
            return true;
        }
        false
    }
}

/// Whether `text` may be the first line of a wrapped token: after any indentation, at least
/// [`WRAP_MIN_WIDTH`] bytes of the alphabet (the rest is checked by [`wrap_body`]).
#[inline]
fn could_start_a_block(text: &[u8]) -> bool {
    let indent = text
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let Some(window) = text.get(indent..indent + WRAP_MIN_WIDTH) else {
        return false;
    };
    // All sixteen looked up, without an early exit: a branch per byte, taken or not at
    // random in binary, cost more than the lookups (measured).
    window
        .iter()
        .fold(true, |all, &b| all & TOKEN_BYTES[b as usize])
}

/// The characters of a line that may be a line of a wrapped token, and the offset of the
/// first of them in the line: all of it but indentation and a `\r`, if that is only the
/// alphabet.
fn wrap_body<'a>(line: &Line<'a>) -> Option<(usize, &'a [u8])> {
    let text = line.within(WRAP_MAX_WIDTH)?;
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let indent = text
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let body = &text[indent..];
    (!body.is_empty() && body.iter().all(|&b| is_token_byte(b))).then_some((indent, body))
}

impl Ascii85Runs {
    /// A line outside any delimited block: a line of a wrapped token, or read for tokens.
    fn undelimited(&mut self, line: &Line, sink: &mut Sink) {
        // Most lines are prose or code, with no block open: the first byte that is neither
        // indentation nor of the alphabet (a space after the first word) settles it.
        if self.wrapped.is_none() && !could_start_a_block(line.text) {
            self.tokens(line, sink);
            return;
        }
        self.wrap_line(line, sink);
    }

    /// A line that may start or go on with a held block. Kept out of line: inlined, it
    /// slowed the token search every other line takes (by about half, measured).
    #[inline(never)]
    fn wrap_line(&mut self, line: &Line, sink: &mut Sink) {
        let body = wrap_body(line);
        if let Some(wrapped) = &mut self.wrapped {
            match body {
                Some((indent, body)) if body.len() <= wrapped.width => {
                    let start = line.start + indent as u64;
                    let last = body.len() < wrapped.width;
                    wrapped.short_last = last;
                    wrapped.end = start + body.len() as u64;
                    let one_by_one = wrapped.rejected || wrapped.text.len() >= WRAP_MAX_CHARS;
                    let mut doubtful = false;
                    if one_by_one {
                        wrapped.full |= !wrapped.rejected;
                    } else {
                        wrapped.text.extend_from_slice(body);
                        wrapped.lines.push((start, wrapped.text.len()));
                        if !wrapped.tried && wrapped.text.len() >= TRIAL_CHARS {
                            wrapped.tried = true;
                            doubtful = !plausible_start(&wrapped.text);
                        }
                    }
                    if one_by_one {
                        self.tokens(&body_line(body, start), sink);
                    }
                    if doubtful {
                        self.reject_wrapped(sink);
                    }
                    if last {
                        self.end_wrapped(sink);
                    }
                    return;
                }
                _ => self.end_wrapped(sink),
            }
        }
        match body {
            Some((indent, body)) if body.len() >= WRAP_MIN_WIDTH => {
                let start = line.start + indent as u64;
                self.wrapped = Some(Wrapped {
                    width: body.len(),
                    text: body.to_vec(),
                    lines: vec![(start, body.len())],
                    end: start + body.len() as u64,
                    short_last: false,
                    tried: false,
                    rejected: false,
                    full: false,
                });
            }
            _ => self.tokens(line, sink),
        }
    }

    /// The held block's first groups do not decode plausibly: its lines so far are read
    /// one by one, and so will the rest of its lines be.
    fn reject_wrapped(&mut self, sink: &mut Sink) {
        let Some(mut wrapped) = self.wrapped.take() else {
            return;
        };
        wrapped.rejected = true;
        self.lines_one_by_one(&wrapped, sink);
        wrapped.text = Vec::new();
        wrapped.lines = Vec::new();
        self.wrapped = Some(wrapped);
    }

    /// The held block ended: judged as one token, and its lines each as one of their own
    /// when it is not taken or may be a list of values.
    fn end_wrapped(&mut self, sink: &mut Sink) {
        let Some(wrapped) = self.wrapped.take() else {
            return;
        };
        if wrapped.rejected {
            return;
        }
        let joined = wrapped.lines.len() > 1
            && wrapped.lines.first().is_some_and(|&(start, _)| {
                self.token(&wrapped.text, start, Some(wrapped.end), sink)
            });
        let list_of_values = !wrapped.short_last && !wrapped.width.is_multiple_of(5);
        // Lines past the cap were read one by one as they came.
        if !joined || list_of_values {
            self.lines_one_by_one(&wrapped, sink);
        }
    }

    /// Each held line of `wrapped`, read for tokens as a line of its own.
    fn lines_one_by_one(&self, wrapped: &Wrapped, sink: &mut Sink) {
        let mut from = 0;
        for &(start, end) in &wrapped.lines {
            self.tokens(&body_line(&wrapped.text[from..end], start), sink);
            from = end;
        }
    }
}

/// The characters of a held line as a [`Line`] of their own, starting at leaf offset
/// `start`.
fn body_line(body: &[u8], start: u64) -> Line<'_> {
    Line {
        text: body,
        start,
        end: start + body.len() as u64,
        repeated: 0,
        cut: false,
    }
}

/// Whether the start of a held block's joined characters (at least [`TRIAL_CHARS`]) may be
/// Ascii85: the trial decode of its first [`TRIAL_GROUPS`] groups, from one of the places a
/// token may begin, is plausible.
fn plausible_start(text: &[u8]) -> bool {
    token_starts(text).any(|skip| {
        token_digits(&text[skip..], TRIAL_GROUPS * 5).is_some_and(|digits| {
            let mut trial = Vec::new();
            decode_digits(&digits, &mut trial).is_some() && decodes_plausibly(&trial)
        })
    })
}

impl LineFinder for Ascii85Runs {
    fn atoms(&self) -> &[Atom] {
        &self.wake
    }

    fn wake(&self) -> Wake {
        let inside = self.block.is_some() || self.wrapped.is_some() || self.armed;
        if !inside && self.pdf == Some(false) {
            Wake::Atoms
        } else {
            Wake::Always
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let pdf = *self
            .pdf
            .get_or_insert_with(|| line.text.starts_with(b"%PDF"));
        // A block open across the cut of a long line reads on after the repeated bytes;
        // any block that began in them was already read to its end in the piece before.
        let text = &line.text[line.repeated..];
        let text_start = line.start + line.repeated as u64;
        if self.block.is_some() {
            self.read(text, line, sink);
            return;
        }
        let opening = memchr::memchr_iter(b'~', text)
            .find(|&at| at > 0 && text[at - 1] == b'<')
            .map(|at| at - 1);
        if let Some(open) = opening {
            self.begin(text_start + open as u64, sink);
            self.read(&text[open + 2..], line, sink);
            return;
        }
        self.undelimited(line, sink);
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
                    self.begin(line.end, sink);
                } else if !text[..at].ends_with(b"end") {
                    self.armed = false;
                }
            }
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.end_wrapped(sink);
        self.emit(end, sink);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"sk_live_7Hq2Zp9Lm3Rt8Wx4Vb6Nc1Kd";

    /// Python's `base64.a85encode` (no delimiters, `z` for a group of zeros).
    fn a85(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(4) {
            let mut group = [0u8; 4];
            group[..chunk.len()].copy_from_slice(chunk);
            let mut value = u32::from_be_bytes(group);
            if value == 0 && chunk.len() == 4 {
                out.push('z');
                continue;
            }
            let mut digits = [0u8; 5];
            for digit in digits.iter_mut().rev() {
                *digit = (value % 85) as u8 + b'!';
                value /= 85;
            }
            out.extend(digits[..chunk.len() + 1].iter().map(|&d| d as char));
        }
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn payload() -> Vec<u8> {
        let mut text = b"[service]\nuser = deploy\napi_key = ".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\nregion = eu-west-1\n");
        text
    }

    #[test]
    fn undelimited_tokens_of_gzip_and_of_text_are_decoded() {
        let gzipped = a85(&gzip(&payload()));
        let text = a85(&payload());
        let cases = [
            ("data: gzip", format!("data: {gzipped}\n")),
            ("json", format!("{{\"blob\": \"{gzipped}\"}}\n")),
            ("assignment", format!("BLOB={text}\n")),
            (
                "escaped in a JSON string",
                format!(
                    "{{\"blob\": \"{}\"}}\n",
                    gzipped.replace('\\', "\\\\").replace('"', "\\\"")
                ),
            ),
        ];
        for (name, sample) in cases {
            assert!(memchr::memmem::find(sample.as_bytes(), SECRET).is_none());
            let scanned = scan_memory(SECRET, "a.txt", sample.as_bytes());
            let places = scanned.places();
            assert_eq!(places.len(), 1, "{name}: {places:?}\n{sample}");
            assert!(
                places[0].0.starts_with("a.txt › ascii85@")
                    || places[0].0.starts_with("a.txt › backslash@0 › ascii85@"),
                "{name}: {places:?}"
            );
            assert!(scanned.gaps.is_empty(), "{name}: {:?}", scanned.gaps);
        }
    }

    /// `base64.a85encode(bytes, wrapcol=width)`.
    fn wrapped(bytes: &[u8], width: usize, indent: &str) -> String {
        let encoded = a85(bytes);
        let lines: Vec<String> = encoded
            .as_bytes()
            .chunks(width)
            .map(|line| format!("{indent}{}", std::str::from_utf8(line).unwrap()))
            .collect();
        format!("{}\n", lines.join("\n"))
    }

    #[test]
    fn wrapped_undelimited_tokens_are_joined() {
        for (bytes, width, indent) in [
            (gzip(&payload()), 60, ""),
            (gzip(&payload()), 76, "    "),
            (payload(), 40, ""),
            (payload(), 75, "  "),
        ] {
            let sample = format!("blob: |\n{}done: true\n", wrapped(&bytes, width, indent));
            assert!(memchr::memmem::find(sample.as_bytes(), SECRET).is_none());
            let scanned = scan_memory(SECRET, "w.yaml", sample.as_bytes());
            let places = scanned.places();
            assert_eq!(places.len(), 1, "width {width}: {places:?}\n{sample}");
            assert!(places[0].0.starts_with("w.yaml › ascii85@"), "{places:?}");
            assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        }
    }

    #[test]
    fn hex_dumps_and_paths_of_one_width_are_not_held_as_tokens() {
        let mut finder = super::Ascii85Runs::new(16);
        let mut sink = super::super::Sink::new(16);
        let mut at = 0;
        let lines: Vec<Vec<u8>> = (0..200u32)
            .map(|i| {
                format!("{:060x}", u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes()
            })
            .chain((0..20).map(|i| format!("/usr/lib/python3/pkg{i:02}/mod.py").into_bytes()))
            .collect();
        for text in &lines {
            let line = super::Line {
                text,
                start: at,
                end: at + text.len() as u64 + 1,
                repeated: 0,
                cut: false,
            };
            super::LineFinder::line(&mut finder, &line, &mut sink);
            assert!(
                finder
                    .wrapped
                    .as_ref()
                    .is_none_or(|held| held.text.len() <= 200),
                "a dump is held"
            );
            at = line.end;
        }
        super::LineFinder::finish(&mut finder, at, &mut sink);
        assert_eq!(sink.runs.len(), 0);
    }

    #[test]
    fn prose_code_and_other_encodings_are_not_tokens() {
        let mut finder = super::Ascii85Runs::new(16);
        let mut sink = super::super::Sink::new(16);
        let text: &[&[u8]] = &[
            b"The quick brown fox jumps over the lazy dog; internationalization.",
            b"if(a[i]==b[j]&&c>0){return(x+y)*2;}else{panic!(\"index_out_of_range\");}",
            b"let checksum = 3f786850e387550fdab836ed7e6dc881de23001b;",
            b"token: SGVsbG8gV29ybGQhIFRoaXMgaXMgYmFzZTY0IHRleHQ=",
            b"path=/usr/local/lib/python3.11/site-packages/numpy/core/_methods.py:42",
            b"SELECT id,name,created_at FROM users WHERE id=42 AND name='Bob'",
        ];
        let mut at = 0;
        for line in text {
            let line = super::Line {
                text: line,
                start: at,
                end: at + line.len() as u64 + 1,
                repeated: 0,
                cut: false,
            };
            super::LineFinder::line(&mut finder, &line, &mut sink);
            at = line.end;
        }
        super::LineFinder::finish(&mut finder, at, &mut sink);
        assert_eq!(sink.runs.len(), 0);
    }
}
