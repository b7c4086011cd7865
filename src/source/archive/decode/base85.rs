//! The base85 alphabets and their decoders: RFC 1924 (also git's binary patches and
//! Python's `base64.b85encode`), ZeroMQ's Z85 and Adobe's Ascii85.
//!
//! All three read groups of five characters as a big-endian 32-bit number, most significant
//! digit first; a short last group is padded with the highest digit and its extra bytes
//! dropped. They differ in the alphabet (and Ascii85 in `z` for four zero bytes, decoded by
//! its finder).

/// RFC 1924 / git / Python `b85encode`.
pub(crate) const RFC1924: &[u8; 85] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
/// ZeroMQ Z85.
pub(crate) const Z85: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Each byte's digit in an alphabet (255: not in it).
pub(crate) const fn digits(alphabet: &[u8; 85]) -> [u8; 256] {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < 85 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

pub(crate) const RFC1924_DIGITS: [u8; 256] = digits(RFC1924);
pub(crate) const Z85_DIGITS: [u8; 256] = digits(Z85);

/// Decodes digits (already mapped, each below 85) onto `out`; `None` if a group overflows
/// 32 bits (not base85).
pub(crate) fn decode_digits(digits: &[u8], out: &mut Vec<u8>) -> Option<()> {
    for group in digits.chunks(5) {
        let mut value: u64 = 0;
        for i in 0..5 {
            value = value * 85 + u64::from(group.get(i).copied().unwrap_or(84));
        }
        let value = u32::try_from(value).ok()?;
        let bytes = value.to_be_bytes();
        let keep = if group.len() == 5 {
            4
        } else {
            group.len().saturating_sub(1)
        };
        out.extend_from_slice(&bytes[..keep]);
    }
    Some(())
}

/// Decodes text in an alphabet; `None` if a character is not in it or a group overflows.
pub(crate) fn decode(text: &[u8], table: &[u8; 256], out: &mut Vec<u8>) -> Option<()> {
    let mut digits = Vec::with_capacity(text.len());
    for &c in text {
        match table[c as usize] {
            255 => return None,
            digit => digits.push(digit),
        }
    }
    decode_digits(&digits, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Python: base64.b85encode(b"hello world") == b"Xk~0{Zy<MXa%^M"
        let mut out = Vec::new();
        decode(b"Xk~0{Zy<MXa%^M", &RFC1924_DIGITS, &mut out).unwrap();
        assert_eq!(out, b"hello world");
        // Z85 spec: 0x86 0x4F 0xD2 0x6F 0xB5 0x59 0xF7 0x5B is "HelloWorld".
        out.clear();
        decode(b"HelloWorld", &Z85_DIGITS, &mut out).unwrap();
        assert_eq!(out, [0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    }
}
