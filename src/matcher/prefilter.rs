//! A SIMD prefilter: the first bytes of every pattern, searched with Teddy.
//!
//! The variants of one secret mostly share their first bytes (every escaping of a secret
//! that starts with a letter starts like the raw secret; the wrapped base64 variants start
//! like the unwrapped ones), so a few dozen short prefixes stand for a few hundred patterns.
//! Teddy finds those prefixes several times faster than an automaton walks every byte, and
//! the full automaton then runs only at each candidate. When the prefixes are too
//! many for Teddy, or the CPU lacks the instructions, there is no prefilter and the automaton
//! scans every byte.

use aho_corasick::packed::{Config, MatchKind, Searcher};
use aho_corasick::Span;

/// Bytes of each pattern that go into the prefilter (every pattern is at least this long:
/// secrets have 8 bytes or more, and no encoding shortens them below that).
const PREFIX_LEN: usize = 4;
/// Beyond this many distinct prefixes Teddy's false-positive rate climbs; the plain automaton
/// is then faster.
const MAX_PREFIXES: usize = 64;

pub(crate) struct Prefilter {
    searcher: Searcher,
}

impl Prefilter {
    pub(crate) fn new<'p>(patterns: impl Iterator<Item = &'p [u8]>) -> Option<Prefilter> {
        let mut prefixes: Vec<&[u8]> = Vec::new();
        for pattern in patterns {
            let prefix = pattern.get(..PREFIX_LEN)?;
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
            if prefixes.len() > MAX_PREFIXES {
                return None;
            }
        }
        let searcher = Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .only_teddy(true)
            .builder()
            .extend(&prefixes)
            .build()?;
        Some(Prefilter { searcher })
    }

    /// The next position in `starts` where some pattern may begin.
    pub(crate) fn next_candidate(&self, haystack: &[u8], from: usize, end: usize) -> Option<usize> {
        if from >= end {
            return None;
        }
        let span_end = haystack.len().min(end + PREFIX_LEN - 1);
        self.searcher
            .find_in(haystack, Span::from(from..span_end))
            .map(|m| m.start())
            .filter(|&start| start < end)
    }
}
