//! Line and column numbers for matches, counted only as far as a stream has been read.

use super::Hit;

/// Newlines seen in the part of a stream that has already left the window.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineTracker {
    newlines: u64,
    /// Stream offset of the last newline seen, if any.
    last_newline: Option<u64>,
}

impl LineTracker {
    /// Accounts for `bytes`, which start at stream offset `at`, before they are discarded.
    pub(crate) fn advance(&mut self, bytes: &[u8], at: u64) {
        self.newlines += bytecount::count(bytes, b'\n') as u64;
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            self.last_newline = Some(at + last as u64);
        }
    }

    /// Turns `(start in window, pattern)` pairs into hits with lines and columns;
    /// `window` starts at stream offset `at` and follows everything already advanced over.
    pub(crate) fn locate(
        &self,
        window: &[u8],
        at: u64,
        located: Vec<(usize, usize)>,
        pattern_len: impl Fn(usize) -> usize,
    ) -> Vec<Hit> {
        let pending = located
            .into_iter()
            .map(|(start, pattern)| Hit {
                pattern,
                offset: start as u64,
                len: pattern_len(pattern) as u64,
                line: 0,
                column: 0,
                ledger: None,
            })
            .collect();
        self.locate_hits(window, at, pending)
    }

    /// Fills in stream offset, line and column of hits whose `offset` is still the start in
    /// `window`.
    pub(crate) fn locate_hits(&self, window: &[u8], at: u64, mut pending: Vec<Hit>) -> Vec<Hit> {
        pending.sort_by_key(|hit| (hit.offset, hit.pattern));
        let mut running = *self;
        let mut counted_to = 0;
        for hit in &mut pending {
            let start = hit.offset as usize;
            running.advance(&window[counted_to..start], at + counted_to as u64);
            counted_to = start;
            hit.offset = at + start as u64;
            hit.line = running.newlines + 1;
            hit.column = hit.offset - running.last_newline.map_or(0, |n| n + 1) + 1;
        }
        pending
    }
}
