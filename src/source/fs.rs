//! The filesystem source: every file under a root, walked in parallel.
//!
//! Thorough by default: hidden files, gitignored files and binary files are all scanned and
//! there is no size cap. Symbolic links are never followed (so a link loop cannot trap the
//! walk) and special files (FIFOs, sockets, devices) are never opened (so a scan cannot hang
//! on them); both are counted as skipped. The user may narrow the scan with `--exclude`
//! globs and `--respect-gitignore`; the report records both choices.
//!
//! Files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked again after opening, so a
//! path swapped for a link or a FIFO between listing and opening is still never followed or
//! blocked on.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Seek};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use super::content::{scan_file as scan_opened, scan_file_upto};
use super::stability::{self, FileRead, Stamp, WalkWatch};
use super::Context;
use crate::coverage::{GapKind, SkipReason};
use crate::evidence::subjects::{digest_of_file, ManifestEntry};
use crate::matcher::ScanBuffer;
use crate::model::Shard;

/// How a tree is walked; the choices that narrow the scan are recorded in the report.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub excludes: Vec<String>,
    pub respect_gitignore: bool,
    pub threads: usize,
    /// Scan only the files this shard owns (by path relative to the root).
    pub shard: Shard,
    /// Hash every file's bytes into the root's manifest (single-file roots always are).
    pub content_digests: bool,
}

/// Compiled `--exclude` globs. A glob matches a path relative to its root, or a file name.
pub struct Excludes {
    set: GlobSet,
}

impl Excludes {
    pub fn new(globs: &[String]) -> anyhow::Result<Excludes> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            let glob = Glob::new(glob)
                .map_err(|e| anyhow::anyhow!("invalid --exclude glob {glob:?}: {e}"))?;
            builder.add(glob);
        }
        Ok(Excludes {
            set: builder.build()?,
        })
    }

    fn matches(&self, root: &Path, path: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let relative = path.strip_prefix(root).unwrap_or(path);
        self.set.is_match(relative) || path.file_name().is_some_and(|name| self.set.is_match(name))
    }
}

/// Walks one root and scans every regular file in it.
pub fn scan_root(ctx: Context, root: &Path, options: &WalkOptions, excludes: &Excludes) {
    // A PATH the user named is scanned even when it is a link: only links met during the
    // walk are never followed.
    let resolved;
    let root = if is_symlink(root) {
        match std::fs::canonicalize(root) {
            Ok(target) => {
                resolved = target;
                resolved.as_path()
            }
            Err(error) => {
                ctx.recorder.gap(
                    ctx.root,
                    GapKind::Vanished,
                    vec![display(root)],
                    format!(
                        "could not resolve the link {}: {error} — not scanned",
                        display(root)
                    ),
                );
                return;
            }
        }
    } else {
        root
    };
    let watch = WalkWatch::default();
    walk(ctx, root, root, None, options, excludes, &watch);
    recheck_changed_directories(ctx, root, options, excludes, &watch);
}

/// How many times directories that changed during the walk are listed again before the
/// ones still changing become gaps.
const RELISTS: usize = 2;

/// Lists again every directory whose stamp changed after it was listed (a file renamed
/// into it from a directory not yet listed would otherwise be missed), and walks paths that
/// were files when listed and directories when opened. Files met again are read again (the
/// recorder lists each finding and manifest entry once).
fn recheck_changed_directories(
    ctx: Context,
    root: &Path,
    options: &WalkOptions,
    excludes: &Excludes,
    watch: &WalkWatch,
) {
    let mut buffer = ScanBuffer::new();
    recheck_racy_files(ctx, watch, &mut buffer);
    for _ in 0..RELISTS {
        let (changed, found) = watch.take_changed();
        if changed.is_empty() && found.is_empty() {
            break;
        }
        for dir in changed.iter().filter(|dir| dir.is_dir()) {
            walk(ctx, root, dir, Some(1), options, excludes, watch);
        }
        for dir in found {
            walk(ctx, root, &dir, None, options, excludes, watch);
        }
    }
    // Files read in the listings above may be racy too.
    recheck_racy_files(ctx, watch, &mut buffer);
    let (changed, found) = watch.take_changed();
    for dir in changed.into_iter().chain(found) {
        // Every shard sees the same directories change; one of them records it.
        if options.shard.owns(relative_key(root, &dir).as_bytes()) {
            ctx.recorder.gap(
                ctx.root,
                GapKind::ChangedDuringScan,
                vec![display(&dir)],
                format!(
                    "{} kept changing while it was listed ({} more listings): files renamed \
                     into it may not have been scanned — scan again once the tree is stable",
                    display(&dir),
                    RELISTS
                ),
            );
        }
    }
}

/// Rounds of checking racy files again (each waits until [`stability::RACY`] has passed
/// since the newest change) before a file still changing is a gap.
const RACY_ROUNDS: usize = 3;

/// Reads again every racy file (read whole and unchanged, but changed just before) whose
/// stamp changed since; a re-read that is racy again is checked in the next round, so no
/// file read in the middle of a rewrite is left as read. One still changing after
/// [`RACY_ROUNDS`] is a `changed-during-scan` gap.
fn recheck_racy_files(ctx: Context, watch: &WalkWatch, buffer: &mut ScanBuffer) {
    for round in 1..=RACY_ROUNDS {
        let files = watch.take_changed_racy();
        if files.is_empty() {
            return;
        }
        for file in files {
            if round < RACY_ROUNDS {
                scan_file_into_manifest(ctx, &file.path, file.relative, file.hash, buffer, watch);
                continue;
            }
            ctx.recorder.gap(
                ctx.root,
                GapKind::ChangedDuringScan,
                vec![display(&file.path)],
                format!(
                    "{} changed again each time it was read ({RACY_ROUNDS} checks after the \
                     walk): what was read may not be what is there — scan again once it is \
                     stable",
                    display(&file.path)
                ),
            );
        }
    }
}

/// Walks `start` (the root, or a directory under it to list again, `max_depth` 1) and scans
/// every regular file met. Paths are judged relative to `root`.
fn walk(
    ctx: Context,
    root: &Path,
    start: &Path,
    max_depth: Option<usize>,
    options: &WalkOptions,
    excludes: &Excludes,
    watch: &WalkWatch,
) {
    let mut builder = WalkBuilder::new(start);
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .max_depth(max_depth)
        .threads(options.threads);
    if options.respect_gitignore {
        builder
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true);
    }
    let relisting = max_depth.is_some();
    builder.build_parallel().run(|| {
        let mut buffer = ScanBuffer::new();
        Box::new(move |entry| match entry {
            Ok(entry) => {
                let walk_dir = Walked {
                    watch,
                    relisting,
                    depth: entry.depth(),
                };
                visit(ctx, root, options, excludes, entry, &mut buffer, walk_dir)
            }
            Err(error) => {
                record_walk_error(ctx, root, options.shard, &error);
                WalkState::Continue
            }
        })
    });
}

/// Where in a walk an entry was met, for the change checks.
struct Walked<'w> {
    watch: &'w WalkWatch,
    /// A directory listed again: its subdirectories were walked already, unless new.
    relisting: bool,
    depth: usize,
}

impl Walked<'_> {
    /// Stamps a directory about to be listed; false for one not to descend into again.
    fn enter_directory(&self, dir: &Path) -> bool {
        if self.relisting && self.depth > 0 {
            // Met while listing its parent again: walked already unless it is new here.
            if !self.watch.was_listed(dir) {
                self.watch.found_directory(dir);
            }
            return false;
        }
        self.watch.listing(dir);
        true
    }
}

fn visit(
    ctx: Context,
    root: &Path,
    options: &WalkOptions,
    excludes: &Excludes,
    entry: ignore::DirEntry,
    buffer: &mut ScanBuffer,
    walked: Walked,
) -> WalkState {
    let path = entry.path();
    let Some(file_type) = entry.file_type() else {
        return WalkState::Continue;
    };
    let recorder = ctx.recorder;
    // Every shard walks every directory; each other entry belongs to exactly one shard,
    // which alone scans, skips or records it.
    let relative = relative_key(root, path);
    let walked_root = file_type.is_dir() && entry.depth() == 0;
    if !walked_root && !options.shard.owns(relative.as_bytes()) {
        // Git objects are partitioned by id, not path: every shard must find every
        // repository (by its `HEAD` or `.git` file) and every bare object store (by its
        // object files) to scan its own part of the objects.
        if file_type.is_file() {
            recorder.git.notice_file(ctx.root, path);
        }
        let walk_into =
            file_type.is_dir() && !excludes.matches(root, path) && walked.enter_directory(path);
        return if walk_into {
            WalkState::Continue
        } else {
            WalkState::Skip
        };
    }
    if entry.depth() > 0 && excludes.matches(root, path) {
        recorder.skipped(ctx.root, SkipReason::Excluded, display(path));
        return if file_type.is_dir() {
            WalkState::Skip
        } else {
            WalkState::Continue
        };
    }
    super::names::check_entry(ctx, path, file_type.is_symlink());
    if file_type.is_dir() {
        if walked.enter_directory(path) {
            WalkState::Continue
        } else {
            WalkState::Skip
        }
    } else if file_type.is_symlink() {
        recorder.skipped(ctx.root, SkipReason::Symlink, display(path));
        WalkState::Continue
    } else if file_type.is_file() && is_scour_temp_file(path) {
        recorder.skipped(ctx.root, SkipReason::ScourTempFile, display(path));
        WalkState::Continue
    } else if file_type.is_file() {
        // One file is one unit of work: a parser panicking on it is a gap, not the end.
        crate::source::contain::unit(ctx, &[display(path)], || {
            // Loose objects and indexed packs are read by the git object scan instead.
            if !crate::source::git::claim_file(ctx, path, buffer) {
                let hash = options.content_digests || entry.depth() == 0;
                scan_file_into_manifest(ctx, path, relative, hash, buffer, walked.watch);
            }
        });
        WalkState::Continue
    } else {
        recorder.skipped(ctx.root, SkipReason::SpecialFile, display(path));
        WalkState::Continue
    }
}

/// The key a file is sharded and listed in the manifest by: its path relative to the root
/// (its name, when the root is the file itself).
fn relative_key(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(relative) if !relative.as_os_str().is_empty() => display(relative),
        _ => path
            .file_name()
            .map_or_else(|| display(path), |n| display(Path::new(n))),
    }
}

/// Opens and scans one regular file, recording why if it cannot.
pub fn scan_file(ctx: Context, path: &Path, buffer: &mut ScanBuffer) {
    if let Some((file, _stamp)) = open_or_record(ctx, path, None) {
        scan_opened(ctx, &[display(path)], file, buffer);
    }
}

/// Reads of one file that changes while it is read, before it is a gap (or, if it only ever
/// grew, a live log read up to its size when last opened).
const READS_OF_A_CHANGING_FILE: u32 = 4;

/// Pause before reading a changed file again, times the reads so far: a rewrite in progress
/// is then more likely to have finished.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(50);

/// A file seen cut short or rewritten counts as settled once its stamp has stayed the same
/// this long after a read (a writer can pause between truncating and writing, and a loaded
/// machine pauses it long).
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// Scans one regular file and lists it in its root's manifest, hashing its bytes in the
/// same read when `hash` is set. A file that changes while it is read is read again (see
/// [`stability`]); one that only grew, read after read, is a live log read up to its size
/// when opened. A file that was cut short or rewritten in place and did not settle is a gap.
fn scan_file_into_manifest(
    ctx: Context,
    path: &Path,
    relative: String,
    hash: bool,
    buffer: &mut ScanBuffer,
    watch: &WalkWatch,
) {
    let name = display(path);
    let cache = ctx.recorder.cache.as_ref();
    // A proof is looked up before the file is opened, so an unchanged file costs one stat.
    if let Some((reuse, size)) = cache.and_then(|cache| reusable(cache, &name, path)) {
        // Proven absent before and unchanged since: listed, not read (a content digest is
        // reused only if it was recorded; otherwise the manifest says `-` for it).
        let content = reuse.content.filter(|_| hash);
        ctx.recorder.manifest_entry(
            ctx.root,
            ManifestEntry {
                path: relative,
                size,
                content,
            },
        );
        return;
    }
    let mut last_change: Option<String> = None;
    for reads in 1..=READS_OF_A_CHANGING_FILE {
        let Some((file, before)) = open_or_record(ctx, path, Some(watch)) else {
            return;
        };
        // Only a cache needs the unit (one `statx` per file less without one).
        let unit = cache
            .and_then(|_| file.metadata().ok())
            .map(|metadata| crate::cache::unit::file(&name, &metadata));
        // The handle read: its offset is the read's, and its stamp after the read is the
        // file's then, wherever the path points by that time.
        let content = scan_once(ctx, path, &file, before.size(), hash, buffer);
        let (read, after) = judge_read(path, &before, &file, content.sequential);
        let observer = Some(&file);
        let last = reads == READS_OF_A_CHANGING_FILE;
        match read {
            // Seen cut short or rewritten before: the rewrite may not be done (a writer
            // paused between truncating and writing). Timestamps cannot tell (a truncation
            // can keep the old mtime and ctime, as timestamps are only as fine as the
            // kernel's clock tick), so the file must keep the stamp of this read for
            // SETTLED, by this process's clock, before the read counts.
            FileRead::Stable
                if last_change.is_some() && !keeps_its_stamp(path, observer, &after) =>
            {
                last_change = Some("it changed again just after it was read".to_string());
                if last {
                    break;
                }
                continue;
            }
            FileRead::Stable => {
                // Changed just before it was read: a paused writer may resume; checked
                // again after the walk (or read again now if too many are waiting).
                if after.is_racy() && !last && !watch.racy(path, &relative, hash, after) {
                    std::thread::sleep(stability::RACY);
                    continue;
                }
            }
            // Growing at every read and never cut short: a live log.
            FileRead::Grew { read, now } if last && last_change.is_none() => ctx
                .recorder
                .grew_during_scan(ctx.root, display(path), read, now),
            FileRead::Grew { .. } => {
                if last {
                    break;
                }
                std::thread::sleep(SETTLE * reads);
                continue;
            }
            FileRead::Changed(why) => {
                last_change = Some(why);
                if !last {
                    std::thread::sleep(SETTLE * reads);
                }
                continue;
            }
        }
        if let (Some(cache), Some(unit)) = (cache, unit) {
            cache.offer(&unit, name.clone(), content.digest);
        }
        ctx.recorder.manifest_entry(
            ctx.root,
            ManifestEntry {
                path: relative,
                size: before.size(),
                content: content.digest,
            },
        );
        return;
    }
    let last_change = last_change.unwrap_or_else(|| "it kept growing".to_string());
    ctx.recorder.gap(
        ctx.root,
        GapKind::ChangedDuringScan,
        vec![display(path)],
        format!(
            "{} changed while it was read, {READS_OF_A_CHANGING_FILE} reads in a row (once: \
             {last_change}): what was read may not be what is there — scan again once it is \
             stable",
            display(path)
        ),
    );
}

/// Whether the file read (the open `observer`, and what `path` names) still has the stamp
/// `after` once [`SETTLED`] has passed.
fn keeps_its_stamp(path: &Path, observer: Option<&File>, after: &Stamp) -> bool {
    std::thread::sleep(SETTLED);
    let open_now = observer.and_then(|file| file.metadata().ok());
    let path_now = std::fs::symlink_metadata(path).ok();
    match (open_now, path_now) {
        (Some(open_now), Some(path_now)) => {
            Stamp::of(&open_now) == *after && Stamp::of(&path_now) == *after
        }
        _ => false,
    }
}

/// What one read of a file gave the manifest and the change check.
struct ReadOnce {
    digest: Option<[u8; 32]>,
    /// Read as one sequential stream, so the file offset says how far it got.
    sequential: bool,
}

/// Files at least this large are hashed on a second thread while they are scanned, so
/// the disk reads them once for both; a smaller one is hashed just before its scan, which
/// then reads it from the page cache, at less cost than a thread.
const HASH_ALONGSIDE: u64 = 64 << 20;

/// Reads `file` once for its scan, up to `size` bytes (its size when opened), and, with
/// `hash`, hashes the same bytes. The scan reads the file exactly as in a directory walk (a
/// zip in place with random access, carved streams and executables' tables read again from
/// their offsets), not as a stream: a file given as PATH is a backup or an artifact, often
/// larger than any memory limit for buffering it. The digest is taken with positional reads
/// of the same open file, which leave the scan's file offset alone.
fn scan_once(
    ctx: Context,
    path: &Path,
    file: &File,
    size: u64,
    hash: bool,
    buffer: &mut ScanBuffer,
) -> ReadOnce {
    let chain = [display(path)];
    if !hash {
        return ReadOnce {
            digest: None,
            sequential: scan_file_upto(ctx, &chain, file, size, buffer),
        };
    }
    // A digest that fails (a read error, a file cut short: the scan records why) is left
    // out, and the manifest says `-`.
    if size < HASH_ALONGSIDE {
        // Small: hashed first; positional reads leave the offset where the scan starts.
        let digest = digest_of_file(file, size).ok();
        return ReadOnce {
            digest,
            sequential: scan_file_upto(ctx, &chain, file, size, buffer),
        };
    }
    // Positional reads on the same handle, on a second thread, while the scan reads on.
    std::thread::scope(|scope| {
        let digester = std::thread::Builder::new()
            .name("scour-digest".to_string())
            .spawn_scoped(scope, || digest_of_file(file, size).ok());
        let sequential = scan_file_upto(ctx, &chain, file, size, buffer);
        let digest = match digester {
            Ok(digester) => digester.join().ok().flatten(),
            // No thread to be had: hashed after the scan instead.
            Err(_) => digest_of_file(file, size).ok(),
        };
        ReadOnce { digest, sequential }
    })
}

/// How the read went, and the open file's stamp once read.
fn judge_read(path: &Path, before: &Stamp, observer: &File, sequential: bool) -> (FileRead, Stamp) {
    let mut observer = observer;
    let Ok(after) = observer.metadata() else {
        return (FileRead::Stable, *before);
    };
    let after = Stamp::of(&after);
    let position = if sequential {
        observer.stream_position().ok()
    } else {
        None
    };
    let path_now = std::fs::symlink_metadata(path).ok();
    (
        stability::judge(before, &after, position, path_now.as_ref()),
        after,
    )
}

/// The opened file and its stamp, or `None` once the reason it was not opened is recorded
/// (or, with a `watch`, once a path found to be a directory is left to it to walk).
fn open_or_record(ctx: Context, path: &Path, watch: Option<&WalkWatch>) -> Option<(File, Stamp)> {
    let recorder = ctx.recorder;
    match open_regular(path) {
        Ok(Opened::Regular(file, stamp)) => Some((file, stamp)),
        Ok(Opened::Directory) => {
            match watch {
                Some(watch) => watch.found_directory(path),
                None => recorder.gap(
                    ctx.root,
                    GapKind::ChangedDuringScan,
                    vec![display(path)],
                    format!(
                        "{} was a file when listed and is a directory now: not walked — scan \
                         again once the tree is stable",
                        display(path)
                    ),
                ),
            }
            None
        }
        Ok(Opened::Special) => {
            recorder.skipped(ctx.root, SkipReason::SpecialFile, display(path));
            None
        }
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            recorder.skipped(ctx.root, SkipReason::Symlink, display(path));
            None
        }
        Err(error) => {
            let (kind, what) = classify_io_error(&error);
            recorder.gap(
                ctx.root,
                kind,
                vec![display(path)],
                format!("could not open {}: {error} — {what}", display(path)),
            );
            None
        }
    }
}

enum Opened {
    Regular(File, Stamp),
    /// Listed as a file, a directory when opened (replaced in between).
    Directory,
    Special,
}

fn open_regular(path: &Path) -> std::io::Result<Opened> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let metadata = file.metadata()?;
    if metadata.file_type().is_file() {
        Ok(Opened::Regular(file, Stamp::of(&metadata)))
    } else if metadata.file_type().is_dir() {
        Ok(Opened::Directory)
    } else {
        Ok(Opened::Special)
    }
}

fn classify_io_error(error: &std::io::Error) -> (GapKind, &'static str) {
    match error.kind() {
        ErrorKind::PermissionDenied => (
            GapKind::PermissionDenied,
            "not scanned; run scour as a user who can read it",
        ),
        ErrorKind::NotFound => (
            GapKind::Vanished,
            "it disappeared during the scan; scan again once the tree is stable",
        ),
        _ => (GapKind::ReadError, "not scanned"),
    }
}

fn record_walk_error(ctx: Context, root: &Path, shard: Shard, error: &ignore::Error) {
    let path = error_path(error).unwrap_or_else(|| root.to_path_buf());
    // Every shard meets the same unlistable directory; one of them records it.
    if !shard.owns(relative_key(root, &path).as_bytes()) {
        return;
    }
    let (kind, what) = match error.io_error() {
        Some(io) => classify_io_error(io),
        None => (GapKind::WalkError, "not scanned"),
    };
    let kind = if kind == GapKind::ReadError {
        GapKind::WalkError
    } else {
        kind
    };
    ctx.recorder.gap(
        ctx.root,
        kind,
        vec![display(&path)],
        format!("could not list {}: {error} — {what}", display(&path)),
    );
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errors) => errors.iter().find_map(error_path),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Names of the temporary files scour writes reports through (see `cli::output`).
pub const SCOUR_TEMP_PREFIX: &str = ".scour-tmp-";

/// A report scour was writing (`.scour-tmp-<pid>-<16 hex digits>`), not data to scan.
fn is_scour_temp_file(path: &Path) -> bool {
    let Some(rest) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(SCOUR_TEMP_PREFIX))
    else {
        return false;
    };
    match rest.split_once('-') {
        Some((pid, suffix)) => {
            !pid.is_empty()
                && pid.bytes().all(|b| b.is_ascii_digit())
                && suffix.len() == 16
                && suffix.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Paths in reports are shown lossily if they are not UTF-8.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The cache's proof for the regular file at `path` and its size, if it is unchanged.
fn reusable(
    cache: &crate::cache::Cache,
    name: &str,
    path: &Path,
) -> Option<(crate::cache::Reuse, u64)> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    if !metadata.file_type().is_file() {
        return None;
    }
    let reuse = cache.lookup(&crate::cache::unit::file(name, &metadata))?;
    Some((reuse, metadata.len()))
}
