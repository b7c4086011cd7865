//! The signed subject of a store root: a digest of its listing, one line per object version.

use sha2::{Digest, Sha256};

use crate::evidence::subjects::{DigestBinds, RootDigest};

/// One listed unit: an S3 object version, or an OCI blob or manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoreEntry {
    pub key: String,
    pub version: String,
    /// The S3 ETag, or the OCI digest.
    pub identity: String,
    pub size: u64,
}

/// Lines `<identity> <size> <version> <key as JSON>`, sorted by key then version.
pub fn digest(mut entries: Vec<StoreEntry>) -> RootDigest {
    entries.sort();
    let mut hasher = Sha256::new();
    for entry in &entries {
        let key = serde_json::to_string(&entry.key).unwrap_or_default();
        let identity = entry.identity.replace(char::is_whitespace, "");
        hasher.update(format!("{identity} {} {} {key}\n", entry.size, entry.version).as_bytes());
    }
    RootDigest {
        sha256: hex::encode(hasher.finalize()),
        binds: DigestBinds::StoreManifest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, version: &str, etag: &str) -> StoreEntry {
        StoreEntry {
            key: key.to_string(),
            version: version.to_string(),
            identity: etag.to_string(),
            size: 3,
        }
    }

    #[test]
    fn binds_every_version_and_etag_in_any_order() {
        let a = digest(vec![entry("k", "v1", "\"e1\""), entry("k", "v2", "\"e2\"")]);
        let b = digest(vec![entry("k", "v2", "\"e2\""), entry("k", "v1", "\"e1\"")]);
        assert_eq!(a, b);
        let changed = digest(vec![entry("k", "v1", "\"e1\""), entry("k", "v2", "\"e3\"")]);
        assert_ne!(a, changed);
        let fewer = digest(vec![entry("k", "v1", "\"e1\"")]);
        assert_ne!(a, fewer);
    }
}
