//! Scanning a stream of any length through one reusable, fixed-size window.
//!
//! The window holds the tail of the previous read (long enough for the longest pattern and
//! its edge context) followed by fresh bytes. A match is reported by the window in which it
//! starts between `floor` and `cut`; the next window begins exactly `Edges::CONTEXT` bytes
//! before the previous `cut`, so every match is seen whole exactly once, however the reads
//! fall.

use std::io::{ErrorKind, Read};
use std::sync::{Arc, Mutex};

use super::encodings::Edges;
use super::lines::LineTracker;
use super::{Hit, Matcher};

/// Fresh bytes read per window. Large enough that per-read overhead vanishes, small enough
/// to stay in cache-friendly territory and keep memory per thread bounded.
const CHUNK: usize = 1 << 20;

/// A reusable window; one per thread.
#[derive(Default)]
pub struct ScanBuffer {
    bytes: Vec<u8>,
    /// Set while the stream being scanned comes from a reader that leaves bytes out.
    splices: Option<Splices>,
}

impl ScanBuffer {
    pub fn new() -> ScanBuffer {
        ScanBuffer::default()
    }

    /// The next streams scanned through this buffer come from a reader that records in
    /// `splices` where it left bytes out; until [`ScanBuffer::end_splices`].
    pub fn follow_splices(&mut self, splices: Splices) {
        self.splices = Some(splices);
    }

    pub fn end_splices(&mut self) {
        self.splices = None;
    }

    /// Turns the offsets and columns of hits found in a spliced stream back into offsets and
    /// columns of the original stream. Without splices, leaves them as they are.
    pub fn restore_offsets(&self, hits: &mut [Hit]) {
        if let Some(splices) = &self.splices {
            splices.restore(hits);
        }
    }
}

/// Where a reader left runs of bytes out of the stream it hands on (a sparse file's holes,
/// see `source::sparse`). The reader only leaves out bytes that no match can touch, so
/// matching the shorter stream finds exactly the matches of the original; only their
/// offsets and columns need shifting back. Lines need nothing: what is left out holds no
/// newline.
#[derive(Debug, Default, Clone)]
pub struct Splices(Arc<Mutex<Vec<Splice>>>);

#[derive(Debug, Clone, Copy)]
struct Splice {
    /// Offset in the handed-on stream of the first byte after the left-out run.
    at: u64,
    /// Bytes left out up to and including this splice.
    skipped_so_far: u64,
}

impl Splices {
    /// Records that `skipped` bytes were left out just before handed-on offset `at`;
    /// splices must be recorded in stream order.
    pub fn record(&self, at: u64, skipped: u64) {
        let mut list = self.lock();
        let before = list.last().map_or(0, |s| s.skipped_so_far);
        list.push(Splice {
            at,
            skipped_so_far: before + skipped,
        });
    }

    /// All bytes left out so far.
    pub fn skipped(&self) -> u64 {
        self.lock().last().map_or(0, |s| s.skipped_so_far)
    }

    /// The original offset of the byte at handed-on offset `offset`.
    fn original(list: &[Splice], offset: u64) -> u64 {
        let after = list.partition_point(|s| s.at <= offset);
        offset + after.checked_sub(1).map_or(0, |i| list[i].skipped_so_far)
    }

    fn restore(&self, hits: &mut [Hit]) {
        let list = self.lock();
        if list.is_empty() {
            return;
        }
        for hit in hits {
            // The column counts from the line's first byte, which may lie before a splice.
            let line_start = hit.offset + 1 - hit.column;
            let offset = Splices::original(&list, hit.offset);
            hit.column = offset - Splices::original(&list, line_start) + 1;
            hit.offset = offset;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Splice>> {
        // A panic while holding this lock cannot leave the list half-written (one push).
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What scanning one stream produced.
#[derive(Debug)]
pub struct StreamOutcome {
    pub hits: Vec<Hit>,
    /// Bytes read from the stream (all of them unless `error` is set).
    pub bytes: u64,
    /// A read error that ended the scan early; hits before it are still valid.
    pub error: Option<std::io::Error>,
}

pub(super) fn scan(
    matcher: &Matcher,
    mut reader: impl Read,
    buffer: &mut ScanBuffer,
    observe: &mut dyn FnMut(&[u8]),
) -> StreamOutcome {
    let keep = matcher.span_needed();
    let capacity = keep + CHUNK.max(keep * 4);
    if buffer.bytes.len() < capacity {
        buffer.bytes.resize(capacity, 0);
    }
    let buf = &mut buffer.bytes[..capacity];
    let mut outcome = StreamOutcome {
        hits: Vec::new(),
        bytes: 0,
        error: None,
    };
    let mut lines = LineTracker::default();
    let mut window_offset: u64 = 0;
    let mut filled = 0;
    let mut floor = 0;
    loop {
        let mut ended = false;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(n) => {
                    observe(&buf[filled..filled + n]);
                    filled += n;
                    outcome.bytes += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    outcome.error = Some(e);
                    ended = true;
                    break;
                }
            }
        }
        let window = &buf[..filled];
        let cut = if ended {
            filled
        } else {
            filled - keep + Edges::CONTEXT
        };
        let mut located = Vec::new();
        matcher.for_each_match(window, floor..cut, |pattern, start| {
            located.push((start, pattern))
        });
        if !located.is_empty() {
            let hits = lines.locate(window, window_offset, located, |p| matcher.pattern(p).len);
            outcome.hits.extend(hits);
        }
        let candidates = matcher.candidate_hits(window, floor..cut, ended);
        if !candidates.is_empty() {
            outcome
                .hits
                .extend(lines.locate_hits(window, window_offset, candidates));
        }
        if ended {
            // Bytes a splicing reader left out were seen to hold nothing: they count as read.
            outcome.bytes += buffer.splices.as_ref().map_or(0, Splices::skipped);
            return outcome;
        }
        let discard = filled - keep;
        lines.advance(&buf[..discard], window_offset);
        buf.copy_within(discard..filled, 0);
        window_offset += discard as u64;
        filled = keep;
        floor = Edges::CONTEXT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// A reader that hands out at most `step` bytes per call, to force every alignment of a
    /// match against window boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn finds_each_match_once_across_window_boundaries() {
        let secret = Secret::new(b"straddle-me-42".to_vec(), "t").unwrap();
        let matcher = Matcher::new(&[secret]).unwrap();
        let mut data = vec![b'.'; CHUNK * 3];
        let mut expected = Vec::new();
        // Around every window edge, at many phases.
        for boundary in [CHUNK, CHUNK * 2] {
            for delta in [-40i64, -13, -7, -1, 0, 1, 5] {
                let at = (boundary as i64 + delta * 3) as usize;
                if expected.iter().any(|&e: &usize| e.abs_diff(at) < 20) {
                    continue;
                }
                data[at..at + 14].copy_from_slice(b"straddle-me-42");
                expected.push(at);
            }
        }
        data[0..14].copy_from_slice(b"straddle-me-42");
        expected.push(0);
        let end = data.len() - 14;
        data[end..].copy_from_slice(b"straddle-me-42");
        expected.push(end);
        expected.sort_unstable();
        for step in [CHUNK, 4096, 1000, 7] {
            let mut buffer = ScanBuffer::new();
            let mut seen = 0u64;
            let outcome =
                matcher.scan_reader(Trickle { data: &data, step }, &mut buffer, &mut |bytes| {
                    seen += bytes.len() as u64
                });
            let mut offsets: Vec<usize> = outcome.hits.iter().map(|h| h.offset as usize).collect();
            offsets.sort_unstable();
            assert_eq!(offsets, expected, "step {step}");
            assert_eq!(seen, data.len() as u64);
            assert_eq!(outcome.bytes, data.len() as u64);
        }
    }

    #[test]
    fn lines_are_counted_across_windows() {
        let secret = Secret::new(b"line-counted-secret".to_vec(), "t").unwrap();
        let matcher = Matcher::new(&[secret]).unwrap();
        let mut data = Vec::new();
        for _ in 0..200_000 {
            data.extend_from_slice(b"some ordinary log line\n");
        }
        data.extend_from_slice(b"key = line-counted-secret");
        let outcome = matcher.scan_reader(&data[..], &mut ScanBuffer::new(), &mut |_| {});
        assert_eq!(outcome.hits.len(), 1);
        assert_eq!(outcome.hits[0].line, 200_001);
        assert_eq!(outcome.hits[0].column, 7);
    }
}
