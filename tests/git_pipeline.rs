//! Git blobs go through the same content pipeline as files: an archive, a compressed log
//! or a coloured CI log committed to history is opened, and every finding inside it names
//! the commits and paths that hold the blob.

mod common;
mod git_support;

use std::path::Path;
use std::process::Command;

use common::{assert_no_window, random_token, scan};
use git_support::*;
use serde_json::Value;

fn run(dir: &Path, program: &str, args: &[&str]) {
    let status = Command::new(program)
        .current_dir(dir)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

fn chain(finding: &Value) -> Vec<String> {
    strings(&finding["location"]["chain"])
}

fn introduced_paths(finding: &Value) -> Vec<String> {
    finding["git"]["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| c["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_tarball_deleted_from_history_is_opened_and_its_member_attributed() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let secret = random_token(32);
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(staging.join("srv")).unwrap();
    let mut env = b"DB_PASSWORD=".to_vec();
    env.extend_from_slice(&secret);
    env.push(b'\n');
    std::fs::write(staging.join("srv/.env"), &env).unwrap();
    run(&staging, "tar", &["czf", "backup.tar.gz", "srv"]);
    let tarball = std::fs::read(staging.join("backup.tar.gz")).unwrap();
    assert_no_window(&tarball, &secret, "the committed tar.gz");
    let commit = commit_file(&work, "backup.tar.gz", &tarball, "backup");
    git(&work, &["rm", "-q", "backup.tar.gz"]);
    git(&work, &["commit", "-qm", "remove the backup"]);

    let result = scan(&secret, &[&work]);
    assert_eq!(result.verdict(), "found", "{:?}", result.report);
    let found = git_findings(&result.report);
    assert_eq!(found.len(), 1, "{found:?}");
    let place = chain(&found[0]);
    assert_eq!(place.len(), 3, "[repository, blob, member]: {place:?}");
    assert_eq!(place[2], "srv/.env");
    assert_eq!(found[0]["git"]["kind"], "blob");
    assert_eq!(found[0]["git"]["commits"][0]["commit"], commit.as_str());
    assert_eq!(introduced_paths(&found[0]), ["backup.tar.gz"]);
    assert_eq!(found[0]["git"]["reachability"], "reachable");
}

#[test]
fn a_zip_and_a_coloured_ci_log_in_history_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let secret = random_token(32);
    let (head, tail) = secret.split_at(12);
    // A CI log where a colour code splits the secret: the raw bytes never hold it whole.
    let mut log = b"step 3/7: deploy\n\x1b[32mtoken: ".to_vec();
    log.extend_from_slice(head);
    log.extend_from_slice(b"\x1b[1m");
    log.extend_from_slice(tail);
    log.extend_from_slice(b"\x1b[0m\nok\n");
    assert!(
        memchr::memmem::find(&log, &secret).is_none(),
        "the coloured log must not hold the secret whole"
    );
    std::fs::write(work.join("ci.log"), &log).unwrap();
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    // Enough repetition that zip deflates it (a tiny file would be stored as it is).
    let mut conf = b"timeout = 30\n".repeat(200);
    conf.extend_from_slice(b"api_key = ");
    conf.extend_from_slice(&secret);
    std::fs::write(staging.join("app.conf"), &conf).unwrap();
    run(&staging, "zip", &["-q", "release.jar", "app.conf"]);
    let jar = std::fs::read(staging.join("release.jar")).unwrap();
    assert_no_window(&jar, &secret, "the committed jar");
    std::fs::write(work.join("release.jar"), &jar).unwrap();
    // And a gzipped copy of the log.
    std::fs::write(staging.join("ci.log"), &log).unwrap();
    run(&staging, "gzip", &["-9", "ci.log"]);
    let gz = std::fs::read(staging.join("ci.log.gz")).unwrap();
    std::fs::write(work.join("ci.log.gz"), &gz).unwrap();
    git(&work, &["add", "ci.log", "release.jar", "ci.log.gz"]);
    git(&work, &["commit", "-qm", "artifacts"]);
    git(&work, &["rm", "-q", "ci.log", "release.jar", "ci.log.gz"]);
    git(&work, &["commit", "-qm", "oops"]);
    // Only history holds them now.
    let result = scan(&secret, &[&work]);
    assert_eq!(result.verdict(), "found");
    let mut seen: Vec<(usize, Vec<String>)> = git_findings(&result.report)
        .iter()
        .map(|f| (chain(f).len(), introduced_paths(f)))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (2, vec!["ci.log".to_string()]),
            (2, vec!["ci.log.gz".to_string()]),
            (3, vec!["release.jar".to_string()]),
        ],
        "{:?}",
        result.report["findings"]
    );
}

#[test]
fn the_tip_of_a_bare_mirror_is_read_through_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let secret = random_token(32);
    let mut text = b"export TOKEN=".to_vec();
    text.extend_from_slice(&secret);
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("deploy.sh"), &text).unwrap();
    run(&staging, "gzip", &["deploy.sh"]);
    let gz = std::fs::read(staging.join("deploy.sh.gz")).unwrap();
    assert_no_window(&gz, &secret, "the gzip");
    commit_file(&work, "deploy.sh.gz", &gz, "tip");
    let mirror = dir.path().join("mirror.git");
    git(
        dir.path(),
        &["clone", "-q", "--mirror", "work", "mirror.git"],
    );
    git(&mirror, &["gc", "-q"]);
    let result = scan(&secret, &[&mirror]);
    assert_eq!(result.verdict(), "found");
    let found = git_findings(&result.report);
    assert_eq!(found.len(), 1);
    assert_eq!(introduced_paths(&found[0]), ["deploy.sh.gz"]);
    assert!(strings(&found[0]["git"]["refs"]).contains(&"refs/heads/main".to_string()));
}

#[test]
fn a_corrupt_archive_in_history_is_a_gap_naming_its_commit_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let noise: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(staging.join("dump.sql"), &noise).unwrap();
    run(&staging, "gzip", &["dump.sql"]);
    let mut gz = std::fs::read(staging.join("dump.sql.gz")).unwrap();
    gz.truncate(gz.len() / 2);
    let commit = commit_file(&work, "backups/dump.sql.gz", &gz, "backup");
    let secret = random_token(32);
    let result = scan(&secret, &[&work]);
    assert_eq!(result.verdict(), "incomplete");
    let gaps = result.gaps();
    let gap = gaps
        .iter()
        .find(|g| g["chain"].as_array().is_some_and(|c| c.len() >= 2))
        .unwrap_or_else(|| panic!("a gap inside the blob: {gaps:?}"));
    let reason = gap["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{commit}:backups/dump.sql.gz")),
        "{reason}"
    );
}
