//! Git data outside a repository (packs inside archives, `git bundle` files) under hostile
//! shapes: deltas whose bases come later (thin-pack fix-ups) resolve in linear time, a delta
//! asking for gigabytes is refused, and bundles are read wherever they are.

mod common;
mod git_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{assert_no_window, random_token, scan};
use git_support::objects::*;
use git_support::*;

/// A tar holding `name` with `bytes`, made by the real `tar`.
fn tarred(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let staging = dir.join("staging");
    let file = staging.join(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let out = dir.join("backup.tar");
    let status = Command::new("tar")
        .arg("cf")
        .arg(&out)
        .arg("-C")
        .arg(&staging)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn ten_thousand_deltas_whose_bases_come_later_resolve_in_linear_time() {
    const DELTAS: usize = 10_000;
    let prefix = b"configuration line that every version keeps\n".to_vec();
    let content = |i: usize| {
        let mut c = prefix.clone();
        c.extend_from_slice(format!("{i:06}").as_bytes());
        c
    };
    // Object i is a REF_DELTA on object i + 1; the last object is whole, at the end.
    let mut entries = Vec::new();
    for i in 0..DELTAS {
        let base_len = content(i + 1).len();
        let mut delta = delta_size(base_len);
        delta.extend(delta_size(content(i).len()));
        delta.extend([0x80 | 0x01 | 0x10, 0, prefix.len() as u8]);
        delta.push(6);
        delta.extend_from_slice(format!("{i:06}").as_bytes());
        let mut entry = entry_header(7, delta.len());
        entry.extend_from_slice(&object_id("blob", &content(i + 1)));
        entry.extend(zlib(&delta));
        entries.push(entry);
    }
    let whole = content(DELTAS);
    let mut last = entry_header(3, whole.len());
    last.extend(zlib(&whole));
    entries.push(last);
    let dir = tempfile::tempdir().unwrap();
    let tar = tarred(
        dir.path(),
        "repo.git/objects/pack/pack-1.pack",
        &pack(&entries),
    );
    let secret = random_token(32);
    let started = Instant::now();
    let result = scan(&secret, &[&tar]);
    let took = started.elapsed();
    assert_eq!(result.verdict(), "absent", "{:?}", result.gaps());
    let archive = &result.report["coverage"]["roots"][0]["archives"][0];
    assert_eq!(
        archive["members_scanned"].as_u64(),
        Some(DELTAS as u64 + 1),
        "every delta rebuilt and scanned"
    );
    // Quadratic resolution took 80 s on this shape; linear takes well under a second.
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn a_delta_asking_for_gigabytes_is_refused_not_allocated() {
    let whole = b"small base object\n".to_vec();
    let mut base = entry_header(3, whole.len());
    base.extend(zlib(&whole));
    // 8 GiB result from a few bytes: copy 16 MiB from the base, many times.
    let mut delta = delta_size(whole.len());
    delta.extend(delta_size(8 << 30));
    for _ in 0..512 {
        delta.extend([0x80 | 0x01 | 0x10 | 0x20 | 0x40, 0, 0xFF, 0xFF, 0xFF]);
    }
    let mut bomb = entry_header(6, delta.len());
    bomb.push((12 + base.len() - 12) as u8);
    bomb.extend(zlib(&delta));
    let dir = tempfile::tempdir().unwrap();
    let tar = tarred(dir.path(), "objects/pack/pack-2.pack", &pack(&[base, bomb]));
    let secret = random_token(32);
    let result = scan(&secret, &[&tar]);
    assert_eq!(result.verdict(), "incomplete");
    assert!(
        result
            .gaps()
            .iter()
            .any(|g| g["kind"] == "unreadable-object"),
        "{:?}",
        result.gaps()
    );
}

fn bundle_with_secret(dir: &Path, secret: &[u8]) -> Vec<u8> {
    let work = dir.join("work");
    repo(&work);
    let mut text = b"password: ".to_vec();
    text.extend_from_slice(secret);
    commit_file(&work, "config.yml", &text, "config");
    git(&work, &["bundle", "create", "-q", "../all.bundle", "--all"]);
    let bytes = std::fs::read(dir.join("all.bundle")).unwrap();
    assert!(bytes.starts_with(b"# v2 git bundle\n") || bytes.starts_with(b"# v3 git bundle\n"));
    assert_no_window(&bytes, secret, "the bundle");
    bytes
}

#[test]
fn a_git_bundle_is_read_on_disk_in_an_archive_and_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let bundle = bundle_with_secret(dir.path(), &secret);
    // On disk, under a name that says nothing.
    let on_disk = dir.path().join("backup.bin");
    std::fs::write(&on_disk, &bundle).unwrap();
    let result = scan(&secret, &[&on_disk]);
    assert_eq!(result.verdict(), "found", "{:?}", result.gaps());
    // Inside a tarball.
    let tar = tarred(dir.path(), "repo.bundle", &bundle);
    assert_eq!(scan(&secret, &[&tar]).verdict(), "found");
    // Committed to another repository's history.
    let other = dir.path().join("other");
    repo(&other);
    commit_file(&other, "backups/repo.bundle", &bundle, "backup");
    git(&other, &["rm", "-q", "backups/repo.bundle"]);
    git(&other, &["commit", "-qm", "rm"]);
    let result = scan(&secret, &[&other.join(".git")]);
    assert_eq!(result.verdict(), "found");
    let found = git_findings(&result.report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["git"]["commits"][0]["path"], "backups/repo.bundle");
}
