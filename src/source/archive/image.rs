//! Container images: `docker save` tarballs and OCI image layouts.
//!
//! An image is a tar (or a directory) of JSON manifests and layer blobs; each layer is
//! itself a tar, usually gzip- or zstd-compressed. The recursion of [`super`] already reads
//! every layer and every file in it, so this module only makes the layer visible: a member
//! at `blobs/sha256/<digest>` (OCI layout, and `docker save` since Docker 25) is a layer or
//! config blob named by its digest, and that member is the chain element of every finding
//! inside it — `["app.tar", "blobs/sha256/4f2a…", "srv/app/.env"]`. Older `docker save`
//! output stores layers as `<id>/layer.tar`: the image's `manifest.json` and config name
//! each layer's digest (its diff id), and scour lists those in the archive's coverage next
//! to the member that holds the layer (see [`Layer`] and [`Metadata`]).

use std::collections::HashMap;

use serde_json::Value;

use crate::findings::display_chain;

/// Image metadata members are small; larger members are not kept.
pub(super) const MAX_METADATA: u64 = 1 << 20;

pub use crate::model::coverage::Layer;

/// The digest of an image blob named by content address, e.g. `blobs/sha256/<hex>`.
pub(super) fn blob_digest(member: &str) -> Option<String> {
    let (prefix, hex) = member.rsplit_once('/')?;
    let algorithm = prefix.rsplit('/').next()?;
    let is_blobs = prefix.ends_with(&format!("blobs/{algorithm}"));
    let hex_ok = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (is_blobs && algorithm == "sha256" && hex_ok).then(|| format!("sha256:{hex}"))
}

/// Whether a tar member may be image metadata worth keeping: `manifest.json`, a top-level
/// `<id>.json` config (legacy layout) or a small content-addressed blob (OCI configs).
pub(super) fn is_metadata_candidate(name: &str, size: u64) -> bool {
    size <= MAX_METADATA
        && (name == "manifest.json"
            || (name.ends_with(".json") && !name.contains('/'))
            || blob_digest(name).is_some())
}

/// The manifests and configs of an image seen in one tar, to name its layers by digest.
#[derive(Default)]
pub(super) struct Metadata {
    manifests: Vec<Value>,
    diff_ids: HashMap<String, Vec<String>>,
}

impl Metadata {
    pub(super) fn note(&mut self, name: &str, bytes: &[u8]) {
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return;
        };
        if name == "manifest.json" {
            self.manifests.push(value);
        } else if let Some(ids) = value["rootfs"]["diff_ids"].as_array() {
            let ids = ids
                .iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect();
            self.diff_ids.insert(name.to_string(), ids);
        }
    }

    /// Layers of a `docker save` manifest, named by their uncompressed digest (diff id).
    pub(super) fn layers(&self, chain: &[String]) -> Vec<Layer> {
        let mut layers = Vec::new();
        for image in self
            .manifests
            .iter()
            .flat_map(|m| m.as_array().cloned().unwrap_or_default())
        {
            let Some(ids) = image["Config"].as_str().and_then(|c| self.diff_ids.get(c)) else {
                continue;
            };
            let members = image["Layers"].as_array().cloned().unwrap_or_default();
            for (member, id) in members.iter().zip(ids) {
                if let Some(member) = member.as_str() {
                    let mut path = chain.to_vec();
                    path.push(member.to_string());
                    layers.push(Layer {
                        digest: id.clone(),
                        member: display_chain(&path),
                    });
                }
            }
        }
        layers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_blobs_by_digest() {
        let hex = "a".repeat(64);
        assert_eq!(
            blob_digest(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            blob_digest(&format!("img/blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(blob_digest("abc/layer.tar"), None);
        assert_eq!(blob_digest("blobs/sha256/short"), None);
    }

    #[test]
    fn legacy_manifests_name_layers_by_diff_id() {
        let mut metadata = Metadata::default();
        metadata.note(
            "abc.json",
            br#"{"rootfs":{"type":"layers","diff_ids":["sha256:11","sha256:22"]}}"#,
        );
        metadata.note(
            "manifest.json",
            br#"[{"Config":"abc.json","Layers":["l1/layer.tar","l2/layer.tar"]}]"#,
        );
        let layers = metadata.layers(&["img.tar".to_string()]);
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[1].digest, "sha256:22");
        assert_eq!(layers[1].member, "img.tar!l2/layer.tar");
    }
}
