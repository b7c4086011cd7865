//! Helpers for the evidence tests: keys, signed scans, envelopes and `scour verify`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use serde_json::Value;

use crate::common::{scan_with_secrets, scour, Scan};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
    pub keyid: String,
}

/// `scour keygen --out DIR/NAME`.
pub fn keygen(dir: &Path, name: &str) -> KeyPair {
    let out = dir.join(name);
    let output = scour()
        .arg("keygen")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let keyid = stdout
        .lines()
        .find_map(|l| l.strip_prefix("keyid:"))
        .unwrap()
        .trim()
        .to_string();
    KeyPair {
        private: dir.join(format!("{name}.key")),
        public: dir.join(format!("{name}.pub")),
        keyid,
    }
}

/// A signed scan; `Scan.report_bytes` is the envelope.
pub fn signed_scan(secret: &[u8], paths: &[&Path], key: &Path, extra: &[&str]) -> Scan {
    let key = key.to_str().unwrap();
    let mut args = vec!["--sign-key", key];
    args.extend_from_slice(extra);
    scan_with_secrets(&[secret], paths, &args)
}

/// Envelope JSON, decoded payload bytes, and the statement.
pub fn open(envelope: &[u8]) -> (Value, Vec<u8>, Value) {
    let envelope: Value = serde_json::from_slice(envelope).unwrap();
    let body = B64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let statement = serde_json::from_slice(&body).unwrap();
    // The predicate is the report: it must match docs/report.schema.json.
    crate::common::assert_valid_report(&statement);
    (envelope, body, statement)
}

pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Signs `report` (a JSON report value) as scour would, with the library, into an envelope.
pub fn sign_report(report: &Value, key: &Path) -> Vec<u8> {
    let report: scour::report::Report = serde_json::from_value(report.clone()).unwrap();
    let key = scour::evidence::keys::PrivateKey::load(key).unwrap();
    let subjects = scour::evidence::subjects::from_report(&report);
    scour::evidence::statement::Statement::new(subjects, report)
        .sign(&[&key])
        .unwrap()
        .to_json()
        .unwrap()
}

/// Signs with several keys.
pub fn sign_report_by(report: &Value, keys: &[&Path]) -> Vec<u8> {
    let report: scour::report::Report = serde_json::from_value(report.clone()).unwrap();
    let keys: Vec<_> = keys
        .iter()
        .map(|k| scour::evidence::keys::PrivateKey::load(k).unwrap())
        .collect();
    let refs: Vec<_> = keys.iter().collect();
    let subjects = scour::evidence::subjects::from_report(&report);
    scour::evidence::statement::Statement::new(subjects, report)
        .sign(&refs)
        .unwrap()
        .to_json()
        .unwrap()
}

pub struct Verified {
    pub output: Output,
}

impl Verified {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    /// The line of the named check, e.g. `PASS signature: ...`.
    pub fn check(&self, name: &str) -> String {
        self.stdout()
            .lines()
            .find(|l| l[5..].starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no check {name} in:\n{}", self.stdout()))
            .to_string()
    }
    pub fn passed(&self, name: &str) -> bool {
        self.check(name).starts_with("PASS")
    }
}

/// `scour verify ENVELOPE --pubkey ... [--policy FILE] EXTRA`, the policy given as text.
pub fn verify(
    envelope: &[u8],
    pubkeys: &[&Path],
    policy: Option<&str>,
    extra: &[&str],
) -> Verified {
    verify_with_env(envelope, pubkeys, policy, extra, &[])
}

pub fn verify_with_env(
    envelope: &[u8],
    pubkeys: &[&Path],
    policy: Option<&str>,
    extra: &[&str],
    env: &[(&str, &[u8])],
) -> Verified {
    let dir = tempfile::tempdir().unwrap();
    let envelope_path = dir.path().join("envelope.json");
    std::fs::write(&envelope_path, envelope).unwrap();
    let mut cmd = scour();
    cmd.arg("verify").arg(&envelope_path);
    for key in pubkeys {
        cmd.arg("--pubkey").arg(key);
    }
    if let Some(policy) = policy {
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, policy).unwrap();
        cmd.arg("--policy").arg(path);
    }
    for (name, value) in env {
        use std::os::unix::ffi::OsStrExt;
        cmd.env(name, std::ffi::OsStr::from_bytes(value));
    }
    cmd.args(extra);
    Verified {
        output: cmd.output().unwrap(),
    }
}

/// Is `openssl` available? The openssl tests need it (CI installs it).
pub fn openssl(args: &[&str]) -> Output {
    std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI is needed by this test")
}
