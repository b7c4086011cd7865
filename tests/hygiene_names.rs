//! Names are content, and nothing scour writes holds a secret: a secret in a file, directory
//! or member name, a symlink target, a git ref name or an extended attribute is a finding
//! that says it is in a name, and no 8-byte piece of it appears in any report format, the
//! signed envelope, stdout or stderr, even when a library's error message quotes it.

mod common;
mod evidence_support;
mod git_support;

use std::path::Path;
use std::process::Command;

use common::{assert_no_window, random_token, scan_with_secrets, scour, write, Scan};
use evidence_support::{keygen, B64};
use serde_json::Value;

/// Runs the scan in JSON (checked and returned), text, SARIF and signed forms, asserting
/// that none of them, nor stdout or stderr, holds an 8-byte piece of `secret`.
fn scan_every_format(secret: &[u8], root: &Path) -> Scan {
    let json = scan_with_secrets(&[secret], &[root], &[]);
    json.assert_no_leak(secret);
    for format in ["text", "sarif"] {
        let other = scan_with_secrets(&[secret], &[root], &["--format", format]);
        other.assert_no_leak(secret);
        assert_eq!(other.code(), json.code(), "{format} exits like json");
    }
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys = keygen(keys_dir.path(), "signer");
    let signed = scan_with_secrets(
        &[secret],
        &[root],
        &["--sign-key", keys.private.to_str().expect("utf-8 path")],
    );
    signed.assert_no_leak(secret);
    let envelope: Value = serde_json::from_slice(&signed.report_bytes).expect("envelope");
    use base64::Engine;
    let payload = B64
        .decode(envelope["payload"].as_str().expect("payload"))
        .expect("base64 payload");
    assert_no_window(&payload, secret, "signed payload");
    json
}

fn findings_in<'a>(scan: &'a Scan, within: &str) -> Vec<&'a Value> {
    scan.findings()
        .iter()
        .filter(|f| f["location"]["in"] == within)
        .collect()
}

fn secret_text(len: usize) -> String {
    String::from_utf8(random_token(len)).expect("ascii")
}

#[test]
fn file_and_directory_names_are_findings_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(32);
    write(dir.path(), &format!("backup-{secret}/notes.txt"), "clean");
    write(dir.path(), &format!("key={secret}.txt"), "clean");
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    let names = findings_in(&scan, "name");
    assert_eq!(names.len(), 2, "the directory and the file: {names:?}");
    let chains: Vec<String> = names
        .iter()
        .map(|f| {
            f["location"]["chain"][0]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        chains.iter().all(|c| c.contains("[REDACTED:")),
        "{chains:?}"
    );
}

#[test]
fn a_symlink_target_is_read_never_followed_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(28);
    std::os::unix::fs::symlink(format!("/nonexistent/{secret}"), dir.path().join("link"))
        .expect("symlink");
    // A link named with the secret is listed among skipped links: redacted there too.
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join(format!("{secret}.lnk")))
        .expect("symlink");
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    assert_eq!(findings_in(&scan, "symlink-target").len(), 1);
    assert_eq!(findings_in(&scan, "name").len(), 1);
    let examples = &scan.report["coverage"]["roots"][0]["skipped"]["symlink"]["examples"];
    assert_eq!(examples.as_array().map(Vec::len), Some(2), "{examples}");
}

#[test]
fn extended_attributes_are_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(24);
    let file = write(dir.path(), "plain.txt", "clean");
    if let Err(error) = xattr::set(&file, "user.token", secret.as_bytes()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "the test directory needs user extended attributes: {error}"
        );
        eprintln!("skipped: no user extended attributes here ({error})");
        return;
    }
    xattr::set(&file, format!("user.{secret}"), b"x").expect("second attribute");
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    assert_eq!(findings_in(&scan, "xattr:user.token").len(), 1);
    assert_eq!(findings_in(&scan, "xattr-name").len(), 1);
}

#[test]
fn archive_member_names_are_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(30);
    let staging = tempfile::tempdir().expect("tempdir");
    write(staging.path(), &format!("conf/{secret}.pem"), "clean");
    let tarball = dir.path().join("backup.tar.gz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(staging.path())
        .arg("conf")
        .status()
        .expect("tar runs");
    assert!(status.success());
    let bytes = std::fs::read(&tarball).expect("read");
    assert!(
        memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
        "the name is compressed, so only reading members can find it"
    );
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    let names = findings_in(&scan, "name");
    assert!(
        names
            .iter()
            .any(|f| f["location"]["chain"].as_array().map(Vec::len) == Some(2)),
        "a member-name finding inside the tarball: {names:?}"
    );
}

#[test]
fn git_ref_names_are_findings_and_ref_lists_are_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(26);
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    git_support::git(&repo, &["init", "-q"]);
    write(&repo, "a.txt", "clean");
    git_support::git(&repo, &["add", "a.txt"]);
    git_support::git(&repo, &["commit", "-q", "-m", "clean"]);
    git_support::git(&repo, &["branch", &format!("fix-{secret}")]);
    // Packed, so the name is not a file name in the work tree's .git any more.
    git_support::git(&repo, &["pack-refs", "--all"]);
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    assert_eq!(findings_in(&scan, "ref-name").len(), 1);
}

/// A tar header whose size field holds non-digits: the tar library's error quotes the
/// field, which here holds 11 bytes of the secret, and the member's name (the whole secret).
fn damaged_tar(secret: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..secret.len()].copy_from_slice(secret);
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..135].copy_from_slice(&secret[..11]);
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

#[test]
fn a_damaged_tar_quoting_the_secret_leaks_nothing_and_is_not_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = random_token(40);
    let staging = tempfile::tempdir().expect("tempdir");
    let tar = write(staging.path(), "damaged.tar", damaged_tar(&secret));
    // Compressed with the real tool, so the raw secret is not in the file scanned.
    let status = Command::new("gzip")
        .arg("-n")
        .arg(&tar)
        .status()
        .expect("gzip runs");
    assert!(status.success());
    let gz = std::fs::read(staging.path().join("damaged.tar.gz")).expect("read");
    assert!(memchr::memmem::find(&gz, &secret).is_none());
    write(dir.path(), "damaged.tar.gz", &gz);
    let scan = scan_every_format(&secret, dir.path());
    // The library's error quotes the member's name, which is the secret: that is a finding.
    assert_eq!(scan.verdict(), "found", "{}", scan.report);
    assert_eq!(findings_in(&scan, "report-text").len(), 1);
    let gaps = scan.gaps();
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("[REDACTED:")));
}

#[test]
fn ledger_mode_finds_names_by_hash_and_redacts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(36);
    let ledger = dir.path().join("revoked.jsonl");
    let added = scour()
        .args(["ledger", "add", "--ledger"])
        .arg(&ledger)
        .args(["--secret-env", common::SECRET_ENV])
        .env(common::SECRET_ENV, &secret)
        .output()
        .expect("ledger add");
    assert!(added.status.success(), "{added:?}");
    let root = dir.path().join("root");
    write(&root, &format!("{secret}/a.txt"), "clean");
    let report_path = dir.path().join("report.json");
    let output = scour()
        .args(["scan", "--ledger"])
        .arg(&ledger)
        .args(["--format", "text", "-o"])
        .arg(&report_path)
        .arg(&root)
        .output()
        .expect("scan");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = std::fs::read(&report_path).expect("report");
    assert_no_window(&report, secret.as_bytes(), "text report");
    assert_no_window(&output.stderr, secret.as_bytes(), "stderr");
    assert!(String::from_utf8_lossy(&report).contains("(name)"));
}

#[test]
fn errors_on_stderr_are_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(30);
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).expect("write");
    let missing = dir.path().join(format!("no-such-{secret}"));
    let output = scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .arg(&missing)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_no_window(&output.stderr, secret.as_bytes(), "stderr");
    assert!(String::from_utf8_lossy(&output.stderr).contains("[REDACTED:"));
}

#[test]
fn link_and_directory_members_are_checked_though_never_entered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(30);
    let staging = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(staging.path().join(format!("conf/empty-{secret}"))).expect("mkdir");
    std::os::unix::fs::symlink(
        format!("/run/{secret}"),
        staging.path().join("conf/current"),
    )
    .expect("symlink");
    let tarball = dir.path().join("backup.tgz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(staging.path())
        .arg("conf")
        .status()
        .expect("tar runs");
    assert!(status.success());
    let bytes = std::fs::read(&tarball).expect("read");
    assert!(memchr::memmem::find(&bytes, secret.as_bytes()).is_none());
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found");
    assert_eq!(findings_in(&scan, "symlink-target").len(), 1);
    assert_eq!(findings_in(&scan, "name").len(), 1, "the empty directory");
}

/// A zip stores a symbolic link (`zip -y`) as a member whose mode says `S_IFLNK` and whose
/// content is the link's target: that target is a name, so a secret in it is a finding
/// (`location.in: symlink-target`), redacted in every format, and the link is never entered.
#[test]
fn a_zip_symlink_members_target_is_a_name_and_never_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = secret_text(30);
    let staging = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(staging.path().join("app")).expect("mkdir");
    std::fs::write(staging.path().join("app/readme.txt"), b"nothing here\n").expect("write");
    // Base64 of the secret in the target: the raw secret is nowhere in the zip.
    let encoded = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&secret)
    };
    std::os::unix::fs::symlink(
        format!("/srv/keys/{encoded}.pem"),
        staging.path().join("app/current-key"),
    )
    .expect("symlink");
    let archive = dir.path().join("bundle.zip");
    let status = Command::new("zip")
        .arg("-q")
        .arg("-y")
        .arg("-r")
        .arg(&archive)
        .arg("app")
        .current_dir(staging.path())
        .status()
        .expect("zip runs");
    assert!(status.success());
    let bytes = std::fs::read(&archive).expect("read");
    assert!(memchr::memmem::find(&bytes, secret.as_bytes()).is_none());
    let scan = scan_every_format(secret.as_bytes(), dir.path());
    assert_eq!(scan.verdict(), "found", "{:?}", scan.report["coverage"]);
    let in_target = findings_in(&scan, "symlink-target");
    assert_eq!(in_target.len(), 1, "{:?}", scan.findings());
    let chain = in_target[0]["location"]["chain"].as_array().expect("chain");
    assert!(chain[1]
        .as_str()
        .unwrap_or_default()
        .ends_with("app/current-key"));
    let skipped = &scan.report["coverage"]["roots"][0]["skipped"]["symlink"];
    assert_eq!(skipped["count"].as_u64(), Some(1), "{skipped:?}");
}
