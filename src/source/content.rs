//! The entry to the content pipeline for every source: one opened stream (a file, a git
//! object, an object-store object), under the location chain it is reported by.
//!
//! Every byte goes through the same inspection ([`archive::inspect`]): the stream's format
//! is recognised from its bytes ([`archive::format`]), containers and compressed streams are
//! opened recursively, streams that start inside other bytes are carved out and followed,
//! and whatever is left is scanned as bytes, both as they are and through a view with
//! terminal control sequences removed ([`crate::matcher::normalise`]), so a CI log that
//! splits a secret with colour codes or a `\r` redraw still shows it. What no layer could
//! interpret is accounted for as a gap, never passed over in silence.

use std::fs::File;
use std::io::Read;

use super::archive::format::Place;
use super::archive::sniff::SNIFF_LEN;
use super::archive::{self, Reopen};
use super::sparse::{self, SparseReader};
use super::Context;
use crate::matcher::{ScanBuffer, Splices};

/// Scans one stream of a filesystem source, named by `chain`, recording hits, bytes and
/// any read error as a gap.
pub fn scan_stream(ctx: Context, chain: &[String], reader: impl Read, buffer: &mut ScanBuffer) {
    let mut reader = reader;
    archive::inspect_top_level(
        ctx,
        chain,
        Place::Filesystem,
        &mut reader,
        Reopen::None,
        buffer,
    );
}

/// Scans bytes held in memory that came from inside something (a git object, an object
/// store's object): git packs and loose objects in them are read too.
pub fn scan_bytes(ctx: Context, chain: &[String], bytes: &[u8], buffer: &mut ScanBuffer) {
    let mut reader = bytes;
    archive::inspect_top_level(
        ctx,
        chain,
        Place::Inside,
        &mut reader,
        Reopen::Memory(bytes),
        buffer,
    );
}

/// Scans bytes as they are and through the terminal view only, with no layer opened (a
/// commit or tag message, a tree's entry names).
pub fn scan_plain(ctx: Context, chain: &[String], bytes: &[u8], buffer: &mut ScanBuffer) {
    archive::scan_plain_top_level(ctx, chain, bytes, buffer);
}

/// Scans a stream that came from inside something and can only be read once.
pub fn scan_inner_stream(
    ctx: Context,
    chain: &[String],
    reader: impl Read,
    buffer: &mut ScanBuffer,
) {
    let mut reader = reader;
    archive::inspect_top_level(ctx, chain, Place::Inside, &mut reader, Reopen::None, buffer);
}

/// Scans an opened file: like [`scan_stream`], but a zip is read in place with random
/// access, a compressed file is decoded on a second thread while this one scans, and
/// streams found inside the file are read again from their offset.
pub fn scan_file(ctx: Context, chain: &[String], file: File, buffer: &mut ScanBuffer) {
    scan_file_upto(ctx, chain, &file, u64::MAX, buffer);
}

/// Files up to this size (when it is known) are read whole in one read. The bytes are then
/// copied once more, into the scan's buffer; up to this size the copy costs less than the
/// `read` it saves.
const SMALL_FILE: u64 = 16 << 10;

/// Like [`scan_file`], but a file read as a stream is read only up to `limit` bytes (its
/// size when opened, so a live log that grows cannot keep the scan reading). Returns true
/// if the file was read as one sequential stream (so the file offset afterwards says how
/// far the read got), false if it was read with random access (a zip).
pub fn scan_file_upto(
    ctx: Context,
    chain: &[String],
    file: &File,
    limit: u64,
    buffer: &mut ScanBuffer,
) -> bool {
    // The whole sniffing window in one read, so the stream scan starts from it without
    // reading the head again; a small file (its size known) whole, in that same read: a
    // second read per file cost more than its bytes.
    let whole = limit <= SMALL_FILE;
    let want = if whole { limit as usize } else { SNIFF_LEN };
    let mut head = Vec::with_capacity(want);
    if (&mut { file })
        .take(want as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        head.clear();
    }
    // A file that ended inside the sniffing window has nothing left to read, holes or not,
    // and one smaller than the shortest hole the sparse reader leaves out reads the same
    // either way (most files are small: this saves a `statx` each).
    let ended = whole || head.len() < want;
    let read = head.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
    let sniffed = &head[..read.min(SNIFF_LEN)];
    if !ended
        && limit >= sparse::MIN_SKIP
        && sparse::has_holes(file)
        && archive::sniff::sniff(sniffed, Place::Filesystem).is_none()
    {
        // The sparse reader owns its handle: a second one on the same open file (its
        // offset is shared, so the caller still sees how far the read got).
        if let Ok(owned) = file.try_clone() {
            scan_sparse(ctx, chain, owned, &head[..read], buffer);
            return true;
        }
    }
    archive::inspect_file(ctx, chain, file, &head[..read], limit, buffer)
}

/// A file with holes: the holes are left out (never read: a hole is zeros, and no pattern
/// is all zeros), and hits are reported at their offsets in the file.
fn scan_sparse(ctx: Context, chain: &[String], file: File, head: &[u8], buffer: &mut ScanBuffer) {
    let splices = Splices::default();
    let keep = ctx.recorder.matcher().span_needed();
    let rest = SparseReader::new(file, head.len() as u64, keep, splices.clone());
    buffer.follow_splices(splices);
    let mut reader = head.chain(rest);
    archive::inspect_top_level(
        ctx,
        chain,
        Place::Filesystem,
        &mut reader,
        Reopen::None,
        buffer,
    );
    buffer.end_splices();
}
