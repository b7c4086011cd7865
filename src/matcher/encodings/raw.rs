//! The secret's own bytes.

use super::{Encoding, Variant};

pub struct Raw;

impl Encoding for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        vec![Variant::exact(secret.to_vec(), "as is")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_is_the_secret() {
        let variants = Raw.variants(b"abcdefgh");
        assert_eq!(variants.len(), 1);
        assert_eq!(&variants[0].pattern[..], b"abcdefgh");
    }
}
