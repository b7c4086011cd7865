//! The line splitter shared by the run-finders that read whole lines (hex dumps,
//! quoted-printable, container logs, backslash, percent and character-reference escapes,
//! YAML folding, uuencode, git binary patches).
//!
//! Each of them needs the same bookkeeping: the bytes of the current line across reads, the
//! offset it starts at, the offset after its newline, and whether it was too long to keep.
//! [`Lines`] does that once for all of them, so a leaf's bytes are copied into one line
//! buffer, not one per finder, and each [`LineFinder`] only says what a line means to it.

use super::{RunFinder, Sink};

/// Longest line kept; a longer one is passed on as overlong (its bytes unseen). Every line
/// format read here is far shorter (dump lines, 76-column QP and base85, docker's 16 KiB
/// log entries); long single lines of escaped text are also forward-matched by the
/// automaton.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// One line handed to a [`LineFinder`].
pub(crate) struct Line<'a> {
    /// The line without its `\n` (a `\r` before it is kept); `None` if it was longer than
    /// [`MAX_LINE`].
    pub text: Option<&'a [u8]>,
    /// Offset of its first byte in the leaf.
    pub start: u64,
    /// Offset just past its newline (or the end of the leaf).
    pub end: u64,
}

impl Line<'_> {
    /// The text if it is at most `max` bytes long.
    pub(crate) fn within(&self, max: usize) -> Option<&[u8]> {
        self.text.filter(|text| text.len() <= max)
    }
}

/// A run-finder that reads a leaf line by line.
pub(crate) trait LineFinder {
    fn line(&mut self, line: &Line, sink: &mut Sink);
    /// The leaf ended at `end` (after its last line).
    fn finish(&mut self, end: u64, sink: &mut Sink);
}

/// Splits a leaf into lines for every [`LineFinder`].
pub(crate) struct Lines {
    finders: Vec<Box<dyn LineFinder>>,
    line: Vec<u8>,
    line_start: u64,
    position: u64,
    overlong: bool,
}

impl Lines {
    pub(crate) fn new(finders: Vec<Box<dyn LineFinder>>) -> Lines {
        Lines {
            finders,
            line: Vec::new(),
            line_start: 0,
            position: 0,
            overlong: false,
        }
    }

    fn end_line(&mut self, sink: &mut Sink) {
        let line = Line {
            text: (!self.overlong).then_some(&self.line[..]),
            start: self.line_start,
            end: self.position,
        };
        for finder in &mut self.finders {
            finder.line(&line, sink);
        }
        self.overlong = false;
        self.line.clear();
        self.line_start = self.position;
    }
}

impl RunFinder for Lines {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        let mut rest = bytes;
        let mut offset = at;
        while !rest.is_empty() {
            let (piece, newline) = match memchr::memchr(b'\n', rest) {
                Some(end) => (&rest[..end], true),
                None => (rest, false),
            };
            if !self.overlong {
                if self.line.len() + piece.len() > MAX_LINE {
                    self.overlong = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(piece);
                }
            }
            let used = piece.len() + usize::from(newline);
            offset += used as u64;
            self.position = offset;
            rest = &rest[used..];
            if newline {
                self.end_line(sink);
            }
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        if !self.line.is_empty() || self.overlong {
            self.end_line(sink);
        }
        for finder in &mut self.finders {
            finder.finish(self.position, sink);
        }
    }
}
