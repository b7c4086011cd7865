//! Wake triggers: what lets the line splitter ([`super::lines::Lines`]) pass over lines that
//! no line finder could start anything on, without splitting them.
//!
//! Nearly every line of a leaf is nothing to any line finder: prose, code, log lines and the
//! `\n`-delimited pieces of binary data. Handing each of them to every finder cost more than
//! the rest of the scan together (a call per finder per line, each with its own look). So a
//! finder that is not inside a block says what a line must hold before it can start one,
//! as a few [`Atom`]s (an escape byte in text, a literal, a long run of graphic bytes, a hex-dump offset),
//! and the splitter searches each read for them once, vectorised, and hands a finder only
//! the lines that hold one of its atoms. While a finder is inside a block ([`Wake::Always`])
//! it sees every line.
//!
//! **The contract** a finder keeps when it names atoms: a line holding none of them changes
//! nothing for it (it would have returned without a change of state). Each atom is a
//! necessary condition of the finder's own start test, never a guess.

/// What a line finder needs to see in a line now.
pub(crate) enum Wake {
    /// Every line: the finder is inside a block, or has not yet decided what the leaf is.
    Always,
    /// No line: the finder has ruled the leaf out.
    Never,
    /// Only lines holding at least one of its [`atoms`](super::lines::LineFinder::atoms).
    Atoms,
}

/// One necessary condition for a line to start something.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Atom {
    /// The byte with no control byte near it in its line (see [`text_around`]): an escape
    /// in text. Binary data holds any byte every few hundred bytes, but seldom one amid
    /// [`AROUND`] bytes of text on each side.
    TextByte(u8),
    /// The literal somewhere in the line; one of [`LITERALS`].
    Literal(&'static [u8]),
    /// A run of at least this many graphic ASCII bytes (`!` to `~`): every undelimited
    /// encoded word (base85, Ascii85) is one.
    GraphicRun(usize),
    /// A line that is, after any indentation and but for a `\r` at its end, one run of at
    /// least this many graphic ASCII bytes: a line of a wrapped encoded block.
    WholeLineRun(usize),
    /// A hex-dump offset: at least 4 hex digits and `:` (`xxd`, `curl --trace`), or at
    /// least 6 and a space (`hexdump -C`, `od -A x`).
    DumpOffset,
}

/// Every literal a line finder wakes on, searched for together in one pass (one
/// vectorised multi-literal search, not one pass per literal). A finder that wakes on a new
/// literal adds it here.
pub(crate) const LITERALS: &[&[u8]] = &[
    b"=\n",              // quoted-printable soft break
    b"=\r\n",            // quoted-printable soft break
    b"=hex",             // .reg value
    b"\"log\"",          // docker json-file entry
    b"tdout ",           // CRI entry (` stdout `, named from its second byte)
    b"tderr ",           // CRI entry (` stderr `)
    b"begin ",           // uuencode header
    b"GIT binary patch", // git binary diff
    b"<~",               // Ascii85 block
    b"&#",               // numeric character reference
];

/// What the splitter searches a read for: the distinct atoms of its finders, with every
/// literal in one slot (a line holding any literal goes to every finder that wakes on one;
/// each finder's own test then decides, which is always correct).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Slot {
    Atom(Atom),
    AnyLiteral,
}

impl Slot {
    pub(crate) fn of(atom: Atom) -> Slot {
        match atom {
            Atom::Literal(literal) => {
                debug_assert!(LITERALS.contains(&literal), "{literal:?} not in LITERALS");
                Slot::AnyLiteral
            }
            atom => Slot::Atom(atom),
        }
    }

    /// Offset of the first occurrence at or after `from` in `bytes` (an occurrence lies in
    /// the line that holds the returned offset).
    pub(crate) fn next(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let rest = bytes.get(from..)?;
        let found = match self {
            Slot::AnyLiteral => literals().find(rest).map(|found| found.start()),
            Slot::Atom(Atom::TextByte(byte)) => {
                memchr::memchr_iter(*byte, rest).find(|&at| text_around(rest, at))
            }
            Slot::Atom(Atom::Literal(literal)) => memchr::memmem::find(rest, literal),
            Slot::Atom(Atom::GraphicRun(shortest)) => {
                let shortest = (*shortest).clamp(1, BLOCK);
                let runs = |[graphic]: [u128; 1]| u128::from(runs_at_least(graphic, shortest));
                first_hit(rest, graphic16, runs, |_| true)
            }
            Slot::Atom(Atom::WholeLineRun(shortest)) => {
                let shortest = (*shortest).clamp(1, BLOCK);
                // The line ends of long runs that start a line. A run starts after a
                // newline or a blank (indentation; checked below), or at the window's
                // first byte, where what came before is not known (and the check below
                // measures the whole run). Adding the starts to the run bits carries each
                // start to the byte after its run: a line end there means the run is the
                // rest of its line. Only ends in the window's first block (and the byte
                // after it, which ends a run the next window cannot see start) are taken,
                // so every end is found in the window that has it first.
                let ends = |[graphic, newline, carriage, blank]: [u128; 4]| {
                    let after_break = (newline | blank) << 1;
                    let starts = u128::from(runs_at_least(graphic, shortest))
                        & !(graphic << 1)
                        & after_break
                        | graphic & 1;
                    graphic.wrapping_add(starts)
                        & !graphic
                        & (newline | carriage)
                        & FIRST_BLOCK_AND_ONE
                };
                let whole_line = |end: usize| {
                    let run = rest[..end]
                        .iter()
                        .rev()
                        .take_while(|b| b.is_ascii_graphic())
                        .count();
                    run >= shortest && starts_line(rest, end - run)
                };
                first_hit(rest, line16, ends, whole_line)
            }
            Slot::Atom(Atom::DumpOffset) => {
                let offsets = |[hex, colon, space]: [u128; 3]| {
                    let four = runs_at_least(hex, 4);
                    let six = runs_at_least(hex, 6);
                    u128::from(four & (colon >> 4) as u64 | six & (space >> 6) as u64)
                };
                first_hit(rest, dump16, offsets, |_| true)
            }
        };
        found.map(|at| from + at)
    }
}

/// Whether only blanks are between the line start before `at` and `at` (the start of
/// `bytes` counts as a line start: what came before it is not known).
fn starts_line(bytes: &[u8], at: usize) -> bool {
    let indent = bytes[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    at == indent || bytes[at - indent - 1] == b'\n'
}

/// Bytes on each side of an escape that must be text for [`Atom::TextByte`].
const AROUND: usize = 16;

/// Whether the bytes of the line around `at` (up to [`AROUND`] on each side) are text, as
/// the escape layers require of a whole line: no control byte but tab, form feed, escape
/// (colour codes) and carriage return.
fn text_around(bytes: &[u8], at: usize) -> bool {
    let is_text = |&b: &u8| (b >= 0x20 && b != 0x7f) || matches!(b, b'\t' | b'\x0c' | 0x1b | b'\r');
    let before = &bytes[at.saturating_sub(AROUND)..at];
    let before = memchr::memrchr(b'\n', before).map_or(before, |newline| &before[newline + 1..]);
    let after = &bytes[(at + 1).min(bytes.len())..(at + 1 + AROUND).min(bytes.len())];
    let after = memchr::memchr(b'\n', after).map_or(after, |newline| &after[..newline]);
    before.iter().chain(after).all(is_text)
}

/// The searcher for every one of [`LITERALS`], built once.
fn literals() -> &'static aho_corasick::AhoCorasick {
    static SEARCHER: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    SEARCHER.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(LITERALS)
            .unwrap_or_else(|_| unreachable!("a few short literals always build"))
    })
}

/// Bits of a window's first block, and the first bit of the next.
const FIRST_BLOCK_AND_ONE: u128 = (1 << (BLOCK + 1)) - 1;

/// Bytes whose class bits are computed at once.
pub(crate) const BLOCK: usize = 64;

/// Bit `i` set where `shortest` flags from bit `i` on are all set, for `i` in the low
/// [`BLOCK`] bits (the high bits only complete them).
pub(crate) fn runs_at_least(mask: u128, shortest: usize) -> u64 {
    let mut runs = mask;
    let mut covered = 1;
    while covered * 2 <= shortest {
        runs &= runs >> covered;
        covered *= 2;
    }
    if covered < shortest {
        runs &= runs >> (shortest - covered);
    }
    runs as u64
}

/// The first offset of `bytes` where `hits` sets a bit and `accept` agrees. `classify` gives `K` class masks of
/// 16 bytes; `hits` gets each class over two blocks (the one looked at, and the next, which
/// only completes patterns that start in the first) and sets bit `i` where a pattern starts
/// at byte `i` of the first. Each block is classified once. The end of `bytes` is padded
/// with zero bytes, which are in no class.
fn first_hit<const K: usize>(
    bytes: &[u8],
    classify: impl Fn(&[u8; 16]) -> [u16; K],
    hits: impl Fn([u128; K]) -> u128,
    mut accept: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let block_masks = |at: usize| -> [u64; K] {
        match bytes.get(at..at + BLOCK) {
            Some(block) => masks64(block, &classify),
            None => {
                let mut padded = [0u8; BLOCK];
                let rest = bytes.get(at..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                masks64(&padded, &classify)
            }
        }
    };
    let mut block = 0;
    let mut current = block_masks(0);
    while block < bytes.len() {
        let next = block_masks(block + BLOCK);
        let mut window = [0u128; K];
        for ((wide, low), high) in window.iter_mut().zip(current).zip(next) {
            *wide = u128::from(low) | u128::from(high) << BLOCK;
        }
        let mut found = hits(window);
        while found != 0 {
            let at = block + found.trailing_zeros() as usize;
            if at < bytes.len() && accept(at) {
                return Some(at);
            }
            found &= found - 1;
        }
        block += BLOCK;
        current = next;
    }
    None
}

/// Offset of the first run of at least `shortest` (at most [`BLOCK`]) hex digits and colons
/// in `bytes`, vectorised: the hex-run layer's skip over text and binary.
pub(crate) fn first_hex_run(bytes: &[u8], shortest: usize) -> Option<usize> {
    let shortest = shortest.clamp(1, BLOCK);
    first_hit(
        bytes,
        hex16,
        |[hex]| u128::from(runs_at_least(hex, shortest)),
        |_| true,
    )
}

/// Hex digits and colons.
#[inline(always)]
fn hex16(chunk: &[u8; 16]) -> [u16; 1] {
    let [hex, colon, _] = dump16(chunk);
    [hex | colon]
}

/// The `K` class masks of one block.
#[inline(always)]
fn masks64<const K: usize>(block: &[u8], classify: &impl Fn(&[u8; 16]) -> [u16; K]) -> [u64; K] {
    let mut masks = [0u64; K];
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        let Ok(chunk) = <&[u8; 16]>::try_from(chunk) else {
            continue;
        };
        for (mask, bits) in masks.iter_mut().zip(classify(chunk)) {
            *mask |= u64::from(bits) << (16 * i);
        }
    }
    masks
}

/// Graphic ASCII (`!` to `~`).
#[inline(always)]
fn graphic16(chunk: &[u8; 16]) -> [u16; 1] {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of the x86_64 baseline, and the load reads the 16 bytes of
    // `chunk`.
    unsafe {
        use std::arch::x86_64::*;
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        [_mm_movemask_epi8(in_range(v, b'!', b'~')) as u16]
    }
    #[cfg(not(target_arch = "x86_64"))]
    [bits(chunk, |b| b.is_ascii_graphic())]
}

/// Graphic ASCII, `\n`, `\r` and blanks (space, tab).
#[inline(always)]
fn line16(chunk: &[u8; 16]) -> [u16; 4] {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `graphic16`.
    unsafe {
        use std::arch::x86_64::*;
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let eq = |byte: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8))) as u16;
        [
            _mm_movemask_epi8(in_range(v, b'!', b'~')) as u16,
            eq(b'\n'),
            eq(b'\r'),
            eq(b' ') | eq(b'\t'),
        ]
    }
    #[cfg(not(target_arch = "x86_64"))]
    [
        bits(chunk, |b| b.is_ascii_graphic()),
        bits(chunk, |b| b == b'\n'),
        bits(chunk, |b| b == b'\r'),
        bits(chunk, |b| b == b' ' || b == b'\t'),
    ]
}

/// Hex digits, `:` and space.
#[inline(always)]
fn dump16(chunk: &[u8; 16]) -> [u16; 3] {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `graphic16`.
    unsafe {
        use std::arch::x86_64::*;
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let digit = in_range(v, b'0', b'9');
        let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'f');
        let colon = _mm_cmpeq_epi8(v, _mm_set1_epi8(b':' as i8));
        let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
        [
            _mm_movemask_epi8(_mm_or_si128(digit, letter)) as u16,
            _mm_movemask_epi8(colon) as u16,
            _mm_movemask_epi8(space) as u16,
        ]
    }
    #[cfg(not(target_arch = "x86_64"))]
    [
        bits(chunk, |b| b.is_ascii_hexdigit()),
        bits(chunk, |b| b == b':'),
        bits(chunk, |b| b == b' '),
    ]
}

/// Bytes of `v` in `lo..=hi` as unsigned bytes: `v - lo` wraps, and only values up to
/// `hi - lo` survive a saturating subtraction of `hi - lo` as zero.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn in_range(v: std::arch::x86_64::__m128i, lo: u8, hi: u8) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    let shifted = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
    let over = _mm_subs_epu8(shifted, _mm_set1_epi8((hi - lo) as i8));
    _mm_cmpeq_epi8(over, _mm_setzero_si128())
}

#[cfg(not(target_arch = "x86_64"))]
fn bits(chunk: &[u8; 16], class: impl Fn(u8) -> bool) -> u16 {
    chunk
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| class(byte))
        .fold(0, |mask, (i, _)| mask | (1 << i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search agrees with a byte-by-byte one, at every offset and around block edges.
    #[test]
    fn graphic_runs_agree_with_a_walk() {
        let mut bytes = Vec::new();
        for i in 0..700u32 {
            bytes.push(if i % 37 < 21 + i % 5 { b'x' } else { b' ' });
        }
        for shortest in [1, 20, 25, 64, 90] {
            for from in [0, 1, 63, 64, 65, 200, 650] {
                let walk = (from..bytes.len()).find(|&i| {
                    let n = shortest.clamp(1, BLOCK);
                    i + n <= bytes.len() && bytes[i..i + n].iter().all(u8::is_ascii_graphic)
                });
                assert_eq!(
                    Slot::Atom(Atom::GraphicRun(shortest)).next(&bytes, from),
                    walk,
                    "{shortest} {from}"
                );
            }
        }
    }

    #[test]
    fn dump_offsets_are_found_and_text_is_not() {
        let text = b"the quick fox jumps: 12 ab, at 1234567\n";
        assert_eq!(Slot::Atom(Atom::DumpOffset).next(text, 0), None);
        for line in [
            &b"00000010: 6162 6364  abcd\n"[..],
            b"00000010  61 62 63 64  |abcd|\n",
            b"000010 61 62\n",
            b"0010: 61 62 63\n",
        ] {
            let mut bytes = vec![b'.'; 100];
            bytes.extend_from_slice(line);
            let found = Slot::Atom(Atom::DumpOffset).next(&bytes, 0);
            assert!(
                found.is_some_and(|at| (100..bytes.len()).contains(&at)),
                "{line:?}"
            );
        }
    }

    #[test]
    fn bytes_and_literals_are_found_from_an_offset() {
        let bytes = b"a\\b c=\nd\\ x <~";
        assert_eq!(Slot::Atom(Atom::TextByte(b'\\')).next(bytes, 2), Some(8));
        assert_eq!(Slot::AnyLiteral.next(bytes, 0), Some(5));
        assert_eq!(Slot::AnyLiteral.next(bytes, 6), Some(12));
        assert_eq!(Slot::AnyLiteral.next(bytes, 13), None);
        // Amid binary, an escape byte is not an escape.
        let binary = b"\x01\x02 \\x41\x00";
        assert_eq!(Slot::Atom(Atom::TextByte(b'\\')).next(binary, 0), None);
    }

    #[test]
    fn whole_line_runs_are_told_from_long_words() {
        let word = "x".repeat(20);
        let inside = format!("a line with {word} in it\n");
        let slot = Slot::Atom(Atom::WholeLineRun(16));
        assert_eq!(slot.next(inside.as_bytes(), 0), None);
        let timestamp = format!("{word} and the rest of a log line\n");
        assert_eq!(slot.next(timestamp.as_bytes(), 0), None);
        for (prefix, indent) in [("", ""), ("prose here\n", ""), ("prose here\n", "    ")] {
            let text = format!("{}{}{}{word}\n", inside, prefix, indent);
            let end = inside.len() + prefix.len() + indent.len() + word.len();
            assert_eq!(
                slot.next(text.as_bytes(), 0),
                Some(end),
                "{prefix:?} {indent:?}"
            );
        }
    }

    /// The first line, at or after `from`, that is one long graphic run after indentation:
    /// the offset of the byte that ends it (`\n`, or a `\r` before one).
    fn whole_line_walk(bytes: &[u8], from: usize, shortest: usize) -> Option<usize> {
        let mut start = from;
        for (i, &b) in bytes.iter().enumerate().skip(from) {
            if b != b'\n' {
                continue;
            }
            let line = &bytes[start..i];
            let (line, end) = match line.strip_suffix(b"\r") {
                Some(line) => (line, i - 1),
                None => (line, i),
            };
            let body = line.trim_ascii_start();
            let blank_indent = line[..line.len() - body.len()]
                .iter()
                .all(|&b| b == b' ' || b == b'\t');
            if blank_indent && body.len() >= shortest && body.iter().all(u8::is_ascii_graphic) {
                return Some(end);
            }
            start = i + 1;
        }
        None
    }

    #[test]
    fn whole_line_runs_agree_with_a_walk_over_lines() {
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..400 {
            let mut bytes = Vec::new();
            while bytes.len() < 600 {
                let len = (next() % 150) as usize;
                if next() % 3 == 0 {
                    bytes.extend_from_slice(&b"  \t"[..(next() % 4) as usize]);
                }
                for _ in 0..len {
                    let byte = match next() % 20 {
                        0 => b' ',
                        1 => 0x01,
                        _ => b'a' + (next() % 26) as u8,
                    };
                    bytes.push(byte);
                }
                if next() % 4 == 0 {
                    bytes.push(b'\r');
                }
                bytes.push(b'\n');
            }
            for from in [0, 1, 63, 64, 65, 130, 300] {
                let rest = &bytes[from..];
                let slot = Slot::Atom(Atom::WholeLineRun(16));
                let walk = whole_line_walk(rest, 0, 16).map(|at| at + from);
                assert_eq!(
                    slot.next(&bytes, from),
                    walk,
                    "{from} {:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
}
