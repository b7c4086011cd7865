//! Blind spots of a repository are gaps: the verdict is `incomplete`, never `absent`.

mod common;
mod git_support;

use common::{random_token, scan};
use git_support::*;

#[test]
fn a_missing_alternate_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    std::fs::write(
        dir.path().join(".git/objects/info/alternates"),
        "/nonexistent/objects\n",
    )
    .unwrap();
    let secret = random_token(32);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"missing-alternate".to_string()));
}

#[test]
fn objects_reached_through_an_alternate_are_scanned_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let origin = dir.path().join("origin");
    repo(&origin);
    commit_file(
        &origin,
        "k.txt",
        format!("{}\n", String::from_utf8_lossy(&secret)).as_bytes(),
        "k",
    );
    git(&origin, &["rm", "-q", "k.txt"]);
    git(&origin, &["commit", "-qm", "rm"]);
    let clone = dir.path().join("clone");
    git(dir.path(), &["clone", "-q", "--shared", "origin", "clone"]);
    let result = scan(&secret, &[&clone]);
    assert_eq!(result.verdict(), "found");
    let repos = repositories(&result.report);
    assert_eq!(strings(&repos[0]["object_directories"]).len(), 2);
    assert!(!git_findings(&result.report).is_empty());
}

#[test]
fn a_pack_without_an_index_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    git(dir.path(), &["gc", "-q"]);
    let pack_dir = dir.path().join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    std::fs::copy(&pack, pack_dir.join("tmp_pack_abc123")).unwrap();
    let result = scan(&random_token(32), &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let gaps = result.gaps();
    assert!(gaps
        .iter()
        .any(|g| g["chain"][0].as_str().unwrap().ends_with("tmp_pack_abc123")));
}

#[test]
fn an_lfs_pointer_without_its_content_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    commit_file(dir.path(), "big.bin", pointer.as_bytes(), "lfs");
    let result = scan(&random_token(32), &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"lfs-content-missing".to_string()));
}

#[test]
fn a_partial_clone_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    repo(&origin);
    commit_file(&origin, "b.txt", b"two\n", "two");
    git(&origin, &["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", origin.display());
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:none",
            &url,
            "partial",
        ],
    );
    let result = scan(&random_token(32), &[&dir.path().join("partial")]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"missing-objects".to_string()));
    assert_eq!(repositories(&result.report)[0]["partial_clone"], true);
}

#[test]
fn a_corrupt_loose_object_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    std::fs::write(dir.path().join("f"), "some content\n").unwrap();
    let id = git(dir.path(), &["hash-object", "-w", "f"]);
    let path = dir
        .path()
        .join(format!(".git/objects/{}/{}", &id[..2], &id[2..]));
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"not zlib at all").unwrap();
    let result = scan(&random_token(32), &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"unreadable-object".to_string()));
}

#[test]
fn a_loose_object_in_a_quarantine_directory_is_inflated_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    std::fs::write(
        dir.path().join("f"),
        [b"k=", secret.as_slice(), b"\n"].concat(),
    )
    .unwrap();
    let id = git(dir.path(), &["hash-object", "-w", "f"]);
    std::fs::remove_file(dir.path().join("f")).unwrap();
    let objects = dir.path().join(".git/objects");
    let quarantine = objects.join("tmp_objdir-incoming-x").join(&id[..2]);
    std::fs::create_dir_all(&quarantine).unwrap();
    std::fs::rename(
        objects.join(&id[..2]).join(&id[2..]),
        quarantine.join(&id[2..]),
    )
    .unwrap();
    let result = scan(&secret, &[dir.path()]);
    result.assert_no_leak(&secret);
    assert_eq!(result.verdict(), "found");
    assert!(result
        .places()
        .iter()
        .any(|(place, _)| place.contains("tmp_objdir-incoming-x")));
}

#[test]
fn a_sha256_repository_is_a_gap_not_a_silent_skip() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--object-format=sha256"]);
    std::fs::write(dir.path().join("a"), "a\n").unwrap();
    git(dir.path(), &["add", "a"]);
    git(dir.path(), &["commit", "-qm", "a"]);
    let result = scan(&random_token(32), &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"unsupported".to_string()));
}

#[test]
fn a_worktree_whose_repository_is_gone_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        ".git",
        "gitdir: /nonexistent/repo/.git/worktrees/wt\n",
    );
    common::write(dir.path(), "src/main.rs", "fn main() {}\n");
    let result = scan(&random_token(32), &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(gap_kinds(&result.report).contains(&"missing-objects".to_string()));
}
