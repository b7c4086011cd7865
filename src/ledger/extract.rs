//! Candidate extraction: the tokens of a byte window that could be a ledger entry, each
//! hashed and looked up.
//!
//! Candidates come from (a) rule captures and (b) generic tokens of the lengths and classes
//! of entries no rule recognises. Like plaintext matches, a candidate belongs to the window
//! in which it starts, so a stream is still read once and every candidate is looked at once.
//! Encoded content is not this module's: the content pipeline's decode layers
//! (`source::archive::decode`) decode runs and send the decoded bytes through the matcher
//! again, so hash mode sees every layer plaintext mode does, named in the finding's chain.

use std::ops::Range;

use super::index::Index;
use super::tokens::TokenClass;
use crate::rules::RuleSet;

/// How a ledger entry was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerVia {
    pub entry: u32,
    /// Index of the rule whose capture it was, or `None` for a generic token.
    pub rule: Option<u16>,
}

/// One ledger entry seen at `start..start + len` of the haystack.
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
        Extractor {
            rules,
            index,
            classes,
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Whether some entry has bytes outside printable ASCII (so decoded non-ASCII bytes may
    /// be an entry's text).
    pub fn has_non_ascii(&self) -> bool {
        self.index.has_non_ascii()
    }

    /// Bytes after a candidate's start that must be in view for it to be seen whole.
    pub fn span_needed(&self) -> usize {
        (self.index.longest() + 2).max(self.rules.span_needed())
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
        let mut report = |range: Range<usize>, rule: Option<u16>| {
            if let Some(entry) = self.index.lookup(&window[range.clone()]) {
                on_hit(LedgerHit {
                    start: range.start,
                    len: range.len(),
                    via: LedgerVia {
                        entry: entry as u32,
                        rule,
                    },
                });
            }
        };
        self.rules
            .for_each_capture(window, starts.clone(), &mut |rule, range| {
                report(range, u16::try_from(rule).ok())
            });
        for class in &self.classes {
            class.for_each_token(window, starts.clone(), complete, &mut |range| {
                report(range, None)
            });
        }
    }
}
