//! `scour hook`: a pre-commit check that needs no plaintext secret.
//!
//! `scour hook run` scans exactly what the next commit adds (`--staged`) for every entry of
//! the repository's committed revocation ledger (hash mode), so no developer has to hold a
//! revoked secret. A clean commit prints nothing. A blocked commit names each `path:line`
//! and says how to take the file out of the commit (`git restore --staged PATH`). Gaps
//! (a staged file that could not be read through) also block, with their reason: a hook
//! that let them through would be a silent gap.
//!
//! `scour hook install` writes a plain git `pre-commit` hook that runs `scour hook run`, for
//! repositories that do not use the pre-commit framework.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::config::Config;
use super::secret_args::SecretArgs;
use crate::report::Report;
use crate::scan::shard::Shard;
use crate::scan::{self, ScanOptions};
use crate::secret::Salt;
use crate::source::archive::ArchiveLimits;
use crate::source::fs::WalkOptions;
use crate::source::git::GitMode;
use crate::verdict::{Verdict, EXIT_ERROR};

/// Where `scour hook` looks for a ledger when neither --ledger nor `.scour.toml` names one.
pub const DEFAULT_LEDGER: &str = ".scour/ledger.jsonl";

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Check what the next commit adds; exit 0 silently if clean, 1 (blocked) otherwise.
    Run(RunArgs),
    /// Write .git/hooks/pre-commit so every commit runs `scour hook run`.
    Install(InstallArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The revocation ledger [default: `ledger` in .scour.toml, else .scour/ledger.jsonl].
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Plaintext secrets too (optional; the ledger needs none).
    #[command(flatten)]
    secrets: SecretArgs,
    /// A config file instead of .scour.toml at the top of the work tree.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Files the pre-commit framework passes; ignored: the whole staged change is checked.
    #[arg(value_name = "FILES", hide = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    force: bool,
    /// Pass this ledger to `scour hook run` (default: as `scour hook run` finds it).
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

pub fn run(command: HookCommand) -> anyhow::Result<i32> {
    match command {
        HookCommand::Run(args) => check_staged(args),
        HookCommand::Install(args) => install(args),
    }
}

fn check_staged(args: RunArgs) -> anyhow::Result<i32> {
    let config = Config::find(args.config.as_deref())?;
    let ledger_path = args.ledger.or(config.ledger).or_else(|| {
        Path::new(DEFAULT_LEDGER)
            .is_file()
            .then(|| DEFAULT_LEDGER.into())
    });
    if ledger_path.is_none() && args.secrets.sources().is_empty() {
        anyhow::bail!(
            "no revocation ledger: add revoked secrets with `scour ledger add --ledger {DEFAULT_LEDGER}` \
             and commit the ledger (it holds only salted hashes), or name one with --ledger or \
             `ledger = \"...\"` in .scour.toml"
        );
    }
    let ledger = ledger_path
        .as_deref()
        .map(crate::ledger::Ledger::load)
        .transpose()?;
    let secrets = if args.secrets.sources().is_empty() {
        Vec::new()
    } else {
        args.secrets.load()?
    };
    let options = ScanOptions {
        paths: vec![PathBuf::from(".")],
        git: GitMode::Staged,
        walk: WalkOptions {
            excludes: config.exclude.clone(),
            respect_gitignore: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shard: Shard::WHOLE,
            content_digests: false,
        },
        archive_limits: ArchiveLimits::default(),
        progress: false,
        stores: scan::StoreOptions::default(),
    };
    let report = scan::run_with_ledger(&options, &secrets, Salt::random(), ledger.as_ref())?;
    drop(secrets);
    if report.verdict == Verdict::Absent {
        return Ok(0);
    }
    eprint!("{}", blocked_message(&report));
    Ok(report.verdict.exit_code())
}

/// What a developer reads when the commit is stopped: places, then what to do.
pub fn blocked_message(report: &Report) -> String {
    let mut out = String::new();
    let mut paths: Vec<String> = Vec::new();
    if !report.findings.is_empty() {
        out.push_str("scour: commit blocked: it would add a revoked secret\n");
    }
    for finding in &report.findings {
        let path = finding
            .git
            .as_ref()
            .and_then(|g| g.index.first())
            .map(|entry| entry.strip_prefix("index:").unwrap_or(entry).to_string())
            .or_else(|| {
                finding
                    .git
                    .as_ref()
                    .and_then(|g| g.commits.first().map(|c| c.path.clone()))
            })
            .unwrap_or_else(|| finding.location.display_path());
        let mut inner = finding
            .location
            .chain
            .iter()
            .skip(2)
            .cloned()
            .collect::<Vec<_>>();
        let within = if inner.is_empty() {
            String::new()
        } else {
            inner.insert(0, String::new());
            format!(" (inside{})", inner.join(" → "))
        };
        out.push_str(&format!(
            "  {path}:{}: revoked secret {} ({}){within}\n",
            finding.location.line, finding.secret, finding.encoding
        ));
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    if !paths.is_empty() {
        let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
        out.push_str(&format!(
            "Take it out of this commit with `git restore --staged {}`, delete the secret from \
             the file (use the new credential from your secret store instead), then `git add` \
             and commit again. Nothing was committed.\n",
            quoted.join(" ")
        ));
    }
    let gaps: Vec<_> = report.coverage.gaps().collect();
    if !gaps.is_empty() {
        out.push_str("scour: commit blocked: part of the change could not be checked\n");
        for gap in gaps {
            out.push_str(&format!(
                "  [{}] {}: {}\n",
                gap.kind,
                crate::findings::display_chain(&gap.chain),
                gap.reason
            ));
        }
        out.push_str(
            "Unstage what cannot be read (`git restore --staged PATH`), or make it readable, \
             then commit again.\n",
        );
    }
    out
}

fn shell_quote(text: &str) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./+=:@%".contains(&b))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn install(args: InstallArgs) -> anyhow::Result<i32> {
    let repository = git2::Repository::discover(".").map_err(|_| {
        anyhow::anyhow!("not inside a git repository: run `scour hook install` in the repository")
    })?;
    let hooks = hooks_dir(&repository);
    std::fs::create_dir_all(&hooks)
        .map_err(|e| anyhow::anyhow!("could not create {}: {e}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if hook.exists() && !args.force {
        eprintln!(
            "scour: {} already exists; add `scour hook run` to it, or rerun with --force to replace it",
            hook.display()
        );
        return Ok(EXIT_ERROR);
    }
    let ledger = args
        .ledger
        .map(|p| format!(" --ledger {}", shell_quote(&p.to_string_lossy())))
        .unwrap_or_default();
    let script = format!(
        "#!/bin/sh\n\
         # Installed by `scour hook install`: stops a commit that adds a revoked secret.\n\
         # Checks the staged change against the committed ledger; prints nothing when clean.\n\
         exec {} hook run{ledger}\n",
        shell_quote(&scour_command())
    );
    std::fs::write(&hook, script)
        .map_err(|e| anyhow::anyhow!("could not write {}: {e}", hook.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    eprintln!("scour: installed {}", hook.display());
    Ok(0)
}

/// `core.hooksPath` if set (relative to the work tree), else `.git/hooks`.
fn hooks_dir(repository: &git2::Repository) -> PathBuf {
    let configured = repository
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repository
            .workdir()
            .unwrap_or_else(|| repository.path())
            .join(path),
        None => repository.path().join("hooks"),
    }
}

/// This binary's full path, so the hook runs the scour that installed it (`~/.cargo/bin`,
/// `/usr/bin`), not whichever `scour` comes first on a developer's PATH.
fn scour_command() -> String {
    std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "scour".to_string())
}
