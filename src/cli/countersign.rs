//! `scour countersign`: a second key signs an already signed report (separation of duties).
//!
//! The envelope must first verify with one of the given public keys, so nobody countersigns
//! a report whose first signature is missing or broken.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::evidence::dsse::Envelope;
use crate::evidence::keys::{PrivateKey, PublicKey};
use crate::report;

#[derive(Debug, Args)]
pub struct CountersignArgs {
    /// The signed envelope; it is rewritten (atomically) with the added signature.
    #[arg(value_name = "ENVELOPE")]
    envelope: PathBuf,

    /// Public key(s) of the existing signer(s); at least one must verify.
    #[arg(long, value_name = "PUB", required = true)]
    pubkey: Vec<PathBuf>,

    /// The countersigning private key (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    sign_key: PathBuf,
}

pub fn run(args: CountersignArgs) -> anyhow::Result<i32> {
    let keys = args
        .pubkey
        .iter()
        .map(|path| PublicKey::load(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let signing = PrivateKey::load(&args.sign_key)?;
    let bytes = std::fs::read(&args.envelope)
        .with_context(|| format!("could not read {}", args.envelope.display()))?;
    let mut envelope = Envelope::parse(&bytes)?;
    if envelope.signers(&keys)?.is_empty() {
        anyhow::bail!(
            "{} has no valid signature by any --pubkey given; refusing to countersign it",
            args.envelope.display()
        );
    }
    let keyid = signing.public().keyid();
    if envelope.signers(&[signing.public()])?.len() == 1 {
        anyhow::bail!(
            "{} is already signed by key {keyid}",
            args.envelope.display()
        );
    }
    envelope.countersign(&signing)?;
    report::write_atomically(&args.envelope, &envelope.to_json()?)?;
    eprintln!(
        "scour: countersigned {} with key {keyid}",
        args.envelope.display()
    );
    Ok(0)
}
