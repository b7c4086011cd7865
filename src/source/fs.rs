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
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use super::content::{scan_file as scan_opened, scan_stream};
use super::Context;
use crate::coverage::{GapKind, SkipReason};
use crate::evidence::subjects::{DigestingReader, ManifestEntry};
use crate::matcher::ScanBuffer;
use crate::scan::shard::Shard;

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
    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .threads(options.threads);
    if options.respect_gitignore {
        builder
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true);
    }
    builder.build_parallel().run(|| {
        let mut buffer = ScanBuffer::new();
        Box::new(move |entry| match entry {
            Ok(entry) => visit(ctx, root, options, excludes, entry, &mut buffer),
            Err(error) => {
                record_walk_error(ctx, root, options.shard, &error);
                WalkState::Continue
            }
        })
    });
}

fn visit(
    ctx: Context,
    root: &Path,
    options: &WalkOptions,
    excludes: &Excludes,
    entry: ignore::DirEntry,
    buffer: &mut ScanBuffer,
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
        let walk_into = file_type.is_dir() && !excludes.matches(root, path);
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
    if file_type.is_dir() {
        WalkState::Continue
    } else if file_type.is_symlink() {
        recorder.skipped(ctx.root, SkipReason::Symlink, display(path));
        WalkState::Continue
    } else if file_type.is_file() {
        // Loose objects and indexed packs are read by the git object scan instead.
        if !crate::source::git::claim_file(ctx, path, buffer) {
            let hash = options.content_digests || entry.depth() == 0;
            scan_file_into_manifest(ctx, path, relative, hash, buffer);
        }
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
    if let Some((file, _metadata)) = open_or_record(ctx, path) {
        scan_opened(ctx, &[display(path)], file, buffer);
    }
}

/// Scans one regular file and lists it in its root's manifest, hashing its bytes in the
/// same read when `hash` is set.
fn scan_file_into_manifest(
    ctx: Context,
    path: &Path,
    relative: String,
    hash: bool,
    buffer: &mut ScanBuffer,
) {
    let chain = [display(path)];
    let cache = ctx.recorder.cache.as_ref();
    // A proof is looked up before the file is opened, so an unchanged file costs one stat.
    if let Some((reuse, size)) = cache.and_then(|cache| reusable(cache, &chain[0], path)) {
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
    let Some((file, metadata)) = open_or_record(ctx, path) else {
        return;
    };
    let size = metadata.len();
    let unit = crate::cache::unit::file(&chain[0], &metadata);
    let content = if hash {
        // Hashed in the same read: the file is then read as a stream (a zip in it is
        // buffered within the archive memory limit instead of read in place).
        let mut reader = DigestingReader::new(file, true);
        scan_stream(ctx, &chain, &mut reader, buffer);
        // A read error was recorded as a gap by scan_stream; the file then has no content
        // digest, and the manifest says so with `-`.
        reader.finish().ok().flatten()
    } else {
        scan_opened(ctx, &chain, file, buffer);
        None
    };
    if let Some(cache) = cache {
        cache.offer(&unit, chain[0].clone(), content);
    }
    ctx.recorder.manifest_entry(
        ctx.root,
        ManifestEntry {
            path: relative,
            size,
            content,
        },
    );
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

/// The opened file and its metadata, or `None` once the reason it was not opened is recorded.
fn open_or_record(ctx: Context, path: &Path) -> Option<(File, std::fs::Metadata)> {
    let recorder = ctx.recorder;
    match open_regular(path) {
        Ok(Opened::Regular(file, metadata)) => Some((file, metadata)),
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
    Regular(File, std::fs::Metadata),
    Special,
}

fn open_regular(path: &Path) -> std::io::Result<Opened> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let metadata = file.metadata()?;
    if metadata.file_type().is_file() {
        Ok(Opened::Regular(file, metadata))
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

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Paths in reports are shown lossily if they are not UTF-8.
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
