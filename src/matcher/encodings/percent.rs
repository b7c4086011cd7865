//! Percent-encoding (URLs, query strings, form bodies, connection strings).
//!
//! Encoders differ in which characters they leave alone, whether a space becomes `%20` or
//! `+`, and the case of the hex digits; each combination real libraries produce is a
//! variant.

use super::{Encoding, Variant};

pub struct Percent;

/// Characters a family of encoders leaves unescaped.
struct KeptSet {
    label: &'static str,
    /// Whether ASCII letters and digits stay as they are (all but obfuscators keep them).
    alphanumeric: bool,
    kept: &'static [u8],
    /// Whether this encoder ever writes a space as `+` (form encoding).
    plus_for_space: bool,
}

const KEPT_SETS: &[KeptSet] = &[
    // RFC 3986 unreserved: Python quote(safe=''), Go QueryEscape, curl, rawurlencode.
    KeptSet {
        label: "RFC 3986 unreserved kept",
        alphanumeric: true,
        kept: b"-._~",
        plus_for_space: true,
    },
    // JavaScript encodeURIComponent.
    KeptSet {
        label: "encodeURIComponent",
        alphanumeric: true,
        kept: b"-_.!~*'()",
        plus_for_space: true,
    },
    // Python quote() with its default safe='/'.
    KeptSet {
        label: "path segment ('/' kept)",
        alphanumeric: true,
        kept: b"-._~/",
        plus_for_space: true,
    },
    // PHP urlencode, Java URLEncoder.
    KeptSet {
        label: "form encoding ('-_.*' kept)",
        alphanumeric: true,
        kept: b"-_.*",
        plus_for_space: true,
    },
    // JavaScript encodeURI: reserved characters stay, so '+' is ambiguous for a space.
    KeptSet {
        label: "encodeURI",
        alphanumeric: true,
        kept: b"-_.!~*'();,/?:@&=+$#",
        plus_for_space: false,
    },
    // Only letters and digits kept: Rust's percent-encoding NON_ALPHANUMERIC, Ruby, shells.
    KeptSet {
        label: "letters and digits kept",
        alphanumeric: true,
        kept: b"",
        plus_for_space: true,
    },
    // Every byte escaped, as obfuscating tools do.
    KeptSet {
        label: "every byte escaped",
        alphanumeric: false,
        kept: b"",
        plus_for_space: false,
    },
];

fn encode(secret: &[u8], set: &KeptSet, plus: bool, upper: bool) -> Vec<u8> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(secret.len() * 3);
    for &b in secret {
        if plus && b == b' ' {
            out.push(b'+');
        } else if (set.alphanumeric && b.is_ascii_alphanumeric()) || set.kept.contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[
                b'%',
                digits[usize::from(b >> 4)],
                digits[usize::from(b & 15)],
            ]);
        }
    }
    out
}

impl Encoding for Percent {
    fn name(&self) -> &'static str {
        "percent"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let mut variants = Vec::new();
        for set in KEPT_SETS {
            for plus in [false, true] {
                if plus && !set.plus_for_space {
                    continue;
                }
                for upper in [true, false] {
                    let space = if plus {
                        "'+' for space"
                    } else {
                        "%20 for space"
                    };
                    let case = if upper {
                        "upper-case hex"
                    } else {
                        "lower-case hex"
                    };
                    variants.push(Variant::exact(
                        encode(secret, set, plus, upper),
                        format!("{}, {space}, {case}", set.label),
                    ));
                }
            }
        }
        variants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(secret: &[u8]) -> Vec<Vec<u8>> {
        Percent
            .variants(secret)
            .into_iter()
            .map(|v| v.pattern.to_vec())
            .collect()
    }

    #[test]
    fn covers_python_quote_and_quote_plus() {
        let all = patterns(b"a/b+c=d&e%f\"g h");
        // urllib.parse.quote(s, safe='')
        assert!(all.contains(&b"a%2Fb%2Bc%3Dd%26e%25f%22g%20h".to_vec()));
        // urllib.parse.quote_plus(s)
        assert!(all.contains(&b"a%2Fb%2Bc%3Dd%26e%25f%22g+h".to_vec()));
        // urllib.parse.quote(s) keeps '/'
        assert!(all.contains(&b"a/b%2Bc%3Dd%26e%25f%22g%20h".to_vec()));
        // lower-case hex digits
        assert!(all.contains(&b"a%2fb%2bc%3dd%26e%25f%22g%20h".to_vec()));
        // encodeURI keeps reserved characters
        assert!(all.contains(&b"a/b+c=d&e%25f%22g%20h".to_vec()));
    }

    #[test]
    fn every_byte_escaped() {
        assert!(patterns(b"ab").contains(&b"%61%62".to_vec()));
    }
}
