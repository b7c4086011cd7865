//! Property tests (proptest): the stream window finds every match exactly once whatever
//! the read sizes, the matcher finds a secret through every encoding at every alignment
//! (encoded by independent encoders: the `base64`, `hex`, `percent-encoding` crates and
//! hand-written JSON and UTF-16), and hash mode finds a ledger entry through the same
//! encodings, decoded by the content pipeline's decode layers.

use std::io::Read;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use proptest::prelude::*;

use scour::ledger::{CharClass, Entry, Ledger};
use scour::matcher::{Matcher, ScanBuffer};
use scour::secret::{Salt, Secret};

/// Hands out reads of the sizes in `steps`, in turn.
struct Uneven<'a> {
    data: &'a [u8],
    steps: Vec<usize>,
    turn: usize,
}

impl Read for Uneven<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let step = self.steps[self.turn % self.steps.len()];
        self.turn += 1;
        let n = step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

const MIB: usize = 1 << 20;

fn printable(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0x21u8..0x7f, min..max)
}

fn secret_bytes() -> impl Strategy<Value = Vec<u8>> {
    // Alphanumeric: no byte of it can be mistaken for a delimiter or escape.
    proptest::collection::vec(prop_oneof![b'a'..=b'z', b'A'..=b'Z', b'0'..=b'9'], 12..40)
}

fn json_escaped(bytes: &[u8], all: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        if all || b == b'"' || b == b'\\' || b == b'/' {
            out.extend(format!("\\u{b:04x}").bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fn utf16(bytes: &[u8], little_endian: bool) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| if little_endian { [b, 0] } else { [0, b] })
        .collect()
}

fn wrapped(text: &str, width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.as_bytes().chunks(width) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// Every encoding the matcher knows, by an encoder that is not scour's.
fn encodings(text: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("raw", text.to_vec()),
        ("base64", STANDARD.encode(text).into_bytes()),
        ("base64url", URL_SAFE_NO_PAD.encode(text).into_bytes()),
        ("base64 wrapped 64", wrapped(&STANDARD.encode(text), 64)),
        ("base64 wrapped 76", wrapped(&STANDARD.encode(text), 76)),
        ("hex", hex::encode(text).into_bytes()),
        ("HEX", hex::encode_upper(text).into_bytes()),
        (
            "percent",
            percent_encoding::percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .into_bytes(),
        ),
        ("json \\u", json_escaped(text, true)),
        ("utf16le", utf16(text, true)),
        ("utf16be", utf16(text, false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Matches placed around the 1 MiB window edges, read in uneven pieces: each is found
    /// exactly once, at its offset.
    #[test]
    fn the_stream_window_finds_every_match_exactly_once(
        secret in secret_bytes(),
        deltas in proptest::collection::vec(-200i64..200, 1..6),
        steps in proptest::collection::vec(1usize..300_000, 1..5),
    ) {
        let secret_value = Secret::new(secret.clone(), "prop").unwrap();
        let matcher = Matcher::new(&[secret_value]).unwrap();
        let mut data = vec![b'.'; 3 * MIB];
        let mut expected: Vec<usize> = Vec::new();
        for (n, delta) in deltas.iter().enumerate() {
            let at = ((n % 2 + 1) * MIB) as i64 + delta * 7;
            let at = at as usize;
            if expected.iter().any(|&e| e.abs_diff(at) <= secret.len()) {
                continue;
            }
            data[at..at + secret.len()].copy_from_slice(&secret);
            expected.push(at);
        }
        expected.sort_unstable();
        let reader = Uneven { data: &data, steps, turn: 0 };
        let outcome = matcher.scan_reader(reader, &mut ScanBuffer::new(), &mut |_| {});
        let mut found: Vec<usize> = outcome.hits.iter().map(|h| h.offset as usize).collect();
        found.sort_unstable();
        prop_assert_eq!(found, expected);
        prop_assert_eq!(outcome.bytes, data.len() as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The secret at any offset inside other bytes, encoded whole by an independent encoder:
    /// the matcher finds it in every encoding.
    #[test]
    fn the_matcher_finds_the_secret_through_every_encoding_at_every_alignment(
        secret in secret_bytes(),
        before in printable(0, 9),
        after in printable(0, 9),
    ) {
        let matcher = Matcher::new(&[Secret::new(secret.clone(), "prop").unwrap()]).unwrap();
        let text = [before.as_slice(), &secret, &after].concat();
        for (name, encoded) in encodings(&text) {
            let hay = [b"x = \"".as_slice(), &encoded, b"\"\n"].concat();
            prop_assert!(
                !matcher.scan_slice(&hay).is_empty(),
                "{} of the secret after {} bytes not found", name, before.len()
            );
        }
    }

    /// Hash mode through the content pipeline: a ledger entry (known only by its hash) is
    /// found under every encoding, at every alignment, each file reporting it once. (Hash
    /// mode has no forward-encoded variants, so the decode layers must see single layers;
    /// big-endian UTF-16 used to lose its last character in the old ledger decoder.)
    #[test]
    fn hash_mode_finds_an_entry_through_every_encoding_at_every_alignment(
        secret in secret_bytes(),
        before in printable(0, 9),
        after in printable(0, 9),
    ) {
        let text = [before.as_slice(), &secret, &after].concat();
        let dir = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        for (n, (name, encoded)) in encodings(&text).into_iter().enumerate() {
            let file = format!("e{n}.txt");
            let hay = [b"v: ".as_slice(), &encoded, b" ;\n"].concat();
            std::fs::write(dir.path().join(&file), hay).unwrap();
            names.push((file, name));
        }
        let report = scan_with_ledger(dir.path(), &secret);
        for (file, name) in names {
            let found = report
                .findings
                .iter()
                .filter(|f| f.location.chain[0].ends_with(&file))
                .count();
            prop_assert_eq!(found, 1, "{} of the entry after {} bytes", name, before.len());
        }
    }
}

/// A ledger of `secret` alone, as `scour ledger add` writes it.
fn ledger_of(secret: &[u8]) -> Ledger {
    let salt = Salt([9; 16]);
    let rules = scour::rules::RuleSet::builtin().unwrap();
    Ledger {
        path: "prop".into(),
        salt: Salt(salt.0),
        entries: vec![Entry {
            id: "P0".into(),
            label: None,
            date: "2026-12-01".into(),
            sha256: scour::ledger::index::hash_hex(&salt, secret),
            length: secret.len(),
            class: CharClass::of(secret),
            rule: rules.recognise(secret).map(|r| rules.get(r).id.clone()),
            prefix: None,
            sieve: Some(scour::ledger::sieve::to_hex(
                scour::ledger::sieve::of_secret(&salt, secret),
            )),
        }],
        file_sha256: String::new(),
    }
}

fn scan_with_ledger(root: &std::path::Path, secret: &[u8]) -> scour::report::Report {
    let options = scour::scan::ScanOptions {
        paths: vec![root.to_path_buf()],
        walk: scour::source::fs::WalkOptions {
            excludes: Vec::new(),
            respect_gitignore: false,
            threads: 1,
            shard: scour::scan::shard::Shard::WHOLE,
            content_digests: false,
        },
        archive_limits: scour::source::archive::ArchiveLimits::default(),
        progress: false,
        git: Default::default(),
        stores: Default::default(),
    };
    scour::scan::run_with_ledger(&options, &[], Salt([1; 16]), Some(&ledger_of(secret))).unwrap()
}
