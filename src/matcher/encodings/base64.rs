//! Base64, at every alignment, in both alphabets, and wrapped across lines.
//!
//! A secret inside a larger base64 document (`base64("user:" + secret)` in a docker
//! `config.json`, a Kubernetes Secret, a PEM body) does not start on a 3-byte boundary. Its
//! encoding then depends on the byte offset of the secret modulo 3, and the characters at the
//! two ends mix bits of the secret with bits of its neighbours. So, for each of the three
//! offsets, the pattern is the run of characters that depend on the secret alone (the
//! *core*), and the mixed characters just outside the core are checked afterwards against
//! the bits of the secret they carry ([`Edges`]). Padding never matters: the core stops
//! before it.
//!
//! Wrapped base64 (PEM at 64 columns, OpenSSH private keys at 70, MIME and `base64` at 76)
//! puts a line break every `width` characters. The core starts at a known position within a
//! 4-character group, so only `width / 4` placements of the breaks are possible per offset
//! (`width / 2` for 70, which is not a multiple of 4); each becomes one more pattern.

use std::sync::Arc;

use super::{Encoding, Variant};
use ::base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use ::base64::Engine;
use zeroize::Zeroizing;

/// Line widths of wrapped base64 that scour recognises: PEM, OpenSSH private keys, then
/// MIME and the `base64` tool.
const WRAP_WIDTHS: [usize; 3] = [64, 70, 76];
const LINE_BREAKS: [(&[u8], &str); 2] = [(b"\n", "LF"), (b"\r\n", "CRLF")];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    Standard,
    UrlSafe,
}

impl Alphabet {
    /// The 6-bit value of one base64 character, if it belongs to this alphabet.
    pub fn decode(self, c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' if self == Alphabet::Standard => Some(62),
            b'/' if self == Alphabet::Standard => Some(63),
            b'-' if self == Alphabet::UrlSafe => Some(62),
            b'_' if self == Alphabet::UrlSafe => Some(63),
            _ => None,
        }
    }

    fn encode(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Alphabet::Standard => STANDARD_NO_PAD.encode(bytes).into_bytes(),
            Alphabet::UrlSafe => URL_SAFE_NO_PAD.encode(bytes).into_bytes(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Alphabet::Standard => "standard alphabet",
            Alphabet::UrlSafe => "URL-safe alphabet",
        }
    }
}

/// A character next to a pattern that carries some bits of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub alphabet: Alphabet,
    pub mask: u8,
    pub bits: u8,
}

impl Edge {
    pub fn accepts(&self, c: u8) -> bool {
        self.alphabet
            .decode(c)
            .is_some_and(|value| value & self.mask == self.bits)
    }
}

/// The characters just before and just after a pattern that must also agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edges {
    pub before: Option<Edge>,
    pub after: Option<Edge>,
}

/// Line breaks that may sit between a core and its edge character in wrapped base64.
pub const MAX_EDGE_GAP: usize = 2;

impl Edges {
    pub fn is_none(&self) -> bool {
        self.before.is_none() && self.after.is_none()
    }

    /// How many bytes of context this check may look at on each side.
    pub const CONTEXT: usize = MAX_EDGE_GAP + 1;

    /// Checks the characters around `haystack[start..end]`.
    pub fn hold(&self, haystack: &[u8], start: usize, end: usize) -> bool {
        if let Some(edge) = self.before {
            let preceding = haystack[..start]
                .iter()
                .rev()
                .take(Self::CONTEXT)
                .find(|&&b| b != b'\n' && b != b'\r');
            if !preceding.is_some_and(|&c| edge.accepts(c)) {
                return false;
            }
        }
        if let Some(edge) = self.after {
            let following = haystack[end..]
                .iter()
                .take(Self::CONTEXT)
                .find(|&&b| b != b'\n' && b != b'\r');
            if !following.is_some_and(|&c| edge.accepts(c)) {
                return false;
            }
        }
        true
    }
}

/// The secret's characters when it starts `offset` bytes (0, 1 or 2) into a 3-byte group.
struct Core {
    chars: Zeroizing<Vec<u8>>,
    edges: Edges,
    /// Where the core starts within its 4-character group.
    group_position: usize,
}

fn core(secret: &[u8], alphabet: Alphabet, offset: usize) -> Core {
    let mut input = Zeroizing::new(vec![0u8; offset]);
    input.extend_from_slice(secret);
    let encoded = Zeroizing::new(alphabet.encode(&input));
    let first = secret[0];
    let last = secret[secret.len() - 1];
    let edge = |mask, bits| {
        Some(Edge {
            alphabet,
            mask,
            bits,
        })
    };
    // Characters before the core that depend on the prefix, and the one mixed character.
    let (skip, before) = match offset {
        0 => (0, None),
        1 => (2, edge(0x0F, first >> 4)),
        _ => (3, edge(0x03, first >> 6)),
    };
    // The last character of an unfinished group mixes the secret's tail with what follows.
    let (drop, after) = match input.len() % 3 {
        0 => (0, None),
        1 => (1, edge(0x30, (last & 0x03) << 4)),
        _ => (1, edge(0x3C, (last & 0x0F) << 2)),
    };
    Core {
        chars: Zeroizing::new(encoded[skip..encoded.len() - drop].to_vec()),
        edges: Edges { before, after },
        group_position: skip % 4,
    }
}

fn unwrapped_variants(secret: &[u8], alphabet: Alphabet) -> Vec<Variant> {
    (0..3)
        .map(|offset| {
            let core = core(secret, alphabet, offset);
            Variant {
                pattern: core.chars,
                detail: format!("{}, secret at byte offset {offset} mod 3", alphabet.label())
                    .into(),
                edges: core.edges,
            }
        })
        .collect()
}

pub struct Base64;
pub struct Base64Url;
pub struct Base64Wrapped;

impl Encoding for Base64 {
    fn name(&self) -> &'static str {
        "base64"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        unwrapped_variants(secret, Alphabet::Standard)
    }
}

impl Encoding for Base64Url {
    fn name(&self) -> &'static str {
        "base64url"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        unwrapped_variants(secret, Alphabet::UrlSafe)
    }
}

impl Encoding for Base64Wrapped {
    fn name(&self) -> &'static str {
        "base64-wrapped"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let mut variants = Vec::new();
        for offset in 0..3 {
            let core = core(secret, Alphabet::Standard, offset);
            for width in WRAP_WIDTHS {
                // The core starts `group_position` characters into some 4-character group;
                // lines start every `width` characters, so the core's column is one of
                // these (every 4th column for 64 and 76, every 2nd for OpenSSH's 70).
                let step = if width.is_multiple_of(4) { 4 } else { 2 };
                let details = LINE_BREAKS.map(|(_, newline_label)| -> Arc<str> {
                    format!(
                        "standard alphabet, secret at byte offset {offset} mod 3, \
                         wrapped at {width} columns ({newline_label})"
                    )
                    .into()
                });
                for column in ((core.group_position % step)..width).step_by(step) {
                    for ((newline, _), detail) in LINE_BREAKS.iter().zip(&details) {
                        let Some(pattern) = wrap(&core.chars, column, width, newline) else {
                            continue;
                        };
                        variants.push(Variant {
                            pattern,
                            detail: Arc::clone(detail),
                            edges: core.edges,
                        });
                    }
                }
            }
        }
        variants
    }
}

/// The core as it reads when its first character sits at `column` of a `width`-wide line;
/// `None` when no line break falls inside it.
fn wrap(core: &[u8], column: usize, width: usize, newline: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(core.len() + core.len() / width * 2 + 2));
    let mut broke = false;
    for (i, &c) in core.iter().enumerate() {
        if i > 0 && (column + i).is_multiple_of(width) {
            out.extend_from_slice(newline);
            broke = true;
        }
        out.push(c);
    }
    broke.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::base64::engine::general_purpose::{STANDARD, URL_SAFE};

    const SECRET: &[u8] = b"s3cr3t/+=&% \"value?";

    fn found(variants: &[Variant], document: &[u8]) -> bool {
        variants.iter().any(|v| {
            memchr::memmem::find_iter(document, &v.pattern[..])
                .any(|start| v.edges.hold(document, start, start + v.pattern.len()))
        })
    }

    #[test]
    fn finds_the_secret_after_any_prefix_in_both_alphabets() {
        for prefix_len in 0..9 {
            let mut plain = b"user:name:".to_vec();
            plain.truncate(prefix_len);
            plain.extend_from_slice(SECRET);
            for suffix in [&b""[..], b"x", b"\n\xff"] {
                let mut plain = plain.clone();
                plain.extend_from_slice(suffix);
                let standard = STANDARD.encode(&plain);
                let url = URL_SAFE.encode(&plain);
                assert!(
                    found(&Base64.variants(SECRET), standard.as_bytes()),
                    "{prefix_len}"
                );
                assert!(
                    found(&Base64Url.variants(SECRET), url.as_bytes()),
                    "{prefix_len}"
                );
            }
        }
    }

    #[test]
    fn near_misses_do_not_match() {
        let mut changed_last = SECRET.to_vec();
        *changed_last.last_mut().unwrap() ^= 0x01;
        let mut changed_first = SECRET.to_vec();
        changed_first[0] ^= 0x01;
        let truncated = &SECRET[..SECRET.len() - 1];
        for near in [&changed_last[..], &changed_first[..], truncated] {
            for prefix_len in 0..3 {
                let mut plain = vec![b'u'; prefix_len];
                plain.extend_from_slice(near);
                let encoded = STANDARD.encode(&plain);
                assert!(!found(&Base64.variants(SECRET), encoded.as_bytes()));
            }
        }
    }

    #[test]
    fn finds_the_secret_wherever_a_line_break_falls() {
        for width in WRAP_WIDTHS {
            // Every phase of line start against 4-character group: lcm(width, 4) characters.
            for prefix_len in 0..(width * 3 / 2 + 3) {
                let mut plain = vec![b'k'; prefix_len];
                plain.extend_from_slice(SECRET);
                plain.extend_from_slice(&[7u8; 40]);
                let encoded = STANDARD.encode(&plain);
                let wrapped: Vec<u8> = encoded
                    .as_bytes()
                    .chunks(width)
                    .flat_map(|line| line.iter().copied().chain(*b"\r\n"))
                    .collect();
                let all: Vec<Variant> = Base64
                    .variants(SECRET)
                    .into_iter()
                    .chain(Base64Wrapped.variants(SECRET))
                    .collect();
                assert!(found(&all, &wrapped), "width {width}, prefix {prefix_len}");
            }
        }
    }
}
