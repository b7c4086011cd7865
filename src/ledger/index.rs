//! The lookup side of a ledger: is this candidate one of the revoked secrets?
//!
//! A candidate costs a length check (a table), then one SHA-256 and one hash-set probe,
//! whatever the number of entries: a ledger of 100,000 entries costs about what a ledger of
//! one does.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::entry::CharClass;
use super::file::Ledger;
use crate::secret::Salt;

/// Entries this class of token could be, by length (only entries no rule recognises).
#[derive(Debug, Clone)]
pub struct GenericPlan {
    pub class: CharClass,
    /// Distinct lengths, ascending.
    pub lengths: Vec<usize>,
    /// Each entry's length and sieve, for the entries that have one.
    pub sieves: Vec<(usize, u32)>,
}

#[derive(Debug)]
pub struct Index {
    salt: Salt,
    by_hash: HashMap<[u8; 32], u32>,
    /// `lengths[n]` is true if some entry is `n` bytes long.
    lengths: Vec<bool>,
    min_len: usize,
    generic: Vec<GenericPlan>,
    non_ascii: bool,
}

impl Index {
    pub fn new(ledger: &Ledger) -> anyhow::Result<Index> {
        let mut by_hash = HashMap::with_capacity(ledger.entries.len());
        let max_len = ledger.entries.iter().map(|e| e.length).max().unwrap_or(0);
        let mut lengths = vec![false; max_len + 1];
        let mut generic: Vec<GenericPlan> = Vec::new();
        for (number, entry) in ledger.entries.iter().enumerate() {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&entry.sha256, &mut hash)
                .map_err(|_| anyhow::anyhow!("ledger entry {} has an invalid sha256", entry.id))?;
            by_hash.insert(hash, number as u32);
            lengths[entry.length] = true;
            if entry.rule.is_none() {
                let sieve = entry.sieve.as_deref().and_then(super::sieve::from_hex);
                let plan = match generic.iter_mut().position(|p| p.class == entry.class) {
                    Some(at) => &mut generic[at],
                    None => {
                        generic.push(GenericPlan {
                            class: entry.class,
                            lengths: Vec::new(),
                            sieves: Vec::new(),
                        });
                        let last = generic.len() - 1;
                        &mut generic[last]
                    }
                };
                plan.lengths.push(entry.length);
                if let Some(sieve) = sieve {
                    plan.sieves.push((entry.length, sieve));
                }
            }
        }
        for plan in &mut generic {
            plan.lengths.sort_unstable();
            plan.lengths.dedup();
        }
        Ok(Index {
            salt: ledger.salt.clone(),
            by_hash,
            lengths,
            min_len: ledger.entries.iter().map(|e| e.length).min().unwrap_or(0),
            generic,
            non_ascii: ledger.entries.iter().any(|e| e.class == CharClass::Any),
        })
    }

    /// The entry `candidate` is, if any.
    pub fn lookup(&self, candidate: &[u8]) -> Option<usize> {
        if !self.lengths.get(candidate.len()).copied().unwrap_or(false) {
            return None;
        }
        let hash: [u8; 32] = Sha256::new()
            .chain_update(self.salt.0)
            .chain_update(candidate)
            .finalize()
            .into();
        self.by_hash.get(&hash).map(|&n| n as usize)
    }

    pub fn longest(&self) -> usize {
        self.lengths.len().saturating_sub(1)
    }

    pub fn shortest(&self) -> usize {
        self.min_len
    }

    pub fn salt(&self) -> &Salt {
        &self.salt
    }

    pub fn generic(&self) -> &[GenericPlan] {
        &self.generic
    }

    /// Whether some entry has bytes outside printable ASCII (class `any`).
    pub fn has_non_ascii(&self) -> bool {
        self.non_ascii
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// `SHA-256(salt || secret)` in hex, as ledger entries store it.
pub fn hash_hex(salt: &Salt, secret: &[u8]) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(salt.0)
            .chain_update(secret)
            .finalize(),
    )
}
