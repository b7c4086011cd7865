//! Encodings: every way a secret can be written down in a file.
//!
//! Each encoding is one small unit that turns a secret into the exact byte patterns it
//! produces ([`Variant`]s). The matcher compiles the variants of every encoding of every
//! secret into one automaton, so a file is read once whatever the number of encodings.
//!
//! To add an encoding: write a file here with a type implementing [`Encoding`] and a test of
//! its output, then list it in [`all`]. Variants that repeat another encoding's bytes are
//! dropped by the matcher, so an encoding need not check for overlap with the others.

mod base64;
mod ebcdic;
mod hex;
mod html;
mod json;
mod percent;
mod quote_doubled;
mod raw;
mod utf16;

use std::sync::Arc;

use zeroize::Zeroizing;

pub use self::base64::{Alphabet, Edge, Edges};

/// One exact byte pattern under which a secret appears.
pub struct Variant {
    /// The bytes to search for. Derived from the secret, so wiped on drop.
    pub pattern: Zeroizing<Vec<u8>>,
    /// Which form of the encoding, for the report: e.g. "standard alphabet, offset 1 of 3".
    /// Shared: the wrapped base64 variants of one secret repeat a few dozen details.
    pub detail: Arc<str>,
    /// Bits just outside the pattern that must also agree (only base64 uses this).
    pub edges: Edges,
}

impl Variant {
    pub fn exact(pattern: Vec<u8>, detail: impl Into<Arc<str>>) -> Variant {
        Variant {
            pattern: Zeroizing::new(pattern),
            detail: detail.into(),
            edges: Edges::default(),
        }
    }
}

/// A way of writing bytes down (raw, base64, hex, ...).
pub trait Encoding: Sync {
    /// Stable name used in reports and SARIF rule ids.
    fn name(&self) -> &'static str;
    /// Every pattern under which `secret` appears when written with this encoding.
    fn variants(&self, secret: &[u8]) -> Vec<Variant>;
}

/// Every encoding scour searches for, in the order findings prefer them when two
/// encodings produce the same bytes (raw first).
pub fn all() -> Vec<&'static dyn Encoding> {
    vec![
        &raw::Raw,
        &percent::Percent,
        &json::JsonEscaped,
        &html::HtmlEntities,
        &quote_doubled::QuoteDoubled,
        &hex::Hex,
        &base64::Base64,
        &base64::Base64Url,
        &base64::Base64Wrapped,
        &utf16::Utf16Le,
        &utf16::Utf16Be,
        &ebcdic::Ebcdic,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_has_a_unique_name_and_produces_variants() {
        let secret = b"p@ss w/ \"quotes\" & 100% + more=";
        let mut names = std::collections::HashSet::new();
        for encoding in all() {
            assert!(
                names.insert(encoding.name()),
                "{} listed twice",
                encoding.name()
            );
            assert!(
                !encoding.variants(secret).is_empty(),
                "{} gave no variant",
                encoding.name()
            );
        }
    }
}
