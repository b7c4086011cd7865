//! Every hiding place planted in one repository, then scanned as it is, fully packed, and
//! as a bare mirror: each plant that survives in that form must be found in a git object.

mod common;
mod git_support;

use std::collections::BTreeSet;
use std::path::Path;

use common::{random_token, scan_with_secrets};
use git_support::*;

struct Plant {
    name: &'static str,
    secret: Vec<u8>,
    /// Survives `gc --prune=now` (everything but an unreferenced blob).
    packed: bool,
    /// Copied by `clone --mirror` (reachable from a ref).
    mirrored: bool,
}

fn text(secret: &[u8]) -> String {
    String::from_utf8_lossy(secret).into_owned()
}

fn plant_everything(dir: &Path) -> Vec<Plant> {
    let mut plants = Vec::new();
    let mut plant = |name, packed, mirrored| {
        let secret = random_token(40);
        plants.push(Plant {
            name,
            secret: secret.clone(),
            packed,
            mirrored,
        });
        secret
    };
    repo(dir);
    let s = plant("history-only", true, true);
    commit_file(
        dir,
        "old/creds.env",
        format!("K={}\n", text(&s)).as_bytes(),
        "add",
    );
    git(dir, &["rm", "-q", "old/creds.env"]);
    git(dir, &["commit", "-qm", "rm"]);

    let s = plant("side-branch", true, true);
    git(dir, &["checkout", "-qb", "side"]);
    commit_file(
        dir,
        "side.env",
        format!("K={}\n", text(&s)).as_bytes(),
        "side",
    );
    git(dir, &["checkout", "-q", "main"]);

    let s = plant("tag-message", true, true);
    git(
        dir,
        &["tag", "-a", "v1", "-m", &format!("token {}", text(&s))],
    );

    let s = plant("commit-message", true, true);
    commit_file(dir, "c.txt", b"c\n", &format!("use {}", text(&s)));

    let s = plant("binary", true, true);
    let mut binary = vec![0u8; 300];
    binary.extend_from_slice(&s);
    binary.extend_from_slice(&[0, 1, 2]);
    commit_file(dir, "bin/app.dat", &binary, "binary");
    git(dir, &["rm", "-q", "bin/app.dat"]);
    git(dir, &["commit", "-qm", "rm binary"]);

    let s = plant("merge-only", true, true);
    git(dir, &["checkout", "-qb", "topic"]);
    commit_file(dir, "t.txt", b"t\n", "topic");
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    std::fs::write(dir.join("m.env"), format!("K={}\n", text(&s))).unwrap();
    git(dir, &["add", "m.env"]);
    git(dir, &["commit", "-qm", "merge"]);
    git(dir, &["rm", "-q", "m.env"]);
    git(dir, &["commit", "-qm", "rm m"]);

    let s = plant("notes", true, true);
    git(dir, &["notes", "add", "-m", &format!("note {}", text(&s))]);

    let s = plant("pull-ref", true, true);
    git(dir, &["checkout", "-qb", "pr"]);
    let pr = commit_file(dir, "pr.env", format!("K={}\n", text(&s)).as_bytes(), "pr");
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["branch", "-qD", "pr"]);
    git(dir, &["update-ref", "refs/pull/7/head", &pr]);

    let s = plant("refs-original", true, true);
    git(dir, &["checkout", "-qb", "rewrite"]);
    commit_file(dir, "rw.env", format!("K={}\n", text(&s)).as_bytes(), "rw");
    git(
        dir,
        &[
            "filter-branch",
            "-f",
            "--index-filter",
            "git rm -q --cached --ignore-unmatch rw.env",
            "HEAD",
        ],
    );
    git(dir, &["checkout", "-q", "main"]);

    let s = plant("reflog-only", true, false);
    commit_file(
        dir,
        "oops.env",
        format!("K={}\n", text(&s)).as_bytes(),
        "oops",
    );
    git(dir, &["reset", "-q", "--hard", "HEAD~1"]);

    let s = plant("stash", true, true);
    std::fs::write(dir.join("c.txt"), format!("K={}\n", text(&s))).unwrap();
    git(dir, &["stash", "-q"]);

    let s = plant("dangling-blob", false, false);
    std::fs::write(dir.join("loose.tmp"), format!("K={}\n", text(&s))).unwrap();
    git(dir, &["hash-object", "-w", "loose.tmp"]);
    std::fs::remove_file(dir.join("loose.tmp")).unwrap();

    let s = plant("staged-only", true, false);
    std::fs::write(dir.join("staged.env"), format!("K={}\n", text(&s))).unwrap();
    git(dir, &["add", "staged.env"]);
    std::fs::remove_file(dir.join("staged.env")).unwrap();
    plants
}

/// Names of the plants found in git objects of the repository at `path`.
fn found(plants: &[Plant], path: &Path) -> BTreeSet<&'static str> {
    let secrets: Vec<&[u8]> = plants.iter().map(|p| p.secret.as_slice()).collect();
    let result = scan_with_secrets(&secrets, &[path], &[]);
    for secret in &secrets {
        result.assert_no_leak(secret);
    }
    let ids: Vec<String> = result.report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let mut names = BTreeSet::new();
    for finding in git_findings(&result.report) {
        assert_eq!(finding["git"]["object"].as_str().unwrap().len(), 40);
        let index = ids
            .iter()
            .position(|id| finding["secret"] == id.as_str())
            .unwrap();
        names.insert(plants[index].name);
    }
    names
}

#[test]
fn every_plant_is_found_fresh_packed_and_mirrored() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let plants = plant_everything(&work);
    let all: BTreeSet<&str> = plants.iter().map(|p| p.name).collect();
    assert_eq!(found(&plants, &work), all, "fresh repository");

    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            "--mirror",
            "work",
            "mirror.git",
        ],
    );
    let mirrored: BTreeSet<&str> = plants
        .iter()
        .filter(|p| p.mirrored)
        .map(|p| p.name)
        .collect();
    assert_eq!(
        found(&plants, &dir.path().join("mirror.git")),
        mirrored,
        "bare mirror"
    );

    git(&work, &["gc", "-q", "--aggressive", "--prune=now"]);
    let packed: BTreeSet<&str> = plants.iter().filter(|p| p.packed).map(|p| p.name).collect();
    assert_eq!(found(&plants, &work), packed, "fully packed");
}
