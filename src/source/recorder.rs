//! The recorder: where every source, on every thread, reports what it scanned, skipped,
//! could not read, and found.
//!
//! Everything entering a report passes through here, so the report's bounds live here too
//! (see [`super::bounds`]): findings per (secret, place) are capped with exact counts past
//! the cap, and names and gap reasons are cut to a fixed length.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::coverage::{Coverage, Gap, GapKind, RootCoverage, SkipReason};
use crate::evidence::subjects::{self, ManifestEntry};
use crate::findings::{Finding, Location};
use crate::matcher::{Hit, Matcher};
use crate::source::bounds::{
    bounded, bounded_chain, PlaceCounts, MAX_NAME_BYTES, MAX_REASON_BYTES,
};
use crate::source::progress::Progress;

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
    /// Findings per (place, secret), so only the first few of each are kept.
    places: Mutex<PlaceCounts>,
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
            places: Mutex::new(PlaceCounts::default()),
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
        let chain = bounded_chain(chain);
        let listed: Vec<&Hit> = {
            let mut places = lock(&self.places);
            hits.iter()
                .filter(|hit| {
                    let secret = &self.secret_ids[self.matcher.pattern(hit.pattern).secret];
                    places.admit(&chain, secret)
                })
                .collect()
        };
        let findings: Vec<Finding> = listed
            .into_iter()
            .map(|hit| self.finding(&chain, hit))
            .collect();
        lock(&self.findings).extend(findings);
        self.totals
            .findings
            .fetch_add(hits.len() as u64, Ordering::Relaxed);
    }

    /// Turns a hit into a finding; sources that attach more context start from this.
    pub fn finding(&self, chain: &[String], hit: &Hit) -> Finding {
        let pattern = self.matcher.pattern(hit.pattern);
        let (encoding, encoding_detail) = match &hit.ledger {
            None => (pattern.encoding.to_string(), pattern.detail.to_string()),
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
                within: None,
            },
            git: None,
            more: 0,
            store: None,
        }
    }

    /// A ledger hit's encoding (`raw`: the entry itself, in the bytes of the chain's last
    /// element, decoded or not) and how it was seen.
    fn describe_ledger_hit(&self, via: &crate::ledger::LedgerVia, entry: &str) -> (String, String) {
        let rule = match (via.rule, self.matcher.extractor()) {
            (Some(rule), Some(extractor)) => {
                format!("rule {}", extractor.rules().get(rule as usize).id)
            }
            _ => "generic token".to_string(),
        };
        (
            "raw".to_string(),
            format!("{entry}: raw, candidate from {rule}"),
        )
    }

    /// Records the hits of a text held in memory (a name, a ref, a loose object's body) at
    /// `chain`, inside `within`; a hit seen through decode layers is named by its outermost
    /// layer, and its detail lists them all.
    pub(crate) fn text_hits(
        &self,
        chain: &[String],
        within: Option<&str>,
        hits: &[crate::source::archive::decode::TextHit],
    ) {
        for text_hit in hits {
            let mut finding = self.finding(chain, &text_hit.hit);
            finding.location.within = within.map(str::to_string);
            if let Some(outer) = text_hit.layers.first() {
                finding.encoding = outer.to_string();
                finding.encoding_detail = format!(
                    "{}, in the text decoded from {}",
                    finding.encoding_detail,
                    text_hit.layers.join(" > ")
                );
            }
            self.push_finding(finding);
        }
    }

    /// Records a finding a source built itself.
    pub fn push_finding(&self, mut finding: Finding) {
        self.totals.findings.fetch_add(1, Ordering::Relaxed);
        finding.location.chain = bounded_chain(&finding.location.chain);
        if lock(&self.places).admit(&finding.location.chain, &finding.secret) {
            lock(&self.findings).push(finding);
        }
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
            .add(bounded(&path, MAX_NAME_BYTES));
    }

    /// Records a file that grew while read (a live log): read up to its size at open.
    pub fn grew_during_scan(&self, root: usize, path: String, read: u64, now: u64) {
        lock(&self.roots[root].coverage)
            .grew_during_scan
            .add(bounded(
                &format!("{path} (read {read} bytes; {now} by the end)"),
                MAX_NAME_BYTES,
            ));
    }

    pub fn gap(&self, root: usize, kind: GapKind, chain: Vec<String>, reason: String) {
        lock(&self.roots[root].coverage).gaps.push(Gap {
            kind,
            chain: bounded_chain(&chain),
            reason: bounded(&reason, MAX_REASON_BYTES),
        });
        self.totals.gaps.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back the findings whose location chain `claims` (for a source that adds
    /// context after the fact, e.g. the git source attaching commits and paths to every
    /// finding inside an object, members included). Give them back with [`Self::push_finding`].
    pub fn take_findings(&self, claims: impl Fn(&[String]) -> bool) -> Vec<Finding> {
        let mut findings = lock(&self.findings);
        let (taken, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut *findings)
            .into_iter()
            .partition(|finding| claims(&finding.location.chain));
        *findings = kept;
        self.totals
            .findings
            .fetch_sub(taken.len() as u64, Ordering::Relaxed);
        taken
    }

    /// Takes back the gaps of one root whose chain `claims`, like [`Self::take_findings`];
    /// give them back (amended) with [`Self::gap`].
    pub fn take_gaps(&self, root: usize, claims: impl Fn(&[String]) -> bool) -> Vec<Gap> {
        let mut coverage = lock(&self.roots[root].coverage);
        let (taken, kept): (Vec<Gap>, Vec<Gap>) = std::mem::take(&mut coverage.gaps)
            .into_iter()
            .partition(|gap| claims(&gap.chain));
        coverage.gaps = kept;
        self.totals
            .gaps
            .fetch_sub(taken.len() as u64, Ordering::Relaxed);
        taken
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
        let places = self
            .places
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        mark_not_listed(&mut findings, &places);
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
                coverage.gaps.dedup();
                // Walk threads and repositories finish in any order: sort what they list.
                coverage.archives.sort_by(|a, b| a.path.cmp(&b.path));
                coverage.repositories.sort_by(|a, b| a.path.cmp(&b.path));
                let mut manifest = tally
                    .manifest
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // A file read again after it or its directory changed during the walk is listed
                // once, as last read.
                manifest.reverse();
                manifest.sort_by(|a, b| a.path.cmp(&b.path));
                manifest.dedup_by(|later, earlier| later.path == earlier.path);
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

/// Sets `more` on the last listed finding of each (place, secret) that had more occurrences
/// than were listed. `findings` are sorted, so a place's findings are contiguous.
fn mark_not_listed(findings: &mut [Finding], places: &PlaceCounts) {
    let mut marked: std::collections::HashSet<(Vec<String>, String)> = Default::default();
    for finding in findings.iter_mut().rev() {
        let more = places.not_listed(&finding.location.chain, &finding.secret);
        if more > 0 && marked.insert((finding.location.chain.clone(), finding.secret.clone())) {
            finding.more = more;
        }
    }
}
