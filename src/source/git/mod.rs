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
pub mod work_tree;

pub use crate::model::RepositoryCoverage;
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
    recorder: &crate::source::recorder::Recorder,
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

/// Which commits, paths and refs hold a git object that matched: part of the data model.
pub use crate::model::provenance::{CommitPath, GitProvenance};

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
