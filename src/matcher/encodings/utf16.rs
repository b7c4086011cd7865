//! UTF-16 in both byte orders, as Windows tools, PowerShell and some config stores write text.
//!
//! A secret that is not valid UTF-8 is widened byte by byte (Latin-1), which is what an
//! "ANSI to Unicode" conversion would produce.

use super::{Encoding, Variant};

pub struct Utf16Le;
pub struct Utf16Be;

fn code_units(secret: &[u8]) -> Vec<u16> {
    match std::str::from_utf8(secret) {
        Ok(text) => text.encode_utf16().collect(),
        Err(_) => secret.iter().map(|&b| u16::from(b)).collect(),
    }
}

impl Encoding for Utf16Le {
    fn name(&self) -> &'static str {
        "utf16le"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let bytes = code_units(secret)
            .into_iter()
            .flat_map(u16::to_le_bytes)
            .collect();
        vec![Variant::exact(bytes, "little endian")]
    }
}

impl Encoding for Utf16Be {
    fn name(&self) -> &'static str {
        "utf16be"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let bytes = code_units(secret)
            .into_iter()
            .flat_map(u16::to_be_bytes)
            .collect();
        vec![Variant::exact(bytes, "big endian")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_ascii_and_encodes_non_ascii() {
        assert_eq!(&Utf16Le.variants(b"ab")[0].pattern[..], b"a\0b\0");
        assert_eq!(&Utf16Be.variants(b"ab")[0].pattern[..], b"\0a\0b");
        assert_eq!(
            &Utf16Le.variants("é".as_bytes())[0].pattern[..],
            b"\xe9\x00"
        );
    }
}
