//! What a content digest costs a scan: the scan of a stream, the SHA-256 of the same bytes
//! as a file (positional reads, as a file given as PATH is hashed beside its scan), and
//! SHA-256 alone in memory.
//!
//! `cargo bench --bench digest`; the figures in docs/evidence.md come from here.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;

use scour::evidence::subjects::digest_of_file;
use scour::matcher::{Matcher, ScanBuffer};
use scour::secret::Secret;
use sha2::Digest;

fn data() -> Vec<u8> {
    // Text-like bytes: lines of words and digits, no secret.
    let line = b"2026-11-30T11:02:43Z INFO build step 42 finished in 1.25s status=ok\n";
    line.iter().cycle().take(64 << 20).copied().collect()
}

fn digest_cost(c: &mut Criterion) {
    let data = data();
    let secret = Secret::new(b"sk_live_51HxYzAbCdEfGhIjKlMnOp".to_vec(), "bench").unwrap();
    let matcher = Matcher::new(&[secret]).unwrap();
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("scan", |b| {
        let mut buffer = ScanBuffer::new();
        b.iter(|| {
            matcher
                .scan_reader(&data[..], &mut buffer, &mut |_| {})
                .bytes
        })
    });
    let mut file = tempfile::tempfile().expect("a temp file");
    file.write_all(&data).expect("written");
    group.bench_function("sha256 of the file", |b| {
        b.iter(|| digest_of_file(&file, data.len() as u64).expect("read"))
    });
    group.bench_function("sha256", |b| b.iter(|| sha2::Sha256::digest(&data)));
    group.finish();
}

criterion_group!(benches, digest_cost);
criterion_main!(benches);
