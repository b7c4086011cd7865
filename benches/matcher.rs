//! Matcher throughput: two secrets (a token and a password with punctuation and a space)
//! with every variant of every encoding compiled into one automaton, over text, random
//! binary and zero-filled data, in memory and streamed through the scan window.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scour::matcher::{Matcher, ScanBuffer};
use scour::secret::Secret;

const SIZE: usize = 64 << 20;

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut text = Vec::with_capacity(SIZE);
    let mut i = 0u64;
    while text.len() < SIZE {
        text.extend_from_slice(
            format!("2025-04-07T12:57:{:02}.2904078Z INFO request id={i:016x} path=/api/v1/items?page={} status=200 bytes={}\n", i % 60, i % 97, i * 7 % 4096)
                .as_bytes(),
        );
        i += 1;
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let random = (0..SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    vec![
        ("text", text),
        ("random", random),
        ("zeros", vec![0u8; SIZE]),
    ]
}

fn matcher() -> Matcher {
    let secrets = [
        Secret::new(b"ghp_R4nd0mT0k3nV4lu3F0rB3nchm4rk1ng00".to_vec(), "bench").unwrap(),
        Secret::new(b"bench-Pass/+= &%\"word9".to_vec(), "bench").unwrap(),
    ];
    Matcher::new(&secrets).unwrap()
}

fn bench(c: &mut Criterion) {
    let matcher = matcher();
    let mut group = c.benchmark_group("matcher");
    group.sample_size(10);
    for (name, data) in inputs() {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("slice", name), &data, |b, data| {
            b.iter(|| matcher.scan_slice(data).len())
        });
        let mut buffer = ScanBuffer::new();
        group.bench_with_input(BenchmarkId::new("stream", name), &data, |b, data| {
            b.iter(|| {
                matcher
                    .scan_reader(&data[..], &mut buffer, &mut |_| {})
                    .hits
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
