//! Hostile or unusual repositories never abort the sweep: each problem is a gap naming the
//! unit, memory stays bounded, and no panic reaches the user (exit codes stay 0/1/2/3).

mod common;
mod git_support;

use std::io::Write;
use std::path::Path;

use common::{random_token, scan};
use git_support::*;
use sha1::{Digest, Sha1};

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn object_id(kind: &str, content: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(format!("{kind} {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.finalize().into()
}

/// Writes a loose object into `git_dir` and returns its id.
fn write_loose(git_dir: &Path, kind: &str, content: &[u8]) -> [u8; 20] {
    let id = object_id(kind, content);
    let hex = hex::encode(id);
    let dir = git_dir.join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    let mut raw = format!("{kind} {}\0", content.len()).into_bytes();
    raw.extend_from_slice(content);
    std::fs::write(dir.join(&hex[2..]), zlib(&raw)).unwrap();
    id
}

/// A pack entry header: type and size.
fn entry_header(kind: u8, mut size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = (kind << 4) | (size & 0x0F) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7F) as u8;
        size >>= 7;
    }
    out.push(byte);
    out
}

fn delta_size(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Writes a pack of `entries` (raw entry bytes, with the id the index gives each) and its
/// version 2 index into a bare repository's `objects/pack`.
fn write_pack(git_dir: &Path, entries: &[([u8; 20], Vec<u8>)]) {
    let mut pack = b"PACK".to_vec();
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    let mut listed: Vec<([u8; 20], u32, u32)> = Vec::new();
    for (id, bytes) in entries {
        listed.push((*id, crc32(bytes), pack.len() as u32));
        pack.extend_from_slice(bytes);
    }
    let checksum: [u8; 20] = Sha1::digest(&pack).into();
    pack.extend_from_slice(&checksum);
    listed.sort();
    let mut index = b"\xfftOc".to_vec();
    index.extend_from_slice(&2u32.to_be_bytes());
    for first in 0..256usize {
        let count = listed
            .iter()
            .filter(|(id, _, _)| usize::from(id[0]) <= first)
            .count();
        index.extend_from_slice(&(count as u32).to_be_bytes());
    }
    for (id, _, _) in &listed {
        index.extend_from_slice(id);
    }
    for (_, crc, _) in &listed {
        index.extend_from_slice(&crc.to_be_bytes());
    }
    for (_, _, offset) in &listed {
        index.extend_from_slice(&offset.to_be_bytes());
    }
    index.extend_from_slice(&checksum);
    let own: [u8; 20] = Sha1::digest(&index).into();
    index.extend_from_slice(&own);
    let name = hex::encode(checksum);
    let dir = git_dir.join("objects/pack");
    std::fs::write(dir.join(format!("pack-{name}.pack")), pack).unwrap();
    std::fs::write(dir.join(format!("pack-{name}.idx")), index).unwrap();
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn bare(dir: &Path) -> std::path::PathBuf {
    let git_dir = dir.join("hostile.git");
    git(dir, &["init", "-q", "--bare", "hostile.git"]);
    git_dir
}

fn assert_contained(result: &common::Scan) {
    let stderr = String::from_utf8_lossy(&result.output.stderr);
    assert!(
        !stderr.contains("panicked at"),
        "no panic text reaches the user: {stderr}"
    );
    assert_ne!(result.code(), 101, "{stderr}");
    assert!(!result.report.is_null(), "a report is written: {stderr}");
}

#[test]
fn a_sha256_repository_is_an_unsupported_gap_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "--object-format=sha256"]);
    let secret = random_token(32);
    commit_file(&work, "k.txt", &secret, "k");
    git(&work, &["rm", "-q", "k.txt"]);
    git(&work, &["commit", "-qm", "rm"]);
    git(&work, &["gc", "-q"]);
    let result = scan(&secret, &[&work]);
    assert_contained(&result);
    assert_eq!(result.code(), 3);
    assert_eq!(result.verdict(), "incomplete");
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|g| g["kind"] == "unsupported"
            && g["reason"].as_str().unwrap_or_default().contains("sha256")),
        "{gaps:?}"
    );
}

#[test]
fn a_self_referencing_delta_is_a_gap_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = bare(dir.path());
    // A REF_DELTA whose base is the id the index gives the delta itself: 67 bytes of pack.
    let itself = [0x12u8; 20];
    let mut delta = delta_size(10);
    delta.extend(delta_size(20));
    delta.extend([0x91, 0, 10, 0x91, 0, 10]);
    let mut entry = entry_header(7, delta.len());
    entry.extend_from_slice(&itself);
    entry.extend(zlib(&delta));
    write_pack(&git_dir, &[(itself, entry)]);
    let secret = random_token(32);
    let result = scan(&secret, &[&git_dir]);
    assert_contained(&result);
    assert_eq!(result.verdict(), "incomplete");
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|g| g["kind"] == "unreadable-object"
            && g["reason"].as_str().unwrap_or_default().contains("loops")),
        "{gaps:?}"
    );
}

#[test]
fn a_corrupt_delta_is_a_gap_and_the_other_objects_are_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = bare(dir.path());
    let secret = random_token(32);
    let mut base = b"token=".to_vec();
    base.extend_from_slice(&secret);
    let base_id = object_id("blob", &base);
    let mut base_entry = entry_header(3, base.len());
    base_entry.extend(zlib(&base));
    // OFS_DELTA on the base whose copy instruction reads far past the base's end.
    let mut delta = delta_size(base.len());
    delta.extend(delta_size(1000));
    delta.extend([0x80 | 0x01 | 0x10, 0xF0, 0xE8]);
    let mut delta_entry = entry_header(6, delta.len());
    let distance = 12 + base_entry.len() - 12;
    delta_entry.push(distance as u8);
    delta_entry.extend(zlib(&delta));
    assert!(distance < 128);
    let broken_id = [0xABu8; 20];
    write_pack(&git_dir, &[(base_id, base_entry), (broken_id, delta_entry)]);
    let result = scan(&secret, &[&git_dir]);
    assert_contained(&result);
    assert_eq!(result.verdict(), "found", "the base blob is still read");
    let broken = hex::encode(broken_id);
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|g| strings(&g["chain"]).contains(&broken)),
        "the broken delta is a gap naming it: {gaps:?}"
    );
}

#[test]
fn a_damaged_index_offset_never_aborts_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let secret = random_token(32);
    for i in 0..5 {
        commit_file(
            &work,
            &format!("f{i}.txt"),
            format!("file {i}\n").as_bytes(),
            "f",
        );
    }
    git(&work, &["gc", "-q"]);
    let pack_dir = work.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let mut bytes = std::fs::read(&idx).unwrap();
    let count = u32::from_be_bytes(bytes[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let offsets = 8 + 256 * 4 + count * 24;
    let pack_len = std::fs::metadata(idx.with_extension("pack")).unwrap().len() as u32;
    for (i, value) in [pack_len - 21, 0x7FFF_FFFF, 5].iter().enumerate() {
        bytes[offsets + i * 4..offsets + i * 4 + 4].copy_from_slice(&value.to_be_bytes());
    }
    let mut perms = std::fs::metadata(&idx).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&idx, perms).unwrap();
    std::fs::write(&idx, bytes).unwrap();
    let result = scan(&secret, &[&work]);
    assert_contained(&result);
    assert_eq!(result.code(), 3, "incomplete, not a crash");
    assert_eq!(result.verdict(), "incomplete");
}

#[test]
fn a_tree_4000_levels_deep_is_attributed_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let git_dir = work.join(".git");
    let secret = random_token(32);
    let blob = write_loose(&git_dir, "blob", &secret);
    let mut entry = b"100644 leak.txt\0".to_vec();
    entry.extend_from_slice(&blob);
    let mut tree = write_loose(&git_dir, "tree", &entry);
    for _ in 0..4000 {
        let mut entry = b"40000 d\0".to_vec();
        entry.extend_from_slice(&tree);
        tree = write_loose(&git_dir, "tree", &entry);
    }
    let commit = git(&work, &["commit-tree", &hex::encode(tree), "-m", "deep"]);
    git(&work, &["update-ref", "refs/heads/deep", &commit]);
    let result = scan(&secret, &[&work]);
    assert_contained(&result);
    assert_eq!(result.verdict(), "found");
    let found = git_findings(&result.report);
    let path = found[0]["git"]["commits"][0]["path"].as_str().unwrap();
    assert_eq!(path, format!("{}leak.txt", "d/".repeat(4000)));
}

#[test]
fn a_loose_object_inflating_far_beyond_its_size_is_streamed_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let secret = random_token(32);
    let mut content = vec![0u8; 300 << 20];
    let at = content.len() - secret.len() - 1;
    content[at..at + secret.len()].copy_from_slice(&secret);
    write_loose(&work.join(".git"), "blob", &content);
    drop(content);
    let (report, rss_kib) = scan_measuring_rss(&secret, &work);
    assert_eq!(report["verdict"], "found");
    assert_eq!(git_findings(&report)[0]["location"]["offset"], at as u64);
    // The object is 300 MiB inflated; the scan must not hold it whole.
    assert!(
        rss_kib < 150 * 1024,
        "peak RSS of the scan {rss_kib} KiB: the blob was held whole"
    );
}

/// Runs a JSON scan of `path` and returns its report and the scan process's own peak RSS.
fn scan_measuring_rss(secret: &[u8], path: &Path) -> (serde_json::Value, i64) {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, secret).unwrap();
    let report_path = dir.path().join("report.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("scour"))
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--format", "json", "--quiet", "--output"])
        .arg(&report_path)
        .arg(path)
        .spawn()
        .unwrap();
    // The child's own high-water mark, sampled while it runs (rusage would count the pages
    // of this test process shared at fork).
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0i64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
                let kib: i64 = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                peak_kib = peak_kib.max(kib);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let report = serde_json::from_slice(&std::fs::read(report_path).unwrap()).unwrap();
    (report, peak_kib)
}
