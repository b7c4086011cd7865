//! Java keystores made by `keytool`: a truststore (certificates only, as the JDK's
//! `cacerts`) is read and is no gap, a private key entry is an `encrypted` gap, and a
//! secret in a certificate's subject is found.

mod common;

use std::path::Path;
use std::process::Command;

use common::{random_token, scan};

fn keytool(dir: &Path, args: &[&str]) {
    let output = Command::new("keytool")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run keytool");
    assert!(
        output.status.success(),
        "keytool {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn key_pair(dir: &Path, store: &str, storetype: &str, subject: &str) {
    keytool(
        dir,
        &[
            "-genkeypair",
            "-keystore",
            store,
            "-storetype",
            storetype,
            "-storepass",
            "changeit",
            "-keypass",
            "changeit",
            "-alias",
            "server",
            "-keyalg",
            "EC",
            "-dname",
            subject,
            "-validity",
            "30",
        ],
    );
}

#[test]
fn keytool_stores_are_read_and_only_their_keys_are_gaps() {
    if !common::have_tool("keytool") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let subject = format!("CN={}, O=scour", String::from_utf8_lossy(&secret));
    for storetype in ["jks", "jceks"] {
        let dir = work.path().join(storetype);
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        std::fs::create_dir_all(dir.join("trust")).unwrap();
        key_pair(&dir, "keys/server.ks", storetype, &subject);
        keytool(
            &dir,
            &[
                "-exportcert",
                "-keystore",
                "keys/server.ks",
                "-storetype",
                storetype,
                "-storepass",
                "changeit",
                "-alias",
                "server",
                "-file",
                "server.cer",
            ],
        );
        keytool(
            &dir,
            &[
                "-importcert",
                "-noprompt",
                "-keystore",
                "trust/truststore.ks",
                "-storetype",
                storetype,
                "-storepass",
                "changeit",
                "-alias",
                "server",
                "-file",
                "server.cer",
            ],
        );

        let other = random_token(32);
        let trust = scan(&other, &[&dir.join("trust")]);
        assert_eq!(trust.verdict(), "absent", "{storetype}: {:?}", trust.gaps());

        let keys = scan(&other, &[&dir.join("keys")]);
        assert_eq!(keys.verdict(), "incomplete", "{storetype}");
        let gaps = keys.gaps();
        assert_eq!(gaps.len(), 1, "{storetype}: {gaps:?}");
        assert_eq!(gaps[0]["kind"], "encrypted");

        // The subject is in the certificate, in the clear, in both stores.
        let found = scan(&secret, &[&dir.join("trust")]);
        assert_eq!(found.verdict(), "found", "{storetype}");
    }
}
