//! Reading every object of an object database: loose and packed, reachable or not, and
//! those reached through alternates.
//!
//! The ids are listed once (`Odb::foreach`), sorted and deduplicated (an object stored in two
//! packs is listed twice), filtered (objects already read in this run, and an optional
//! caller predicate, e.g. a shard of the id space), then read in parallel: each worker
//! thread opens its own handle on the object database, because libgit2's shared handles
//! serialise readers. Every object is inflated once and scanned in memory: blobs whole,
//! commits and annotated tags raw (headers and message), trees raw (entry names). Commit
//! headers are kept (tree and parents) so attribution can later walk history without
//! reading commits again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use git2::{ObjectType, Odb, Oid};
use rayon::prelude::*;

use super::lfs::LfsPointer;
use crate::matcher::{Hit, Matcher};

/// Which objects a scan reads; `None` reads all. Lets a caller split the id space (shards).
pub type ObjectFilter<'a> = Option<&'a (dyn Fn(&Oid) -> bool + Sync)>;

/// A commit's links, parsed from its header.
#[derive(Debug, Clone)]
pub(crate) struct CommitLinks {
    pub tree: Oid,
    pub parents: Vec<Oid>,
}

/// One object whose content matched.
#[derive(Debug, Clone)]
pub(crate) struct MatchedObject {
    pub id: Oid,
    pub kind: ObjectType,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Default)]
pub(crate) struct ObjectTally {
    pub commits: u64,
    pub trees: u64,
    pub blobs: u64,
    pub tags: u64,
    pub bytes: u64,
}

/// What reading an object database produced.
#[derive(Debug, Default)]
pub(crate) struct ObjectScan {
    pub tally: ObjectTally,
    pub matched: Vec<MatchedObject>,
    pub unreadable: Vec<(Oid, String)>,
    pub lfs_pointers: Vec<(Oid, LfsPointer)>,
    pub commits: HashMap<Oid, CommitLinks>,
}

/// Opens an object database over one `objects` directory (and its alternates), with no
/// repository configuration involved.
pub(crate) fn open_odb(objects_dir: &Path) -> Result<Odb<'static>, git2::Error> {
    let odb = Odb::new()?;
    let path = objects_dir
        .to_str()
        .ok_or_else(|| git2::Error::from_str("object directory path is not UTF-8"))?;
    odb.add_disk_alternate(path)?;
    Ok(odb)
}

/// Every object id in the database (loose, packed, alternates), sorted and deduplicated.
pub(crate) fn list_ids(odb: &Odb, filter: ObjectFilter) -> Result<Vec<Oid>, git2::Error> {
    let mut ids = Vec::new();
    odb.foreach(|id| {
        if filter.is_none_or(|keep| keep(id)) {
            ids.push(*id);
        }
        true
    })?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Reads and scans `ids` in parallel. `scanned` is told each object's size as it goes.
pub(crate) fn scan_ids(
    objects_dir: &Path,
    ids: &[Oid],
    matcher: &Matcher,
    scanned: &(dyn Fn(u64) + Sync),
) -> ObjectScan {
    let result = Mutex::new(ObjectScan::default());
    ids.par_chunks(512).for_each_init(
        || open_odb(objects_dir),
        |odb, chunk| {
            let mut local = ObjectScan::default();
            match odb {
                Ok(odb) => {
                    for id in chunk {
                        let before = local.tally.bytes;
                        read_one(odb, *id, matcher, &mut local);
                        scanned(local.tally.bytes - before);
                    }
                }
                Err(error) => {
                    for id in chunk {
                        local.unreadable.push((*id, error.message().to_string()));
                    }
                }
            }
            merge(&mut lock(&result), local);
        },
    );
    result
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_one(odb: &Odb, id: Oid, matcher: &Matcher, out: &mut ObjectScan) {
    let object = match odb.read(id) {
        Ok(object) => object,
        Err(error) => {
            out.unreadable.push((id, error.message().to_string()));
            return;
        }
    };
    let data = object.data();
    let kind = object.kind();
    out.tally.bytes += data.len() as u64;
    match kind {
        ObjectType::Commit => {
            out.tally.commits += 1;
            if let Some(links) = parse_commit_links(data) {
                out.commits.insert(id, links);
            }
        }
        ObjectType::Tree => out.tally.trees += 1,
        ObjectType::Tag => out.tally.tags += 1,
        _ => {
            out.tally.blobs += 1;
            if let Some(pointer) = LfsPointer::parse(data) {
                out.lfs_pointers.push((id, pointer));
            }
        }
    }
    let hits = matcher.scan_slice(data);
    if !hits.is_empty() {
        out.matched.push(MatchedObject { id, kind, hits });
    }
}

fn merge(into: &mut ObjectScan, from: ObjectScan) {
    into.tally.commits += from.tally.commits;
    into.tally.trees += from.tally.trees;
    into.tally.blobs += from.tally.blobs;
    into.tally.tags += from.tally.tags;
    into.tally.bytes += from.tally.bytes;
    into.matched.extend(from.matched);
    into.unreadable.extend(from.unreadable);
    into.lfs_pointers.extend(from.lfs_pointers);
    into.commits.extend(from.commits);
}

/// The tree and parents named in a commit's header.
pub(crate) fn parse_commit_links(data: &[u8]) -> Option<CommitLinks> {
    let mut lines = data.split(|&b| b == b'\n');
    let tree = parse_id(lines.next()?.strip_prefix(b"tree ")?)?;
    let parents = lines
        .map_while(|line| line.strip_prefix(b"parent "))
        .filter_map(parse_id)
        .collect();
    Some(CommitLinks { tree, parents })
}

fn parse_id(hex: &[u8]) -> Option<Oid> {
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_headers_give_tree_and_parents() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor a <a@a> 0 +0000\n\nmsg\n";
        let links = parse_commit_links(raw).unwrap();
        assert_eq!(
            links.tree.to_string(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(links.parents.len(), 2);
    }
}
