//! Where a finding lives beyond its location chain: for a git object, the commits, paths and
//! refs that hold it; for a store object, the store's own names for it.

use serde::{Deserialize, Serialize};

/// Which commits, paths and refs hold a git object that matched.
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
pub struct GitProvenance {
    /// The git directory holding the object.
    pub repository: String,
    /// The object id.
    pub object: String,
    /// `blob`, `commit` (its message or headers), `tag` (an annotated tag's message) or
    /// `tree` (an entry name).
    pub kind: String,
    /// `reachable` (from a ref), `reflog-only` (until reflog expiry), `index-only` (staged,
    /// never committed), `unreachable` (dangling: until `git gc --prune`), or `staged`
    /// (`--staged`: what the next commit would add).
    pub reachability: String,
    /// Commits that introduced the object, with its path there (empty for a commit itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<CommitPath>,
    /// How many commits hold the object (introducing ones and every later one).
    pub containing_commits: u64,
    /// Refs from which the object is reachable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Reflogs whose entries reach the object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reflogs: Vec<String>,
    /// Index entries (`index:<path>`, `worktrees/<name>/index:<path>`) holding the object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index: Vec<String>,
    /// Set when attribution could not be completed (a tree or commit missing); the object
    /// itself was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution_problem: Option<String>,
}

impl GitProvenance {
    /// One line for a person: the object, where it was introduced, what reaches it.
    pub fn describe(&self) -> String {
        let mut text = format!("git {} {} ({})", self.kind, self.object, self.reachability);
        let shown: Vec<String> = self
            .commits
            .iter()
            .take(3)
            .map(|c| {
                if c.path.is_empty() {
                    format!("commit {}", c.commit)
                } else {
                    format!("{}:{}", c.commit, c.path)
                }
            })
            .collect();
        if !shown.is_empty() {
            text.push_str(&format!("; introduced in {}", shown.join(", ")));
            if self.commits.len() > 3 {
                text.push_str(&format!(" and {} more", self.commits.len() - 3));
            }
        }
        for (label, names) in [
            ("refs", &self.refs),
            ("reflogs", &self.reflogs),
            ("held by", &self.index),
        ] {
            if !names.is_empty() {
                let listed: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
                let more = names.len().saturating_sub(5);
                text.push_str(&format!("; {label}: {}", listed.join(", ")));
                if more > 0 {
                    text.push_str(&format!(" (+{more})"));
                }
            }
        }
        text
    }
}

/// One commit and the path of the object in it.
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
pub struct CommitPath {
    pub commit: String,
    pub path: String,
}

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
    findings: &mut [crate::model::findings::Finding],
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
