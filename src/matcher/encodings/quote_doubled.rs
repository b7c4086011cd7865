//! Quotes written twice, or closed and reopened, inside a quoted field: CSV (`""` for `"`,
//! as every password-manager export writes it: Bitwarden, 1Password, KeePass, Chrome), SQL
//! string literals and YAML single-quoted scalars (`''` for `'`), and shell single quotes
//! (`'\''` and `'"'"'` for `'`, as `shlex.quote` and many scripts write them).
//!
//! A forward variant is enough: each is the secret with one character replaced, and the
//! field around it is read as it is. A secret without the quote character gives its raw
//! bytes, which the matcher drops as a repeat.

use super::{Encoding, Variant};

pub struct QuoteDoubled;

fn replaced(secret: &[u8], quote: u8, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(secret.len() + 8);
    for &b in secret {
        if b == quote {
            out.extend_from_slice(with);
        } else {
            out.push(b);
        }
    }
    out
}

impl Encoding for QuoteDoubled {
    fn name(&self) -> &'static str {
        "quote-doubled"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        vec![
            Variant::exact(replaced(secret, b'"', b"\"\""), "CSV field (\"\" for \")"),
            Variant::exact(
                replaced(secret, b'\'', b"''"),
                "SQL or YAML single-quoted string ('' for ')",
            ),
            Variant::exact(
                replaced(secret, b'\'', b"'\\''"),
                "shell single quotes ('\\'' for ')",
            ),
            Variant::exact(
                replaced(secret, b'\'', b"'\"'\"'"),
                "shell single quotes ('\"'\"' for ')",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_or_reopened() {
        let patterns: Vec<Vec<u8>> = QuoteDoubled
            .variants(b"a\"b'c")
            .into_iter()
            .map(|v| v.pattern.to_vec())
            .collect();
        assert!(patterns.contains(&b"a\"\"b'c".to_vec()));
        assert!(patterns.contains(&b"a\"b''c".to_vec()));
        assert!(patterns.contains(&b"a\"b'\\''c".to_vec()));
        assert!(patterns.contains(&b"a\"b'\"'\"'c".to_vec()));
    }
}
