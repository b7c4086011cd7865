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
//!
//! A matcher built [`Matcher::with_ledger`] also extracts hash-mode candidates from the same
//! windows ([`hash_mode`]), so a ledger scan still reads every byte once. Ledger entries have
//! no forward-encoded variants: encoded content reaches hash mode through the content
//! pipeline's decode layers, which send decoded runs through the matcher again.

pub mod encodings;
mod grams;
mod hash_mode;
mod lines;
pub mod normalise;
mod prefilter;
mod stream;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use zeroize::Zeroizing;

use crate::secret::Secret;
use encodings::Edges;

pub use stream::{ScanBuffer, Splices, StreamOutcome};

/// Up to this many pattern bytes (a few ordinary secrets with all their variants), the
/// automaton is a full DFA: measured here it scans 1.4-2x faster than the NFA the library
/// picks by default for a few hundred patterns, and it does not slow down on zero-filled or
/// binary data where the NFA's prefilter keeps firing on the NUL bytes of UTF-16 patterns.
/// Its size grows with the pattern bytes (about 0.5 KiB per byte), hence the cap.
const DFA_PATTERN_BYTES: usize = 16 * 1024;

/// Beyond this many pattern bytes (about 15 ordinary secrets with all their variants) the
/// gram index replaces the automaton whatever the prefixes.
const GRAM_PATTERN_BYTES: usize = 256 * 1024;

/// What one compiled pattern stands for. Never holds the pattern's bytes.
#[derive(Debug, Clone)]
pub struct PatternInfo {
    /// Index of the secret in the list the matcher was built from.
    pub secret: usize,
    pub encoding: &'static str,
    pub detail: Arc<str>,
    edges: Edges,
    len: usize,
    /// Whether this pattern is a plaintext secret's encoding or a ledger entry.
    pub mode: Mode,
}

/// How a secret is looked for (plaintext or by hash): part of the data model.
pub use crate::model::Mode;

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
    /// For a ledger hit: which entry, through which rule (encoded content is decoded by the
    /// content pipeline, which names the layers in the finding's chain).
    pub ledger: Option<crate::ledger::LedgerVia>,
}

/// How the plaintext patterns are searched.
enum Engine {
    /// Few distinct prefixes: Teddy finds candidates, the automaton confirms them (or, without
    /// a prefilter, walks every byte).
    Automaton {
        automaton: AhoCorasick,
        prefilter: Option<prefilter::Prefilter>,
    },
    /// Too many prefixes for Teddy: the hashed gram index, which stays fast and small for
    /// thousands of secrets where the automaton becomes a large NFA without a prefilter.
    Grams(grams::GramIndex),
}

pub struct Matcher {
    engine: Engine,
    patterns: Vec<PatternInfo>,
    longest: usize,
    /// Bytes of the shortest non-empty pattern or ledger entry (see [`Matcher::shortest_pattern`]),
    /// kept because every text the redactor checks asks for it.
    shortest: usize,
    /// Patterns `0..plaintext_patterns` are in the automaton; the rest stand for ledger
    /// entries (see [`hash_mode`]).
    plaintext_patterns: usize,
    extractor: Option<crate::ledger::Extractor>,
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
        Matcher::build(secrets, true)
    }

    /// `allow_grams: false` keeps the automaton for any number of patterns (tests compare
    /// the two engines).
    fn build(secrets: &[Secret], allow_grams: bool) -> anyhow::Result<Matcher> {
        let mut set = PatternSet::default();
        // Details repeat across secrets (the same wrap width and offset for each); one copy
        // of each is shared.
        let mut details: HashSet<Arc<str>> = HashSet::new();
        let mut patterns = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            for encoding in encodings::all() {
                for variant in encoding.variants(secret.expose()) {
                    if !set.insert(&variant.pattern) {
                        continue;
                    }
                    let detail = match details.get(&variant.detail) {
                        Some(shared) => Arc::clone(shared),
                        None => {
                            details.insert(Arc::clone(&variant.detail));
                            variant.detail
                        }
                    };
                    patterns.push(PatternInfo {
                        secret: index,
                        encoding: encoding.name(),
                        detail,
                        edges: variant.edges,
                        len: variant.pattern.len(),
                        mode: Mode::Plaintext,
                    });
                }
            }
        }
        drop(details);
        let engine = Engine::new(set, allow_grams)?;
        let longest = patterns.iter().map(|p| p.len).max().unwrap_or(0);
        let shortest = shortest_of(&patterns);
        Ok(Matcher {
            engine,
            plaintext_patterns: patterns.len(),
            patterns,
            longest,
            shortest,
            extractor: None,
        })
    }

    pub fn pattern(&self, id: usize) -> &PatternInfo {
        &self.patterns[id]
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Bytes of the shortest thing looked for (a plaintext pattern or a ledger entry): fewer
    /// decoded bytes than this cannot hold a finding, so decode layers skip them.
    pub fn shortest_pattern(&self) -> usize {
        self.shortest
    }

    /// Bytes of a stream that must be seen together for no match to be missed: the longest
    /// pattern plus the context its edge checks look at on either side.
    pub fn span_needed(&self) -> usize {
        let candidates = self.extractor.as_ref().map_or(0, |e| e.span_needed());
        self.longest.max(candidates) + 2 * Edges::CONTEXT
    }

    /// Every confirmed match of `window` that starts inside `starts`, in no particular order.
    /// Bytes of `window` outside `starts` serve as context only.
    pub(crate) fn for_each_match(
        &self,
        window: &[u8],
        starts: Range<usize>,
        mut on_match: impl FnMut(usize, usize),
    ) {
        if starts.start >= starts.end || self.plaintext_patterns == 0 {
            return;
        }
        let search_end = window.len().min(starts.end + self.longest);
        let mut confirm = |pattern: usize, start: usize, end: usize| {
            let info = &self.patterns[pattern];
            if info.edges.is_none() || info.edges.hold(window, start, end) {
                on_match(pattern, start);
            }
        };
        let (automaton, prefilter) = match &self.engine {
            Engine::Grams(index) => {
                return index.for_each_match(window, starts, |pattern, start, end| {
                    confirm(pattern, start, end)
                })
            }
            Engine::Automaton {
                automaton,
                prefilter,
            } => (automaton, prefilter),
        };
        let Some(prefilter) = prefilter else {
            let input = Input::new(window).span(starts.start..search_end);
            for found in automaton.find_overlapping_iter(input) {
                if found.start() < starts.end {
                    confirm(found.pattern().as_usize(), found.start(), found.end());
                }
            }
            return;
        };
        // Overlapping searches cannot be anchored, so each candidate gets an unanchored walk
        // over the span its longest pattern could cover, keeping matches that start there;
        // later starts are candidates of their own.
        let mut from = starts.start;
        while let Some(candidate) = prefilter.next_candidate(window, from, starts.end) {
            let span_end = search_end.min(candidate + self.longest);
            let input = Input::new(window).span(candidate..span_end);
            for found in automaton.find_overlapping_iter(input) {
                if found.start() == candidate {
                    confirm(found.pattern().as_usize(), found.start(), found.end());
                }
            }
            from = candidate + 1;
        }
    }

    /// Scans bytes already in memory (a git blob, a decoded member).
    pub fn scan_slice(&self, bytes: &[u8]) -> Vec<Hit> {
        let mut located = Vec::new();
        self.for_each_match(bytes, 0..bytes.len(), |pattern, start| {
            located.push((start, pattern))
        });
        let tracker = lines::LineTracker::default();
        let mut hits = tracker.locate(bytes, 0, located, |p| self.patterns[p].len);
        let candidates = self.candidate_hits(bytes, 0..bytes.len(), true);
        if !candidates.is_empty() {
            hits.extend(tracker.locate_hits(bytes, 0, candidates));
            hits.sort_by_key(|hit| (hit.offset, hit.pattern));
        }
        self.drop_utf16_shadows(&mut hits);
        hits
    }

    /// ASCII text in UTF-16 matches both byte orders, one byte apart (`a\0b\0` holds
    /// `\0b`...): keep one finding per occurrence, the one whose code units start at an even
    /// offset, as they do in a UTF-16 file.
    fn drop_utf16_shadows(&self, hits: &mut Vec<Hit>) {
        let key = |hit: &Hit| {
            let info = &self.patterns[hit.pattern];
            (info.encoding, info.secret, hit.offset)
        };
        let little_endian: HashSet<(usize, u64)> = hits
            .iter()
            .map(key)
            .filter(|(encoding, _, _)| *encoding == "utf16le")
            .map(|(_, secret, offset)| (secret, offset))
            .collect();
        if little_endian.is_empty() {
            return;
        }
        let shadowed: HashSet<(&str, usize, u64)> = hits
            .iter()
            .map(key)
            .filter(|&(encoding, secret, offset)| {
                encoding == "utf16be" && little_endian.contains(&(secret, offset + 1))
            })
            .map(|(_, secret, offset)| {
                if offset % 2 == 0 {
                    ("utf16le", secret, offset + 1)
                } else {
                    ("utf16be", secret, offset)
                }
            })
            .collect();
        hits.retain(|hit| !shadowed.contains(&key(hit)));
    }

    /// Scans a stream through `buffer`, calling `observe` once on every byte read (in order),
    /// so a digest can be computed in the same pass.
    pub fn scan_reader(
        &self,
        reader: impl std::io::Read,
        buffer: &mut ScanBuffer,
        observe: &mut dyn FnMut(&[u8]),
    ) -> StreamOutcome {
        let mut outcome = stream::scan(self, reader, buffer, observe);
        self.drop_utf16_shadows(&mut outcome.hits);
        outcome
    }
}

impl Engine {
    fn new(set: PatternSet, allow_grams: bool) -> anyhow::Result<Engine> {
        let prefilter = prefilter::Prefilter::new(set.iter());
        // Past a few dozen secrets the automaton is a large NFA that takes seconds and
        // hundreds of MiB to build even when Teddy can still cover its prefixes (secrets
        // that share a prefix such as `ghp_` or `AKIA` give few distinct ones), so the size
        // of the set decides as well as the prefixes.
        if allow_grams && (prefilter.is_none() || set.bytes.len() > GRAM_PATTERN_BYTES) {
            return match grams::GramIndex::new(set) {
                Ok(index) => Ok(Engine::Grams(index)),
                Err(set) => Engine::automaton(set, prefilter),
            };
        }
        Engine::automaton(set, prefilter)
    }

    fn automaton(
        set: PatternSet,
        prefilter: Option<prefilter::Prefilter>,
    ) -> anyhow::Result<Engine> {
        let kind = (set.bytes.len() <= DFA_PATTERN_BYTES).then_some(AhoCorasickKind::DFA);
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .build(set.iter())
            .map_err(|e| anyhow::anyhow!("could not compile the secrets' patterns: {e}"))?;
        Ok(Engine::Automaton {
            automaton,
            prefilter,
        })
    }
}

/// Every distinct pattern's bytes, one after another in one buffer (derived from secrets,
/// so wiped on drop): one allocation instead of one per pattern, which for a thousand
/// secrets (300,000 patterns) is most of the matcher's peak memory.
#[derive(Default)]
pub(crate) struct PatternSet {
    pub(crate) bytes: Zeroizing<Vec<u8>>,
    /// `(start in bytes, length)` of each pattern, in insertion order.
    pub(crate) spans: Vec<(usize, usize)>,
    /// First pattern with each hash (the map holds no secret-derived bytes), and the
    /// patterns whose hash an earlier, different pattern already had.
    by_hash: HashMap<u64, usize>,
    collided: Vec<usize>,
}

impl PatternSet {
    /// Adds `pattern` unless it is empty or already in the set; says whether it was added.
    pub(crate) fn insert(&mut self, pattern: &[u8]) -> bool {
        if pattern.is_empty() {
            return false;
        }
        let index = self.spans.len();
        let first = match self.by_hash.entry(hash_of(pattern)) {
            Entry::Vacant(slot) => {
                slot.insert(index);
                None
            }
            Entry::Occupied(first) => Some(*first.get()),
        };
        if let Some(first) = first {
            let same = |&i: &usize| self.pattern(i) == pattern;
            if same(&first) || self.collided.iter().any(same) {
                return false;
            }
            self.collided.push(index);
        }
        self.spans.push((self.bytes.len(), pattern.len()));
        self.bytes.extend_from_slice(pattern);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn pattern(&self, index: usize) -> &[u8] {
        let (start, len) = self.spans[index];
        &self.bytes[start..start + len]
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.spans.len()).map(|i| self.pattern(i))
    }

    /// The bytes and spans alone, for an engine that keeps them.
    pub(crate) fn into_parts(self) -> (Zeroizing<Vec<u8>>, Vec<(usize, usize)>) {
        (self.bytes, self.spans)
    }
}

/// Bytes of the shortest non-empty pattern (1 when there is none).
fn shortest_of(patterns: &[PatternInfo]) -> usize {
    patterns
        .iter()
        .map(|p| p.len)
        .filter(|&len| len > 0)
        .min()
        .unwrap_or(1)
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
    fn utf16_text_is_one_finding_in_its_own_byte_order() {
        let m = matcher(&[b"utf16-secret"]);
        let text: Vec<u8> = "\u{feff}k=utf16-secret\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let hits = m.scan_slice(&text);
        assert_eq!(hits.len(), 1);
        assert_eq!(m.pattern(hits[0].pattern).encoding, "utf16le");
        let text: Vec<u8> = "k=utf16-secret\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let hits = m.scan_slice(&text);
        assert_eq!(hits.len(), 1);
        assert_eq!(m.pattern(hits[0].pattern).encoding, "utf16be");
    }

    /// Many secrets take the gram index; it must report exactly what the automaton reports,
    /// for every encoding, at every alignment, in text, binary and zeros.
    #[test]
    fn gram_index_and_automaton_agree_for_many_secrets() {
        let secrets: Vec<Secret> = (0..60)
            .map(|i| {
                let text = format!("s{i:02}-Pass/+= &%\"w\u{e9}rd{}", "x".repeat(i % 7));
                Secret::new(text.into_bytes(), "test").unwrap()
            })
            .collect();
        let grams = Matcher::new(&secrets).unwrap();
        assert!(matches!(grams.engine, Engine::Grams(_)));
        let automaton = Matcher::build(&secrets, false).unwrap();
        assert!(matches!(automaton.engine, Engine::Automaton { .. }));

        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut hay = Vec::new();
        for secret in secrets.iter().step_by(3) {
            for encoding in encodings::all() {
                for variant in encoding.variants(secret.expose()) {
                    let filler = (random() % 13) as usize;
                    hay.extend((0..filler).map(|_| random() as u8));
                    hay.extend_from_slice(b"user:");
                    hay.extend_from_slice(&variant.pattern);
                }
            }
        }
        hay.resize(hay.len() + 4096, 0);
        let found = |m: &Matcher| {
            let mut hits: Vec<_> = m
                .scan_slice(&hay)
                .iter()
                .map(|h| {
                    (
                        h.offset,
                        h.line,
                        h.column,
                        m.pattern(h.pattern).detail.clone(),
                    )
                })
                .collect();
            hits.sort();
            hits
        };
        let expected = found(&automaton);
        assert!(expected.len() > 1000, "{} hits", expected.len());
        assert_eq!(found(&grams), expected);
    }

    /// Secrets sharing a prefix give Teddy few distinct prefixes; many of them still take
    /// the gram index (the automaton for them is a huge NFA) and find what it finds.
    #[test]
    fn many_secrets_with_one_prefix_take_the_gram_index() {
        let secrets: Vec<Secret> = (0..100)
            .map(|i| {
                let token = format!("ghp_{i:04}q8Zt3vLm0aXcR2wY7uPn5kJ1eHd9sGf6");
                Secret::new(token.into_bytes(), "t").unwrap()
            })
            .collect();
        let m = Matcher::new(&secrets).unwrap();
        assert!(matches!(m.engine, Engine::Grams(_)));
        let hay =
            b"x=ghp_0031q8Zt3vLm0aXcR2wY7uPn5kJ1eHd9sGf6 ghp_0007q8Zt3vLm0aXcR2wY7uPn5kJ1eHd9sGf7";
        let hits = m.scan_slice(hay);
        assert_eq!(hits.len(), 1);
        assert_eq!(m.pattern(hits[0].pattern).secret, 31);
    }

    #[test]
    fn duplicate_patterns_keep_the_first_encoding() {
        let m = matcher(&[b"plainalnum123"]);
        // Every encoding of these 13 letters and digits that keeps them one byte each is
        // the raw bytes again (percent, JSON, HTML...), but EBCDIC's (other bytes).
        let raw_like = (0..m.pattern_count())
            .filter(|&i| m.pattern(i).len == 13 && m.pattern(i).encoding != "ebcdic")
            .map(|i| m.pattern(i).encoding)
            .collect::<Vec<_>>();
        assert_eq!(raw_like, ["raw"]);
    }
}
