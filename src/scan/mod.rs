//! A scan from start to finish: secrets and paths in, a [`Report`] out.
//!
//! This is the one place that wires the stages together — sources feed the matcher, the
//! [`recorder::Recorder`] collects findings and coverage, and the verdict is decided from
//! them — so the data flow of the whole product can be read here.

// The recorder (the sink every source reports into) and its bounds, progress display and
// per-unit containment live beside the sources that use them (`crate::source`), so sources
// do not import the driver; these paths are kept for the code that names them here.
pub use crate::model::shard;
pub use crate::source::{bounds, contain, progress, recorder};

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;

use crate::coverage::RootCoverage;
use crate::ledger::Ledger;
use crate::matcher::{encodings, Matcher};
use crate::redact::Redactor;
use crate::report::{LedgerRecord, Report, ScanRecord, SecretRecord};
use crate::rules::RuleSet;
use crate::secret::{Salt, Secret};
use crate::source::archive::ArchiveLimits;
use crate::source::fs::{self, Excludes, WalkOptions};
use crate::source::Context;
use crate::verdict::Verdict;
use recorder::Recorder;

/// Everything that decides what a scan covers.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    /// How far archives are followed (depth, expansion, memory).
    pub archive_limits: ArchiveLimits,
    /// Show progress on stderr (only ever on a terminal).
    pub progress: bool,
    /// Everything (files and whole histories), or only staged changes or a commit range.
    pub git: crate::source::git::GitMode,
    /// How `s3://` and `oci://` targets are read, and the `--cache` to reuse proofs from.
    pub stores: StoreOptions,
}

/// Options for store targets and incremental sweeps.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    pub s3_versions: crate::source::s3::listing::VersionsMode,
    pub cache: Option<PathBuf>,
}

/// A scan target: a local path, or a store named by URL.
enum Target {
    Local,
    S3(crate::source::s3::location::S3Location),
    Oci(crate::source::oci::reference::OciTarget),
}

fn target_of(path: &std::path::Path) -> anyhow::Result<Target> {
    let text = path.to_string_lossy();
    if let Some(parsed) = crate::source::s3::location::S3Location::parse(&text) {
        return Ok(Target::S3(parsed.map_err(anyhow::Error::msg)?));
    }
    if let Some(parsed) = crate::source::oci::reference::OciTarget::parse(&text) {
        return Ok(Target::Oci(parsed.map_err(anyhow::Error::msg)?));
    }
    Ok(Target::Local)
}

/// Runs a scan. Fails only before scanning starts (a missing root, a bad glob); everything
/// that goes wrong during the scan becomes a gap in the report instead.
pub fn run(options: &ScanOptions, secrets: &[Secret], salt: Salt) -> anyhow::Result<Report> {
    run_with_ledger(options, secrets, salt, None)
}

/// Runs a scan for plaintext `secrets` (possibly none) and, by hash, for every entry of
/// `ledger`. Findings from the ledger name the entry's id and say `mode: ledger`.
pub fn run_with_ledger(
    options: &ScanOptions,
    secrets: &[Secret],
    salt: Salt,
    ledger: Option<&Ledger>,
) -> anyhow::Result<Report> {
    let started_at = Utc::now();
    let matcher = Arc::new(match ledger {
        Some(ledger) => Matcher::with_ledger(secrets, ledger, RuleSet::builtin()?)?,
        None => Matcher::new(secrets)?,
    });
    // Findings name secrets by index; the parts of one private key share one record.
    let mut secret_ids: Vec<String> = Vec::with_capacity(secrets.len());
    let mut secret_records: Vec<SecretRecord> = Vec::new();
    for secret in secrets {
        let mut record = SecretRecord::new(secret.fingerprint(&salt));
        record.source = Some(secret.source().to_string());
        record.name = Some(secret.name().to_string());
        secret_ids.push(record.id.clone());
        if !secret_records.iter().any(|r| r.id == record.id) {
            secret_records.push(record);
        }
    }
    if let Some(ledger) = ledger {
        secret_ids.extend(ledger.entries.iter().map(|e| e.id.clone()));
    }
    // Installed before anything can fail, so even an error about a PATH is redacted.
    let redactor = Arc::new(
        Redactor::new(Arc::clone(&matcher), secrets, secret_ids.clone())
            .with_text_scan(crate::source::archive::decode::report_text_hits),
    );
    crate::redact::install(Arc::clone(&redactor));
    let roots = describe_roots(&options.paths)?;
    let excludes = Excludes::new(&options.walk.excludes)?;
    let matcher: &Matcher = &matcher;
    let progress = progress::Progress::new(options.progress);
    let mut recorder = Recorder::new(
        matcher,
        secret_ids,
        roots,
        progress,
        options.archive_limits.clone(),
    );
    recorder.cache = options
        .stores
        .cache
        .as_ref()
        .map(|dir| open_cache(dir, options, secrets, ledger));
    let mut provenance = std::collections::HashMap::new();
    if options.git == crate::source::git::GitMode::Everything {
        provenance = scan_everything(options, &recorder, &excludes);
    } else {
        for (index, path) in options.paths.iter().enumerate() {
            crate::source::git::scan_mode(&recorder, index, path, &options.git)?;
        }
    }
    let cache = recorder.cache.take();
    let (mut findings, coverage) = recorder.finish();
    crate::source::provenance::attach(&mut findings, &provenance);
    let cache_record = cache.map(|cache| {
        let troubled = findings
            .iter()
            .filter_map(|f| f.location.chain.first())
            .chain(coverage.gaps().filter_map(|g| g.chain.first()))
            .cloned()
            .collect();
        cache.finish(&troubled, true)
    });
    let verdict = Verdict::decide(findings.len(), coverage.gap_count());
    let ledger_record = ledger.map(|ledger| ledger_record(ledger, matcher));
    let mut report = Report::new(
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
            allow_opaque: options.archive_limits.allow_opaque,
            s3_versions: options
                .paths
                .iter()
                .any(|p| matches!(target_of(p), Ok(Target::S3(_))))
                .then(|| options.stores.s3_versions.name().to_string()),
        },
        findings,
        coverage,
    );
    report.ledger = ledger_record;
    report.cache = cache_record;
    // The one pass every string of the report goes through before it is rendered or signed.
    redactor.report(report)
}

fn ledger_record(ledger: &Ledger, matcher: &Matcher) -> LedgerRecord {
    let extractor = matcher.extractor();
    LedgerRecord {
        path: ledger.path.display().to_string(),
        entries: ledger.entries.len(),
        sha256: ledger.file_sha256.clone(),
        hash: "sha256(salt || secret), salt in the ledger header".to_string(),
        rules: extractor.map_or(0, |e| e.rules().rules().len()),
        decoded_layers: crate::source::archive::decode::ENCODINGS
            .iter()
            .map(|name| name.to_string())
            .collect(),
        cannot_see: crate::ledger::limitations(),
    }
}

/// The cache for this scan's secrets (plaintext and ledger entries) and engine.
fn open_cache(
    dir: &std::path::Path,
    options: &ScanOptions,
    secrets: &[Secret],
    ledger: Option<&Ledger>,
) -> crate::cache::Cache {
    let mut checked: Vec<Vec<u8>> = secrets.iter().map(|s| s.expose().to_vec()).collect();
    let mut rules = Vec::new();
    if let Some(ledger) = ledger {
        checked.extend(
            ledger
                .entries
                .iter()
                .map(|e| format!("ledger:{}", e.id).into_bytes()),
        );
        if let Ok(set) = RuleSet::builtin() {
            rules = set.rules().iter().map(|r| r.id.clone()).collect();
        }
    }
    // Hash mode reads encoded content through the pipeline's decode layers: a proof made
    // with other layers is not this engine's.
    let layers: &[&str] = if ledger.is_some() {
        crate::source::archive::decode::ENCODINGS
    } else {
        &[]
    };
    let engine = crate::cache::engine::digest(&options.archive_limits, &rules, layers);
    let views: Vec<&[u8]> = checked.iter().map(Vec::as_slice).collect();
    let cache = crate::cache::Cache::open(dir.to_path_buf(), engine, &views);
    // The copies of the secrets' bytes are wiped now that only fingerprints are kept.
    for mut bytes in checked {
        zeroize::Zeroize::zeroize(&mut bytes);
    }
    cache
}

/// Walks or lists every root, then reads every object of every repository the walks met.
/// Returns the store provenance of what the store roots read, by chain head.
fn scan_everything(
    options: &ScanOptions,
    recorder: &Recorder,
    excludes: &Excludes,
) -> std::collections::HashMap<String, crate::source::provenance::StoreProvenance> {
    let mut provenance = std::collections::HashMap::new();
    for (index, path) in options.paths.iter().enumerate() {
        let ctx = Context {
            recorder,
            root: index,
        };
        match target_of(path) {
            Ok(Target::S3(location)) => {
                let s3 = crate::source::s3::S3Options {
                    versions: options.stores.s3_versions,
                    threads: options.walk.threads,
                    shard: options.walk.shard,
                };
                provenance.extend(crate::source::s3::scan_root(ctx, &location, &s3));
            }
            Ok(Target::Oci(target)) => {
                let oci = crate::source::oci::OciOptions {
                    threads: options.walk.threads,
                    shard: options.walk.shard,
                };
                provenance.extend(crate::source::oci::scan_root(ctx, &target, &oci));
            }
            _ => fs::scan_root(ctx, path, &options.walk, excludes),
        }
    }
    // Every repository the walks met: its whole object database, after the walk.
    let walk_outside = |root: usize, git_dir: &std::path::Path| {
        if !is_inside(&options.paths[root], git_dir) {
            let ctx = Context { recorder, root };
            fs::scan_root(ctx, git_dir, &options.walk, excludes);
        }
    };
    // A shard reads only the objects it owns (by object id), as it scans only its files.
    let shard = &options.walk.shard;
    let owns_object = |oid: &git2::Oid| shard.owns(oid.as_bytes());
    let object_filter: Option<&(dyn Fn(&git2::Oid) -> bool + Sync)> =
        (!shard.is_whole()).then_some(&owns_object);
    // Objects are read on a pool of --threads workers, not on every core of the machine.
    match rayon::ThreadPoolBuilder::new()
        .num_threads(options.walk.threads)
        .build()
    {
        Ok(pool) => pool.install(|| {
            crate::source::git::scan_registered(recorder, object_filter, &walk_outside)
        }),
        Err(_) => crate::source::git::scan_registered(recorder, object_filter, &walk_outside),
    }
    provenance
}

/// True if `path` lies under `root` (both resolved), so walking `root` already scanned it.
fn is_inside(root: &std::path::Path, path: &std::path::Path) -> bool {
    match (std::fs::canonicalize(root), std::fs::canonicalize(path)) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => true,
    }
}

fn describe_roots(paths: &[PathBuf]) -> anyhow::Result<Vec<RootCoverage>> {
    if paths.is_empty() {
        anyhow::bail!("no PATH to scan was given");
    }
    paths
        .iter()
        .map(|path| {
            match target_of(path)? {
                Target::S3(location) => {
                    return Ok(RootCoverage {
                        root: location.display(),
                        kind: "s3-bucket".to_string(),
                        ..RootCoverage::default()
                    })
                }
                Target::Oci(target) => {
                    return Ok(RootCoverage {
                        root: target.display(),
                        kind: "oci-repository".to_string(),
                        ..RootCoverage::default()
                    })
                }
                Target::Local => {}
            }
            let metadata = std::fs::metadata(path).with_context(|| {
                format!(
                    "cannot scan {}: check the path exists and is readable",
                    path.display()
                )
            })?;
            let kind = if metadata.is_dir() {
                "directory"
            } else {
                "file"
            };
            Ok(RootCoverage {
                root: fs::display(path),
                kind: kind.to_string(),
                // Recorded now so that rendering never reopens the repository.
                work_tree: crate::source::git::work_tree::describe(path, kind),
                ..RootCoverage::default()
            })
        })
        .collect()
}
