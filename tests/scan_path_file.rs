//! A file given as PATH (a backup, an artifact) is read as a file in a directory is: a zip
//! in place with random access, whatever its size, and its content digest is the SHA-256
//! of its bytes. Reading it as a stream instead held a zip in memory and refused one larger
//! than `--archive-max-buffer` (nothing scanned, `incomplete`).

mod common;

use std::io::Write;

use common::{random_token, scan_with_secrets};
use sha2::{Digest, Sha256};

/// Log-like text, not compressible to nothing and not high-entropy.
fn filler(lines: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(lines * 48);
    for _ in 0..lines {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        writeln!(
            out,
            "GET /api/v1/items/{} 200 {}ms",
            state >> 40,
            state % 997
        )
        .unwrap();
    }
    out
}

/// A stored (uncompressed) zip made by Info-ZIP `zip -0`, with the secret in its last
/// member, after a script prefix (as a zipapp is).
fn zip_with_prefix(work: &std::path::Path, secret: &[u8], members: usize) -> Vec<u8> {
    let tree = work.join("tree");
    for i in 0..members {
        common::write(
            &tree,
            &format!("logs/part{i}.log"),
            filler(40_000, i as u64),
        );
    }
    common::write(&tree, "app/.env", [b"API_TOKEN=", secret, b"\n"].concat());
    let status = std::process::Command::new("zip")
        .args(["-q", "-0", "-r", "../app.zip", "logs", "app"])
        .current_dir(&tree)
        .status()
        .expect("zip");
    assert!(status.success());
    let mut file = b"#!/usr/bin/env python3\n".to_vec();
    file.extend_from_slice(&std::fs::read(work.join("app.zip")).unwrap());
    file
}

fn assert_content_digest(scan: &common::Scan, path: &std::path::Path) {
    let report: serde_json::Value = serde_json::from_slice(&scan.report_bytes).unwrap();
    let expected = hex::encode(Sha256::digest(std::fs::read(path).unwrap()));
    let root = &report["coverage"]["roots"][0];
    assert_eq!(root["digest"]["binds"], "content");
    assert_eq!(root["digest"]["sha256"], expected.as_str());
}

#[test]
fn a_zip_larger_than_the_buffer_limit_given_as_path_is_read_in_place() {
    if !common::have_tool("zip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let bytes = zip_with_prefix(dir.path(), &secret, 4);
    assert!(bytes.len() > 4 << 20);
    let path = dir.path().join("release.pyz");
    std::fs::write(&path, &bytes).unwrap();

    let scan = scan_with_secrets(&[&secret], &[&path], &["--archive-max-buffer", "1M"]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    assert!(scan.gaps().is_empty(), "{:?}", scan.gaps());
    assert!(
        scan.places()
            .iter()
            .any(|(place, _)| place.contains("release.pyz!zip@") && place.ends_with("!app/.env")),
        "{:?}",
        scan.places()
    );
    scan.assert_no_leak(&secret);
    assert_content_digest(&scan, &path);
}

/// Past the size hashed after the scan, the digest is taken on a second thread while the
/// scan reads: both must still cover every byte.
#[test]
fn a_large_file_given_as_path_is_scanned_and_hashed_in_one_pass_of_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let path = dir.path().join("server.log");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let block = filler(50_000, 7);
    let mut written = 0;
    while written < 70 << 20 {
        file.write_all(&block).unwrap();
        written += block.len();
    }
    file.write_all(b"password=").unwrap();
    file.write_all(&secret).unwrap();
    file.write_all(b"\n").unwrap();
    drop(file);

    let scan = scan_with_secrets(&[&secret], &[&path], &[]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    assert_eq!(scan.findings().len(), 1);
    assert_content_digest(&scan, &path);
}
