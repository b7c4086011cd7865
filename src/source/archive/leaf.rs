//! The bytes of a stream no format claimed at its start: scanned, then searched for what
//! starts inside them, then accounted for.
//!
//! One pass of the matcher reads the bytes; observers of the same pass see every byte once:
//! the terminal view (logs split by colour codes), the carving detector (streams and
//! archives that start at an offset: a zip behind a launcher script, zlib streams in a
//! database dump or a PDF, ciphertext markers) and the entropy meter. After the pass, each
//! carved candidate is read again from its offset (the file, the bytes in memory, or a copy
//! kept from the first candidate on) and goes through the pipeline like any member. Finally,
//! high-entropy regions that no layer read become an `opaque` gap: what cannot be read
//! cannot be proven clean.

use std::fs::File;
use std::io::Read;

use super::carve::{self, Detector};
use super::decode::{self, Layers};
use super::entropy::Meter;
use super::{describe_error, is_reported, opaque, Walk};
use crate::coverage::GapKind;
use crate::matcher::normalise::TerminalView;
use crate::matcher::ScanBuffer;

/// How the bytes of a stream can be read again from an offset.
#[derive(Clone, Copy)]
pub(crate) enum Reopen<'a> {
    /// Only once, as it streams by (a member of a compressed archive): a copy is kept from
    /// the first carving candidate on, up to [`KEPT_BYTES`].
    None,
    /// Bytes in memory (a git object, a decoded run, a kept copy).
    Memory(&'a [u8]),
    /// A file on disk, of this size when it was opened.
    File(&'a File, Option<u64>),
}

/// Most bytes of a once-only stream kept for following streams carved out of it.
pub(crate) const KEPT_BYTES: usize = 32 << 20;

/// What is known of the leaf before reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Nothing: scan, carve, account for opaque regions.
    Plain,
    /// Media (an image, a font): scan and carve (text chunks), never opaque.
    Inert,
    /// Already a gap (unsupported or encrypted): scan only.
    Accounted,
}

/// [`scan`] of bytes held in memory, which can be reread from there.
pub(crate) fn scan_bytes(
    walk: &Walk,
    chain: &[String],
    bytes: &[u8],
    depth: u32,
    kind: Kind,
    buffer: &mut ScanBuffer,
) {
    scan(
        walk,
        chain,
        &mut &bytes[..],
        depth,
        Reopen::Memory(bytes),
        kind,
        buffer,
    );
}

pub(crate) fn scan(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    depth: u32,
    reopen: Reopen,
    kind: Kind,
    buffer: &mut ScanBuffer,
) {
    walk.entering(chain);
    if depth > 0 {
        walk.coverage.borrow_mut().members_scanned += 1;
    }
    let recorder = walk.ctx.recorder;
    let matcher = recorder.matcher();
    let layers_off = layers_off_for_benchmark();
    if layers_off && kind != Kind::Accounted {
        // Never a silent miss, even in a benchmark: the leaf was not fully inspected.
        walk.fail(
            GapKind::Unsupported,
            chain,
            format!(
                "carving, decode layers and opaque accounting were switched off by \
                 {LAYERS_OFF_FOR_BENCHMARK}; only the secret's direct encodings were searched"
            ),
        );
    }
    let layered = kind != Kind::Accounted && !layers_off;
    let carving = layered && depth < walk.limits().max_depth;
    let mut view = TerminalView::new(matcher);
    // At the nesting limit nothing is followed, but what starts inside is still noticed,
    // so the limit is a gap rather than a silent stop.
    let at_depth_limit = layered && !carving;
    let mut detector = Detector::new(carving || at_depth_limit);
    let mut meter = Meter::new(layered && kind == Kind::Plain);
    let mut kept = Kept::new(carving && matches!(reopen, Reopen::None));
    let mut layers = Layers::new(
        matcher,
        chain,
        match (carving, at_depth_limit) {
            (true, _) => decode::Mode::Follow,
            (false, true) => decode::Mode::AtLimit,
            (false, false) => decode::Mode::Off,
        },
    );
    let outcome = matcher.scan_reader(reader, buffer, &mut |bytes| {
        view.feed(bytes);
        detector.feed(bytes);
        kept.feed(bytes, detector.first_candidate());
        meter.feed(bytes);
        layers.feed(bytes);
    });
    let mut hits = outcome.hits;
    hits.extend(view.finish());
    if depth == 0 {
        // A sparse file's holes were left out of the stream: hits go back to file offsets.
        buffer.restore_offsets(&mut hits);
    }
    // Runs decoded from this leaf are shadowed by all its hits, also those dropped here.
    let shadowing = hits.clone();
    let decoded_run = decode::drop_shadowed(walk, chain, matcher, &mut hits);
    recorder.hits(chain, &hits);
    decode::reported(walk, matcher, &hits);
    if !decoded_run {
        recorder.scanned(walk.ctx.root, outcome.bytes);
    }
    if let Some(error) = outcome.error.filter(|error| !is_reported(error)) {
        walk.fail(
            GapKind::Corrupt,
            chain,
            format!(
                "{} (after {} bytes) — the rest of it was not scanned",
                describe_error(&error),
                outcome.bytes
            ),
        );
    }
    let length = outcome.bytes;
    let candidates = detector.finish();
    let covered = if at_depth_limit {
        carve::too_deep_to_follow(walk, chain, &candidates, depth);
        carve::Covered::default()
    } else {
        follow_candidates(walk, chain, candidates, reopen, kept, length, depth, buffer)
    };
    let mut covered = covered;
    covered.ranges.extend(decode::follow(
        walk, chain, layers, &shadowing, depth, buffer,
    ));
    if kind == Kind::Plain {
        let regions = meter.regions();
        if !regions.is_empty() {
            covered.ranges.extend(binary_tables(reopen, length));
        }
        // Back at this leaf: its opaque gap is about its own bytes, not the carved stream
        // or decoded run read last (which a gap's reason would otherwise name).
        walk.entering(chain);
        opaque::account(walk, chain, regions, &covered);
    }
}

/// Ranges of an executable's linker tables (see [`super::elf_tables`]), where the bytes
/// can be read again; only asked when a leaf has high-entropy regions.
fn binary_tables(reopen: Reopen, length: u64) -> Vec<(u64, u64)> {
    match reopen {
        Reopen::Memory(bytes) => super::elf_tables::table_ranges_of(bytes),
        Reopen::File(file, size) => {
            super::elf_tables::table_ranges_of_file(file, size.unwrap_or(length).min(length))
        }
        Reopen::None => Vec::new(),
    }
}

/// Set (to anything) in the environment, leaves carving, decode layers and the entropy meter
/// out of every leaf, so a benchmark can measure what they cost against the bare scan
/// (`benches/run.py`, the `layers` row). Never for real scans: every leaf read that way is
/// an `unsupported` gap, so such a scan can only say `found` or `incomplete`.
const LAYERS_OFF_FOR_BENCHMARK: &str = "SCOUR_BENCH_NO_LAYERS";

fn layers_off_for_benchmark() -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OFF.get_or_init(|| std::env::var_os(LAYERS_OFF_FOR_BENCHMARK).is_some())
}

/// Reads every carving candidate again from its offset, from wherever the bytes can be had.
#[allow(clippy::too_many_arguments)]
fn follow_candidates(
    walk: &Walk,
    chain: &[String],
    candidates: Vec<carve::Candidate>,
    reopen: Reopen,
    kept: Kept,
    length: u64,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> carve::Covered {
    match reopen {
        Reopen::Memory(bytes) => carve::follow(
            walk,
            chain,
            candidates,
            &carve::Bytes::memory(bytes, 0),
            depth,
            buffer,
        ),
        Reopen::File(file, size) => {
            let source = carve::Bytes::file(file, size.unwrap_or(length).min(length));
            carve::follow(walk, chain, candidates, &source, depth, buffer)
        }
        Reopen::None => match kept.finish() {
            Ok((start, bytes)) => {
                let source = carve::Bytes::memory(&bytes, start);
                carve::follow(walk, chain, candidates, &source, depth, buffer)
            }
            Err(first) => {
                carve::too_large_to_follow(walk, chain, &candidates, first);
                carve::Covered::default()
            }
        },
    }
}

/// A copy of a once-only stream from its first carving candidate on.
struct Kept {
    enabled: bool,
    start: Option<u64>,
    position: u64,
    bytes: Vec<u8>,
    /// The last bytes seen, for a candidate whose signature began in the previous chunk.
    tail: Vec<u8>,
    overflowed: bool,
}

impl Kept {
    fn new(enabled: bool) -> Kept {
        Kept {
            enabled,
            start: None,
            position: 0,
            bytes: Vec::new(),
            tail: Vec::new(),
            overflowed: false,
        }
    }

    /// Sees the next `chunk`; `first` is the offset of the first candidate met so far.
    fn feed(&mut self, chunk: &[u8], first: Option<u64>) {
        if !self.enabled || self.overflowed {
            return;
        }
        let chunk_start = self.position;
        self.position += chunk.len() as u64;
        match (self.start, first) {
            (Some(_), _) => self.bytes.extend_from_slice(chunk),
            (None, Some(first)) if first < chunk_start => {
                let back = ((chunk_start - first) as usize).min(self.tail.len());
                self.start = Some(chunk_start - back as u64);
                self.bytes
                    .extend_from_slice(&self.tail[self.tail.len() - back..]);
                self.bytes.extend_from_slice(chunk);
            }
            (None, Some(first)) => {
                let skip = ((first - chunk_start) as usize).min(chunk.len());
                self.start = Some(first);
                self.bytes.extend_from_slice(&chunk[skip..]);
            }
            (None, None) => {
                let keep = carve::LONGEST_SIGNATURE;
                if chunk.len() >= keep {
                    self.tail.clear();
                    self.tail.extend_from_slice(&chunk[chunk.len() - keep..]);
                } else {
                    self.tail.extend_from_slice(chunk);
                    let excess = self.tail.len().saturating_sub(keep);
                    self.tail.drain(..excess);
                }
            }
        }
        if self.bytes.len() > KEPT_BYTES {
            self.overflowed = true;
            self.bytes = Vec::new();
        }
    }

    /// The copy and the offset it starts at, or the first candidate's offset if the copy
    /// grew too large to keep.
    fn finish(self) -> Result<(u64, Vec<u8>), u64> {
        match (self.overflowed, self.start) {
            (true, start) => Err(start.unwrap_or(0)),
            (false, start) => Ok((start.unwrap_or(0), self.bytes)),
        }
    }
}
