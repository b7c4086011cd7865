//! Closure policies: every rule both passing and failing, through `scour verify`.

mod common;
mod evidence_support;

use std::path::PathBuf;

use common::{random_token, write, SECRET_ENV};
use evidence_support::*;
use serde_json::{json, Value};

struct Fixture {
    _dir: tempfile::TempDir,
    tree: PathBuf,
    keys: KeyPair,
    second: KeyPair,
    secret: Vec<u8>,
    /// The JSON report of a real, clean, signed scan of `tree`.
    report: Value,
    envelope: Vec<u8>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "fixer");
    let second = keygen(dir.path(), "control-owner");
    let tree = dir.path().join("srv");
    write(&tree, "app/.env", "TOKEN=new-token-value\n");
    write(&tree, "backups/readme", "nothing\n");
    let secret = random_token(30);
    let scan = signed_scan(&secret, &[&tree], &keys.private, &[]);
    assert_eq!(scan.code(), 0);
    let (_, _, statement) = open(&scan.report_bytes);
    Fixture {
        _dir: dir,
        tree,
        keys,
        second,
        secret,
        report: statement["predicate"].clone(),
        envelope: scan.report_bytes,
    }
}

impl Fixture {
    fn verify(&self, envelope: &[u8], policy: &str) -> Verified {
        verify(
            envelope,
            &[&self.keys.public, &self.second.public],
            Some(policy),
            &[],
        )
    }

    fn tree(&self) -> &str {
        self.tree.to_str().unwrap()
    }

    /// The report with one gap of `kind`, re-signed by the trusted key.
    fn with_gap(&self, kind: &str) -> Vec<u8> {
        let mut report = self.report.clone();
        report["coverage"]["roots"][0]["gaps"] =
            json!([{"kind": kind, "chain": [format!("{}/x", self.tree())], "reason": "test"}]);
        report["summary"]["gaps"] = 1.into();
        report["verdict"] = "incomplete".into();
        sign_report(&report, &self.keys.private)
    }
}

fn assert_rule(verified: &Verified, check: &str, passes: bool) {
    assert_eq!(verified.passed(check), passes, "{}", verified.stdout());
    assert_eq!(
        verified.code(),
        if passes { 0 } else { 1 },
        "{}",
        verified.stdout()
    );
}

#[test]
fn gaps_of_allowed_kinds_only() {
    let f = fixture();
    let envelope = f.with_gap("permission-denied");
    assert_rule(&f.verify(&envelope, ""), "verdict", false);
    assert_rule(
        &f.verify(&envelope, r#"allowed_gap_kinds = ["permission-denied"]"#),
        "verdict",
        true,
    );
    assert_rule(
        &f.verify(&envelope, r#"allowed_gap_kinds = ["vanished"]"#),
        "verdict",
        false,
    );
    assert_rule(
        &f.verify(&f.envelope, r#"allowed_gap_kinds = []"#),
        "verdict",
        true,
    );
}

#[test]
fn named_targets_and_their_kinds() {
    let f = fixture();
    let policy = |extra: &str| format!("[[targets]]\npath = {:?}\n{extra}", f.tree());
    assert_rule(
        &f.verify(&f.envelope, &policy("kind = \"directory\"")),
        &format!("target {}", f.tree()),
        true,
    );
    let trailing = format!("[[targets]]\npath = \"{}/\"\n", f.tree());
    assert_rule(
        &f.verify(&f.envelope, &trailing),
        &format!("target {}/", f.tree()),
        true,
    );
    assert_rule(
        &f.verify(&f.envelope, &policy("kind = \"file\"")),
        &format!("target {}", f.tree()),
        false,
    );
    let verified = f.verify(&f.envelope, &policy("kind = \"git-repository\""));
    assert_rule(&verified, &format!("target {}", f.tree()), false);
    assert!(verified
        .check(&format!("target {}", f.tree()))
        .contains("no git repository"));
    let verified = f.verify(&f.envelope, "[[targets]]\npath = \"/var/backups\"\n");
    assert_rule(&verified, "target /var/backups", false);
    assert!(verified
        .check("target /var/backups")
        .contains("not scanned"));
}

#[test]
fn full_history_refuses_history_gaps_even_when_gaps_are_tolerated() {
    let f = fixture();
    let envelope = f.with_gap("shallow-history");
    let tolerant = "allowed_gap_kinds = [\"shallow-history\"]\n";
    let target = format!("[[targets]]\npath = {:?}\n", f.tree());
    assert_rule(
        &f.verify(&envelope, &format!("{tolerant}{target}")),
        &format!("target {}", f.tree()),
        true,
    );
    assert_rule(
        &f.verify(
            &envelope,
            &format!("{tolerant}{target}full_history = true\n"),
        ),
        &format!("target {}", f.tree()),
        false,
    );
}

#[test]
fn a_narrowed_scan_does_not_cover_a_target_unless_allowed() {
    let f = fixture();
    let scan = signed_scan(
        &f.secret,
        &[&f.tree],
        &f.keys.private,
        &["--exclude", "backups"],
    );
    let target = format!("[[targets]]\npath = {:?}\n", f.tree());
    let name = format!("target {}", f.tree());
    let verified = f.verify(&scan.report_bytes, &target);
    assert_rule(&verified, &name, false);
    assert!(verified.check(&name).contains("narrowed"));
    assert_rule(
        &f.verify(
            &scan.report_bytes,
            &format!("{target}allow_narrowing = true\n"),
        ),
        &name,
        true,
    );
}

#[test]
fn the_report_is_about_the_given_secret() {
    let f = fixture();
    let pubkeys = [f.keys.public.as_path()];
    let args = ["--secret-env", SECRET_ENV];
    let right = verify_with_env(
        &f.envelope,
        &pubkeys,
        None,
        &args,
        &[(SECRET_ENV, &f.secret)],
    );
    assert_rule(&right, "secret", true);
    common::assert_no_window(&right.output.stdout, &f.secret, "stdout");
    common::assert_no_window(&right.output.stderr, &f.secret, "stderr");
    let other = random_token(30);
    let wrong = verify_with_env(&f.envelope, &pubkeys, None, &args, &[(SECRET_ENV, &other)]);
    assert_rule(&wrong, "secret", false);
    common::assert_no_window(&wrong.output.stdout, &other, "stdout");

    let required = "require_secret = true";
    assert_rule(&f.verify(&f.envelope, required), "secret", false);
    let given = verify_with_env(
        &f.envelope,
        &pubkeys,
        Some(required),
        &args,
        &[(SECRET_ENV, &f.secret)],
    );
    assert_rule(&given, "secret", true);
}

#[test]
fn age_and_rotation_date() {
    let f = fixture();
    let mut old = f.report.clone();
    let ten_days_ago = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    old["started_at"] = ten_days_ago.clone().into();
    old["finished_at"] = ten_days_ago.into();
    let old = sign_report(&old, &f.keys.private);
    assert_rule(&f.verify(&old, "max_age_days = 7"), "age", false);
    assert_rule(&f.verify(&old, "max_age_days = 30"), "age", true);
    assert_rule(&f.verify(&f.envelope, "max_age_days = 1"), "age", true);

    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    assert_rule(
        &f.verify(&f.envelope, &format!("rotated_at = {tomorrow}")),
        "after rotation",
        false,
    );
    assert_rule(
        &f.verify(&f.envelope, "rotated_at = 2020-01-01T00:00:00Z"),
        "after rotation",
        true,
    );
    let five_days_ago = (chrono::Utc::now() - chrono::Duration::days(5)).format("%Y-%m-%d");
    assert_rule(
        &f.verify(&old, &format!("rotated_at = {five_days_ago}")),
        "after rotation",
        false,
    );
}

#[test]
fn minimum_scour_version() {
    let f = fixture();
    assert_rule(
        &f.verify(&f.envelope, "min_scour_version = \"0.0.1\""),
        "scour version",
        true,
    );
    assert_rule(
        &f.verify(&f.envelope, "min_scour_version = \"99.0.0\""),
        "scour version",
        false,
    );
}

#[test]
fn allowed_signers_and_separation_of_duties() {
    let f = fixture();
    let by_fixer = f.envelope.clone();
    let by_owner = sign_report_by(&f.report, &[&f.second.private]);
    let by_both = sign_report_by(&f.report, &[&f.keys.private, &f.second.private]);
    let only_owner = format!("allowed_signers = [{:?}]", f.second.keyid);
    assert_rule(&f.verify(&by_fixer, &only_owner), "signature", false);
    assert_rule(&f.verify(&by_owner, &only_owner), "signature", true);

    let both = format!(
        "allowed_signers = [{:?}, {:?}]\nmin_signers = 2",
        f.keys.keyid, f.second.keyid
    );
    assert_rule(&f.verify(&by_fixer, &both), "signature", false);
    assert_rule(&f.verify(&by_owner, &both), "signature", false);
    let verified = f.verify(&by_both, &both);
    assert_rule(&verified, "signature", true);
    assert!(verified.check("signature").contains(&f.keys.keyid));
    assert!(verified.check("signature").contains(&f.second.keyid));
}

#[test]
fn a_policy_with_a_typo_is_an_error_not_a_pass() {
    let f = fixture();
    let verified = f.verify(&f.envelope, "max_age = 3");
    assert_eq!(verified.code(), 2);
    assert!(String::from_utf8_lossy(&verified.output.stderr).contains("invalid policy"));
}

#[test]
fn countersign_adds_the_control_owners_signature_for_a_two_signer_policy() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.json");
    std::fs::write(&path, &f.envelope).unwrap();
    let countersign = |pubkey: &std::path::Path| {
        common::scour()
            .arg("countersign")
            .arg(&path)
            .arg("--pubkey")
            .arg(pubkey)
            .arg("--sign-key")
            .arg(&f.second.private)
            .output()
            .unwrap()
    };
    // The first signature must verify with a key the countersigner names.
    let refused = countersign(&f.second.public);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(std::fs::read(&path).unwrap(), f.envelope);

    let both = format!(
        "allowed_signers = [{:?}, {:?}]\nmin_signers = 2",
        f.keys.keyid, f.second.keyid
    );
    assert_rule(&f.verify(&f.envelope, &both), "signature", false);
    assert!(countersign(&f.keys.public).status.success());
    let countersigned = std::fs::read(&path).unwrap();
    assert_rule(&f.verify(&countersigned, &both), "signature", true);
    let again = countersign(&f.keys.public);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the same key twice is refused"
    );
}
