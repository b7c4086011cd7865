//! The git source: every object of every repository's history, with findings traced to the
//! commits, paths and refs that hold them.
//!
//! A rotated secret's most common hiding place is git history, and most of it is invisible
//! from `HEAD`: deleted files, side branches, stashes, commit messages, `refs/original/`
//! after a rewrite, dangling objects waiting for `gc`. So scour reads the object database
//! itself, not a walk from `HEAD`:
//!
//! 1. [`registry`]: the filesystem walk registers every repository it meets (work trees,
//!    bare repositories, mirrors, `.git` directories given directly, submodule stores under
//!    `.git/modules/`, linked worktrees through their `.git` file) and leaves loose objects
//!    and indexed packs to the object scan. Every other file of a git directory (`config`,
//!    `packed-refs`, `logs/`, hooks, `index`, ...) is scanned as a plain file by the walk.
//! 2. [`objects`]: every object id of the database (loose, packed, alternates; reachable or
//!    not) is read once per run ([`ledger`]), in parallel, and scanned whole: blobs, commit
//!    and tag objects (messages) and trees (entry names).
//! 3. [`attribution`]: only for objects that matched, which commits introduced them at which
//!    paths, which refs reach them, or that only reflogs, an index or nothing holds them.
//! 4. [`coverage`]: what was read (ref tips, counts) and what could not be (shallow or
//!    partial clones, missing alternates, packs without an index, unreadable objects, LFS
//!    content that is not there) — each blind spot is a gap, so the verdict is `incomplete`.
//!
//! [`staged`] and [`range`] scan only what a commit or a range of commits adds, for hooks
//! and CI. Repositories are opened with no user or system configuration, and objects are
//! read raw from the object database, so replace refs never hide a replaced commit.

pub(crate) mod attribution;
pub(crate) mod coverage;
pub(crate) mod discover;
pub(crate) mod index_file;
pub(crate) mod ledger;
pub(crate) mod lfs;
pub(crate) mod loose;
pub(crate) mod objects;
pub(crate) mod pack_check;
pub(crate) mod pack_order;
pub(crate) mod range;
pub(crate) mod refs;
pub(crate) mod registry;
pub(crate) mod repository;
pub(crate) mod staged;

use serde::{Deserialize, Serialize};

pub use coverage::RepositoryCoverage;
pub use loose::claim_file;
pub use objects::ObjectFilter;
pub use registry::Registry;
pub use repository::scan_registered;

/// Which part of git a scan covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GitMode {
    /// Files, plus every object of every repository met (the default).
    #[default]
    Everything,
    /// Only what the next commit of the repository at each PATH would add (`--staged`).
    Staged,
    /// Only what the commits of a range `A..B` introduce (`--git-range`, `--since-commit`).
    Range(String),
}

/// Scans the repository containing `path` in a narrow mode (`--staged`, `--git-range`).
pub fn scan_mode(
    recorder: &crate::scan::recorder::Recorder,
    root: usize,
    path: &std::path::Path,
    mode: &GitMode,
) -> anyhow::Result<()> {
    let repo = staged::discover(path)?;
    match mode {
        GitMode::Staged => staged::scan_staged(recorder, root, &repo),
        GitMode::Range(spec) => range::scan_range(recorder, root, &repo, spec),
        GitMode::Everything => Ok(()),
    }
}

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

/// Opens a repository at a git directory, never searching upwards, with libgit2 told to
/// ignore user, XDG and system configuration and not to refuse repositories owned by
/// another user (a backup of someone else's mirror is a normal thing to scan).
pub(crate) fn open_isolated(git_dir: &std::path::Path) -> Result<git2::Repository, git2::Error> {
    isolate();
    git2::Repository::open_ext(
        git_dir,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
}

/// The size of one window libgit2 maps of a pack, and the most it keeps mapped at once.
const MWINDOW_SIZE: usize = 16 << 20;
const MWINDOW_MAPPED_LIMIT: usize = 64 << 20;

fn isolate() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use git2::ConfigLevel;
        for level in [
            ConfigLevel::System,
            ConfigLevel::XDG,
            ConfigLevel::Global,
            ConfigLevel::ProgramData,
        ] {
            // SAFETY: called once, before any repository is opened by this process.
            let _ = unsafe { git2::opts::set_search_path(level, "") };
        }
        // SAFETY: as above; only relaxes the owner check for repositories we read.
        let _ = unsafe { git2::opts::set_verify_owner_validation(false) };
        // SAFETY: as above. libgit2 maps a pack in windows of 1 GiB, up to 8 GiB: walking
        // history for attribution would then keep most of a large pack resident (every
        // page a tree was read from). Smaller windows under a cap keep that bounded; the
        // pages stay in the page cache, so a window mapped again costs a system call.
        let _ = unsafe { git2::opts::set_mwindow_size(MWINDOW_SIZE) };
        let _ = unsafe { git2::opts::set_mwindow_mapped_limit(MWINDOW_MAPPED_LIMIT) };
    });
}
