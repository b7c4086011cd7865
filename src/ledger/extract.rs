//! Candidate extraction: the tokens of a byte window that could be a ledger entry, each
//! hashed and looked up.
//!
//! Candidates come from (a) rule captures, (b) generic tokens of the lengths and classes of
//! entries no rule recognises, and (c) the content of decoded layers, extracted again up to
//! [`decode::MAX_DEPTH`] layers deep. Like plaintext matches, a candidate belongs to the
//! window in which it starts (for decoded content: where its outermost encoded run starts),
//! so a stream is still read once and every candidate is looked at once.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::decode::{self, DecodePath};
use super::index::Index;
use super::tokens::TokenClass;
use crate::rules::RuleSet;

/// Encoded runs longer than this may be cut by a window boundary (and are then counted as
/// decoded only in part); everything shorter is always decoded whole.
pub const WHOLE_RUN: usize = 64 * 1024;

/// How a ledger entry was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerVia {
    pub entry: u32,
    /// Index of the rule whose capture it was, or `None` for a generic token.
    pub rule: Option<u16>,
    pub path: DecodePath,
}

/// One ledger entry seen at `start..start + len` of the haystack (for decoded content:
/// the outermost encoded run that holds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerHit {
    pub start: usize,
    pub len: usize,
    pub via: LedgerVia,
}

pub struct Extractor {
    rules: RuleSet,
    index: Index,
    classes: Vec<TokenClass>,
    min_run: usize,
    /// Some entry has bytes outside printable ASCII, so decoded non-ASCII may be text.
    non_ascii: bool,
    truncated_runs: AtomicU64,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("rules", &self.rules)
            .field("classes", &self.classes.len())
            .finish()
    }
}

impl Extractor {
    pub fn new(rules: RuleSet, index: Index) -> Extractor {
        let classes = index
            .generic()
            .iter()
            .map(|plan| {
                let sieve = super::sieve::WindowSieve::new(index.salt(), &plan.sieves);
                TokenClass::new(plan.class, plan.lengths.clone()).with_sieve(sieve)
            })
            .collect();
        let min_run = index.shortest().max(crate::secret::MIN_SECRET_LEN);
        Extractor {
            non_ascii: index.has_non_ascii(),
            rules,
            index,
            classes,
            min_run,
            truncated_runs: AtomicU64::new(0),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Bytes after a candidate's start that must be in view for it to be seen whole.
    pub fn span_needed(&self) -> usize {
        (self.index.longest() + 2)
            .max(self.rules.span_needed())
            .max(WHOLE_RUN)
    }

    /// Encoded runs decoded only in part because they ran past a window (see [`WHOLE_RUN`]).
    pub fn truncated_runs(&self) -> u64 {
        self.truncated_runs.load(Ordering::Relaxed)
    }

    /// Every ledger hit whose candidate starts inside `starts`. `complete` says `window`
    /// ends where its stream ends.
    pub fn for_each_hit(
        &self,
        window: &[u8],
        starts: Range<usize>,
        complete: bool,
        on_hit: &mut dyn FnMut(LedgerHit),
    ) {
        if self.index.is_empty() || starts.start >= starts.end {
            return;
        }
        let mut scratch = Vec::new();
        self.extract(
            window,
            starts,
            complete,
            DecodePath::default(),
            None,
            &mut scratch,
            on_hit,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn extract(
        &self,
        bytes: &[u8],
        starts: Range<usize>,
        complete: bool,
        path: DecodePath,
        outer: Option<&Range<usize>>,
        scratch: &mut Vec<Vec<u8>>,
        on_hit: &mut dyn FnMut(LedgerHit),
    ) {
        let mut report = |range: Range<usize>, rule: Option<u16>| {
            if let Some(entry) = self.index.lookup(&bytes[range.clone()]) {
                let place = outer.cloned().unwrap_or(range);
                on_hit(LedgerHit {
                    start: place.start,
                    len: place.len(),
                    via: LedgerVia {
                        entry: entry as u32,
                        rule,
                        path,
                    },
                });
            }
        };
        self.rules
            .for_each_capture(bytes, starts.clone(), &mut |rule, range| {
                report(range, u16::try_from(rule).ok())
            });
        for class in &self.classes {
            class.for_each_token(bytes, starts.clone(), complete, &mut |range| {
                report(range, None)
            });
        }
        if path.depth() >= decode::MAX_DEPTH {
            return;
        }
        let mut decoded = scratch.pop().unwrap_or_default();
        decode::for_each_run(bytes, starts, complete, self.min_run, &mut |run| {
            if run.truncated {
                self.truncated_runs.fetch_add(1, Ordering::Relaxed);
            }
            decode::decode(run.layer, &bytes[run.range.clone()], &mut decoded);
            if !decode::has_text_run(&decoded, self.index.shortest(), self.non_ascii) {
                return;
            }
            let place = outer.cloned().unwrap_or(run.range);
            self.extract(
                &decoded,
                0..decoded.len(),
                true,
                path.push(run.layer),
                Some(&place),
                scratch,
                on_hit,
            );
        });
        scratch.push(decoded);
    }
}
