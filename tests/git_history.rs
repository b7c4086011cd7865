//! Every hiding place of a secret in git history, built with the `git` CLI, must be found
//! and named by its object id and, where one exists, its commit, path and refs.

mod common;
mod git_support;

use std::path::Path;

use common::{random_token, scan};
use git_support::*;
use serde_json::Value;

fn secret_line(secret: &[u8]) -> Vec<u8> {
    [b"API_KEY=".as_slice(), secret, b"\n"].concat()
}

/// Scans `path`, asserts the secret was found and did not leak, returns the git findings.
fn found_in_git(secret: &[u8], path: &Path) -> (Vec<Value>, Value) {
    let result = scan(secret, &[path]);
    result.assert_no_leak(secret);
    assert_eq!(
        result.verdict(),
        "found",
        "{}",
        String::from_utf8_lossy(&result.output.stderr)
    );
    assert_eq!(result.code(), 1);
    let findings = git_findings(&result.report);
    assert!(
        !findings.is_empty(),
        "no finding in git objects: {:?}",
        result.places()
    );
    for finding in &findings {
        let object = finding["git"]["object"].as_str().expect("object id");
        assert_eq!(object.len(), 40);
        let chain = strings(&finding["location"]["chain"]);
        assert_eq!(
            chain.last().map(String::as_str),
            Some(object),
            "chain names the object"
        );
    }
    (findings, result.report)
}

fn blob_finding(findings: &[Value]) -> Value {
    findings
        .iter()
        .find(|f| f["git"]["kind"] == "blob")
        .cloned()
        .expect("a blob finding")
}

#[test]
fn a_file_added_then_deleted_is_found_with_its_commit_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let added = commit_file(dir.path(), "config/prod.env", &secret_line(&secret), "add");
    git(dir.path(), &["rm", "-q", "config/prod.env"]);
    git(dir.path(), &["commit", "-qm", "remove"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(
        commit_paths(&blob),
        vec![(added, "config/prod.env".to_string())]
    );
    assert_eq!(blob["git"]["reachability"], "reachable");
    assert!(strings(&blob["git"]["refs"]).contains(&"refs/heads/main".to_string()));
    assert_eq!(blob["location"]["line"], 1);
    assert_eq!(blob["location"]["column"], 9);
}

#[test]
fn a_side_branch_only_secret_names_that_branch_not_main() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    git(dir.path(), &["checkout", "-qb", "side"]);
    commit_file(dir.path(), "side.txt", &secret_line(&secret), "side work");
    git(dir.path(), &["checkout", "-q", "main"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let refs = strings(&blob_finding(&findings)["git"]["refs"]);
    assert_eq!(refs, vec!["refs/heads/side".to_string()]);
}

#[test]
fn an_annotated_tag_message_is_found_as_a_tag_object() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let message = format!("release token {}", String::from_utf8_lossy(&secret));
    git(dir.path(), &["tag", "-a", "v1", "-m", &message]);
    let tag_id = git(dir.path(), &["rev-parse", "v1"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let tag = findings
        .iter()
        .find(|f| f["git"]["kind"] == "tag")
        .expect("tag finding");
    assert_eq!(tag["git"]["object"], tag_id.as_str());
    assert!(strings(&tag["git"]["refs"]).contains(&"refs/tags/v1".to_string()));
}

#[test]
fn a_commit_message_is_found_as_that_commit() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let message = format!("debug with {}", String::from_utf8_lossy(&secret));
    let commit = commit_file(dir.path(), "a.txt", b"harmless\n", &message);
    // Later commits, so the message is only in history.
    commit_file(dir.path(), "b.txt", b"more\n", "more");
    let (findings, _) = found_in_git(&secret, dir.path());
    let found = findings
        .iter()
        .find(|f| f["git"]["kind"] == "commit")
        .expect("commit finding");
    assert_eq!(found["git"]["object"], commit.as_str());
    assert_eq!(commit_paths(found), vec![(commit, String::new())]);
    assert_eq!(found["git"]["reachability"], "reachable");
}

#[test]
fn a_stash_is_found_and_named_by_refs_stash() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(dir.path().join("README"), secret_line(&secret)).unwrap();
    git(dir.path(), &["stash", "-q"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert!(strings(&blob["git"]["refs"]).contains(&"refs/stash".to_string()));
}

#[test]
fn a_commit_dropped_by_reset_hard_is_reflog_only() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let commit = commit_file(dir.path(), "oops.txt", &secret_line(&secret), "oops");
    git(dir.path(), &["reset", "-q", "--hard", "HEAD~1"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(blob["git"]["reachability"], "reflog-only");
    assert!(strings(&blob["git"]["refs"]).is_empty());
    assert!(strings(&blob["git"]["reflogs"]).contains(&"HEAD".to_string()));
    assert_eq!(commit_paths(&blob), vec![(commit, "oops.txt".to_string())]);
}

#[test]
fn a_dangling_blob_is_found_as_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(dir.path().join("loose"), secret_line(&secret)).unwrap();
    let id = git(dir.path(), &["hash-object", "-w", "loose"]);
    std::fs::remove_file(dir.path().join("loose")).unwrap();
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(blob["git"]["object"], id.as_str());
    assert_eq!(blob["git"]["reachability"], "unreachable");
}

#[test]
fn a_fully_packed_repository_is_read_through_its_packs() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let added = commit_file(dir.path(), "deep/dir/key.pem", &secret_line(&secret), "add");
    git(dir.path(), &["rm", "-q", "deep/dir/key.pem"]);
    git(dir.path(), &["commit", "-qm", "remove"]);
    git(dir.path(), &["reflog", "expire", "--expire=now", "--all"]);
    git(dir.path(), &["gc", "-q", "--aggressive", "--prune=now"]);
    let (findings, report) = found_in_git(&secret, dir.path());
    assert_eq!(
        commit_paths(&blob_finding(&findings)),
        vec![(added, "deep/dir/key.pem".to_string())]
    );
    let repos = repositories(&report);
    assert_eq!(repos.len(), 1);
    assert!(repos[0]["packs"].as_u64().unwrap() >= 1);
    assert_eq!(repos[0]["loose_objects"], 0);
    assert!(repos[0]["blobs"].as_u64().unwrap() >= 2);
}

#[test]
fn refs_original_left_by_filter_branch_holds_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    commit_file(dir.path(), "secret.txt", &secret_line(&secret), "add");
    git(
        dir.path(),
        &[
            "filter-branch",
            "--index-filter",
            "git rm -q --cached --ignore-unmatch secret.txt",
            "HEAD",
        ],
    );
    let (findings, _) = found_in_git(&secret, dir.path());
    let refs = strings(&blob_finding(&findings)["git"]["refs"]);
    assert!(
        refs.contains(&"refs/original/refs/heads/main".to_string()),
        "{refs:?}"
    );
    assert!(!refs.contains(&"refs/heads/main".to_string()), "{refs:?}");
}

#[test]
fn a_note_is_found_through_refs_notes() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let note = format!("deployed with {}", String::from_utf8_lossy(&secret));
    git(dir.path(), &["notes", "add", "-m", &note]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let refs = strings(&blob_finding(&findings)["git"]["refs"]);
    assert!(refs.contains(&"refs/notes/commits".to_string()), "{refs:?}");
}

#[test]
fn a_staged_only_blob_is_found_through_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(dir.path().join("staged.env"), secret_line(&secret)).unwrap();
    git(dir.path(), &["add", "staged.env"]);
    std::fs::write(dir.path().join("staged.env"), b"clean now\n").unwrap();
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(blob["git"]["reachability"], "index-only");
    assert_eq!(
        strings(&blob["git"]["index"]),
        vec!["index:staged.env".to_string()]
    );
}

#[test]
fn a_bare_mirror_clone_is_scanned_as_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let origin = dir.path().join("origin");
    repo(&origin);
    commit_file(&origin, "k.txt", &secret_line(&secret), "add");
    git(&origin, &["rm", "-q", "k.txt"]);
    git(&origin, &["commit", "-qm", "rm"]);
    git(
        dir.path(),
        &["clone", "-q", "--mirror", "origin", "backup/origin.git"],
    );
    let mirror = dir.path().join("backup");
    let (findings, report) = found_in_git(&secret, &mirror);
    let blob = blob_finding(&findings);
    assert!(blob["git"]["repository"]
        .as_str()
        .unwrap()
        .ends_with("origin.git"));
    assert!(strings(&blob["git"]["refs"]).contains(&"refs/heads/main".to_string()));
    assert_eq!(repositories(&report).len(), 1);
}

#[test]
fn mirrors_sharing_objects_read_them_once_but_both_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let origin = dir.path().join("origin");
    repo(&origin);
    commit_file(&origin, "k.txt", &secret_line(&secret), "add");
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    git(
        dir.path(),
        &["clone", "-q", "--mirror", "origin", "backups/a.git"],
    );
    git(
        dir.path(),
        &["clone", "-q", "--mirror", "origin", "backups/b.git"],
    );
    let (findings, report) = found_in_git(&secret, &dir.path().join("backups"));
    let mut holders: Vec<String> = findings
        .iter()
        .map(|f| f["git"]["repository"].as_str().unwrap().to_string())
        .collect();
    holders.sort();
    holders.dedup();
    assert_eq!(holders.len(), 2, "{holders:?}");
    let shared: u64 = repositories(&report)
        .iter()
        .map(|r| {
            r["objects_shared_with_earlier_repositories"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert!(shared >= 3, "the second mirror re-read shared objects");
}

#[test]
fn a_linked_worktree_brings_in_its_repository_and_branch() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let main = dir.path().join("main");
    repo(&main);
    git(&main, &["worktree", "add", "-q", "-b", "feature", "../wt"]);
    let wt = dir.path().join("wt");
    commit_file(&wt, "feature.txt", &secret_line(&secret), "feature");
    git(&wt, &["rm", "-q", "feature.txt"]);
    git(&wt, &["commit", "-qm", "rm"]);
    let (findings, report) = found_in_git(&secret, &wt);
    let refs = strings(&blob_finding(&findings)["git"]["refs"]);
    assert!(refs.contains(&"refs/heads/feature".to_string()), "{refs:?}");
    let repos = repositories(&report);
    assert_eq!(
        strings(&repos[0]["linked_worktrees"]),
        vec!["wt".to_string()]
    );
}

#[test]
fn a_shallow_clone_is_incomplete_even_when_nothing_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let origin = dir.path().join("origin");
    repo(&origin);
    commit_file(&origin, "b.txt", b"two\n", "two");
    let url = format!("file://{}", origin.display());
    git(
        dir.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let result = scan(&secret, &[&dir.path().join("shallow")]);
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.code(), 3);
    assert!(gap_kinds(&result.report).contains(&"shallow-history".to_string()));
    result.assert_no_leak(&secret);
}

#[test]
fn content_only_in_a_merge_commit_is_attributed_to_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    git(dir.path(), &["checkout", "-qb", "side"]);
    commit_file(dir.path(), "side.txt", b"side\n", "side");
    git(dir.path(), &["checkout", "-q", "main"]);
    commit_file(dir.path(), "main.txt", b"main\n", "main");
    git(
        dir.path(),
        &["merge", "-q", "--no-ff", "--no-commit", "side"],
    );
    std::fs::write(dir.path().join("merged.env"), secret_line(&secret)).unwrap();
    git(dir.path(), &["add", "merged.env"]);
    git(dir.path(), &["commit", "-qm", "merge side"]);
    let merge = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["rm", "-q", "merged.env"]);
    git(dir.path(), &["commit", "-qm", "rm"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    assert_eq!(
        commit_paths(&blob_finding(&findings)),
        vec![(merge, "merged.env".to_string())]
    );
}

#[test]
fn a_binary_blob_is_scanned_whole() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let mut binary = vec![0u8, 1, 2, 255, 0, 7];
    binary.extend(std::iter::repeat_n(0u8, 10_000));
    binary.extend_from_slice(&secret);
    binary.extend_from_slice(&[0, 0, 9]);
    commit_file(dir.path(), "app.bin", &binary, "binary");
    git(dir.path(), &["rm", "-q", "app.bin"]);
    git(dir.path(), &["commit", "-qm", "rm"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(blob["location"]["offset"], 10_006);
    assert_eq!(commit_paths(&blob)[0].1, "app.bin");
}

#[test]
fn a_file_name_holding_the_secret_is_found_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let name = format!("cache-{}", String::from_utf8_lossy(&secret));
    commit_file(dir.path(), &name, b"x\n", "cache");
    git(dir.path(), &["rm", "-q", &name]);
    git(dir.path(), &["commit", "-qm", "rm"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    assert!(findings.iter().any(|f| f["git"]["kind"] == "tree"));
}

#[test]
fn a_submodule_object_store_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let lib = dir.path().join("lib");
    repo(&lib);
    commit_file(&lib, "lib.env", &secret_line(&secret), "lib secret");
    git(&lib, &["rm", "-q", "lib.env"]);
    git(&lib, &["commit", "-qm", "rm"]);
    let app = dir.path().join("app");
    repo(&app);
    git(&app, &["submodule", "add", "-q", "../lib", "vendor/lib"]);
    git(&app, &["commit", "-qm", "submodule"]);
    let (findings, _) = found_in_git(&secret, &app);
    let blob = blob_finding(&findings);
    assert!(
        blob["git"]["repository"]
            .as_str()
            .unwrap()
            .contains("modules"),
        "{}",
        blob["git"]["repository"]
    );
}

#[test]
fn a_dot_git_directory_given_directly_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    commit_file(dir.path(), "x.txt", &secret_line(&secret), "x");
    git(dir.path(), &["rm", "-q", "x.txt"]);
    git(dir.path(), &["commit", "-qm", "rm"]);
    found_in_git(&secret, &dir.path().join(".git"));
}

#[test]
fn a_clean_history_is_absent_and_lists_ref_tips() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "absent");
    let repos = repositories(&result.report);
    assert_eq!(repos[0]["ref_tips"]["refs/heads/main"], head.as_str());
    assert_eq!(repos[0]["commits"], 1);
}

#[test]
fn a_commit_kept_only_by_an_annotated_tag_is_reachable_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    git(dir.path(), &["checkout", "-qb", "temp"]);
    commit_file(dir.path(), "release.env", &secret_line(&secret), "release");
    git(dir.path(), &["tag", "-a", "r1", "-m", "release"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    git(dir.path(), &["branch", "-qD", "temp"]);
    let (findings, report) = found_in_git(&secret, dir.path());
    let refs = strings(&blob_finding(&findings)["git"]["refs"]);
    assert_eq!(refs, vec!["refs/tags/r1".to_string()]);
    assert_eq!(repositories(&report)[0]["unreachable_commits"], 0);
}

#[test]
fn a_commit_hidden_by_a_replace_ref_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let message = format!("deploy {}", String::from_utf8_lossy(&secret));
    let leaky = commit_file(dir.path(), "a.txt", b"a\n", &message);
    git(
        dir.path(),
        &["commit", "-q", "--amend", "-m", "clean message"],
    );
    let clean = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["reset", "-q", "--hard", &leaky]);
    git(dir.path(), &["replace", &leaky, &clean]);
    git(dir.path(), &["reflog", "expire", "--expire=now", "--all"]);
    let (findings, _) = found_in_git(&secret, dir.path());
    let commit = findings
        .iter()
        .find(|f| f["git"]["kind"] == "commit")
        .expect("the replaced commit's own message");
    assert_eq!(commit["git"]["object"], leaky.as_str());
    assert!(strings(&commit["git"]["refs"]).contains(&"refs/heads/main".to_string()));
}

#[test]
fn a_dangling_commit_is_named_for_its_blob_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let dropped = commit_file(dir.path(), "gone.env", &secret_line(&secret), "dropped");
    git(dir.path(), &["reset", "-q", "--hard", "HEAD~1"]);
    git(dir.path(), &["reflog", "expire", "--expire=now", "--all"]);
    let (findings, report) = found_in_git(&secret, dir.path());
    let blob = blob_finding(&findings);
    assert_eq!(blob["git"]["reachability"], "unreachable");
    assert_eq!(commit_paths(&blob), vec![(dropped, "gone.env".to_string())]);
    assert_eq!(repositories(&report)[0]["unreachable_commits"], 1);
}
