//! Coverage: what a scan read, per root (files, bytes, repositories, archives, stores, the
//! root's digest), what it skipped, and what it could not read ([`crate::model::gaps`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::gaps::{Gap, SkipReason, Skipped};

/// Everything known about one PATH given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RootCoverage {
    /// The path as given.
    pub root: String,
    /// `directory` or `file`.
    pub kind: String,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped: BTreeMap<SkipReason, Skipped>,
    pub gaps: Vec<Gap>,
    /// Files that grew while they were read (live logs): each was read up to the size it
    /// had when opened, which is not a gap; what was appended after that was not read.
    #[serde(default, skip_serializing_if = "Skipped::is_empty")]
    pub grew_during_scan: Skipped,
    /// Git repositories found at or under this root, with what of their history was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryCoverage>,
    /// Top-level archives found under this root, with what of them was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub archives: Vec<ArchiveCoverage>,
    /// Opaque content accepted with `--allow-opaque` (otherwise each region is a gap).
    #[serde(default, skip_serializing_if = "OpaqueAccepted::is_empty")]
    pub opaque_accepted: OpaqueAccepted,
    /// What the scanned root was, by digest (see `evidence::subjects`); the signed
    /// statement's subject for this root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<RootDigest>,
    /// For an object store or registry root: what its listing held and what was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreCoverage>,
    /// The git work tree (or repository) the root is in, read when the scan ran, so that
    /// rendering (SARIF URIs, `versionControlProvenance`) needs nothing but the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_tree: Option<WorkTree>,
}

/// Where a scanned root sits in git, as far as a reader of the report needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkTree {
    /// The root's place below the top of the work tree that holds it, as a relative URI
    /// path: empty for the top itself, `src/` for a directory `REPO/src`, `src/app.env` for
    /// a single file. Absent when the root is in no work tree (a bare repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Set when the root (a directory) is itself a repository with an `origin` remote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<Checkout>,
}

/// The commit checked out in a repository, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Checkout {
    /// The `origin` remote's URL without credentials (`https://host/o/r.git`,
    /// `ssh://host/o/r.git` for scp-like `git@host:o/r.git`).
    pub remote: String,
    /// The commit `HEAD` resolved to.
    pub revision: String,
    /// The branch `HEAD` named, unless detached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// What a store root (an S3 bucket or prefix, an OCI repository) held and what was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreCoverage {
    /// `all` (every version, also behind delete markers) or `current`; for OCI `tags`.
    pub versions_mode: String,
    /// Distinct keys (S3) or manifests (OCI) listed.
    pub objects: u64,
    /// Object versions (S3) or blobs (OCI: configs and layers) listed.
    pub versions: u64,
    /// Delete markers listed (they hold no bytes; the versions behind them are read).
    pub delete_markers: u64,
    /// Bytes of the listed versions or blobs, as the store reported them.
    pub bytes_listed: u64,
    /// Versions or blobs this shard owns and read (or reused from the cache).
    pub units_read: u64,
}

/// High-entropy content accepted as unreadable by the user's choice (`--allow-opaque`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpaqueAccepted {
    pub regions: u64,
    pub bytes: u64,
}

impl OpaqueAccepted {
    pub fn is_empty(&self) -> bool {
        self.regions == 0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    pub roots: Vec<RootCoverage>,
}

impl Coverage {
    pub fn gaps(&self) -> impl Iterator<Item = &Gap> {
        self.roots.iter().flat_map(|r| r.gaps.iter())
    }

    pub fn gap_count(&self) -> usize {
        self.roots.iter().map(|r| r.gaps.len()).sum()
    }

    pub fn files_scanned(&self) -> u64 {
        self.roots.iter().map(|r| r.files_scanned).sum()
    }

    pub fn bytes_scanned(&self) -> u64 {
        self.roots.iter().map(|r| r.bytes_scanned).sum()
    }
}

/// What was read of one repository's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RepositoryCoverage {
    /// The git directory, as found.
    pub path: String,
    /// `full` (every object), `staged` (`--staged`) or `range <spec>` (`--git-range`).
    pub mode: String,
    /// Object directories read: the repository's own, then its alternates.
    pub object_directories: Vec<String>,
    /// Refs by namespace (`refs/heads`, `refs/tags`, `refs/original`, `refs/stash`, ...).
    pub refs_by_namespace: BTreeMap<String, u64>,
    /// Every ref and detached `HEAD` with the object it pointed to when scanned: the state
    /// of the repository this report speaks for.
    pub ref_tips: BTreeMap<String, String>,
    /// The object kind (`tag`, `tree`, `blob`, or `missing`) of each ref tip that is not a
    /// commit (an annotated tag's ref points at the tag object); every other tip is a commit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ref_tip_kinds: BTreeMap<String, String>,
    pub reflogs: u64,
    pub reflog_entries: u64,
    pub linked_worktrees: Vec<String>,
    pub packs: u64,
    pub loose_objects: u64,
    pub commits: u64,
    pub trees: u64,
    pub blobs: u64,
    pub tags: u64,
    /// Bytes of inflated object content scanned.
    pub bytes_inflated: u64,
    /// Objects this repository shares with one scanned earlier in the run: read once, there.
    pub objects_shared_with_earlier_repositories: u64,
    /// Commits not reachable from any ref or reflog (their trees and blobs were scanned too).
    pub unreachable_commits: u64,
    pub lfs_pointers: u64,
    pub shallow: bool,
    pub partial_clone: bool,
}

impl RepositoryCoverage {
    /// One line for a person.
    pub fn describe(&self) -> String {
        format!(
            "git {} ({}): {} commits, {} trees, {} blobs, {} tags, {} bytes inflated; {} refs, {} reflogs; {} packs, {} loose objects; {} unreachable commits",
            self.path,
            self.mode,
            self.commits,
            self.trees,
            self.blobs,
            self.tags,
            self.bytes_inflated,
            self.ref_tips.len(),
            self.reflogs,
            self.packs,
            self.loose_objects,
            self.unreachable_commits
        )
    }
}

/// What was read of one top-level archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArchiveCoverage {
    /// The archive's path (a filesystem path, or a chain if it was found inside a git object).
    pub path: String,
    /// The outermost format, e.g. `gzip`, `zip`, `tar`.
    pub format: String,
    /// Members (files inside, at any depth) whose bytes were scanned.
    pub members_scanned: u64,
    /// Bytes produced by decompression, at all depths.
    pub expanded_bytes: u64,
    /// Deepest nesting reached: 1 for a `.gz` file's content, 2 for a member of a `.tar.gz`.
    pub max_depth: u32,
    /// Gaps recorded inside this archive (listed with the root's gaps).
    pub gaps: u64,
    /// Container-image layers found inside, by digest, with the member that holds each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
}

/// A blob of a container image that held members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Layer {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The member of the image that holds the layer.
    pub member: String,
}

/// How a root's digest was made; recorded in the report beside the root's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RootDigest {
    pub sha256: String,
    /// `content`, `manifest` (paths and sizes) or `manifest-with-content`.
    pub binds: DigestBinds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DigestBinds {
    Content,
    Manifest,
    ManifestWithContent,
    /// An object store's listing: (key, version id, ETag, size) per object version.
    StoreManifest,
}

impl DigestBinds {
    pub fn explain(self) -> &'static str {
        match self {
            DigestBinds::Content => "SHA-256 of the bytes of this file, read once by the scan",
            DigestBinds::Manifest => {
                "SHA-256 of the manifest of the regular files scanned: lines \
                 `- <size> <path as JSON string relative to the root>`, sorted by path; binds \
                 names and sizes, not contents"
            }
            DigestBinds::ManifestWithContent => {
                "SHA-256 of the manifest of the regular files scanned: lines \
                 `<SHA-256 of the file's bytes> <size> <path as JSON string relative to the \
                 root>`, sorted by path; binds names, sizes and contents"
            }
            DigestBinds::StoreManifest => {
                "SHA-256 of the manifest of the object versions listed: lines `<ETag or digest> \
                 <size> <version id> <key as JSON string>`, sorted by key then version; binds \
                 every version's name and the store's content identity (ETag, or OCI digest)"
            }
        }
    }
}
