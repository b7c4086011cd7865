//! Hostile or unusual repositories never abort the sweep: each problem is a gap naming the
//! unit, memory stays bounded, and no panic reaches the user (exit codes stay 0/1/2/3).

mod common;
mod git_support;

use std::path::Path;

use common::{random_token, scan};
use git_support::objects::*;
use git_support::*;

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

/// An inflate bomb: 1.5 GiB of zeros in a loose object of about 1.5 MB. It must be a
/// `limit-exceeded` gap at once (never minutes spent inflating zeros, never `absent`).
#[test]
fn a_loose_object_that_is_an_inflate_bomb_is_a_gap_at_once() {
    use sha1::Digest;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    repo(&work);
    let size: u64 = 3 << 29;
    let header = format!("blob {size}\0");
    let mut id = sha1::Sha1::new();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    id.update(header.as_bytes());
    zlib.write_all(header.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 24];
    for _ in 0..size / zeros.len() as u64 {
        id.update(&zeros);
        zlib.write_all(&zeros).unwrap();
    }
    let compressed = zlib.finish().unwrap();
    let hex: String = id.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let objects = work.join(".git/objects").join(&hex[..2]);
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(objects.join(&hex[2..]), &compressed).unwrap();
    let started = std::time::Instant::now();
    let (report, _) = scan_measuring_rss(&random_token(32), &work);
    assert_eq!(report["verdict"], "incomplete", "{report}");
    let gaps = report["coverage"]["roots"][0]["gaps"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        gaps.iter().any(|g| g["kind"] == "limit-exceeded"
            && g["reason"].as_str().unwrap().contains("inflate bomb")),
        "{gaps:?}"
    );
    assert!(started.elapsed().as_secs() < 30, "the bomb was inflated");
}
