//! `scour countersign`: a second key signs an already signed report (separation of duties).
//!
//! The envelope must first verify with one of the given public keys, so nobody countersigns
//! a report whose first signature is missing or broken.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::evidence::dsse::Envelope;
use crate::evidence::keys::{PrivateKey, PublicKey};

use super::output::Destination;

#[derive(Debug, Args)]
pub struct CountersignArgs {
    /// The signed envelope; it is rewritten with the added signature (a regular file
    /// atomically, a symlink's target in place). `-` reads it from standard input and
    /// writes the countersigned envelope to standard output.
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
    let destination = Destination::check(Some(&args.envelope))?;
    let bytes = if destination.is_stdout() {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .context("could not read the envelope from standard input")?;
        bytes
    } else {
        std::fs::read(&args.envelope)
            .with_context(|| format!("could not read {}", args.envelope.display()))?
    };
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
    destination.write(&envelope.to_json()?)?;
    eprintln!(
        "scour: countersigned {} with key {keyid}",
        args.envelope.display()
    );
    Ok(0)
}
