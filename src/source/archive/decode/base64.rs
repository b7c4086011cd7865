//! Base64 and base64url runs, wrapped at any width, indented, or with `\n` escapes.
//!
//! The finder reads tokens of the base64 alphabet (both alphabets: `+/` and `-_`). A token
//! ended by a line break (a newline, a literal `\n` escape in a JSON string, or `&#10;`;
//! `\r`, `&#13;` and JSON's `\/` are read through) may be the first line of a wrapped block: the next lines
//! are joined to it while they have the same width (any width of at least [`MIN_WIDTH`]:
//! `base64 -w 61` and `base32 -w 70` wrap where they are told, not only at multiples of 4)
//! after any indentation, and the block ends with a shorter line, padding, or a closing
//! quote. A line that ends otherwise (a YAML `key:`, a space) is not part of the block.
//!
//! Lines of one width that is not a multiple of 4 and no shorter last line may instead be a
//! list of separate values (unpadded base64url keys, one a line): joined, all but some of
//! them would decode shifted by a few bits. So such a block is also decoded line by line,
//! each line its own run (two runs over the same bytes report a secret once, see
//! [`super::follow`]). Runs made only of letters and `/-_` (words, paths, identifiers), or
//! only of hex digits of one case (left to [`super::hex_runs`]; hex of both cases is no
//! hex, so it is read here), and runs too short to decode to the shortest
//! pattern are not decoded. Decoding is lenient and streaming: it carries its bits across
//! lines and never fails.
//!
//! In hash mode ([`Sink::single_layers`]) there are no forward-encoded variants, so a
//! single layer over a ledger entry is this finder's to see: runs shorter than
//! [`MIN_CHARS`] are decoded down to the shortest entry, and word-like or hex runs are kept
//! when their decoded bytes could hold an entry's text.

use super::base32::Base32Chars;
use super::wake::{runs_at_least, BLOCK};
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
    /// While `hex_only`: 1 if a lowercase letter was seen, 2 if an uppercase one.
    hex_cases: u8,
    decoded: Bits,
    /// Each line decoded on its own, kept while the block could be a list of separate
    /// values (see the module doc): (offset of the line, its bytes).
    alone: Vec<(u64, Vec<u8>)>,
    /// Bytes held in `alone`; past [`RUN_BUDGET`] the list reading is given up (the joined
    /// reading is still decoded).
    alone_bytes: usize,
    /// A line shorter than the width, or ending in padding or a quote, closed the block: it
    /// was wrapped, not a list.
    closed: bool,
    /// The same characters, while they could be base32.
    base32: Base32Chars,
}

/// Base64 characters decoded into bytes, carrying the bits of a partial byte.
struct Bits {
    bytes: Vec<u8>,
    bits: u32,
    bit_count: u8,
    truncated: bool,
}

impl Bits {
    fn new() -> Bits {
        Bits {
            bytes: Vec::new(),
            bits: 0,
            bit_count: 0,
            truncated: false,
        }
    }

    fn push(&mut self, chars: &[u8]) {
        for &byte in chars {
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
                if self.bytes.len() < RUN_BUDGET {
                    self.bytes.push((self.bits >> self.bit_count) as u8);
                } else {
                    self.truncated = true;
                }
            }
        }
    }
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
            hex_cases: 0,
            decoded: Bits::new(),
            alone: Vec::new(),
            alone_bytes: 0,
            closed: false,
            base32: Base32Chars::new(),
        }
    }

    /// Appends the line `start..end` of the leaf, made of `line`.
    fn append(&mut self, line: &[u8], start: u64, end: u64) {
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
            self.hex_cases |= line.iter().fold(0, |cases, b| {
                cases | u8::from(b.is_ascii_lowercase()) | u8::from(b.is_ascii_uppercase()) << 1
            });
        }
        self.decoded.push(line);
        if self.could_be_list() && self.alone_bytes < RUN_BUDGET {
            let mut alone = Bits::new();
            alone.push(line);
            self.alone_bytes += alone.bytes.len();
            self.alone.push((start, alone.bytes));
        }
    }

    /// Lines of a width that is not a multiple of 4 could be separate values.
    fn could_be_list(&self) -> bool {
        self.width > 0 && !self.width.is_multiple_of(4)
    }

    fn worth_decoding(&self, sink: &Sink) -> bool {
        let hex = self.hex_only && self.hex_cases != 3;
        if !sink.single_layers() {
            return self.chars >= MIN_CHARS
                && !hex
                && !(self.wordlike && self.chars < WORDLIKE_MIN);
        }
        // Hash mode: one layer over a ledger entry is this finder's to see, so any run that
        // could decode to an entry counts; a short word-like run, or hex (a digest), only if
        // what it decodes to could be an entry's text (a word or a digest decodes to noise).
        let noise_like = hex || (self.wordlike && self.chars < WORDLIKE_MIN);
        !noise_like || sink.could_hold_text(&self.decoded.bytes)
    }

    fn emit(mut self, sink: &mut Sink) {
        std::mem::replace(&mut self.base32, Base32Chars::new()).emit(self.start, self.end, sink);
        if !self.worth_decoding(sink) {
            return;
        }
        let list = !self.closed && self.alone.len() >= 2 && self.alone_bytes < RUN_BUDGET;
        sink.offer(DecodedRun {
            encoding: "base64",
            offset: self.start,
            encoded_len: self.end - self.start,
            bytes: self.decoded.bytes,
            truncated: self.decoded.truncated,
            map: Vec::new(),
        });
        if !list {
            return;
        }
        let width = self.width as u64;
        for (offset, bytes) in self.alone {
            sink.offer(DecodedRun {
                encoding: "base64",
                offset,
                encoded_len: width,
                bytes,
                truncated: false,
                map: Vec::new(),
            });
        }
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
    /// `single_layers` (hash mode) decodes runs shorter than [`MIN_CHARS`] too, down to
    /// what could decode to `min_decoded` bytes.
    pub(crate) fn new(min_decoded: usize, single_layers: bool) -> Base64Runs {
        let floor = if single_layers { 1 } else { MIN_CHARS };
        Base64Runs {
            line: Vec::new(),
            line_start: 0,
            line_end: 0,
            block: None,
            backslash: false,
            min_chars: floor.max((min_decoded * 4).div_ceil(3)),
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
            Some(block) if block.width == 0 => block.append(&line, self.line_start, self.line_end),
            _ => {
                if let Some(block) = self.block.take() {
                    block.emit(sink);
                }
                let mut block = Block::new(self.line_start, 0);
                block.append(&line, self.line_start, self.line_end);
                self.block = Some(block);
            }
        }
        self.line = line;
        self.line.clear();
    }

    /// The current token ended by `end`.
    fn end_token(&mut self, end: End, sink: &mut Sink) {
        let line = std::mem::take(&mut self.line);
        let (line_start, line_end) = (self.line_start, self.line_end);
        if let Some(mut block) = self.block.take() {
            let fits = block.width > 0 && line.len() <= block.width;
            match end {
                _ if block.width == 0 => {
                    // The rest of one long line.
                    block.append(&line, line_start, line_end);
                    block.emit(sink);
                    self.line = line;
                    self.line.clear();
                    return;
                }
                End::LineBreak if line.is_empty() => block.emit(sink),
                End::LineBreak if line.len() == block.width => {
                    block.append(&line, line_start, line_end);
                    self.block = Some(block);
                }
                End::LineBreak | End::Closing if fits => {
                    // An empty last line (the leaf, or a JSON string, ends after a line
                    // break) leaves the block as a run of full lines.
                    block.closed = !line.is_empty();
                    block.append(&line, line_start, line_end);
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
        // Any width: the bits are carried across lines, so a block decodes whatever its
        // width (a list of separate values is also read line by line, see `Block::emit`).
        let wraps = end == End::LineBreak && line.len() >= MIN_WIDTH;
        if !wraps && line.len() < self.min_chars {
            return;
        }
        block.append(line, self.line_start, self.line_end);
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

/// Bytes a token can be made of or read through: the alphabet, `\r`, and the backslash of
/// the `\/` and `\r` escapes.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(
            CLASSES[byte],
            Class::Alphabet | Class::CarriageReturn | Class::Backslash
        );
        byte += 1;
    }
    table
};

/// With no token or block open, the finder does nothing until a token of `shortest`
/// characters: every byte before it is a separator or part of a shorter token, which is
/// dropped (see [`Base64Runs::feed`]). A token's bytes are consecutive [`TOKEN_BYTES`], so
/// only a stretch of at least `shortest` of them, or one the read ends in (it may go on in
/// the next read), can change anything. Returns the first such stretch at or after `from`
/// as `(start, end)`, or `(len, len)`. Only every `shortest`-th byte is looked at first
/// (any stretch that long covers one of them), so text and binary are skipped at a fraction
/// of a byte-by-byte walk.
fn next_stretch(bytes: &[u8], from: usize, shortest: usize) -> (usize, usize) {
    let len = bytes.len();
    let token = |i: usize| TOKEN_BYTES[bytes[i] as usize];
    let mut from_bytewise = from;
    if (1..=BLOCK).contains(&shortest) {
        // Whole blocks first, 16 bytes per instruction, through a wider class of bytes
        // ([`maybe_token_mask16`]): a stretch of `shortest` token bytes is a stretch of
        // that many of these, which text (spaces) and binary seldom hold; where one starts,
        // the exact class ([`token_mask16`], more instructions) decides. Each block's mask
        // looks one block ahead for the end.
        let mut block = from;
        let mut ahead = None;
        // The exact mask of the block after the last one that needed it.
        let mut exact_ahead: Option<(usize, u64)> = None;
        while block + 2 * BLOCK <= len {
            let low = ahead
                .take()
                .unwrap_or_else(|| maybe_token_mask(&bytes[block..block + BLOCK]));
            let high = maybe_token_mask(&bytes[block + BLOCK..block + 2 * BLOCK]);
            let starts = runs_at_least(u128::from(low) | (u128::from(high) << BLOCK), shortest);
            if starts == 0 {
                block += BLOCK;
                ahead = Some(high);
                continue;
            }
            // Where the wide class has a long stretch (text: `2025-04-07T12:57:33`,
            // `id=1099511627775`), the exact class decides for the same two blocks, still
            // 16 bytes at a time, before any byte is walked.
            let exact_low = match exact_ahead {
                Some((at, mask)) if at == block => mask,
                _ => token_mask(&bytes[block..block + BLOCK]),
            };
            let exact_high = token_mask(&bytes[block + BLOCK..block + 2 * BLOCK]);
            exact_ahead = Some((block + BLOCK, exact_high));
            let exact = runs_at_least(
                u128::from(exact_low) | (u128::from(exact_high) << BLOCK),
                shortest,
            );
            if exact == 0 {
                block += BLOCK;
                ahead = Some(high);
                continue;
            }
            // `shortest` token bytes from here on: the first such stretch (none starts in an
            // earlier block, and none before this in this one), from its start to its end.
            let at = block + exact.trailing_zeros() as usize;
            let mut end = at + shortest;
            while end < len && TOKEN_BYTES[bytes[end] as usize] {
                end += 1;
            }
            return (extend_back(bytes, at, from), end);
        }
        from_bytewise = block;
    }
    // The last bytes (and a stretch the read ends in) byte by byte; a stretch found there
    // may have begun before them.
    let (start, end) = next_stretch_bytewise(bytes, from_bytewise, shortest);
    let start = if start < len {
        extend_back(bytes, start, from)
    } else {
        start
    };
    debug_assert!(start == len || token(start));
    (start, end)
}

/// The first byte of the stretch of token bytes `start` is in, not before `from`.
fn extend_back(bytes: &[u8], mut start: usize, from: usize) -> usize {
    while start > from && TOKEN_BYTES[bytes[start - 1] as usize] {
        start -= 1;
    }
    start
}

/// A wider class than [`TOKEN_BYTES`] that takes fewer instructions to test: `+` to `z`
/// (every token byte but `\r`), and `\r`.
const MAYBE_TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(byte, 0x2B..=0x7A | 0x0D);
        byte += 1;
    }
    table
};

/// One bit per byte of `bytes` (at most 64), from a class test of 16 bytes at a time.
fn mask64(bytes: &[u8], class16: fn(&[u8]) -> u16) -> u64 {
    let mut mask = 0u64;
    for (i, chunk) in bytes.chunks(16).enumerate() {
        mask |= u64::from(class16(chunk)) << (16 * i);
    }
    mask
}

/// One bit per byte of `bytes` (at most 64): set for [`MAYBE_TOKEN_BYTES`].
fn maybe_token_mask(bytes: &[u8]) -> u64 {
    mask64(bytes, maybe_token_mask16)
}

#[cfg(target_arch = "x86_64")]
fn maybe_token_mask16(chunk: &[u8]) -> u16 {
    use std::arch::x86_64::*;
    let Ok(chunk) = <&[u8; 16]>::try_from(chunk) else {
        return bits_of(chunk, &MAYBE_TOKEN_BYTES);
    };
    // SAFETY: SSE2 is part of the x86_64 baseline (every intrinsic here is SSE2), and the
    // load reads exactly the 16 bytes of `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        // 0x2B..=0x7A as unsigned bytes: (v - 0x2B) wraps, and only values up to 0x4F
        // survive a saturating subtraction of 0x4F as zero.
        let shifted = _mm_sub_epi8(v, _mm_set1_epi8(0x2B));
        let over = _mm_subs_epu8(shifted, _mm_set1_epi8(0x7A - 0x2B));
        let in_range = _mm_cmpeq_epi8(over, _mm_setzero_si128());
        let carriage_return = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x0D));
        _mm_movemask_epi8(_mm_or_si128(in_range, carriage_return)) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn maybe_token_mask16(chunk: &[u8]) -> u16 {
    bits_of(chunk, &MAYBE_TOKEN_BYTES)
}

/// One bit per byte of `bytes` (at most 64): set for [`TOKEN_BYTES`].
fn token_mask(bytes: &[u8]) -> u64 {
    mask64(bytes, token_mask16)
}

#[cfg(target_arch = "x86_64")]
fn token_mask16(chunk: &[u8]) -> u16 {
    use std::arch::x86_64::*;
    let Ok(chunk) = <&[u8; 16]>::try_from(chunk) else {
        return bits_of(chunk, &TOKEN_BYTES);
    };
    // SAFETY: as in `maybe_token_mask16`: SSE2 only, and the load reads the 16 bytes.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let in_range = |lo: u8, hi: u8| {
            let shifted = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
            let over = _mm_subs_epu8(shifted, _mm_set1_epi8((hi - lo) as i8));
            _mm_cmpeq_epi8(over, _mm_setzero_si128())
        };
        let eq = |byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
        // Letters of both cases at once: setting bit 5 maps `A-Z` onto `a-z`.
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let shifted = _mm_sub_epi8(folded, _mm_set1_epi8(b'a' as i8));
        let over = _mm_subs_epu8(shifted, _mm_set1_epi8((b'z' - b'a') as i8));
        let letters = _mm_cmpeq_epi8(over, _mm_setzero_si128());
        let marks = _mm_or_si128(
            _mm_or_si128(
                _mm_or_si128(eq(b'+'), eq(b'/')),
                _mm_or_si128(eq(b'-'), eq(b'_')),
            ),
            _mm_or_si128(eq(b'\r'), eq(b'\\')),
        );
        let token = _mm_or_si128(_mm_or_si128(letters, in_range(b'0', b'9')), marks);
        _mm_movemask_epi8(token) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn token_mask16(chunk: &[u8]) -> u16 {
    bits_of(chunk, &TOKEN_BYTES)
}

/// One bit per byte of `chunk` (at most 16) that `class` holds.
fn bits_of(chunk: &[u8], class: &[bool; 256]) -> u16 {
    chunk
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| class[byte as usize])
        .fold(0, |mask, (i, _)| mask | (1 << i))
}

/// [`next_stretch`] one byte at a time, looking at every `shortest`-th byte first.
fn next_stretch_bytewise(bytes: &[u8], from: usize, shortest: usize) -> (usize, usize) {
    let len = bytes.len();
    let token = |i: usize| TOKEN_BYTES[bytes[i] as usize];
    let shortest = shortest.max(1);
    let mut probe = from + shortest - 1;
    // Bytes before this are known not to start a stretch worth stopping at.
    let mut settled = from;
    while probe < len {
        if !token(probe) {
            probe += shortest;
            continue;
        }
        let mut start = probe;
        while start > settled && token(start - 1) {
            start -= 1;
        }
        let mut end = probe + 1;
        while end < len && token(end) {
            end += 1;
        }
        if end - start >= shortest || end == len {
            return (start, end);
        }
        settled = end;
        probe = end + shortest;
    }
    // A short stretch the read ends in, which the lattice may have stepped over.
    let mut start = len;
    while start > settled && token(start - 1) {
        start -= 1;
    }
    (start, len)
}

/// A character reference for `\r` or `\n` at the start of `bytes` (XML writers such as
/// .NET's `XmlSerializer` end each base64 line in `&#13;`): the character and the
/// reference's length. Read as the character itself, so the block is whole in the leaf; a
/// reference split across two reads ends the token (the entities layer still reads it).
fn line_end_reference(bytes: &[u8]) -> Option<(u8, usize)> {
    let (c, len) = super::entities::numeric(bytes.strip_prefix(b"&#")?)?;
    match c {
        '\r' | '\n' => Some((c as u8, len + 2)),
        _ => None,
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
        // Up to here the bytes are known to sit in a stretch that may hold a token.
        let mut dense_until = 0;
        while i < bytes.len() {
            if i >= dense_until && self.line.is_empty() && self.block.is_none() {
                let (start, end) = next_stretch(bytes, i, MIN_WIDTH.min(self.min_chars));
                i = start;
                dense_until = end;
                if i >= bytes.len() {
                    break;
                }
            }
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
                    if bytes[i] == b'&' && (!self.line.is_empty() || self.block.is_some()) {
                        if let Some((reference, len)) = line_end_reference(&bytes[i..]) {
                            if reference == b'\n' {
                                self.end_token(End::LineBreak, sink);
                            }
                            i += len;
                            continue;
                        }
                    }
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

    fn b64url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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
    fn widths_that_are_not_multiples_of_4_are_joined() {
        for width in [17, 61, 70] {
            for (name, encoded) in [
                ("standard", b64(&gzip(&config()))),
                ("url", b64url(&gzip(&config()))),
            ] {
                let body = wrap(&encoded, width, "  ", "\r\n");
                let sample = format!("blob: |\r\n{body}\r\nnext: 1\r\n");
                let scanned = scan_memory(SECRET, "w.yaml", sample.as_bytes());
                let places = scanned.places();
                assert_eq!(places.len(), 1, "{name} width {width}: {places:?}");
                assert!(places[0].0.starts_with("w.yaml › base64@"), "{places:?}");
                assert!(scanned.gaps.is_empty(), "{width}: {:?}", scanned.gaps);
            }
            let body = wrap(&b64(&config()), width, "", "\\n");
            let sample = format!("{{\"cert\":\"{body}\\n\"}}");
            assert_not_raw(sample.as_bytes());
            assert_eq!(runs_in(sample.as_bytes(), 5), [config()], "width {width}");
        }
    }

    #[test]
    fn a_list_of_unpadded_values_of_one_odd_width_is_read_line_by_line() {
        // Each line is its own value (43 characters: 32 bytes, unpadded): joined, the lines
        // after the first would decode shifted by 2 bits.
        let values: Vec<Vec<u8>> = (0..4u8)
            .map(|i| {
                (0..32)
                    .map(|j| i.wrapping_mul(31).wrapping_add(j * 7 + 1))
                    .collect()
            })
            .collect();
        let text: String = values.iter().map(|v| b64url(v) + "\n").collect();
        let runs = runs_in(text.as_bytes(), 9);
        for value in &values {
            assert!(runs.contains(value), "{runs:?}");
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
        let mut finder = Base64Runs::new(16, false);
        let mut sink = Sink::new(16);
        let mut at = 0;
        for piece in text.chunks(step) {
            finder.feed(piece, at, &mut sink);
            at += piece.len() as u64;
        }
        finder.finish(&mut sink);
        sink.runs.into_iter().map(|run| run.bytes).collect()
    }

    /// The skip over bytes that cannot hold a token stops exactly where the byte-by-byte
    /// walk does, for every byte value and at every alignment.
    #[test]
    fn the_block_skip_agrees_with_the_byte_walk() {
        let all: Vec<u8> = (0..=255u8).collect();
        for block in all.chunks(64) {
            let wide = super::maybe_token_mask(block);
            for (i, &byte) in block.iter().enumerate() {
                assert_eq!(
                    (wide >> i) & 1 == 1,
                    super::MAYBE_TOKEN_BYTES[byte as usize]
                );
                assert!(!super::TOKEN_BYTES[byte as usize] || (wide >> i) & 1 == 1);
                assert_eq!(
                    (super::token_mask(block) >> i) & 1 == 1,
                    super::TOKEN_BYTES[byte as usize],
                    "{byte:#x}"
                );
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            // Stretches of every length, of token bytes, of the wider class, or of both.
            let len = (random() % 900) as usize;
            let mut bytes = Vec::new();
            while bytes.len() < len {
                let run = (random() % 40) as usize;
                let mix: &[u8] = match random() % 3 {
                    0 => b"aZ09+/-_\r\\",
                    1 => b"aZ09+/-_\r\\=.,:",
                    _ => b" \n\x00\xFF\"",
                };
                bytes.extend((0..run).map(|_| mix[(random() % mix.len() as u64) as usize]));
            }
            bytes.truncate(len);
            for from in [0, 1, 7, 63, 64, 65, 200].into_iter().filter(|&f| f <= len) {
                assert_eq!(
                    super::next_stretch(&bytes, from, 16),
                    super::next_stretch_bytewise(&bytes, from, 16),
                    "from {from} of {len}"
                );
            }
        }
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
