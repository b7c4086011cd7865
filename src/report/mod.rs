//! The report: verdict, findings, coverage with gaps, the secrets' salted fingerprints,
//! the options that shaped the scan, and when it ran. Rendered as JSON (the stable,
//! documented schema; what gets signed) or as text for a person.
//!
//! A report never holds a secret or any piece of one: findings carry locations and
//! encodings, secrets are named by `SHA-256(salt || secret)`.

pub mod json;
pub mod sarif;
pub mod schema;
pub mod text;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CacheRecord, Coverage, Finding, Verdict};
use crate::secret::{Fingerprint, Salt};

/// Identifies the JSON layout; bumped only on incompatible changes.
pub const SCHEMA: &str = "https://github.com/scour-dev/scour/schema/report/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub verdict: Verdict,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub fingerprints: FingerprintScheme,
    pub secrets: Vec<SecretRecord>,
    pub scan: ScanRecord,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
    /// The revocation ledger a scan used, and what hash mode cannot see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerRecord>,
    /// The `--cache` a scan used: how many units it reused, proven when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheRecord>,
}

/// Which ledger a scan looked for, exactly, and the limits of looking by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LedgerRecord {
    pub path: String,
    pub entries: usize,
    /// SHA-256 of the ledger file as read.
    pub sha256: String,
    /// How entries are hashed (the salt is in the ledger file).
    pub hash: String,
    /// Token-format rules used to extract candidates.
    pub rules: usize,
    /// The decode layers of the content pipeline whose decoded runs are searched again,
    /// in both modes (the encodings that name runs in a finding's chain).
    pub decoded_layers: Vec<String>,
    /// What hash mode cannot see; "absent" means absent within these limits.
    pub cannot_see: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// How the fingerprints in `secrets` were computed, with the salt needed to recompute them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FingerprintScheme {
    pub algorithm: String,
    pub salt: String,
}

/// One secret, as a report may name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecretRecord {
    /// Short id used by findings: the first 16 hex digits of `fingerprint`.
    pub id: String,
    /// `SHA-256(salt || secret)` in hex.
    pub fingerprint: String,
    /// Where the secret was given, as the user named it (`environment variable NAME`,
    /// `FILE line N`, `key FILE (RSA key, PKCS#8 PEM)`): stable across runs, and no part of
    /// the secret. SARIF keys its fingerprints by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A short name that stays the same across runs (`env:NAME`, `file:NAME:LINE`,
    /// `key:NAME`, `prompt`): what SARIF alert fingerprints are keyed by. No part of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl SecretRecord {
    pub fn new(fingerprint: Fingerprint) -> SecretRecord {
        SecretRecord {
            id: fingerprint.id(),
            fingerprint: fingerprint.0,
            source: None,
            name: None,
        }
    }
}

/// What the scan was asked to cover and how; every narrowing choice is visible here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScanRecord {
    pub paths: Vec<String>,
    pub excludes: Vec<String>,
    pub respect_gitignore: bool,
    pub follows_symlinks: bool,
    pub opens_special_files: bool,
    /// Encodings searched for, each at every variant its encoder defines.
    pub encodings: Vec<String>,
    /// Distinct byte patterns compiled from all secrets and encodings.
    pub patterns: usize,
    pub threads: usize,
    /// Set when this report covers only shard K of N; only a merge of all N can close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::model::Shard>,
    /// Whether directory subjects bind file contents (`--content-digests`).
    #[serde(default)]
    pub content_digests: bool,
    /// Whether opaque content was accepted instead of recorded as gaps (`--allow-opaque`).
    #[serde(default)]
    pub allow_opaque: bool,
    /// For `s3://` targets: `all` versions (the default) or only `current` ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_versions: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub findings: usize,
    /// Occurrences counted but not listed, past the per-place cap (see `Finding::more`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub findings_not_listed: u64,
    pub gaps: usize,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        verdict: Verdict,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        salt: Salt,
        secrets: Vec<SecretRecord>,
        scan: ScanRecord,
        findings: Vec<Finding>,
        coverage: Coverage,
    ) -> Report {
        let summary = Summary {
            findings: findings.len(),
            findings_not_listed: findings.iter().map(|f| f.more).sum(),
            gaps: coverage.gap_count(),
            files_scanned: coverage.files_scanned(),
            bytes_scanned: coverage.bytes_scanned(),
        };
        Report {
            schema: SCHEMA.to_string(),
            tool: Tool::this(),
            verdict,
            started_at,
            finished_at,
            fingerprints: FingerprintScheme {
                algorithm: "sha256(salt || secret)".to_string(),
                salt: salt.to_hex(),
            },
            secrets,
            scan,
            summary,
            findings,
            coverage,
            ledger: None,
            cache: None,
        }
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Output formats of `scour scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// Renders a report in `format`; `color` only affects text.
pub fn render(report: &Report, format: Format, color: bool) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Text => Ok(text::render(report, color).into_bytes()),
    }
}
