//! Packs are read in their own order, each delta rebuilt from a base held in memory: every
//! object must still be read exactly once, deep in a delta chain, across several packs and
//! beside loose objects, and the counts must match what git itself lists.

mod common;
mod git_support;

use std::path::Path;

use common::{random_token, scan};
use git_support::*;
use serde_json::Value;

/// Object counts by kind, as git lists them.
fn git_counts(dir: &Path) -> (u64, u64, u64) {
    let listing = git(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype)",
        ],
    );
    let count = |kind: &str| listing.lines().filter(|l| *l == kind).count() as u64;
    (count("commit"), count("tree"), count("blob"))
}

/// A file rewritten a little at a time: after `gc --aggressive` its versions are long
/// delta chains in one pack.
fn edit_history(dir: &Path, secret: &[u8], edits: usize, secret_at: usize) -> String {
    let mut lines: Vec<String> = (0..400)
        .map(|i| format!("line {i} of a configuration file that changes slowly"))
        .collect();
    let mut introduced = String::new();
    for edit in 0..edits {
        lines[(edit * 7) % 400] = format!("edited {edit}");
        let mut text = lines.join("\n");
        if edit == secret_at {
            text.push_str(&format!("\ntoken = {}\n", String::from_utf8_lossy(secret)));
        }
        let id = commit_file(
            dir,
            "conf/app.ini",
            text.as_bytes(),
            &format!("edit {edit}"),
        );
        if edit == secret_at {
            introduced = id;
        }
    }
    introduced
}

fn repository(report: &Value) -> Value {
    let repos = repositories(report);
    assert_eq!(repos.len(), 1);
    repos[0].clone()
}

/// The longest delta chain `git verify-pack` reports.
fn longest_chain(dir: &Path) -> u64 {
    let pack_dir = dir.join(".git/objects/pack");
    let mut longest = 0;
    for entry in std::fs::read_dir(pack_dir).unwrap().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|x| x == "idx") {
            let path = entry.path().display().to_string();
            for line in git(dir, &["verify-pack", "-v", &path]).lines() {
                if let Some(rest) = line.strip_prefix("chain length = ") {
                    let n = rest.split(':').next().unwrap_or("0").trim();
                    longest = longest.max(n.parse().unwrap_or(0));
                }
            }
        }
    }
    longest
}

#[test]
fn a_secret_deep_in_a_delta_chain_is_found_once_with_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    repo(dir.path());
    let introduced = edit_history(dir.path(), &secret, 120, 70);
    git(dir.path(), &["gc", "-q", "--aggressive", "--prune=now"]);
    let pack_dir = dir.path().join(".git/objects/pack");
    let packed: Vec<u8> = std::fs::read_dir(&pack_dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(
        !packed.windows(secret.len()).any(|w| w == secret.as_slice()),
        "the pack must not hold the secret raw (it is deflated)"
    );
    assert!(
        longest_chain(dir.path()) >= 10,
        "long delta chains were made"
    );

    let result = scan(&secret, &[dir.path()]);
    result.assert_no_leak(&secret);
    assert_eq!(result.verdict(), "found");
    let findings = git_findings(&result.report);
    let blobs: Vec<&Value> = findings
        .iter()
        .filter(|f| f["git"]["kind"] == "blob")
        .collect();
    assert_eq!(blobs.len(), 1, "one blob holds the secret, found once");
    assert_eq!(
        commit_paths(blobs[0]),
        vec![(introduced, "conf/app.ini".to_string())]
    );
    let (commits, trees, blob_count) = git_counts(dir.path());
    let repo = repository(&result.report);
    assert_eq!(repo["commits"].as_u64(), Some(commits));
    assert_eq!(repo["trees"].as_u64(), Some(trees));
    assert_eq!(repo["blobs"].as_u64(), Some(blob_count));
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}

#[test]
fn objects_in_several_packs_and_loose_are_each_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let later = random_token(32);
    let loose = random_token(32);
    repo(dir.path());
    edit_history(dir.path(), &secret, 40, 20);
    git(dir.path(), &["repack", "-q", "-a", "-d"]);
    // A second pack of newer objects, some of them deltas against the first pack's.
    edit_history(dir.path(), &later, 30, 10);
    git(dir.path(), &["repack", "-q"]);
    // And the same objects again in a third pack (objects listed twice are read once).
    git(dir.path(), &["repack", "-q", "-a"]);
    commit_file(
        dir.path(),
        "loose.txt",
        format!("key={}\n", String::from_utf8_lossy(&loose)).as_bytes(),
        "loose",
    );
    let packs = std::fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
        .count();
    assert!(packs >= 2, "several packs: {packs}");

    for wanted in [&secret, &later, &loose] {
        let result = scan(wanted, &[dir.path()]);
        result.assert_no_leak(wanted);
        assert_eq!(result.verdict(), "found");
        let blobs = git_findings(&result.report)
            .into_iter()
            .filter(|f| f["git"]["kind"] == "blob")
            .count();
        assert_eq!(blobs, 1, "found once");
        let (commits, trees, blob_count) = git_counts(dir.path());
        let repo = repository(&result.report);
        assert_eq!(repo["commits"].as_u64(), Some(commits));
        assert_eq!(repo["trees"].as_u64(), Some(trees));
        assert_eq!(repo["blobs"].as_u64(), Some(blob_count));
    }
}
