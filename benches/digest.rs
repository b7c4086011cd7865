//! What a content digest costs a scan: the same stream scanned with and without SHA-256
//! computed in the same read (`DigestingReader`), and SHA-256 alone.
//!
//! `cargo bench --bench digest`; the figures in docs/evidence.md come from here.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scour::evidence::subjects::DigestingReader;
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
    group.bench_function("scan+sha256", |b| {
        let mut buffer = ScanBuffer::new();
        b.iter(|| {
            let mut reader = DigestingReader::new(&data[..], true);
            let bytes = matcher
                .scan_reader(&mut reader, &mut buffer, &mut |_| {})
                .bytes;
            (bytes, reader.finish().unwrap())
        })
    });
    group.bench_function("sha256", |b| b.iter(|| sha2::Sha256::digest(&data)));
    group.finish();
}

criterion_group!(benches, digest_cost);
criterion_main!(benches);
