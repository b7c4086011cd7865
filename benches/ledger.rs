//! Hash mode against plaintext mode on the same bytes, and a 100,000-entry ledger against a
//! 1-entry ledger. Run briefly: `cargo bench --bench ledger -- --quick` (timings on a shared
//! machine are only indicative).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use scour::ledger::{CharClass, Entry, Ledger};
use scour::matcher::{Matcher, ScanBuffer};
use scour::rules::RuleSet;
use scour::secret::{Salt, Secret};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn word(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect()
}

/// About `size` bytes shaped like a config/source/log tree: code, assignments, URLs, JSON
/// with escapes, wrapped base64, hashes.
fn corpus(size: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(6);
    let mut out = String::with_capacity(size + 1024);
    while out.len() < size {
        let line = match rng.gen_range(0..10) {
            0 => format!("let {} = compute_{}(&config, {});\n", word(&mut rng, 8), word(&mut rng, 6), rng.gen_range(0..1000)),
            1 => format!("password = \"{}\"\n", word(&mut rng, 14)),
            2 => format!("2026-11-30T12:00:{:02}Z INFO GET https://api.example.com/v1/items?id={}&token={} 200\n", rng.gen_range(0..60), rng.gen_range(0..99999), word(&mut rng, 24)),
            3 => format!("{{\"user\":\"{}\",\"note\":\"line\\nbreak \\u00e9 {}\"}}\n", word(&mut rng, 10), word(&mut rng, 12)),
            4 => format!("{}\n", word(&mut rng, 76)),
            5 => format!("commit {:040x}\n", rng.gen::<u128>()),
            6 => "    // the quick brown fox jumps over the lazy dog, again and again\n".to_string(),
            7 => format!("export API_KEY={}\n", word(&mut rng, 32)),
            8 => format!("  - name: step {}\n    run: cargo test --release -- {}\n", rng.gen_range(0..50), word(&mut rng, 7)),
            _ => format!("fn {}(x: u64) -> u64 {{ x.wrapping_mul({}) }}\n", word(&mut rng, 9), rng.gen::<u32>()),
        };
        out.push_str(&line);
    }
    out.into_bytes()
}

fn ledger(count: usize) -> Ledger {
    let mut rng = StdRng::seed_from_u64(count as u64);
    let salt = Salt([9; 16]);
    let rules = RuleSet::builtin().unwrap();
    let entries = (0..count)
        .map(|n| {
            // Half rule-shaped tokens, half passwords no rule knows, of a few lengths.
            let secret = if n % 2 == 0 {
                format!("ghp_{}", word(&mut rng, 36))
            } else {
                word(&mut rng, 12 + n % 20)
            };
            let bytes = secret.as_bytes();
            Entry {
                id: format!("E{n}"),
                label: None,
                date: "2026-11-30".into(),
                sha256: hex::encode(
                    Sha256::new()
                        .chain_update(salt.0)
                        .chain_update(bytes)
                        .finalize(),
                ),
                length: bytes.len(),
                class: CharClass::of(bytes),
                rule: rules.recognise(bytes).map(|r| rules.get(r).id.clone()),
                prefix: None,
                sieve: None,
            }
        })
        .collect();
    Ledger {
        path: "bench".into(),
        salt,
        entries,
        file_sha256: String::new(),
    }
}

/// Up to `limit` bytes of real files: the crate sources cargo has unpacked on this machine
/// (a tree of code, docs, JSON and test data), one buffer per file.
fn real_tree(limit: usize) -> Vec<Vec<u8>> {
    let Some(home) = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
    else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut total = 0;
    let mut stack = vec![home.join("registry").join("src")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                total += bytes.len();
                files.push(bytes);
                if total >= limit {
                    return files;
                }
            }
        }
    }
    files
}

fn scan(matcher: &Matcher, data: &[u8], buffer: &mut ScanBuffer) -> usize {
    matcher.scan_reader(data, buffer, &mut |_| {}).hits.len()
}

fn bench(c: &mut Criterion) {
    let data = corpus(16 << 20);
    let secret = Secret::new(b"ghp_notInTheCorpusAtAll0123456789abcdef".to_vec(), "bench").unwrap();
    let plaintext = Matcher::new(std::slice::from_ref(&secret)).unwrap();
    let one = Matcher::with_ledger(&[], &ledger(2), RuleSet::builtin().unwrap()).unwrap();
    let many = Matcher::with_ledger(&[], &ledger(100_000), RuleSet::builtin().unwrap()).unwrap();
    let mut group = c.benchmark_group("scan 16 MiB");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    let mut buffer = ScanBuffer::new();
    group.bench_function("plaintext, 1 secret", |b| {
        b.iter(|| scan(&plaintext, &data, &mut buffer))
    });
    group.bench_function("ledger, 2 entries", |b| {
        b.iter(|| scan(&one, &data, &mut buffer))
    });
    group.bench_function("ledger, 100k entries", |b| {
        b.iter(|| scan(&many, &data, &mut buffer))
    });
    group.finish();

    let tree = real_tree(32 << 20);
    let tree_bytes: usize = tree.iter().map(Vec::len).sum();
    if tree_bytes == 0 {
        return;
    }
    let mut group = c.benchmark_group(format!(
        "cargo registry sources, {} files, {} MiB",
        tree.len(),
        tree_bytes >> 20
    ));
    group.throughput(Throughput::Bytes(tree_bytes as u64));
    group.sample_size(10);
    let scan_tree = |matcher: &Matcher, buffer: &mut ScanBuffer| {
        tree.iter()
            .map(|file| scan(matcher, file, buffer))
            .sum::<usize>()
    };
    group.bench_function("plaintext, 1 secret", |b| {
        b.iter(|| scan_tree(&plaintext, &mut buffer))
    });
    group.bench_function("ledger, 2 entries", |b| {
        b.iter(|| scan_tree(&one, &mut buffer))
    });
    group.bench_function("ledger, 100k entries", |b| {
        b.iter(|| scan_tree(&many, &mut buffer))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
