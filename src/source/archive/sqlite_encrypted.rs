//! Values Chromium encrypts inside its SQLite stores: an `encrypted` gap, never "absent".
//!
//! Chrome, Chromium, Edge, Brave, Opera, Vivaldi and Electron apps keep cookies
//! (`Cookies`: `encrypted_value`), saved passwords (`Login Data`: `password_value`) and OAuth
//! refresh tokens (`Web Data`: `token_service.encrypted_token`) as blobs that start with a
//! version tag, `v10`, `v11` or `v20`, followed by AES ciphertext under a key the operating
//! system's keyring (or `Local State`, through DPAPI) holds. A session token or password that
//! sits in a backed-up browser profile is in one of them, and no layer can read it: each
//! database that holds such values is one `encrypted` gap that says how many.
//!
//! A blob counts when the database's schema names a Chromium encrypted column (so an app's
//! own `v10` blob is not taken for one) and it is long enough to be ciphertext: the tag, and
//! at least one AES block (CBC on Linux and macOS) or a nonce and a tag (GCM on Windows).

use super::sqlite::varint;
use super::Walk;
use crate::coverage::GapKind;

/// Column names of Chromium's encrypted values, one of which the schema must hold.
const ENCRYPTED_COLUMNS: &[&[u8]] = &[
    b"encrypted_value",
    b"password_value",
    b"encrypted_token",
    b"card_number_encrypted",
    b"value_encrypted",
];
/// One search for every name of [`ENCRYPTED_COLUMNS`] (a page is looked at once, not once
/// per name), built once.
fn encrypted_columns() -> &'static aho_corasick::AhoCorasick {
    static SEARCHER: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    SEARCHER.get_or_init(|| {
        aho_corasick::AhoCorasick::new(ENCRYPTED_COLUMNS)
            .unwrap_or_else(|_| unreachable!("a few short literals always build"))
    })
}

/// The version tags of Chromium's encrypted values.
const TAGS: &[&[u8]] = &[b"v10", b"v11", b"v20"];
/// Shortest tagged blob that can be ciphertext: the tag and one AES block.
const SHORTEST: usize = 3 + 16;

/// What one database showed of Chromium's encrypted values, page by page.
#[derive(Default)]
pub(super) struct ChromiumValues {
    schema_names_one: bool,
    encrypted: usize,
}

impl ChromiumValues {
    /// Sees a page's bytes (the schema's `CREATE TABLE` text is in the pages of
    /// `sqlite_master`, wherever they are).
    pub(super) fn page(&mut self, page: &[u8]) {
        if !self.schema_names_one {
            self.schema_names_one = encrypted_columns().is_match(page);
        }
    }

    /// Sees one record (a cell's payload, or as much of it as the page holds).
    pub(super) fn record(&mut self, record: &[u8]) {
        self.encrypted += tagged_blobs(record);
    }

    /// Records the gap, if the database holds any encrypted value.
    pub(super) fn report(&self, walk: &Walk, chain: &[String]) {
        if !self.schema_names_one || self.encrypted == 0 {
            return;
        }
        let values = match self.encrypted {
            1 => "1 value".to_string(),
            n => format!("{n} values"),
        };
        walk.fail(
            GapKind::Encrypted,
            chain,
            format!(
                "{values} encrypted by Chromium (v10/v11/v20: cookies, saved passwords or \
                 tokens, AES under a key the operating system's keyring holds) could not be \
                 read; the rest of the database was read"
            ),
        );
    }
}

/// Blobs of a SQLite record (the file format, section 2.1) that start with a Chromium tag
/// and are long enough to be ciphertext. A record cut short (its value continues on overflow
/// pages) is read as far as it goes.
fn tagged_blobs(record: &[u8]) -> usize {
    let Some((header_len, mut at)) = varint(record) else {
        return 0;
    };
    let header_len = usize::try_from(header_len).unwrap_or(usize::MAX);
    let mut body = header_len;
    let mut count = 0;
    while at < header_len.min(record.len()) {
        let Some((serial, n)) = varint(&record[at..]) else {
            break;
        };
        at += n;
        let len = value_len(serial);
        if serial >= 12 && serial % 2 == 0 && len >= SHORTEST {
            let value = record.get(body..).unwrap_or_default();
            if TAGS.iter().any(|tag| value.starts_with(tag)) {
                count += 1;
            }
        }
        body = body.saturating_add(len);
    }
    count
}

/// Bytes a value of serial type `serial` takes in the record body.
fn value_len(serial: u64) -> usize {
    match serial {
        0 | 8 | 9 | 10 | 11 => 0,
        1..=4 => serial as usize,
        5 => 6,
        6 | 7 => 8,
        n => usize::try_from((n - 12) / 2).unwrap_or(usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of a text, an integer and a blob.
    fn record_of(text: &[u8], blob: &[u8]) -> Vec<u8> {
        let serials = [13 + 2 * text.len() as u8, 1, 12 + 2 * blob.len() as u8];
        let mut out = vec![1 + serials.len() as u8];
        out.extend_from_slice(&serials);
        out.extend_from_slice(text);
        out.push(7);
        out.extend_from_slice(blob);
        out
    }

    fn record(blob: &[u8]) -> Vec<u8> {
        record_of(b"session", blob)
    }

    #[test]
    fn tagged_ciphertext_blobs_are_counted() {
        let mut ciphertext = b"v10".to_vec();
        ciphertext.extend_from_slice(&[0xA5; 32]);
        assert_eq!(tagged_blobs(&record(&ciphertext)), 1);
        ciphertext[..3].copy_from_slice(b"v20");
        assert_eq!(tagged_blobs(&record(&ciphertext)), 1);
        // Too short to be ciphertext, or no tag: not counted.
        assert_eq!(tagged_blobs(&record(b"v10abc")), 0);
        assert_eq!(tagged_blobs(&record(&[0xA5; 40])), 0);
        // A text value that starts with a tag is not a blob.
        let text = [b"v10".as_slice(), &[b'x'; 30]].concat();
        assert_eq!(tagged_blobs(&record_of(&text, b"")), 0);
    }

    #[test]
    fn a_record_cut_short_is_read_as_far_as_it_goes() {
        let mut ciphertext = b"v11".to_vec();
        ciphertext.extend_from_slice(&[0x5A; 48]);
        let whole = record(&ciphertext);
        assert_eq!(tagged_blobs(&whole[..whole.len() - 20]), 1);
        assert_eq!(tagged_blobs(&whole[..5]), 0);
        assert_eq!(tagged_blobs(&[]), 0);
    }
}
