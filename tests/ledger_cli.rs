//! `scour ledger add/list` and `scour rules check/list` through the real binary.

mod common;

use std::path::Path;

use common::{assert_no_window, random_token, scour, SECRET_ENV};

fn add(ledger: &Path, secret: &[u8], extra: &[&str]) -> std::process::Output {
    scour()
        .args(["ledger", "add", "--ledger"])
        .arg(ledger)
        .args(["--secret-env", SECRET_ENV])
        .args(extra)
        .env(SECRET_ENV, std::str::from_utf8(secret).unwrap())
        .output()
        .unwrap()
}

#[test]
fn ledger_add_never_writes_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("revoked.jsonl");
    let token = [b"ghp_".as_slice(), &random_token(36)].concat();
    let password = random_token(20);
    let outputs = [
        add(
            &ledger,
            &token,
            &["--id", "SEC-101", "--label", "CI deploy token"],
        ),
        add(&ledger, &password, &[]),
    ];
    for output in &outputs {
        assert!(output.status.success(), "{output:?}");
    }
    let written = std::fs::read(&ledger).unwrap();
    let listed = scour()
        .args(["ledger", "list", "--ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(listed.status.success());
    for secret in [&token[..], &password[..]] {
        // The public prefix `ghp_` is allowed; no 8-byte window of the secret is.
        assert_no_window(&written, secret, "ledger file");
        assert_no_window(&listed.stdout, secret, "ledger list");
        for output in &outputs {
            assert_no_window(&output.stdout, secret, "stdout");
            assert_no_window(&output.stderr, secret, "stderr");
        }
    }
    let text = String::from_utf8(written).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "header and two entries");
    assert!(lines[0].contains("\"scour_ledger\":1"));
    assert!(lines[1].contains("\"id\":\"SEC-101\""));
    assert!(lines[1].contains("\"rule\":\"github-pat-classic\""));
    assert!(lines[1].contains("\"prefix\":\"ghp_\""));
    assert!(lines[2].contains("\"class\":\"alnum\""));
    assert!(!lines[2].contains("\"rule\""));
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("SEC-101") && listed.contains("2 entries"),
        "{listed}"
    );
}

#[test]
fn adding_the_same_secret_twice_keeps_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.jsonl");
    let secret = random_token(32);
    assert!(add(&ledger, &secret, &[]).status.success());
    assert!(add(&ledger, &secret, &[]).status.success());
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn a_label_holding_the_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.jsonl");
    let secret = random_token(24);
    let label = format!("token {}", std::str::from_utf8(&secret[4..16]).unwrap());
    let output = add(&ledger, &secret, &["--label", &label]);
    assert_eq!(output.status.code(), Some(2));
    let written = std::fs::read(&ledger).unwrap_or_default();
    assert_no_window(&written, &secret, "ledger file");
}

#[test]
fn rules_check_passes_and_list_shows_every_rule() {
    let check = scour().args(["rules", "check"]).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let list = scour().args(["rules", "list"]).output().unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    let count: usize = text
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(count >= 40, "{count} rules");
    for id in [
        "github-pat-classic",
        "github-pat-fine-grained",
        "gitlab-pat",
        "aws-access-key-id",
        "aws-secret-access-key",
        "gcp-api-key",
        "gcp-service-account-private-key",
        "azure-storage-account-key",
        "slack-bot-token",
        "slack-webhook-url",
        "stripe-live-secret-key",
        "twilio-api-key",
        "sendgrid-api-key",
        "npm-access-token",
        "pypi-api-token",
        "docker-hub-pat",
        "heroku-api-key",
        "shopify-access-token",
        "openai-project-key",
        "anthropic-api-key",
        "jwt",
        "pem-rsa-private-key",
        "pem-ec-private-key",
        "openssh-private-key",
        "pem-pkcs8-private-key",
        "postgres-uri-password",
        "generic-password-assignment",
    ] {
        assert!(text.contains(id), "rule {id} missing");
    }
}

#[test]
fn rules_work_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = scour()
        .current_dir(dir.path())
        .args(["rules", "check"])
        .output()
        .unwrap();
    assert!(output.status.success());
}
