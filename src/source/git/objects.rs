//! Reading every object of an object database: loose and packed, reachable or not, and
//! those reached through alternates.
//!
//! The ids are listed once (`Odb::foreach`), sorted and deduplicated (an object stored in two
//! packs is listed twice), filtered (objects already read in this run, and an optional
//! caller predicate, e.g. a shard of the id space), then read in parallel, each worker
//! thread with its own handle and delta-base cache on one shared store (gix-odb; it read
//! every object about twice as fast as libgit2 in our measurements, and libgit2 serialises
//! pack access across threads). Every object is inflated once. Blobs go through the content
//! pipeline files use ([`content::scan_stream`]), so a `.tar.gz`, a `.jar` or a coloured CI
//! log committed to history is opened like the same file on disk; findings and gaps inside
//! a blob are named `[repository, object id, member...]` and the git source attaches the
//! blob's commits and paths to all of them afterwards ([`take_object_results`]). Commits,
//! annotated tags and trees are scanned raw and through the terminal view (headers,
//! messages, entry names). Commit headers are kept (tree and parents) so attribution can
//! later walk history without reading commits again.
//!
//! Memory stays bounded: a loose blob larger than [`MAX_WHOLE_OBJECT`] is streamed from its
//! file, never inflated whole; a packed object larger than the archive buffer limit is a
//! `limit-exceeded` gap. Each object is read under `catch_unwind`: a panic inside the git
//! library (a damaged index, a corrupt delta) becomes an `internal-error` gap naming the
//! object, and the sweep goes on.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid};
use gix_object::{Find, FindHeader, Kind};
use rayon::prelude::*;

use super::lfs::LfsPointer;
use super::pack_order::PackTrees;
use crate::coverage::{Gap, GapKind};
use crate::findings::Finding;
use crate::matcher::ScanBuffer;
use crate::source::content;
use crate::source::Context;

/// Which objects a scan reads; `None` reads all. Lets a caller split the id space (shards).
pub type ObjectFilter<'a> = Option<&'a (dyn Fn(&Oid) -> bool + Sync)>;

/// Loose objects larger than this are streamed from their file instead of inflated whole.
pub(crate) const MAX_WHOLE_OBJECT: u64 = 64 << 20;

/// A commit's links, parsed from its header.
#[derive(Debug, Clone)]
pub(crate) struct CommitLinks {
    pub tree: Oid,
    pub parents: Vec<Oid>,
}

/// One object whose content matched, with its findings (chains start
/// `[repository, object id]`; members of a blob add more elements).
#[derive(Debug, Clone)]
pub(crate) struct MatchedObject {
    pub id: Oid,
    pub kind: ObjectType,
    pub findings: Vec<Finding>,
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
    /// Gaps met inside objects (a corrupt archive committed, a limit), by object, taken
    /// back from the recorder so the caller can name the object's commits and paths in them
    /// before recording them again ([`restore_gaps`]).
    pub gapped: BTreeMap<Oid, Vec<Gap>>,
    /// Objects a parser panicked on (recorded as `internal-error` gaps in `gapped`).
    pub panicked: u64,
    pub lfs_pointers: Vec<(Oid, LfsPointer)>,
    pub commits: HashMap<Oid, CommitLinks>,
}

/// Delta bases kept per reading thread, so a delta chain is not re-inflated for each object.
const DELTA_CACHE_BYTES: usize = 64 << 20;

/// An object database over one `objects` directory (and its alternates), opened with no
/// repository around it: no configuration, no replace refs.
pub(crate) type Store = Arc<gix_odb::Store>;

type Handle = gix_odb::Cache<gix_odb::store::Handle<Arc<gix_odb::Store>>>;

/// Opens the object database of one `objects` directory.
pub(crate) fn open_store(objects_dir: &Path) -> std::io::Result<Store> {
    let store = gix_odb::Store::at_opts(
        objects_dir.to_path_buf(),
        &mut std::iter::empty(),
        gix_odb::store::init::Options::default(),
    )?;
    Ok(Arc::new(store))
}

/// Every object id in the database (packed, loose, alternates), sorted and deduplicated
/// (an object in two packs is listed twice), and kept only if `filter` says so. Entries the
/// listing could not read are returned as problems; a panic while listing (a damaged pack
/// index) is an error.
pub(crate) fn list_ids(
    store: &Store,
    filter: ObjectFilter,
) -> std::io::Result<(Vec<Oid>, Vec<String>)> {
    catch_unwind(AssertUnwindSafe(|| list_ids_unguarded(store, filter))).unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the git library panicked while listing the objects (a damaged pack index?)",
        ))
    })
}

fn list_ids_unguarded(
    store: &Store,
    filter: ObjectFilter,
) -> std::io::Result<(Vec<Oid>, Vec<String>)> {
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    let all = store
        .iter()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    for id in all {
        match id {
            Ok(id) => {
                let Ok(id) = Oid::from_bytes(id.as_bytes()) else {
                    continue;
                };
                if filter.is_none_or(|keep| keep(&id)) {
                    ids.push(id);
                }
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, problems))
}

fn new_handle(store: &Store) -> Handle {
    let mut handle = store.to_cache_arc();
    handle.set_pack_cache(|| {
        Box::new(gix_pack::cache::lru::MemoryCappedHashmap::new(
            DELTA_CACHE_BYTES,
        ))
    });
    handle
}

/// Reads and scans `ids` in parallel, recording findings and gaps under
/// `[shown, object id, ...]`, then takes back those of the objects read (see
/// [`ObjectScan::matched`] and [`ObjectScan::gapped`]) for the caller to attribute.
pub(crate) fn scan_ids(ctx: Context, shown: &str, store: &Store, ids: &[Oid]) -> ObjectScan {
    let mut scan = ObjectScan::default();
    // Objects whose delta chain loops or runs too deep are never handed to the library.
    let refused: HashMap<Oid, String> = super::pack_check::refused_objects(store.path())
        .into_iter()
        .collect();
    let mut ids: Vec<Oid> = if refused.is_empty() {
        ids.to_vec()
    } else {
        ids.iter()
            .filter(|id| match refused.get(id) {
                Some(why) => {
                    scan.unreadable.push((**id, format!("{why}; not rebuilt")));
                    false
                }
                None => true,
            })
            .copied()
            .collect()
    };
    // Sorted, so a pack walk finds each of its objects by binary search.
    ids.sort_unstable();
    ids.dedup();
    let reader = ObjectReader {
        ctx,
        shown,
        objects_dir: store.path(),
    };
    // Packs first, each in its own order (every entry inflated once); then, by id, what
    // no pack walk rebuilt: loose objects, alternates, damaged or oversized entries.
    let claimed: Vec<AtomicBool> = ids.iter().map(|_| AtomicBool::new(false)).collect();
    if refused.is_empty() {
        for index_path in pack_indexes(store.path()) {
            read_pack_in_order(&reader, &index_path, &ids, &claimed, &mut scan);
        }
    }
    let rest: Vec<Oid> = ids
        .iter()
        .zip(&claimed)
        .filter(|(_, claimed)| !claimed.load(Ordering::Relaxed))
        .map(|(id, _)| *id)
        .collect();
    let result = Mutex::new(scan);
    rest.par_chunks(512).for_each_init(
        || (None, Vec::new(), ScanBuffer::new()),
        |(handle, buffer, scan_buffer), chunk| {
            let mut local = ObjectScan::default();
            for id in chunk {
                let reading = handle.get_or_insert_with(|| new_handle(store));
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    reader.read_one(reading, buffer, scan_buffer, *id, &mut local)
                }));
                if outcome.is_err() {
                    // The handle's caches may be half-updated: start again with a new one.
                    *handle = None;
                    buffer.clear();
                    local.panicked += 1;
                    reader.record_panic(*id);
                }
            }
            merge(&mut lock(&result), local);
        },
    );
    let mut scan = result
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (matched, gapped) = take_object_results(ctx, shown, &new_handle(store));
    scan.matched = matched;
    scan.gapped = gapped;
    scan
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `.idx` files of the packs directly in `objects_dir/pack`, with their `.pack` beside.
fn pack_indexes(objects_dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(listing) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|x| x == "idx"))
        .filter(|path| path.with_extension("pack").is_file())
        .collect();
    paths.sort();
    paths
}

/// Reads the objects of one pack that are in `ids` and not `claimed` yet, in pack order
/// ([`pack_order`]), claiming each one scanned. A pack mostly of objects not wanted (a
/// shard, objects already read this run) is left to the reading by id.
fn read_pack_in_order(
    reader: &ObjectReader,
    index_path: &Path,
    ids: &[Oid],
    claimed: &[AtomicBool],
    scan: &mut ObjectScan,
) {
    let Ok(trees) = PackTrees::open(index_path, MAX_WHOLE_OBJECT) else {
        return;
    };
    let position = |id: &gix_hash::oid| {
        ids.binary_search_by(|probe| probe.as_bytes().cmp(id.as_bytes()))
            .ok()
    };
    let (mut in_pack, mut wanted) = (0usize, 0usize);
    for id in trees.ids() {
        in_pack += 1;
        wanted += usize::from(position(id).is_some());
    }
    if wanted == 0 || wanted * 4 < in_pack {
        return;
    }
    let states = trees.walk(
        || (ObjectScan::default(), ScanBuffer::new()),
        |id| position(id).is_some_and(|at| !claimed[at].load(Ordering::Relaxed)),
        |(local, scan_buffer), id, kind, bytes| {
            let Some(at) = position(id) else {
                return;
            };
            if claimed[at].swap(true, Ordering::Relaxed) {
                return;
            }
            let id = ids[at];
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                reader.scan_object(id, kind, bytes, scan_buffer, local)
            }));
            if outcome.is_err() {
                local.panicked += 1;
                reader.record_panic(id);
            }
        },
        |(mut into, buffer), (from, _)| {
            merge(&mut into, from);
            (into, buffer)
        },
    );
    if let Some((local, _)) = states {
        merge(scan, local);
    }
}

/// The object id a chain element names, if it is one (40 hex digits).
pub(crate) fn chain_object(element: &str) -> Option<Oid> {
    (element.len() == 40 && element.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Oid::from_str(element).ok())
        .flatten()
}

fn in_object(shown: &str, chain: &[String]) -> Option<Oid> {
    match chain {
        [repository, object, ..] if repository == shown => chain_object(object),
        _ => None,
    }
}

/// Takes back from the recorder every finding and gap recorded inside an object of the
/// repository `shown`, grouped by object (the kind of a matched object is looked up).
fn take_object_results(
    ctx: Context,
    shown: &str,
    handle: &Handle,
) -> (Vec<MatchedObject>, BTreeMap<Oid, Vec<Gap>>) {
    let recorder = ctx.recorder;
    let mut by_object: BTreeMap<Oid, Vec<Finding>> = BTreeMap::new();
    for finding in recorder.take_findings(|chain| in_object(shown, chain).is_some()) {
        if let Some(id) = in_object(shown, &finding.location.chain) {
            by_object.entry(id).or_default().push(finding);
        }
    }
    let mut gapped: BTreeMap<Oid, Vec<Gap>> = BTreeMap::new();
    for gap in recorder.take_gaps(ctx.root, |chain| in_object(shown, chain).is_some()) {
        if let Some(id) = in_object(shown, &gap.chain) {
            gapped.entry(id).or_default().push(gap);
        }
    }
    let matched = by_object
        .into_iter()
        .map(|(id, findings)| MatchedObject {
            id,
            kind: kind_of(handle, id),
            findings,
        })
        .collect();
    (matched, gapped)
}

fn kind_of(handle: &Handle, id: Oid) -> ObjectType {
    let header = gix_hash::ObjectId::try_from(id.as_bytes())
        .ok()
        .and_then(|gix_id| {
            catch_unwind(AssertUnwindSafe(|| handle.try_header(&gix_id)))
                .ok()?
                .ok()?
        });
    match header.map(|h| h.kind) {
        Some(Kind::Commit) => ObjectType::Commit,
        Some(Kind::Tree) => ObjectType::Tree,
        Some(Kind::Tag) => ObjectType::Tag,
        _ => ObjectType::Blob,
    }
}

/// Records gaps taken back by [`scan_ids`] again, each reason followed by what holds the
/// object (`describe`: its commits and paths), so a person can find the damaged file.
pub(crate) fn restore_gaps(
    ctx: Context,
    gapped: &BTreeMap<Oid, Vec<Gap>>,
    describe: impl Fn(&Oid) -> Option<String>,
) {
    for (id, gaps) in gapped {
        let holder = describe(id);
        for gap in gaps {
            let reason = match &holder {
                Some(holder) => format!("{} [in {holder}]", gap.reason),
                None => gap.reason.clone(),
            };
            ctx.recorder
                .gap(ctx.root, gap.kind, gap.chain.clone(), reason);
        }
    }
}

/// What every reading thread shares.
struct ObjectReader<'c, 'a, 'm> {
    ctx: Context<'a, 'm>,
    shown: &'c str,
    objects_dir: &'c Path,
}

impl ObjectReader<'_, '_, '_> {
    fn chain(&self, id: Oid) -> Vec<String> {
        vec![self.shown.to_string(), id.to_string()]
    }

    fn record_panic(&self, id: Oid) {
        // Never the panic's payload: it may quote the bytes being parsed.
        self.ctx.recorder.gap(
            self.ctx.root,
            GapKind::InternalError,
            self.chain(id),
            format!(
                "a parser panicked while reading object {id} of {}: it was not (completely) \
                 scanned; the rest of the repository was",
                self.shown
            ),
        );
    }

    fn read_one(
        &self,
        handle: &Handle,
        buffer: &mut Vec<u8>,
        scan_buffer: &mut ScanBuffer,
        id: Oid,
        out: &mut ObjectScan,
    ) {
        let Ok(gix_id) = gix_hash::ObjectId::try_from(id.as_bytes()) else {
            return;
        };
        if let Ok(Some(header)) = handle.try_header(&gix_id) {
            if header.size > MAX_WHOLE_OBJECT && self.read_large(header, id, out, scan_buffer) {
                return;
            }
        }
        let object = match handle.try_find(&gix_id, buffer) {
            Ok(Some(object)) => object,
            Ok(None) => {
                out.unreadable
                    .push((id, "listed, but not found when read".to_string()));
                return;
            }
            Err(error) => {
                out.unreadable.push((id, with_causes(&*error)));
                return;
            }
        };
        self.scan_object(id, object.kind, object.data, scan_buffer, out);
    }

    /// Scans one whole object: a blob through the content pipeline, a commit, tag or tree
    /// as bytes and terminal view; counts it and keeps what attribution needs later.
    fn scan_object(
        &self,
        id: Oid,
        kind: Kind,
        data: &[u8],
        scan_buffer: &mut ScanBuffer,
        out: &mut ObjectScan,
    ) {
        out.tally.bytes += data.len() as u64;
        let chain = self.chain(id);
        match kind {
            Kind::Commit => {
                out.tally.commits += 1;
                if let Some(links) = parse_commit_links(data) {
                    out.commits.insert(id, links);
                }
            }
            Kind::Tree => out.tally.trees += 1,
            Kind::Tag => out.tally.tags += 1,
            Kind::Blob => {
                out.tally.blobs += 1;
                if let Some(pointer) = LfsPointer::parse(data) {
                    out.lfs_pointers.push((id, pointer));
                }
                content::scan_bytes(self.ctx, &chain, data, scan_buffer);
                return;
            }
        }
        // Commits, tags and trees: raw bytes and the terminal view, no container sniffing.
        content::scan_plain(self.ctx, &chain, data, scan_buffer);
    }

    /// An object too large to inflate whole. A loose blob is streamed from its file through
    /// the content pipeline; a packed object within the buffer limit is left to the whole
    /// read (returns false); a larger one is a `limit-exceeded` gap.
    fn read_large(
        &self,
        header: gix_object::Header,
        id: Oid,
        out: &mut ObjectScan,
        scan_buffer: &mut ScanBuffer,
    ) -> bool {
        let hex = id.to_string();
        let loose = self.objects_dir.join(&hex[..2]).join(&hex[2..]);
        if header.kind == Kind::Blob {
            if let Ok(file) = std::fs::File::open(&loose) {
                out.tally.blobs += 1;
                if let Some(why) = self.inflate_bomb(&file, header.size) {
                    self.ctx.recorder.gap(
                        self.ctx.root,
                        GapKind::LimitExceeded,
                        self.chain(id),
                        format!("loose object {id} of {}: {why}; not scanned", self.shown),
                    );
                    return true;
                }
                out.tally.bytes += header.size;
                self.stream_loose(file, header.size, id, scan_buffer);
                return true;
            }
        }
        let limit = self.ctx.recorder.archive_limits().max_buffer;
        if header.size <= limit {
            return false;
        }
        self.ctx.recorder.gap(
            self.ctx.root,
            GapKind::LimitExceeded,
            self.chain(id),
            format!(
                "object {id} of {} is {} bytes once inflated, more than the {limit} bytes a \
                 packed object may be held in memory (--archive-max-buffer): not scanned",
                self.shown, header.size
            ),
        );
        true
    }

    /// Why a loose object is an inflate bomb, if it is: more than a gibibyte once inflated,
    /// at more than a quarter of `--archive-max-ratio` (250× by default) of its file. zlib
    /// cannot do better than about 1,030×, and git's output for real content stays far below
    /// 250×, so only runs of one repeated byte get there; reading 10 GiB of them costs
    /// minutes for nothing, and the stop is a gap, never a silent absent.
    fn inflate_bomb(&self, file: &std::fs::File, size: u64) -> Option<String> {
        let compressed = file.metadata().ok()?.len().max(1);
        let limit = (self.ctx.recorder.archive_limits().max_ratio / 4).max(1);
        (size > crate::source::archive::limits::RATIO_FLOOR && size / compressed > limit).then(
            || {
                format!(
                    "{size} bytes once inflated from {compressed} bytes, more than {limit}× (a \
                 quarter of --archive-max-ratio; an inflate bomb looks like this)"
                )
            },
        )
    }

    /// Streams a loose object's content (after its `blob <size>\0` header) through the
    /// content pipeline, never more than the size its header declares.
    fn stream_loose(&self, file: std::fs::File, size: u64, id: Oid, scan_buffer: &mut ScanBuffer) {
        let mut inflated = flate2::read::ZlibDecoder::new(std::io::BufReader::new(file));
        let mut byte = [0u8; 1];
        for _ in 0..64 {
            match inflated.read(&mut byte) {
                Ok(1) if byte[0] == 0 => break,
                Ok(1) => continue,
                _ => break,
            }
        }
        content::scan_inner_stream(self.ctx, &self.chain(id), inflated.take(size), scan_buffer);
    }
}

/// An error and its causes, as one line (gix errors put the useful part in the causes).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn merge(into: &mut ObjectScan, from: ObjectScan) {
    into.tally.commits += from.tally.commits;
    into.tally.trees += from.tally.trees;
    into.tally.blobs += from.tally.blobs;
    into.tally.tags += from.tally.tags;
    into.tally.bytes += from.tally.bytes;
    into.unreadable.extend(from.unreadable);
    into.panicked += from.panicked;
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
    fn a_filter_partitions_the_ids_for_shards() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success());
        };
        git(&["init", "-q"]);
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("f{i}")), format!("{i}\n")).unwrap();
        }
        git(&["add", "."]);
        git(&["commit", "-qm", "m"]);
        let store = open_store(&dir.path().join(".git/objects")).unwrap();
        let (all, problems) = list_ids(&store, None).unwrap();
        assert!(problems.is_empty());
        assert_eq!(all.len(), 22, "20 blobs, a tree, a commit");
        let shard = |k: u8| move |id: &Oid| id.as_bytes()[0] % 2 == k;
        let (even, _) = list_ids(&store, Some(&shard(0))).unwrap();
        let (odd, _) = list_ids(&store, Some(&shard(1))).unwrap();
        assert_eq!(even.len() + odd.len(), all.len());
        assert!(even.iter().all(|id| id.as_bytes()[0] % 2 == 0));
    }

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
