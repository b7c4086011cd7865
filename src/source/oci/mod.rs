//! The OCI registry source: every tag of a repository (or the one named), every manifest
//! (multi-arch indexes included), every image config blob (`Env`, `history` and labels keep
//! what `ENV`/`ARG` set) and every layer, through the same content pipeline as a file (which
//! opens gzip, zstd and plain tar layers).
//!
//! Blobs are content-addressed, so a layer shared by several tags or platforms is read
//! once; its findings name every tag and manifest that use it. Each blob is checked against
//! its digest as it streams: a mismatch is a `corrupt` gap. Whatever cannot be fetched or
//! understood is a gap naming the tag, manifest or blob.

pub mod client;
pub mod manifest;
pub mod reference;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::cache::unit;
use crate::coverage::{GapKind, StoreCoverage};
use crate::matcher::ScanBuffer;
use crate::model::Shard;
use crate::source::content::scan_stream;
use crate::source::provenance::StoreProvenance;
use crate::source::s3::manifest::{self as store_manifest, StoreEntry};
use crate::source::Context;
use client::{Registry, MANIFEST_TYPES};
use manifest::Document;
use reference::{OciTarget, Selection};

#[derive(Debug, Clone, Copy)]
pub struct OciOptions {
    pub threads: usize,
    pub shard: Shard,
}

/// Deepest index-in-index nesting followed.
const MAX_NESTING: u32 = 4;

/// A blob or manifest and everything that refers to it.
#[derive(Debug, Default, Clone)]
struct Unit {
    role: &'static str,
    size: u64,
    tags: BTreeSet<String>,
    manifests: BTreeSet<String>,
    /// Manifests are fetched while walking; their bytes are scanned from memory.
    bytes: Option<Vec<u8>>,
}

struct Walk<'a, 'm> {
    ctx: Context<'a, 'm>,
    registry: &'a Registry,
    target: &'a OciTarget,
    units: BTreeMap<String, Unit>,
    tags: Vec<(String, String)>,
}

/// Walks and reads one `oci://` root; returns the provenance of every manifest and blob
/// read, by the name its findings' chains start with.
pub fn scan_root(
    ctx: Context,
    target: &OciTarget,
    options: &OciOptions,
) -> HashMap<String, StoreProvenance> {
    let registry = Registry::new(target);
    let mut walk = Walk {
        ctx,
        registry: &registry,
        target,
        units: BTreeMap::new(),
        tags: Vec::new(),
    };
    let references: Vec<(Option<String>, String)> = match &target.selection {
        Selection::Tag(tag) => vec![(Some(tag.clone()), tag.clone())],
        Selection::Digest(digest) => vec![(None, digest.clone())],
        Selection::AllTags => match list_tags(&registry) {
            Ok(tags) => tags.into_iter().map(|t| (Some(t.clone()), t)).collect(),
            Err(reason) => {
                walk.gap(
                    GapKind::WalkError,
                    target.display(),
                    format!("its tags could not be listed ({reason}): nothing in it was scanned"),
                );
                Vec::new()
            }
        },
    };
    for (tag, reference) in references {
        walk.manifest(tag.as_deref(), &reference, None, 0);
    }
    walk.record_listing();
    let owned: Vec<(String, Unit)> = walk
        .units
        .iter()
        .filter(|(digest, _)| options.shard.owns(digest.as_bytes()))
        .map(|(d, u)| (d.clone(), u.clone()))
        .collect();
    ctx.recorder.with_root(ctx.root, |root| {
        if let Some(store) = &mut root.store {
            store.units_read = owned.len() as u64;
        }
    });
    let read = |buffer: &mut ScanBuffer, (digest, unit): &(String, Unit)| {
        walk.read_unit(digest, unit, buffer)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build();
    let provenance: Vec<(String, StoreProvenance)> = match pool {
        Ok(pool) => pool.install(|| owned.par_iter().map_init(ScanBuffer::new, read).collect()),
        Err(_) => {
            let mut buffer = ScanBuffer::new();
            owned.iter().map(|u| read(&mut buffer, u)).collect()
        }
    };
    provenance.into_iter().collect()
}

fn list_tags(registry: &Registry) -> Result<Vec<String>, String> {
    let response = registry.get("tags/list", None)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    let text = response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .map_err(|_| "the tag list broke off".to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| "the tag list is not JSON".to_string())?;
    Ok(value
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

impl Walk<'_, '_> {
    fn name(&self, digest: &str) -> String {
        format!(
            "oci://{}/{}@{digest}",
            self.target.registry, self.target.repository
        )
    }

    fn gap(&self, kind: GapKind, name: String, reason: String) {
        self.ctx.recorder.gap(
            self.ctx.root,
            kind,
            vec![name.clone()],
            format!("{name}: {reason}"),
        );
    }

    /// Fetches the manifest `reference` (a tag or digest) and everything it refers to.
    fn manifest(&mut self, tag: Option<&str>, reference: &str, parent: Option<&str>, depth: u32) {
        let what = match tag {
            Some(tag) => format!(
                "oci://{}/{}:{tag}",
                self.target.registry, self.target.repository
            ),
            None => self.name(reference),
        };
        let bytes = match self.fetch_manifest(reference) {
            Ok(bytes) => bytes,
            Err(reason) => {
                let kind = if reason.contains("401") || reason.contains("403") {
                    GapKind::PermissionDenied
                } else {
                    GapKind::ReadError
                };
                self.gap(
                    kind,
                    what,
                    format!("its manifest could not be fetched ({reason})"),
                );
                return;
            }
        };
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if reference.starts_with("sha256:") && reference != digest {
            self.gap(
                GapKind::Corrupt,
                what,
                format!("the registry served a manifest whose digest is {digest}"),
            );
            return;
        }
        if let Some(tag) = tag {
            self.tags.push((tag.to_string(), digest.clone()));
        }
        let tags: Vec<String> = tag.map(str::to_string).into_iter().collect();
        let document = manifest::parse(&bytes);
        let unit = self.units.entry(digest.clone()).or_insert_with(|| Unit {
            role: "manifest",
            ..Unit::default()
        });
        unit.size = bytes.len() as u64;
        unit.tags.extend(tags.iter().cloned());
        unit.manifests.extend(parent.map(str::to_string));
        unit.bytes = Some(bytes);
        match document {
            Err(reason) => self.gap(GapKind::Unsupported, self.name(&digest), reason),
            Ok(Document::Index(children)) => {
                if depth >= MAX_NESTING {
                    self.gap(
                        GapKind::LimitExceeded,
                        self.name(&digest),
                        format!(
                            "an index nested deeper than {MAX_NESTING}: its manifests not read"
                        ),
                    );
                    return;
                }
                for child in children {
                    let child_tag = tag.map(str::to_string);
                    self.manifest(
                        child_tag.as_deref(),
                        &child.digest,
                        Some(&digest),
                        depth + 1,
                    );
                }
            }
            Ok(Document::Image { config, layers }) => {
                let blobs = std::iter::once(("config", config))
                    .chain(layers.into_iter().map(|l| ("layer", l)));
                for (role, blob) in blobs {
                    let unit = self
                        .units
                        .entry(blob.digest.clone())
                        .or_insert_with(|| Unit {
                            role,
                            size: blob.size,
                            ..Unit::default()
                        });
                    unit.tags.extend(tags.iter().cloned());
                    unit.manifests.insert(digest.clone());
                }
            }
        }
    }

    fn fetch_manifest(&self, reference: &str) -> Result<Vec<u8>, String> {
        let response = self
            .registry
            .get(&format!("manifests/{reference}"), Some(MANIFEST_TYPES))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(16 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .map_err(|_| "the manifest broke off".to_string())?;
        Ok(bytes)
    }

    /// Coverage counts and the signed subject: every tag's manifest digest, every blob.
    fn record_listing(&self) {
        let mut entries: Vec<StoreEntry> = self
            .tags
            .iter()
            .map(|(tag, digest)| StoreEntry {
                key: format!("tag:{tag}"),
                version: "manifest".to_string(),
                identity: digest.clone(),
                size: 0,
            })
            .collect();
        entries.extend(self.units.iter().map(|(digest, unit)| StoreEntry {
            key: digest.clone(),
            version: unit.role.to_string(),
            identity: digest.clone(),
            size: unit.size,
        }));
        let manifests = self.units.values().filter(|u| u.role == "manifest").count();
        let store = StoreCoverage {
            versions_mode: "tags".to_string(),
            objects: manifests as u64,
            versions: (self.units.len() - manifests) as u64,
            delete_markers: 0,
            bytes_listed: self.units.values().map(|u| u.size).sum(),
            units_read: 0,
        };
        let digest = store_manifest::digest(entries);
        self.ctx.recorder.with_root(self.ctx.root, |root| {
            root.store = Some(store);
            root.digest = Some(digest);
        });
    }

    fn read_unit(
        &self,
        digest: &str,
        unit: &Unit,
        buffer: &mut ScanBuffer,
    ) -> (String, StoreProvenance) {
        let name = self.name(digest);
        let provenance = StoreProvenance {
            store: "oci".to_string(),
            object: format!("{}/{}", self.target.registry, self.target.repository),
            tags: unit.tags.iter().cloned().collect(),
            manifests: unit.manifests.iter().cloned().collect(),
            digest: Some(digest.to_string()),
            role: Some(unit.role.to_string()),
            ..StoreProvenance::default()
        };
        let chain = [name.clone()];
        if let Some(bytes) = &unit.bytes {
            scan_stream(self.ctx, &chain, bytes.as_slice(), buffer);
            return (name, provenance);
        }
        let key = unit::oci_blob(digest);
        let cache = self.ctx.recorder.cache.as_ref();
        if cache.is_some_and(|cache| cache.lookup(&key).is_some()) {
            return (name, provenance);
        }
        let response = match self.registry.get(&format!("blobs/{digest}"), None) {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => {
                let status = response.status().as_u16();
                let kind = if matches!(status, 401 | 403) {
                    GapKind::PermissionDenied
                } else {
                    GapKind::ReadError
                };
                self.gap(
                    kind,
                    name.clone(),
                    format!(
                        "the {} blob could not be fetched (HTTP {status})",
                        unit.role
                    ),
                );
                return (name, provenance);
            }
            Err(reason) => {
                self.gap(
                    GapKind::ReadError,
                    name.clone(),
                    format!("the {} blob could not be fetched ({reason})", unit.role),
                );
                return (name, provenance);
            }
        };
        let mut reader = VerifyingReader {
            inner: response.into_body().into_reader(),
            hasher: Sha256::new(),
        };
        scan_stream(self.ctx, &chain, &mut reader, buffer);
        // Whatever the pipeline left unread is drained so the digest covers the whole blob.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
        let actual = format!("sha256:{}", hex::encode(reader.hasher.finalize()));
        if actual != digest {
            self.gap(
                GapKind::Corrupt,
                name.clone(),
                format!("the blob served has digest {actual}: what was scanned is not this blob"),
            );
        } else if let Some(cache) = cache {
            cache.offer(&key, name.clone(), None);
        }
        (name, provenance)
    }
}

/// Hashes a blob as it streams, to check it is the blob its digest names.
struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.hasher.update(&out[..n]);
        Ok(n)
    }
}
