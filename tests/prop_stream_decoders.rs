//! Property tests (proptest): the stream window finds every match exactly once whatever
//! the read sizes, the matcher finds a secret through every encoding at every alignment
//! (encoded by independent encoders: the `base64`, `hex`, `percent-encoding` crates and
//! hand-written JSON and UTF-16), and every ledger decoder gives back what was encoded.

use std::io::Read;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use proptest::prelude::*;

use scour::ledger::decode::{self, Layer};
use scour::matcher::{Matcher, ScanBuffer};
use scour::secret::Secret;

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

    /// Every ledger layer: some run the run finder picks out decodes to bytes holding the
    /// secret (so hash mode can see it), at every alignment.
    /// (Big-endian UTF-16 used to lose its last character: the run finder reads pairs from
    /// the first character, so the last one stands alone after the last zero.)
    #[test]
    fn ledger_decoders_give_back_what_was_encoded(
        secret in secret_bytes(),
        before in printable(0, 9),
        after in printable(0, 9),
    ) {
        let text = [before.as_slice(), &secret, &after].concat();
        let encoded: Vec<(Layer, Vec<u8>)> = vec![
            (Layer::Base64, STANDARD.encode(&text).into_bytes()),
            (Layer::Base64, URL_SAFE_NO_PAD.encode(&text).into_bytes()),
            (Layer::Hex, hex::encode(&text).into_bytes()),
            // Every byte escaped: alphanumerics left as they are would be the raw secret.
            (Layer::Percent, text.iter().flat_map(|b| format!("%{b:02X}").into_bytes()).collect()),
            (Layer::JsonEscape, json_escaped(&text, true)),
            (Layer::Utf16, utf16(&text, true)),
            (Layer::Utf16, utf16(&text, false)),
        ];
        for (layer, bytes) in encoded {
            let hay = [b"v: ".as_slice(), &bytes, b" ;\n"].concat();
            let mut decoded = Vec::new();
            let mut holds = false;
            decode::for_each_run(&hay, 0..hay.len(), true, 8, &mut |run| {
                if run.layer != layer {
                    return;
                }
                decoded.clear();
                decode::decode(run.layer, &hay[run.range.clone()], &mut decoded);
                holds |= decoded.windows(secret.len()).any(|w| w == secret.as_slice());
            });
            prop_assert!(holds, "{} run not decoded back to the secret", layer.name());
        }
    }
}
