//! Walking real trees: what a person forgot (hidden, gitignored, binary files), positions
//! that trip streaming scanners, special files and links that must never hang or loop the
//! scan, unreadable files that must turn "absent" into "incomplete", and the choices that
//! narrow a scan being recorded.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::{random_token, scan, scan_with_secrets, write};

fn places_of(scan: &common::Scan) -> Vec<String> {
    let mut places: Vec<String> = scan.places().into_iter().map(|(p, _)| p).collect();
    places.sort();
    places
}

fn path_in(dir: &Path, relative: &str) -> String {
    dir.join(relative).to_string_lossy().into_owned()
}

#[test]
fn hidden_gitignored_and_binary_files_are_scanned_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let secret = random_token(36);
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(root, ".gitignore", "*.env\nignored-dir/\n");
    write(root, ".ignore", "also-ignored.txt\n");
    write(root, "prod.env", [b"TOKEN=", &secret[..]].concat());
    write(root, "ignored-dir/deep/x.cfg", &secret);
    write(root, "also-ignored.txt", &secret);
    write(root, ".hidden/.secret", &secret);
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    binary.splice(40_000..40_000, secret.iter().copied());
    write(root, "blob.bin", binary);

    let all = scan(&secret, &[root]);
    assert_eq!(all.code(), 1);
    assert_eq!(
        places_of(&all),
        [
            path_in(root, ".hidden/.secret"),
            path_in(root, "also-ignored.txt"),
            path_in(root, "blob.bin"),
            path_in(root, "ignored-dir/deep/x.cfg"),
            path_in(root, "prod.env"),
        ]
    );
    assert_eq!(all.report["scan"]["respect_gitignore"], false);

    let narrowed = scan_with_secrets(&[&secret], &[root], &["--respect-gitignore"]);
    assert_eq!(
        places_of(&narrowed),
        [path_in(root, ".hidden/.secret"), path_in(root, "blob.bin")]
    );
    assert_eq!(narrowed.report["scan"]["respect_gitignore"], true);
}

#[test]
fn secret_at_byte_zero_at_eof_and_across_read_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let secret = random_token(24);
    write(root, "start", [&secret[..], b" trailing"].concat());
    write(root, "end-no-newline", [b"leading ", &secret[..]].concat());
    write(root, "exact", &secret);
    // The scanner reads 1 MiB at a time: put copies across that boundary and the next.
    let mib = 1 << 20;
    let mut big = vec![b'x'; 3 * mib];
    for at in [mib - 11, 2 * mib - 1, 2 * mib + 500_000] {
        big[at..at + secret.len()].copy_from_slice(&secret);
    }
    write(root, "big", &big);

    let result = scan(&secret, &[root]);
    let mut offsets: Vec<(String, u64)> = result
        .findings()
        .iter()
        .map(|f| {
            (
                f["location"]["chain"][0].as_str().unwrap().to_string(),
                f["location"]["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    offsets.sort();
    let big_path = path_in(root, "big");
    assert_eq!(
        offsets,
        [
            (big_path.clone(), (mib - 11) as u64),
            (big_path.clone(), (2 * mib - 1) as u64),
            (big_path, (2 * mib + 500_000) as u64),
            (path_in(root, "end-no-newline"), 8),
            (path_in(root, "exact"), 0),
            (path_in(root, "start"), 0),
        ]
    );
    assert_eq!(
        result.report["summary"]["bytes_scanned"].as_u64().unwrap(),
        (3 * mib + 24 + 24 + 9 + 8 + 24) as u64
    );
}

#[test]
fn fifo_and_symlink_loop_are_skipped_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let secret = random_token(30);
    write(root, "a/clean.txt", "nothing here\n");
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    std::os::unix::fs::symlink("clean.txt", root.join("a/link-to-file")).unwrap();
    let fifo = root.join("a/pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());

    let secret_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret_file.path(), &secret).unwrap();
    let output = common::scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(secret_file.path())
        .args(["--format", "json"])
        .arg(root)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "the scan must finish, absent"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped = &report["coverage"]["roots"][0]["skipped"];
    assert_eq!(skipped["symlink"]["count"], 2);
    assert_eq!(skipped["special-file"]["count"], 1);
    assert_eq!(report["verdict"], "absent");
    assert_eq!(report["summary"]["files_scanned"], 1);
}

#[test]
fn excluded_paths_are_counted_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let secret = random_token(30);
    write(root, "node_modules/pkg/index.js", &secret);
    write(root, "logs/app.log", &secret);
    write(root, "src/main.rs", "fn main() {}\n");
    let result = scan_with_secrets(
        &[&secret],
        &[root],
        &["--exclude", "node_modules", "--exclude", "*.log"],
    );
    assert_eq!(result.verdict(), "absent");
    let excluded = &result.report["coverage"]["roots"][0]["skipped"]["excluded"];
    assert_eq!(excluded["count"], 2);
    assert_eq!(
        result.report["scan"]["excludes"],
        serde_json::json!(["node_modules", "*.log"])
    );
}

/// The scour binary, run as user `nobody` when the tests run as root (as in CI), since root
/// can read a mode-000 file.
fn unprivileged_scour() -> std::process::Command {
    let binary = assert_cmd::cargo::cargo_bin("scour");
    if unsafe { libc::geteuid() } != 0 {
        return std::process::Command::new(binary);
    }
    let mut command = std::process::Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(binary);
    command
}

#[test]
fn unreadable_file_makes_the_scan_incomplete() {
    let dir = tempfile::Builder::new()
        .prefix("scour-perm")
        .tempdir()
        .unwrap();
    let root = dir.path().join("tree");
    let secret = random_token(30);
    write(&root, "readable.txt", "fine\n");
    let locked = write(&root, "locked/secret.env", [b"T=", &secret[..]].concat());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, &secret).unwrap();
    for path in [dir.path(), root.as_path(), &root.join("locked")] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut command = unprivileged_scour();
    let output = command
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--format", "json"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "incomplete");
    let gaps = report["coverage"]["roots"][0]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["kind"], "permission-denied");
    assert_eq!(gaps[0]["chain"][0], locked.to_string_lossy().as_ref());
    common::assert_no_window(&output.stdout, &secret, "stdout");
    common::assert_no_window(&output.stderr, &secret, "stderr");
}

#[test]
fn unlistable_directory_is_a_gap() {
    let dir = tempfile::Builder::new()
        .prefix("scour-perm")
        .tempdir()
        .unwrap();
    let root = dir.path().join("tree");
    write(&root, "closed/inner.txt", "x\n");
    write(&root, "open.txt", "y\n");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = unprivileged_scour();
    let output = command
        .env(
            common::SECRET_ENV,
            String::from_utf8(random_token(20)).unwrap(),
        )
        .args([
            "scan",
            "--secret-env",
            common::SECRET_ENV,
            "--format",
            "json",
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let gaps = report["coverage"]["roots"][0]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["kind"], "permission-denied");
}

#[test]
fn a_path_given_as_a_link_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    write(dir.path(), "real/a.txt", [b"k=", &secret[..]].concat());
    std::os::unix::fs::symlink("real", dir.path().join("dir-link")).unwrap();
    std::os::unix::fs::symlink("real/a.txt", dir.path().join("file-link")).unwrap();
    for link in ["dir-link", "file-link"] {
        let result = scan(&secret, &[&dir.path().join(link)]);
        assert_eq!(result.verdict(), "found", "{link}");
        assert_eq!(result.report["summary"]["files_scanned"], 1, "{link}");
    }
}
