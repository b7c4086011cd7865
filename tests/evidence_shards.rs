//! Sharded sweeps: `scan --shard K/N` parts, merged by `scour merge` into one signed report.

mod common;
mod evidence_support;

use std::path::{Path, PathBuf};

use common::{random_token, scan_with_secrets, scour, write};
use evidence_support::*;
use serde_json::Value;

const SALT: &str = "0123456789abcdef0123456789abcdef";

struct Sweep {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    tree: PathBuf,
    keys: KeyPair,
    secret: Vec<u8>,
}

fn sweep(with_secret: bool) -> Sweep {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let keys = keygen(&path, "shard");
    let secret = random_token(26);
    let tree = path.join("store");
    for n in 0..90 {
        let body = format!("file {n}\n").repeat(n + 1);
        write(&tree, &format!("d{}/f{n}.txt", n % 7), body);
    }
    if with_secret {
        for n in [3, 41, 77] {
            write(
                &tree,
                &format!("leaks/l{n}.env"),
                [b"T=".as_slice(), &secret].concat(),
            );
        }
    }
    std::os::unix::fs::symlink("d1/f1.txt", tree.join("link")).unwrap();
    Sweep {
        _dir: dir,
        dir: path,
        tree,
        keys,
        secret,
    }
}

impl Sweep {
    fn shard(&self, shard: &str, salt: &str) -> PathBuf {
        let scan = signed_scan(
            &self.secret,
            &[&self.tree],
            &self.keys.private,
            &["--shard", shard, "--salt", salt],
        );
        scan.assert_no_leak(&self.secret);
        let out = self
            .dir
            .join(format!("shard-{}.json", shard.replace('/', "-of-")));
        std::fs::write(&out, &scan.report_bytes).unwrap();
        out
    }

    fn merge(&self, shards: &[&Path]) -> std::process::Output {
        let mut cmd = scour();
        cmd.arg("merge")
            .args(shards)
            .arg("--pubkey")
            .arg(&self.keys.public)
            .arg("--sign-key")
            .arg(&self.keys.private)
            .arg("--output")
            .arg(self.dir.join("merged.json"));
        cmd.output().unwrap()
    }

    fn merged(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("merged.json")).unwrap()
    }
}

fn totals(report: &Value) -> Vec<(u64, u64, u64)> {
    report["coverage"]["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["files_scanned"].as_u64().unwrap(),
                r["bytes_scanned"].as_u64().unwrap(),
                r["skipped"]["symlink"]["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn three_shards_merge_into_the_unsharded_result() {
    let sweep = sweep(true);
    let whole = scan_with_secrets(&[&sweep.secret], &[&sweep.tree], &["--salt", SALT]);
    assert_eq!(whole.verdict(), "found");
    let shards: Vec<PathBuf> = ["1/3", "2/3", "3/3"]
        .iter()
        .map(|s| sweep.shard(s, SALT))
        .collect();

    // Each shard scanned a proper, non-empty part.
    let mut shard_files = Vec::new();
    for shard in &shards {
        let (_, _, statement) = open(&std::fs::read(shard).unwrap());
        let files = statement["predicate"]["summary"]["files_scanned"]
            .as_u64()
            .unwrap();
        assert!(files > 0 && files < 93, "{files}");
        shard_files.push(files);
    }
    assert_eq!(shard_files.iter().sum::<u64>(), 93);

    // Merge in any order.
    let output = sweep.merge(&[&shards[2], &shards[0], &shards[1]]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = sweep.merged();
    common::assert_no_window(&merged, &sweep.secret, "merged envelope");
    let (_, _, statement) = open(&merged);
    let report = &statement["predicate"];
    assert_eq!(report["verdict"], "found");
    assert_eq!(report["findings"], whole.report["findings"]);
    // The same secrets by fingerprint (each run read them from its own temporary file).
    let fingerprints = |r: &serde_json::Value| {
        r["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["fingerprint"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(fingerprints(report), fingerprints(&whole.report));
    assert_eq!(totals(report), totals(&whole.report));
    assert_eq!(totals(report)[0].2, 1, "the symlink counted once");
    assert!(report["scan"].get("shard").is_none());
    assert_eq!(statement["subject"].as_array().unwrap().len(), 3);
    assert!(statement["subject"][1]["name"]
        .as_str()
        .unwrap()
        .ends_with("(shard 2/3)"));

    // The merged envelope verifies (and is refused for its verdict); a shard never closes.
    let verified = verify(&merged, &[&sweep.keys.public], None, &[]);
    assert!(verified.passed("signature"));
    assert!(verified.passed("whole scan"));
    assert!(!verified.passed("verdict"));
    let verified = verify(
        &std::fs::read(&shards[0]).unwrap(),
        &[&sweep.keys.public],
        None,
        &[],
    );
    assert!(!verified.passed("whole scan"));
    assert_eq!(verified.code(), 1);
}

#[test]
fn a_clean_sharded_sweep_merges_into_a_report_that_may_close() {
    let sweep = sweep(false);
    let shards: Vec<PathBuf> = ["1/2", "2/2"]
        .iter()
        .map(|s| sweep.shard(s, SALT))
        .collect();
    for shard in &shards {
        let verified = verify(
            &std::fs::read(shard).unwrap(),
            &[&sweep.keys.public],
            None,
            &[],
        );
        assert_eq!(verified.code(), 1, "a shard alone never closes");
    }
    let output = sweep.merge(&[&shards[0], &shards[1]]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verified = verify(&sweep.merged(), &[&sweep.keys.public], None, &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());
}

fn merge_error(sweep: &Sweep, shards: &[&Path]) -> String {
    let output = sweep.merge(shards);
    assert_eq!(output.status.code(), Some(2));
    assert!(!sweep.dir.join("merged.json").exists());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn missing_duplicated_or_mismatched_shards_are_rejected() {
    let sweep = sweep(false);
    let one = sweep.shard("1/3", SALT);
    let two = sweep.shard("2/3", SALT);
    let three = sweep.shard("3/3", SALT);
    assert!(merge_error(&sweep, &[&one, &two]).contains("3/3 missing"));
    assert!(merge_error(&sweep, &[&one, &two, &two, &three]).contains("twice"));
    assert!(merge_error(&sweep, &[&one, &two, &two]).contains("twice"));

    let other_salt = sweep.shard("3/3", "ffffffffffffffffffffffffffffffff");
    assert!(merge_error(&sweep, &[&one, &two, &other_salt]).contains("salt"));

    let other_count = sweep.shard("2/2", SALT);
    assert!(merge_error(&sweep, &[&one, &two, &other_count]).contains("different sweeps"));

    let whole = signed_scan(
        &sweep.secret,
        &[&sweep.tree],
        &sweep.keys.private,
        &["--salt", SALT],
    );
    let whole_path = sweep.dir.join("whole.json");
    std::fs::write(&whole_path, &whole.report_bytes).unwrap();
    assert!(merge_error(&sweep, &[&one, &two, &whole_path]).contains("not a shard"));

    // A shard changed after signing.
    let (mut envelope, mut body, _) = open(&std::fs::read(&three).unwrap());
    let at = body.len() / 2;
    body[at] ^= 1;
    use base64::Engine;
    envelope["payload"] = Value::from(B64.encode(&body));
    let tampered = sweep.dir.join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&envelope).unwrap()).unwrap();
    assert!(merge_error(&sweep, &[&one, &two, &tampered]).contains("no valid signature"));

    // Different options.
    let narrowed = signed_scan(
        &sweep.secret,
        &[&sweep.tree],
        &sweep.keys.private,
        &["--shard", "3/3", "--salt", SALT, "--exclude", "*.md"],
    );
    let narrowed_path = sweep.dir.join("narrowed.json");
    std::fs::write(&narrowed_path, &narrowed.report_bytes).unwrap();
    assert!(merge_error(&sweep, &[&one, &two, &narrowed_path]).contains("options"));
}

#[test]
fn a_shard_needs_a_shared_salt_and_a_valid_k_of_n() {
    let sweep = sweep(false);
    let scan = signed_scan(
        &sweep.secret,
        &[&sweep.tree],
        &sweep.keys.private,
        &["--shard", "1/2"],
    );
    assert_eq!(scan.code(), 2);
    assert!(String::from_utf8_lossy(&scan.output.stderr).contains("--salt"));
    let scan = signed_scan(
        &sweep.secret,
        &[&sweep.tree],
        &sweep.keys.private,
        &["--shard", "3/2", "--salt", SALT],
    );
    assert_eq!(scan.code(), 2);
    assert!(String::from_utf8_lossy(&scan.output.stderr).contains("K/N"));
}

#[test]
fn a_shard_in_text_says_it_is_only_a_shard() {
    let sweep = sweep(false);
    let scan = scan_with_secrets(
        &[&sweep.secret],
        &[&sweep.tree],
        &["--shard", "1/4", "--salt", SALT, "--format", "text"],
    );
    let text = String::from_utf8_lossy(&scan.report_bytes);
    assert!(text.contains("only shard 1/4"), "{text}");
}

/// `merge -o` is handled like `scan -o`: `-` is standard output, a symbolic link stays a
/// link and its target gets the envelope, a FIFO is written in place, and a missing
/// directory is an error before any shard is read (a shard that does not exist is not even
/// looked at). `countersign` rewrites its envelope the same way, and `-` reads standard
/// input and writes standard output.
#[test]
fn merge_and_countersign_write_their_output_like_scan_does() {
    use std::os::unix::fs::FileTypeExt;
    let sweep = sweep(false);
    let shards: Vec<PathBuf> = ["1/2", "2/2"]
        .iter()
        .map(|s| sweep.shard(s, SALT))
        .collect();
    let merge_to = |output: &Path| {
        scour()
            .arg("merge")
            .args(&shards)
            .arg("--pubkey")
            .arg(&sweep.keys.public)
            .arg("--sign-key")
            .arg(&sweep.keys.private)
            .arg("--output")
            .arg(output)
            .output()
            .unwrap()
    };
    let to_stdout = merge_to(Path::new("-"));
    assert_eq!(to_stdout.status.code(), Some(0));
    assert!(!Path::new("-").exists());
    let verified = verify(&to_stdout.stdout, &[&sweep.keys.public], None, &[]);
    assert_eq!(verified.code(), 0, "{}", verified.stdout());

    let target = sweep.dir.join("evidence-2026.json");
    std::fs::write(&target, b"last week's").unwrap();
    let link = sweep.dir.join("latest.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(merge_to(&link).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let merged = std::fs::read(&target).unwrap();
    assert_eq!(verify(&merged, &[&sweep.keys.public], None, &[]).code(), 0);

    let fifo = sweep.dir.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::read(fifo).unwrap()
    });
    assert_eq!(merge_to(&fifo).status.code(), Some(0));
    let through_fifo = reader.join().unwrap();
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(
        verify(&through_fifo, &[&sweep.keys.public], None, &[]).code(),
        0
    );

    let missing = merge_to(&sweep.dir.join("no/such/dir/merged.json"));
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("mkdir -p"), "{stderr}");
    let started = std::time::Instant::now();
    let before_reading = scour()
        .arg("merge")
        .arg(sweep.dir.join("no-such-shard.json"))
        .arg("--pubkey")
        .arg(&sweep.keys.public)
        .arg("--sign-key")
        .arg(&sweep.keys.private)
        .arg("--output")
        .arg(sweep.dir.join("no/such/dir/merged.json"))
        .output()
        .unwrap();
    assert_eq!(before_reading.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&before_reading.stderr).contains("mkdir -p"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // Countersigning through a link keeps the link; `-` is a filter.
    let second = keygen(&sweep.dir, "second");
    let countersign = |envelope: &Path, stdin: Option<&[u8]>| {
        let mut cmd = scour();
        cmd.arg("countersign")
            .arg(envelope)
            .arg("--pubkey")
            .arg(&sweep.keys.public)
            .arg("--sign-key")
            .arg(&second.private);
        if let Some(stdin) = stdin {
            cmd.write_stdin(stdin.to_vec());
        }
        cmd.output().unwrap()
    };
    assert_eq!(countersign(&link, None).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let countersigned: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(countersigned["signatures"].as_array().unwrap().len(), 2);
    let filtered = countersign(Path::new("-"), Some(&merged));
    assert_eq!(filtered.status.code(), Some(0), "{filtered:?}");
    let filtered: Value = serde_json::from_slice(&filtered.stdout).unwrap();
    assert_eq!(filtered["signatures"].as_array().unwrap().len(), 2);
}
