//! Reports are deterministic whatever the thread count, and `-o` behaves like a Unix tool:
//! `-` is stdout, links and special files are written in place and never replaced, a
//! regular file keeps its mode, a missing directory fails before scanning, and a temporary
//! file left by a killed scour is not read as data by the next scan.

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use common::{random_token, scour, write, SECRET_ENV};
use serde_json::Value;

const SALT: &str = "00112233445566778899aabbccddeeff";

/// A tree with more than 20 skipped links, excluded files, findings in files, names and a
/// tarball, and corrupt archives (gaps).
fn busy_tree(root: &Path, secret: &str) {
    for i in 0..60 {
        let dir = format!("d{}", i % 7);
        write(root, &format!("{dir}/f{i}.txt"), format!("x {secret} y"));
        std::os::unix::fs::symlink("/etc/hostname", root.join(format!("{dir}/l{i}")))
            .expect("symlink");
        write(root, &format!("{dir}/skip{i}.log"), "excluded");
        write(root, &format!("{dir}/bad{i}.gz"), b"\x1f\x8b\x08\0garbage");
    }
    write(root, &format!("named-{secret}.txt"), "clean");
}

fn scan_json(root: &Path, secret: &str, threads: &str) -> Value {
    let output = scour()
        .env(SECRET_ENV, secret)
        .args([
            "scan",
            "--secret-env",
            SECRET_ENV,
            "--format",
            "json",
            "--quiet",
        ])
        .args(["--salt", SALT, "--exclude", "*.log", "--threads", threads])
        .arg(root)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let mut report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    for volatile in ["started_at", "finished_at"] {
        report[volatile] = Value::Null;
    }
    report["scan"]["threads"] = Value::Null;
    report
}

#[test]
fn one_thread_and_eight_threads_give_the_same_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = String::from_utf8(random_token(24)).expect("ascii");
    busy_tree(dir.path(), &secret);
    let one = scan_json(dir.path(), &secret, "1");
    let skipped = &one["coverage"]["roots"][0]["skipped"]["symlink"];
    assert_eq!(skipped["count"], 60);
    assert_eq!(skipped["examples"].as_array().map(Vec::len), Some(20));
    let examples: Vec<&str> = skipped["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut sorted = examples.clone();
    sorted.sort();
    assert_eq!(
        examples, sorted,
        "examples are the first 20 in sorted order"
    );
    for _ in 0..3 {
        let eight = scan_json(dir.path(), &secret, "8");
        assert_eq!(one, eight, "the report does not depend on --threads");
    }
}

fn run_to(output: &Path, root: &Path) -> std::process::Output {
    scour()
        .env(SECRET_ENV, "a-revoked-token-123")
        .args([
            "scan",
            "--secret-env",
            SECRET_ENV,
            "--format",
            "json",
            "--quiet",
            "-o",
        ])
        .arg(output)
        .arg(root)
        .output()
        .expect("runs")
}

#[test]
fn dash_is_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.txt", "clean");
    let output = scour()
        .env(SECRET_ENV, "a-revoked-token-123")
        .args([
            "scan",
            "--secret-env",
            SECRET_ENV,
            "--format",
            "json",
            "-o",
            "-",
        ])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).expect("report on stdout");
    assert_eq!(report["verdict"], "absent");
    assert!(!dir.path().join("-").exists());
}

#[test]
fn a_link_stays_a_link_and_its_target_gets_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    write(&root, "a.txt", "clean");
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    let target = reports.join("2026-12.json");
    std::fs::write(&target, "last month").expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o604)).expect("chmod");
    let link = reports.join("latest.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let output = run_to(&link, &root);
    assert_eq!(output.status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    let report: Value =
        serde_json::from_slice(&std::fs::read(&target).expect("read")).expect("json");
    assert_eq!(report["verdict"], "absent");
    assert_eq!(
        std::fs::metadata(&target).expect("stat").mode() & 0o777,
        0o604
    );
}

#[test]
fn special_files_are_written_in_place_never_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    write(&root, "a.txt", "clean");
    // As root, a device node of our own (the null device's numbers), so this test never
    // depends on, nor risks, the machine's /dev/null.
    let device = dir.path().join("null");
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    let device = if made {
        device
    } else {
        Path::new("/dev/null").to_path_buf()
    };
    assert!(
        std::fs::metadata(&device)
            .expect("stat")
            .file_type()
            .is_char_device(),
        "{} is a device before the scan",
        device.display()
    );
    let output = run_to(&device, &root);
    assert_eq!(output.status.code(), Some(0));
    let after = std::fs::metadata(&device).expect("stat");
    assert!(
        after.file_type().is_char_device(),
        "{} is still a device",
        device.display()
    );

    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(reader_path).expect("read fifo"));
    let output = run_to(&fifo, &root);
    assert_eq!(output.status.code(), Some(0));
    let received = reader.join().expect("reader");
    let report: Value = serde_json::from_slice(&received).expect("report through the fifo");
    assert_eq!(report["verdict"], "absent");
    assert!(std::fs::symlink_metadata(&fifo)
        .expect("stat")
        .file_type()
        .is_fifo());
}

#[test]
fn a_missing_directory_fails_before_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = scour()
        // No secret is given: the -o check must come first, so no prompt and no scan.
        .args(["scan", "-o"])
        .arg(dir.path().join("no/such/dir/report.json"))
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mkdir -p"), "{stderr}");
}

#[test]
fn a_killed_writers_temporary_file_is_skipped_and_cleaned_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "a-revoked-token-123";
    // What a scour killed mid-write leaves: part of a report, here made to hold the secret
    // so that reading it as data would show.
    let stale = write(
        dir.path(),
        ".scour-tmp-2147483647-0123456789abcdef",
        format!("{{\"half\": \"{secret}"),
    );
    let output = run_to(&dir.path().join("report.json"), dir.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).expect("read"))
            .expect("json");
    assert_eq!(
        report["coverage"]["roots"][0]["skipped"]["scour-temp-file"]["count"],
        1
    );
    assert!(!stale.exists(), "the stale temporary file was removed");
}
