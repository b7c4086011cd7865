//! The line splitter shared by the run-finders that read whole lines (hex dumps,
//! quoted-printable, container logs, backslash, percent and character-reference escapes,
//! YAML folding, uuencode, git binary patches).
//!
//! Each of them needs the same bookkeeping: the bytes of the current line across reads, the
//! offset it starts at, the offset after its newline, and where a line too long to hold is
//! cut into pieces.
//! [`Lines`] does that once for all of them, and each [`LineFinder`] only says what a line
//! means to it. Most lines mean nothing to any finder: while none is inside a block, the
//! lines before the next one that holds a finder's wake atom ([`super::wake`]) are passed
//! over, neither copied nor split, and a line is handed only to the finders it wakes.

use super::wake::{Atom, Slot, Wake};
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
    /// What a line must hold for the finder to start anything on it (see [`super::wake`]);
    /// the same for the finder's whole life.
    fn atoms(&self) -> &[Atom] {
        &[]
    }
    /// Which lines the finder needs to see now: every line while it is inside a block,
    /// otherwise only those holding one of its atoms. The default, every line, is always
    /// correct and never fast.
    fn wake(&self) -> Wake {
        Wake::Always
    }
    /// The leaf ended at `end` (after its last line).
    fn finish(&mut self, end: u64, sink: &mut Sink);
}

/// Where a slot next occurs in the current read, as last looked up.
#[derive(Clone, Copy)]
struct Cached {
    /// The search started here (`usize::MAX`: not searched in this read).
    from: usize,
    next: Option<usize>,
}

const NOT_SEARCHED: Cached = Cached {
    from: usize::MAX,
    next: None,
};

impl Cached {
    /// Whether the lookup still answers for a search from `pos`.
    fn answers(&self, pos: usize) -> bool {
        self.from <= pos && self.next.is_none_or(|next| next >= pos)
    }
}

/// The slots the splitter searches each read for, and which of them wake which finder.
struct Triggers {
    slots: Vec<Slot>,
    /// Per slot: where it next occurs in the current read.
    cache: Vec<Cached>,
    /// Per finder: indices into `slots`.
    of_finder: Vec<Vec<usize>>,
}

impl Triggers {
    fn new(finders: &[Box<dyn LineFinder>]) -> Triggers {
        let mut slots = Vec::new();
        let of_finder = finders
            .iter()
            .map(|finder| {
                let mut mine: Vec<usize> = Vec::new();
                for &atom in finder.atoms() {
                    let slot = Slot::of(atom);
                    let index = slots.iter().position(|&s| s == slot).unwrap_or_else(|| {
                        slots.push(slot);
                        slots.len() - 1
                    });
                    if !mine.contains(&index) {
                        mine.push(index);
                    }
                }
                mine
            })
            .collect();
        Triggers {
            cache: vec![NOT_SEARCHED; slots.len()],
            slots,
            of_finder,
        }
    }

    fn new_read(&mut self) {
        self.cache.fill(NOT_SEARCHED);
    }

    /// Offset in `bytes` of the first line at or after `pos` that could wake finder
    /// `index`. Each slot is searched forward only: over one read, every slot costs one
    /// pass, however many lines it wakes.
    fn next_wake(
        &mut self,
        finder: &dyn LineFinder,
        index: usize,
        bytes: &[u8],
        pos: usize,
    ) -> Option<usize> {
        match finder.wake() {
            Wake::Always => Some(pos),
            Wake::Never => None,
            Wake::Atoms => self.of_finder[index]
                .iter()
                .filter_map(|&slot| {
                    let cached = &mut self.cache[slot];
                    if !cached.answers(pos) {
                        *cached = Cached {
                            from: pos,
                            next: self.slots[slot].next(bytes, pos),
                        };
                    }
                    cached.next
                })
                .min(),
        }
    }
}

/// Splits a leaf into lines for every [`LineFinder`].
pub(crate) struct Lines {
    finders: Vec<Box<dyn LineFinder>>,
    triggers: Triggers,
    line: Vec<u8>,
    line_start: u64,
    position: u64,
    /// Bytes at the start of `line` that the previous piece already handed on.
    repeated: usize,
}

/// The current read, for waking finders by what the lines of it hold.
struct Read<'a> {
    bytes: &'a [u8],
    /// Leaf offset of `bytes[0]`.
    at: u64,
}

impl Lines {
    pub(crate) fn new(finders: Vec<Box<dyn LineFinder>>) -> Lines {
        Lines {
            triggers: Triggers::new(&finders),
            finders,
            line: Vec::new(),
            line_start: 0,
            position: 0,
            repeated: 0,
        }
    }

    /// Hands the current line (or piece) on: to every finder when `read` is `None` (the
    /// line was not wholly in this read, or the leaf ended), otherwise to the finders that
    /// are inside a block or have an atom in the line.
    fn hand_on(&mut self, end: u64, cut: bool, read: Option<&Read>, sink: &mut Sink) {
        let line = Line {
            text: &self.line,
            start: self.line_start,
            end,
            repeated: self.repeated,
            cut,
        };
        for (index, finder) in self.finders.iter_mut().enumerate() {
            let awake = read.is_none_or(|read| {
                let first = (line.start - read.at) as usize;
                let last = first + line.text.len();
                self.triggers
                    .next_wake(finder.as_ref(), index, read.bytes, first)
                    .is_some_and(|at| at <= last)
            });
            if awake {
                finder.line(&line, sink);
            }
        }
    }

    fn end_line(&mut self, read: Option<&Read>, sink: &mut Sink) {
        let whole_in_read = read.filter(|read| self.line_start >= read.at && self.repeated == 0);
        self.hand_on(self.position, false, whole_in_read, sink);
        self.line.clear();
        self.repeated = 0;
        self.line_start = self.position;
    }

    /// The line buffer is full: hand it on as a piece and keep its last [`OVERLAP`] bytes
    /// as the start of the next one.
    fn cut_line(&mut self, sink: &mut Sink) {
        let end = self.line_start + self.line.len() as u64;
        self.hand_on(end, true, None, sink);
        let keep_from = self.line.len() - OVERLAP;
        self.line.drain(..keep_from);
        self.line_start += keep_from as u64;
        self.repeated = OVERLAP;
    }

    /// Reads the line at `pos` (to its newline or the end of the read) and hands it on if it
    /// ends here; returns the offset after it.
    fn take_line(&mut self, read: &Read, pos: usize, sink: &mut Sink) -> usize {
        let rest = &read.bytes[pos..];
        let (mut piece, newline) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], true),
            None => (rest, false),
        };
        let mut offset = read.at + pos as u64;
        while self.line.len() + piece.len() > MAX_LINE {
            let room = MAX_LINE - self.line.len();
            self.line.extend_from_slice(&piece[..room]);
            piece = &piece[room..];
            offset += room as u64;
            self.position = offset;
            self.cut_line(sink);
        }
        self.line.extend_from_slice(piece);
        offset += (piece.len() + usize::from(newline)) as u64;
        self.position = offset;
        if newline {
            self.end_line(Some(read), sink);
        }
        (offset - read.at) as usize
    }

    /// No finder is inside a block: where the next line starts that wakes any of them, or
    /// where the read's last (unfinished) line starts if none does.
    fn next_woken_line(&mut self, read: &Read, pos: usize) -> usize {
        let triggers = &mut self.triggers;
        let woken = self
            .finders
            .iter()
            .enumerate()
            .filter_map(|(index, finder)| {
                triggers.next_wake(finder.as_ref(), index, read.bytes, pos)
            })
            .min();
        let before = &read.bytes[pos..woken.unwrap_or(read.bytes.len())];
        memchr::memrchr(b'\n', before).map_or(pos, |newline| pos + newline + 1)
    }

    fn all_waiting(&self) -> bool {
        self.finders
            .iter()
            .all(|finder| !matches!(finder.wake(), Wake::Always))
    }
}

impl RunFinder for Lines {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        self.triggers.new_read();
        let read = Read { bytes, at };
        let mut pos = 0;
        while pos < bytes.len() {
            let at_line_start = self.line.is_empty() && self.line_start == at + pos as u64;
            if at_line_start && self.all_waiting() {
                // Lines before the next one that wakes a finder would change nothing for
                // any: they are passed over unsplit.
                pos = self.next_woken_line(&read, pos);
                self.line_start = at + pos as u64;
                self.position = self.line_start;
                if pos == bytes.len() {
                    break;
                }
            }
            pos = self.take_line(&read, pos, sink);
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        if self.line.len() > self.repeated {
            self.end_line(None, sink);
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

    fn uuencode(bytes: &[u8]) -> Vec<u8> {
        let digit = |v: u8| if v == 0 { b'`' } else { v + 32 };
        let mut out = b"begin 644 token.txt\n".to_vec();
        for line in bytes.chunks(45) {
            out.push(digit(line.len() as u8));
            for group in line.chunks(3) {
                let mut three = [0u8; 3];
                three[..group.len()].copy_from_slice(group);
                let v = u32::from_be_bytes([0, three[0], three[1], three[2]]);
                for shift in [18, 12, 6, 0] {
                    out.push(digit(((v >> shift) & 63) as u8));
                }
            }
            out.push(b'\n');
        }
        out.extend_from_slice(b"`\nend\n");
        out
    }

    fn xxd(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (row, line) in bytes.chunks(16).enumerate() {
            out.extend_from_slice(format!("{:08x}: ", row * 16).as_bytes());
            for pair in line.chunks(2) {
                for byte in pair {
                    out.extend_from_slice(format!("{byte:02x}").as_bytes());
                }
                out.push(b' ');
            }
            out.extend_from_slice(b" ................\n");
        }
        out
    }

    /// Megabytes of prose and binary (which the splitter passes over unsplit), with a
    /// block for each line finder that wakes on atoms: at the start of a read, across a
    /// read's end and deep inside one. Each block must still be decoded, once.
    #[test]
    fn lines_passed_over_unsplit_still_wake_every_finder_that_needs_them() {
        let mut text = b"name: web\ntoken: ".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\nregion: eu\n");
        let mut quoted = b"token=3D".to_vec();
        quoted.extend_from_slice(&SECRET[..9]);
        quoted.extend_from_slice(b"=\n");
        quoted.extend_from_slice(&SECRET[9..]);
        quoted.push(b'\n');
        let mut cri = b"2024-05-01T10:00:00.123456789Z stdout P key=".to_vec();
        cri.extend_from_slice(&SECRET[..11]);
        cri.extend_from_slice(b"\n2024-05-01T10:00:00.123456790Z stdout F ");
        cri.extend_from_slice(&SECRET[11..]);
        cri.push(b'\n');
        let mut percent = b"q=".to_vec();
        percent.extend_from_slice(&percent_twice(SECRET));
        percent.push(b'\n');
        let mut a85 = ascii85(&text);
        a85.push(b'\n');
        let plants: Vec<(&str, Vec<u8>)> = vec![
            ("quoted-printable@", quoted),
            ("uuencode@", uuencode(&text)),
            ("hexdump@", xxd(&text)),
            ("percent@", percent),
            ("ascii85@", a85),
            ("container-log@", cri),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut filler = |out: &mut Vec<u8>, len: usize| {
            let end = out.len() + len;
            while out.len() < end {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if seed.is_multiple_of(3) {
                    out.extend_from_slice(b"the build finished in 42 s; see the log for more\n");
                } else {
                    out.extend_from_slice(&seed.to_le_bytes());
                }
            }
        };
        for placement in 0..3 {
            let mut leaf = Vec::new();
            for (_, plant) in &plants {
                filler(&mut leaf, 300_000);
                // Start a read with the block, end one inside it, or leave it mid-read.
                let to_boundary = (leaf.len() / (64 << 10) + 1) * (64 << 10) - leaf.len();
                match placement {
                    0 => filler(&mut leaf, to_boundary),
                    1 => filler(&mut leaf, to_boundary.saturating_sub(plant.len() / 2)),
                    _ => {}
                }
                leaf.push(b'\n');
                leaf.extend_from_slice(plant);
            }
            filler(&mut leaf, 100_000);
            assert!(memchr::memmem::find(&leaf, SECRET).is_none());
            let scanned = scan_memory(SECRET, "blob.bin", &leaf);
            let places = scanned.places();
            for (layer, _) in &plants {
                let found = places
                    .iter()
                    .filter(|(chain, _)| chain.contains(layer))
                    .count();
                assert_eq!(found, 1, "placement {placement}, {layer}: {places:?}");
            }
        }
    }
}
