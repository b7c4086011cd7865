//! The revocation ledger: find revoked secrets by hash, without their plaintext.
//!
//! A security team revokes thousands of secrets a year, and a nightly sweep of artifact
//! stores should not need any of them in plaintext. The ledger ([`file`]) records, per
//! revoked secret, a salted SHA-256 and what is needed to recognise candidates (length,
//! character class, the [`rules`](crate::rules) id of its format, its public prefix) —
//! never the secret.
//!
//! A scan with a ledger extracts candidates from every window the matcher reads
//! ([`extract`]): rule captures and generic tokens ([`tokens`]). Each candidate is hashed
//! once and looked up in a hash set ([`index`]), so 100,000 entries cost about what one
//! does. A hit becomes a finding like a plaintext match, named by the entry's id. Encoded
//! content has no decoder here: the content pipeline's decode layers
//! (`source::archive::decode`, the same for both modes) decode every run and the matcher,
//! candidates included, reads the decoded bytes again, so a finding inside encoded content
//! names its decode path in its chain (`values.yaml › base64@12 › gzip@0`).
//!
//! Hash mode only sees whole candidates: what it cannot see is listed by
//! [`limitations`] and printed in every report that used a ledger.

pub mod entry;
pub mod extract;
pub mod file;
pub mod index;
mod runs;
pub mod sieve;
#[cfg(test)]
pub(crate) mod testing;
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
        "encoded content is seen through the decode layers of the content pipeline, as in \
         plaintext mode (base64 at any wrap width, hex, percent-encoding, backslash and JSON \
         escapes, UTF-16/32, quoted-printable with soft line breaks, numeric character \
         references, compression and archives inside them, and the other layers listed in \
         decoded_layers), up to the nesting limit; HTML named entities (&amp;), \
         quoted-printable on a line with no soft break, and shell quoting are not decoded \
         in hash mode",
        "a base64 run is decoded from its first byte only: base64 that starts mid-run (glued \
         to other base64 characters) is not decoded at the right alignment",
        "names (files, refs, symlink targets) and other text scour quotes are decoded at \
         most 3 layers deep, without the archive and compression formats",
        "a secret whose rule requires context (e.g. an AWS secret key next to its name) is \
         found through the generic token path only when delimited or glued as above",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}
