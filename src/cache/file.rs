//! The cache file: its format, reading it (refusing anything damaged) and writing it
//! atomically (a temporary file in the same directory, then a rename), so a crash mid-write
//! leaves the previous cache, never half of one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "scour-cache/1";
pub const FILE_NAME: &str = "scour-cache.json";

/// What the cache file holds. Never a secret: secrets appear only as fingerprints under the
/// cache's own salt; units only as hashes of their identity.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CacheFile {
    pub format: String,
    /// Hex salt of this cache's secret fingerprints (not the report's salt).
    pub salt: String,
    /// The engine digest the proofs were made under; a different engine discards them.
    pub engine: String,
    /// Sets of secret fingerprints that units were proven free of.
    pub sets: Vec<Vec<String>>,
    /// Unit identity hash → proof.
    pub entries: HashMap<String, Proof>,
}

/// A unit proven free of every secret of `sets[set]` at `proven_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub set: usize,
    pub proven_at: i64,
    /// The unit's content SHA-256 (hex), if it was hashed when proven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The cache in `dir`: `Ok(None)` if there is none yet, `Err` (a reason) if it is damaged.
pub fn read(dir: &Path) -> Result<Option<CacheFile>, String> {
    let bytes = match std::fs::read(path(dir)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("it cannot be read: {error}")),
    };
    let file: CacheFile =
        serde_json::from_slice(&bytes).map_err(|e| format!("it is not a scour cache: {e}"))?;
    if file.format != FORMAT {
        return Err(format!("its format {:?} is not {FORMAT}", file.format));
    }
    if file
        .entries
        .values()
        .any(|proof| proof.set >= file.sets.len())
    {
        return Err("an entry refers to a secret set that is not in it".to_string());
    }
    Ok(Some(file))
}

pub fn write(dir: &Path, file: &CacheFile) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(temporary.as_file_mut()), file)?;
    temporary.as_file_mut().flush()?;
    temporary.as_file().sync_all()?;
    temporary.persist(path(dir)).map_err(|e| e.error)?;
    Ok(())
}
