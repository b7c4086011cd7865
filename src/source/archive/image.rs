//! Container images: `docker save` tarballs and OCI image layouts.
//!
//! An image is a tar (or a directory) of JSON manifests and layer blobs; each layer is
//! itself a tar, usually gzip- or zstd-compressed. The recursion of [`super`] already reads
//! every layer and every file in it, so this module only makes the layer visible: a member
//! at `blobs/sha256/<digest>` (OCI layout, and `docker save` since Docker 25) is a layer or
//! config blob named by its digest, and that member is the chain element of every finding
//! inside it — `["app.tar", "blobs/sha256/4f2a…", "srv/app/.env"]`. Older `docker save`
//! output stores layers as `<id>/layer.tar`; their digests are listed in the image's
//! `manifest.json`, which scour reports alongside (see [`Layer`]).

use serde::{Deserialize, Serialize};

/// A blob of a container image that held members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The member of the image that holds the layer.
    pub member: String,
}

/// The digest of an image blob named by content address, e.g. `blobs/sha256/<hex>`.
pub(super) fn blob_digest(member: &str) -> Option<String> {
    let (prefix, hex) = member.rsplit_once('/')?;
    let algorithm = prefix.rsplit('/').next()?;
    let is_blobs = prefix.ends_with(&format!("blobs/{algorithm}"));
    let hex_ok = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (is_blobs && algorithm == "sha256" && hex_ok).then(|| format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_blobs_by_digest() {
        let hex = "a".repeat(64);
        assert_eq!(blob_digest(&format!("blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(blob_digest(&format!("img/blobs/sha256/{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(blob_digest("abc/layer.tar"), None);
        assert_eq!(blob_digest("blobs/sha256/short"), None);
    }
}
