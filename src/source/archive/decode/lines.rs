//! The line splitter shared by the run-finders that read whole lines (hex dumps,
//! quoted-printable, container logs, backslash, percent and character-reference escapes,
//! YAML folding, uuencode, git binary patches).
//!
//! Each of them needs the same bookkeeping: the bytes of the current line across reads, the
//! offset it starts at, the offset after its newline, and where a line too long to hold is
//! cut into pieces.
//! [`Lines`] does that once for all of them, so a leaf's bytes are copied into one line
//! buffer, not one per finder, and each [`LineFinder`] only says what a line means to it.

use super::{RunFinder, Sink};

/// Longest piece of a line handed on at once. A longer line (minified JSON or a bundle, a
/// log line with a whole document in it) is handed on in pieces of this size that overlap
/// by [`OVERLAP`], so no byte of it goes unseen and an encoded run shorter than the overlap
/// that straddles a cut is whole in the next piece. Every line format read here is far
/// shorter (dump lines, 76-column QP and base85, docker's 16 KiB log entries), and each
/// finder that reads lines of a bounded length sees a piece as a line too long for it.
pub(crate) const MAX_LINE: usize = 1 << 20;
/// Bytes a piece of a long line repeats of the piece before it.
pub(crate) const OVERLAP: usize = 64 << 10;

/// One line, or one piece of a line longer than [`MAX_LINE`], handed to a [`LineFinder`].
pub(crate) struct Line<'a> {
    /// The line without its `\n` (a `\r` before it is kept), or the piece.
    pub text: &'a [u8],
    /// Offset of its first byte in the leaf.
    pub start: u64,
    /// Offset just past its newline (or the end of the leaf, or of the piece).
    pub end: u64,
    /// Leading bytes that repeat the end of the piece before it (0 unless this is a later
    /// piece of a long line). A finder carrying a block across the cut reads on from
    /// `text[repeated..]`; one that starts afresh reads the whole text.
    pub repeated: usize,
    /// The line goes on past this piece: the next [`Line`] is its next piece.
    pub cut: bool,
}

impl<'a> Line<'a> {
    /// The text if it is a whole line of at most `max` bytes.
    pub(crate) fn within(&self, max: usize) -> Option<&'a [u8]> {
        let whole = !self.cut && self.repeated == 0;
        (whole && self.text.len() <= max).then_some(self.text)
    }
}

/// A run-finder that reads a leaf line by line.
pub(crate) trait LineFinder {
    fn line(&mut self, line: &Line, sink: &mut Sink);
    /// A byte without which no line can start anything for this finder (the `\` of every
    /// backslash escape). While the finder is [`idle`](LineFinder::idle), the lines of a
    /// read that holds no such byte anywhere are not handed to it: one vectorised search
    /// per read instead of a look at every line.
    fn wake_byte(&self) -> Option<u8> {
        None
    }
    /// The finder carries nothing from one line to the next.
    fn idle(&self) -> bool {
        false
    }
    /// The leaf ended at `end` (after its last line).
    fn finish(&mut self, end: u64, sink: &mut Sink);
}

/// Splits a leaf into lines for every [`LineFinder`].
pub(crate) struct Lines {
    finders: Vec<Box<dyn LineFinder>>,
    line: Vec<u8>,
    line_start: u64,
    position: u64,
    /// Bytes at the start of `line` that the previous piece already handed on.
    repeated: usize,
    /// Per finder: whether the current read holds its wake byte.
    awake: Vec<bool>,
    /// Offset of the current read's first byte: a line that starts before it has bytes the
    /// wake search did not see.
    read_start: u64,
}

impl Lines {
    pub(crate) fn new(finders: Vec<Box<dyn LineFinder>>) -> Lines {
        Lines {
            finders,
            line: Vec::new(),
            line_start: 0,
            position: 0,
            repeated: 0,
            awake: Vec::new(),
            read_start: 0,
        }
    }

    fn hand_on(&mut self, end: u64, cut: bool, sink: &mut Sink) {
        let line = Line {
            text: &self.line,
            start: self.line_start,
            end,
            repeated: self.repeated,
            cut,
        };
        let seen_whole = line.start >= self.read_start;
        for (finder, &awake) in self.finders.iter_mut().zip(&self.awake) {
            if awake || !seen_whole || !finder.idle() {
                finder.line(&line, sink);
            }
        }
    }

    fn end_line(&mut self, sink: &mut Sink) {
        self.hand_on(self.position, false, sink);
        self.line.clear();
        self.repeated = 0;
        self.line_start = self.position;
    }

    /// The line buffer is full: hand it on as a piece and keep its last [`OVERLAP`] bytes
    /// as the start of the next one.
    fn cut_line(&mut self, sink: &mut Sink) {
        let end = self.line_start + self.line.len() as u64;
        self.hand_on(end, true, sink);
        let keep_from = self.line.len() - OVERLAP;
        self.line.drain(..keep_from);
        self.line_start += keep_from as u64;
        self.repeated = OVERLAP;
    }
}

impl RunFinder for Lines {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        self.read_start = at;
        self.awake.clear();
        self.awake.extend(self.finders.iter().map(|finder| {
            finder
                .wake_byte()
                .is_none_or(|byte| memchr::memchr(byte, bytes).is_some())
        }));
        let mut rest = bytes;
        let mut offset = at;
        while !rest.is_empty() {
            let (mut piece, newline) = match memchr::memchr(b'\n', rest) {
                Some(end) => (&rest[..end], true),
                None => (rest, false),
            };
            let mut used = usize::from(newline);
            while self.line.len() + piece.len() > MAX_LINE {
                let room = MAX_LINE - self.line.len();
                self.line.extend_from_slice(&piece[..room]);
                piece = &piece[room..];
                used += room;
                offset += room as u64;
                self.position = offset;
                self.cut_line(sink);
            }
            self.line.extend_from_slice(piece);
            used += piece.len();
            offset += (piece.len() + usize::from(newline)) as u64;
            self.position = offset;
            rest = &rest[used..];
            if newline {
                self.end_line(sink);
            }
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        self.awake.clear();
        self.awake.resize(self.finders.len(), true);
        if self.line.len() > self.repeated {
            self.end_line(sink);
        }
        for finder in &mut self.finders {
            finder.finish(self.position, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;
    use super::{MAX_LINE, OVERLAP};

    const SECRET: &[u8] = b"Vq8-Lm3Rt9ZpXw2Kd7sNf4";

    /// Percent-encoded twice (`%2541`): no automaton variant, only the decode layer sees it.
    fn percent_twice(bytes: &[u8]) -> Vec<u8> {
        bytes
            .iter()
            .flat_map(|b| format!("%25{b:02X}").into_bytes())
            .collect()
    }

    fn ascii85(bytes: &[u8]) -> Vec<u8> {
        let mut out = b"<~".to_vec();
        for group in bytes.chunks(4) {
            let mut word = [0u8; 4];
            word[..group.len()].copy_from_slice(group);
            let mut value = u32::from_be_bytes(word);
            let mut digits = [0u8; 5];
            for digit in digits.iter_mut().rev() {
                *digit = b'!' + (value % 85) as u8;
                value /= 85;
            }
            out.extend_from_slice(&digits[..group.len() + 1]);
        }
        out.extend_from_slice(b"~>");
        out
    }

    /// One line of `len` filler bytes with `plant` starting at `at`.
    fn long_line(len: usize, at: usize, plant: &[u8]) -> Vec<u8> {
        let mut line = vec![b'q'; at];
        line.extend_from_slice(plant);
        line.resize(len.max(line.len()), b'q');
        line.push(b'\n');
        line
    }

    fn found_once(line: &[u8], layer: &str) {
        assert!(memchr::memmem::find(line, SECRET).is_none());
        let scanned = scan_memory(SECRET, "bundle.min.js", line);
        let places = scanned.places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(places[0].0.contains(layer), "{places:?}");
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    #[test]
    fn an_escaped_run_deep_in_a_line_of_megabytes_is_decoded() {
        let plant = percent_twice(SECRET);
        found_once(
            &long_line(3 * MAX_LINE, 5 * MAX_LINE / 2, &plant),
            "percent@",
        );
    }

    #[test]
    fn an_escaped_run_across_the_cut_of_a_long_line_is_found_once() {
        let plant = percent_twice(SECRET);
        let at = MAX_LINE - plant.len() / 2;
        found_once(&long_line(2 * MAX_LINE, at, &plant), "percent@");
        // In the bytes the next piece repeats, wholly: still one finding.
        let at = MAX_LINE - OVERLAP / 2;
        found_once(&long_line(2 * MAX_LINE, at, &plant), "percent@");
    }

    #[test]
    fn an_ascii85_block_across_the_cut_of_a_long_line_is_read_on() {
        let mut text = vec![b'.'; 3000];
        text.extend_from_slice(SECRET);
        text.extend_from_slice(&[b'.'; 3000]);
        let plant = ascii85(&text);
        let at = MAX_LINE - plant.len() / 2 - SECRET.len();
        found_once(&long_line(2 * MAX_LINE, at, &plant), "ascii85@");
    }
}
