//! One ledger entry: what a ledger may say about a revoked secret, and nothing more.
//!
//! An entry holds the secret's salted SHA-256, its length and character class (so scans
//! know which tokens could be it), the rule that recognises its format, and the public
//! prefix that format defines (`ghp_`), and a few bits of a salted rolling hash of it
//! ([`super::sieve`]). Never the secret or any other part of it.

use serde::{Deserialize, Serialize};

/// The smallest set of bytes a secret is made of. Scans cut text into candidate tokens at
/// bytes outside the class, so the class decides where a secret can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CharClass {
    /// `0-9`
    Digits,
    /// `0-9 a-f A-F`
    Hex,
    /// `0-9 A-Z a-z`
    Alnum,
    /// alnum and `- _`
    Base64url,
    /// alnum and `+ / =`
    Base64,
    /// alnum and `- _ . + / = ~`
    Token,
    /// printable ASCII except space and quotes (`" ' ` + "`" + `)
    Printable,
    /// anything but line breaks and NUL (spaces, quotes, non-ASCII)
    Any,
}

impl CharClass {
    /// Narrowest first: a secret's class is the first that holds every byte of it.
    pub const ALL: [CharClass; 8] = [
        CharClass::Digits,
        CharClass::Hex,
        CharClass::Alnum,
        CharClass::Base64url,
        CharClass::Base64,
        CharClass::Token,
        CharClass::Printable,
        CharClass::Any,
    ];

    pub fn of(secret: &[u8]) -> CharClass {
        CharClass::ALL
            .into_iter()
            .find(|class| secret.iter().all(|&b| class.contains(b)))
            .unwrap_or(CharClass::Any)
    }

    pub fn contains(self, byte: u8) -> bool {
        let alnum = byte.is_ascii_alphanumeric();
        match self {
            CharClass::Digits => byte.is_ascii_digit(),
            CharClass::Hex => byte.is_ascii_hexdigit(),
            CharClass::Alnum => alnum,
            CharClass::Base64url => alnum || matches!(byte, b'-' | b'_'),
            CharClass::Base64 => alnum || matches!(byte, b'+' | b'/' | b'='),
            CharClass::Token => {
                alnum || matches!(byte, b'-' | b'_' | b'.' | b'+' | b'/' | b'=' | b'~')
            }
            CharClass::Printable => byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'`'),
            CharClass::Any => !matches!(byte, b'\n' | b'\r' | 0),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CharClass::Digits => "digits",
            CharClass::Hex => "hex",
            CharClass::Alnum => "alnum",
            CharClass::Base64url => "base64url",
            CharClass::Base64 => "base64",
            CharClass::Token => "token",
            CharClass::Printable => "printable",
            CharClass::Any => "any",
        }
    }
}

/// Bytes that commonly end a name or start a value (`KEY=value`, `user:pass@`), where a
/// candidate may begin or end even though the byte itself belongs to the class.
pub fn is_separator(byte: u8) -> bool {
    matches!(
        byte,
        b'=' | b':'
            | b','
            | b';'
            | b'&'
            | b'?'
            | b'@'
            | b'/'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
            | b'|'
            | b' '
            | b'\t'
            | b'"'
            | b'\''
            | b'`'
    )
}

/// One revoked secret as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Unique within the ledger: the ticket given with `--id`, or `L-` and 12 hex digits of
    /// the hash. Findings name the secret by this id.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Day the entry was added (UTC, `YYYY-MM-DD`).
    pub date: String,
    /// `SHA-256(ledger salt || secret)` in hex.
    pub sha256: String,
    /// Length of the secret in bytes.
    pub length: usize,
    pub class: CharClass,
    /// Id of the rule whose capture is exactly this secret, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The public prefix the rule's format defines (`ghp_`), never more of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Six hex digits of a salted rolling hash of the secret (see
    /// [`super::sieve`]): lets a scan test every window of a long token run for this
    /// entry without a SHA-256 per window. Only for entries no rule recognises; absent in
    /// entries written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sieve: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_is_the_narrowest_that_fits() {
        assert_eq!(CharClass::of(b"12345678"), CharClass::Digits);
        assert_eq!(CharClass::of(b"deadBEEF99"), CharClass::Hex);
        assert_eq!(CharClass::of(b"ghp_abcXYZ0123"), CharClass::Base64url);
        assert_eq!(CharClass::of(b"abc+def/ghi="), CharClass::Base64);
        assert_eq!(CharClass::of(b"a-b+c.d~e"), CharClass::Token);
        assert_eq!(CharClass::of(b"Tr0ub4dor&3!"), CharClass::Printable);
        assert_eq!(CharClass::of(b"correct horse battery"), CharClass::Any);
    }
}
