//! A large generated `.tar.gz` is scanned in bounded memory: nothing is extracted and the
//! archive is never held whole. The tarball is generated as a stream into a temp file.
//!
//! The always-run variant expands to about 256 MiB; the `#[ignore]`d one to 2 GiB
//! (`cargo test --release --test archive_memory -- --ignored`).

mod common;

use std::fs::File;
use std::io::{BufWriter, Read, Write};

use common::{random_token, scan_with_secrets};

/// Log-like lines from a cheap generator: compressible like real logs (about 4:1), never
/// a bomb.
struct Lines {
    state: u64,
    left: u64,
    pending: Vec<u8>,
}

impl Read for Lines {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            if self.left == 0 {
                return Ok(0);
            }
            for _ in 0..1024 {
                self.state = self
                    .state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let line = format!(
                    "{:016x} GET /api/v1/items/{} 200 {}ms\n",
                    self.state,
                    self.state >> 40,
                    self.state % 997
                );
                self.pending.extend_from_slice(line.as_bytes());
            }
            let take = (self.pending.len() as u64).min(self.left) as usize;
            self.pending.truncate(take);
            self.left -= take as u64;
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

fn child_max_rss_kib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

fn scan_generated(size: u64) {
    let first = random_token(32);
    let last = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-backup.tar.gz");
    let file = BufWriter::new(File::create(&path).unwrap());
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    let mut head = b"begin\nkey=".to_vec();
    head.extend_from_slice(&first);
    head.push(b'\n');
    let mut header = tar::Header::new_gnu();
    header.set_size(size + head.len() as u64);
    header.set_cksum();
    let body = Lines {
        state: 7,
        left: size,
        pending: Vec::new(),
    };
    builder
        .append_data(&mut header, "var/log/huge.log", head.as_slice().chain(body))
        .unwrap();
    let tail = [b"token=".as_slice(), &last, b"\n"].concat();
    let mut header = tar::Header::new_gnu();
    header.set_size(tail.len() as u64);
    header.set_cksum();
    builder
        .append_data(&mut header, "etc/after.env", &tail[..])
        .unwrap();
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
    let compressed = std::fs::metadata(&path).unwrap().len();

    let result = scan_with_secrets(&[&first, &last], &[dir.path()], &["--threads", "1"]);
    let rss_mib = child_max_rss_kib() / 1024;
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    assert_eq!(places.len(), 2, "{places:?}");
    assert!(places[0].0.ends_with("huge-backup.tar.gz!etc/after.env"));
    assert!(places[1].0.ends_with("huge-backup.tar.gz!var/log/huge.log"));
    let archive = &result.report["coverage"]["roots"][0]["archives"][0];
    assert!(archive["expanded_bytes"].as_u64().unwrap() > size);
    eprintln!(
        "expanded {} MiB from {} MiB; peak RSS of the scan {rss_mib} MiB",
        size >> 20,
        compressed >> 20
    );
    assert!(
        rss_mib < 128,
        "peak RSS {rss_mib} MiB for {} MiB expanded",
        size >> 20
    );
    result.assert_no_leak(&first);
    result.assert_no_leak(&last);
}

#[test]
fn a_large_tar_gz_scans_in_bounded_memory() {
    scan_generated(256 << 20);
}

#[test]
#[ignore = "2 GiB; run with --release -- --ignored"]
fn a_multi_gib_tar_gz_scans_in_bounded_memory() {
    scan_generated(2 << 30);
}
