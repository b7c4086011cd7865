//! The S3 source: every object version of a bucket or prefix, read as a stream through the
//! same content pipeline as a file ([`crate::source::content::scan_stream`]).
//!
//! The listing comes first ([`listing`]): by default every version (current, noncurrent and
//! those behind delete markers), as old versions are where a "deleted" secret survives.
//! Its (key, version id, ETag, size) lines are the root's signed subject ([`manifest`]).
//! Then each version this shard owns is read on a pool of `--threads` workers with
//! `If-Match: ETag`, so an object overwritten since the listing is a `changed` gap, not a
//! silent read of other bytes. Nothing is skipped silently: archive storage classes, SSE-C,
//! access denied, listing errors and vanished versions are gaps naming the object
//! ([`gaps`]). There is no size cap: bodies are streamed.

pub mod client;
pub mod config;
pub mod gaps;
pub mod listing;
pub mod location;
pub mod manifest;

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;

use crate::cache::unit;
use crate::coverage::{GapKind, StoreCoverage};
use crate::matcher::ScanBuffer;
use crate::model::Shard;
use crate::source::content::scan_stream;
use crate::source::provenance::StoreProvenance;
use crate::source::Context;
use client::Client;
use listing::{ListedVersion, VersionsMode};
use location::{S3Location, NULL_VERSION};

/// How a bucket is read.
#[derive(Debug, Clone, Copy)]
pub struct S3Options {
    pub versions: VersionsMode,
    pub threads: usize,
    pub shard: Shard,
}

/// Lists and reads one `s3://` root; returns the provenance of every version read, by the
/// name its findings' chains start with.
pub fn scan_root(
    ctx: Context,
    location: &S3Location,
    options: &S3Options,
) -> HashMap<String, StoreProvenance> {
    let client = match config::S3Config::from_env().and_then(|c| Client::new(c, &location.bucket)) {
        Ok(client) => client,
        Err(error) => {
            root_gap(ctx, location, GapKind::ReadError, format!("{error:#}"));
            return HashMap::new();
        }
    };
    scan_listed(
        ctx,
        &client,
        location,
        options,
        listing::list(&client, location, options.versions),
    )
}

/// Reads the versions of a listing made earlier (by [`scan_root`], or a test that changes
/// the store in between).
pub fn scan_listed(
    ctx: Context,
    client: &Client,
    location: &S3Location,
    options: &S3Options,
    listing: listing::Listing,
) -> HashMap<String, StoreProvenance> {
    if let Some(failure) = &listing.incomplete {
        let kind = if failure.status == Some(403) {
            GapKind::PermissionDenied
        } else {
            GapKind::WalkError
        };
        root_gap(
            ctx,
            location,
            kind,
            format!(
                "the listing stopped after {} version(s) ({failure}): objects after them are \
                 not scanned; grant s3:ListBucket and s3:ListBucketVersions, or scan again",
                listing.versions.len()
            ),
        );
    }
    record_listing(ctx, location, options, &listing);
    let owned: Vec<&ListedVersion> = listing
        .versions
        .iter()
        .filter(|v| {
            options
                .shard
                .owns(location.object_name(&v.key, &v.version_id).as_bytes())
        })
        .collect();
    ctx.recorder.with_root(ctx.root, |root| {
        if let Some(store) = &mut root.store {
            store.units_read = owned.len() as u64;
        }
    });
    let read = |buffer: &mut ScanBuffer, version: &&ListedVersion| {
        read_version(ctx, client, location, version, buffer)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build();
    let provenance: Vec<(String, StoreProvenance)> = match pool {
        Ok(pool) => pool.install(|| owned.par_iter().map_init(ScanBuffer::new, read).collect()),
        Err(_) => {
            let mut buffer = ScanBuffer::new();
            owned.iter().map(|v| read(&mut buffer, v)).collect()
        }
    };
    provenance.into_iter().collect()
}

/// The root's coverage counts and signed manifest, from the whole listing (every shard
/// lists everything, so all shards bind the same subject).
fn record_listing(
    ctx: Context,
    location: &S3Location,
    options: &S3Options,
    listing: &listing::Listing,
) {
    let keys: BTreeSet<&str> = listing.versions.iter().map(|v| v.key.as_str()).collect();
    let entries = listing
        .versions
        .iter()
        .map(|v| manifest::StoreEntry {
            key: v.key.clone(),
            version: v.version_id.clone(),
            identity: v.etag.clone(),
            size: v.size,
        })
        .collect();
    let store = StoreCoverage {
        versions_mode: options.versions.name().to_string(),
        objects: keys.len() as u64,
        versions: listing.versions.len() as u64,
        delete_markers: listing.delete_markers,
        bytes_listed: listing.versions.iter().map(|v| v.size).sum(),
        units_read: 0,
    };
    // An incomplete listing binds no subject: it would claim a store state never seen whole.
    let digest = listing
        .incomplete
        .is_none()
        .then(|| manifest::digest(entries));
    ctx.recorder.with_root(ctx.root, |root| {
        root.store = Some(store);
        root.digest = digest;
    });
    let _ = location;
}

/// Reads one version (or reuses the cache's proof about it) and returns its provenance.
fn read_version(
    ctx: Context,
    client: &Client,
    location: &S3Location,
    version: &ListedVersion,
    buffer: &mut ScanBuffer,
) -> (String, StoreProvenance) {
    let name = location.object_name(&version.key, &version.version_id);
    let provenance = StoreProvenance {
        store: "s3".to_string(),
        object: format!("s3://{}/{}", location.bucket, version.key),
        version_id: Some(version.version_id.clone()),
        etag: Some(version.etag.clone()),
        last_modified: Some(version.last_modified.clone()),
        ..StoreProvenance::default()
    };
    let unit = unit::s3_version(
        &location.bucket,
        &version.key,
        &version.version_id,
        &version.etag,
        version.size,
    );
    let cache = ctx.recorder.cache.as_ref();
    if cache.is_some_and(|cache| cache.lookup(&unit).is_some()) {
        return (name, provenance);
    }
    let version_id = (version.version_id != NULL_VERSION).then_some(version.version_id.as_str());
    let url = client.object_url(&version.key, version_id);
    let mut headers = Vec::new();
    if !version.etag.is_empty() {
        headers.push(("If-Match", version.etag.as_str()));
    }
    let failure = match client.get(&url, &headers) {
        Ok(response) if response.status().is_success() => {
            let chain = [name.clone()];
            scan_stream(ctx, &chain, response.into_body().into_reader(), buffer);
            if let Some(cache) = cache {
                cache.offer(&unit, name.clone(), None);
            }
            return (name, provenance);
        }
        Ok(response) => client::failure_of(response),
        Err(failure) => failure,
    };
    let (kind, reason) = gaps::classify(&failure, &version.storage_class);
    ctx.recorder.gap(
        ctx.root,
        kind,
        vec![name.clone()],
        format!("{name} was not scanned: {reason}"),
    );
    (name, provenance)
}

fn root_gap(ctx: Context, location: &S3Location, kind: GapKind, reason: String) {
    ctx.recorder.gap(
        ctx.root,
        kind,
        vec![location.display()],
        format!("{}: {reason}", location.display()),
    );
}
