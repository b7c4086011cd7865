//! `scour scan --cache DIR`: a second sweep reuses proofs of absence for unchanged files,
//! rescans a file rewritten with its mtime put back, rescans everything for a new secret,
//! ignores a corrupt cache, and `verify --policy` can forbid reuse.

mod common;

use std::path::Path;

use common::{random_token, scan_with_secrets, write};

fn secret() -> Vec<u8> {
    let mut token = b"cachetok_".to_vec();
    token.extend(random_token(24));
    token
}

/// A tree whose files are old enough for the racy-timestamp rule to trust them.
fn tree(dir: &Path, files: usize) {
    for n in 0..files {
        write(
            dir,
            &format!("d{}/f{n}.txt", n % 7),
            format!("line {n}\n{}\n", "clean ".repeat(20)),
        );
    }
    // Files changed within 2 s of a proof (whole seconds) are not trusted from it (racily clean).
    std::thread::sleep(std::time::Duration::from_millis(3500));
}

fn cached(secrets: &[&[u8]], root: &Path, cache: &Path) -> common::Scan {
    let cache = cache.to_str().unwrap().to_string();
    scan_with_secrets(secrets, &[root], &["--cache", &cache])
}

#[test]
fn a_second_sweep_reuses_unchanged_files_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(root.path(), 40);
    let secret = secret();
    let first = cached(&[&secret], root.path(), cache.path());
    assert_eq!(first.verdict(), "absent");
    assert_eq!(first.report["cache"]["units_recorded"], 40);
    assert_eq!(first.report["cache"]["units_reused"], 0);
    let second = cached(&[&secret], root.path(), cache.path());
    assert_eq!(second.verdict(), "absent");
    assert_eq!(second.report["cache"]["units_reused"], 40);
    assert_eq!(second.report["summary"]["files_scanned"], 0);
    assert!(second.report["cache"]["reused_proven_from"]
        .as_str()
        .is_some());
    let text = std::fs::read_to_string(cache.path().join("scour-cache.json")).unwrap();
    common::assert_no_window(text.as_bytes(), &secret, "cache");
    assert!(!text.contains("f1.txt"), "the cache names no path");
}

fn filetime_secs(metadata: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    metadata.mtime()
}

#[test]
fn a_file_rewritten_with_its_size_and_mtime_restored_is_rescanned_and_found() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(root.path(), 10);
    let secret = secret();
    assert_eq!(
        cached(&[&secret], root.path(), cache.path()).verdict(),
        "absent"
    );
    let target = root.path().join("d2/f2.txt");
    let old_mtime = filetime_secs(&std::fs::metadata(&target).unwrap());
    let before = std::fs::metadata(&target).unwrap();
    // Same size, new bytes, old mtime put back: only the ctime shows the change.
    let mut planted = b"TOKEN=".to_vec();
    planted.extend(&secret);
    planted.resize(before.len() as usize, b' ');
    std::fs::write(&target, &planted).unwrap();
    let status = std::process::Command::new("touch")
        .arg("-d")
        .arg(format!("@{old_mtime}"))
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    let after = std::fs::metadata(&target).unwrap();
    assert_eq!(
        (after.len(), filetime_secs(&after)),
        (before.len(), old_mtime)
    );
    let second = cached(&[&secret], root.path(), cache.path());
    assert_eq!(second.verdict(), "found");
    assert_eq!(second.report["cache"]["units_reused"], 9);
    let heads: Vec<&str> = second
        .findings()
        .iter()
        .map(|f| f["location"]["chain"][0].as_str().unwrap())
        .collect();
    assert!(heads[0].ends_with("d2/f2.txt"), "{heads:?}");
    // The file with a finding is never recorded as proven.
    let third = cached(&[&secret], root.path(), cache.path());
    assert_eq!(third.verdict(), "found");
}

#[test]
fn a_new_secret_forces_every_unit_to_be_scanned_again() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(root.path(), 10);
    let old = secret();
    let new = secret();
    let mut planted = b"NEW=".to_vec();
    planted.extend(&new);
    write(root.path(), "d0/f0.txt", &planted);
    std::thread::sleep(std::time::Duration::from_millis(3500));
    assert_eq!(
        cached(&[&old], root.path(), cache.path()).verdict(),
        "absent"
    );
    let with_new = cached(&[&old, &new], root.path(), cache.path());
    assert_eq!(with_new.verdict(), "found");
    assert_eq!(with_new.report["cache"]["units_reused"], 0);
    // The old secret alone is still covered by the first proofs, except for the file that
    // held the new secret: its proof was dropped when it had a finding.
    let old_again = cached(&[&old], root.path(), cache.path());
    assert_eq!(old_again.report["cache"]["units_reused"], 9);
}

#[test]
fn a_corrupt_cache_is_ignored_with_a_warning_and_rewritten() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(root.path(), 5);
    let secret = secret();
    assert_eq!(
        cached(&[&secret], root.path(), cache.path()).verdict(),
        "absent"
    );
    let file = cache.path().join("scour-cache.json");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&file, bytes).unwrap();
    let scan = cached(&[&secret], root.path(), cache.path());
    assert_eq!(scan.verdict(), "absent");
    assert_eq!(scan.report["cache"]["units_reused"], 0);
    assert!(String::from_utf8_lossy(&scan.output.stderr).contains("ignoring the cache"));
    assert!(scan.report["cache"]["warning"].as_str().is_some());
    let again = cached(&[&secret], root.path(), cache.path());
    assert_eq!(again.report["cache"]["units_reused"], 5);
}

#[test]
fn a_policy_can_forbid_reuse() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    tree(root.path(), 3);
    let secret = secret();
    let key = keys.path().join("k");
    common::scour()
        .args(["keygen", "--out"])
        .arg(&key)
        .assert()
        .success();
    let signed = |name: &str| {
        let out = keys.path().join(name);
        let secret_file = keys.path().join("secret");
        std::fs::write(&secret_file, &secret).unwrap();
        common::scour()
            .args(["scan", "--quiet", "--secret-file"])
            .arg(&secret_file)
            .arg("--cache")
            .arg(cache.path())
            .arg("--sign-key")
            .arg(key.with_extension("key"))
            .arg("-o")
            .arg(&out)
            .arg(root.path())
            .assert()
            .code(0);
        out
    };
    let first = signed("first.json");
    let second = signed("second.json");
    let policy = keys.path().join("policy.toml");
    std::fs::write(&policy, "forbid_cache_reuse = true\n").unwrap();
    let verify = |envelope: &Path| {
        common::scour()
            .arg("verify")
            .arg(envelope)
            .arg("--pubkey")
            .arg(key.with_extension("pub"))
            .arg("--policy")
            .arg(&policy)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify(&first), Some(0));
    assert_eq!(verify(&second), Some(1));
}
