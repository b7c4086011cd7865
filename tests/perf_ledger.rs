//! `scour ledger add` of a large batch: linear time, one entry per distinct secret.

mod common;

use std::time::{Duration, Instant};

use common::{random_token, scour};

/// 100,000 secrets took 194 s when every entry was a linear duplicate check plus its own
/// write and fsync. Linear work does it in a few seconds; the bound is loose because the
/// test machine is shared.
#[test]
fn adding_100k_secrets_is_fast_and_keeps_one_entry_each() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("revoked.jsonl");
    let secrets_file = dir.path().join("secrets.txt");
    let mut lines = Vec::new();
    for _ in 0..100_000 {
        lines.extend_from_slice(&random_token(24));
        lines.push(b'\n');
    }
    let first_line = lines[..25].to_vec();
    // A repeat inside the batch is one entry.
    lines.extend_from_slice(&first_line);
    std::fs::write(&secrets_file, &lines).unwrap();

    let started = Instant::now();
    let output = scour()
        .args(["ledger", "add", "--ledger"])
        .arg(&ledger)
        .arg("--secret-file")
        .arg(&secrets_file)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    assert!(
        took < Duration::from_secs(30),
        "ledger add of 100,000 secrets took {took:?}"
    );
    let written = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(
        written.lines().count(),
        1 + 100_000,
        "header plus one line per secret"
    );

    // Adding the same batch again adds nothing and still reads back.
    let again = scour()
        .args(["ledger", "add", "--ledger"])
        .arg(&ledger)
        .arg("--secret-file")
        .arg(&secrets_file)
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    let rewritten = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(rewritten, written);
    let listed = scour()
        .args(["ledger", "list", "--ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("100000 entries"));
}
