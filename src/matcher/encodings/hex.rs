//! Hexadecimal, two digits per byte, in lower and upper case.

use super::{Encoding, Variant};

pub struct Hex;

impl Encoding for Hex {
    fn name(&self) -> &'static str {
        "hex"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let lower = hex::encode(secret).into_bytes();
        let upper = hex::encode_upper(secret).into_bytes();
        vec![
            Variant::exact(lower, "lower case"),
            Variant::exact(upper, "upper case"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cases() {
        let variants = Hex.variants(b"\xab\x01zz");
        assert_eq!(&variants[0].pattern[..], b"ab017a7a");
        assert_eq!(&variants[1].pattern[..], b"AB017A7A");
    }
}
