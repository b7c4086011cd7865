//! A scan from start to finish: secrets and paths in, a [`Report`] out.
//!
//! This is the one place that wires the stages together — sources feed the matcher, the
//! [`recorder::Recorder`] collects findings and coverage, and the verdict is decided from
//! them — so the data flow of the whole product can be read here.

pub mod progress;
pub mod recorder;
pub mod shard;

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Utc;

use crate::coverage::RootCoverage;
use crate::matcher::{encodings, Matcher};
use crate::report::{Report, ScanRecord, SecretRecord};
use crate::secret::{Salt, Secret};
use crate::source::fs::{self, Excludes, WalkOptions};
use crate::source::Context;
use crate::verdict::Verdict;
use recorder::Recorder;

/// Everything that decides what a scan covers.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    /// Show progress on stderr (only ever on a terminal).
    pub progress: bool,
}

/// Runs a scan. Fails only before scanning starts (a missing root, a bad glob); everything
/// that goes wrong during the scan becomes a gap in the report instead.
pub fn run(options: &ScanOptions, secrets: &[Secret], salt: Salt) -> anyhow::Result<Report> {
    let started_at = Utc::now();
    let roots = describe_roots(&options.paths)?;
    let excludes = Excludes::new(&options.walk.excludes)?;
    let matcher = Matcher::new(secrets)?;
    let secret_records: Vec<SecretRecord> = secrets
        .iter()
        .map(|secret| SecretRecord::new(secret.fingerprint(&salt)))
        .collect();
    let secret_ids = secret_records.iter().map(|s| s.id.clone()).collect();
    let progress = progress::Progress::new(options.progress);
    let recorder = Recorder::new(&matcher, secret_ids, roots, progress);
    for (index, path) in options.paths.iter().enumerate() {
        let ctx = Context {
            recorder: &recorder,
            root: index,
        };
        fs::scan_root(ctx, path, &options.walk, &excludes);
    }
    let (findings, coverage) = recorder.finish();
    let verdict = Verdict::decide(findings.len(), coverage.gap_count());
    Ok(Report::new(
        verdict,
        started_at,
        Utc::now(),
        salt,
        secret_records,
        ScanRecord {
            paths: options.paths.iter().map(|p| fs::display(p)).collect(),
            excludes: options.walk.excludes.clone(),
            respect_gitignore: options.walk.respect_gitignore,
            follows_symlinks: false,
            opens_special_files: false,
            encodings: encodings::all()
                .iter()
                .map(|e| e.name().to_string())
                .collect(),
            patterns: matcher.pattern_count(),
            threads: options.walk.threads,
            shard: (!options.walk.shard.is_whole()).then_some(options.walk.shard),
            content_digests: options.walk.content_digests,
        },
        findings,
        coverage,
    ))
}

fn describe_roots(paths: &[PathBuf]) -> anyhow::Result<Vec<RootCoverage>> {
    if paths.is_empty() {
        anyhow::bail!("no PATH to scan was given");
    }
    paths
        .iter()
        .map(|path| {
            let metadata = std::fs::metadata(path).with_context(|| {
                format!(
                    "cannot scan {}: check the path exists and is readable",
                    path.display()
                )
            })?;
            Ok(RootCoverage {
                root: fs::display(path),
                kind: if metadata.is_dir() {
                    "directory"
                } else {
                    "file"
                }
                .to_string(),
                ..RootCoverage::default()
            })
        })
        .collect()
}
