//! Base32 (RFC 4648, either case, padded or not, wrapped) and base32hex.
//!
//! Every base32 text is also a run of the base64 alphabet, so the base64 finder's tokens and
//! wrapped blocks (any width of at least 16, indented, `\n`-escaped; `base32` wraps at 76
//! by default, `-w 70` wherever it is told) carry a [`Base32Chars`] that keeps their characters while they could be
//! base32: one case only, and only the digits of one alphabet (`2-7` for base32, `0-9` with
//! letters up to `V` for base32hex). A run is decoded if it has at least [`MIN_CHARS`]
//! characters and looks like encoded bytes rather than a word or an identifier (a digit,
//! and for base32hex a letter past `F`, so hex digits are left to the hex encoding).
//! A run that fits both alphabets is decoded with each.

use super::{DecodedRun, Sink, RUN_BUDGET};

/// Fewest characters of a base32 run (10 decoded bytes).
const MIN_CHARS: usize = 16;
/// Most characters kept: what decodes to [`RUN_BUDGET`] bytes.
const MAX_CHARS: usize = RUN_BUDGET / 5 * 8;

/// The characters of a base64 token or block, while it could be base32.
pub(crate) struct Base32Chars {
    chars: Vec<u8>,
    dead: bool,
    upper: bool,
    lower: bool,
    /// No character outside the base32 alphabet (`0`, `1`, `8`, `9`, `+/-_`).
    standard: bool,
    /// No character outside the base32hex alphabet (`W`-`Z`, `+/-_`).
    extended_hex: bool,
    /// A digit `2`-`7` (base32) / any digit (base32hex) / a letter `G`-`V` (base32hex).
    standard_digit: bool,
    digit: bool,
    past_f: bool,
    truncated: bool,
}

impl Base32Chars {
    pub(crate) fn new() -> Base32Chars {
        Base32Chars {
            chars: Vec::new(),
            dead: false,
            upper: false,
            lower: false,
            standard: true,
            extended_hex: true,
            standard_digit: false,
            digit: false,
            past_f: false,
            truncated: false,
        }
    }

    pub(crate) fn push(&mut self, line: &[u8]) {
        if self.dead {
            return;
        }
        for &byte in line {
            match byte {
                b'A'..=b'Z' => self.upper = true,
                b'a'..=b'z' => self.lower = true,
                b'0'..=b'9' => {
                    self.digit = true;
                    if matches!(byte, b'2'..=b'7') {
                        self.standard_digit = true;
                    } else {
                        self.standard = false;
                    }
                }
                _ => {
                    self.standard = false;
                    self.extended_hex = false;
                }
            }
            let upper = byte.to_ascii_uppercase();
            if matches!(upper, b'W'..=b'Z') {
                self.extended_hex = false;
            }
            if matches!(upper, b'G'..=b'V') {
                self.past_f = true;
            }
        }
        if (self.upper && self.lower) || !(self.standard || self.extended_hex) {
            self.dead = true;
            self.chars = Vec::new();
            return;
        }
        if self.chars.len() + line.len() > MAX_CHARS {
            self.truncated = true;
            let room = MAX_CHARS.saturating_sub(self.chars.len());
            self.chars.extend_from_slice(&line[..room.min(line.len())]);
        } else {
            self.chars.extend_from_slice(line);
        }
    }

    /// Offers the run's decodings (it spans leaf bytes `start..end`).
    pub(crate) fn emit(self, start: u64, end: u64, sink: &mut Sink) {
        if self.dead || self.chars.len() < MIN_CHARS {
            return;
        }
        let mut offer = |encoding, bytes| {
            sink.offer(DecodedRun {
                encoding,
                offset: start,
                encoded_len: end - start,
                bytes,
                truncated: self.truncated,
                map: Vec::new(),
            })
        };
        if self.standard && self.standard_digit {
            offer("base32", decode(&self.chars, standard_value));
        }
        if self.extended_hex && self.digit && self.past_f {
            offer("base32hex", decode(&self.chars, extended_hex_value));
        }
    }
}

fn standard_value(byte: u8) -> u32 {
    match byte.to_ascii_uppercase() {
        upper @ b'A'..=b'Z' => u32::from(upper - b'A'),
        digit => u32::from(digit.wrapping_sub(b'2')) + 26,
    }
}

fn extended_hex_value(byte: u8) -> u32 {
    match byte.to_ascii_uppercase() {
        digit @ b'0'..=b'9' => u32::from(digit - b'0'),
        upper => u32::from(upper.wrapping_sub(b'A')) + 10,
    }
}

/// Lenient decoding: 5 bits a character, a partial last byte dropped.
fn decode(chars: &[u8], value: fn(u8) -> u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(chars.len() * 5 / 8);
    let mut bits = 0u32;
    let mut count = 0;
    for &c in chars {
        bits = (bits << 5) | (value(c) & 31);
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"AKIA7QX2 p\"9%$\\Lm'w4Rt+zN0=";

    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const HEX_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";

    fn encode(bytes: &[u8], alphabet: &[u8; 32], pad: bool) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(5) {
            let mut group = [0u8; 5];
            group[..chunk.len()].copy_from_slice(chunk);
            let value = group.iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
            let chars = (chunk.len() * 8).div_ceil(5);
            for i in 0..8 {
                if i < chars {
                    out.push(alphabet[((value >> (35 - 5 * i)) & 31) as usize] as char);
                } else if pad {
                    out.push('=');
                }
            }
        }
        out
    }

    fn wrap(text: &str, width: usize) -> String {
        let lines: Vec<String> = text
            .as_bytes()
            .chunks(width)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        lines.join("\n") + "\n"
    }

    fn sample() -> Vec<u8> {
        let mut text = b"api:\n  user: deploy\n  key: ".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\n  region: eu-west-1\n");
        text
    }

    #[test]
    fn both_cases_padded_or_not_and_wrapped_are_decoded() {
        let upper = encode(&sample(), ALPHABET, true);
        let wrapped: Vec<&str> = upper
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let cases = [
            ("padded", upper.clone()),
            ("lower", encode(&sample(), ALPHABET, false).to_lowercase()),
            ("wrapped", format!("data: |\n  {}\n", wrapped.join("\n  "))),
            ("wrapped at 70", wrap(&upper, 70)),
            ("wrapped at 17", wrap(&upper, 17)),
        ];
        for (name, text) in cases {
            assert!(memchr::memmem::find(text.as_bytes(), SECRET).is_none());
            let places = scan_memory(SECRET, "b32.txt", text.as_bytes()).places();
            assert_eq!(places.len(), 1, "{name}: {places:?}");
            assert!(
                places[0].0.starts_with("b32.txt › base32@"),
                "{name}: {places:?}"
            );
        }
    }

    #[test]
    fn base32hex_is_decoded() {
        let text = format!("id = \"{}\"\n", encode(&sample(), HEX_ALPHABET, true));
        let places = scan_memory(SECRET, "b32.txt", text.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("b32.txt › base32hex@"),
            "{places:?}"
        );
    }
}
