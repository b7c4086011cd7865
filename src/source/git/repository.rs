//! Scanning the registered repositories, one after another (each one in parallel inside),
//! then any object store the walk deferred that no repository covered.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Oid};

use super::attribution::{self, Attributed, History};
use super::coverage::{self, RepositoryCoverage};
use super::ledger::Seen;
use super::objects::{self, MatchedObject, ObjectFilter, ObjectScan};
use super::refs;
use super::{CommitPath, GitProvenance};
use crate::coverage::GapKind;
use crate::scan::recorder::Recorder;
use crate::source::fs::display;

/// Unreadable objects listed one by one in the gaps; the rest are counted in one more gap.
const UNREADABLE_LISTED: usize = 100;

/// Scans every repository registered during the walk. `walk_outside` is called for a
/// repository whose git directory lies outside the root that led to it (a linked worktree
/// or submodule checkout pointing elsewhere), so its plain files get scanned as well.
pub fn scan_registered(
    recorder: &Recorder,
    filter: ObjectFilter,
    walk_outside: &dyn Fn(usize, &Path),
) {
    let registry = &recorder.git;
    let mut done: HashSet<PathBuf> = HashSet::new();
    loop {
        let pending: Vec<_> = registry
            .repositories()
            .into_iter()
            .filter(|(canonical, _)| !done.contains(canonical))
            .collect();
        if pending.is_empty() {
            break;
        }
        for (canonical, found) in pending {
            done.insert(canonical.clone());
            walk_outside(found.root, &found.shown);
            scan_repository(recorder, found.root, &canonical, &found.shown, filter);
        }
    }
    for (objects_dir, files) in registry.uncovered() {
        scan_orphan_store(recorder, &objects_dir, &files, filter);
    }
}

fn scan_repository(
    recorder: &Recorder,
    root: usize,
    git_dir: &Path,
    shown: &Path,
    filter: ObjectFilter,
) {
    let shown = display(shown);
    let objects_dir = git_dir.join("objects");
    let mut objects_dirs = vec![objects_dir.clone()];
    objects_dirs.extend(coverage::alternates(&objects_dir));
    let mut cov = RepositoryCoverage {
        path: shown.clone(),
        mode: "full".into(),
        object_directories: std::iter::once(display(&Path::new(&shown).join("objects")))
            .chain(objects_dirs.iter().skip(1).map(|d| display(d)))
            .collect(),
        linked_worktrees: refs::worktree_names(git_dir),
        shallow: git_dir.join("shallow").is_file(),
        ..RepositoryCoverage::default()
    };
    for blind in coverage::blind_spots(git_dir, &shown, &objects_dirs) {
        cov.partial_clone |= blind.kind == GapKind::MissingObjects;
        recorder.gap(root, blind.kind, blind.chain, blind.reason);
    }
    for dir in objects_dirs.iter().filter(|d| d.is_dir()) {
        let (packs, loose) = coverage::count_store(dir);
        cov.packs += packs;
        cov.loose_objects += loose;
    }

    let Some(scan) = read_store(recorder, root, &objects_dir, &shown, filter, &mut cov) else {
        recorder.with_root(root, |rc| rc.repositories.push(cov));
        return;
    };
    for dir in &objects_dirs {
        recorder.git.cover(dir);
    }
    for (id, pointer) in &scan.lfs_pointers {
        if !pointer.content_path(git_dir).is_file() {
            recorder.gap(
                root,
                GapKind::LfsContentMissing,
                vec![shown.clone(), id.to_string()],
                format!(
                    "blob {id} in {shown} is a Git LFS pointer whose content (sha256 {}) is not in lfs/objects: that content was not scanned; run `git lfs fetch --all` and scan again",
                    pointer.sha256
                ),
            );
        }
    }
    cov.lfs_pointers = scan.lfs_pointers.len() as u64;

    let repo = super::open_isolated(git_dir);
    let (tips, reflogs, index) = match &repo {
        Ok(repo) => {
            let (tips, problems) = refs::tips(repo, git_dir);
            for problem in problems {
                recorder.gap(
                    root,
                    GapKind::MissingObjects,
                    vec![shown.clone()],
                    format!("{shown}: {problem} — history from it may be missing"),
                );
            }
            (tips, refs::reflogs(git_dir), refs::index_entries(git_dir))
        }
        Err(_) => (Vec::new(), refs::reflogs(git_dir), Vec::new()),
    };
    for tip in &tips {
        crate::source::names::check_ref(recorder, &shown, &tip.name);
    }
    cov.refs_by_namespace = refs::by_namespace(&tips);
    cov.ref_tips = tips
        .iter()
        .map(|t| (t.name.clone(), t.id.to_string()))
        .collect();
    cov.ref_tip_kinds = tips
        .iter()
        .filter(|t| t.commit != Some(t.id))
        .map(|t| (t.name.clone(), tip_kind(repo.as_ref().ok(), t.id)))
        .collect();
    cov.reflogs = reflogs.len() as u64;
    cov.reflog_entries = reflogs.iter().map(|r| r.ids.len() as u64).sum();
    cov.unreachable_commits = unreachable_commits(&scan, &tips, &reflogs);

    if !scan.matched.is_empty() {
        let history = History {
            links: &scan.commits,
            tips: &tips,
            reflogs: &reflogs,
            index: &index,
        };
        let targets: HashSet<Oid> = scan.matched.iter().map(|m| m.id).collect();
        let (attributed, problems) = match &repo {
            Ok(repo) => attribution::attribute(repo, &targets, &history),
            Err(error) => (
                HashMap::new(),
                vec![format!(
                    "could not open the repository: {}",
                    error.message()
                )],
            ),
        };
        let problem = (!problems.is_empty()).then(|| summarise(&problems));
        for object in &scan.matched {
            let provenance = provenance(&shown, object, attributed.get(&object.id), &problem);
            record_findings(recorder, &shown, object, provenance);
        }
    }
    recorder.with_root(root, |rc| rc.repositories.push(cov));
}

/// Lists and reads every object of one store; None if the store could not be opened.
fn read_store(
    recorder: &Recorder,
    root: usize,
    objects_dir: &Path,
    shown: &str,
    filter: ObjectFilter,
    cov: &mut RepositoryCoverage,
) -> Option<ObjectScan> {
    let opened = objects::open_store(objects_dir)
        .and_then(|store| objects::list_ids(&store, filter).map(|listed| (store, listed)));
    let (store, ids) = match opened {
        Ok((store, (ids, problems))) => {
            for problem in problems.iter().take(UNREADABLE_LISTED) {
                recorder.gap(
                    root,
                    GapKind::UnreadableObject,
                    vec![shown.to_string()],
                    format!("could not list every object of {shown}: {problem} — objects not listed were not scanned"),
                );
            }
            (store, ids)
        }
        Err(error) => {
            recorder.gap(
                root,
                GapKind::UnreadableObject,
                vec![shown.to_string()],
                format!(
                    "could not open the object database of {shown}: {error} — its history was not scanned"
                ),
            );
            return None;
        }
    };
    let (new, known) = recorder.git.ledger.partition(ids);
    let mut scan = objects::scan_ids(&store, &new, recorder.matcher(), &|bytes| {
        recorder.scanned(root, bytes)
    });
    let matched: HashSet<Oid> = scan.matched.iter().map(|m| m.id).collect();
    let unreadable: HashSet<Oid> = scan.unreadable.iter().map(|(id, _)| *id).collect();
    for object in &scan.matched {
        recorder.git.ledger.record(
            object.id,
            Seen::Matched {
                kind: object.kind,
                hits: Arc::new(object.hits.clone()),
            },
        );
    }
    for id in new
        .iter()
        .filter(|id| !matched.contains(id) && !unreadable.contains(id))
    {
        recorder.git.ledger.record(*id, Seen::Clean);
    }
    cov.objects_shared_with_earlier_repositories = known.len() as u64;
    for (id, seen) in known {
        if let Seen::Matched { kind, hits } = seen {
            scan.matched.push(MatchedObject {
                id,
                kind,
                hits: hits.to_vec(),
            });
        }
    }
    record_unreadable(recorder, root, shown, &scan.unreadable);
    cov.commits = scan.tally.commits;
    cov.trees = scan.tally.trees;
    cov.blobs = scan.tally.blobs;
    cov.tags = scan.tally.tags;
    cov.bytes_inflated = scan.tally.bytes;
    Some(scan)
}

pub(crate) fn record_unreadable(
    recorder: &Recorder,
    root: usize,
    shown: &str,
    unreadable: &[(Oid, String)],
) {
    for (id, reason) in unreadable.iter().take(UNREADABLE_LISTED) {
        recorder.gap(
            root,
            GapKind::UnreadableObject,
            vec![shown.to_string(), id.to_string()],
            format!("object {id} in {shown} could not be read: {reason} — it was not scanned"),
        );
    }
    if unreadable.len() > UNREADABLE_LISTED {
        recorder.gap(
            root,
            GapKind::UnreadableObject,
            vec![shown.to_string()],
            format!(
                "{} more objects in {shown} could not be read and were not scanned; run `git fsck` on it",
                unreadable.len() - UNREADABLE_LISTED
            ),
        );
    }
}

/// Commits read from this store that no ref or reflog entry reaches.
fn unreachable_commits(scan: &ObjectScan, tips: &[refs::Tip], reflogs: &[refs::Reflog]) -> u64 {
    let mut reached: HashSet<Oid> = HashSet::new();
    let mut pending: Vec<Oid> = tips.iter().map(|t| t.commit.unwrap_or(t.id)).collect();
    pending.extend(reflogs.iter().flat_map(|r| r.ids.iter().copied()));
    while let Some(id) = pending.pop() {
        if let Some(links) = scan.commits.get(&id) {
            if reached.insert(id) {
                pending.extend(links.parents.iter().copied());
            }
        }
    }
    scan.commits
        .keys()
        .filter(|id| !reached.contains(id))
        .count() as u64
}

fn summarise(problems: &[String]) -> String {
    let mut text = problems
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > 3 {
        text.push_str(&format!(" (and {} more)", problems.len() - 3));
    }
    text
}

pub(crate) fn kind_name(kind: ObjectType) -> &'static str {
    match kind {
        ObjectType::Commit => "commit",
        ObjectType::Tree => "tree",
        ObjectType::Tag => "tag",
        _ => "blob",
    }
}

fn provenance(
    shown: &str,
    object: &MatchedObject,
    attributed: Option<&Attributed>,
    problem: &Option<String>,
) -> GitProvenance {
    let attributed = attributed.cloned().unwrap_or_default();
    let reachability = if !attributed.refs.is_empty() {
        "reachable"
    } else if !attributed.reflogs.is_empty() {
        "reflog-only"
    } else if !attributed.index.is_empty() {
        "index-only"
    } else {
        "unreachable"
    };
    GitProvenance {
        repository: shown.to_string(),
        object: object.id.to_string(),
        kind: kind_name(object.kind).to_string(),
        reachability: reachability.to_string(),
        commits: attributed
            .introduced
            .iter()
            .map(|(commit, path)| CommitPath {
                commit: commit.to_string(),
                path: path.clone(),
            })
            .collect(),
        containing_commits: attributed.containing_commits,
        refs: attributed.refs.into_iter().collect(),
        reflogs: attributed.reflogs.into_iter().collect(),
        index: attributed.index.into_iter().collect(),
        attribution_problem: problem.clone(),
    }
}

pub(crate) fn record_findings(
    recorder: &Recorder,
    shown: &str,
    object: &MatchedObject,
    provenance: GitProvenance,
) {
    let chain = vec![shown.to_string(), object.id.to_string()];
    for hit in &object.hits {
        let mut finding = recorder.finding(&chain, hit);
        finding.git = Some(provenance.clone());
        recorder.push_finding(finding);
    }
}

/// An object directory the walk deferred but no repository covered (e.g. a copied-out
/// `objects/` folder): its objects are read without history, named by object id.
fn scan_orphan_store(
    recorder: &Recorder,
    objects_dir: &Path,
    files: &[(usize, PathBuf)],
    filter: ObjectFilter,
) {
    let Some(root) = files.first().map(|(root, _)| *root) else {
        return;
    };
    let shown = display(objects_dir);
    let mut cov = RepositoryCoverage {
        path: shown.clone(),
        mode: "objects only".into(),
        object_directories: vec![shown.clone()],
        ..RepositoryCoverage::default()
    };
    match read_store(recorder, root, objects_dir, &shown, filter, &mut cov) {
        Some(scan) => {
            for object in &scan.matched {
                let provenance = provenance(
                    &shown,
                    object,
                    None,
                    &Some("no repository (refs, history) around this object directory".into()),
                );
                record_findings(recorder, &shown, object, provenance);
            }
        }
        None => {
            // The object database could not be opened (a gap is recorded); still read the
            // files as bytes, so nothing deferred goes unread.
            let mut buffer = crate::matcher::ScanBuffer::new();
            for (root, path) in files {
                let ctx = crate::source::Context {
                    recorder,
                    root: *root,
                };
                crate::source::fs::scan_file(ctx, path, &mut buffer);
            }
        }
    }
    recorder.with_root(root, |rc| rc.repositories.push(cov));
}

/// Scans a path name (a staged or committed file name) and records hits under
/// `[repository, place]`.
pub(crate) fn record_name_hits(recorder: &Recorder, shown: &str, place: &str, name: &[u8]) {
    let hits = recorder.matcher().scan_slice(name);
    if !hits.is_empty() {
        recorder.hits(&[shown.to_string(), place.to_string()], &hits);
    }
}

/// The kind of a ref tip's object, for tips that are not commits: `missing` when the object
/// is not in the store.
fn tip_kind(repo: Option<&git2::Repository>, id: Oid) -> String {
    let kind = repo
        .and_then(|repo| repo.odb().ok())
        .and_then(|odb| odb.read_header(id).ok())
        .map(|(_, kind)| kind);
    match kind {
        Some(ObjectType::Tag) => "tag",
        Some(ObjectType::Tree) => "tree",
        Some(ObjectType::Blob) => "blob",
        Some(ObjectType::Commit) => "commit",
        _ => "missing",
    }
    .to_string()
}
