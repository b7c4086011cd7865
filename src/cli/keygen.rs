//! `scour keygen`: a new Ed25519 key pair for signing reports.

use std::path::PathBuf;

use clap::Args;

use crate::evidence::keys;

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Writes NAME.key (private, mode 0600) and NAME.pub; never overwrites either.
    #[arg(long, value_name = "NAME")]
    out: PathBuf,
}

pub fn run(args: KeygenArgs) -> anyhow::Result<i32> {
    let (private, public, keyid) = keys::generate_files(&args.out)?;
    println!("private key: {} (keep it secret)", private.display());
    println!("public key:  {}", public.display());
    println!("keyid:       {keyid}");
    Ok(0)
}
