//! Undelimited base85 words: RFC 1924 (Python's `base64.b85encode`, Mercurial, git's
//! alphabet) and ZeroMQ's Z85.
//!
//! These alphabets hold most printable characters, so a line is cut into words at blanks and
//! at the four characters neither uses (`"`, `'`, `,`, `\`), and a word is taken for base85
//! only if it is long (at least [`MIN_CHARS`], and enough to decode to the shortest
//! pattern), fits the alphabet (Z85 also needs whole groups of five), and mixes upper case,
//! lower case, digits and punctuation as encoded bytes do (a path, a URL or a word does
//! not). The words of a leaf decoded with one alphabet go through the pipeline as one run,
//! so minified code with many such words costs one inspection, not one per word.

use super::base85::{decode, RFC1924_DIGITS, Z85_DIGITS};
use super::lines::{Line, LineFinder};
use super::wake::{Atom, Wake};
use super::{DecodedRun, Sink};

/// Fewest characters of a word (16 decoded bytes).
const MIN_CHARS: usize = 20;
/// Decoded bytes after which the run is handed on and a new one begun.
const GROUP: usize = 1 << 20;

struct Run {
    start: u64,
    end: u64,
    bytes: Vec<u8>,
}

pub(crate) struct Base85Words {
    min_chars: usize,
    /// A word is a run of at least `min_chars` graphic bytes.
    wake: [Atom; 1],
    rfc1924: Option<Run>,
    z85: Option<Run>,
}

fn is_separator(byte: u8) -> bool {
    !byte.is_ascii_graphic() || matches!(byte, b'"' | b'\'' | b',' | b'\\')
}

/// Whether a word mixes character classes as encoded bytes do.
fn looks_encoded(word: &[u8]) -> bool {
    let (mut upper, mut lower, mut digit, mut punct) = (0, 0, 0, 0);
    for &b in word {
        match b {
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            b'0'..=b'9' => digit += 1,
            _ => punct += 1,
        }
    }
    upper > 0 && lower > 0 && digit > 0 && punct >= 2 && punct * 12 >= word.len()
}

fn add(run: &mut Option<Run>, start: u64, end: u64, word: &[u8], table: &[u8; 256]) {
    let run = run.get_or_insert_with(|| Run {
        start,
        end,
        bytes: Vec::new(),
    });
    let before = run.bytes.len();
    if decode(word, table, &mut run.bytes).is_none() {
        run.bytes.truncate(before);
        return;
    }
    run.bytes.push(b'\n');
    run.end = end;
}

fn emit(run: &mut Option<Run>, encoding: &'static str, sink: &mut Sink) {
    if let Some(run) = run.take() {
        sink.offer(DecodedRun {
            encoding,
            offset: run.start,
            encoded_len: run.end - run.start,
            bytes: run.bytes,
            truncated: false,
            map: Vec::new(),
        });
    }
}

impl Base85Words {
    pub(crate) fn new(min_decoded: usize) -> Base85Words {
        Base85Words {
            min_chars: MIN_CHARS.max((min_decoded * 5).div_ceil(4)),
            wake: [Atom::GraphicRun(
                MIN_CHARS.max((min_decoded * 5).div_ceil(4)),
            )],
            rfc1924: None,
            z85: None,
        }
    }
}

impl LineFinder for Base85Words {
    /// Words are read one line at a time: nothing carries from line to line.
    fn atoms(&self) -> &[Atom] {
        &self.wake
    }

    fn wake(&self) -> Wake {
        Wake::Atoms
    }

    fn line(&mut self, line: &Line, sink: &mut Sink) {
        let text = line.text;
        if text.len() < self.min_chars {
            return;
        }
        // A word is at least `min_chars` long: look at the last byte of the next window of
        // that length first, and from a separator jump past it (prose and logs are short
        // words, so most bytes are never looked at).
        let window = self.min_chars;
        let mut from = 0;
        while from + window <= text.len() {
            match text[from..from + window]
                .iter()
                .rposition(|&b| is_separator(b))
            {
                Some(separator) => from += separator + 1,
                None => {
                    let len = text[from..]
                        .iter()
                        .take_while(|&&b| !is_separator(b))
                        .count();
                    let end = from + len;
                    // Across the cut of a long line: a word running into the cut is read
                    // whole in the next piece, and one that ends in the bytes the piece
                    // repeats was read whole in the piece before.
                    let at_cut = line.cut && end == text.len();
                    let read_before = end < line.repeated;
                    if !at_cut && !read_before {
                        self.word(&text[from..end], line.start + from as u64);
                    }
                    from = end + 1;
                }
            }
        }
        if self
            .rfc1924
            .as_ref()
            .is_some_and(|run| run.bytes.len() >= GROUP)
        {
            emit(&mut self.rfc1924, "base85", sink);
        }
        if self
            .z85
            .as_ref()
            .is_some_and(|run| run.bytes.len() >= GROUP)
        {
            emit(&mut self.z85, "z85", sink);
        }
    }

    fn finish(&mut self, _end: u64, sink: &mut Sink) {
        emit(&mut self.rfc1924, "base85", sink);
        emit(&mut self.z85, "z85", sink);
    }
}

impl Base85Words {
    /// A word at least `min_chars` long, starting at leaf offset `start`.
    fn word(&mut self, word: &[u8], start: u64) {
        let end = start + word.len() as u64;
        if !looks_encoded(word) {
            return;
        }
        let len = word.len();
        if word.iter().all(|&b| RFC1924_DIGITS[b as usize] != 255) && len % 5 != 1 {
            add(&mut self.rfc1924, start, end, word, &RFC1924_DIGITS);
        }
        if len.is_multiple_of(5) && word.iter().all(|&b| Z85_DIGITS[b as usize] != 255) {
            add(&mut self.z85, start, end, word, &Z85_DIGITS);
        }
    }
}
