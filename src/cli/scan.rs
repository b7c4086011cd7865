//! `scour scan`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::color::ColorChoice;
use super::config::Config;
use super::output::Destination;
use super::secret_args::SecretArgs;
use crate::evidence::keys::PrivateKey;
use crate::evidence::statement::Statement;
use crate::evidence::subjects;
use crate::report::{self, Format};
use crate::scan::shard::Shard;
use crate::scan::{self, ScanOptions};
use crate::secret::Salt;
use crate::source::archive::limits::parse_bytes;
use crate::source::archive::ArchiveLimits;
use crate::source::fs::WalkOptions;
use crate::source::git::GitMode;

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    secrets: SecretArgs,

    /// Also look, by hash, for every secret in this revocation ledger (see `scour ledger`).
    /// With a ledger and no --secret-env/--secret-file, no plaintext secret is asked for.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,

    /// Directories or files to scan (with --staged or --git-range: a path inside the
    /// repository; default: the current directory).
    #[arg(value_name = "PATH", required_unless_present_any = ["staged", "git_range", "since_commit"])]
    paths: Vec<PathBuf>,

    /// Scan only what the next commit would add (staged changes against HEAD): for a
    /// pre-commit hook. Reads no work-tree file.
    #[arg(long, conflicts_with_all = ["git_range", "since_commit"])]
    staged: bool,

    /// Scan only what the commits in A..B introduce (their messages and new blobs): for CI
    /// and pre-receive checks.
    #[arg(long, value_name = "A..B", conflicts_with = "since_commit")]
    git_range: Option<String>,

    /// Scan only what the commits after COMMIT up to HEAD introduce (COMMIT..HEAD).
    #[arg(long, value_name = "COMMIT")]
    since_commit: Option<String>,

    /// Skip paths matching this glob (relative to the PATH, or a file name); recorded in the report.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Skip files ignored by .gitignore, .git/info/exclude and .ignore; recorded in the report.
    #[arg(long)]
    respect_gitignore: bool,

    /// Accept opaque content (high-entropy bytes no layer could interpret, such as data
    /// compressed or encrypted in a form scour cannot read) instead of recording it as a
    /// gap; the report counts what was accepted.
    #[arg(long)]
    allow_opaque: bool,

    /// Report format [default: text on a terminal, json otherwise]; the last one given wins.
    #[arg(long, value_enum, overrides_with = "format")]
    format: Option<Format>,

    /// Write the report to FILE instead of standard output (`-`): a regular file is replaced
    /// atomically keeping its mode, a link's target or a FIFO or device is written in place.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// No progress and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,

    /// Colour in the text report: auto (a terminal, unless NO_COLOR is set or TERM=dumb;
    /// CLICOLOR_FORCE forces it), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Read defaults (excludes, ledger, limits) from this file instead of .scour.toml at the
    /// top of the current git work tree. See docs/config.md.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Deepest nesting of archives and compression layers opened (`a.tar.gz` is 2)
    /// [default: 16, or `limits` in .scour.toml].
    #[arg(long, value_name = "N")]
    archive_max_depth: Option<u32>,

    /// Most bytes decompressed from one top-level archive, e.g. 1T, 200G [default: 1T].
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    archive_max_bytes: Option<u64>,

    /// Largest expansion ratio of a top-level archive past its first GiB (zip-bomb defence)
    /// [default: 100].
    #[arg(long, value_name = "N")]
    archive_max_ratio: Option<u64>,

    /// Memory for members that need random access inside a stream (a zip in a tarball)
    /// [default: 1G].
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    archive_max_buffer: Option<u64>,

    /// Worker threads [default: number of CPUs].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Sign the report: the output is a DSSE envelope (in-toto statement, the JSON report as
    /// predicate) signed with this Ed25519 PKCS#8 PEM key. See docs/evidence.md.
    #[arg(long, value_name = "KEY")]
    sign_key: Option<PathBuf>,

    /// Scan only shard K of N (files partitioned by path); merge all N with `scour merge`.
    #[arg(long, value_name = "K/N", requires = "salt")]
    shard: Option<Shard>,

    /// Fingerprint salt (32 hex digits) instead of a random one: the same for every shard of
    /// a sweep, or across runs so SARIF alerts track. Make one with `openssl rand -hex 16`.
    #[arg(long, value_name = "HEX")]
    salt: Option<String>,

    /// Hash every file's bytes into the directory's signed subject digest (costs time; a
    /// single-file PATH is always hashed).
    #[arg(long)]
    content_digests: bool,

    #[command(flatten)]
    stores: Box<StoreArgs>,
}

/// Options for store targets (`s3://`, `oci://`) and incremental sweeps (boxed: the scan
/// arguments are large enough already).
#[derive(Debug, Args)]
struct StoreArgs {
    /// Which versions of s3:// objects are read: every version (current, noncurrent, behind
    /// delete markers) or only current ones; recorded in the report.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "all")]
    s3_versions: crate::source::s3::listing::VersionsMode,

    /// Reuse proofs of absence from earlier scans kept in DIR, and record this scan's: units
    /// (files, object versions, blobs) unchanged since, checked for every secret of this scan
    /// by the same engine, are not read again. The report says how many were reused.
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
}

pub fn run(mut args: ScanArgs) -> anyhow::Result<i32> {
    // A bad -o is an error now, not after the scan.
    let destination = Destination::check(args.output.as_deref())?;
    let config = Config::find(args.config.as_deref())?;
    let archive_limits = archive_limits(&args, &config)?;
    // The file's excludes come first, then those given here; both land in the report.
    let mut excludes = config.exclude.clone();
    excludes.append(&mut args.exclude);
    args.exclude = excludes;
    args.respect_gitignore |= config.respect_gitignore;
    if args.ledger.is_none() {
        args.ledger = config.ledger.clone();
    }
    // Keys and salt are checked before the secret is asked for and the scan starts.
    let signing = args.sign_key.as_deref().map(PrivateKey::load).transpose()?;
    if signing.is_some() && matches!(args.format, Some(Format::Text | Format::Sarif)) {
        anyhow::bail!(
            "--sign-key writes a DSSE envelope, which is JSON; drop --format (or use --format json) \
             and read the envelope with `scour verify`"
        );
    }
    let salt = match &args.salt {
        Some(text) => Salt::from_hex(text).ok_or_else(|| {
            anyhow::anyhow!(
                "--salt must be 32 hex digits (16 bytes), e.g. from `openssl rand -hex 16`"
            )
        })?,
        None => Salt::random(),
    };
    // A wrong ledger is an error before anything is scanned, never an "absent".
    let ledger = args
        .ledger
        .as_deref()
        .map(crate::ledger::Ledger::load)
        .transpose()?;
    let secrets = if ledger.is_some() && args.secrets.sources().is_empty() {
        Vec::new()
    } else {
        args.secrets.load()?
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let git = if args.staged {
        GitMode::Staged
    } else if let Some(range) = args.git_range {
        GitMode::Range(range)
    } else if let Some(commit) = args.since_commit {
        GitMode::Range(format!("{commit}..HEAD"))
    } else {
        GitMode::Everything
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let options = ScanOptions {
        paths,
        git,
        walk: WalkOptions {
            excludes: args.exclude,
            respect_gitignore: args.respect_gitignore,
            threads,
            shard: args.shard.unwrap_or(Shard::WHOLE),
            content_digests: args.content_digests,
        },
        archive_limits,
        progress: !args.quiet,
        stores: scan::StoreOptions {
            s3_versions: args.stores.s3_versions,
            cache: args.stores.cache,
        },
    };
    let report = scan::run_with_ledger(&options, &secrets, salt, ledger.as_ref())?;
    drop(secrets);

    let to_terminal = destination.is_stdout() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        Format::Text
    } else {
        Format::Json
    });
    let color = args.color.enabled(to_terminal);
    let rendered = match &signing {
        Some(key) => {
            let subjects = subjects::from_report(&report);
            Statement::new(subjects, report.clone())
                .sign(&[key])?
                .to_json()?
        }
        None => report::render(&report, format, color)?,
    };
    let rendered = crate::redact::output(rendered);
    destination.write(&rendered)?;
    match &destination {
        Destination::File(path) => {
            if !args.quiet {
                let summary = format!(
                    "scour: {} — {} finding(s), {} gap(s), {} file(s) scanned; report written to {}",
                    report.verdict.as_str(),
                    report.summary.findings,
                    report.summary.gaps,
                    report.summary.files_scanned,
                    path.display()
                );
                eprintln!("{}", crate::redact::text(&summary));
            }
        }
        Destination::Stdout => {}
    }
    Ok(report.verdict.exit_code())
}

/// The archive bounds: the command line, else `limits` in the config file, else defaults.
fn archive_limits(args: &ScanArgs, config: &Config) -> anyhow::Result<ArchiveLimits> {
    let defaults = ArchiveLimits::default();
    let limits = &config.limits;
    let bytes = |given: Option<u64>, configured: &Option<String>, default: u64, name: &str| match (
        given, configured,
    ) {
        (Some(value), _) => Ok(value),
        (None, Some(text)) => {
            parse_bytes(text).map_err(|e| anyhow::anyhow!("{name} in the config file: {e}"))
        }
        (None, None) => Ok(default),
    };
    Ok(ArchiveLimits {
        max_depth: args
            .archive_max_depth
            .or(limits.archive_max_depth)
            .unwrap_or(defaults.max_depth),
        max_expanded_bytes: bytes(
            args.archive_max_bytes,
            &limits.archive_max_bytes,
            defaults.max_expanded_bytes,
            "archive_max_bytes",
        )?,
        max_ratio: args
            .archive_max_ratio
            .or(limits.archive_max_ratio)
            .unwrap_or(defaults.max_ratio),
        max_buffer: bytes(
            args.archive_max_buffer,
            &limits.archive_max_buffer,
            defaults.max_buffer,
            "archive_max_buffer",
        )?,
        allow_opaque: args.allow_opaque,
    })
}
