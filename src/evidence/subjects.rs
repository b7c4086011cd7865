//! Subjects: what a signed report is about, each named with a digest that binds it.
//!
//! Every scanned root becomes one in-toto subject, and the subject's `annotations` say in
//! words exactly what its digest binds, because the digests deliberately differ by kind:
//!
//! - a single file given as PATH (a backup tarball, a CI log zip): `sha256` of its bytes,
//!   computed alongside the scan from the same open file (positional reads; a large file on a
//!   second thread while the scan reads it, so the disk serves both from one read);
//! - a directory: `sha256` of its manifest, one line per regular file scanned,
//!   `<content> <size> <path>\n` sorted by path, where `<path>` is the path relative to the
//!   root as a JSON string and `<content>` is `-`, or, with `--content-digests`, the SHA-256
//!   of the file's bytes. Without content digests the subject binds which files were scanned
//!   and their sizes, not their contents: hashing every byte costs more than scanning it
//!   (see docs/evidence.md for the measurement), so it is a choice;
//! - a git repository read by the scan: one subject per ref (and detached `HEAD`), named
//!   `REPO@REF`, whose digest is the ref tip's object id under the in-toto name of its kind:
//!   `gitCommit` for a commit, `gitTag` for an annotated tag object (which names its commit),
//!   `gitTree`/`gitBlob` for the rare ref to a tree or blob. A tip whose object is missing
//!   gets `gitObject`, a name no consumer mistakes for a verified kind.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::Report;

/// An in-toto v1 ResourceDescriptor with the fields scour uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The annotation that says what a subject's digest binds.
pub const BINDS: &str = "scour.binds";

impl Subject {
    pub fn new(name: String, algorithm: &str, value: String, binds: &str) -> Subject {
        Subject {
            name,
            digest: BTreeMap::from([(algorithm.to_string(), value)]),
            annotations: BTreeMap::from([(BINDS.to_string(), binds.to_string())]),
        }
    }

    /// A repository's ref, named `REPO@REF`, by the commit at its tip.
    pub fn git_ref(repository: &str, reference: &str, commit_hex: &str) -> Subject {
        Subject::git_tip(repository, reference, commit_hex, "commit", "full")
    }

    /// A repository's ref, named `REPO@REF`, by the object at its tip (`kind` as git names
    /// it), read by a scan of the repository's history in `mode`.
    pub fn git_tip(
        repository: &str,
        reference: &str,
        object_hex: &str,
        kind: &str,
        mode: &str,
    ) -> Subject {
        let (algorithm, object) = match kind {
            "commit" => ("gitCommit", "the commit"),
            "tag" => (
                "gitTag",
                "the annotated tag object (which names its commit)",
            ),
            "tree" => ("gitTree", "the tree"),
            "blob" => ("gitBlob", "the blob"),
            _ => (
                "gitObject",
                "the id (object missing from the store) of the object",
            ),
        };
        Subject::new(
            format!("{repository}@{reference}"),
            algorithm,
            object_hex.to_string(),
            &format!(
                "{object} at the tip of this ref when the scan read the repository; history \
                 scanned: {mode}"
            ),
        )
    }
}

pub use crate::model::coverage::{DigestBinds, RootDigest};

/// One regular file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub content: Option<[u8; 32]>,
}

/// Digest of a root from the entries scanned in it.
///
/// A `file` root's digest is its content digest; a directory's is its manifest's.
pub fn root_digest(kind: &str, mut entries: Vec<ManifestEntry>) -> Option<RootDigest> {
    if kind == "file" {
        let [entry] = entries.as_slice() else {
            return None;
        };
        return entry.content.map(|content| RootDigest {
            sha256: hex::encode(content),
            binds: DigestBinds::Content,
        });
    }
    entries.sort();
    let with_content = !entries.is_empty() && entries.iter().all(|e| e.content.is_some());
    let mut hasher = Sha256::new();
    for entry in &entries {
        let content = match (with_content, entry.content) {
            (true, Some(content)) => hex::encode(content),
            _ => "-".to_string(),
        };
        let path = serde_json::to_string(&entry.path).unwrap_or_default();
        hasher.update(format!("{content} {} {path}\n", entry.size).as_bytes());
    }
    Some(RootDigest {
        sha256: hex::encode(hasher.finalize()),
        binds: if with_content {
            DigestBinds::ManifestWithContent
        } else {
            DigestBinds::Manifest
        },
    })
}

/// The subjects of a report: one per root that has a digest, then one per ref tip of every
/// repository read. A repository a sharded sweep lists once per shard gives its tips once.
pub fn from_report(report: &Report) -> Vec<Subject> {
    let roots = report.coverage.roots.iter().filter_map(|root| {
        let digest = root.digest.as_ref()?;
        Some(Subject::new(
            root.root.clone(),
            "sha256",
            digest.sha256.clone(),
            digest.binds.explain(),
        ))
    });
    let mut subjects: Vec<Subject> = roots.collect();
    let tips = report
        .coverage
        .roots
        .iter()
        .flat_map(|root| &root.repositories)
        .flat_map(|repository| {
            repository.ref_tips.iter().map(move |(reference, object)| {
                let kind = repository.ref_tip_kinds.get(reference);
                Subject::git_tip(
                    &repository.path,
                    reference,
                    object,
                    kind.map_or("commit", String::as_str),
                    &repository.mode,
                )
            })
        });
    let mut seen: HashSet<Subject> = subjects.iter().cloned().collect();
    for subject in tips {
        if seen.insert(subject.clone()) {
            subjects.push(subject);
        }
    }
    subjects
}

/// The SHA-256 of the first `size` bytes of an open file (its size when opened), read
/// with positional reads, so the file's offset stays where its scan left it and the scan
/// can read the same open file at the same time. A file that ends before `size` is an
/// error: its bytes changed while it was read, and the scan records that.
pub fn digest_of_file(file: &std::fs::File, size: u64) -> std::io::Result<[u8; 32]> {
    use std::os::unix::fs::FileExt;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < size {
        let want =
            usize::try_from(size - offset).map_or(buffer.len(), |left| left.min(buffer.len()));
        let read = match file.read_at(&mut buffer[..want], offset) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ended before its size when opened",
                ))
            }
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..read]);
        offset += read as u64;
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_digest_covers_the_size_when_opened_wherever_the_offset_is() {
        use std::io::{Seek, Write};
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&data).unwrap();
        file.seek(std::io::SeekFrom::Start(10)).unwrap();
        let digest = digest_of_file(&file, data.len() as u64).unwrap();
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(
            file.stream_position().unwrap(),
            10,
            "the offset is the scan's"
        );
        let first = digest_of_file(&file, 1000).unwrap();
        assert_eq!(first, <[u8; 32]>::from(Sha256::digest(&data[..1000])));
        assert!(digest_of_file(&file, data.len() as u64 + 1).is_err());
    }

    #[test]
    fn manifest_digest_is_order_independent_and_binds_sizes_and_names() {
        let entry = |path: &str, size| ManifestEntry {
            path: path.into(),
            size,
            content: None,
        };
        let a = root_digest("directory", vec![entry("a", 1), entry("b", 2)]).unwrap();
        let b = root_digest("directory", vec![entry("b", 2), entry("a", 1)]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.binds, DigestBinds::Manifest);
        let resized = root_digest("directory", vec![entry("a", 1), entry("b", 3)]).unwrap();
        assert_ne!(a.sha256, resized.sha256);
        let renamed = root_digest("directory", vec![entry("a", 1), entry("c", 2)]).unwrap();
        assert_ne!(a.sha256, renamed.sha256);
        let expected = hex::encode(Sha256::digest(b"- 1 \"a\"\n- 2 \"b\"\n"));
        assert_eq!(a.sha256, expected);
    }
}
