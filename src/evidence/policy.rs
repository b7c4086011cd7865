//! Closure policies: what a signed report must show before a finding may close.
//!
//! A policy is a TOML file (documented in docs/evidence.md). Without one, `scour verify`
//! still demands a valid signature by a given key, a whole (not shard) report and the
//! verdict `absent`. A policy can tolerate gaps of listed kinds, and can require named
//! targets of given kinds, a given secret, a maximum age, a scan after the rotation date, a
//! minimum scour version, and which keys (and how many of them) must have signed.
//!
//! The secret itself is never in a policy: `scour verify --secret-env/--secret-file`
//! recomputes its salted fingerprint with the salt stored in the report.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::coverage::{GapKind, RootCoverage};
use crate::report::Report;
use crate::secret::{Salt, Secret};
use crate::verdict::Verdict;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Gap kinds that do not stop a closure (an `incomplete` report whose gaps are all of
    /// these kinds may close). Empty: the verdict must be `absent`.
    #[serde(default)]
    pub allowed_gap_kinds: Vec<GapKind>,
    /// Places that must have been scanned.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// A secret must be given to `scour verify` and be one the report is about.
    #[serde(default)]
    pub require_secret: bool,
    pub max_age_days: Option<u32>,
    /// The scan must have started after this moment (a TOML date or date-time, or an
    /// RFC 3339 string).
    pub rotated_at: Option<toml::Value>,
    pub min_scour_version: Option<String>,
    /// Key ids (securesystemslib, as `scour keygen` prints) allowed to sign. Empty: any
    /// key given with `--pubkey`.
    #[serde(default)]
    pub allowed_signers: Vec<String>,
    /// How many distinct allowed keys must have signed (separation of duties).
    #[serde(default = "one")]
    pub min_signers: usize,
    /// Forbid reports that reused proofs of earlier scans (`scan --cache`): every unit
    /// must have been read by this scan.
    #[serde(default)]
    pub forbid_cache_reuse: bool,
    /// The oldest proof a report may reuse from an earlier scan, in days.
    #[serde(default)]
    pub max_reused_proof_age_days: Option<u32>,
}

fn one() -> usize {
    1
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allowed_gap_kinds: Vec::new(),
            targets: Vec::new(),
            require_secret: false,
            max_age_days: None,
            rotated_at: None,
            min_scour_version: None,
            allowed_signers: Vec::new(),
            min_signers: 1,
            forbid_cache_reuse: false,
            max_reused_proof_age_days: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The PATH exactly as given to `scour scan` (a trailing `/` is ignored).
    pub path: String,
    /// `directory`, `file` or `git-repository`.
    pub kind: Option<String>,
    /// For a git repository: no shallow boundary, missing or unreadable objects.
    #[serde(default)]
    pub full_history: bool,
    /// Accept a scan narrowed by `--exclude` or `--respect-gitignore`.
    #[serde(default)]
    pub allow_narrowing: bool,
}

/// One judged requirement, printed by `scour verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

impl Policy {
    pub fn load(path: &Path) -> anyhow::Result<Policy> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the policy {}", path.display()))?;
        let policy: Policy = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid policy {}: {e}", path.display()))?;
        policy.rotation()?;
        Ok(policy)
    }

    fn rotation(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let Some(value) = &self.rotated_at else {
            return Ok(None);
        };
        let text = match value {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            _ => anyhow::bail!("rotated_at must be a date or date-time, e.g. 2026-11-01T09:00:00Z"),
        };
        if let Ok(moment) = DateTime::parse_from_rfc3339(&text) {
            return Ok(Some(moment.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|moment| Some(moment.and_utc()))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "rotated_at {text:?} is not a date (2026-11-01) or an RFC 3339 date-time with \
                     an offset (2026-11-01T09:00:00Z)"
                )
            })
    }

    /// Checks on proofs the scan reused from a `--cache` instead of reading the units.
    fn cache_reuse(&self, report: &Report, now: DateTime<Utc>) -> Vec<Check> {
        let reused = report.cache.as_ref().map_or(0, |c| c.units_reused);
        let oldest = report.cache.as_ref().and_then(|c| c.reused_proven_from);
        let mut checks = Vec::new();
        if self.forbid_cache_reuse {
            checks.push(Check::new(
                "no cache reuse",
                reused == 0,
                format!("{reused} unit(s) were not read but reused from an earlier scan's proof"),
            ));
        }
        if let Some(days) = self.max_reused_proof_age_days {
            let age = oldest.map(|at| now - at);
            checks.push(Check::new(
                "reused proof age",
                age.is_none_or(|age| age <= chrono::Duration::days(i64::from(days))),
                match (oldest, age) {
                    (Some(at), Some(age)) => format!(
                        "the oldest reused proof was made {} ({} day(s) ago); the policy allows {days}",
                        at.to_rfc3339(),
                        age.num_days()
                    ),
                    _ => "no proof was reused".to_string(),
                },
            ));
        }
        checks
    }

    /// Judges the report itself (signatures are judged by the verifier).
    pub fn judge(&self, report: &Report, secrets: &[Secret], now: DateTime<Utc>) -> Vec<Check> {
        let mut checks = vec![self.verdict(report), whole(report)];
        checks.extend(self.targets.iter().map(|t| target(report, t)));
        checks.extend(self.secret(report, secrets));
        if let Some(days) = self.max_age_days {
            let age = now - report.finished_at;
            checks.push(Check::new(
                "age",
                age <= chrono::Duration::days(i64::from(days)),
                format!(
                    "finished {} ({} day(s) ago); the policy allows {days}",
                    report.finished_at.to_rfc3339(),
                    age.num_days()
                ),
            ));
        }
        if let Ok(Some(rotated)) = self.rotation() {
            checks.push(Check::new(
                "after rotation",
                report.started_at > rotated,
                format!(
                    "scan started {}, rotation at {}",
                    report.started_at.to_rfc3339(),
                    rotated.to_rfc3339()
                ),
            ));
        }
        checks.extend(self.cache_reuse(report, now));
        if let Some(minimum) = &self.min_scour_version {
            let passed = version_tuple(&report.tool.version) >= version_tuple(minimum);
            checks.push(Check::new(
                "scour version",
                passed,
                format!(
                    "made by scour {}; the policy needs at least {minimum}",
                    report.tool.version
                ),
            ));
        }
        checks
    }

    fn verdict(&self, report: &Report) -> Check {
        let gaps: Vec<GapKind> = report.coverage.gaps().map(|g| g.kind).collect();
        match report.verdict {
            Verdict::Found => Check::new(
                "verdict",
                false,
                format!(
                    "found: the secret is still in {} place(s); it may not close",
                    report.findings.len()
                ),
            ),
            Verdict::Absent if gaps.is_empty() => {
                Check::new("verdict", true, "absent: nothing found and no gaps")
            }
            _ => {
                let refused: Vec<String> = gaps
                    .iter()
                    .filter(|kind| !self.allowed_gap_kinds.contains(kind))
                    .map(|kind| kind.to_string())
                    .collect();
                if report.findings.is_empty() && refused.is_empty() {
                    Check::new(
                        "verdict",
                        true,
                        format!(
                            "incomplete, but all {} gap(s) are of kinds the policy allows",
                            gaps.len()
                        ),
                    )
                } else {
                    let mut kinds = refused;
                    kinds.dedup();
                    Check::new(
                        "verdict",
                        false,
                        format!(
                            "{}: {} gap(s) the policy does not allow ({}); absence is not proven",
                            report.verdict.as_str(),
                            gaps.len(),
                            kinds.join(", ")
                        ),
                    )
                }
            }
        }
    }

    fn secret(&self, report: &Report, secrets: &[Secret]) -> Vec<Check> {
        if secrets.is_empty() {
            return if self.require_secret {
                vec![Check::new(
                    "secret",
                    false,
                    "the policy requires checking which secret the report is about: pass \
                     --secret-env NAME or --secret-file FILE",
                )]
            } else {
                Vec::new()
            };
        }
        let Some(salt) = Salt::from_hex(&report.fingerprints.salt) else {
            return vec![Check::new(
                "secret",
                false,
                "the report's salt is not 16 bytes of hex",
            )];
        };
        secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                let fingerprint = secret.fingerprint(&salt);
                let named = report
                    .secrets
                    .iter()
                    .any(|s| s.fingerprint == fingerprint.0);
                Check::new(
                    "secret",
                    named,
                    if named {
                        format!(
                            "given secret #{} is secret {} of the report",
                            index + 1,
                            fingerprint.id()
                        )
                    } else {
                        format!(
                            "given secret #{} is not one this report searched for",
                            index + 1
                        )
                    },
                )
            })
            .collect()
    }
}

/// A shard's report covers only part of the work: only the merge of all shards may close.
fn whole(report: &Report) -> Check {
    match report.scan.shard {
        None => Check::new("whole scan", true, "not a partial shard"),
        Some(shard) => Check::new(
            "whole scan",
            false,
            format!("this report covers only shard {shard}; merge all shards with `scour merge`"),
        ),
    }
}

/// A path compared by its meaning, not its spelling: `./a/b/`, `a//b` and `a/./b` are
/// `a/b`; `..` is resolved lexically.
fn normalise_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// True if a policy target names a scanned root: the same normalised path, or, where both
/// exist on this machine, the same directory (one relative, one absolute).
fn same_path(target: &str, root: &str) -> bool {
    if normalise_path(target) == normalise_path(root) {
        return true;
    }
    match (std::fs::canonicalize(target), std::fs::canonicalize(root)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn target(report: &Report, target: &Target) -> Check {
    let name = format!("target {}", target.path);
    let Some(root) = report
        .coverage
        .roots
        .iter()
        .find(|r| same_path(&target.path, &r.root))
    else {
        let scanned: Vec<&str> = report
            .coverage
            .roots
            .iter()
            .map(|r| r.root.as_str())
            .collect();
        return Check::new(
            name,
            false,
            format!("not scanned; the report covers {scanned:?}"),
        );
    };
    let mut problems = Vec::new();
    match target.kind.as_deref() {
        None => {}
        Some("git-repository") if root.repositories.is_empty() => {
            problems.push(format!("no git repository was read at {}", root.root));
        }
        Some("git-repository") => {}
        Some(kind) if kind == root.kind => {}
        Some(kind) => problems.push(format!("it is a {}, the policy wants a {kind}", root.kind)),
    }
    if target.full_history {
        problems.extend(full_history_problems(root));
    }
    if !target.allow_narrowing
        && (!report.scan.excludes.is_empty() || report.scan.respect_gitignore)
    {
        problems.push(format!(
            "the scan was narrowed (excludes {:?}, respect gitignore {})",
            report.scan.excludes, report.scan.respect_gitignore
        ));
    }
    if problems.is_empty() {
        Check::new(
            name,
            true,
            format!(
                "{} scanned: {} file(s), {} byte(s), {} gap(s)",
                root.kind,
                root.files_scanned,
                root.bytes_scanned,
                root.gaps.len()
            ),
        )
    } else {
        Check::new(name, false, problems.join("; "))
    }
}

/// Full history means: a repository was read, every repository's whole object store
/// (mode `full`, not `--staged` or `--git-range`), and nothing of its history is missing.
fn full_history_problems(root: &RootCoverage) -> Vec<String> {
    let mut problems = Vec::new();
    if root.repositories.is_empty() {
        problems.push(format!(
            "full history required, but no git repository was read at {}",
            root.root
        ));
    }
    for repository in &root.repositories {
        if repository.mode != "full" {
            problems.push(format!(
                "{} was scanned in mode {:?}, not its full history",
                repository.path, repository.mode
            ));
        }
        if repository.shallow || repository.partial_clone {
            problems.push(format!(
                "{} is a shallow or partial clone: part of its history is not in it",
                repository.path
            ));
        }
    }
    let is_repository = |chain: &[String]| {
        chain
            .first()
            .is_some_and(|first| root.repositories.iter().any(|r| &r.path == first))
    };
    let history_gaps = root
        .gaps
        .iter()
        .filter(|g| match g.kind {
            GapKind::ShallowHistory
            | GapKind::MissingObjects
            | GapKind::UnreadableObject
            | GapKind::MissingAlternate => true,
            // A repository whose object format scour cannot read (SHA-256 ids).
            GapKind::Unsupported => is_repository(&g.chain),
            _ => false,
        })
        .count();
    if history_gaps > 0 {
        problems.push(format!("{history_gaps} gap(s) in its git history"));
    }
    problems
}

/// `1.2.3-beta` → `[1, 2, 3]`: enough to order release versions.
fn version_tuple(version: &str) -> Vec<u64> {
    version
        .split(['-', '+'])
        .next()
        .unwrap_or_default()
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn target_paths_are_compared_after_normalising() {
        assert_eq!(super::normalise_path("./repo/"), "repo");
        assert_eq!(super::normalise_path("repo//src/../lib"), "repo/lib");
        assert_eq!(super::normalise_path("/srv//repo/"), "/srv/repo");
        assert_eq!(super::normalise_path("./"), ".");
        assert!(super::same_path("repo/", "./repo"));
        let here = std::env::current_dir().unwrap();
        assert!(super::same_path(&here.display().to_string(), "."));
    }

    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(version_tuple("0.10.0") > version_tuple("0.9.9"));
        assert!(version_tuple("1.0.0-rc1") >= version_tuple("1.0.0"));
        assert!(version_tuple("0.1.0") < version_tuple("0.2"));
    }

    #[test]
    fn rotation_accepts_dates_datetimes_and_strings() {
        for text in [
            "rotated_at = 2026-11-01",
            "rotated_at = 2026-11-01T00:00:00Z",
            "rotated_at = \"2026-11-01T00:00:00+00:00\"",
        ] {
            let policy: Policy = toml::from_str(text).unwrap();
            assert_eq!(
                policy.rotation().unwrap().unwrap().to_rfc3339(),
                "2026-11-01T00:00:00+00:00",
                "{text}"
            );
        }
        let policy: Policy = toml::from_str("rotated_at = \"yesterday\"").unwrap();
        assert!(policy.rotation().is_err());
        assert!(
            toml::from_str::<Policy>("max_age = 3").is_err(),
            "unknown keys are refused"
        );
    }
}
