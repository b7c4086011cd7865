//! The pre-commit flow without the plaintext: a ledger committed to the repository,
//! `scour hook run` on the staged change (silent when clean; `path:line` and
//! `git restore --staged` when blocked), and `scour hook install` as a plain git hook that
//! git itself runs on `git commit`.

mod common;
mod git_support;

use std::path::Path;

use common::*;
use git_support::git;

/// A repository whose committed ledger holds `secret` (added through an env var).
fn repository_with_ledger(dir: &Path, secret: &[u8]) {
    git(dir, &["init", "-q"]);
    let output = scour()
        .current_dir(dir)
        .args([
            "ledger",
            "add",
            "--ledger",
            ".scour/ledger.jsonl",
            "--id",
            "SEC-1",
            "--secret-env",
            SECRET_ENV,
        ])
        .env(
            SECRET_ENV,
            std::ffi::OsStr::new(std::str::from_utf8(secret).unwrap()),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    write(dir, "README.md", "demo\n");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "ledger of revoked secrets"]);
}

fn hook_run(dir: &Path) -> std::process::Output {
    scour()
        .current_dir(dir)
        .env_remove(SECRET_ENV)
        .args(["hook", "run"])
        .output()
        .unwrap()
}

#[test]
fn a_clean_commit_prints_nothing_and_a_revoked_token_is_blocked_at_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let secret = [b"ghp_".as_slice(), &random_token(36)].concat();
    repository_with_ledger(dir.path(), &secret);

    write(dir.path(), "src/clean.rs", "fn main() {}\n");
    git(dir.path(), &["add", "src/clean.rs"]);
    let clean = hook_run(dir.path());
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(
        clean.stdout.is_empty() && clean.stderr.is_empty(),
        "a clean commit must print nothing"
    );

    write(
        dir.path(),
        "config/app.env",
        [b"A=1\nB=2\nTOKEN=".as_slice(), &secret, b"\n"].concat(),
    );
    git(dir.path(), &["add", "config/app.env"]);
    let blocked = hook_run(dir.path());
    assert_eq!(blocked.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(stderr.contains("config/app.env:3:"), "{stderr}");
    assert!(
        stderr.contains("git restore --staged config/app.env"),
        "{stderr}"
    );
    assert!(stderr.contains("SEC-1"), "{stderr}");
    assert!(!stderr.contains("history"), "{stderr}");
    assert_no_window(&blocked.stderr, &secret, "stderr");
    assert_no_window(&blocked.stdout, &secret, "stdout");
}

#[test]
fn without_a_ledger_the_hook_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let output = hook_run(dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scour ledger add"), "{stderr}");
}

#[test]
fn the_installed_git_hook_blocks_git_commit_and_lets_a_clean_one_through() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(40);
    repository_with_ledger(dir.path(), &secret);
    let installed = scour()
        .current_dir(dir.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let hook = dir.path().join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook).unwrap().contains("hook run"));
    // A second install does not overwrite the hook without --force.
    let again = scour()
        .current_dir(dir.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));

    write(dir.path(), "notes.txt", "nothing secret\n");
    git(dir.path(), &["add", "notes.txt"]);
    git(dir.path(), &["commit", "-qm", "clean"]);

    write(
        dir.path(),
        "deploy.sh",
        [b"export T='".as_slice(), &secret, b"'\n"].concat(),
    );
    git(dir.path(), &["add", "deploy.sh"]);
    let commit = std::process::Command::new("git")
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "leak",
        ])
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the hook must stop the commit");
    let stderr = String::from_utf8_lossy(&commit.stderr);
    assert!(stderr.contains("deploy.sh:1:"), "{stderr}");
    assert_eq!(git(dir.path(), &["log", "--format=%s", "-1"]), "clean");
}
