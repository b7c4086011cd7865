//! The recorder: where every source, on every thread, reports what it scanned, skipped,
//! could not read, and found.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::coverage::{Coverage, Gap, GapKind, RootCoverage, SkipReason};
use crate::evidence::subjects::{self, ManifestEntry};
use crate::findings::{Finding, Location};
use crate::matcher::{Hit, Matcher};
use crate::scan::progress::Progress;

/// Running totals, read by the progress display while the scan runs.
#[derive(Debug, Default)]
pub struct Totals {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub findings: AtomicU64,
    pub gaps: AtomicU64,
}

#[derive(Debug, Default)]
struct RootTally {
    files: AtomicU64,
    bytes: AtomicU64,
    coverage: Mutex<RootCoverage>,
    manifest: Mutex<Vec<ManifestEntry>>,
}

/// Thread-safe sink for one scan's results. Roots are addressed by their index.
pub struct Recorder<'m> {
    matcher: &'m Matcher,
    secret_ids: Vec<String>,
    roots: Vec<RootTally>,
    findings: Mutex<Vec<Finding>>,
    pub totals: Totals,
    progress: Progress,
    /// Repositories met by the walk, and object files left to the git object scan.
    pub git: crate::source::git::Registry,
    archive_limits: crate::source::archive::ArchiveLimits,
    /// Proofs of earlier scans to reuse, and this scan's to record (`--cache`).
    pub cache: Option<crate::cache::Cache>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic on another thread must not hide this thread's results.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<'m> Recorder<'m> {
    pub fn new(
        matcher: &'m Matcher,
        secret_ids: Vec<String>,
        roots: Vec<RootCoverage>,
        progress: Progress,
        archive_limits: crate::source::archive::ArchiveLimits,
    ) -> Self {
        let roots = roots
            .into_iter()
            .map(|coverage| RootTally {
                coverage: Mutex::new(coverage),
                ..RootTally::default()
            })
            .collect();
        Recorder {
            matcher,
            secret_ids,
            roots,
            findings: Mutex::new(Vec::new()),
            totals: Totals::default(),
            progress,
            git: crate::source::git::Registry::default(),
            archive_limits,
            cache: None,
        }
    }

    /// How far every source follows archives (depth, expansion, memory).
    pub fn archive_limits(&self) -> &crate::source::archive::ArchiveLimits {
        &self.archive_limits
    }

    pub fn matcher(&self) -> &'m Matcher {
        self.matcher
    }

    /// Records matches in the element named by `chain`.
    pub fn hits(&self, chain: &[String], hits: &[Hit]) {
        if hits.is_empty() {
            return;
        }
        let findings = hits.iter().map(|hit| self.finding(chain, hit));
        lock(&self.findings).extend(findings);
        self.totals
            .findings
            .fetch_add(hits.len() as u64, Ordering::Relaxed);
    }

    /// Turns a hit into a finding; sources that attach more context start from this.
    pub fn finding(&self, chain: &[String], hit: &Hit) -> Finding {
        let pattern = self.matcher.pattern(hit.pattern);
        let (encoding, encoding_detail) = match &hit.ledger {
            None => (pattern.encoding.to_string(), pattern.detail.clone()),
            Some(via) => self.describe_ledger_hit(via, &pattern.detail),
        };
        Finding {
            secret: self.secret_ids[pattern.secret].clone(),
            encoding,
            encoding_detail,
            mode: pattern.mode,
            location: Location {
                chain: chain.to_vec(),
                offset: hit.offset,
                line: hit.line,
                column: hit.column,
            },
            git: None,
            store: None,
        }
    }

    /// A ledger hit's encoding (its outermost decoded layer, or `raw`) and how it was seen.
    fn describe_ledger_hit(&self, via: &crate::ledger::LedgerVia, entry: &str) -> (String, String) {
        let encoding = via.path.layers().next().map_or("raw", |l| l.name());
        let rule = match (via.rule, self.matcher.extractor()) {
            (Some(rule), Some(extractor)) => {
                format!("rule {}", extractor.rules().get(rule as usize).id)
            }
            _ => "generic token".to_string(),
        };
        let how = if via.path.depth() == 0 {
            "raw".to_string()
        } else {
            format!("decoded {}", via.path.describe())
        };
        (
            encoding.to_string(),
            format!("{entry}: {how}, candidate from {rule}"),
        )
    }

    /// Records a finding a source built itself.
    pub fn push_finding(&self, finding: Finding) {
        lock(&self.findings).push(finding);
        self.totals.findings.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one file (or member, or object) read, with how many bytes were scanned.
    pub fn scanned(&self, root: usize, bytes: u64) {
        let tally = &self.roots[root];
        tally.files.fetch_add(1, Ordering::Relaxed);
        tally.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.totals.files.fetch_add(1, Ordering::Relaxed);
        self.totals.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.progress.tick(&self.totals);
    }

    /// Lists one regular file of a root in its manifest, for the root's subject digest.
    pub fn manifest_entry(&self, root: usize, entry: ManifestEntry) {
        lock(&self.roots[root].manifest).push(entry);
    }

    pub fn skipped(&self, root: usize, reason: SkipReason, path: String) {
        lock(&self.roots[root].coverage)
            .skipped
            .entry(reason)
            .or_default()
            .add(path);
    }

    pub fn gap(&self, root: usize, kind: GapKind, chain: Vec<String>, reason: String) {
        lock(&self.roots[root].coverage).gaps.push(Gap {
            kind,
            chain,
            reason,
        });
        self.totals.gaps.fetch_add(1, Ordering::Relaxed);
    }

    /// Edits one root's coverage (for sources that keep their own sections in it).
    pub fn with_root<T>(&self, root: usize, edit: impl FnOnce(&mut RootCoverage) -> T) -> T {
        edit(&mut lock(&self.roots[root].coverage))
    }

    /// The findings, in a stable order, and the coverage of every root.
    pub fn finish(self) -> (Vec<Finding>, Coverage) {
        self.progress.finish();
        let mut findings = self
            .findings
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        findings.sort_by(|a, b| {
            (&a.location, &a.secret, &a.encoding).cmp(&(&b.location, &b.secret, &b.encoding))
        });
        findings.dedup();
        let roots = self
            .roots
            .into_iter()
            .map(|tally| {
                let mut coverage = tally
                    .coverage
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                coverage.files_scanned = tally.files.into_inner();
                coverage.bytes_scanned = tally.bytes.into_inner();
                coverage.gaps.sort();
                let manifest = tally
                    .manifest
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // A store root's digest is its listing's, set by its source (none if the
                // listing was incomplete): never a digest of an empty file manifest.
                let is_store =
                    coverage.kind.starts_with("s3-") || coverage.kind.starts_with("oci-");
                if !is_store {
                    coverage.digest = subjects::root_digest(&coverage.kind, manifest);
                }
                coverage
            })
            .collect();
        (findings, Coverage { roots })
    }
}
