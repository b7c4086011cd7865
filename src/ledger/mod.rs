//! The revocation ledger: find revoked secrets by hash, without their plaintext.
//!
//! A security team revokes thousands of secrets a year, and a nightly sweep of artifact
//! stores should not need any of them in plaintext. The ledger ([`file`]) records, per
//! revoked secret, a salted SHA-256 and what is needed to recognise candidates (length,
//! character class, the [`rules`](crate::rules) id of its format, its public prefix) —
//! never the secret.
//!
//! A scan with a ledger extracts candidates from every window the matcher reads
//! ([`extract`]): rule captures, generic tokens ([`tokens`]) and the content of decoded
//! layers ([`decode`]). Each candidate is hashed once and looked up in a hash set
//! ([`index`]), so 100,000 entries cost about what one does. A hit becomes a finding like a
//! plaintext match, named by the entry's id.
//!
//! Hash mode only sees whole candidates: what it cannot see is listed by
//! [`limitations`] and printed in every report that used a ledger.

pub mod decode;
pub mod entry;
pub mod extract;
pub mod file;
pub mod index;
mod runs;
pub mod sieve;
pub mod tokens;

pub use entry::{CharClass, Entry};
pub use extract::{Extractor, LedgerHit, LedgerVia};
pub use file::{Ledger, LedgerError};
pub use index::Index;

/// What a ledger scan cannot see, stated in the report so "absent" is never claimed beyond
/// what was checked.
pub fn limitations() -> Vec<String> {
    [
        "hash mode compares whole candidate tokens: a revoked secret split across lines, \
         broken by inserted characters, or partly masked is not seen",
        "a secret that no rule recognises is seen when delimited (bytes outside its \
         character class, or a separator = : , ; & ? @ / quotes space, around it) or glued \
         to any number of bytes of its own class (xyz<secret>, a colour code's 31m, a long \
         run of letters); an entry written without a sieve (by an older scour ledger add) is \
         seen only when glued to at most 16 bytes in all",
        "decoded before extraction: base64 and base64url (also line-wrapped with equal line \
         lengths), hex, percent-encoding, JSON string escapes, UTF-16 text, up to 3 layers \
         deep; HTML entities, quoted-printable, shell escapes and other encodings are not \
         decoded in hash mode",
        "a base64 run is decoded from its first byte only: base64 that starts mid-run (glued \
         to other base64 characters) is not decoded at the right alignment",
        "a secret whose rule requires context (e.g. an AWS secret key next to its name) is \
         found through the generic token path only when delimited or glued as above",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}
