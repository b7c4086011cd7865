//! Gaps: what should have been scanned and was not, or not completely, with the reason, and
//! what was skipped by rule or by the user's choice. A gap is the difference between
//! "absent" and "incomplete", so every place that should have been scanned but was not is
//! recorded with its reason.

use serde::{Deserialize, Serialize};

/// Why something that should have been scanned was not. Stable names: policies list them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// The operating system refused to open or list it.
    PermissionDenied,
    /// Reading failed part way (I/O error).
    ReadError,
    /// It disappeared between being listed and being opened.
    Vanished,
    /// A directory could not be listed completely.
    WalkError,
    /// A compressed stream, archive or object was damaged or truncated.
    Corrupt,
    /// Content is encrypted (e.g. a password-protected zip member).
    Encrypted,
    /// A safety limit (nesting depth, expanded size, expansion ratio) stopped reading.
    LimitExceeded,
    /// A format scour recognises but cannot read (7z, rar, an unknown compression method).
    Unsupported,
    /// A shallow git clone: history before the shallow boundary is not in the repository.
    ShallowHistory,
    /// Git objects the repository refers to are not present (partial clone, broken repo).
    MissingObjects,
    /// A git object exists but could not be read or inflated.
    UnreadableObject,
    /// A git alternates entry points to an object store that does not exist.
    MissingAlternate,
    /// A git LFS pointer whose content is not in `.git/lfs/objects`.
    LfsContentMissing,
    /// High-entropy content (compressed or encrypted-looking) that no layer could
    /// interpret: absence cannot be proven in what cannot be read.
    Opaque,
    /// A parser panicked while reading this unit (a bug in scour or a library it uses):
    /// the unit was not, or not completely, scanned; the sweep went on.
    InternalError,
    /// It kept changing while it was read or listed (rewritten, replaced, entries renamed
    /// in or out), so what was read may not be what is there.
    ChangedDuringScan,
    /// A stored object in an archive storage class (Glacier, Deep Archive) that cannot be
    /// read until it is restored.
    Archived,
    /// It changed between being listed and being read (a store object's ETag changed).
    Changed,
}

/// Something that should have been scanned and was not, or not completely.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Gap {
    pub kind: GapKind,
    /// The same chain as a finding's location: a path, then members inside it.
    pub chain: Vec<String>,
    /// What went wrong and what was not covered, for a person.
    pub reason: String,
}

/// Things deliberately not scanned, by rule or by the user's choice.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Symbolic links are never followed (their targets are scanned where they live, if
    /// inside a scanned root).
    Symlink,
    /// FIFOs, sockets and devices are never opened: reading them could hang or never end.
    SpecialFile,
    /// Matched an `--exclude` glob.
    Excluded,
    /// A temporary report file scour itself writes (`.scour-tmp-<pid>-<random>`), possibly
    /// left half-written by a killed scour.
    ScourTempFile,
}

/// How many entries were skipped for one reason, with the first few paths as examples.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    pub count: u64,
    pub examples: Vec<String>,
}

/// Paths listed per skip reason; the count is always exact.
pub const SKIP_EXAMPLES: usize = 20;

impl Skipped {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Counts `path` and keeps it as an example if it is among the first [`SKIP_EXAMPLES`]
    /// paths in sorted order, so the examples do not depend on which thread saw what first.
    pub fn add(&mut self, path: String) {
        self.count += 1;
        let at = self.examples.partition_point(|kept| *kept <= path);
        if at < SKIP_EXAMPLES {
            self.examples.insert(at, path);
            self.examples.truncate(SKIP_EXAMPLES);
        }
    }
}

impl std::fmt::Display for GapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&kebab_name(self))
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&kebab_name(self))
    }
}

/// The serialized (kebab-case) name of a unit enum variant.
fn kebab_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
