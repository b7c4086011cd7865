//! A font's `ToUnicode` CMap (ISO 32000-1 §9.10.3): which text each character code of a
//! shown string stands for.
//!
//! Fonts embedded as subsets (a TrueType font in fpdf2, reportlab, LibreOffice, Chrome,
//! Word) show text as glyph numbers that mean nothing without this map: `<0012002a>` is
//! whatever glyphs 0x12 and 0x2a were in that subset. The map gives the code lengths
//! (`codespacerange`), single codes (`bfchar`) and ranges (`bfrange`), each to UTF-16BE.

use super::lexer::{Lexer, Token};

/// Most codes one `bfrange` may cover (a range spans at most a 2-byte code space; more is
/// damage).
const MAX_RANGE: u32 = 1 << 16;

#[derive(Debug, Default)]
pub(super) struct CMap {
    /// (code length in bytes, lowest code, highest code), each code's bytes per position.
    codespace: Vec<(usize, Vec<u8>, Vec<u8>)>,
    /// (code length, code) to its text, sorted.
    chars: Vec<((usize, u32), String)>,
    /// (code length, first code, last code, what the first maps to), sorted.
    ranges: Vec<(usize, u32, u32, RangeTarget)>,
    /// For a map whose codes all have one length of 1 or 2 bytes (nearly every map): each
    /// code's text, as (start, end) in `texts`, looked up directly instead of searched.
    dense: Option<Dense>,
}

#[derive(Debug)]
struct Dense {
    length: usize,
    spans: Vec<(u32, u32)>,
    texts: Vec<u8>,
}

#[derive(Debug)]
enum RangeTarget {
    /// Consecutive code points from this text's last character on.
    From(Vec<u16>),
    /// One text per code.
    Each(Vec<String>),
}

impl CMap {
    pub(super) fn parse(bytes: &[u8]) -> CMap {
        let mut map = CMap::default();
        let mut lexer = Lexer::new(bytes, 0);
        let mut pending: Vec<Token> = Vec::new();
        let mut section: Option<&[u8]> = None;
        while let Some((_, token)) = lexer.next_token() {
            match token {
                Token::Keyword(
                    word @ (b"begincodespacerange" | b"beginbfchar" | b"beginbfrange"),
                ) => {
                    section = Some(word);
                    pending.clear();
                }
                Token::Keyword(b"endcodespacerange" | b"endbfchar" | b"endbfrange") => {
                    section = None;
                }
                Token::ArrayOpen if section == Some(b"beginbfrange") => {
                    pending.push(Token::ArrayOpen);
                }
                Token::ArrayClose if section == Some(b"beginbfrange") => {
                    let texts = pending
                        .iter()
                        .rposition(|t| *t == Token::ArrayOpen)
                        .map(|open| pending.split_off(open))
                        .unwrap_or_default();
                    let each = texts
                        .iter()
                        .filter_map(|t| match t {
                            Token::Hex(bytes) => Some(utf16_text(bytes)),
                            _ => None,
                        })
                        .collect();
                    if let [Token::Hex(lo), Token::Hex(hi)] = pending.as_slice() {
                        map.add_range(lo, hi, RangeTarget::Each(each));
                    }
                    pending.clear();
                }
                Token::Hex(_) | Token::Name(_) if section.is_some() => {
                    pending.push(token);
                    map.take(section, &mut pending);
                }
                _ => {}
            }
        }
        map.chars.sort_by_key(|(key, _)| *key);
        map.ranges.sort_by_key(|(len, lo, _, _)| (*len, *lo));
        map.dense = map.densify();
        map
    }

    /// The direct table of a map whose codes all have one length of at most 2 bytes.
    fn densify(&self) -> Option<Dense> {
        let mut lengths = self
            .codespace
            .iter()
            .map(|(len, _, _)| *len)
            .chain(self.chars.iter().map(|((len, _), _)| *len))
            .chain(self.ranges.iter().map(|(len, _, _, _)| *len));
        let length = lengths.next()?;
        if length > 2 || lengths.any(|other| other != length) {
            return None;
        }
        let mut dense = Dense {
            length,
            spans: vec![(0, 0); 1 << (8 * length)],
            texts: Vec::new(),
        };
        let mut text = Vec::new();
        for code in 0..dense.spans.len() as u32 {
            text.clear();
            self.text_of(length, code, &mut text);
            let start = dense.texts.len() as u32;
            dense.texts.extend_from_slice(&text);
            dense.spans[code as usize] = (start, dense.texts.len() as u32);
        }
        Some(dense)
    }

    /// Takes a complete entry of `section` out of `pending`.
    fn take(&mut self, section: Option<&[u8]>, pending: &mut Vec<Token>) {
        let bracketed = pending.contains(&Token::ArrayOpen);
        match (section, pending.as_slice()) {
            (Some(b"begincodespacerange"), [Token::Hex(lo), Token::Hex(hi)])
                if lo.len() == hi.len() && (1..=4).contains(&lo.len()) =>
            {
                self.codespace.push((lo.len(), lo.clone(), hi.clone()));
            }
            (Some(b"beginbfchar"), [Token::Hex(source), target]) => {
                // A target given as a glyph name (`/fi`) is not text: left out.
                if let (Some(code), Token::Hex(text)) = (code_value(source), target) {
                    self.chars.push(((source.len(), code), utf16_text(text)));
                }
            }
            (Some(b"beginbfrange"), [Token::Hex(lo), Token::Hex(hi), Token::Hex(first)])
                if !bracketed =>
            {
                let units = utf16_units(first);
                self.add_range(lo, hi, RangeTarget::From(units));
            }
            (Some(b"beginbfrange"), [_, _, _]) if !bracketed => {}
            (Some(b"beginbfrange"), _) | (Some(b"beginbfchar"), [_]) => return,
            (Some(b"begincodespacerange"), [_]) => return,
            _ => {}
        }
        pending.clear();
    }

    fn add_range(&mut self, lo: &[u8], hi: &[u8], target: RangeTarget) {
        let (Some(first), Some(last)) = (code_value(lo), code_value(hi)) else {
            return;
        };
        if lo.len() != hi.len() || last < first || last - first >= MAX_RANGE {
            return;
        }
        self.ranges.push((lo.len(), first, last, target));
    }

    /// Whether the map gives any text at all (an empty or unreadable map is as good as none).
    pub(super) fn is_empty(&self) -> bool {
        self.chars.is_empty() && self.ranges.is_empty()
    }

    /// The length of the code starting `bytes` (at least 1): the code space range it falls
    /// in, or the length most entries have when the map declares none.
    fn code_length(&self, bytes: &[u8], default: usize) -> usize {
        for (len, lo, hi) in &self.codespace {
            let Some(code) = bytes.get(..*len) else {
                continue;
            };
            if code
                .iter()
                .zip(lo)
                .zip(hi)
                .all(|((c, l), h)| l <= c && c <= h)
            {
                return *len;
            }
        }
        self.codespace
            .iter()
            .map(|(len, _, _)| *len)
            .min()
            .unwrap_or(default)
            .max(1)
    }

    /// Appends the text that the codes of `shown` stand for, as UTF-8. Codes the map does
    /// not know are left out: they are glyphs with no text (or damage), never the code's
    /// own bytes, which would be noise between the characters of a word.
    pub(super) fn decode(&self, shown: &[u8], default_length: usize, out: &mut Vec<u8>) {
        if let Some(dense) = &self.dense {
            for code in shown.chunks(dense.length) {
                let index = code.iter().fold(0usize, |v, &b| v << 8 | usize::from(b));
                if let Some(&(start, end)) = dense.spans.get(index) {
                    out.extend_from_slice(&dense.texts[start as usize..end as usize]);
                }
            }
            return;
        }
        let mut at = 0;
        while at < shown.len() {
            let len = self.code_length(&shown[at..], default_length);
            let end = (at + len).min(shown.len());
            if let Some(code) = code_value(&shown[at..end]) {
                self.text_of(end - at, code, out);
            }
            at = end;
        }
    }

    fn text_of(&self, len: usize, code: u32, out: &mut Vec<u8>) {
        if let Ok(found) = self
            .chars
            .binary_search_by_key(&(len, code), |(key, _)| *key)
        {
            out.extend_from_slice(self.chars[found].1.as_bytes());
            return;
        }
        let after = self
            .ranges
            .partition_point(|(l, lo, _, _)| (*l, *lo) <= (len, code));
        let Some((_, lo, hi, target)) = after.checked_sub(1).map(|i| &self.ranges[i]) else {
            return;
        };
        if code > *hi || self.ranges[after - 1].0 != len {
            return;
        }
        let offset = code - lo;
        match target {
            RangeTarget::Each(texts) => {
                if let Some(text) = texts.get(offset as usize) {
                    out.extend_from_slice(text.as_bytes());
                }
            }
            RangeTarget::From(units) => {
                let mut units = units.clone();
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add(offset as u16);
                }
                out.extend_from_slice(utf16_string(&units).as_bytes());
            }
        }
    }
}

/// A code's bytes as a big-endian number (codes are 1 to 4 bytes).
fn code_value(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |v, &b| v << 8 | u32::from(b)))
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))
        .collect()
}

fn utf16_string(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn utf16_text(bytes: &[u8]) -> String {
    utf16_string(&utf16_units(bytes))
}
