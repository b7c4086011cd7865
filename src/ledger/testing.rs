//! Ledgers made in memory, for unit tests of hash mode.

use super::{CharClass, Entry, Ledger};
use crate::rules::RuleSet;
use crate::secret::Salt;

/// A ledger of `secrets` (ids `E0`, `E1`...), as `scour ledger add` would write it.
pub(crate) fn ledger_of(secrets: &[&[u8]]) -> Ledger {
    let salt = Salt([7; 16]);
    let rules = RuleSet::builtin().expect("the built-in rules compile");
    let entries = secrets
        .iter()
        .enumerate()
        .map(|(n, s)| Entry {
            id: format!("E{n}"),
            label: None,
            date: "2026-01-01".into(),
            sha256: super::index::hash_hex(&salt, s),
            length: s.len(),
            class: CharClass::of(s),
            rule: rules.recognise(s).map(|r| rules.get(r).id.clone()),
            prefix: None,
            sieve: Some(super::sieve::to_hex(super::sieve::of_secret(&salt, s))),
        })
        .collect();
    Ledger {
        path: "test".into(),
        salt,
        entries,
        file_sha256: String::new(),
    }
}
