//! The window sieve: a cheap test that tells which windows of a long token run could be a
//! ledger entry, so every window of an entry's length can be looked at without hashing
//! each one with SHA-256.
//!
//! A secret glued to a long run of its own class (`xxxxxxxx…<secret>`, the tail of a
//! colour code, the middle of a base64 blob) is one of the run's windows of its length,
//! but which one is unknown. Hashing every window with SHA-256 would cost one hash per
//! byte per entry length. Instead `ledger add` stores, per entry, a [`SIEVE_BITS`]-bit
//! *sieve*: the low bits of a polynomial rolling hash of the secret, its base derived from
//! the ledger's salt. A scan rolls the same hash over each long run for each entry length
//! (two multiplications per byte and length), tests the window's bits against a bitmap of
//! the entries' sieves, and only a window that passes is hashed with SHA-256 and looked up.
//!
//! What the sieve gives away: [`SIEVE_BITS`] bits of a salted, non-cryptographic function
//! of the secret, on top of the salted SHA-256 the entry already holds. For a random token
//! of 80 bits or more this leaves the guessing cost far out of reach; for a weak password
//! the SHA-256 was already enough to test guesses offline (see [`super::file`]). Entries
//! written before the sieve existed have none and keep the short-glue limit
//! ([`super::tokens::MAX_GLUE`]).

use sha2::{Digest, Sha256};

use crate::secret::Salt;

/// Bits of the rolling hash an entry stores.
pub const SIEVE_BITS: u32 = 24;

/// The Mersenne prime 2^61 - 1: products fit in 128 bits and reduce with shifts.
const MODULUS: u64 = (1 << 61) - 1;

/// The hash's base for a ledger: from its salt, so two ledgers' sieves are unrelated.
pub fn base(salt: &Salt) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"scour-sieve-v1")
        .chain_update(salt.0)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // A base of 0 or 1 would make the hash blind to order or content.
    (u64::from_le_bytes(first) % (MODULUS - 3)) + 2
}

fn mul(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    let folded = (product as u64 & MODULUS) + (product >> 61) as u64;
    if folded >= MODULUS {
        folded - MODULUS
    } else {
        folded
    }
}

fn add(a: u64, b: u64) -> u64 {
    let sum = a + b;
    if sum >= MODULUS {
        sum - MODULUS
    } else {
        sum
    }
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b {
        a - b
    } else {
        a + MODULUS - b
    }
}

/// A byte as a digit of the hash: never 0, so leading bytes always count.
fn digit(byte: u8) -> u64 {
    u64::from(byte) + 1
}

fn low_bits(hash: u64) -> u32 {
    (hash & ((1 << SIEVE_BITS) - 1)) as u32
}

/// The sieve `ledger add` stores for `secret`.
pub fn of_secret(salt: &Salt, secret: &[u8]) -> u32 {
    let base = base(salt);
    low_bits(
        secret
            .iter()
            .fold(0, |hash, &byte| add(mul(hash, base), digit(byte))),
    )
}

/// As a ledger line writes it: six hex digits.
pub fn to_hex(sieve: u32) -> String {
    format!("{sieve:06x}")
}

pub fn from_hex(text: &str) -> Option<u32> {
    if text.len() != (SIEVE_BITS / 4) as usize {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// The sieves of the entries of one class, ready to test windows against.
#[derive(Debug, Clone)]
pub struct WindowSieve {
    base: u64,
    /// Entry lengths that have sieves, ascending, each with `base^length`.
    lengths: Vec<(usize, u64)>,
    /// One bit per value of the sieve's low `mask` bits; set for every entry's sieve.
    bitmap: Vec<u64>,
    mask: u32,
}

impl WindowSieve {
    /// `None` when no entry of the class has a sieve.
    pub fn new(salt: &Salt, sieves: &[(usize, u32)]) -> Option<WindowSieve> {
        if sieves.is_empty() {
            return None;
        }
        let base = base(salt);
        let mut lengths: Vec<usize> = sieves.iter().map(|&(length, _)| length).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let lengths = lengths
            .into_iter()
            .map(|length| {
                let power = (0..length).fold(1, |power, _| mul(power, base));
                (length, power)
            })
            .collect();
        // About a thousand bits per entry (a window passes by chance once in a thousand
        // or better), within the bits stored: 8 KiB for one entry, 2 MiB at most.
        let bits = (sieves.len() * 1024)
            .next_power_of_two()
            .clamp(1 << 16, 1 << SIEVE_BITS);
        let mask = (bits - 1) as u32;
        let mut bitmap = vec![0u64; bits / 64];
        for &(_, sieve) in sieves {
            let bit = sieve & mask;
            bitmap[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        Some(WindowSieve {
            base,
            lengths,
            bitmap,
            mask,
        })
    }

    fn passes(&self, hash: u64) -> bool {
        let bit = low_bits(hash) & self.mask;
        self.bitmap[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// Calls `on_window` for every window of an entry length inside `run` (a run of the
    /// class, all of it in `bytes`) that starts at or after `first_start`, is shorter than
    /// the run, and passes the sieve. Linear in the run's length for each entry length.
    pub fn for_each_window(
        &self,
        bytes: &[u8],
        run: std::ops::Range<usize>,
        first_start: usize,
        last_start: usize,
        on_window: &mut dyn FnMut(std::ops::Range<usize>),
    ) {
        let run_bytes = &bytes[run.clone()];
        for &(length, power) in &self.lengths {
            // A window as long as the run is the delimited token, already a candidate.
            if length >= run_bytes.len() {
                break;
            }
            let mut hash = 0;
            for (at, &byte) in run_bytes.iter().enumerate() {
                hash = add(mul(hash, self.base), digit(byte));
                if at >= length {
                    hash = sub(hash, mul(digit(run_bytes[at - length]), power));
                }
                if at + 1 < length {
                    continue;
                }
                let start = run.start + at + 1 - length;
                if start > last_start {
                    break;
                }
                if start >= first_start && self.passes(hash) {
                    on_window(start..start + length);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rolled_hash_of_a_window_is_the_secrets_sieve() {
        let salt = Salt([3; 16]);
        let secret = b"Zq8xLm2Wv9Rt4Yp7Kd3N";
        let sieve =
            WindowSieve::new(&salt, &[(secret.len(), of_secret(&salt, secret))]).expect("a sieve");
        let mut run = b"x".repeat(300);
        run.extend_from_slice(secret);
        run.extend_from_slice(&b"y".repeat(77));
        let mut windows = Vec::new();
        sieve.for_each_window(&run, 0..run.len(), 0, usize::MAX, &mut |w| windows.push(w));
        assert!(windows.contains(&(300..320)), "{windows:?}");
        // Few others pass by chance.
        assert!(windows.len() < 5, "{windows:?}");
        assert_eq!(
            from_hex(&to_hex(of_secret(&salt, secret))),
            Some(of_secret(&salt, secret))
        );
    }

    #[test]
    fn another_salt_gives_another_sieve() {
        let secret = b"Zq8xLm2Wv9Rt4Yp7Kd3N";
        let sieves: std::collections::HashSet<u32> = (0..8u8)
            .map(|n| of_secret(&Salt([n; 16]), secret))
            .collect();
        assert!(sieves.len() > 4);
    }
}
