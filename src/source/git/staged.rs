//! `--staged`: exactly what the next commit would add — the blobs of index entries that
//! differ from `HEAD` (modified, added, renamed, type-changed) and the new paths themselves.
//!
//! Made for a pre-commit hook on a large repository: it compares the index with `HEAD`'s
//! tree (libgit2 walks both in order; nothing of the work tree is read or hashed) and then
//! reads only the changed blobs.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Delta, DiffOptions, Oid, Repository};

use super::coverage::RepositoryCoverage;
use super::objects;
use super::repository::{record_findings, record_name_hits};
use super::{CommitPath, GitProvenance};
use crate::scan::recorder::Recorder;
use crate::source::fs::display;

/// Scans what `repo`'s next commit would add, recording findings under `root`.
pub(crate) fn scan_staged(
    recorder: &Recorder,
    root: usize,
    repo: &Repository,
) -> anyhow::Result<()> {
    let shown = display(repo.path()).trim_end_matches('/').to_string();
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree()?),
        // An unborn branch: the first commit adds everything in the index.
        Err(error) if error.code() == git2::ErrorCode::UnbornBranch => None,
        Err(error) if error.code() == git2::ErrorCode::NotFound => None,
        Err(error) => return Err(error.into()),
    };
    let index = repo.index()?;
    let mut options = DiffOptions::new();
    options
        .include_typechange(true)
        .ignore_submodules(true)
        .skip_binary_check(true);
    let diff = repo.diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))?;
    let mut paths: BTreeMap<Oid, Vec<String>> = BTreeMap::new();
    for delta in diff.deltas() {
        let adds = matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        );
        let file = delta.new_file();
        if !adds || file.id().is_zero() {
            continue;
        }
        let path = file
            .path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        record_name_hits(recorder, &shown, &format!("index:{path}"), path.as_bytes());
        paths.entry(file.id()).or_default().push(path);
    }
    let ids: Vec<Oid> = paths.keys().copied().collect();
    let objects_dir = repo.commondir().join("objects");
    let store = objects::open_store(&objects_dir).map_err(|error| {
        anyhow::anyhow!("could not open the object database of {shown}: {error}")
    })?;
    let scan = objects::scan_ids(&store, &ids, recorder.matcher(), &|bytes| {
        recorder.scanned(root, bytes)
    });
    super::repository::record_unreadable(recorder, root, &shown, &scan.unreadable);
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
    let coverage = RepositoryCoverage {
        path: shown,
        mode: "staged".into(),
        blobs: scan.tally.blobs,
        bytes_inflated: scan.tally.bytes,
        object_directories: vec![display(&objects_dir)],
        ..RepositoryCoverage::default()
    };
    recorder.with_root(root, |rc| rc.repositories.push(coverage));
    Ok(())
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
