//! Decoded layers: runs of base64 (also base64url and line-wrapped), hex, percent-encoding,
//! JSON string escapes and UTF-16 text are found, decoded, and their content searched again.
//!
//! A run is attributed to the window its first byte lies in, like every other candidate.
//! Only what is listed here is decoded: HTML entities, quoted-printable, compression and
//! other encodings are not (the report says so).

use std::ops::Range;

/// Decoding layers applied on top of each other at most this many times
/// (e.g. base64 of a JSON document with an escaped token is two layers).
pub const MAX_DEPTH: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Base64,
    Hex,
    Percent,
    JsonEscape,
    Utf16,
}

impl Layer {
    pub const ALL: [Layer; 5] = [
        Layer::Base64,
        Layer::Hex,
        Layer::Percent,
        Layer::JsonEscape,
        Layer::Utf16,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Base64 => "base64",
            Layer::Hex => "hex",
            Layer::Percent => "percent",
            Layer::JsonEscape => "json",
            Layer::Utf16 => "utf16",
        }
    }
}

/// The layers a candidate was decoded through, outermost first. Small and `Copy`, so a
/// `Hit` can carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodePath {
    layers: [u8; MAX_DEPTH],
    depth: u8,
}

impl DecodePath {
    pub fn depth(&self) -> usize {
        self.depth as usize
    }

    pub fn push(mut self, layer: Layer) -> DecodePath {
        if self.depth() < MAX_DEPTH {
            self.layers[self.depth()] = layer as u8;
            self.depth += 1;
        }
        self
    }

    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        self.layers[..self.depth()]
            .iter()
            .map(|&n| Layer::ALL[n as usize])
    }

    /// `raw`, or the layers joined by ` > `, e.g. `base64 > json`.
    pub fn describe(&self) -> String {
        if self.depth == 0 {
            return "raw".into();
        }
        self.layers()
            .map(Layer::name)
            .collect::<Vec<_>>()
            .join(" > ")
    }
}

const BASE64_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
        byte += 1;
    }
    table
};

#[inline]
fn is_base64(byte: u8) -> bool {
    BASE64_BYTES[byte as usize]
}

/// Whether decoded bytes hold a run of `len` bytes that could be text: decoding garbage
/// (an identifier that happened to look like base64) almost never does, so its content
/// need not be searched.
pub fn has_text_run(bytes: &[u8], len: usize, non_ascii: bool) -> bool {
    let mut run = 0;
    for &byte in bytes {
        let text = byte.is_ascii_graphic()
            || matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
            || (non_ascii && byte >= 0x80);
        run = if text { run + 1 } else { 0 };
        if run >= len {
            return true;
        }
    }
    false
}

fn is_url_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\')
}

fn is_text(byte: u8) -> bool {
    byte.is_ascii_graphic() || matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// One encoded run found in a haystack.
pub struct Run {
    pub layer: Layer,
    pub range: Range<usize>,
    /// The run reached the end of the bytes in view while more of the stream follows, so
    /// only its first part is decoded.
    pub truncated: bool,
}

/// Every encoded run that starts inside `starts` and could decode to `min_run` bytes.
/// `complete` says the haystack ends where the stream ends.
pub fn for_each_run(
    bytes: &[u8],
    starts: Range<usize>,
    complete: bool,
    min_run: usize,
    on_run: &mut dyn FnMut(Run),
) {
    let truncated = |end: usize| end == bytes.len() && !complete;
    base64_and_hex_runs(bytes, &starts, min_run, &mut |layer, range| {
        let cut = truncated(range.end);
        on_run(Run {
            layer,
            range,
            truncated: cut,
        })
    });
    triggered_runs(
        bytes,
        &starts,
        b'%',
        percent_extent,
        min_run,
        &mut |range| {
            let cut = truncated(range.end);
            on_run(Run {
                layer: Layer::Percent,
                range,
                truncated: cut,
            })
        },
    );
    triggered_runs(bytes, &starts, b'\\', json_extent, min_run, &mut |range| {
        let cut = truncated(range.end);
        on_run(Run {
            layer: Layer::JsonEscape,
            range,
            truncated: cut,
        })
    });
    utf16_runs(bytes, &starts, min_run * 2, &mut |range| {
        let cut = truncated(range.end);
        on_run(Run {
            layer: Layer::Utf16,
            range,
            truncated: cut,
        })
    });
}

fn base64_and_hex_runs(
    bytes: &[u8],
    starts: &Range<usize>,
    min_run: usize,
    on_run: &mut dyn FnMut(Layer, Range<usize>),
) {
    let mut resume = 0;
    super::runs::for_each_long_run(
        bytes,
        starts.start,
        starts.end.min(bytes.len()),
        min_run,
        &BASE64_BYTES,
        &mut |line| {
            // A wrapped block already covered this line.
            if line.start < resume || line.start < starts.start {
                return;
            }
            let (start, line_end) = (line.start, line.end);
            let mut end = padded_end(bytes, line_end);
            let all_hex = bytes[start..line_end].iter().all(u8::is_ascii_hexdigit);
            let long_enough = if all_hex {
                line_end - start >= min_run * 2
            } else {
                end - start >= (min_run * 4).div_ceil(3)
            };
            if !long_enough {
                return;
            }
            if all_hex {
                on_run(Layer::Hex, start..line_end);
            } else {
                let wrapped = wrapped_end(bytes, start, line_end);
                if wrapped > end {
                    end = wrapped;
                }
                on_run(Layer::Base64, start..end);
            }
            resume = end;
        },
    );
}

fn padded_end(bytes: &[u8], mut at: usize) -> usize {
    let mut pad = 0;
    while pad < 2 && at < bytes.len() && bytes[at] == b'=' {
        at += 1;
        pad += 1;
    }
    at
}

/// If the run `start..line_end` is the first line of line-wrapped base64 (every line but
/// the last as long as the first, a multiple of 4), the end of the whole block.
fn wrapped_end(bytes: &[u8], start: usize, line_end: usize) -> usize {
    let width = line_end - start;
    if width < 16 || !width.is_multiple_of(4) {
        return line_end;
    }
    let mut end = line_end;
    let mut at = line_end;
    loop {
        let next = match bytes.get(at..at + 2) {
            Some([b'\r', b'\n']) => at + 2,
            Some([b'\n', _]) => at + 1,
            _ if bytes.get(at) == Some(&b'\n') => at + 1,
            _ => return end,
        };
        let mut line = next;
        while line < bytes.len() && is_base64(bytes[line]) {
            line += 1;
        }
        let length = line - next;
        if length == 0 || length > width {
            return end;
        }
        end = padded_end(bytes, line);
        if length < width || end > line {
            return end;
        }
        at = line;
    }
}

/// Runs around every occurrence of `trigger`, with `extent` giving a run's bounds.
fn triggered_runs(
    bytes: &[u8],
    starts: &Range<usize>,
    trigger: u8,
    extent: fn(&[u8], usize) -> Option<Range<usize>>,
    min_run: usize,
    on_run: &mut dyn FnMut(Range<usize>),
) {
    let mut at = starts.start;
    while let Some(found) = memchr::memchr(trigger, &bytes[at.min(bytes.len())..]) {
        let position = at + found;
        let Some(range) = extent(bytes, position) else {
            at = position + 1;
            continue;
        };
        if range.start >= starts.end {
            return;
        }
        if range.start >= starts.start && range.len() >= min_run {
            on_run(range.clone());
        }
        at = range.end.max(position + 1);
    }
}

fn percent_extent(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let escape = bytes.get(at + 1..at + 3)?;
    if !escape.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut start = at;
    while start > 0 && is_url_byte(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() && is_url_byte(bytes[end]) {
        end += 1;
    }
    Some(start..end)
}

/// A JSON string body around a backslash: from after the opening quote (or the line
/// start) to before the closing unescaped quote (or the line end).
fn json_extent(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let mut start = at;
    while start > 0 && !matches!(bytes[start - 1], b'"' | b'\n') {
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() && !matches!(bytes[end], b'"' | b'\n') {
        end += if bytes[end] == b'\\' { 2 } else { 1 };
    }
    Some(start..end.min(bytes.len()))
}

fn utf16_runs(
    bytes: &[u8],
    starts: &Range<usize>,
    min_bytes: usize,
    on_run: &mut dyn FnMut(Range<usize>),
) {
    let pair = |p: usize| p + 1 < bytes.len() && is_text(bytes[p]) && bytes[p + 1] == 0;
    let mut at = starts.start.max(1);
    while let Some(found) = memchr::memchr(0, &bytes[at.min(bytes.len())..]) {
        let zero = at + found;
        let first = zero - 1;
        if !pair(first) {
            at = zero + 1;
            continue;
        }
        let mut start = first;
        while start >= 2 && pair(start - 2) {
            start -= 2;
        }
        let mut end = first;
        while pair(end) {
            end += 2;
        }
        // Big-endian text (`0 c 0 c ...`) read as pairs from its first character leaves
        // that text's last character alone after the last pair's zero: it belongs to the
        // run (one stray character after little-endian text costs nothing).
        if end < bytes.len() && is_text(bytes[end]) {
            end += 1;
        }
        if start >= starts.end {
            return;
        }
        if start >= starts.start && end - start >= min_bytes {
            on_run(start..end);
        }
        at = end + 1;
    }
}

/// Decodes `encoded` into `out` (cleared first). Undecodable pieces are skipped or kept
/// as they are; decoding never fails, it only yields fewer candidates.
pub fn decode(layer: Layer, encoded: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match layer {
        Layer::Base64 => base64_lenient(encoded, out),
        Layer::Hex => {
            let even = encoded.len() & !1;
            out.extend(encoded[..even].chunks_exact(2).filter_map(|pair| {
                let text = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(text, 16).ok()
            }))
        }
        Layer::Percent => percent(encoded, out),
        Layer::JsonEscape => json(encoded, out),
        Layer::Utf16 => out.extend(encoded.iter().step_by(2)),
    }
}

fn base64_lenient(encoded: &[u8], out: &mut Vec<u8>) {
    let mut bits: u32 = 0;
    let mut count = 0;
    for &byte in encoded {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn percent(encoded: &[u8], out: &mut Vec<u8>) {
    let mut at = 0;
    while at < encoded.len() {
        if encoded[at] == b'%' && at + 2 < encoded.len() {
            if let (Some(high), Some(low)) =
                (hex_value(encoded[at + 1]), hex_value(encoded[at + 2]))
            {
                out.push(high << 4 | low);
                at += 3;
                continue;
            }
        }
        out.push(encoded[at]);
        at += 1;
    }
}

fn json(encoded: &[u8], out: &mut Vec<u8>) {
    let mut at = 0;
    while at < encoded.len() {
        if encoded[at] != b'\\' || at + 1 >= encoded.len() {
            out.push(encoded[at]);
            at += 1;
            continue;
        }
        let escaped = encoded[at + 1];
        at += 2;
        let simple = match escaped {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'u' => None,
            other => Some(other),
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let Some(unit) = hex4(encoded, at) else {
            out.extend_from_slice(b"\\u");
            continue;
        };
        at += 4;
        let mut code = unit as u32;
        if (0xD800..0xDC00).contains(&unit) && encoded.get(at..at + 2) == Some(b"\\u") {
            if let Some(low) = hex4(encoded, at + 2).filter(|l| (0xDC00..0xE000).contains(l)) {
                code = 0x10000 + ((unit as u32 - 0xD800) << 10) + (low as u32 - 0xDC00);
                at += 6;
            }
        }
        let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    u16::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(bytes: &[u8]) -> Vec<(Layer, Vec<u8>)> {
        let mut found = Vec::new();
        for_each_run(bytes, 0..bytes.len(), true, 8, &mut |run| {
            let mut out = Vec::new();
            decode(run.layer, &bytes[run.range], &mut out);
            found.push((run.layer, out));
        });
        found
    }

    #[test]
    fn decodes_each_layer() {
        let found = runs(b"a=\"aGVsbG8td29ybGQtMTIz\" b=68656c6c6f2d776f726c64 c=x%2Fy%3Dzzzzz d=\"p\\u0040ss\\/word\"");
        let decoded: Vec<(Layer, &[u8])> = found.iter().map(|(l, d)| (*l, &d[..])).collect();
        assert!(decoded.contains(&(Layer::Base64, b"hello-world-123".as_slice())));
        assert!(decoded.contains(&(Layer::Hex, b"hello-world".as_slice())));
        assert!(decoded.contains(&(Layer::Percent, b"c=x/y=zzzzz".as_slice())));
        assert!(decoded.contains(&(Layer::JsonEscape, b"p@ss/word".as_slice())));
    }

    #[test]
    fn joins_line_wrapped_base64() {
        let text = b"0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij";
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
        let wrapped: String = encoded
            .as_bytes()
            .chunks(16)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        let found = runs(wrapped.as_bytes());
        assert!(found
            .iter()
            .any(|(l, d)| *l == Layer::Base64 && &d[..] == text));
    }

    #[test]
    fn utf16_text_is_narrowed() {
        let wide: Vec<u8> = "token=abcdefgh".bytes().flat_map(|b| [b, 0]).collect();
        let found = runs(&wide);
        assert!(found
            .iter()
            .any(|(l, d)| *l == Layer::Utf16 && &d[..] == b"token=abcdefgh"));
    }

    #[test]
    fn big_endian_utf16_keeps_its_last_character() {
        let wide: Vec<u8> = "token=abcdefgh".bytes().flat_map(|b| [0, b]).collect();
        for hay in [wide.clone(), [b"v: ".as_slice(), &wide, b" ;"].concat()] {
            let found = runs(&hay);
            assert!(
                found
                    .iter()
                    .any(|(l, d)| *l == Layer::Utf16
                        && d.windows(14).any(|w| w == b"token=abcdefgh")),
                "{found:?}"
            );
        }
    }

    #[test]
    fn describes_paths() {
        let path = DecodePath::default()
            .push(Layer::Base64)
            .push(Layer::JsonEscape);
        assert_eq!(path.describe(), "base64 > json");
        assert_eq!(DecodePath::default().describe(), "raw");
    }
}
