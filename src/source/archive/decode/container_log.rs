//! Container logs re-joined: docker's json-file driver and CRI (`/var/log/pods`) logs.
//!
//! Both split a long output line into entries: docker writes at most 16 KiB of a line per
//! `{"log":"...","stream":"stdout","time":"..."}` entry, the last one ending in `\n`; CRI
//! writes `<time> <stream> P <text>` for partial entries and `F` for the final one. A
//! secret at a cut is in no entry whole. This layer reads the entries (JSON-unescaping
//! docker's `log` value), joins partial entries to the line they belong to, and hands the
//! joined text to the pipeline as a decoded run named `container-log@<offset>` (the
//! terminal view then also removes colour codes from it). Only groups that hold a partial
//! entry are handed on: without one, the joined text is what the raw scan already read.
//! A group is cut at a complete line once it holds [`GROUP`] bytes, so logs of any size
//! stay within the decode budgets without splitting a line.

use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink};

/// Longest entry line read (docker's 16 KiB of text, escaped, plus the JSON around it).
const MAX_LINE: usize = 128 << 10;
/// Joined bytes after which a group ends at the next complete line.
const GROUP: usize = 1 << 20;

struct Group {
    start: u64,
    text: Vec<u8>,
    /// (offset in `text`, offset in the leaf) where each entry's text starts.
    map: Vec<(u64, u64)>,
    partial: bool,
}
pub(crate) struct ContainerLogRuns {
    group: Option<Group>,
}

/// Appends a JSON string body with its escapes decoded (`\uXXXX` with surrogate pairs);
/// an escape that is no escape is kept as it is. Never fails.
fn json_unescape(encoded: &[u8], out: &mut Vec<u8>) {
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
        let mut code = u32::from(unit);
        if (0xD800..0xDC00).contains(&unit) && encoded.get(at..at + 2) == Some(b"\\u") {
            if let Some(low) = hex4(encoded, at + 2).filter(|l| (0xDC00..0xE000).contains(l)) {
                code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
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

/// An entry's text (decoded), whether it is partial, and where its text starts in the line.
fn parse_entry(line: &[u8], text: &mut Vec<u8>) -> Option<(bool, usize)> {
    text.clear();
    if let Some(value_at) = docker_log_value(line) {
        let rest = &line[value_at..];
        let mut end = 0;
        while end < rest.len() && rest[end] != b'"' {
            end += if rest[end] == b'\\' { 2 } else { 1 };
        }
        let value = rest.get(..end)?;
        json_unescape(value, text);
        let partial = text.last() != Some(&b'\n');
        return Some((partial, value_at));
    }
    // CRI: `<RFC 3339 time> <stdout|stderr> <P|F> <text>`.
    let mut fields = line.splitn(4, |&b| b == b' ');
    let time = fields.next()?;
    let stream = fields.next()?;
    let tag = fields.next()?;
    let body = fields.next().unwrap_or(b"");
    let looks_like_time = time.len() >= 20 && time[..4].iter().all(u8::is_ascii_digit);
    if !looks_like_time || !matches!(stream, b"stdout" | b"stderr") {
        return None;
    }
    let partial = match tag.split(|&b| b == b':').next() {
        Some(b"P") => true,
        Some(b"F") => false,
        _ => return None,
    };
    text.extend_from_slice(body);
    if !partial {
        text.push(b'\n');
    }
    Some((partial, line.len() - body.len()))
}

/// Where the `log` string's value starts in a docker json-file entry: `{"log":"` as docker
/// writes it, or with blanks around the colon as the entry is when re-serialised by a log
/// shipper or a pretty-printer (`{"log": "`).
fn docker_log_value(line: &[u8]) -> Option<usize> {
    let mut at = 0;
    for token in [&b"{"[..], b"\"log\"", b":", b"\""] {
        at += line[at..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if !line[at..].starts_with(token) {
            return None;
        }
        at += token.len();
    }
    Some(at)
}

impl ContainerLogRuns {
    pub(crate) fn new() -> ContainerLogRuns {
        ContainerLogRuns { group: None }
    }

    /// The group ends just before `end`.
    fn emit(&mut self, end: u64, sink: &mut Sink) {
        let Some(group) = self.group.take() else {
            return;
        };
        if !group.partial {
            return;
        }
        sink.offer(DecodedRun {
            encoding: "container-log",
            offset: group.start,
            encoded_len: end - group.start,
            bytes: group.text,
            truncated: false,
            map: group.map,
        });
    }
}

/// Whether a line can be an entry at all: a docker entry starts with `{` (after blanks), a
/// CRI entry with the digits of its time and then its stream. Most lines of most files
/// (timestamped CI logs too) are neither, and these few looks are all they cost.
fn may_be_entry(line: &[u8]) -> bool {
    match line.iter().find(|&&b| b != b' ' && b != b'\t') {
        Some(b'{') => true,
        Some(first) if first.is_ascii_digit() => memchr::memchr(b' ', line).is_some_and(|space| {
            let stream = &line[space + 1..];
            stream.starts_with(b"stdout ") || stream.starts_with(b"stderr ")
        }),
        _ => false,
    }
}

/// An entry is docker's `"log"` key or a CRI stream field (` stdout `, ` stderr `), named
/// from their second byte on: the wake literals are searched for together by their first
/// bytes, and ` s` (` status`, ` step`) starts a word on nearly every line of a log, where
/// `td` starts almost none.
const ENTRY_MARKS: &[Atom] = &[
    Atom::Literal(b"\"log\""),
    Atom::Literal(b"tdout "),
    Atom::Literal(b"tderr "),
];

impl LineFinder for ContainerLogRuns {
    fn atoms(&self) -> &[Atom] {
        ENTRY_MARKS
    }

    fn wake(&self) -> Wake {
        match self.group {
            None => Wake::Atoms,
            Some(_) => Wake::Always,
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let mut text = Vec::new();
        let entry = line
            .within(MAX_LINE)
            .filter(|bytes| may_be_entry(bytes))
            .and_then(|bytes| parse_entry(bytes, &mut text));
        match entry {
            None => self.emit(line.start, sink),
            Some((partial, text_at)) => {
                let group = self.group.get_or_insert_with(|| Group {
                    start: line.start,
                    text: Vec::new(),
                    map: Vec::new(),
                    partial: false,
                });
                group
                    .map
                    .push((group.text.len() as u64, line.start + text_at as u64));
                group.text.extend_from_slice(&text);
                group.partial |= partial;
                if !partial && group.text.len() >= GROUP {
                    self.emit(line.end, sink);
                }
            }
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.emit(end, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"xoxb-8812734-Qm3ZtV9pLw2Kd7Rs";

    fn long_line_with_secret_at(cut: usize) -> Vec<u8> {
        let mut line = b"config dump: ".to_vec();
        while line.len() < cut - 10 {
            line.extend_from_slice(b"abcdefghij");
        }
        line.truncate(cut - 10);
        line.extend_from_slice(SECRET);
        line.extend_from_slice(b" end of line");
        line
    }

    #[test]
    fn docker_entries_re_serialised_with_blanks_are_joined() {
        let line = long_line_with_secret_at(16 * 1024);
        let mut log = Vec::new();
        for (i, piece) in line.chunks(16 * 1024).enumerate() {
            let last = (i + 1) * 16 * 1024 >= line.len();
            let newline = if last { "\\n" } else { "" };
            let piece = String::from_utf8_lossy(piece);
            log.extend_from_slice(
                format!("{{\"log\": \"{piece}{newline}\", \"stream\": \"stdout\"}}\n").as_bytes(),
            );
        }
        assert!(memchr::memmem::find(&log, SECRET).is_none());
        let places = scan_memory(SECRET, "c-json.log", &log).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("c-json.log › container-log@"),
            "{places:?}"
        );
    }

    #[test]
    fn docker_json_file_entries_split_at_16k_are_joined() {
        let line = long_line_with_secret_at(16 * 1024);
        let mut log =
            b"{\"log\":\"starting\\n\",\"stream\":\"stdout\",\"time\":\"2025-01-01T00:00:00Z\"}\n"
                .to_vec();
        for (i, piece) in line.chunks(16 * 1024).enumerate() {
            let last = (i + 1) * 16 * 1024 >= line.len();
            let value = String::from_utf8_lossy(piece).replace('"', "\\\"");
            let newline = if last { "\\n" } else { "" };
            log.extend_from_slice(
                format!("{{\"log\":\"{value}{newline}\",\"stream\":\"stdout\",\"time\":\"2025-01-01T00:00:01.{i:09}Z\"}}\n")
                    .as_bytes(),
            );
        }
        assert!(memchr::memmem::find(&log, SECRET).is_none());
        let places = scan_memory(SECRET, "c-json.log", &log).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("c-json.log › container-log@"),
            "{places:?}"
        );
    }

    #[test]
    fn cri_partial_entries_are_joined_and_whole_ones_not_reported_twice() {
        let line = long_line_with_secret_at(16 * 1024);
        let mut log = Vec::new();
        let (first, second) = line.split_at(16 * 1024);
        log.extend_from_slice(b"2025-01-01T00:00:00.000000001Z stdout P ");
        log.extend_from_slice(first);
        log.extend_from_slice(b"\n2025-01-01T00:00:00.000000002Z stdout F ");
        log.extend_from_slice(second);
        log.extend_from_slice(b"\n2025-01-01T00:00:00.000000003Z stderr F token ");
        log.extend_from_slice(SECRET);
        log.push(b'\n');
        let places = scan_memory(SECRET, "0.log", &log).places();
        assert_eq!(places.len(), 2, "{places:?}");
        assert!(places.iter().any(|(chain, _)| chain == "0.log"));
        assert!(places
            .iter()
            .any(|(chain, _)| chain.starts_with("0.log › container-log@0")));
    }
}
