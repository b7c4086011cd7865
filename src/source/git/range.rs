//! `--git-range A..B` and `--since-commit C` (`C..HEAD`): only what the commits of a range
//! introduce — their messages, and every blob that is new at its path relative to all of
//! the commit's parents (so content added by a merge commit itself is included, and content
//! merged in from a side branch is scanned once, in the side branch's commit).

use std::collections::{BTreeMap, HashSet};

use git2::{Delta, DiffOptions, Oid, Repository, Tree};

use super::coverage::RepositoryCoverage;
use super::objects;
use super::repository::{kind_name, record_findings, record_name_hits};
use super::{CommitPath, GitProvenance};
use crate::source::fs::display;
use crate::source::recorder::Recorder;

/// Scans the commits of `spec` (`A..B`) in `repo`.
pub(crate) fn scan_range(
    recorder: &Recorder,
    root: usize,
    repo: &Repository,
    spec: &str,
) -> anyhow::Result<()> {
    let shown = display(repo.path()).trim_end_matches('/').to_string();
    let mut walk = repo.revwalk()?;
    if spec.contains("..") {
        walk.push_range(spec)
    } else {
        walk.push(repo.revparse_single(spec)?.peel_to_commit()?.id())
    }
    .map_err(|e| anyhow::anyhow!("cannot resolve the git range {spec:?}: {}", e.message()))?;
    let mut commits = Vec::new();
    let mut introduced: BTreeMap<Oid, Vec<(Oid, String)>> = BTreeMap::new();
    for id in walk {
        let id = id?;
        commits.push(id);
        let commit = repo.find_commit(id)?;
        let tree = commit.tree()?;
        let parents: Vec<Tree> = commit
            .parents()
            .map(|p| p.tree())
            .collect::<Result<_, _>>()?;
        for (path, blob) in new_entries(repo, &tree, &parents)? {
            record_name_hits(recorder, &shown, &format!("{id}:{path}"), path.as_bytes());
            introduced.entry(blob).or_default().push((id, path));
        }
    }
    let mut ids: Vec<Oid> = commits.clone();
    ids.extend(introduced.keys().copied());
    ids.sort_unstable();
    ids.dedup();
    let scan = scan_listed(recorder, root, repo, &shown, &ids)?;
    for object in &scan.matched {
        let places = match object.kind {
            git2::ObjectType::Commit => vec![(object.id, String::new())],
            _ => introduced.get(&object.id).cloned().unwrap_or_default(),
        };
        let provenance = GitProvenance {
            repository: shown.clone(),
            object: object.id.to_string(),
            kind: kind_name(object.kind).into(),
            reachability: "in-range".into(),
            containing_commits: places.len() as u64,
            commits: places
                .into_iter()
                .map(|(commit, path)| CommitPath {
                    commit: commit.to_string(),
                    path,
                })
                .collect(),
            ..GitProvenance::default()
        };
        record_findings(recorder, &shown, object, provenance);
    }
    let ctx = crate::source::Context { recorder, root };
    super::objects::restore_gaps(ctx, &scan.gapped, |id| {
        let places = introduced.get(id)?;
        let named: Vec<String> = places.iter().map(|(c, p)| format!("{c}:{p}")).collect();
        Some(format!("blob {id} introduced in {}", named.join(", ")))
    });
    let coverage = RepositoryCoverage {
        path: shown,
        mode: format!("range {spec}"),
        commits: scan.tally.commits,
        blobs: scan.tally.blobs,
        bytes_inflated: scan.tally.bytes,
        object_directories: vec![display(&repo.commondir().join("objects"))],
        ..RepositoryCoverage::default()
    };
    recorder.with_root(root, |rc| rc.repositories.push(coverage));
    Ok(())
}

/// `(path, blob)` entries of `tree` that no parent tree has at that path.
fn new_entries(
    repo: &Repository,
    tree: &Tree,
    parents: &[Tree],
) -> anyhow::Result<Vec<(String, Oid)>> {
    let mut options = DiffOptions::new();
    options
        .include_typechange(true)
        .ignore_submodules(true)
        .skip_binary_check(true);
    let bases: Vec<Option<&Tree>> = if parents.is_empty() {
        vec![None]
    } else {
        parents.iter().map(Some).collect()
    };
    let mut common: Option<HashSet<(String, Oid)>> = None;
    for base in bases {
        let diff = repo.diff_tree_to_tree(base, Some(tree), Some(&mut options))?;
        let added: HashSet<(String, Oid)> = added_blobs(&diff).into_iter().collect();
        common = Some(match common {
            None => added,
            Some(previous) => previous.intersection(&added).cloned().collect(),
        });
    }
    let mut entries: Vec<(String, Oid)> = common.unwrap_or_default().into_iter().collect();
    entries.sort();
    Ok(entries)
}

/// Reads and scans exactly the objects `ids` of `repo`, recording the unreadable ones as gaps.
pub(super) fn scan_listed(
    recorder: &Recorder,
    root: usize,
    repo: &Repository,
    shown: &str,
    ids: &[Oid],
) -> anyhow::Result<objects::ObjectScan> {
    let objects_dir = repo.commondir().join("objects");
    let store = objects::open_store(&objects_dir).map_err(|error| {
        anyhow::anyhow!("could not open the object database of {shown}: {error}")
    })?;
    let scan = objects::scan_ids(
        crate::source::Context { recorder, root },
        shown,
        &store,
        ids,
    );
    super::repository::record_unreadable(recorder, root, shown, &scan.unreadable);
    Ok(scan)
}

/// The (path, blob) pairs a diff adds or changes: what its new side holds that the old did not.
pub(super) fn added_blobs(diff: &git2::Diff) -> Vec<(String, Oid)> {
    diff.deltas()
        .filter(|delta| {
            matches!(
                delta.status(),
                Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
            )
        })
        .map(|delta| delta.new_file())
        .filter(|file| !file.id().is_zero())
        .map(|file| {
            let path = file
                .path_bytes()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            (path, file.id())
        })
        .collect()
}
