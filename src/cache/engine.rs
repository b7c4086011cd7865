//! The engine digest: everything besides the content and the secrets that decides whether
//! a scan of a unit finds a secret. A proof made by another engine is never reused.

use sha2::{Digest, Sha256};

use crate::matcher::encodings;

/// SHA-256 over scour's version, its encodings, the archive limits (`ArchiveLimits`, by its
/// `Debug` form: every field counts, and the cache needs no import of the sources) and (in
/// ledger mode) the token rules and the decode layers hash mode reads through.
pub fn digest(limits: &impl std::fmt::Debug, rule_ids: &[String], layers: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("scour {}\n", env!("CARGO_PKG_VERSION")));
    for encoding in encodings::all() {
        hasher.update(format!("encoding {}\n", encoding.name()));
    }
    hasher.update(format!("limits {limits:?}\n"));
    for rule in rule_ids {
        hasher.update(format!("rule {rule}\n"));
    }
    for layer in layers {
        hasher.update(format!("hash-mode layer {layer}\n"));
    }
    hex::encode(hasher.finalize())
}
