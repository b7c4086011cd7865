//! Building repositories for the git tests with the real `git` CLI, isolated from the
//! user's and the system's git configuration.
#![allow(dead_code)]

pub mod objects;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs git in `dir` with a fixed identity and branch name and no global/system config;
/// panics with git's stderr if it fails. Returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("FILTER_BRANCH_SQUELCH_WARNING", "1")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "gc.auto=0",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A fresh repository with one unrelated commit, so HEAD exists.
pub fn repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("README"), "hello\n").expect("write");
    git(dir, &["add", "README"]);
    git(dir, &["commit", "-qm", "start"]);
}

/// Writes `relative` and commits it with `message`; returns the commit id.
pub fn commit_file(dir: &Path, relative: &str, content: &[u8], message: &str) -> String {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, content).expect("write");
    git(dir, &["add", relative]);
    git(dir, &["commit", "-qm", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Findings that carry git provenance.
pub fn git_findings(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["git"].is_null())
        .cloned()
        .collect()
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `(commit, path)` pairs of one finding's provenance.
pub fn commit_paths(finding: &Value) -> Vec<(String, String)> {
    finding["git"]["commits"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["commit"].as_str().unwrap_or_default().to_string(),
                        c["path"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The repository coverage sections of every root.
pub fn repositories(report: &Value) -> Vec<Value> {
    report["coverage"]["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .flat_map(|r| r["repositories"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn gap_kinds(report: &Value) -> Vec<String> {
    report["coverage"]["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .flat_map(|r| r["gaps"].as_array().cloned().unwrap_or_default())
        .map(|g| g["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}
