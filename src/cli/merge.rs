//! `scour merge`: one signed report from the signed reports of every shard of a sweep.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::evidence::keys::{PrivateKey, PublicKey};
use crate::evidence::merge::{self, ShardInput};

use super::output::Destination;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Every shard's envelope (`scour scan --shard K/N --sign-key ...`), each exactly once.
    #[arg(value_name = "SHARD_ENVELOPE", required = true)]
    shards: Vec<PathBuf>,

    /// Public keys whose signatures on the shards are accepted (repeatable).
    #[arg(long, value_name = "PUB", required = true)]
    pubkey: Vec<PathBuf>,

    /// Signs the merged report with this private key (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    sign_key: PathBuf,

    /// Write the merged envelope to FILE instead of standard output (`-` is standard
    /// output; a regular file is replaced atomically, a symlink's target, a FIFO or a
    /// device is written in place).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: MergeArgs) -> anyhow::Result<i32> {
    // Checked first: a missing output directory is an error before any shard is read.
    let destination = Destination::check(args.output.as_deref())?;
    let keys = args
        .pubkey
        .iter()
        .map(|path| PublicKey::load(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let signing = PrivateKey::load(&args.sign_key)?;
    let inputs = args
        .shards
        .iter()
        .map(|path| {
            Ok(ShardInput {
                name: path.display().to_string(),
                envelope: std::fs::read(path)
                    .with_context(|| format!("could not read {}", path.display()))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let statement = merge::merge(&inputs, &keys)?;
    let envelope = statement.sign(&[&signing])?.to_json()?;
    let report = &statement.predicate;
    destination.write(&envelope)?;
    eprintln!(
        "scour: merged {} shard(s): {} — {} finding(s), {} gap(s), {} file(s) scanned",
        inputs.len(),
        report.verdict.as_str(),
        report.summary.findings,
        report.summary.gaps,
        report.summary.files_scanned
    );
    Ok(report.verdict.exit_code())
}
