//! Matcher throughput: two secrets (a token and a password with punctuation and a space)
//! with every variant of every encoding compiled into one automaton, over text, random
//! binary and zero-filled data, in memory and streamed through the scan window; and the
//! throughput as the number of secrets grows (1, 10, 100, 1,000 random 32-byte tokens, about
//! 74 patterns each), which guards against the cliffs where the Teddy prefilter and the DFA
//! give out (`matcher_by_secrets`). Run briefly: `cargo bench --bench matcher -- --quick`.

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

/// `count` random 32-byte alphanumeric tokens (fixed seed).
fn random_secrets(count: usize) -> Vec<Secret> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = 0x853C_49E6_748F_EA9Bu64;
    (0..count)
        .map(|_| {
            let token = (0..32)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALNUM[(state % ALNUM.len() as u64) as usize]
                })
                .collect();
            Secret::new(token, "bench").unwrap()
        })
        .collect()
}

fn bench_by_secret_count(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("matcher_by_secrets");
    group.sample_size(10);
    for count in [1, 10, 100, 1000] {
        let matcher = Matcher::new(&random_secrets(count)).unwrap();
        for (name, data) in &inputs {
            let data = &data[..16 << 20];
            group.throughput(Throughput::Bytes(data.len() as u64));
            let id = BenchmarkId::new(format!("{count}_secrets"), name);
            group.bench_with_input(id, data, |b, data| {
                b.iter(|| matcher.scan_slice(data).len())
            });
        }
    }
    group.finish();
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

criterion_group!(benches, bench, bench_by_secret_count);
criterion_main!(benches);
