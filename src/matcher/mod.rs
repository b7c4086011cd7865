//! The matcher: one automaton that finds every encoding of every secret in one pass.
//!
//! At start-up every [`encodings::Encoding`] turns every secret into its exact byte
//! patterns; duplicates are dropped (the first encoding in [`encodings::all`] keeps the
//! name) and the rest are compiled into a single Aho-Corasick automaton. Scanning a byte
//! stream is then one pass of that automaton, whatever the number of secrets and encodings.
//! A few patterns (base64 cores) are confirmed by the characters just outside them before
//! they count as a [`Hit`].
//!
//! Streams are scanned through a fixed-size window ([`stream`]), so memory stays bounded for
//! files of any size and matches that straddle two reads are still found exactly once.

pub mod encodings;
mod lines;
pub mod normalise;
mod stream;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use zeroize::Zeroizing;

use crate::secret::Secret;
use encodings::Edges;

pub use stream::{ScanBuffer, StreamOutcome};

/// What one compiled pattern stands for. Never holds the pattern's bytes.
#[derive(Debug, Clone)]
pub struct PatternInfo {
    /// Index of the secret in the list the matcher was built from.
    pub secret: usize,
    pub encoding: &'static str,
    pub detail: String,
    edges: Edges,
    len: usize,
}

/// One confirmed occurrence of a pattern in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub pattern: usize,
    /// Byte offset of the first byte of the match in the stream.
    pub offset: u64,
    pub len: u64,
    /// 1-based line (counting `\n`) and 1-based byte column of `offset`.
    pub line: u64,
    pub column: u64,
}

pub struct Matcher {
    automaton: AhoCorasick,
    patterns: Vec<PatternInfo>,
    longest: usize,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Matcher {
    /// Compiles every encoding of every secret into one automaton.
    pub fn new(secrets: &[Secret]) -> anyhow::Result<Matcher> {
        // Keyed by a hash of the pattern so the set itself holds no secret-derived bytes.
        let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut bytes: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut patterns = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            for encoding in encodings::all() {
                for variant in encoding.variants(secret.expose()) {
                    let same = seen.entry(hash_of(&variant.pattern)).or_default();
                    if variant.pattern.is_empty()
                        || same.iter().any(|&i| bytes[i][..] == variant.pattern[..])
                    {
                        continue;
                    }
                    same.push(bytes.len());
                    patterns.push(PatternInfo {
                        secret: index,
                        encoding: encoding.name(),
                        detail: variant.detail,
                        edges: variant.edges,
                        len: variant.pattern.len(),
                    });
                    bytes.push(variant.pattern);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(bytes.iter().map(|p| &p[..]))
            .map_err(|e| anyhow::anyhow!("could not compile the secrets' patterns: {e}"))?;
        let longest = patterns.iter().map(|p| p.len).max().unwrap_or(0);
        Ok(Matcher {
            automaton,
            patterns,
            longest,
        })
    }

    pub fn pattern(&self, id: usize) -> &PatternInfo {
        &self.patterns[id]
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Bytes of a stream that must be seen together for no match to be missed: the longest
    /// pattern plus the context its edge checks look at on either side.
    pub fn span_needed(&self) -> usize {
        self.longest + 2 * Edges::CONTEXT
    }

    /// Every confirmed match of `window` that starts inside `starts`, in no particular order.
    /// Bytes of `window` outside `starts` serve as context only.
    pub(crate) fn for_each_match(
        &self,
        window: &[u8],
        starts: Range<usize>,
        mut on_match: impl FnMut(usize, usize),
    ) {
        if starts.start >= starts.end {
            return;
        }
        let search_end = window.len().min(starts.end + self.longest);
        let input = Input::new(window).span(starts.start..search_end);
        for found in self.automaton.find_overlapping_iter(input) {
            if found.start() >= starts.end {
                continue;
            }
            let info = &self.patterns[found.pattern().as_usize()];
            if info.edges.is_none() || info.edges.hold(window, found.start(), found.end()) {
                on_match(found.pattern().as_usize(), found.start());
            }
        }
    }

    /// Scans bytes already in memory (a git blob, a decoded member).
    pub fn scan_slice(&self, bytes: &[u8]) -> Vec<Hit> {
        let mut located = Vec::new();
        self.for_each_match(bytes, 0..bytes.len(), |pattern, start| {
            located.push((start, pattern))
        });
        lines::LineTracker::default().locate(bytes, 0, located, |p| self.patterns[p].len)
    }

    /// Scans a stream through `buffer`, calling `observe` once on every byte read (in order),
    /// so a digest can be computed in the same pass.
    pub fn scan_reader(
        &self,
        reader: impl std::io::Read,
        buffer: &mut ScanBuffer,
        observe: &mut dyn FnMut(&[u8]),
    ) -> StreamOutcome {
        stream::scan(self, reader, buffer, observe)
    }
}

fn hash_of(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(secrets: &[&[u8]]) -> Matcher {
        let secrets: Vec<Secret> = secrets
            .iter()
            .map(|s| Secret::new(s.to_vec(), "test").unwrap())
            .collect();
        Matcher::new(&secrets).unwrap()
    }

    #[test]
    fn one_automaton_finds_each_encoding() {
        let m = matcher(&[b"tok_4f9a2b7c"]);
        let hay = b"a tok_4f9a2b7c b 746f6b5f3466396132623763 c dG9rXzRmOWEyYjdj d";
        let hits = m.scan_slice(hay);
        let encodings: Vec<_> = hits.iter().map(|h| m.pattern(h.pattern).encoding).collect();
        assert_eq!(encodings, ["raw", "hex", "base64"]);
        assert_eq!(hits[0].offset, 2);
        assert_eq!(hits[0].column, 3);
    }

    #[test]
    fn reports_lines_and_columns() {
        let m = matcher(&[b"abcdefgh12"]);
        let hits = m.scan_slice(b"x\ny\n  abcdefgh12\nabcdefgh12");
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].line, hits[0].column), (3, 3));
        assert_eq!((hits[1].line, hits[1].column), (4, 1));
    }

    #[test]
    fn duplicate_patterns_keep_the_first_encoding() {
        let m = matcher(&[b"plainalnum123"]);
        let raw_like = (0..m.pattern_count())
            .filter(|&i| m.pattern(i).len == 13)
            .map(|i| m.pattern(i).encoding)
            .collect::<Vec<_>>();
        assert_eq!(raw_like, ["raw"]);
    }
}
