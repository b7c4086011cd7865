//! Where a finding in a store lives: the store's own names for the object it was read from.

use serde::{Deserialize, Serialize};

/// An S3 object version or an OCI blob that held a finding.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct StoreProvenance {
    /// `s3` or `oci`.
    pub store: String,
    /// `s3://BUCKET/KEY`, or `HOST/REPO` for a registry.
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// OCI: the tags whose images hold the blob.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// OCI: the manifests (images, and the indexes that list them) that refer to the blob.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<String>,
    /// OCI: the blob's digest (a layer or the image config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// OCI: `layer`, `config` or `manifest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Attaches to every finding whose chain starts with a store object's name its provenance.
pub fn attach(
    findings: &mut [crate::findings::Finding],
    provenance: &std::collections::HashMap<String, StoreProvenance>,
) {
    if provenance.is_empty() {
        return;
    }
    for finding in findings {
        if let Some(head) = finding.location.chain.first() {
            if let Some(found) = provenance.get(head) {
                finding.store = Some(found.clone());
            }
        }
    }
}
