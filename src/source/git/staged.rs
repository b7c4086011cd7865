//! `--staged`: exactly what the next commit would add — the blobs of index entries that
//! differ from `HEAD` (modified, added, renamed, type-changed) and the new paths themselves.
//!
//! Made for a pre-commit hook on a large repository: the index file is read directly
//! ([`index_file`]), `HEAD`'s tree is walked once, and only the blobs that differ are read.
//! Nothing of the work tree is read or hashed. `$GIT_INDEX_FILE` is honoured, as git sets
//! it for hooks of `git commit -a` and `git commit <paths>`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use git2::{DiffOptions, ObjectType, Oid, Repository, Tree};

use super::index_file;

use super::coverage::RepositoryCoverage;
use super::range::scan_listed;
use super::repository::{record_findings, record_name_hits};
use super::{CommitPath, GitProvenance};
use crate::source::fs::display;
use crate::source::recorder::Recorder;

/// Scans what `repo`'s next commit would add, recording findings under `root`.
pub(crate) fn scan_staged(
    recorder: &Recorder,
    root: usize,
    repo: &Repository,
) -> anyhow::Result<()> {
    let shown = display(repo.path()).trim_end_matches('/').to_string();
    let index_path = index_path(repo);
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree()?),
        // An unborn branch: the first commit adds everything in the index.
        Err(error) if error.code() == git2::ErrorCode::UnbornBranch => None,
        Err(error) if error.code() == git2::ErrorCode::NotFound => None,
        Err(error) => return Err(error.into()),
    };
    let staged = match read_index_fast(repo, &index_path)? {
        Some(index) => {
            let mut changed = Vec::new();
            let mut compare = Compare {
                repo,
                trees: &index.trees,
                changed: &mut changed,
            };
            compare.directory(b"", head_tree.as_ref().map(Tree::id), &index.entries)?;
            changed
        }
        None => changed_entries_libgit2(repo, &index_path, head_tree.as_ref())?,
    };
    let mut paths: BTreeMap<Oid, Vec<String>> = BTreeMap::new();
    for (path, id) in staged {
        record_name_hits(recorder, &shown, &format!("index:{path}"), path.as_bytes());
        paths.entry(id).or_default().push(path);
    }
    let ids: Vec<Oid> = paths.keys().copied().collect();
    let scan = scan_listed(recorder, root, repo, &shown, &ids)?;
    for object in &scan.matched {
        let places = paths.get(&object.id).cloned().unwrap_or_default();
        let provenance = GitProvenance {
            repository: shown.clone(),
            object: object.id.to_string(),
            kind: "blob".into(),
            reachability: "staged".into(),
            index: places.iter().map(|p| format!("index:{p}")).collect(),
            commits: Vec::<CommitPath>::new(),
            ..GitProvenance::default()
        };
        record_findings(recorder, &shown, object, provenance);
    }
    let ctx = crate::source::Context { recorder, root };
    super::objects::restore_gaps(ctx, &scan.gapped, |id| {
        let places = paths.get(id)?;
        Some(format!(
            "staged blob {id} at index:{}",
            places.join(", index:")
        ))
    });
    let coverage = RepositoryCoverage {
        path: shown,
        mode: "staged".into(),
        blobs: scan.tally.blobs,
        bytes_inflated: scan.tally.bytes,
        object_directories: vec![display(&repo.commondir().join("objects"))],
        ..RepositoryCoverage::default()
    };
    recorder.with_root(root, |rc| rc.repositories.push(coverage));
    Ok(())
}

/// The index the next commit is made from: `$GIT_INDEX_FILE` if git set it (as it does for
/// hooks run by `git commit -a` or `git commit <paths>`), else the repository's own.
fn index_path(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => repo.path().join("index"),
    }
}

/// The index entries, if the index is in a form [`index_file`] reads (else None).
///
/// For a split index the entries of the shared base index are added to the split index's
/// own: a superset of the final index (entries the split index deletes or replaces are
/// scanned too), so nothing the next commit adds can be missed.
fn read_index_fast(repo: &Repository, path: &Path) -> anyhow::Result<Option<index_file::Parsed>> {
    let read = |path: &Path| match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(anyhow::anyhow!(
            "could not read the index {}: {error}",
            path.display()
        )),
    };
    let Some(bytes) = read(path)? else {
        return Ok(Some(index_file::Parsed::default()));
    };
    let Some(mut parsed) = index_file::parse(&bytes) else {
        return Ok(None);
    };
    if let Some(shared) = parsed.shared {
        let shared_path = repo.path().join(format!("sharedindex.{shared}"));
        let base = read(&shared_path)?
            .and_then(|bytes| index_file::parse(&bytes))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the split index's base {} is missing or unreadable",
                    shared_path.display()
                )
            })?;
        parsed.entries.extend(base.entries);
        // The union is not one sorted index, so every entry is compared.
        parsed.trees.clear();
        parsed.entries.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(Some(parsed))
}

const GITLINK: u32 = 0o160000;
const SPARSE_DIRECTORY: u32 = 0o040000;

/// Compares index entries with `HEAD`, one directory at a time, skipping every directory
/// whose cache-tree id equals `HEAD`'s tree there (nothing in it changed).
struct Compare<'a> {
    repo: &'a Repository,
    trees: &'a HashMap<Vec<u8>, Oid>,
    changed: &'a mut Vec<(String, Oid)>,
}

impl Compare<'_> {
    /// `entries`: the index entries under `dir` (a contiguous run: the index is sorted).
    fn directory(
        &mut self,
        dir: &[u8],
        head: Option<Oid>,
        entries: &[index_file::Entry],
    ) -> anyhow::Result<()> {
        if head.is_some() && self.trees.get(dir) == head.as_ref() {
            return Ok(());
        }
        let head_entries: HashMap<Vec<u8>, (Oid, bool)> = match head {
            Some(id) => self
                .repo
                .find_tree(id)?
                .iter()
                .map(|e| {
                    let is_tree = e.kind() == Some(ObjectType::Tree);
                    (e.name_bytes().to_vec(), (e.id(), is_tree))
                })
                .collect(),
            None => HashMap::new(),
        };
        let mut at = 0;
        while at < entries.len() {
            let rest = &entries[at].path[dir.len()..];
            match memchr::memchr(b'/', rest) {
                Some(slash) => {
                    let name = &rest[..slash];
                    let mut sub = dir.to_vec();
                    sub.extend_from_slice(name);
                    sub.push(b'/');
                    let end = at + entries[at..].partition_point(|e| e.path.starts_with(&sub));
                    let head_sub = head_entries
                        .get(name)
                        .filter(|(_, is_tree)| *is_tree)
                        .map(|(id, _)| *id);
                    self.directory(&sub, head_sub, &entries[at..end])?;
                    at = end.max(at + 1);
                }
                None => {
                    self.file(&entries[at], head_entries.get(rest).map(|(id, _)| *id))?;
                    at += 1;
                }
            }
        }
        Ok(())
    }

    fn file(&mut self, entry: &index_file::Entry, head: Option<Oid>) -> anyhow::Result<()> {
        if entry.stage != 0 || entry.mode == GITLINK {
            return Ok(());
        }
        if entry.mode == SPARSE_DIRECTORY {
            anyhow::bail!(
                "the index is sparse; --staged does not read sparse indexes yet (run `git sparse-checkout disable` or scan with --git-range)"
            );
        }
        // A split index stores replaced entries without their path: scan them regardless.
        if entry.path.is_empty() || head != Some(entry.id) {
            let path = if entry.path.is_empty() {
                "(replaced entry of a split index)".to_string()
            } else {
                String::from_utf8_lossy(&entry.path).into_owned()
            };
            self.changed.push((path, entry.id));
        }
        Ok(())
    }
}

/// The slow, general way (for index forms the fast reader declines).
fn changed_entries_libgit2(
    repo: &Repository,
    index_path: &Path,
    head: Option<&Tree>,
) -> anyhow::Result<Vec<(String, Oid)>> {
    let index = git2::Index::open(index_path)?;
    let mut options = DiffOptions::new();
    options
        .include_typechange(true)
        .ignore_submodules(true)
        .skip_binary_check(true);
    let diff = repo.diff_tree_to_index(head, Some(&index), Some(&mut options))?;
    Ok(super::range::added_blobs(&diff))
}

/// The repository containing `path` (searching upwards, as git does), opened isolated.
pub(crate) fn discover(path: &Path) -> anyhow::Result<Repository> {
    super::isolate();
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|error| {
        anyhow::anyhow!(
            "{} is not inside a git repository ({}); --staged and --git-range scan a repository",
            path.display(),
            error.message()
        )
    })
}
