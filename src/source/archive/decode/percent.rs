//! Percent-encoding at any depth, and over other encodings: `%XX` decoded in the lines that
//! need it.
//!
//! One level over the secret itself is forward-matched by the automaton, so a line is only
//! decoded when the automaton cannot see through its escapes ([`has_escape`]):
//! - it holds `%25`, an encoded `%`, the mark of a second level (`%2541` is `%41` is `A`: a
//!   URL encoded into a query parameter of another URL, a form value encoded twice);
//! - it holds a base64 run with `+`, `/` or `=` escaped (`%2B`, `%2F`, `%3D`: base64 of gzip
//!   in a URL query or a cookie), at least [`BASE64_RUN`] characters long;
//! - it holds [`CONTROL_ESCAPES`] escapes of control bytes (`%1F%8B%08`: binary, such as a
//!   gzip stream, percent-encoded); text, UTF-8 included, has none.
//!
//! Most URLs in logs have a few `%20` or `%3A%2F%2F` and match none of these, so they cost
//! a look at each `%`. The decoded block goes through the pipeline again, so each level
//! peels one more, and the last one is the automaton's (which also knows `+` for a space).
//! `+` is left as it is here: decoding it would corrupt a literal `+` one level up. What the
//! automaton already matched in the leaf is not reported again from the block (its exact
//! offset map makes the shadow exact, see [`super::Shadow`]).
//!
//! In hash mode (a ledger: no forward-encoded variants) every line with a `%XX` escape is
//! decoded, since one level is then this layer's to see ([`escaping`]).

use super::escaped::{Decoded, Escaping};
use super::wake::Atom;

/// Fewest characters (an escape counting as one) of a base64 run with escaped `+/=` for
/// its line to be decoded: the base64 finder's shortest run.
const BASE64_RUN: usize = 20;
/// Escapes of control bytes that make a line percent-encoded binary.
const CONTROL_ESCAPES: usize = 3;

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn escape_at(line: &[u8], at: usize) -> Option<u8> {
    let high = hex_value(*line.get(at + 1)?)?;
    let low = hex_value(*line.get(at + 2)?)?;
    Some(high << 4 | low)
}

/// Whether a line needs decoding (see the module doc). Only its `%` bytes are looked at
/// (one `memchr` pass: binary data has a `%` every few hundred bytes, and walking every
/// byte after the first was a fifth of a whole tree scan); a base64 run is read only around
/// an escaped `+`, `/` or `=`.
fn has_escape(line: &[u8]) -> bool {
    let mut controls = 0;
    let mut read_to = 0;
    for at in memchr::memchr_iter(b'%', line) {
        if at < read_to {
            continue;
        }
        match escape_at(line, at) {
            Some(b'%') => return true,
            Some(b'+' | b'/' | b'=') => {
                let (long, end) = base64_run_around(line, at);
                if long {
                    return true;
                }
                read_to = end;
            }
            Some(value) if is_control(value) => {
                controls += 1;
                if controls >= CONTROL_ESCAPES {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// The run of base64 characters and escaped `+/=` that holds the escape at `at`: whether it
/// is a long base64 run, and where it ends.
fn base64_run_around(line: &[u8], at: usize) -> (bool, usize) {
    // The run began after the last byte before `at` that is neither a base64 character nor
    // part of an escape (`%` and hex digits are both).
    let start = line[..at]
        .iter()
        .rposition(|&b| !is_base64_literal(b) && b != b'%')
        .map_or(0, |before| before + 1);
    let mut run = Base64Run::default();
    let mut i = start;
    while i < line.len() {
        let byte = line[i];
        if byte == b'%' {
            match escape_at(line, i) {
                Some(b'+' | b'/' | b'=') => {
                    run.escape();
                    i += 3;
                }
                // Before the escape that brought us here, another escape (or a `%` that
                // is none) ends a run that does not reach it: start again after it.
                Some(_) if i < at => {
                    run = Base64Run::default();
                    i += 3;
                }
                None if i < at => {
                    run = Base64Run::default();
                    i += 1;
                }
                _ => break,
            }
        } else if is_base64_literal(byte) {
            run.char(byte);
            i += 1;
        } else {
            break;
        }
        if run.is_long_base64() {
            return (true, i);
        }
    }
    (false, i.max(at + 3))
}

/// A base64 character as an encoder may leave it unescaped: Python's `urllib.parse.quote`
/// and Java's `URI` keep `/`, JavaScript's `encodeURI` keeps `+` and `/`. (A `/` ending the
/// run cut a SAML request's 160-character base64 into pieces shorter than
/// [`BASE64_RUN`] around each `%2B`, and the request was not decoded.)
fn is_base64_literal(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/')
}

/// A stretch of base64 characters and escaped `+/=` being read.
#[derive(Default)]
struct Base64Run {
    chars: usize,
    escaped: bool,
    upper: bool,
    lower: bool,
    digit: bool,
}

impl Base64Run {
    fn char(&mut self, byte: u8) {
        self.chars += 1;
        self.upper |= byte.is_ascii_uppercase();
        self.lower |= byte.is_ascii_lowercase();
        self.digit |= byte.is_ascii_digit();
    }

    fn escape(&mut self) {
        self.chars += 1;
        self.escaped = true;
    }

    /// Long enough, with an escape, and mixing cases and digits as encoded bytes do (an
    /// encoded path of words, `%2Fhome%2Fuser%2Fdocuments`, does not).
    fn is_long_base64(&self) -> bool {
        self.escaped && self.chars >= BASE64_RUN && self.upper && self.lower && self.digit
    }
}

/// A byte text does not hold (line breaks and tabs aside).
fn is_control(byte: u8) -> bool {
    (byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')) || byte == 0x7f
}

fn decode(line: &[u8], at: u64, out: &mut Decoded) -> bool {
    let mut from = 0;
    for percent in memchr::memchr_iter(b'%', line) {
        if percent < from {
            continue;
        }
        let Some(byte) = escape_at(line, percent) else {
            continue;
        };
        out.bytes.extend_from_slice(&line[from..percent]);
        out.bytes.push(byte);
        from = percent + 3;
        out.mark(at + from as u64);
    }
    out.bytes.extend_from_slice(&line[from..]);
    false
}

/// Whether a line holds any `%XX` escape. Hash mode has no forward-encoded variants, so
/// one level over a ledger entry is only seen through this layer: every such line is
/// decoded.
fn has_any_escape(line: &[u8]) -> bool {
    memchr::memchr_iter(b'%', line).any(|at| escape_at(line, at).is_some())
}

/// The percent layer; `single_layers` (hash mode) decodes every line with an escape, not
/// only those the automaton cannot see through.
pub(crate) fn escaping(single_layers: bool) -> Escaping {
    Escaping {
        encoding: "percent",
        wake: Atom::TextByte(b'%'),
        has_escape: if single_layers {
            has_any_escape
        } else {
            has_escape
        },
        decode,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"Zq7%p9 \"x'$\\w+Lm3Rt/8=";

    fn percent_encode(bytes: &[u8]) -> Vec<u8> {
        bytes
            .iter()
            .flat_map(|&b| {
                if b.is_ascii_alphanumeric() {
                    vec![b]
                } else {
                    format!("%{b:02X}").into_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn double_and_triple_encoding_are_peeled_once_each() {
        for levels in [2, 3] {
            let mut value = SECRET.to_vec();
            for _ in 0..levels {
                value = percent_encode(&value);
            }
            let mut sample = b"GET /login?next=https%3A%2F%2Fexample.com&token=".to_vec();
            sample.extend_from_slice(&value);
            sample.extend_from_slice(b" HTTP/1.1\n200 OK\n");
            assert!(memchr::memmem::find(&sample, SECRET).is_none());
            let places = scan_memory(SECRET, "access.log", &sample).places();
            assert_eq!(places.len(), 1, "{levels} levels: {places:?}");
            let expected = vec!["percent@0"; levels - 1].join(" › ");
            assert_eq!(
                places[0].0,
                format!("access.log › {expected}"),
                "{places:?}"
            );
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn b64(bytes: &[u8]) -> Vec<u8> {
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes).into_bytes()
    }

    #[test]
    fn base64_with_escaped_plus_slash_and_padding_is_decoded() {
        let mut payload = b"{\"session\":\"".to_vec();
        payload.extend_from_slice(SECRET);
        payload.extend_from_slice(b"\",\"user\":42}");
        let encoded = b64(&gzip(&payload));
        assert!(encoded.iter().any(|b| matches!(b, b'+' | b'/' | b'=')));
        let mut sample = b"Set-Cookie: s=".to_vec();
        sample.extend_from_slice(&percent_encode(&encoded));
        sample.extend_from_slice(b"; Path=/\n");
        let places = scan_memory(SECRET, "h.txt", &sample).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("h.txt › percent@0 › base64@"),
            "{places:?}"
        );
    }

    #[test]
    fn percent_encoded_binary_is_decoded() {
        let mut sample = b"GET /upload?blob=".to_vec();
        sample.extend_from_slice(&percent_encode(&gzip(SECRET)));
        sample.extend_from_slice(b" HTTP/1.1\n");
        let places = scan_memory(SECRET, "access.log", &sample).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("access.log › percent@0"),
            "{places:?}"
        );
    }

    #[test]
    fn ordinary_urls_are_not_decoded() {
        for line in [
            &b"GET /search?q=hello%20world&next=https%3A%2F%2Fexample.com%2Fa%2Fb HTTP/1.1"[..],
            b"path=%2Fhome%2Fuser%2Fdocuments%2Freport.pdf",
            b"name=Jos%C3%A9%20Mar%C3%ADa%20%E2%80%94%20caf%C3%A9",
            b"100% sure, 50%% off",
        ] {
            assert!(
                !super::has_escape(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert!(super::has_escape(b"x=abcdefghijKlmnopqrst%2Fu1w"));
        assert!(super::has_escape(b"%2B%2BabcDefghijklmnopqrstuv9"));
        assert!(super::has_escape(b"v=%1F%8B%08%00"));
        assert!(super::has_escape(b"u=%2541"));
        // Python's quote keeps `/`: the escape sits in a short stretch between two of them.
        assert!(super::has_escape(
            b"SAMLRequest=HctBCsIwEADAr4R9gNb2oCxGKPWiVA8VLOQ/dmEE%2BbeAkk4Zdhe/oC"
        ));
    }

    /// A SAML HTTP-Redirect request as Python's `urllib.parse.quote` writes it (raw deflate,
    /// base64, `/` left as it is): a `/` a few characters before the only `%2B` kept the
    /// line from being decoded (in about 2% of random secrets).
    #[test]
    fn a_saml_request_with_literal_slashes_is_decoded() {
        const ID: &[u8] = b"Ll3fZJZ207qc18Ref3bCaWWrprhZNlws";
        let sample = b"https://idp.example/sso?SAMLRequest=HctBCsIwEADAr4R9gNb2oCxGKPWiVA8VLOQ\
            WQ0oLySbNJujzFc/DHFl7F7EteabBrsVyFh/viPEPEkoiDJoXRtLeMmaDj/bWY72pMKaQgwkOxOUsoXfNpK6\
            qrvar2R0GOzWvTo9jimlWd/dmEE%2BbeAkk4Zdhe/oC\n";
        let places = scan_memory(ID, "redirect.log", sample).places();
        assert_eq!(places.len(), 1, "{places:?}");
        let place = &places[0].0;
        assert!(
            place.starts_with("redirect.log › percent@0 › base64@") && place.ends_with("deflate@0"),
            "{places:?}"
        );
    }

    #[test]
    fn one_level_is_the_automaton_s_and_not_reported_twice() {
        let mut sample = b"token=".to_vec();
        sample.extend_from_slice(&percent_encode(SECRET));
        sample.extend_from_slice(b"&x=%41\n");
        let places = scan_memory(SECRET, "a.log", &sample).places();
        assert_eq!(places, vec![("a.log".to_string(), "percent".to_string())]);
    }
}
