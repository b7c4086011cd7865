//! `--staged` scans exactly what the next commit adds; `--git-range` and `--since-commit`
//! scan exactly what a range of commits introduces.

mod common;
mod git_support;

use std::path::Path;

use common::{random_token, scan_with_secrets, Scan};
use git_support::*;

fn scan_in(secret: &[u8], repo: &Path, args: &[&str]) -> Scan {
    let result = scan_with_secrets(&[secret], &[repo], args);
    result.assert_no_leak(secret);
    result
}

fn line(secret: &[u8]) -> Vec<u8> {
    [b"TOKEN=".as_slice(), secret, b"\n"].concat()
}

#[test]
fn staged_finds_a_staged_secret_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(dir.path().join("app.env"), line(&secret)).unwrap();
    git(dir.path(), &["add", "app.env"]);
    let result = scan_in(&secret, dir.path(), &["--staged"]);
    assert_eq!(result.verdict(), "found");
    assert_eq!(result.code(), 1);
    let findings = git_findings(&result.report);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["git"]["reachability"], "staged");
    assert_eq!(
        strings(&findings[0]["git"]["index"]),
        vec!["index:app.env".to_string()]
    );
}

#[test]
fn staged_passes_a_clean_change_even_if_history_or_work_tree_hold_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    // In history (committed, then removed) and in an unstaged work-tree file: not part of
    // the next commit, so --staged must not report them.
    commit_file(dir.path(), "old.env", &line(&secret), "old");
    git(dir.path(), &["rm", "-q", "old.env"]);
    git(dir.path(), &["commit", "-qm", "rm"]);
    std::fs::write(dir.path().join("scratch.env"), line(&secret)).unwrap();
    std::fs::write(dir.path().join("README"), b"a clean change\n").unwrap();
    git(dir.path(), &["add", "README"]);
    let result = scan_in(&secret, dir.path(), &["--staged"]);
    assert_eq!(result.verdict(), "absent", "{:?}", result.places());
    assert_eq!(result.code(), 0);
    let repos = repositories(&result.report);
    assert_eq!(repos[0]["mode"], "staged");
    assert_eq!(repos[0]["blobs"], 1);
}

#[test]
fn staged_works_before_the_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("first.txt"), line(&secret)).unwrap();
    git(dir.path(), &["add", "first.txt"]);
    let result = scan_in(&secret, dir.path(), &["--staged"]);
    assert_eq!(result.verdict(), "found");
}

#[test]
fn staged_outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let result = scan_in(&random_token(32), dir.path(), &["--staged"]);
    assert_eq!(result.code(), 2);
}

#[test]
fn git_range_scans_only_the_commits_of_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let before = random_token(32);
    let inside = random_token(32);
    let message_secret = random_token(32);
    repo(dir.path());
    commit_file(dir.path(), "before.env", &line(&before), "before");
    let base = git(dir.path(), &["rev-parse", "HEAD"]);
    let added = commit_file(dir.path(), "inside.env", &line(&inside), "inside");
    let message = format!("note {}", String::from_utf8_lossy(&message_secret));
    let messaged = commit_file(dir.path(), "other.txt", b"x\n", &message);
    let range = format!("{base}..HEAD");

    let secrets: Vec<&[u8]> = vec![&before, &inside, &message_secret];
    let result = scan_with_secrets(&secrets, &[dir.path()], &["--git-range", &range]);
    for s in &secrets {
        result.assert_no_leak(s);
    }
    assert_eq!(result.verdict(), "found");
    let findings = git_findings(&result.report);
    let ids: Vec<String> = result.report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let found_secrets: Vec<&str> = findings
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(
        !found_secrets.contains(&ids[0].as_str()),
        "before the range"
    );
    assert!(found_secrets.contains(&ids[1].as_str()));
    assert!(found_secrets.contains(&ids[2].as_str()));
    let blob = findings
        .iter()
        .find(|f| f["git"]["kind"] == "blob")
        .unwrap();
    assert_eq!(commit_paths(blob), vec![(added, "inside.env".to_string())]);
    let commit = findings
        .iter()
        .find(|f| f["git"]["kind"] == "commit")
        .unwrap();
    assert_eq!(commit["git"]["object"], messaged.as_str());

    let since = scan_with_secrets(&[&before], &[dir.path()], &["--since-commit", &base]);
    assert_eq!(since.verdict(), "absent");
}

#[test]
fn git_range_includes_content_added_by_a_merge_commit_itself() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let base = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["checkout", "-qb", "side"]);
    commit_file(dir.path(), "side.txt", b"side\n", "side");
    git(dir.path(), &["checkout", "-q", "main"]);
    commit_file(dir.path(), "main.txt", b"main\n", "main");
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "--no-commit", "side"],
    );
    std::fs::write(dir.path().join("evil.env"), line(&secret)).unwrap();
    git(dir.path(), &["add", "evil.env"]);
    git(dir.path(), &["commit", "-qm", "merge"]);
    let merge = git(dir.path(), &["rev-parse", "HEAD"]);
    let result = scan_in(
        &secret,
        dir.path(),
        &["--git-range", &format!("{base}..HEAD")],
    );
    assert_eq!(result.verdict(), "found");
    let findings = git_findings(&result.report);
    assert_eq!(
        commit_paths(&findings[0]),
        vec![(merge, "evil.env".to_string())]
    );
}

#[test]
fn staged_reads_a_split_index_too() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    git(dir.path(), &["update-index", "--split-index"]);
    std::fs::write(dir.path().join("split.env"), line(&secret)).unwrap();
    git(dir.path(), &["add", "split.env"]);
    let result = scan_in(&secret, dir.path(), &["--staged"]);
    assert_eq!(result.verdict(), "found");
}

#[test]
fn staged_honours_the_index_git_gives_hooks() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(dir.path().join("hook.env"), line(&secret)).unwrap();
    // `git commit -a` runs hooks against a temporary index named by GIT_INDEX_FILE.
    let alternate = dir.path().join(".git/next-index.lock");
    let status = std::process::Command::new("git")
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_INDEX_FILE", &alternate)
        .args(["read-tree", "HEAD"])
        .status()
        .unwrap();
    assert!(status.success());
    let status = std::process::Command::new("git")
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_INDEX_FILE", &alternate)
        .args(["add", "hook.env"])
        .status()
        .unwrap();
    assert!(status.success());
    let secret_file = dir.path().join("secret-input");
    std::fs::write(&secret_file, [secret.as_slice(), b"\n"].concat()).unwrap();
    let run = |with_env: bool| {
        let mut cmd = common::scour();
        cmd.current_dir(dir.path())
            .args([
                "scan",
                "--staged",
                "--quiet",
                "--format",
                "json",
                "--secret-file",
            ])
            .arg(&secret_file);
        if with_env {
            cmd.env("GIT_INDEX_FILE", &alternate);
        } else {
            cmd.env_remove("GIT_INDEX_FILE");
        }
        cmd.output().unwrap().status.code()
    };
    assert_eq!(run(true), Some(1), "the hook's index holds the secret");
    assert_eq!(run(false), Some(0), "the normal index does not");
}

#[test]
fn staged_finds_changes_deep_in_unchanged_looking_trees() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    for d in ["a/b", "a/c", "x/y/z"] {
        commit_file(dir.path(), &format!("{d}/file.txt"), b"clean\n", d);
    }
    // Refresh the cache-tree, as git does on commit; then stage a deep change and a clean one.
    std::fs::write(dir.path().join("a/b/file.txt"), line(&secret)).unwrap();
    std::fs::write(dir.path().join("x/y/z/file.txt"), b"still clean\n").unwrap();
    std::fs::create_dir_all(dir.path().join("new/dir")).unwrap();
    std::fs::write(dir.path().join("new/dir/more.env"), line(&secret)).unwrap();
    git(dir.path(), &["add", "-A"]);
    let result = scan_in(&secret, dir.path(), &["--staged"]);
    assert_eq!(result.verdict(), "found");
    let mut places: Vec<String> = git_findings(&result.report)
        .iter()
        .flat_map(|f| strings(&f["git"]["index"]))
        .collect();
    places.sort();
    places.dedup();
    assert_eq!(
        places,
        vec![
            "index:a/b/file.txt".to_string(),
            "index:new/dir/more.env".to_string()
        ]
    );
    assert_eq!(
        repositories(&result.report)[0]["blobs"],
        2,
        "one blob for both secret paths, one for the clean change"
    );
}
