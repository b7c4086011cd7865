//! `scour verify`: may a finding close on this signed report?

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::secret_args::SecretArgs;
use crate::evidence::keys::PublicKey;
use crate::evidence::policy::Policy;
use crate::evidence::verify;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The DSSE envelope written by `scour scan --sign-key` or `scour merge`.
    #[arg(value_name = "ENVELOPE")]
    envelope: PathBuf,

    /// A public key (PEM) whose signature is accepted (repeatable).
    #[arg(long, value_name = "PUB", required = true)]
    pubkey: Vec<PathBuf>,

    /// A closure policy (TOML; see docs/evidence.md) [default: `policy` in .scour.toml].
    /// Without one: signed, whole, absent.
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,

    /// Check that the report is about these secrets (never prompted for).
    #[command(flatten)]
    secrets: SecretArgs,
}

/// Exit 0: the finding may close. 1: a check failed. 2: the inputs could not be read.
pub fn run(args: VerifyArgs) -> anyhow::Result<i32> {
    let keys = args
        .pubkey
        .iter()
        .map(|path| PublicKey::load(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let configured = match &args.policy {
        Some(_) => None,
        None => super::config::Config::find(None)?.policy,
    };
    let policy = match args.policy.as_ref().or(configured.as_ref()) {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    };
    let secrets = if args.secrets.sources().is_empty() {
        Vec::new()
    } else {
        args.secrets.load()?
    };
    let envelope = std::fs::read(&args.envelope)
        .with_context(|| format!("could not read the envelope {}", args.envelope.display()))?;
    let outcome = verify::verify(&envelope, &keys, &policy, &secrets, chrono::Utc::now());
    drop(secrets);
    for check in &outcome.checks {
        let mark = if check.passed { "PASS" } else { "FAIL" };
        println!("{mark} {}: {}", check.name, check.detail);
    }
    if outcome.may_close() {
        println!("OK: the finding may close on {}", args.envelope.display());
        Ok(0)
    } else {
        println!(
            "REFUSED: the finding may not close on {}",
            args.envelope.display()
        );
        Ok(1)
    }
}
