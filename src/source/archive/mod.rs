//! The archive source: compressed streams and archives, read recursively as a stream.
//!
//! Every opened stream is sniffed by its first bytes ([`sniff`]). A container is opened and
//! each of its members goes through the same step again, so a zip inside a tar.gz inside a
//! backup folder is read like any file, and a finding's location is the whole chain:
//! `["backups/2024-10.tar.gz", "srv/app/.env"]` (compression layers add no element; archive
//! members, layer blobs and git objects do).
//!
//! Nothing is extracted to disk and nothing is written anywhere: member names are only
//! labels, so path-traversal names and symlink members are harmless. An archive is read as
//! a stream; only a member that needs random access while inside a stream (a zip or a git
//! pack inside a tarball) is held in memory, up to [`ArchiveLimits::max_buffer`]. A zip file
//! on disk is read in place with random access.
//!
//! One [`Walk`] follows one top-level archive on one thread (the filesystem walk already
//! spreads files, and so archives, over all threads). It counts decoded bytes against the
//! [`limits`], remembers the member being read, and records every gap once at the layer
//! that failed: corrupt or truncated data (`corrupt`), encrypted zip members (`encrypted`),
//! formats and methods scour cannot read (`unsupported`), and anything a limit stopped
//! (`limit-exceeded`). Layers above see an error marked as already recorded
//! ([`is_reported`]) and stop without recording it again. What was read ends up in the
//! root's coverage as one [`ArchiveCoverage`] per top-level archive.

mod ar;
mod avro;
mod blocks;
mod brotli;
mod carve;
mod compressed;
mod cpio;
pub(crate) mod decode;
mod elf_tables;
mod encrypted;
mod entropy;
pub(crate) mod format;
mod git_formats;
mod git_objects;
mod hdf5;
mod image;
mod inert;
mod iso9660;
mod java_keystore;
mod journal;
mod leaf;
mod leveldb;
mod leveldb_log;
pub mod limits;
mod lzop;
mod member;
mod member_pool;
mod mozlz4;
mod opaque;
mod openpgp;
mod openpgp_keys;
mod orc;
mod parquet;
mod pdf;
mod pg_dump;
mod pg_heap;
mod qcow2;
mod rdb;
mod rpm;
mod sevenz;
pub(crate) mod sniff;
mod sqlite;
mod sqlite_encrypted;
mod squashfs;
mod svndiff;
mod tar;
mod unix_compress;
mod unsupported;
mod varint;
mod zip;
mod zisofs;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read};

use super::Context;
use crate::coverage::GapKind;
use crate::findings::display_chain;
use crate::matcher::ScanBuffer;
use format::{Class, Format, Place};
pub(crate) use leaf::Reopen;
pub use limits::ArchiveLimits;
use limits::Counted;
use sniff::{sniff, Peeked, SNIFF_LEN};

pub use crate::model::ArchiveCoverage;

/// The state of reading one top-level archive.
pub(crate) struct Walk<'a, 'm> {
    ctx: Context<'a, 'm>,
    input_bytes: Cell<u64>,
    /// A fixed input size (a zip file on disk, read with random access), if known.
    input_size: Cell<Option<u64>>,
    /// Where the top-level stream lives (decides which formats are recognised in it).
    place: Place,
    /// Whether any layer was opened: only then is there an archive to list in coverage.
    opened: Cell<bool>,
    stopped: Cell<bool>,
    buffered: Cell<u64>,
    member: RefCell<Vec<String>>,
    coverage: RefCell<ArchiveCoverage>,
    /// The parent leaf's hits, for the decoded run being inspected ([`decode::Shadow`]).
    shadow: decode::ShadowSlot,
}

/// An error that has already been recorded as a gap further down.
#[derive(Debug)]
struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("already recorded as a gap")
    }
}

impl std::error::Error for Reported {}

/// Whether `error` (or anything it wraps) was already recorded as a gap.
pub(crate) fn is_reported(error: &io::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = match error.get_ref() {
        Some(inner) => Some(inner),
        None => return false,
    };
    while let Some(inner) = current {
        if inner.is::<Reported>() {
            return true;
        }
        if let Some(io) = inner.downcast_ref::<io::Error>() {
            if let Some(nested) = io.get_ref() {
                if nested.is::<Reported>() {
                    return true;
                }
            }
        }
        current = inner.source();
    }
    false
}

/// An error's message with its causes, for a gap's reason.
pub(crate) fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(inner) = current {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        current = inner.source();
    }
    text
}

impl<'a, 'm> Walk<'a, 'm> {
    pub(crate) fn new(ctx: Context<'a, 'm>, chain: &[String], place: Place) -> Self {
        Walk {
            ctx,
            input_bytes: Cell::new(0),
            input_size: Cell::new(None),
            place,
            opened: Cell::new(false),
            stopped: Cell::new(false),
            buffered: Cell::new(0),
            member: RefCell::new(chain.to_vec()),
            coverage: RefCell::new(ArchiveCoverage {
                path: display_chain(chain),
                ..ArchiveCoverage::default()
            }),
            shadow: decode::ShadowSlot::default(),
        }
    }

    /// The top-level input has a fixed size (a file read with random access).
    fn input_size_known(&self, size: u64) {
        self.input_size.set(Some(size));
    }

    /// A layer of `format` was opened; the outermost one names the archive.
    fn opening(&self, format: &str) {
        if !self.opened.replace(true) {
            self.coverage.borrow_mut().format = format.to_string();
        }
    }

    fn limits(&self) -> &ArchiveLimits {
        self.ctx.recorder.archive_limits()
    }

    /// Errors once reading of this archive has been stopped by a limit.
    fn check_running(&self) -> io::Result<()> {
        if self.stopped.get() {
            Err(io::Error::other(Reported))
        } else {
            Ok(())
        }
    }

    /// Counts `n` decoded bytes; stops the archive if that breaks a limit.
    fn expanded(&self, n: u64, chain: &[String]) -> io::Result<()> {
        let total = {
            let mut coverage = self.coverage.borrow_mut();
            coverage.expanded_bytes += n;
            coverage.expanded_bytes
        };
        let input = self.input_size.get().unwrap_or(self.input_bytes.get());
        match self.limits().expansion_exceeded(total, input) {
            None => Ok(()),
            Some(why) => {
                let error = self.fail(
                    GapKind::LimitExceeded,
                    chain,
                    format!("stopped reading: {why}; the rest of the archive was not scanned"),
                );
                self.stopped.set(true);
                Err(error)
            }
        }
    }

    /// Records a gap inside this archive, naming the member being read, and returns the
    /// error that tells the layers above it was recorded.
    fn fail(&self, kind: GapKind, chain: &[String], what: String) -> io::Error {
        let member = self.member.borrow();
        let reading = if member.len() > chain.len() && member.starts_with(chain) {
            format!(" (while reading {})", display_chain(&member))
        } else {
            String::new()
        };
        self.gap(
            kind,
            chain.to_vec(),
            format!("could not read {}{reading}: {what}", display_chain(chain)),
        );
        io::Error::other(Reported)
    }

    fn gap(&self, kind: GapKind, chain: Vec<String>, reason: String) {
        self.coverage.borrow_mut().gaps += 1;
        self.ctx.recorder.gap(self.ctx.root, kind, chain, reason);
    }

    /// Records a gap for `error` from a container's own parser unless a layer below
    /// already recorded it.
    fn fail_unless_reported(&self, kind: GapKind, chain: &[String], what: &str, error: &io::Error) {
        if !is_reported(error) {
            self.fail(kind, chain, format!("{what}: {}", describe_error(error)));
        }
    }

    fn entering(&self, chain: &[String]) {
        *self.member.borrow_mut() = chain.to_vec();
    }

    /// Reserves `n` bytes of memory for a member that needs random access.
    fn reserve(&self, n: u64) -> bool {
        let now = self.buffered.get().saturating_add(n);
        if now > self.limits().max_buffer {
            return false;
        }
        self.buffered.set(now);
        true
    }

    fn release(&self, n: u64) {
        self.buffered.set(self.buffered.get().saturating_sub(n));
    }

    /// What this walk counted, for the walk of the archive it scanned a member of
    /// ([`member_pool`]).
    fn into_coverage(self) -> ArchiveCoverage {
        self.coverage.into_inner()
    }

    /// Adds what a member's own walk counted (a member scanned on a worker thread).
    fn absorb(&self, member: &ArchiveCoverage) {
        let mut coverage = self.coverage.borrow_mut();
        coverage.members_scanned += member.members_scanned;
        coverage.expanded_bytes += member.expanded_bytes;
        coverage.max_depth = coverage.max_depth.max(member.max_depth);
        coverage.gaps += member.gaps;
        for layer in &member.layers {
            if !coverage
                .layers
                .iter()
                .any(|known| known.member == layer.member)
            {
                coverage.layers.push(layer.clone());
            }
        }
    }

    /// Lists what was read in the root's coverage, if the stream was an archive at all.
    pub(crate) fn finish(self) {
        if !self.opened.get() {
            return;
        }
        let coverage = self.coverage.into_inner();
        self.ctx
            .recorder
            .with_root(self.ctx.root, |root| root.archives.push(coverage));
    }
}

/// Inspects one top-level stream: every layer it holds is unwrapped, recursively. `reopen`
/// says how its bytes can be read again from an offset, for streams found inside it.
pub(crate) fn inspect_top_level(
    ctx: Context,
    chain: &[String],
    place: Place,
    reader: &mut dyn Read,
    reopen: Reopen,
    buffer: &mut ScanBuffer,
) {
    let walk = Walk::new(ctx, chain, place);
    let mut input = Input {
        walk: &walk,
        chain,
        inner: reader,
    };
    inspect(&walk, chain, &mut input, 0, reopen, buffer);
    walk.finish();
}

/// Scans bytes as bytes only (raw and through the terminal view): no format is opened,
/// nothing carved, nothing accounted as opaque.
pub(crate) fn scan_plain_top_level(
    ctx: Context,
    chain: &[String],
    bytes: &[u8],
    buffer: &mut ScanBuffer,
) {
    let walk = Walk::new(ctx, chain, Place::Inside);
    let mut reader = bytes;
    leaf::scan(
        &walk,
        chain,
        &mut reader,
        0,
        Reopen::Memory(bytes),
        leaf::Kind::Accounted,
        buffer,
    );
    walk.finish();
}

/// Inspects a file on disk: a format that reads files better in place (a zip with random
/// access, a compressed file decoded on a second thread) gets the file; anything else is
/// read as a stream that starts with the `head` already read.
/// A file read as a stream is read up to `limit` bytes; returns whether it was read as one
/// sequential stream (false when a format read it with random access).
pub(crate) fn inspect_file(
    ctx: Context,
    chain: &[String],
    file: &File,
    head: &[u8],
    limit: u64,
    buffer: &mut ScanBuffer,
) -> bool {
    let walk = Walk::new(ctx, chain, Place::Filesystem);
    if let Some(path) = chain.first().map(std::path::Path::new) {
        if let Some((store, what)) = encrypted::encrypted_store_of(path) {
            walk.fail(
                GapKind::Encrypted,
                &[store.display().to_string()],
                what.to_string(),
            );
        }
    }
    // Formats are told by the sniffing window, however much of a small file `head` holds.
    if let Some(format) = sniff(&head[..head.len().min(SNIFF_LEN)], Place::Filesystem) {
        if format.class() == Class::Readable {
            walk.opening(format.name());
            if format.open_file(&walk, chain, file, buffer) {
                walk.finish();
                return false;
            }
        }
    }
    // A limit is the file's size when it was opened (a file that shrank since is a changed
    // file, which the caller checks): no second `statx` for it, one per file of a tree.
    let size = if limit == u64::MAX {
        file.metadata().map(|m| m.len()).ok()
    } else {
        Some(limit)
    };
    let mut rest = file.take(limit.saturating_sub(head.len() as u64));
    let mut input = Input {
        walk: &walk,
        chain,
        inner: &mut head.chain(&mut rest),
    };
    inspect(
        &walk,
        chain,
        &mut input,
        0,
        Reopen::File(file, size),
        buffer,
    );
    walk.finish();
    true
}

/// The top-level stream: counts compressed bytes for the expansion ratio, and records a
/// read error of the file itself.
struct Input<'w, 'a, 'm, 'c, 'r> {
    walk: &'w Walk<'a, 'm>,
    chain: &'c [String],
    inner: &'r mut dyn Read,
}

impl Read for Input<'_, '_, '_, '_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(out) {
            Ok(n) => {
                self.walk
                    .input_bytes
                    .set(self.walk.input_bytes.get() + n as u64);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.walk.fail(
                GapKind::ReadError,
                self.chain,
                format!("{e} — the rest of it was not scanned"),
            )),
        }
    }
}

/// Scans one stream inside an archive (or the archive itself at depth 0): a container is
/// opened and its members scanned at `depth + 1`; anything else is scanned as bytes.
pub(crate) fn scan_member(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    crate::source::names::check_member(walk.ctx, chain);
    inspect(walk, chain, reader, depth, Reopen::None, buffer)
}

/// The driver of the pipeline: recognises the stream's format from its first bytes and
/// opens it (members come back here at `depth + 1`), records formats that cannot be read as
/// gaps, and hands everything else to [`leaf::scan`], which scans the bytes and follows
/// streams that start inside them.
pub(crate) fn inspect(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    depth: u32,
    reopen: Reopen,
    buffer: &mut ScanBuffer,
) {
    let mut peeked = Peeked::new(reader, SNIFF_LEN);
    let place = if depth > 0 { Place::Inside } else { walk.place };
    let format = sniff::sniff_named(peeked.head(), place, chain.last());
    {
        let mut coverage = walk.coverage.borrow_mut();
        coverage.max_depth = coverage.max_depth.max(depth);
    }
    let Some(format) = format else {
        return leaf::scan(
            walk,
            chain,
            &mut peeked,
            depth,
            reopen,
            leaf::Kind::Plain,
            buffer,
        );
    };
    let name = format.name_at(peeked.head());
    match format.class() {
        Class::Readable => open(walk, chain, format, &mut peeked, depth, buffer),
        Class::Inert => leaf::scan(
            walk,
            chain,
            &mut peeked,
            depth,
            reopen,
            leaf::Kind::Inert,
            buffer,
        ),
        Class::Unsupported => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "{name} content cannot be decoded by scour; its raw bytes were scanned, what \
                     it compresses or packs was not"
                ),
            );
            // Already a gap, so never opaque; but streams it stores whole (a dar archive's
            // gzip members, a cab's stored file) are still carved and decoded, so a secret
            // in them is found rather than only suspected.
            leaf::scan(
                walk,
                chain,
                &mut peeked,
                depth,
                reopen,
                leaf::Kind::Inert,
                buffer,
            );
        }
        Class::Encrypted => {
            walk.fail(
                GapKind::Encrypted,
                chain,
                format!(
                    "{name} ciphertext: what it encrypts cannot be read without the key; its \
                     raw bytes were scanned"
                ),
            );
            leaf::scan(
                walk,
                chain,
                &mut peeked,
                depth,
                reopen,
                leaf::Kind::Accounted,
                buffer,
            );
        }
    }
}

/// Opens a readable layer, within the nesting limit.
fn open(
    walk: &Walk,
    chain: &[String],
    format: &dyn Format,
    reader: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    if depth >= walk.limits().max_depth {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "a {} nested {depth} levels deep, deeper than the limit (--archive-max-depth {}); \
                 not opened",
                format.name(),
                walk.limits().max_depth
            ),
        );
        return;
    }
    walk.opening(format.name());
    if depth > 0 {
        note_layer(walk, chain);
    }
    format.open(walk, chain, reader, depth, buffer);
}

/// A container whose member name is an image blob digest is a layer: list it.
fn note_layer(walk: &Walk, chain: &[String]) {
    let Some(digest) = chain.last().and_then(|name| image::blob_digest(name)) else {
        return;
    };
    let member = display_chain(chain);
    let mut coverage = walk.coverage.borrow_mut();
    if !coverage.layers.iter().any(|layer| layer.member == member) {
        coverage.layers.push(image::Layer { digest, member });
    }
}

/// Reads the rest of `reader` (to reach the end of a member), counting the bytes.
fn drain(reader: &mut dyn Read) -> io::Result<u64> {
    io::copy(reader, &mut io::sink())
}

/// How a format that holds its stream reads the bytes held ([`hold_then_read`]).
type ReadHeld = fn(&Walk, &[String], &[u8], u32, &mut ScanBuffer);

/// Reads `reader` whole into memory for a format that reads its bytes twice (raw, then
/// through its own structure: a PDF's text, a LevelDB table's blocks), and hands them to
/// `read`. If they do not fit in what is left of `--archive-max-buffer`, they are still
/// scanned as bytes, as a leaf streamed, and a `limit-exceeded` gap says what `what` was
/// not read.
fn hold_then_read(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
    what: &str,
    read: ReadHeld,
) {
    let limit = walk.limits().max_buffer.saturating_sub(walk.buffered.get());
    let mut bytes = Vec::new();
    let outcome = reader.take(limit.saturating_add(1)).read_to_end(&mut bytes);
    if outcome.is_ok() && (bytes.len() as u64) <= limit && walk.reserve(bytes.len() as u64) {
        read(walk, chain, &bytes, depth, buffer);
        walk.release(bytes.len() as u64);
        return;
    }
    if outcome.is_ok() {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "it is larger than the {limit} bytes left of the limit (--archive-max-buffer), \
                 so it was scanned as bytes only: {what} was not read"
            ),
        );
    }
    // What was read, then the rest (a read error is recorded by the stream that failed).
    let mut rest = io::Cursor::new(bytes).chain(reader);
    leaf::scan(
        walk,
        chain,
        &mut rest,
        depth,
        Reopen::None,
        leaf::Kind::Plain,
        buffer,
    );
}

/// Reads `reader` whole into memory, within the walk's buffer limit. `None` if it did not
/// fit (recorded as a gap) or could not be read (recorded by the layer that failed).
fn buffer_whole(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    what: &str,
) -> Option<Vec<u8>> {
    let limit = walk.limits().max_buffer.saturating_sub(walk.buffered.get());
    let mut bytes = Vec::new();
    let mut counted = Counted {
        inner: reader.take(limit.saturating_add(1)),
        count: 0,
    };
    if let Err(error) = counted.read_to_end(&mut bytes) {
        walk.fail_unless_reported(
            GapKind::Corrupt,
            chain,
            &format!("could not read the {what}"),
            &error,
        );
        return None;
    }
    if counted.count > limit {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "a {what} inside a stream needs random access, so it is held in memory, and it \
                 is larger than the {limit} bytes left of the limit (--archive-max-buffer); \
                 not scanned"
            ),
        );
        return None;
    }
    if !walk.reserve(bytes.len() as u64) {
        return None;
    }
    Some(bytes)
}
