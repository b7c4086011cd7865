//! Unit identities: what must be unchanged for a proof about a unit to still hold.
//!
//! A file is identified as git's index does, by device, inode, size, mtime and ctime (a
//! file rewritten with its mtime put back still gets a new ctime), plus its path. Store
//! units are content-addressed by the store: an S3 version by bucket, key, version id, ETag
//! and size; an OCI blob by its digest.

use std::os::unix::fs::MetadataExt;

/// Files changed less than this before a proof was made are not trusted from it: a write
/// in the same timestamp tick as the read would leave the identity unchanged (git's
/// "racily clean" rule, with a margin for coarse file-system clocks).
pub const RACY_MARGIN_SECS: i64 = 2;

/// A unit's identity and, for files, when it last changed (for the racy rule).
pub struct UnitKey {
    pub identity: String,
    /// Unix seconds of the file's newest mtime/ctime; `None` for content-addressed units.
    pub changed_at: Option<i64>,
}

pub fn file(path: &str, metadata: &std::fs::Metadata) -> UnitKey {
    UnitKey {
        identity: format!(
            "file\0{path}\0{}\0{}\0{}\0{}.{}\0{}.{}",
            metadata.dev(),
            metadata.ino(),
            metadata.size(),
            metadata.mtime(),
            metadata.mtime_nsec(),
            metadata.ctime(),
            metadata.ctime_nsec()
        ),
        changed_at: Some(metadata.mtime().max(metadata.ctime())),
    }
}

pub fn s3_version(bucket: &str, key: &str, version_id: &str, etag: &str, size: u64) -> UnitKey {
    UnitKey {
        identity: format!("s3\0{bucket}\0{key}\0{version_id}\0{etag}\0{size}"),
        changed_at: None,
    }
}

pub fn oci_blob(digest: &str) -> UnitKey {
    UnitKey {
        identity: format!("oci\0{digest}"),
        changed_at: None,
    }
}
