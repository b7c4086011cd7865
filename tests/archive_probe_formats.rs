//! Formats found by a probe with real tools beyond the ones scour reads by name: compressed
//! streams that follow each other closely inside a binary file (Arrow IPC buffers, ELF
//! sections), archivers scour has no decoder for (rzip, zpaq, arj, lha, zoo) and a cabinet
//! embedded in another file (an MSI written by `wixl`). Each must be found or be a gap,
//! never a silent `absent`; every sample is checked not to hold the secret raw.

mod common;

use common::{random_token, run_shell, scan, write};

fn assert_not_raw(bytes: &[u8], secret: &[u8]) {
    assert!(
        memchr::memmem::find(bytes, secret).is_none(),
        "the sample holds the secret raw: the test would prove nothing"
    );
}

/// Text that compresses well around the secret, so every compressor entropy-codes it.
fn text_with(secret: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..80 {
        text.extend_from_slice(format!("line {i}: the quick brown fox jumps over\n").as_bytes());
    }
    text.extend_from_slice(b"api_token=");
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nend\n");
    text
}

fn unsupported_gaps(result: &common::Scan) -> Vec<String> {
    result
        .gaps()
        .iter()
        .filter(|g| g["kind"] == "unsupported")
        .map(|g| g["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Two streams of one compressor a few hundred bytes apart in a binary file: the first
/// decoder's read-ahead must not hide the second (a pyarrow IPC file with zstd buffers was
/// `absent` this way: its second buffer lay inside the first one's read-ahead).
#[test]
fn compressed_streams_close_together_are_each_carved() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let decoy = text_with(b"not-the-secret-at-all-0000000000");
    let real = text_with(&secret);
    for (tool, command) in [
        ("gzip", "gzip -c"),
        ("bzip2", "bzip2 -c"),
        ("xz", "xz -c"),
        ("zstd", "zstd -q -c"),
        ("lzip", "lzip -c"),
    ] {
        let Some(first) = run_shell(command, &decoy, &secret, &[tool], dir.path()) else {
            continue;
        };
        let Some(second) = run_shell(command, &real, &secret, &[tool], dir.path()) else {
            continue;
        };
        let mut file = b"HEAD\0\0\0\x01\x02\x03\x04".to_vec();
        file.extend_from_slice(&(first.len() as u64).to_le_bytes());
        file.extend_from_slice(&first);
        file.extend_from_slice(&[0u8; 7]);
        file.extend((0..300u32).map(|i| (i * 37 % 251) as u8));
        file.extend_from_slice(&(second.len() as u64).to_le_bytes());
        file.extend_from_slice(&second);
        file.extend_from_slice(b"\0\0\0\0TAIL");
        assert_not_raw(&file, &secret);
        let sample = tempfile::tempdir().unwrap();
        write(sample.path(), "buffers.bin", &file);
        let result = scan(&secret, &[sample.path()]);
        assert_eq!(result.verdict(), "found", "{tool}: {:?}", result.gaps());
        assert!(result.gaps().is_empty(), "{tool}: {:?}", result.gaps());
        result.assert_no_leak(&secret);
    }
}

