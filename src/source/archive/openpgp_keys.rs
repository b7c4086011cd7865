//! OpenPGP key packets: what `gpg --export` (a keyring, `.gpg` under `/etc/apt/keyrings`),
//! `gpg --export-secret-keys` and a de-armored `PUBLIC KEY BLOCK` hold.
//!
//! A keyring is a run of packets (keys, user ids, signatures, subkeys) whose key material
//! is high-entropy by nature, so a keyring of a few dozen keys would read as `opaque` if no
//! layer claimed it. Its packets are parsed by [`super::openpgp`] like any message's; this
//! file says whether a head starts with a key packet (checked by its structure: version,
//! algorithm, and public fields that end exactly where the packet does) and whether a
//! secret key packet's secret part is passphrase-protected, which is an `encrypted` gap:
//! what it protects cannot be read without the passphrase.

/// Packet tags of keys (RFC 9580 section 5.5).
pub(crate) const TAG_SECRET_KEY: u8 = 5;
pub(crate) const TAG_PUBLIC_KEY: u8 = 6;
pub(crate) const TAG_SECRET_SUBKEY: u8 = 7;
pub(crate) const TAG_PUBLIC_SUBKEY: u8 = 14;

/// Whether `body` (a key packet's whole body) is a public key's fields, ending exactly at
/// the body's end for a public key, or followed by a secret part for a secret key.
pub(crate) fn public_fields_fit(tag: u8, body: &[u8]) -> bool {
    match public_fields_end(body) {
        Some(end) if matches!(tag, TAG_PUBLIC_KEY | TAG_PUBLIC_SUBKEY) => end == body.len(),
        Some(end) => end < body.len(),
        None => false,
    }
}

/// For a secret key packet's body: `Some(true)` when its secret part is protected (the
/// S2K usage octet is not 0), `Some(false)` when it is stored in the clear, `None` when
/// the body is not a key's.
pub(crate) fn secret_part_is_protected(body: &[u8]) -> Option<bool> {
    let end = public_fields_end(body)?;
    body.get(end).map(|&usage| usage != 0)
}

/// Offset in `body` just past the public key fields.
fn public_fields_end(body: &[u8]) -> Option<usize> {
    let version = *body.first()?;
    match version {
        // Version, creation time, days valid, algorithm (RSA only), MPIs.
        3 => {
            let algorithm = *body.get(7)?;
            matches!(algorithm, 1..=3).then_some(())?;
            fields_end(body, 8, algorithm)
        }
        4 => fields_end(body, 6, *body.get(5)?),
        // Version, creation time, algorithm, a 4-octet count of the key material.
        5 | 6 => {
            let algorithm = *body.get(5)?;
            known_algorithm(algorithm).then_some(())?;
            let count = body.get(6..10)?;
            let count = u32::from_be_bytes([count[0], count[1], count[2], count[3]]) as usize;
            let end = 10usize.checked_add(count)?;
            (end <= body.len()).then_some(end)
        }
        _ => None,
    }
}

fn known_algorithm(algorithm: u8) -> bool {
    matches!(algorithm, 1..=3 | 16..=20 | 22 | 25..=28)
}

/// Walks algorithm `algorithm`'s public fields from `at`.
fn fields_end(body: &[u8], at: usize, algorithm: u8) -> Option<usize> {
    let mpis = |at: usize, count: usize| (0..count).try_fold(at, |at, _| mpi_end(body, at));
    match algorithm {
        1..=3 => mpis(at, 2),
        16 | 20 => mpis(at, 3),
        17 => mpis(at, 4),
        // An OID (a length octet, then the OID), then the point.
        19 | 22 => mpi_end(body, oid_end(body, at)?),
        // ECDH adds its KDF parameters (a length octet, then the parameters).
        18 => {
            let at = mpi_end(body, oid_end(body, at)?)?;
            let length = usize::from(*body.get(at)?);
            (length >= 3).then_some(())?;
            checked_end(body, at + 1 + length)
        }
        // Native keys: fixed-size octet strings.
        25 | 27 => checked_end(body, at + 32),
        26 => checked_end(body, at + 56),
        28 => checked_end(body, at + 57),
        _ => None,
    }
}

fn oid_end(body: &[u8], at: usize) -> Option<usize> {
    let length = usize::from(*body.get(at)?);
    (1..0xFF).contains(&length).then_some(())?;
    checked_end(body, at + 1 + length)
}

/// A multiprecision integer: a 2-octet bit count, then its octets.
fn mpi_end(body: &[u8], at: usize) -> Option<usize> {
    let bits = body.get(at..at + 2)?;
    let bits = usize::from(u16::from_be_bytes([bits[0], bits[1]]));
    (bits > 0).then_some(())?;
    checked_end(body, at + 2 + bits.div_ceil(8))
}

fn checked_end(body: &[u8], end: usize) -> Option<usize> {
    (end <= body.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 4 Ed25519 public key: version, time, algorithm 22, OID, point.
    fn ed25519_public() -> Vec<u8> {
        let mut body = vec![4, 0x65, 0x00, 0x00, 0x00, 22];
        let oid = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01];
        body.push(oid.len() as u8);
        body.extend_from_slice(&oid);
        body.extend_from_slice(&[0x01, 0x07, 0x40]);
        body.extend_from_slice(&[0x5A; 32]);
        body
    }

    #[test]
    fn a_public_key_fits_its_packet_exactly() {
        let body = ed25519_public();
        assert!(public_fields_fit(TAG_PUBLIC_KEY, &body));
        assert!(!public_fields_fit(TAG_PUBLIC_KEY, &body[..body.len() - 1]));
        let mut longer = body.clone();
        longer.push(0);
        assert!(!public_fields_fit(TAG_PUBLIC_KEY, &longer));
        // A secret key is the public fields, then the secret part.
        assert!(public_fields_fit(TAG_SECRET_KEY, &longer));
        assert!(!public_fields_fit(
            TAG_PUBLIC_KEY,
            b"\x04random bytes that are no key"
        ));
    }

    #[test]
    fn a_secret_part_says_whether_it_is_protected() {
        let mut clear = ed25519_public();
        clear.extend_from_slice(&[0, 0x00, 0xFF]);
        assert_eq!(secret_part_is_protected(&clear), Some(false));
        let mut protected = ed25519_public();
        protected.extend_from_slice(&[254, 7, 3, 2]);
        assert_eq!(secret_part_is_protected(&protected), Some(true));
        assert_eq!(secret_part_is_protected(&ed25519_public()), None);
    }
}
