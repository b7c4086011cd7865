//! Signed reports: DSSE envelopes over in-toto statements, verified by scour and by openssl.

mod common;
mod evidence_support;

use std::path::Path;

use base64::Engine;
use common::{random_token, write};
use evidence_support::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn clean_tree(dir: &Path) {
    write(dir, "app/.env", "API_TOKEN=rotated-and-new\n");
    write(dir, "app/src/main.rs", "fn main() {}\n");
    write(dir, "logs/build.log", "ok\n".repeat(1000));
}

#[test]
fn sign_then_verify_round_trip_with_subjects_that_bind_what_was_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let backup = write(
        dir.path(),
        "backup.tar",
        b"not really a tar, but bytes".repeat(50),
    );
    let secret = random_token(32);
    let scan = signed_scan(&secret, &[&tree, &backup], &keys.private, &[]);
    assert_eq!(
        scan.code(),
        0,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    scan.assert_no_leak(&secret);

    let (envelope, body, statement) = open(&scan.report_bytes);
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(envelope["signatures"][0]["keyid"], keys.keyid.as_str());
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert!(statement["predicateType"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert_eq!(statement["predicate"]["verdict"], "absent");
    common::assert_no_window(&body, &secret, "payload");

    // The file subject is the SHA-256 of the file's bytes.
    let subjects = statement["subject"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    let file_subject = subjects
        .iter()
        .find(|s| s["name"] == backup.to_str().unwrap())
        .unwrap();
    let expected = hex::encode(Sha256::digest(std::fs::read(&backup).unwrap()));
    assert_eq!(file_subject["digest"]["sha256"], expected.as_str());
    assert!(file_subject["annotations"]["scour.binds"]
        .as_str()
        .unwrap()
        .contains("bytes"));
    // The directory subject is the SHA-256 of its manifest of paths and sizes.
    let mut lines = [
        ("app/.env", 26u64),
        ("app/src/main.rs", 13),
        ("logs/build.log", 3000),
    ]
    .iter()
    .map(|(p, s)| format!("- {s} \"{p}\"\n"))
    .collect::<Vec<_>>();
    lines.sort_by_key(|l| l.split(' ').nth(2).unwrap().to_string());
    let manifest = hex::encode(Sha256::digest(lines.concat().as_bytes()));
    let tree_subject = subjects
        .iter()
        .find(|s| s["name"] == tree.to_str().unwrap())
        .unwrap();
    assert_eq!(tree_subject["digest"]["sha256"], manifest.as_str());

    let verified = verify(&scan.report_bytes, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());
    assert!(verified.passed("signature"));
    assert!(verified.check("signature").contains(&keys.keyid));
    assert!(verified.passed("verdict"));
    assert!(verified.stdout().contains("OK: the finding may close"));
}

#[test]
fn content_digests_bind_every_file_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let secret = random_token(24);
    let digest_of = |extra: &[&str]| {
        let scan = signed_scan(&secret, &[&tree], &keys.private, extra);
        let (_, _, statement) = open(&scan.report_bytes);
        (
            statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
                .to_string(),
            statement["subject"][0]["annotations"]["scour.binds"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let (manifest, binds) = digest_of(&[]);
    assert!(binds.contains("not contents"));
    let (with_content, binds) = digest_of(&["--content-digests"]);
    assert!(binds.contains("contents"));
    assert_ne!(manifest, with_content);
    // Same size, different bytes: only the content manifest changes.
    write(&tree, "app/src/main.rs", "fn mian() {}\n");
    assert_eq!(digest_of(&[]).0, manifest);
    assert_ne!(digest_of(&["--content-digests"]).0, with_content);
    let expected_line = format!(
        "{} 13 \"app/src/main.rs\"\n",
        hex::encode(Sha256::digest(b"fn mian() {}\n"))
    );
    let mut lines = [
        expected_line,
        format!(
            "{} 26 \"app/.env\"\n",
            hex::encode(Sha256::digest(b"API_TOKEN=rotated-and-new\n"))
        ),
        format!(
            "{} 3000 \"logs/build.log\"\n",
            hex::encode(Sha256::digest("ok\n".repeat(1000)))
        ),
    ];
    lines.sort_by_key(|l| l.split(' ').nth(2).unwrap().to_string());
    assert_eq!(
        digest_of(&["--content-digests"]).0,
        hex::encode(Sha256::digest(lines.concat().as_bytes()))
    );
}

/// Writes PAE and signature files as a shell user would, and runs openssl on them.
fn openssl_verifies(envelope: &[u8], public: &Path, dir: &Path) -> bool {
    let (envelope, body, _) = open(envelope);
    let pae_path = dir.join("pae.bin");
    let sig_path = dir.join("sig.bin");
    std::fs::write(
        &pae_path,
        pae(envelope["payloadType"].as_str().unwrap(), &body),
    )
    .unwrap();
    let sig = B64
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    std::fs::write(&sig_path, sig).unwrap();
    let output = openssl(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        public.to_str().unwrap(),
        "-rawin",
        "-in",
        pae_path.to_str().unwrap(),
        "-sigfile",
        sig_path.to_str().unwrap(),
    ]);
    output.status.success()
        && String::from_utf8_lossy(&output.stdout).contains("Signature Verified Successfully")
}

#[test]
fn openssl_verifies_the_envelope_and_rejects_a_changed_payload() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let scan = signed_scan(&random_token(20), &[&tree], &keys.private, &[]);
    assert!(openssl_verifies(
        &scan.report_bytes,
        &keys.public,
        dir.path()
    ));

    let (mut envelope, mut body, _) = open(&scan.report_bytes);
    // One letter of the scanned path changes: the payload is still a valid report, so only
    // the signature can tell.
    let at = memchr::memmem::find(&body, b"/tree").unwrap() + 1;
    body[at] ^= 1;
    envelope["payload"] = Value::from(B64.encode(&body));
    let changed = serde_json::to_vec(&envelope).unwrap();
    assert!(!openssl_verifies(&changed, &keys.public, dir.path()));
}

#[test]
fn scour_key_files_load_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let output = openssl(&["pkey", "-in", keys.private.to_str().unwrap(), "-pubout"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, std::fs::read(&keys.public).unwrap());
}

#[test]
fn an_openssl_generated_key_signs_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("ossl.pem");
    let public = dir.path().join("ossl.pub");
    let p = private.to_str().unwrap();
    assert!(openssl(&["genpkey", "-algorithm", "ed25519", "-out", p])
        .status
        .success());
    assert!(openssl(&[
        "pkey",
        "-in",
        p,
        "-pubout",
        "-out",
        public.to_str().unwrap()
    ])
    .status
    .success());
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let scan = signed_scan(&random_token(20), &[&tree], &private, &[]);
    assert_eq!(
        scan.code(),
        0,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(verify(&scan.report_bytes, &[&public], None, &[]).code(), 0);
    assert!(openssl_verifies(&scan.report_bytes, &public, dir.path()));
}

#[test]
fn every_kind_of_tampering_is_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let other = keygen(dir.path(), "other");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let scan = signed_scan(&random_token(20), &[&tree], &keys.private, &[]);
    let (envelope, body, _) = open(&scan.report_bytes);
    let variant = |edit: &dyn Fn(&mut Value)| {
        let mut changed = envelope.clone();
        edit(&mut changed);
        serde_json::to_vec(&changed).unwrap()
    };

    // Every single payload byte position class: start, middle, end.
    for at in [0, body.len() / 3, body.len() / 2, body.len() - 1] {
        let mut flipped = body.clone();
        flipped[at] ^= 0x20;
        let changed = variant(&|e| e["payload"] = Value::from(B64.encode(&flipped)));
        let verified = verify(&changed, &[&keys.public], None, &[]);
        assert_eq!(verified.code(), 1, "payload byte {at}");
        assert!(!verified.passed("signature"));
        assert!(verified.check("signature").contains("changed"));
        assert!(
            !verified.stdout().contains("PASS verdict"),
            "nothing unsigned is judged"
        );
    }
    let mut sig = B64
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    sig[10] ^= 1;
    let changed = variant(&|e| e["signatures"][0]["sig"] = Value::from(B64.encode(&sig)));
    assert!(!verify(&changed, &[&keys.public], None, &[]).passed("signature"));

    let changed = variant(&|e| e["payloadType"] = Value::from("application/json"));
    let verified = verify(&changed, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(!verified.passed("payload type"));
    assert!(!verified.passed("signature"));

    let changed = variant(&|e| e["signatures"] = Value::Array(vec![]));
    assert_eq!(verify(&changed, &[&keys.public], None, &[]).code(), 1);

    // Signed, but by a key the verifier did not name.
    let verified = verify(&scan.report_bytes, &[&other.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(!verified.passed("signature"));

    // Not an envelope at all.
    let verified = verify(b"{\"hello\": 1}", &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(!verified.passed("envelope"));

    // URL-safe base64 of the same bytes is the same envelope.
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let changed = variant(&|e| {
        e["payload"] = Value::from(url_safe.encode(&body));
        let sig = B64
            .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
            .unwrap();
        e["signatures"][0]["sig"] = Value::from(url_safe.encode(sig));
    });
    assert_eq!(verify(&changed, &[&keys.public], None, &[]).code(), 0);
}

#[test]
fn verify_refuses_found_and_incomplete_reports() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let secret = random_token(28);
    write(
        &tree,
        "old/.env.bak",
        [b"TOKEN=".as_slice(), &secret].concat(),
    );
    let found = signed_scan(&secret, &[&tree], &keys.private, &[]);
    assert_eq!(found.code(), 1);
    found.assert_no_leak(&secret);
    let verified = verify(&found.report_bytes, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(verified.passed("signature"));
    assert!(verified.check("verdict").contains("found"));
    assert!(verified.stdout().contains("REFUSED"));

    // An incomplete report (a gap), signed by a trusted key, is refused too.
    let (_, _, statement) = open(&found.report_bytes);
    let mut report = statement["predicate"].clone();
    report["findings"] = Value::Array(vec![]);
    report["summary"]["findings"] = 0.into();
    report["summary"]["gaps"] = 1.into();
    report["verdict"] = "incomplete".into();
    report["coverage"]["roots"][0]["gaps"] = serde_json::json!([{
        "kind": "permission-denied", "chain": ["tree/private"], "reason": "could not open"
    }]);
    let envelope = sign_report(&report, &keys.private);
    let verified = verify(&envelope, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(verified.passed("signature"));
    assert!(verified.check("verdict").contains("incomplete"));
    assert!(verified.check("verdict").contains("permission-denied"));

    // A signed report whose verdict does not follow from its content is refused.
    report["verdict"] = "absent".into();
    let envelope = sign_report(&report, &keys.private);
    let verified = verify(&envelope, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(!verified.passed("report consistency"));
}

#[test]
fn keygen_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let before = std::fs::read(&keys.private).unwrap();
    let output = common::scour()
        .arg("keygen")
        .arg("--out")
        .arg(dir.path().join("closer"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&keys.private).unwrap(), before);
}

#[test]
fn a_statement_whose_subjects_differ_from_the_report_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let tree = dir.path().join("tree");
    clean_tree(&tree);
    let scan = signed_scan(&random_token(20), &[&tree], &keys.private, &[]);
    let (_, _, mut statement) = open(&scan.report_bytes);
    statement["subject"][0]["digest"]["sha256"] = Value::from("00".repeat(32));
    let report: scour::report::Report =
        serde_json::from_value(statement["predicate"].clone()).unwrap();
    let subjects = serde_json::from_value(statement["subject"].clone()).unwrap();
    let key = scour::evidence::keys::PrivateKey::load(&keys.private).unwrap();
    let envelope = scour::evidence::statement::Statement::new(subjects, report)
        .sign(&[&key])
        .unwrap()
        .to_json()
        .unwrap();
    let verified = verify(&envelope, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 1);
    assert!(verified.passed("signature"));
    assert!(verified.check("report consistency").contains("subjects"));
}
