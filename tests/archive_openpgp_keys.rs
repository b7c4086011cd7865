//! OpenPGP keyrings and exported keys (`gpg --export`, `gpg --export-secret-keys`) are
//! read as packets: a keyring's key material is interpreted content, not an `opaque` gap
//! (Debian's archive keyrings once were one), a user id holding the secret is found, and a
//! passphrase-protected secret key is an `encrypted` gap while a clear one is not.

mod common;
mod store_support;

use std::path::Path;
use std::process::Command;

use common::{random_token, scan};
use store_support::require;

/// gpg with its own home, batch mode, passphrases given on the command line.
fn gpg(home: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--yes", "--quiet", "--pinentry-mode", "loopback"])
        .args(args)
        .output()
        .expect("run gpg");
    assert!(
        output.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn debian_archive_keyrings_are_interpreted_not_opaque() {
    let keyrings = Path::new("/usr/share/keyrings");
    let removed = keyrings.join("debian-archive-removed-keys.gpg");
    if !removed.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            ".ci/run must install debian-archive-keyring"
        );
        eprintln!("skipping: {} is missing", removed.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut keyring = std::fs::read(&removed).unwrap();
    keyring.extend(std::fs::read(keyrings.join("debian-archive-keyring.gpg")).unwrap_or_default());
    assert!(
        keyring.len() > 64 << 10,
        "a keyring larger than one entropy block"
    );
    common::write(dir.path(), "etc/apt/keyrings/archive.gpg", &keyring);

    let scan = scan(&random_token(32), &[dir.path()]);
    assert_eq!(scan.verdict(), "absent", "{:?}", scan.gaps());
    assert!(scan.gaps().is_empty());
}

#[test]
fn exported_keys_are_read_and_a_protected_secret_key_is_a_gap() {
    if !require("gpg", "apt-get install gnupg") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let secret = random_token(36);
    let user = format!(
        "deploy {} <ci@example.invalid>",
        String::from_utf8_lossy(&secret)
    );
    gpg(
        home.path(),
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            &user,
            "ed25519",
            "sign",
            "never",
        ],
    );
    let dir = tempfile::tempdir().unwrap();

    // The public key: the secret sits in its user id packet.
    let public = gpg(home.path(), &["--export"]);
    common::write(dir.path(), "found/public.gpg", &public);
    let found = scan(&secret, &[&dir.path().join("found")]);
    assert_eq!(found.verdict(), "found");
    assert!(found.gaps().is_empty(), "{:?}", found.gaps());

    // A secret key stored in the clear is read; behind a passphrase it is a gap. Neither
    // holds the secret we look for now.
    let other = random_token(36);
    let clear = gpg(home.path(), &["--passphrase", "", "--export-secret-keys"]);
    common::write(dir.path(), "clear/secret.gpg", &clear);
    let scan_clear = scan(&other, &[&dir.path().join("clear")]);
    assert_eq!(scan_clear.verdict(), "absent", "{:?}", scan_clear.gaps());

    let protected_home = tempfile::tempdir().unwrap();
    let protected_args = ["--passphrase", "hunter2"];
    gpg(
        protected_home.path(),
        &[
            &protected_args[..],
            &[
                "--quick-gen-key",
                "ops <ops@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ],
        ]
        .concat(),
    );
    let protected = gpg(
        protected_home.path(),
        &[&protected_args[..], &["--export-secret-keys"]].concat(),
    );
    common::write(dir.path(), "protected/secret.gpg", &protected);
    let scan_protected = scan(&other, &[&dir.path().join("protected")]);
    assert_eq!(scan_protected.verdict(), "incomplete");
    let gaps = scan_protected.gaps();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["kind"], "encrypted");
}
