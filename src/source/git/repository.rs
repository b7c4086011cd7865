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
use crate::source::fs::display;
use crate::source::recorder::Recorder;

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
            // A repository is one unit of work (its objects are units of their own inside).
            let ctx = crate::source::Context {
                recorder,
                root: found.root,
            };
            crate::source::contain::unit(ctx, &[display(&found.shown)], || {
                scan_repository(recorder, found.root, &canonical, &found.shown, filter)
            });
        }
    }
    for (objects_dir, files) in registry.uncovered() {
        let Some(&(root, _)) = files.first() else {
            continue;
        };
        let ctx = crate::source::Context { recorder, root };
        crate::source::contain::unit(ctx, &[display(&objects_dir)], || {
            scan_orphan_store(recorder, &objects_dir, &files, filter)
        });
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
    if let Some(format) = super::discover::object_format(git_dir).filter(|f| f != "sha1") {
        // gix 0.70 (gix-hash 0.19) reads SHA-1 repositories only; reading a SHA-256 pack
        // with it misparses (it panicked). Not read at all, and said so.
        cov.mode = format!("not read ({format} object format)");
        recorder.gap(
            root,
            GapKind::Unsupported,
            vec![shown.clone()],
            format!(
                "{shown} uses the {format} object format, which scour's git reader cannot read \
                 yet: none of its history (objects, commits, trees) was scanned; convert a copy \
                 with `git fast-export | git fast-import` into a SHA-1 repository and scan that"
            ),
        );
        for dir in &objects_dirs {
            // The gap stands for these objects: they are not read again as a bare store.
            recorder.git.cover(dir);
        }
        recorder.with_root(root, |rc| rc.repositories.push(cov));
        return;
    }
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

    if !scan.matched.is_empty() || !scan.gapped.is_empty() {
        let history = History {
            links: &scan.commits,
            tips: &tips,
            reflogs: &reflogs,
            index: &index,
        };
        let targets: HashSet<Oid> = scan
            .matched
            .iter()
            .map(|m| m.id)
            .chain(scan.gapped.keys().copied())
            .collect();
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
            let provenance = provenance(
                &shown,
                object.id,
                object.kind,
                attributed.get(&object.id),
                &problem,
            );
            record_findings(recorder, &shown, object, provenance);
        }
        let ctx = crate::source::Context { recorder, root };
        objects::restore_gaps(ctx, &scan.gapped, |id| {
            let held = provenance(&shown, *id, ObjectType::Blob, attributed.get(id), &problem);
            Some(held.describe())
        });
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
    let ctx = crate::source::Context { recorder, root };
    let mut scan = objects::scan_ids(ctx, shown, &store, &new);
    let matched: HashSet<Oid> = scan.matched.iter().map(|m| m.id).collect();
    let unreadable: HashSet<Oid> = scan.unreadable.iter().map(|(id, _)| *id).collect();
    for object in scan
        .matched
        .iter()
        .filter(|m| !scan.gapped.contains_key(&m.id))
    {
        recorder.git.ledger.record(
            object.id,
            Seen::Matched {
                kind: object.kind,
                findings: Arc::new(object.findings.clone()),
            },
        );
    }
    for id in new.iter().filter(|id| {
        !matched.contains(id) && !unreadable.contains(id) && !scan.gapped.contains_key(id)
    }) {
        recorder.git.ledger.record(*id, Seen::Clean);
    }
    cov.objects_shared_with_earlier_repositories = known.len() as u64;
    for (id, seen) in known {
        if let Seen::Matched { kind, findings } = seen {
            scan.matched.push(MatchedObject {
                id,
                kind,
                findings: findings.to_vec(),
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
    id: Oid,
    kind: ObjectType,
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
        object: id.to_string(),
        kind: kind_name(kind).to_string(),
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

/// Records an object's findings (members of a blob included) under this repository's
/// name, each with the object's provenance.
pub(crate) fn record_findings(
    recorder: &Recorder,
    shown: &str,
    object: &MatchedObject,
    provenance: GitProvenance,
) {
    for finding in &object.findings {
        let mut finding = finding.clone();
        // A finding kept from an earlier repository sharing the object: renamed for this one.
        if let Some(first) = finding.location.chain.first_mut() {
            *first = shown.to_string();
        }
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
                    object.id,
                    object.kind,
                    None,
                    &Some("no repository (refs, history) around this object directory".into()),
                );
                record_findings(recorder, &shown, object, provenance);
            }
            let ctx = crate::source::Context { recorder, root };
            objects::restore_gaps(ctx, &scan.gapped, |_| None);
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
    let hits = crate::source::archive::decode::text_hits(recorder.matcher(), name);
    if !hits.is_empty() {
        recorder.text_hits(&[shown.to_string(), place.to_string()], None, &hits);
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
