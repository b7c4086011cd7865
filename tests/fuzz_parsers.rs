//! Seeded mutation fuzzing on the stable toolchain (no nightly, so no cargo-fuzz here).
//!
//! Every seed in `fuzz/seeds/` (small real samples made with gzip, tar, zip, ar, xz, zstd,
//! bzip2, git, gpg, brotli, qemu-img, redis, pyarrow and svn: archives, compressed logs,
//! packed and loose git objects, a git index, a CI log with colour codes, OpenPGP messages,
//! a Redis snapshot, a qcow2 image, a v7 tar, a brotli file, a Parquet table, a Subversion
//! revision file) is mutated with a deterministic RNG (bit flips, interesting integers over
//! header fields, inserted, deleted and duplicated ranges, splices
//! of two seeds, truncation) and fed to:
//!
//! - the whole scan pipeline, in process (sniffing, every archive and compression reader,
//!   git pack/delta and loose objects inside archives, the terminal view, plaintext and
//!   ledger matching, and every decode layer in both modes: hash mode decodes single layers
//!   too), as a file in a tree;
//! - the terminal-normalised view and the hash-mode matcher directly, in random chunk sizes.
//!
//! Asserted for every input: no panic, each input done within [`MAX_INPUT_TIME`], and peak
//! RSS below 1 GiB. A failing input is written to `target/fuzz-failures/` and named in the
//! failure, with the seed and iteration, so it can become a regression test.
//!
//! Runs for `SCOUR_FUZZ_SECONDS` seconds (default 6; `.ci/run` gives it more), from
//! `SCOUR_FUZZ_SEED` (default fixed, so a run is reproducible).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use scour::ledger::{CharClass, Entry, Ledger};
use scour::matcher::normalise::TerminalView;
use scour::matcher::Matcher;
use scour::rules::RuleSet;
use scour::scan::shard::Shard;
use scour::scan::ScanOptions;
use scour::secret::{Salt, Secret};
use scour::source::archive::ArchiveLimits;
use scour::source::fs::WalkOptions;

/// The secret planted in the seeds (raw, base64, split by a colour code).
const SEED_SECRET: &[u8] = b"fuzzSeedSecret0123456789abcdef";
const MAX_INPUT_TIME: Duration = Duration::from_secs(20);
const MAX_RSS_KIB: u64 = 1 << 20;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fuzz/seeds exists")
        .map(|entry| {
            let path = entry.expect("seed entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("seed readable"))
        })
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 10, "expected the checked-in seed corpus");
    seeds
}

const INTERESTING: [u64; 10] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    u64::MAX,
    1 << 40,
];

fn mutate(rng: &mut StdRng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.gen_range(1..=6) {
        let len = data.len().max(1);
        let at = rng.gen_range(0..len);
        match rng.gen_range(0..9) {
            0 if !data.is_empty() => {
                let at = at.min(data.len() - 1);
                data[at] ^= 1 << rng.gen_range(0..8);
            }
            1 if !data.is_empty() => {
                let at = at.min(data.len() - 1);
                data[at] = rng.gen();
            }
            2 => {
                // An interesting integer over what may be a length or offset field.
                let value = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                let width = [1usize, 2, 4, 8][rng.gen_range(0..4)];
                let bytes = if rng.gen() {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                };
                let bytes = if rng.gen::<bool>() {
                    &bytes[..width]
                } else {
                    &bytes[8 - width..]
                };
                for (i, b) in bytes.iter().enumerate() {
                    if let Some(slot) = data.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            3 => {
                let n = rng.gen_range(1..64);
                let insert: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                let at = at.min(data.len());
                data.splice(at..at, insert);
            }
            4 if !data.is_empty() => {
                let end = (at + rng.gen_range(1..256)).min(data.len());
                data.drain(at.min(end)..end);
            }
            5 if !data.is_empty() => {
                let end = (at + rng.gen_range(1..512)).min(data.len());
                let piece = data[at.min(end)..end].to_vec();
                let to = rng.gen_range(0..=data.len());
                data.splice(to..to, piece);
            }
            6 if !other.is_empty() => {
                let from = rng.gen_range(0..other.len());
                let end = (from + rng.gen_range(1..1024)).min(other.len());
                let at = at.min(data.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..end]);
            }
            7 => data.truncate(at),
            _ => {
                // ASCII digits and escape bytes: tar octal fields, terminal sequences.
                let piece: &[u8] = match rng.gen_range(0..4) {
                    0 => b"77777777777",
                    1 => b"\x1b[",
                    2 => b"\x1b]8;;",
                    _ => b"\r",
                };
                let at = at.min(data.len());
                data.splice(at..at, piece.iter().copied());
            }
        }
    }
    data
}

fn ledger() -> Ledger {
    let salt = Salt([5; 16]);
    let rules = RuleSet::builtin().expect("rules");
    let secrets: [&[u8]; 3] = [
        SEED_SECRET,
        b"ghp_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken123",
        b"Tr0ub4dor&3x",
    ];
    let entries = secrets
        .iter()
        .enumerate()
        .map(|(n, secret)| Entry {
            id: format!("F{n}"),
            label: None,
            date: "2026-12-01".into(),
            sha256: hex::encode(
                Sha256::new()
                    .chain_update(salt.0)
                    .chain_update(secret)
                    .finalize(),
            ),
            length: secret.len(),
            class: CharClass::of(secret),
            rule: rules.recognise(secret).map(|r| rules.get(r).id.clone()),
            prefix: None,
            sieve: None,
        })
        .collect();
    Ledger {
        path: "fuzz".into(),
        salt,
        entries,
        file_sha256: String::new(),
    }
}

fn options(root: &Path) -> ScanOptions {
    ScanOptions {
        paths: vec![root.to_path_buf()],
        walk: WalkOptions {
            excludes: Vec::new(),
            respect_gitignore: false,
            threads: 1,
            shard: Shard::WHOLE,
            content_digests: false,
        },
        // Small bounds, so a bomb hits a limit (a gap) quickly instead of using the time.
        archive_limits: ArchiveLimits {
            max_expanded_bytes: 64 << 20,
            max_buffer: 32 << 20,
            ..ArchiveLimits::default()
        },
        progress: false,
        git: Default::default(),
        stores: Default::default(),
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn save_failure(name: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!(
        "{name}-{}",
        hex::encode(&Sha256::digest(input)[..8])
    ));
    let _ = std::fs::write(&path, input);
    path
}

/// Runs every target on one input; an error names what failed.
fn run_targets(
    input: &[u8],
    name: &str,
    tree: &Path,
    plain: &Matcher,
    hashed: &Matcher,
    ledger: &Ledger,
    rng: &mut StdRng,
) -> Result<(), String> {
    let started = Instant::now();
    let secret = Secret::new(SEED_SECRET.to_vec(), "fuzz").expect("secret");
    let file = tree.join(name);
    std::fs::write(&file, input).map_err(|e| e.to_string())?;
    let pipeline = catch_unwind(AssertUnwindSafe(|| {
        scour::scan::run_with_ledger(
            &options(tree),
            std::slice::from_ref(&secret),
            Salt([1; 16]),
            Some(ledger),
        )
    }));
    let _ = std::fs::remove_file(&file);
    match pipeline {
        Err(_) => return Err("the scan pipeline panicked".into()),
        Ok(Err(error)) => return Err(format!("the scan failed to start: {error}")),
        Ok(Ok(_report)) => {}
    }
    let chunk = rng.gen_range(1..4096);
    for matcher in [plain, hashed] {
        catch_unwind(AssertUnwindSafe(|| {
            let mut view = TerminalView::new(matcher);
            for piece in input.chunks(chunk) {
                view.feed(piece);
            }
            view.finish();
            matcher.scan_slice(input);
        }))
        .map_err(|_| "the terminal view or matcher panicked".to_string())?;
    }
    if started.elapsed() > MAX_INPUT_TIME {
        return Err(format!("took {:?}", started.elapsed()));
    }
    Ok(())
}

#[test]
fn mutated_inputs_never_panic_hang_or_blow_up() {
    let seconds: u64 = std::env::var("SCOUR_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let start_seed: u64 = std::env::var("SCOUR_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5C0_u64);
    let seeds = seeds();
    let ledger = ledger();
    let secret = Secret::new(SEED_SECRET.to_vec(), "fuzz").expect("secret");
    let plain = Matcher::new(std::slice::from_ref(&secret)).expect("matcher");
    let hashed = Matcher::with_ledger(&[], &ledger, RuleSet::builtin().expect("rules"))
        .expect("ledger matcher");
    let tree = tempfile::tempdir().expect("tempdir");
    // Panics are caught and reported as failures; their default message would only repeat.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rng = StdRng::seed_from_u64(start_seed);
    let mut runs = 0u64;
    let mut failures = Vec::new();
    // Every seed unmutated first: the corpus itself must pass.
    let mut queue: Vec<(String, Vec<u8>)> = seeds.clone();
    while Instant::now() < deadline || !queue.is_empty() {
        let (name, input) = match queue.pop() {
            Some(item) => item,
            None => {
                let (name, seed) = &seeds[rng.gen_range(0..seeds.len())];
                let (_, other) = &seeds[rng.gen_range(0..seeds.len())];
                (name.clone(), mutate(&mut rng, seed, other))
            }
        };
        runs += 1;
        if let Err(what) = run_targets(
            &input,
            &name,
            tree.path(),
            &plain,
            &hashed,
            &ledger,
            &mut rng,
        ) {
            let saved = save_failure(&name, &input);
            failures.push(format!(
                "{what}: input from seed {name}, saved as {}",
                saved.display()
            ));
            if failures.len() >= 5 {
                break;
            }
        }
    }
    std::panic::set_hook(default_hook);
    let peak = peak_rss_kib();
    eprintln!(
        "fuzz: {runs} inputs in {seconds} s from seed {start_seed:#x}; peak RSS {} MiB",
        peak / 1024
    );
    assert!(
        failures.is_empty(),
        "fuzz failures:\n{}",
        failures.join("\n")
    );
    assert!(peak < MAX_RSS_KIB, "peak RSS {} MiB", peak / 1024);
}
