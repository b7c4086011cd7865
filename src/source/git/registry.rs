//! The registry: repositories met while walking, and the object-store files the walk left
//! to the object scan.
//!
//! The filesystem walk reports every file it meets here first. A `HEAD` file inside a git
//! directory, or a `.git` file naming one, registers that repository for an object scan once
//! the walk is over. Loose objects and indexed packs are compressed, so byte-scanning them
//! would find nothing; the walk defers them instead, and the object scan must then read
//! them. Deferred files whose object store no scan covered are scanned another way after
//! all (see [`super::scan_registered`]), so a deferral can never become a silent gap.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::discover;
use super::ledger::Ledger;

/// A repository to scan: where it was found, and under which root.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub root: usize,
    /// The git directory as the walk (or the user) named it.
    pub shown: PathBuf,
}

/// Shared by every walker thread; held by the recorder.
#[derive(Default)]
pub struct Registry {
    /// Keyed by the canonical git directory, so a repository met twice is scanned once.
    repositories: Mutex<BTreeMap<PathBuf, Found>>,
    /// Deferred object files, keyed by the canonical `objects` directory holding them.
    deferred: Mutex<BTreeMap<PathBuf, Vec<(usize, PathBuf)>>>,
    /// Canonical `objects` directories an object scan has read completely.
    covered: Mutex<BTreeSet<PathBuf>>,
    pub(crate) ledger: Ledger,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Registry {
    /// Called by the walk for every regular file. Returns true if the file is an object
    /// store file left to the object scan (the walk must then not scan it itself).
    pub fn notice_file(&self, root: usize, path: &Path) -> bool {
        let Some(name) = path.file_name() else {
            return false;
        };
        if name == "HEAD" {
            if let Some(dir) = path.parent() {
                if discover::is_git_dir(dir) {
                    self.register(root, dir);
                } else if let Some(common) = discover::common_dir(dir) {
                    self.register(root, &common);
                }
            }
            return false;
        }
        if name == ".git" {
            if let Some(git_dir) =
                discover::gitdir_file_target(path).and_then(|t| discover::object_git_dir(&t))
            {
                self.register(root, &git_dir);
            }
            return false;
        }
        if discover::is_loose_object_path(path) || discover::is_indexed_pack_path(path) {
            if let Some(objects) = discover::objects_dir_of(path) {
                lock(&self.deferred)
                    .entry(canonical(&objects))
                    .or_default()
                    .push((root, path.to_path_buf()));
                return true;
            }
        }
        false
    }

    /// Registers a git directory (with its own object database) for an object scan.
    pub fn register(&self, root: usize, git_dir: &Path) {
        lock(&self.repositories)
            .entry(canonical(git_dir))
            .or_insert_with(|| Found {
                root,
                shown: git_dir.to_path_buf(),
            });
    }

    /// The registered repositories, in a stable order.
    pub(crate) fn repositories(&self) -> Vec<(PathBuf, Found)> {
        lock(&self.repositories)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Marks an object directory as read completely by an object scan.
    pub(crate) fn cover(&self, objects_dir: &Path) {
        lock(&self.covered).insert(canonical(objects_dir));
    }

    /// Deferred files whose object directory no object scan covered, grouped by directory.
    pub(crate) fn uncovered(&self) -> Vec<(PathBuf, Vec<(usize, PathBuf)>)> {
        let covered = lock(&self.covered);
        lock(&self.deferred)
            .iter()
            .filter(|(dir, _)| !covered.contains(*dir))
            .map(|(dir, files)| (dir.clone(), files.clone()))
            .collect()
    }
}
