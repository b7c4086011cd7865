//! YAML line folding: in folded (`>`) block scalars and in plain and quoted multi-line
//! scalars, a line break and the indentation after it stand for one space. Emitters
//! (PyYAML, libyaml, Ruby's Psych) break long values at a space, so a secret holding a
//! space can be split over two lines.
//!
//! Only YAML leaves are folded: a file or member named `.yaml`/`.yml` (anywhere in the
//! chain, so a run decoded from one too), or one whose first line is `---`, `%YAML` or a
//! `key:`. In them, an indented line that is not a mapping key, a list item or a comment
//! continues the line before it; each group with a continuation is folded (lines joined by
//! one space, trailing and leading blanks dropped), and the folded groups of a leaf go
//! through the pipeline as one run, with a map from each line back to the leaf. Escaped line
//! breaks in double-quoted scalars (`\` at the end of a line) are the backslash layer's.

use super::lines::{Line, LineFinder};
use super::wake::Wake;
use super::{DecodedRun, Sink};

/// Folded bytes after which the run is handed on and a new one begun.
const GROUP: usize = 1 << 20;
/// Longest line folded.
const MAX_LINE: usize = 64 << 10;

/// Whether a file name is a YAML file's.
pub(crate) fn is_yaml_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// `key:` followed by a space or the end of the line (also a quoted key).
fn is_key(content: &[u8]) -> bool {
    let key_len = if let Some(quoted) = content.strip_prefix(b"\"") {
        match memchr::memchr(b'"', quoted) {
            Some(end) => end + 2,
            None => return false,
        }
    } else {
        content
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
            .count()
    };
    key_len > 0
        && content.get(key_len) == Some(&b':')
        && content
            .get(key_len + 1)
            .is_none_or(|&b| b == b' ' || b == b'\t')
}

/// A line ending in a literal block indicator: `|`, `|-`, `|+`, `|2`...
fn starts_literal_block(content: &[u8]) -> bool {
    let Some(bar) = memchr::memrchr(b'|', content) else {
        return false;
    };
    let indicator = &content[bar + 1..];
    indicator.len() <= 2
        && indicator
            .iter()
            .all(|&b| matches!(b, b'-' | b'+' | b'1'..=b'9'))
        && (bar == 0 || content[bar - 1] == b' ')
}

/// Folded groups: where the first starts, their text, and the map back to the leaf.
type Folded = (u64, Vec<u8>, Vec<(u64, u64)>);

struct Group {
    text: Vec<u8>,
    map: Vec<(u64, u64)>,
    joins: usize,
}

pub(crate) struct YamlFoldRuns {
    /// Whether the leaf is YAML (`None`: decided by its first line).
    enabled: Option<bool>,
    /// Inside a literal block scalar (`|`) begun by a line with this indentation: its lines
    /// keep their breaks (an ansible-vault value, base64 in a manifest), nothing is folded.
    literal: Option<usize>,
    group: Option<Group>,
    /// The folded groups so far, and where the first one starts.
    run: Option<Folded>,
}

impl YamlFoldRuns {
    pub(crate) fn new(yaml_name: bool) -> YamlFoldRuns {
        YamlFoldRuns {
            enabled: yaml_name.then_some(true),
            literal: None,
            group: None,
            run: None,
        }
    }

    fn end_group(&mut self, at: u64) {
        let Some(group) = self.group.take() else {
            return;
        };
        if group.joins == 0 {
            return;
        }
        let (_, text, map) = self.run.get_or_insert_with(|| {
            (
                group.map.first().map_or(at, |&(_, leaf)| leaf),
                Vec::new(),
                Vec::new(),
            )
        });
        let base = text.len() as u64;
        map.extend(
            group
                .map
                .iter()
                .map(|&(folded, leaf)| (base + folded, leaf)),
        );
        text.extend_from_slice(&group.text);
        text.push(b'\n');
    }

    fn emit(&mut self, end: u64, sink: &mut Sink) {
        if let Some((start, bytes, map)) = self.run.take() {
            sink.offer(DecodedRun {
                encoding: "yaml-fold",
                offset: start,
                encoded_len: end.saturating_sub(start),
                bytes,
                truncated: false,
                map,
            });
        }
    }
}

impl LineFinder for YamlFoldRuns {
    fn wake(&self) -> Wake {
        match self.enabled {
            Some(false) => Wake::Never,
            _ => Wake::Always,
        }
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let text = line.within(MAX_LINE);
        if self.enabled.is_none() {
            let Some(text) = text else {
                self.enabled = Some(false);
                return;
            };
            let first = text.trim_ascii();
            if first.is_empty() || first.starts_with(b"#") {
                return;
            }
            self.enabled =
                Some(first.starts_with(b"---") || first.starts_with(b"%YAML") || is_key(first));
        }
        if self.enabled != Some(true) {
            return;
        }
        let Some(text) = text else {
            self.end_group(line.start);
            return;
        };
        let content = text.trim_ascii();
        if content.is_empty() {
            self.end_group(line.start);
            return;
        }
        let indent = text.len() - text.trim_ascii_start().len();
        match self.literal {
            Some(block) if indent > block => return,
            _ => self.literal = None,
        }
        if starts_literal_block(content) {
            self.end_group(line.start);
            self.literal = Some(indent);
            return;
        }
        let continues = self.group.is_some()
            && indent > 0
            && !is_key(content)
            && !content.starts_with(b"- ")
            && content != b"-"
            && !content.starts_with(b"#");
        if !continues {
            self.end_group(line.start);
        }
        let group = self.group.get_or_insert_with(|| Group {
            text: Vec::new(),
            map: Vec::new(),
            joins: 0,
        });
        if continues {
            group.text.push(b' ');
            group.joins += 1;
        }
        group
            .map
            .push((group.text.len() as u64, line.start + indent as u64));
        group.text.extend_from_slice(content);
        if self
            .run
            .as_ref()
            .is_some_and(|(_, text, _)| text.len() >= GROUP)
        {
            self.emit(line.start, sink);
        }
    }

    fn finish(&mut self, end: u64, sink: &mut Sink) {
        self.end_group(end);
        self.emit(end, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"Zx9 Qw7 'p\"Lm3 Rt8 vB2 Kd4 Nc1";

    fn folded(prefix: &str) -> String {
        let text = String::from_utf8_lossy(SECRET).replace('\'', "''");
        let (head, tail) = text.split_at(8);
        format!(
            "{prefix}service:\n  password: '{}\n    {}'\n  port: 80\n",
            head.trim_end(),
            tail
        )
    }

    #[test]
    fn a_single_quoted_scalar_split_at_a_space_is_folded() {
        let sample = folded("");
        assert!(memchr::memmem::find(sample.as_bytes(), SECRET).is_none());
        let places = scan_memory(SECRET, "values.yaml", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}\n{sample}");
        assert!(
            places[0].0.starts_with("values.yaml › yaml-fold@"),
            "{places:?}"
        );
        // Recognised by its content too.
        let places = scan_memory(SECRET, "values.txt", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
    }

    #[test]
    fn a_folded_block_scalar_is_folded_and_plain_text_is_not() {
        let text = String::from_utf8_lossy(SECRET).into_owned();
        let (head, tail) = text.split_at(8);
        let sample = format!("note: >\n  {}\n  {}\nother: 1\n", head.trim_end(), tail);
        let places = scan_memory(SECRET, "n.yml", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        let prose = format!("Dear team,\n  {}\n  {}\n", head.trim_end(), tail);
        assert!(scan_memory(SECRET, "letter.txt", prose.as_bytes())
            .places()
            .is_empty());
    }
}
