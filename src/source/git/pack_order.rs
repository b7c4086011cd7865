//! Reading a pack in its own order: every entry inflated once, every delta rebuilt from a
//! base still in memory.
//!
//! Reading objects by id (sorted hashes) jumps around the pack, and each delta then has its
//! whole chain of bases inflated again unless a cache happens to hold them: on a history of
//! small edits to the same files (chains of up to 50 deltas) that is most of the work. Here
//! the pack's entries are arranged as delta trees (each base with the deltas made from it,
//! read from the entry headers alone), and each tree is walked depth-first from its whole
//! root object: a delta is applied to its base while the base is held, so no entry is
//! inflated twice and memory is the chain being walked, not a cache. Trees are spread over
//! the worker threads (a root and, for wide roots, each of its direct children is a unit).
//!
//! Nothing here decides what is scanned: every object rebuilt is handed to `visit`.
//! Whatever is not rebuilt (a base in another pack or loose, a damaged entry, an object
//! larger than the caller's limit, a delta loop) is simply not visited, and the caller
//! reads it by id afterwards, where each failure becomes a gap naming the object.
//!
//! The delta format is git's (`delta.h`): two sizes, then copy-from-base and insert
//! instructions. gix-pack keeps its applier private, so a bounds-checked one is here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use gix_object::Kind;
use gix_pack::data::entry::Header;
use rayon::prelude::*;

/// Most bytes of bases one walk holds at once (the chain from a root to the delta being
/// rebuilt); a subtree deeper than that is left to be read by id.
const MAX_HELD_BYTES: u64 = 256 << 20;

/// Compressed bytes the walkers read between two hand-backs of the pack's pages
/// ([`release_pages`]), so the resident part of the mapping stays near this size however
/// large the pack.
const RELEASE_EVERY: u64 = 48 << 20;

/// A root with at least this many direct deltas has each of them walked as its own unit,
/// so one file with a long history does not keep a single thread busy alone.
const WIDE_ROOT: usize = 4;

/// One pack with its index, and its entries arranged as delta trees.
pub(crate) struct PackTrees {
    index: gix_pack::index::File,
    pack: gix_pack::data::File,
    /// Entries by ascending pack offset.
    entries: Vec<Node>,
    /// `children[child_start[i]..child_start[i + 1]]`: the deltas whose base is entry `i`.
    child_start: Vec<u32>,
    children: Vec<u32>,
    roots: Vec<u32>,
    /// Largest object rebuilt; larger ones are left to be read by id.
    max_size: u64,
    /// Compressed bytes read since the pack's pages were last handed back.
    read_since_release: AtomicU64,
}

#[derive(Clone, Copy)]
struct Node {
    /// One past the entry's last byte (the next entry's offset, or the pack's end).
    end: u64,
    /// The index position of the entry's id.
    index_position: u32,
    /// A whole object's kind (`None` for a delta).
    kind: Option<Kind>,
    /// Where the inflated bytes start, and how many there are.
    data_offset: u64,
    inflated_size: u64,
}

/// Why a pack could not be arranged (it is then read object by object).
pub(crate) type Unarranged = String;

impl PackTrees {
    /// Opens the pack behind `index_path` and arranges its entries, reading only entry
    /// headers. Entries declaring more than `max_size` inflated bytes are left out (and so
    /// is everything built on them).
    pub(crate) fn open(index_path: &Path, max_size: u64) -> Result<PackTrees, Unarranged> {
        catch_unwind(AssertUnwindSafe(|| {
            Self::open_unguarded(index_path, max_size)
        }))
        .unwrap_or_else(|_| Err("the pack's headers could not be parsed".to_string()))
    }

    fn open_unguarded(index_path: &Path, max_size: u64) -> Result<PackTrees, Unarranged> {
        let index = gix_pack::index::File::at(index_path, gix_hash::Kind::Sha1)
            .map_err(|e| e.to_string())?;
        let pack =
            gix_pack::data::File::at(index_path.with_extension("pack"), gix_hash::Kind::Sha1)
                .map_err(|e| e.to_string())?;
        if pack.num_objects() != index.num_objects() {
            return Err("the pack and its index disagree on the number of objects".into());
        }
        let mut by_offset: Vec<(u64, u32)> = (0..index.num_objects())
            .map(|i| (index.pack_offset_at_index(i), i))
            .collect();
        by_offset.sort_unstable();
        let pack_end = pack.pack_end() as u64;
        let mut pages = PageRelease::default();
        let mut entries = Vec::with_capacity(by_offset.len());
        // The base of each entry (an entry number), for deltas whose base is in this pack.
        let mut base_of: Vec<Option<u32>> = Vec::with_capacity(by_offset.len());
        for (number, &(offset, index_position)) in by_offset.iter().enumerate() {
            let end = by_offset
                .get(number + 1)
                .map_or(pack_end, |&(next, _)| next);
            // A header is at most ~30 bytes; an offset that leaves no room is damage.
            if offset >= end || end > pack_end {
                return Err(format!("an entry at offset {offset} lies outside the pack"));
            }
            pages.reached(&pack, offset);
            let entry = pack.entry(offset).map_err(|e| e.to_string())?;
            if entry.data_offset > end {
                return Err(format!(
                    "the entry at offset {offset} overruns the next one"
                ));
            }
            let (kind, base) = match entry.header {
                Header::OfsDelta { base_distance } => {
                    let base = Header::verified_base_pack_offset(offset, base_distance)
                        .and_then(|at| by_offset.binary_search_by_key(&at, |e| e.0).ok());
                    (None, base.map(|b| b as u32))
                }
                Header::RefDelta { base_id } => {
                    let base = index
                        .lookup(base_id)
                        .map(|i| index.pack_offset_at_index(i))
                        .and_then(|at| by_offset.binary_search_by_key(&at, |e| e.0).ok());
                    (None, base.map(|b| b as u32))
                }
                whole => (whole.as_kind(), None),
            };
            // A too-large entry is neither a root nor anyone's child: its tree is left out.
            let too_large = entry.decompressed_size > max_size;
            entries.push(Node {
                end,
                index_position,
                kind: kind.filter(|_| !too_large),
                data_offset: entry.data_offset,
                inflated_size: entry.decompressed_size,
            });
            base_of.push(base.filter(|_| !too_large));
        }
        let count = entries.len();
        let mut child_start = vec![0u32; count + 1];
        for base in base_of.iter().flatten() {
            child_start[*base as usize + 1] += 1;
        }
        // Counts to starts: each entry's deltas follow those of the entries before it.
        let mut running = 0;
        for start in child_start.iter_mut() {
            running += *start;
            *start = running;
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[count] as usize];
        for (number, base) in base_of.iter().enumerate() {
            if let Some(base) = base {
                let slot = &mut fill[*base as usize];
                children[*slot as usize] = number as u32;
                *slot += 1;
            }
        }
        let roots = (0..count as u32)
            .filter(|&n| entries[n as usize].kind.is_some())
            .collect();
        // Reading every header touched every page of the pack.
        release_pages(&pack);
        Ok(PackTrees {
            index,
            pack,
            entries,
            child_start,
            children,
            roots,
            max_size,
            read_since_release: AtomicU64::new(0),
        })
    }

    /// Every object id in the pack.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &gix_hash::oid> + '_ {
        self.entries
            .iter()
            .map(|n| self.index.oid_at_index(n.index_position))
    }

    fn children_of(&self, number: u32) -> &[u32] {
        let n = number as usize;
        &self.children[self.child_start[n] as usize..self.child_start[n + 1] as usize]
    }

    /// Rebuilds every object reachable from a whole object of the pack and hands each to
    /// `visit(state, id, kind, bytes)`, in parallel; `init` makes one state per work split
    /// and `merge` folds finished ones together as splits complete (so only the states of
    /// splits still running are held), returning the last. `wanted` says whether an object's bytes are needed at
    /// all (a delta tree is walked as long as anything in it is rebuilt, but an unwanted
    /// leaf is not rebuilt). A panic while rebuilding one tree ends that tree only (what it
    /// did not visit is read by id later).
    pub(crate) fn walk<S: Send>(
        &self,
        init: impl Fn() -> S + Sync + Send,
        wanted: impl Fn(&gix_hash::oid) -> bool + Sync + Send,
        visit: impl Fn(&mut S, &gix_hash::oid, Kind, &[u8]) + Sync + Send,
        merge: impl Fn(S, S) -> S + Sync + Send,
    ) -> Option<S> {
        // A unit is a root, or (for a wide root) the root alone and then each direct delta
        // of it with the root's bytes rebuilt again for it: a whole object is cheap to
        // inflate next to the deltas built on it.
        let units: Vec<(u32, Option<u32>)> = self
            .roots
            .iter()
            .flat_map(|&root| {
                let children = self.children_of(root);
                if children.len() >= WIDE_ROOT {
                    std::iter::once((root, None))
                        .chain(children.iter().map(move |&c| (root, Some(c))))
                        .collect::<Vec<_>>()
                } else {
                    vec![(root, None)]
                }
            })
            .collect();
        let wide = |root: u32| self.children_of(root).len() >= WIDE_ROOT;
        let merged = units
            .par_iter()
            .with_min_len(8)
            .fold(
                || (init(), Walker::default()),
                |(mut state, mut walker), &(root, only_child)| {
                    let _ = catch_unwind(AssertUnwindSafe(|| {
                        walker.unit(
                            self,
                            root,
                            only_child,
                            wide(root),
                            &wanted,
                            &mut |id, kind, bytes| visit(&mut state, id, kind, bytes),
                        )
                    }));
                    (state, walker)
                },
            )
            .map(|(state, _)| state)
            .reduce_with(merge);
        release_pages(&self.pack);
        merged
    }
}

/// Buffers one thread reuses from tree to tree.
#[derive(Default)]
struct Walker {
    inflater: Option<flate2::Decompress>,
    delta: Vec<u8>,
    spare: Vec<Vec<u8>>,
}

/// A base being walked: its bytes and the next of its deltas to rebuild.
struct Frame<'t> {
    bytes: Vec<u8>,
    children: &'t [u32],
    next: usize,
}

impl Walker {
    /// Walks one unit: `root` and all its deltas, or (`only_child`) the delta tree under one
    /// direct delta of `root` (the root itself was visited by its own unit).
    fn unit(
        &mut self,
        trees: &PackTrees,
        root: u32,
        only_child: Option<u32>,
        wide: bool,
        wanted: &(impl Fn(&gix_hash::oid) -> bool + Sync),
        visit: &mut dyn FnMut(&gix_hash::oid, Kind, &[u8]),
    ) {
        let node = trees.entries[root as usize];
        let Some(kind) = node.kind else {
            return;
        };
        let id_of = |n: u32| {
            trees
                .index
                .oid_at_index(trees.entries[n as usize].index_position)
        };
        let only = only_child.map(|child| [child]);
        let root_children: &[u32] = match &only {
            Some(child) => child,
            None if wide => &[],
            None => trees.children_of(root),
        };
        if only_child.is_none() && !wanted(id_of(root)) && root_children.is_empty() {
            return;
        }
        let mut bytes = self.take_spare();
        if self.inflate(trees, node, &mut bytes).is_err() {
            return;
        }
        if only_child.is_none() && wanted(id_of(root)) {
            visit(id_of(root), kind, &bytes);
        }
        let mut held = bytes.len() as u64;
        let mut stack = vec![Frame {
            bytes,
            children: root_children,
            next: 0,
        }];
        while let Some(top) = stack.last_mut() {
            let Some(&child) = top.children.get(top.next) else {
                if let Some(done) = stack.pop() {
                    held -= done.bytes.len() as u64;
                    self.spare.push(done.bytes);
                }
                continue;
            };
            top.next += 1;
            let grandchildren = trees.children_of(child);
            if grandchildren.is_empty() && !wanted(id_of(child)) {
                continue;
            }
            let child_node = trees.entries[child as usize];
            let mut delta = std::mem::take(&mut self.delta);
            let inflated = self.inflate(trees, child_node, &mut delta);
            let mut rebuilt = self.take_spare();
            let applied = inflated.is_ok()
                && apply_delta(
                    &top.bytes,
                    &delta,
                    &mut rebuilt,
                    trees.max_size.min(MAX_HELD_BYTES.saturating_sub(held)),
                )
                .is_ok();
            self.delta = delta;
            if !applied {
                // This delta and everything built on it are left to be read by id.
                self.spare.push(rebuilt);
                continue;
            }
            if wanted(id_of(child)) {
                visit(id_of(child), kind, &rebuilt);
            }
            if grandchildren.is_empty() {
                self.spare.push(rebuilt);
            } else {
                held += rebuilt.len() as u64;
                stack.push(Frame {
                    bytes: rebuilt,
                    children: grandchildren,
                    next: 0,
                });
            }
        }
    }

    fn take_spare(&mut self) -> Vec<u8> {
        let mut bytes = self.spare.pop().unwrap_or_default();
        bytes.clear();
        bytes
    }

    /// Inflates one entry's zlib stream into `out`: exactly its declared size, or an error.
    fn inflate(&mut self, trees: &PackTrees, node: Node, out: &mut Vec<u8>) -> Result<(), ()> {
        let compressed = trees
            .pack
            .entry_slice(node.data_offset..node.end)
            .ok_or(())?;
        let read = compressed.len() as u64;
        if trees.read_since_release.fetch_add(read, Ordering::Relaxed) + read > RELEASE_EVERY {
            trees.read_since_release.store(0, Ordering::Relaxed);
            release_pages(&trees.pack);
        }
        let size = usize::try_from(node.inflated_size).map_err(|_| ())?;
        out.clear();
        out.reserve_exact(size);
        let inflater = self
            .inflater
            .get_or_insert_with(|| flate2::Decompress::new(true));
        inflater.reset(true);
        let status = inflater
            .decompress_vec(compressed, out, flate2::FlushDecompress::Finish)
            .map_err(|_| ())?;
        if status == flate2::Status::StreamEnd && out.len() == size {
            Ok(())
        } else {
            Err(())
        }
    }
}

/// Hands a pack's pages back every [`RELEASE_EVERY`] bytes of a pass in pack order.
#[derive(Default)]
pub(crate) struct PageRelease {
    last: u64,
}

impl PageRelease {
    /// The pass has reached `offset`.
    pub(crate) fn reached(&mut self, pack: &gix_pack::data::File, offset: u64) {
        if offset.saturating_sub(self.last) > RELEASE_EVERY {
            self.last = offset;
            release_pages(pack);
        }
    }
}

/// Hands the resident pages of a pack's mapping back to the page cache, so a pack read
/// whole does not count whole in this process's memory. The mapping is private and
/// read-only, so a page touched again is simply read again from the file: the same bytes
/// (a pack is never rewritten in place; git writes new packs under new names).
pub(crate) fn release_pages(pack: &gix_pack::data::File) {
    #[cfg(target_os = "linux")]
    if let Some(mapped) = pack.entry_slice(0..pack.data_len() as u64) {
        // SAFETY: `mapped` is the whole of the pack's own mapping (page-aligned at its
        // start, as every mapping is); MADV_DONTNEED on a private read-only file mapping
        // changes no byte anyone can observe, only when it is read from the page cache.
        unsafe {
            libc::madvise(
                mapped.as_ptr() as *mut libc::c_void,
                mapped.len(),
                libc::MADV_DONTNEED,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pack;
}

/// Why a delta could not be applied.
#[derive(Debug)]
pub(crate) struct BadDelta;

/// Applies a git delta to `base`, writing the object into `out`; refuses a result larger
/// than `max_result` bytes, and any instruction reaching outside the base or the delta.
pub(crate) fn apply_delta(
    base: &[u8],
    delta: &[u8],
    out: &mut Vec<u8>,
    max_result: u64,
) -> Result<(), BadDelta> {
    let mut at = 0;
    let base_size = read_size(delta, &mut at).ok_or(BadDelta)?;
    let result_size = read_size(delta, &mut at).ok_or(BadDelta)?;
    if base_size != base.len() as u64 || result_size > max_result {
        return Err(BadDelta);
    }
    let result_size = usize::try_from(result_size).map_err(|_| BadDelta)?;
    out.clear();
    out.reserve_exact(result_size);
    while let Some(&command) = delta.get(at) {
        at += 1;
        if command & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if command & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(at).ok_or(BadDelta)?) << (8 * bit);
                    at += 1;
                }
            }
            for bit in 0..3 {
                if command & (0x10 << bit) != 0 {
                    size |= usize::from(*delta.get(at).ok_or(BadDelta)?) << (8 * bit);
                    at += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let copied = base.get(offset..offset.checked_add(size).ok_or(BadDelta)?);
            out.extend_from_slice(copied.ok_or(BadDelta)?);
        } else if command != 0 {
            let size = usize::from(command);
            out.extend_from_slice(delta.get(at..at + size).ok_or(BadDelta)?);
            at += size;
        } else {
            return Err(BadDelta);
        }
        if out.len() > result_size {
            return Err(BadDelta);
        }
    }
    if out.len() == result_size {
        Ok(())
    } else {
        Err(BadDelta)
    }
}

/// A size in a delta's header: 7 bits a byte, least significant first.
fn read_size(delta: &[u8], at: &mut usize) -> Option<u64> {
    let mut size = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *delta.get(*at)?;
        *at += 1;
        size |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(size);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_copies_and_inserts() {
        let base = b"hello, world";
        // base 12, result 11: copy 7 bytes at 0 ("hello, "), insert "git!".
        let delta = [12, 11, 0x80 | 0x10, 7, 4, b'g', b'i', b't', b'!'];
        let mut out = Vec::new();
        apply_delta(base, &delta, &mut out, u64::MAX).unwrap();
        assert_eq!(out, b"hello, git!");
    }

    #[test]
    fn a_delta_outside_its_base_or_too_large_is_refused() {
        let base = b"abc";
        let mut out = Vec::new();
        // copy 10 bytes from offset 0 of a 3-byte base
        assert!(apply_delta(base, &[3, 10, 0x80 | 0x10, 10], &mut out, u64::MAX).is_err());
        // a result larger than allowed
        assert!(apply_delta(base, &[3, 3, 3, b'x', b'y', b'z'], &mut out, 2).is_err());
        // a wrong base size
        assert!(apply_delta(base, &[4, 3, 3, b'x', b'y', b'z'], &mut out, 9).is_err());
        // the reserved command 0
        assert!(apply_delta(base, &[3, 3, 0], &mut out, 9).is_err());
    }
}
