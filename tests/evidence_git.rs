//! Signed reports about git repositories: every ref tip is a subject, `scour verify` and
//! `scour merge` check them against the report, and a full-history target needs a full scan.

mod common;
mod evidence_support;
mod git_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{random_token, scour};
use evidence_support::*;
use git_support::{commit_file, git, repo};
use serde_json::Value;

const SALT: &str = "00112233445566778899aabbccddeeff";

/// A repository with branches, a lightweight and an annotated tag, and a detached worktree
/// HEAD; none of it holds the secret.
fn clean_repository(dir: &Path) -> PathBuf {
    let path = dir.join("repo");
    repo(&path);
    commit_file(&path, "src/app.rs", b"fn main() {}\n", "app");
    git(&path, &["tag", "light"]);
    git(&path, &["tag", "-a", "v1", "-m", "release"]);
    git(&path, &["checkout", "-qb", "feature"]);
    commit_file(&path, "docs/notes.md", b"notes\n", "notes");
    git(&path, &["checkout", "-q", "main"]);
    path
}

/// `ref -> (in-toto digest name, object id)` for every ref, from git itself.
fn expected_tips(repository: &Path) -> BTreeMap<String, (String, String)> {
    git(
        repository,
        &[
            "for-each-ref",
            "--format=%(refname) %(objecttype) %(objectname)",
        ],
    )
    .lines()
    .map(|line| {
        let [name, kind, id]: [&str; 3] = line.split(' ').collect::<Vec<_>>().try_into().unwrap();
        let algorithm = match kind {
            "commit" => "gitCommit",
            "tag" => "gitTag",
            other => panic!("unexpected ref kind {other}"),
        };
        assert_eq!(git(repository, &["rev-parse", name]), id);
        (name.to_string(), (algorithm.to_string(), id.to_string()))
    })
    .collect()
}

/// `ref -> (digest name, object id)` of the statement's subjects for `git_dir`.
fn tip_subjects(statement: &Value, git_dir: &str) -> BTreeMap<String, (String, String)> {
    statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|subject| {
            let name = subject["name"].as_str()?;
            // A merged statement also lists each shard's own subjects, named with the shard.
            let reference = name
                .strip_prefix(&format!("{git_dir}@"))
                .filter(|r| !r.ends_with(')'))?;
            let digest = subject["digest"].as_object().unwrap();
            assert_eq!(digest.len(), 1, "{subject}");
            let (algorithm, id) = digest.iter().next().unwrap();
            let binds = subject["annotations"]["scour.binds"].as_str().unwrap();
            assert!(binds.contains("tip of this ref"), "{binds}");
            assert!(binds.contains("history scanned: full"), "{binds}");
            Some((
                reference.to_string(),
                (algorithm.clone(), id.as_str().unwrap().to_string()),
            ))
        })
        .collect()
}

fn git_dir_of(statement: &Value) -> String {
    let repositories = statement["predicate"]["coverage"]["roots"][0]["repositories"]
        .as_array()
        .unwrap();
    assert_eq!(repositories.len(), 1);
    let path = repositories[0]["path"].as_str().unwrap().to_string();
    assert!(path.ends_with("repo/.git"), "{path}");
    path
}

#[test]
fn ref_tips_are_subjects_equal_to_git_rev_parse_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let repository = clean_repository(dir.path());
    let secret = random_token(32);
    let scan = signed_scan(&secret, &[&repository], &keys.private, &[]);
    assert_eq!(
        scan.code(),
        0,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    scan.assert_no_leak(&secret);
    let (_, _, statement) = open(&scan.report_bytes);
    let git_dir = git_dir_of(&statement);

    let expected = expected_tips(&repository);
    assert_eq!(expected.len(), 4, "main, feature, light, v1: {expected:?}");
    assert_eq!(expected["refs/tags/v1"].0, "gitTag");
    assert_eq!(tip_subjects(&statement, &git_dir), expected);

    let verified = verify(&scan.report_bytes, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());
    assert!(verified.passed("report consistency"));

    // A full-history target is satisfied by this scan.
    let policy = format!(
        "[[targets]]\npath = {:?}\nkind = \"git-repository\"\nfull_history = true\n",
        repository.to_str().unwrap()
    );
    let verified = verify(&scan.report_bytes, &[&keys.public], Some(&policy), &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());
}

#[test]
fn a_subject_that_differs_from_the_recorded_ref_tip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let repository = clean_repository(dir.path());
    let secret = random_token(32);
    let scan = signed_scan(&secret, &[&repository], &keys.private, &[]);
    let (_, _, statement) = open(&scan.report_bytes);
    let report: scour::report::Report =
        serde_json::from_value(statement["predicate"].clone()).unwrap();
    let mut subjects = scour::evidence::subjects::from_report(&report);
    let old = git(&repository, &["rev-parse", "main~1"]);
    let main = subjects
        .iter_mut()
        .find(|s| s.name.ends_with("@refs/heads/main"))
        .unwrap();
    main.digest.insert("gitCommit".into(), old);
    let key = scour::evidence::keys::PrivateKey::load(&keys.private).unwrap();
    let forged = scour::evidence::statement::Statement::new(subjects, report)
        .sign(&[&key])
        .unwrap()
        .to_json()
        .unwrap();
    let verified = verify(&forged, &[&keys.public], None, &[]);
    assert_ne!(verified.code(), 0);
    assert!(
        !verified.passed("report consistency"),
        "{}",
        verified.stdout()
    );
}

#[test]
fn full_history_is_not_satisfied_by_a_range_scan() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let repository = clean_repository(dir.path());
    let secret = random_token(32);
    let scan = signed_scan(
        &secret,
        &[&repository],
        &keys.private,
        &["--git-range", "main~1..main"],
    );
    assert_eq!(
        scan.code(),
        0,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    let (_, _, statement) = open(&scan.report_bytes);
    let root = statement["predicate"]["coverage"]["roots"][0]["root"]
        .as_str()
        .unwrap()
        .to_string();
    let target = format!("[[targets]]\npath = {root:?}\n");
    let verified = verify(
        &scan.report_bytes,
        &[&keys.public],
        Some(&format!("{target}full_history = true\n")),
        &[],
    );
    assert_ne!(verified.code(), 0, "{}", verified.stdout());
    let check = verified.check(&format!("target {root}"));
    assert!(check.contains("not its full history"), "{check}");
}

/// The git objects holding the secret, as a report names them.
fn found_objects(report: &Value) -> Vec<String> {
    let mut objects: Vec<String> = git_support::git_findings(report)
        .iter()
        .map(|f| f["git"]["object"].as_str().unwrap().to_string())
        .collect();
    objects.sort();
    objects.dedup();
    objects
}

#[test]
fn git_shards_merge_with_the_ref_tips_once_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "shard");
    let repository = clean_repository(dir.path());
    let secret = random_token(32);
    // Every shard scans its own part of the objects, whichever shard owns the `HEAD` file.
    let leak = random_token(32);
    for n in 0..6 {
        let path = format!("leak{n}.env");
        commit_file(
            &repository,
            &path,
            &[format!("N={n}\nT=").as_bytes(), &leak].concat(),
            "leak",
        );
        git(&repository, &["rm", "-q", &path]);
        git(&repository, &["commit", "-qm", "unleak"]);
    }
    let whole = signed_scan(&leak, &[&repository], &keys.private, &["--salt", SALT]);
    let (_, _, whole) = open(&whole.report_bytes);
    assert_eq!(found_objects(&whole["predicate"]).len(), 6);
    let sharded: Vec<String> = ["1/3", "2/3", "3/3"]
        .iter()
        .flat_map(|shard| {
            let scan = signed_scan(
                &leak,
                &[&repository],
                &keys.private,
                &["--shard", shard, "--salt", SALT],
            );
            let (_, _, statement) = open(&scan.report_bytes);
            found_objects(&statement["predicate"])
        })
        .collect();
    let mut sharded_sorted = sharded.clone();
    sharded_sorted.sort();
    assert_eq!(sharded_sorted, found_objects(&whole["predicate"]));
    // Rewrite the leaks out of history, then sweep the clean repository in two shards.
    git(&repository, &["reset", "-q", "--hard", "HEAD~12"]);
    git(&repository, &["reflog", "expire", "--expire=now", "--all"]);
    git(&repository, &["gc", "-q", "--prune=now"]);

    let shards: Vec<PathBuf> = ["1/2", "2/2"]
        .iter()
        .map(|shard| {
            let scan = signed_scan(
                &secret,
                &[&repository],
                &keys.private,
                &["--shard", shard, "--salt", SALT],
            );
            scan.assert_no_leak(&secret);
            let out = dir.path().join(format!("{}.json", shard.replace('/', "-")));
            std::fs::write(&out, &scan.report_bytes).unwrap();
            out
        })
        .collect();
    let merged = dir.path().join("merged.json");
    let output = scour()
        .arg("merge")
        .args(&shards)
        .arg("--pubkey")
        .arg(&keys.public)
        .arg("--sign-key")
        .arg(&keys.private)
        .arg("--output")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let envelope = std::fs::read(&merged).unwrap();
    let (_, _, statement) = open(&envelope);
    let git_dir = statement["predicate"]["coverage"]["roots"][0]["repositories"][0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        tip_subjects(&statement, &git_dir),
        expected_tips(&repository)
    );
    let verified = verify(&envelope, &[&keys.public], None, &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());
}

#[test]
fn shards_that_read_different_ref_tips_do_not_merge() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "shard");
    let repository = clean_repository(dir.path());
    let secret = random_token(32);
    let shard = |shard: &str| {
        let scan = signed_scan(
            &secret,
            &[&repository],
            &keys.private,
            &["--shard", shard, "--salt", SALT],
        );
        let out = dir.path().join(format!("{}.json", shard.replace('/', "-")));
        std::fs::write(&out, &scan.report_bytes).unwrap();
        out
    };
    let first = shard("1/2");
    commit_file(&repository, "late.txt", b"late\n", "during the sweep");
    let second = shard("2/2");
    let output = scour()
        .arg("merge")
        .arg(&first)
        .arg(&second)
        .arg("--pubkey")
        .arg(&keys.public)
        .arg("--sign-key")
        .arg(&keys.private)
        .arg("--output")
        .arg(dir.path().join("merged.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("different tips"), "{stderr}");
    assert!(!dir.path().join("merged.json").exists());
}
