//! Findings: where a secret was seen, in which encoding. Never what it was.

use serde::{Deserialize, Serialize};

use crate::model::provenance::{GitProvenance, StoreProvenance};

/// How a secret is looked for: by its plaintext patterns, or by hash through a ledger.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Plaintext,
    Ledger,
}

/// One occurrence of one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// Short id of the secret's salted fingerprint (see `secrets` in the report).
    pub secret: String,
    /// Which encoding matched, e.g. `raw`, `base64`, `percent`.
    pub encoding: String,
    /// Which form of that encoding, e.g. `standard alphabet, secret at byte offset 2 mod 3`.
    pub encoding_detail: String,
    pub location: Location,
    /// `plaintext` (a secret given to the scan) or `ledger` (found by hash; `secret` is then
    /// the ledger entry's id).
    #[serde(default)]
    pub mode: Mode,
    /// For content found in a git object: which commits, paths and refs hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
    /// Set on the last finding listed for one secret in one element when that element held
    /// more than `FINDINGS_PER_PLACE` (the recorder's bound): how many further occurrences
    /// there were, counted exactly but not listed (so a report stays proportional to the
    /// places a secret is in, not to how often it repeats there).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: u64,
    /// For content read from an object store or registry: the store's names for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreProvenance>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Where a finding is: a chain of containers from the scanned root down to the bytes.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Location {
    /// The outermost element is a filesystem path; inner ones are members of archives,
    /// git objects and the like, outermost first.
    pub chain: Vec<String>,
    /// Byte offset of the match within the innermost element.
    pub offset: u64,
    /// 1-based line and byte column within the innermost element.
    pub line: u64,
    pub column: u64,
    /// Set when the match is in a name rather than in the bytes of the innermost element:
    /// `name` (a file, directory or member name), `symlink-target`, `ref-name`,
    /// `xattr-name`, `xattr:NAME` (an extended attribute's value), `gzip-name` and
    /// `gzip-comment` (text fields of a gzip header), `lzop-name` and `lzop-extra` (of an
    /// lzop header) or `report-text` (text scour wrote about the place, such as an error
    /// quoting its bytes). Offsets, lines and columns then count within that name.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

impl Location {
    /// The chain joined with `!`, as in `backups/2024-10.tar.gz!srv/app/.env`.
    pub fn display_path(&self) -> String {
        match &self.within {
            Some(within) => format!("{} ({within})", display_chain(&self.chain)),
            None => display_chain(&self.chain),
        }
    }
}

pub fn display_chain(chain: &[String]) -> String {
    chain.join("!")
}
