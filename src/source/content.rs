//! Reading one opened stream: the common step of every source.
//!
//! The first bytes decide how a stream is read ([`archive::sniff`]): a container (gzip,
//! zip, tar, ...) is opened and its members read recursively by [`archive`]; anything else
//! is scanned as bytes, both as they are and through a view with terminal control
//! sequences removed ([`crate::matcher::normalise`]), so a CI log that splits a secret with
//! colour codes or a `\r` redraw still shows it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use super::archive::sniff::{sniff, Kind, Peeked, SNIFF_LEN};
use super::archive::{self, is_reported};
use super::sparse::{self, SparseReader};
use super::Context;
use crate::coverage::GapKind;
use crate::findings::display_chain;
use crate::matcher::normalise::TerminalView;
use crate::matcher::{ScanBuffer, Splices};

/// Scans one stream named by `chain`, recording hits, bytes and any read error as a gap.
pub fn scan_stream(ctx: Context, chain: &[String], reader: impl Read, buffer: &mut ScanBuffer) {
    let mut reader = reader;
    let mut peeked = Peeked::new(&mut reader as &mut dyn Read, SNIFF_LEN);
    match sniff(peeked.head(), false) {
        Kind::Plain => {
            if let Some(error) = scan_plain(ctx, chain, &mut peeked, buffer) {
                record_read_error(ctx, chain, &error);
            }
        }
        kind => archive::scan_top_level(ctx, chain, kind, &mut peeked, buffer),
    }
}

/// Scans an opened file: like [`scan_stream`], but a zip is read in place with random
/// access, and a compressed file is decoded on a second thread while this one scans.
pub fn scan_file(ctx: Context, chain: &[String], mut file: File, buffer: &mut ScanBuffer) {
    // The whole sniffing window in one read, so the stream scan below starts from it without
    // reading the head again.
    let mut magic = [0u8; SNIFF_LEN];
    let (kind, read) = match read_up_to(&mut file, &mut magic) {
        Ok(n) => (sniff(&magic[..n], false), n),
        Err(_) => (Kind::Plain, 0),
    };
    match kind {
        Kind::Zip | Kind::Gzip | Kind::Bzip2 | Kind::Xz | Kind::Zstd => {
            if file.seek(SeekFrom::Start(0)).is_err() {
                record_read_error(ctx, chain, &io::Error::other("cannot rewind the file"));
                return;
            }
            if kind == Kind::Zip {
                archive::scan_zip_file(ctx, chain, file, buffer)
            } else {
                archive::scan_compressed_file(ctx, chain, kind, file, buffer)
            }
        }
        // Holes are left out (never read), and hits reported at their offsets in the file.
        Kind::Plain if sparse::has_holes(&file) => {
            let splices = Splices::default();
            let keep = ctx.recorder.matcher().span_needed();
            let rest = SparseReader::new(file, read as u64, keep, splices.clone());
            buffer.follow_splices(splices);
            scan_stream(ctx, chain, (&magic[..read]).chain(rest), buffer);
            buffer.end_splices();
        }
        // Everything else continues from the bytes already read: no second read, no seek.
        _ => scan_stream(ctx, chain, (&magic[..read]).chain(file), buffer),
    }
}

/// Scans bytes as they are and through the terminal-normalised view, records hits and
/// bytes scanned, and returns the read error that ended the stream early, unless it was
/// already recorded as a gap.
pub(crate) fn scan_plain(
    ctx: Context,
    chain: &[String],
    reader: &mut dyn Read,
    buffer: &mut ScanBuffer,
) -> Option<io::Error> {
    let recorder = ctx.recorder;
    let matcher = recorder.matcher();
    let mut view = TerminalView::new(matcher);
    let outcome = matcher.scan_reader(reader, buffer, &mut |bytes| view.feed(bytes));
    let mut hits = outcome.hits;
    hits.extend(view.finish());
    buffer.restore_offsets(&mut hits);
    recorder.hits(chain, &hits);
    recorder.scanned(ctx.root, outcome.bytes);
    outcome
        .error
        .filter(|error| !is_reported(error))
        .map(|error| {
            io::Error::new(
                error.kind(),
                format!("{error} (after {} bytes)", outcome.bytes),
            )
        })
}

fn record_read_error(ctx: Context, chain: &[String], error: &io::Error) {
    ctx.recorder.gap(
        ctx.root,
        GapKind::ReadError,
        chain.to_vec(),
        format!(
            "could not read {}: {error} — the rest of it was not scanned",
            display_chain(chain),
        ),
    );
}

fn read_up_to(reader: &mut impl Read, out: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < out.len() {
        match reader.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
