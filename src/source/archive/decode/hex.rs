//! Hex dumps and hex byte lists spread over lines: `xxd`, `hexdump -C`, `od -A x -t x1z`,
//! `curl --trace`, and `.reg` `hex(2):` values with `\` continuations.
//!
//! A dump shows 16 bytes a line, so a secret longer than that is never whole in its ASCII
//! column nor in one run of hex digits the automaton could match. The finder reads lines:
//! a dump line is an offset (hex digits ending in `:`, or at least 6 hex digits), then
//! groups of an even number of hex digits separated by single spaces (hexdump's double
//! space after 8 bytes too), ending at the ASCII column (two spaces, `|` or `>`) or at a
//! token that is not a group. A `.reg` value is `hex:` or `hex(N):` followed by
//! comma-separated bytes, continued on lines ending in `\`. Consecutive such lines form one
//! block, decoded to the bytes they show. `od -x` (little-endian words) and octal `od` are
//! not read.

use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink, RUN_BUDGET};

/// Longest line looked at; dump lines are short.
const MAX_LINE: usize = 4096;

pub(crate) struct HexDumpRuns {
    /// Inside a `.reg` value whose last line ended in `\`.
    continued: bool,
    block: Option<(u64, Vec<u8>, bool)>,
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn is_hex(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(u8::is_ascii_hexdigit)
}

fn push_hex(token: &[u8], out: &mut Vec<u8>) {
    for pair in token.chunks_exact(2) {
        if let (Some(high), Some(low)) = (hex_value(pair[0]), hex_value(pair[1])) {
            out.push(high << 4 | low);
        }
    }
}

/// The bytes a dump line shows, if it is one.
fn dump_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    let text = line.trim_ascii_start();
    let offset_len = text.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let mut at = offset_len;
    match text.get(at) {
        Some(b':') if offset_len >= 4 => at += 1,
        Some(b' ') if offset_len >= 6 => {}
        _ => return false,
    }
    let before = out.len();
    let mut width = 0;
    loop {
        let spaces = text[at..].iter().take_while(|&&b| b == b' ').count();
        if spaces == 0 || at + spaces >= text.len() {
            break;
        }
        let mid_gap = spaces == 2 && width == 2 && out.len() - before == 8;
        if spaces > 1 && !mid_gap && width != 0 {
            break;
        }
        at += spaces;
        let token_len = text[at..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let token = &text[at..at + token_len];
        let ends = text.get(at + token_len).is_none_or(|&b| b == b' ');
        if !ends || !token_len.is_multiple_of(2) || (width != 0 && token_len != width) {
            break;
        }
        width = token_len;
        push_hex(token, out);
        at += token_len;
    }
    out.len() > before
}

/// The searcher for `=hex`, built once: building one per line cost more than the search.
fn reg_marker() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(b"=hex"))
}

/// A block starts at a dump line (its offset) or a `.reg` value (`=hex`).
const BLOCK_STARTS: &[Atom] = &[Atom::DumpOffset, Atom::Literal(b"=hex")];

/// The bytes of a `.reg` line (`"x"=hex(2):70,00,...,\` or a continuation `  61,00,\`) and
/// whether it continues.
fn reg_line(line: &[u8], continued: bool, out: &mut Vec<u8>) -> Option<bool> {
    let mut text = line.trim_ascii();
    if !continued {
        let at = reg_marker().find(text)?;
        let colon = at + memchr::memchr(b':', &text[at..])?;
        if colon - at > 8 {
            return None;
        }
        text = &text[colon + 1..];
    }
    let continues = text.last() == Some(&b'\\');
    if continues {
        text = &text[..text.len() - 1];
    }
    for token in text.split(|&b| b == b',') {
        let token = token.trim_ascii();
        if token.is_empty() {
            continue;
        }
        if token.len() != 2 || !is_hex(token) {
            return None;
        }
        push_hex(token, out);
    }
    Some(continues)
}

impl HexDumpRuns {
    pub(crate) fn new() -> HexDumpRuns {
        HexDumpRuns {
            continued: false,
            block: None,
        }
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some((start, bytes, truncated)) = self.block.take() {
            sink.offer(DecodedRun {
                encoding: "hexdump",
                offset: start,
                encoded_len: end - start,
                bytes,
                truncated,
                map: Vec::new(),
            });
        }
    }
}

impl LineFinder for HexDumpRuns {
    fn atoms(&self) -> &[Atom] {
        BLOCK_STARTS
    }

    fn wake(&self) -> Wake {
        if self.block.is_none() && !self.continued {
            Wake::Atoms
        } else {
            Wake::Always
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let mut decoded = Vec::new();
        let is_block_line = match line.within(MAX_LINE) {
            None => false,
            Some(text) => match reg_line(text, self.continued, &mut decoded) {
                Some(continues) => {
                    self.continued = continues;
                    true
                }
                None => {
                    self.continued = false;
                    decoded.clear();
                    dump_line(text, &mut decoded)
                }
            },
        };
        if is_block_line {
            let block = self
                .block
                .get_or_insert_with(|| (line.start, Vec::new(), false));
            if block.1.len() + decoded.len() > RUN_BUDGET {
                block.2 = true;
            } else {
                block.1.extend_from_slice(&decoded);
            }
        } else {
            self.emit(line.start, sink);
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"ghp_R7tYq2LmXw9BvK4sZp1NcD8";

    fn payload() -> Vec<u8> {
        let mut text = b"POST /api HTTP/1.1\r\nAuthorization: token ".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\r\n\r\n");
        text
    }

    fn assert_found_in_dump(name: &str, dump: &str) {
        assert!(memchr::memmem::find(dump.as_bytes(), SECRET).is_none());
        let places = scan_memory(SECRET, name, dump.as_bytes()).places();
        assert_eq!(places.len(), 1, "{name}: {places:?}\n{dump}");
        assert!(
            places[0].0.starts_with(&format!("{name} › hexdump@")),
            "{places:?}"
        );
    }

    fn ascii(chunk: &[u8]) -> String {
        chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect()
    }

    #[test]
    fn xxd_hexdump_and_od_layouts_are_decoded() {
        let bytes = payload();
        let mut xxd = String::new();
        let mut canonical = String::new();
        let mut od = String::new();
        for (line, chunk) in bytes.chunks(16).enumerate() {
            let pairs: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let groups: Vec<String> = pairs.chunks(2).map(|p| p.concat()).collect();
            xxd.push_str(&format!(
                "{:08x}: {:<39}  {}\n",
                line * 16,
                groups.join(" "),
                ascii(chunk)
            ));
            let (left, right) = pairs.split_at(pairs.len().min(8));
            canonical.push_str(&format!(
                "{:08x}  {:<23}  {:<23}  |{}|\n",
                line * 16,
                left.join(" "),
                right.join(" "),
                ascii(chunk)
            ));
            od.push_str(&format!(
                "{:06x} {:<47}  >{}<\n",
                line * 16,
                pairs.join(" "),
                ascii(chunk)
            ));
        }
        assert_found_in_dump("xxd.txt", &xxd);
        assert_found_in_dump("hexdump.txt", &canonical);
        assert_found_in_dump("od.txt", &od);
    }

    #[test]
    fn reg_hex2_values_with_continuations_are_decoded() {
        let wide: Vec<String> = payload()
            .iter()
            .flat_map(|&b| [b, 0])
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut value = String::from("\"Env\"=hex(2):");
        for (i, chunk) in wide.chunks(25).enumerate() {
            if i > 0 {
                value.push_str(",\\\r\n  ");
            }
            value.push_str(&chunk.join(","));
        }
        let sample = format!("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Environment]\r\n{value}\r\n\r\n");
        assert_found_in_dump("env.reg", &sample);
    }
}
