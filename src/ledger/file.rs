//! The ledger file: JSON Lines, a header line then one [`Entry`] per line.
//!
//! ```text
//! {"scour_ledger":1,"hash":"sha256(salt || secret)","salt":"<32 hex digits>"}
//! {"id":"SEC-1234","label":"CI deploy token","date":"2026-11-30","sha256":"…","length":40,"class":"base64url","rule":"github-pat-classic","prefix":"ghp_"}
//! ```
//!
//! One random salt per ledger, stored in the header. A scan hashes each candidate once and
//! looks it up in a hash set, which only works if every entry shares the salt: per-entry
//! salts would cost one hash per entry per candidate. The salt stops precomputed tables and
//! stops two ledgers from revealing that they hold the same secret; it does not stop
//! someone holding the ledger from guessing a weak password offline (SHA-256 is fast, and a
//! slow hash would make every candidate in every scanned byte slow too). So: a ledger of
//! random tokens reveals nothing usable; a ledger holding human-chosen passwords is as
//! sensitive as a password hash dump and should be shared like one.
//!
//! Appending is one `write` in append mode of all the lines one `ledger add` adds, and one
//! `fsync`, so concurrent `ledger add`s do not interleave and adding 100,000 secrets costs one
//! flush to disk, not 100,000. Reading is strict: a malformed line or an unknown format version is an error
//! naming the line, never a silently shorter ledger (which would turn into a false
//! "absent").

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::entry::Entry;
use crate::secret::Salt;

/// The only ledger format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;
const HASH_SCHEME: &str = "sha256(salt || secret)";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    scour_ledger: u64,
    hash: String,
    salt: String,
}

/// A loaded ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub path: PathBuf,
    pub salt: Salt,
    pub entries: Vec<Entry>,
    /// SHA-256 of the file's bytes as read, so a report names exactly which ledger it used.
    pub file_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("could not read ledger {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("could not write ledger {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a scour ledger: line 1 must be the ledger header ({problem}); check the --ledger path")]
    NoHeader { path: String, problem: String },
    #[error(
        "ledger {path} has format version {found}; this scour reads version {FORMAT_VERSION} — \
         use a scour release that supports it"
    )]
    UnknownVersion { path: String, found: u64 },
    #[error("ledger {path} uses hash scheme {found:?}; this scour only knows {HASH_SCHEME:?}")]
    UnknownHash { path: String, found: String },
    #[error("ledger {path} line {line} is malformed ({problem}); fix or remove that line — no scan runs on a partly read ledger")]
    Malformed {
        path: String,
        line: usize,
        problem: String,
    },
}

impl Ledger {
    /// Reads and validates a whole ledger.
    pub fn load(path: &Path) -> Result<Ledger, LedgerError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LedgerError::Read {
            path: shown.clone(),
            source,
        })?;
        Ledger::parse(path, &bytes)
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Ledger, LedgerError> {
        let shown = path.display().to_string();
        let malformed = |line: usize, problem: String| LedgerError::Malformed {
            path: shown.clone(),
            line,
            problem,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            malformed(line, "not UTF-8".into())
        })?;
        let mut lines = text.split('\n').enumerate();
        let header_line = lines.next().map(|(_, l)| l).unwrap_or_default();
        let salt = parse_header(&shown, header_line)?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (index, line) in lines {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry =
                serde_json::from_str(line).map_err(|e| malformed(index + 1, e.to_string()))?;
            validate(&entry).map_err(|problem| malformed(index + 1, problem))?;
            if !ids.insert(entry.id.clone()) {
                return Err(malformed(
                    index + 1,
                    format!("id {} is used by an earlier entry", entry.id),
                ));
            }
            entries.push(entry);
        }
        Ok(Ledger {
            path: path.to_path_buf(),
            salt,
            entries,
            file_sha256: hex::encode(Sha256::digest(bytes)),
        })
    }

    /// Opens a ledger to add to, creating it (with a fresh salt) if it does not exist.
    pub fn open_or_create(path: &Path) -> Result<Ledger, LedgerError> {
        match std::fs::metadata(path) {
            Ok(_) => Ledger::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let header = Header {
                    scour_ledger: FORMAT_VERSION,
                    hash: HASH_SCHEME.into(),
                    salt: Salt::random().to_hex(),
                };
                let mut line = serde_json::to_vec(&header).unwrap_or_default();
                line.push(b'\n');
                append_bytes(path, &line, true)?;
                Ledger::load(path)
            }
            Err(source) => Err(LedgerError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Appends one entry as one line.
    pub fn append(&mut self, entry: Entry) -> Result<(), LedgerError> {
        self.append_all(vec![entry])
    }

    /// Appends entries, one line each, in one write and one flush to disk.
    pub fn append_all(&mut self, entries: Vec<Entry>) -> Result<(), LedgerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(entries.len() * 200);
        for entry in &entries {
            serde_json::to_writer(&mut lines, entry).unwrap_or_default();
            lines.push(b'\n');
        }
        append_bytes(&self.path, &lines, false)?;
        self.entries.extend(entries);
        Ok(())
    }
}

fn parse_header(path: &str, line: &str) -> Result<Salt, LedgerError> {
    let no_header = |problem: String| LedgerError::NoHeader {
        path: path.to_string(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(line.trim_end_matches('\r')).map_err(|e| no_header(e.to_string()))?;
    let version = value
        .get("scour_ledger")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| no_header("no \"scour_ledger\" version number".into()))?;
    if version != FORMAT_VERSION {
        return Err(LedgerError::UnknownVersion {
            path: path.to_string(),
            found: version,
        });
    }
    let header: Header = serde_json::from_value(value).map_err(|e| no_header(e.to_string()))?;
    if header.hash != HASH_SCHEME {
        return Err(LedgerError::UnknownHash {
            path: path.to_string(),
            found: header.hash,
        });
    }
    Salt::from_hex(&header.salt).ok_or_else(|| no_header("the salt is not 32 hex digits".into()))
}

fn validate(entry: &Entry) -> Result<(), String> {
    if entry.id.trim().is_empty() {
        return Err("empty id".into());
    }
    if entry.sha256.len() != 64 || hex::decode(&entry.sha256).is_err() {
        return Err("sha256 is not 64 hex digits".into());
    }
    if entry.length < crate::secret::MIN_SECRET_LEN {
        return Err(format!("length {} is below the minimum", entry.length));
    }
    if let Some(sieve) = &entry.sieve {
        if super::sieve::from_hex(sieve).is_none() {
            return Err("sieve is not 6 hex digits".into());
        }
    }
    if let Some(prefix) = &entry.prefix {
        if prefix.len() >= entry.length {
            return Err("the prefix is as long as the secret".into());
        }
    }
    Ok(())
}

fn append_bytes(path: &Path, bytes: &[u8], create_new: bool) -> Result<(), LedgerError> {
    let write_error = |source| LedgerError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create_new(create_new)
        .open(path)
        .map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger_text(body: &str) -> String {
        format!(
            "{{\"scour_ledger\":1,\"hash\":\"sha256(salt || secret)\",\"salt\":\"{}\"}}\n{body}",
            "ab".repeat(16)
        )
    }

    #[test]
    fn unknown_version_and_malformed_lines_are_errors() {
        let path = Path::new("l.jsonl");
        let v2 = "{\"scour_ledger\":2,\"hash\":\"x\",\"salt\":\"00\"}\n";
        assert!(matches!(
            Ledger::parse(path, v2.as_bytes()),
            Err(LedgerError::UnknownVersion { found: 2, .. })
        ));
        let bad = ledger_text("{\"id\":\"a\"\n");
        match Ledger::parse(path, bad.as_bytes()) {
            Err(LedgerError::Malformed { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Ledger::parse(path, b"hello\n"),
            Err(LedgerError::NoHeader { .. })
        ));
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let entry = format!(
            "{{\"id\":\"X\",\"date\":\"2026-01-01\",\"sha256\":\"{}\",\"length\":10,\"class\":\"alnum\"}}\n",
            "0".repeat(64)
        );
        let text = ledger_text(&format!("{entry}{entry}"));
        assert!(matches!(
            Ledger::parse(Path::new("l"), text.as_bytes()),
            Err(LedgerError::Malformed { line: 3, .. })
        ));
    }
}
