//! Text an archive keeps beside its members' bytes: zip archive and member comments, and
//! the PAX records of a tar member (extended attributes kept by `tar --xattrs`, vendor
//! keys). Each sample is made by the real tool, and the secret is only there: a scan that
//! read members alone would say `absent`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{random_token, scan, write};

fn run(command: &mut Command, input: &[u8]) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool runs (.ci/run installs it)");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("write to the tool");
    let output = child.wait_with_output().expect("the tool ends");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The scan found the secret once, at a chain ending in `chain_end`, with no gap.
fn assert_found_at(dir: &Path, secret: &[u8], chain_end: &str) {
    let result = scan(secret, &[dir]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let places = result.places();
    assert_eq!(places.len(), 1, "{:?}", result.findings());
    assert!(
        places[0].0.ends_with(chain_end),
        "{} should end with {chain_end}",
        places[0].0
    );
    result.assert_no_leak(secret);
}

/// `release.zip` holding one member, `notes.txt`, made by `zip`; the file itself removed.
fn release_zip(dir: &Path) {
    write(dir, "notes.txt", b"nothing here\n");
    run(
        Command::new("zip")
            .current_dir(dir)
            .args(["-q", "release.zip", "notes.txt"]),
        b"",
    );
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
}

#[test]
fn a_zip_archive_comment_is_scanned() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    release_zip(dir.path());
    let mut comment = b"built by ci, deploy key ".to_vec();
    comment.extend_from_slice(&secret);
    comment.push(b'\n');
    run(
        Command::new("zip")
            .current_dir(dir.path())
            .args(["-q", "-z", "release.zip"]),
        &comment,
    );
    assert_found_at(dir.path(), &secret, "zip comment");
}

#[test]
fn a_zip_member_comment_is_scanned() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    release_zip(dir.path());
    let mut comment = secret.clone();
    comment.push(b'\n');
    run(
        Command::new("zip")
            .current_dir(dir.path())
            .args(["-q", "-c", "release.zip", "notes.txt"]),
        &comment,
    );
    assert_found_at(dir.path(), &secret, "notes.txt!zip comment");
}

/// Python's tarfile writes the member's PAX records as `tar --xattrs --format=pax` does.
fn tar_with_pax_records(dir: &Path, records: &[(&str, &str)], name: &str) {
    let records: Vec<String> = records
        .iter()
        .map(|(key, value)| format!("{key:?}: {value:?}"))
        .collect();
    let script = format!(
        "import io, tarfile\n\
         t = tarfile.open('backup.tar', 'w', format=tarfile.PAX_FORMAT)\n\
         info = tarfile.TarInfo({name:?})\n\
         data = b'hello\\n'\n\
         info.size = len(data)\n\
         info.pax_headers = {{{}}}\n\
         t.addfile(info, io.BytesIO(data))\n\
         t.close()\n",
        records.join(", ")
    );
    run(
        Command::new("python3")
            .current_dir(dir)
            .args(["-c", &script]),
        b"",
    );
}

#[test]
fn an_extended_attribute_in_a_tar_pax_record_is_scanned() {
    let secret = random_token(32);
    let value = String::from_utf8(secret.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    tar_with_pax_records(
        dir.path(),
        &[("SCHILY.xattr.user.deploy_token", &value)],
        "etc/app.conf",
    );
    assert_found_at(
        dir.path(),
        &secret,
        "etc/app.conf!pax SCHILY.xattr.user.deploy_token",
    );
}

#[test]
fn a_name_in_a_tar_pax_path_record_is_reported_once_as_a_name() {
    let secret = random_token(32);
    let name = format!(
        "{}/{}.txt",
        "d".repeat(120),
        String::from_utf8_lossy(&secret)
    );
    let dir = tempfile::tempdir().unwrap();
    tar_with_pax_records(dir.path(), &[("comment", "nightly")], &name);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.findings().len(), 1, "{:?}", result.findings());
    assert_eq!(result.findings()[0]["location"]["in"], "name");
    result.assert_no_leak(&secret);
}

/// `gzip` keeps the original file name in the header (FNAME) by default: a file named after
/// the secret and compressed leaves the name behind in the `.gz`.
#[test]
fn the_original_name_in_a_gzip_header_is_checked() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let name = format!("token-{}.txt", String::from_utf8_lossy(&secret));
    write(dir.path(), &name, b"rotated on monday\n");
    let mut gzip = Command::new("sh");
    gzip.current_dir(dir.path()).args([
        "-c",
        &format!("gzip -N -c '{name}' > backup.gz && rm '{name}'"),
    ]);
    run(&mut gzip, b"");
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.findings().len(), 1, "{:?}", result.findings());
    assert_eq!(result.findings()[0]["location"]["in"], "gzip-name");
    result.assert_no_leak(&secret);
}
