//! Checking the delta chains of a store's packs before any object is read from them.
//!
//! The git library rebuilds a delta by following its base, then the base's base, until a
//! whole object. A hostile pack can make that chain loop (a delta whose base is itself, by
//! id or by a zero offset, or two deltas that name each other) or run absurdly deep; the
//! library then grows memory without bound (a 106-byte pack reached gigabytes). So every
//! pack's entry headers are read once (a few bytes each, no inflating), each entry's base
//! is found (by offset in the same pack, or by id in any pack of the store), and the chains
//! are walked iteratively with memoised depths: linear in the number of entries. Objects on
//! a looping or too deep chain are returned, so the object scan records them as unreadable
//! instead of handing them to the library.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use git2::Oid;
use gix_pack::data::entry::Header;

/// Longest delta chain accepted (git itself writes at most 50 by default, 4095 at most).
pub(crate) const MAX_DELTA_CHAIN: u32 = 10_000;

/// An object whose delta chain cannot be rebuilt, and why.
pub(crate) type Refused = (Oid, String);

/// Where an entry's base is.
#[derive(Clone, Copy)]
enum Base {
    /// A whole object, or a base outside every pack (loose, or missing): chain ends here.
    End,
    /// Another entry: (pack number, offset).
    Entry(usize, u64),
    /// The header could not be read, or the base offset lies outside the pack.
    Broken,
}

/// The objects of the packs under `objects_dir/pack` whose delta chain loops, runs deeper
/// than [`MAX_DELTA_CHAIN`] or is broken. A pack whose index cannot be opened is skipped
/// here (the object scan reports what it cannot read).
pub(crate) fn refused_objects(objects_dir: &Path) -> Vec<Refused> {
    catch_unwind(AssertUnwindSafe(|| check(objects_dir))).unwrap_or_default()
}

fn check(objects_dir: &Path) -> Vec<Refused> {
    let bundles = open_bundles(objects_dir);
    let mut bases: HashMap<(usize, u64), Base> = HashMap::new();
    let mut ids: Vec<(Oid, (usize, u64))> = Vec::new();
    for (number, bundle) in bundles.iter().enumerate() {
        // In pack order, handing the pages read back as the pass goes: reading every
        // header touches every page of the pack, which need not all be resident at once.
        let mut entries: Vec<_> = bundle.index.iter().collect();
        entries.sort_unstable_by_key(|entry| entry.pack_offset);
        let mut pages = super::pack_order::PageRelease::default();
        for entry in entries {
            let node = (number, entry.pack_offset);
            bases.insert(node, base_of(&bundles, number, entry.pack_offset));
            if let Ok(id) = Oid::from_bytes(entry.oid.as_bytes()) {
                ids.push((id, node));
            }
            pages.reached(&bundle.pack, entry.pack_offset);
        }
        super::pack_order::release_pages(&bundle.pack);
    }
    let verdicts = chain_verdicts(&bases);
    ids.into_iter()
        .filter_map(|(id, node)| verdicts.get(&node).map(|why| (id, why.clone())))
        .collect()
}

fn open_bundles(objects_dir: &Path) -> Vec<gix_pack::Bundle> {
    let Ok(listing) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = listing
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|idx| gix_pack::Bundle::at(idx, gix_hash::Kind::Sha1).ok())
        .collect()
}

/// The base of the entry at `offset` in pack `number`, from its header alone.
fn base_of(bundles: &[gix_pack::Bundle], number: usize, offset: u64) -> Base {
    let pack = &bundles[number].pack;
    if offset >= pack.data_len() as u64 {
        return Base::Broken;
    }
    let Ok(entry) = pack.entry(offset) else {
        return Base::Broken;
    };
    match entry.header {
        Header::OfsDelta { base_distance } => match offset.checked_sub(base_distance) {
            Some(base) if base_distance > 0 => Base::Entry(number, base),
            _ => Base::Broken,
        },
        Header::RefDelta { base_id } => bundles
            .iter()
            .enumerate()
            .find_map(|(other, bundle)| {
                let index = bundle.index.lookup(base_id)?;
                Some(Base::Entry(other, bundle.index.pack_offset_at_index(index)))
            })
            .unwrap_or(Base::End),
        _ => Base::End,
    }
}

/// For every entry on a bad chain, why. Each entry's depth is computed once: a walk goes
/// down until it meets an entry already decided, then decides every entry it passed.
fn chain_verdicts(bases: &HashMap<(usize, u64), Base>) -> HashMap<(usize, u64), String> {
    // Ok(depth) or Err(reason) once decided.
    let mut decided: HashMap<(usize, u64), Result<u32, String>> = HashMap::new();
    for &start in bases.keys() {
        if decided.contains_key(&start) {
            continue;
        }
        let mut path: Vec<(usize, u64)> = Vec::new();
        let mut on_path: HashMap<(usize, u64), usize> = HashMap::new();
        let mut node = start;
        let outcome: Result<u32, String> = loop {
            if let Some(known) = decided.get(&node) {
                break known.clone();
            }
            if on_path.contains_key(&node) {
                break Err("its delta chain loops back on itself".to_string());
            }
            if path.len() as u32 > MAX_DELTA_CHAIN {
                break Err(format!(
                    "its delta chain is longer than {MAX_DELTA_CHAIN} deltas"
                ));
            }
            on_path.insert(node, path.len());
            path.push(node);
            match bases.get(&node).copied().unwrap_or(Base::Broken) {
                Base::End => break Ok(0),
                Base::Broken => {
                    break Err("a delta on its chain names a base that is not an object".into())
                }
                Base::Entry(pack, offset) => {
                    if !bases.contains_key(&(pack, offset)) {
                        // Not an indexed entry: git would not find a whole object there.
                        break Err("a delta on its chain has a base offset that is not an entry of the pack".into());
                    }
                    node = (pack, offset);
                }
            }
        };
        // Entries nearer the end of the path are nearer the whole object.
        let mut result = outcome;
        for &passed in path.iter().rev() {
            let this = match &result {
                Ok(depth) if *depth + 1 > MAX_DELTA_CHAIN => Err(format!(
                    "its delta chain is longer than {MAX_DELTA_CHAIN} deltas"
                )),
                Ok(depth) => Ok(depth + 1),
                Err(why) => Err(why.clone()),
            };
            decided.insert(passed, this.clone());
            result = this;
        }
    }
    decided
        .into_iter()
        .filter_map(|(node, verdict)| verdict.err().map(|why| (node, why)))
        .collect()
}
