//! Streams and archives that start inside other bytes: found, validated, and followed.
//!
//! Formats are not only at byte 0. A Python zipapp or an executable jar is a script or a
//! launcher followed by a zip; a self-extracting installer is a shell script followed by a
//! tar.gz; `pg_dump -Fc`, PDFs, PNG text chunks, VM disk images and journal files keep
//! their text in zlib, zstd or xz streams between binary records; an ELF runtime carries a
//! filesystem image. The [`Detector`] watches every byte of a leaf (one automaton over the
//! signatures below, run beside the matcher) and notes where such a stream could begin; each
//! candidate is validated by its format's own check and, for compressed streams, a trial
//! decode of a few KiB, so the false starts that binaries are full of cost almost nothing
//! and never become gaps. A candidate that holds is read again from its offset and goes
//! through the pipeline like a member, named `<format>@<offset>` in the location chain; the
//! input it consumed counts as interpreted for the opaque-content accounting.
//!
//! Markers of ciphertext inside readable files (an ansible-vault value in YAML, a SOPS
//! value, an armored PGP block) are validated the same way and become `encrypted` gaps. An
//! armored PGP block whose first packet is not encrypted (`gpg --sign -a`) is no gap: its
//! base64 is decoded by the decode layers and the message read by [`super::openpgp`].

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use super::format::{Class, Format, Place};
use super::sniff::SNIFF_LEN;
use super::{compressed, encrypted, inspect, Reopen, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Longest signature, and so the most bytes a signature can straddle two reads by.
pub(crate) const LONGEST_SIGNATURE: usize = 64;
/// Candidates followed per leaf; past these, binaries full of false starts stop costing.
const MAX_STRONG: usize = 2048;
const MAX_ZLIB: usize = 8192;
/// A trial decode reads this much output before a candidate is believed.
const TRIAL_OUTPUT: usize = 4096;
/// A trial that ends in an error before this much output was a false start.
const TRIAL_MINIMUM: usize = 64;
/// A carved stream that fails after this much output was real, and its damage is a gap.
const REAL_STREAM: u64 = 64 << 10;

/// What a signature stands for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A registered format starting at the candidate offset (validated by its own check).
    Format(&'static dyn Format),
    /// A zlib stream (CMF/FLG checked), or one right after a PDF `stream` keyword.
    Zlib,
    /// A zip's end-of-central-directory record; the zip starts where it says.
    ZipEnd,
    /// An ISO 9660 volume descriptor (`CD001` at byte 1 of a 2 KiB sector from 32 KiB on).
    IsoVolume,
    /// Media (JPEG, PNG) whose entropy is not opaque content.
    Media,
    /// Ciphertext inside readable content.
    Encrypted(&'static encrypted::Marker),
}

impl std::fmt::Debug for dyn Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

struct Signature {
    bytes: &'static [u8],
    /// How far before the signature the format starts (tar's magic is at byte 257).
    back: u64,
    /// How far after the signature's start the format starts (zlib after `stream\n`).
    forward: u64,
    target: Target,
}

const fn at(bytes: &'static [u8], target: Target) -> Signature {
    Signature {
        bytes,
        back: 0,
        forward: 0,
        target,
    }
}

fn signatures() -> Vec<Signature> {
    let mut list = vec![
        at(b"\x1F\x8B\x08", Target::Format(&compressed::GZIP)),
        Signature {
            back: 4,
            ..at(b"1AY&SY", Target::Format(&compressed::BZIP2))
        },
        at(b"\xFD7zXZ\x00", Target::Format(&compressed::XZ)),
        at(b"\x28\xB5\x2F\xFD", Target::Format(&compressed::ZSTD)),
        at(b"LZIP\x01", Target::Format(&compressed::LZIP)),
        at(b"\x04\x22\x4D\x18", Target::Format(&compressed::LZ4)),
        at(b"\x02\x21\x4C\x18", Target::Format(&compressed::LZ4)),
        at(
            compressed::SNAPPY_STREAM_IDENTIFIER,
            Target::Format(&compressed::SNAPPY),
        ),
        at(super::mozlz4::MAGIC, Target::Format(&super::mozlz4::MOZLZ4)),
        at(
            b"7z\xBC\xAF\x27\x1C",
            Target::Format(&super::sevenz::SEVEN_ZIP),
        ),
        at(
            b"Rar!\x1A\x07",
            Target::Format(&super::unsupported::UNSUPPORTED),
        ),
        at(b"070701", Target::Format(&super::cpio::CPIO)),
        at(b"hsqs", Target::Format(&super::squashfs::SQUASHFS)),
        Signature {
            back: 257,
            ..at(b"ustar", Target::Format(&super::tar::TAR))
        },
        at(
            b"PACK\x00\x00\x00",
            Target::Format(&super::git_formats::GIT_PACK),
        ),
        at(b"PK\x05\x06", Target::ZipEnd),
        Signature {
            back: 1,
            ..at(b"CD001", Target::IsoVolume)
        },
        Signature {
            forward: 7,
            ..at(b"stream\n", Target::Zlib)
        },
        Signature {
            forward: 8,
            ..at(b"stream\r\n", Target::Zlib)
        },
        // A Subversion delta, after the `DELTA` line of a revision file or the blank line
        // before a dump file's text.
        Signature {
            forward: 1,
            ..at(b"\nSVN", Target::Format(&super::svndiff::SVNDIFF))
        },
        at(b"\xFF\xD8\xFF", Target::Media),
        at(b"\x89PNG\r\n\x1A\n", Target::Media),
    ];
    for marker in encrypted::MARKERS {
        list.push(at(marker.bytes, Target::Encrypted(marker)));
    }
    list
}

/// Signatures looked for in binary content only (like zlib's headers): formats that only
/// ever sit inside binaries, whose first letters would make the text search stop far more
/// often (`_MSC_VER` is in every other C header).
fn binary_signatures() -> Vec<Signature> {
    vec![
        // A cabinet inside other bytes (an MSI's embedded cab, a self-extractor) and an NSIS
        // installer's data behind its stub: unsupported, so a gap, never a silent pass.
        at(
            b"MSCF\0\0\0\0",
            Target::Format(&super::unsupported::UNSUPPORTED),
        ),
        Signature {
            back: 4,
            ..at(
                b"\xEF\xBE\xAD\xDENullsoftInst",
                Target::Format(&super::unsupported::UNSUPPORTED),
            )
        },
    ]
}

/// The searchers: every signature, and zlib's two-byte headers (binary content only).
struct Automata {
    signatures: Vec<Signature>,
    /// Teddy over every signature: it skips through text and binary at SIMD speed, where
    /// the automaton's own prefilter (start bytes: common letters and digits) fires on
    /// almost every byte. Absent without the CPU instructions; the automaton then searches.
    teddy: Option<aho_corasick::packed::Searcher>,
    strong: AhoCorasick,
}

/// The first byte of every zlib header looked for; the second is one of [`ZLIB_LEVELS`].
const ZLIB_CMF: u8 = 0x78;
const ZLIB_LEVELS: [u8; 4] = [0x01, 0x5E, 0x9C, 0xDA];

fn automata() -> &'static Option<Automata> {
    static AUTOMATA: OnceLock<Option<Automata>> = OnceLock::new();
    AUTOMATA.get_or_init(|| Automata::build(signatures()))
}

fn binary_automata() -> &'static Option<Automata> {
    static AUTOMATA: OnceLock<Option<Automata>> = OnceLock::new();
    AUTOMATA.get_or_init(|| Automata::build(binary_signatures()))
}

impl Automata {
    fn build(signatures: Vec<Signature>) -> Option<Automata> {
        let strong = AhoCorasick::new(signatures.iter().map(|s| s.bytes)).ok()?;
        let teddy = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .only_teddy(true)
            .builder()
            .extend(signatures.iter().map(|s| s.bytes))
            .build();
        Some(Automata {
            signatures,
            teddy,
            strong,
        })
    }

    /// Calls `found(signature, start)` for every occurrence of every signature in `bytes`,
    /// overlapping ones included, until it returns false.
    fn each_signature(&self, bytes: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        let Some(teddy) = &self.teddy else {
            for hit in self.strong.find_overlapping_iter(bytes) {
                if !found(hit.pattern().as_usize(), hit.start()) {
                    return;
                }
            }
            return;
        };
        // Teddy reports the leftmost signature at each start; every signature starting
        // there is then checked, and the search goes on from the next byte, so signatures
        // that start at the same offset or overlap are all seen.
        let mut from = 0;
        while let Some(hit) = teddy.find_in(bytes, aho_corasick::Span::from(from..bytes.len())) {
            let start = hit.start();
            for (index, signature) in self.signatures.iter().enumerate() {
                if bytes[start..].starts_with(signature.bytes) && !found(index, start) {
                    return;
                }
            }
            from = start + 1;
        }
    }
}

/// Where a stream could begin inside a leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    offset: u64,
    target: Target,
}

/// Watches the bytes of one leaf for signatures.
pub(crate) struct Detector {
    enabled: bool,
    binary: bool,
    position: u64,
    /// The last bytes of the previous read, for signatures that straddle two reads.
    tail: Vec<u8>,
    candidates: Vec<Candidate>,
    zlib_candidates: usize,
}

impl Detector {
    pub(crate) fn new(enabled: bool) -> Detector {
        Detector {
            enabled: enabled && automata().is_some(),
            binary: false,
            position: 0,
            tail: Vec::new(),
            candidates: Vec::new(),
            zlib_candidates: 0,
        }
    }

    /// The offset of the earliest candidate noted so far.
    pub(crate) fn first_candidate(&self) -> Option<u64> {
        self.candidates.iter().map(|c| c.offset).min()
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let Some(automata) = automata().as_ref().filter(|_| self.enabled) else {
            return;
        };
        let start = self.position;
        if !self.binary {
            // A leaf that is itself a zlib stream (`zlib.compress` output, a `.z` file)
            // is binary even when no NUL happens to be in it (a small stream has none a
            // fifth of the time). Otherwise the leaf is binary from the first read that
            // holds a NUL, wherever it is: a script or a log with a compressed payload
            // after pages of text (one search for NUL over text costs about 2% of a scan).
            let zlib_at_start = start == 0
                && bytes.first() == Some(&ZLIB_CMF)
                && bytes.get(1).is_some_and(|flg| ZLIB_LEVELS.contains(flg));
            self.binary = zlib_at_start || memchr::memchr(0, bytes).is_some();
        }
        // Signatures that began in the previous read.
        if !self.tail.is_empty() {
            let mut junction = std::mem::take(&mut self.tail);
            let tail_len = junction.len();
            junction.extend_from_slice(&bytes[..bytes.len().min(LONGEST_SIGNATURE - 1)]);
            let base = start - tail_len as u64;
            self.search(automata, &junction, base, |at| at < tail_len);
            junction.truncate(tail_len);
            self.tail = junction;
        }
        self.search(automata, bytes, start, |_| true);
        self.position += bytes.len() as u64;
        let keep = LONGEST_SIGNATURE - 1;
        if bytes.len() >= keep {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            self.tail.extend_from_slice(bytes);
            let excess = self.tail.len().saturating_sub(keep);
            self.tail.drain(..excess);
        }
    }

    fn search(
        &mut self,
        automata: &Automata,
        bytes: &[u8],
        base: u64,
        keep: impl Fn(usize) -> bool,
    ) {
        let searchers = [
            Some(automata),
            binary_automata().as_ref().filter(|_| self.binary),
        ];
        for automata in searchers.into_iter().flatten() {
            if self.candidates.len() >= MAX_STRONG {
                break;
            }
            let candidates = &mut self.candidates;
            automata.each_signature(bytes, |index, start| {
                if !keep(start) {
                    return true;
                }
                let signature = &automata.signatures[index];
                let at = base + start as u64;
                if let Some(offset) = at.checked_sub(signature.back) {
                    candidates.push(Candidate {
                        offset: offset + signature.forward,
                        target: signature.target,
                    });
                }
                candidates.len() < MAX_STRONG
            });
        }
        if self.binary && self.zlib_candidates < MAX_ZLIB {
            for at in memchr::memchr_iter(ZLIB_CMF, bytes) {
                if !keep(at) {
                    continue;
                }
                // Both bytes in this read: a header split across reads is in the junction.
                let level_ok = bytes
                    .get(at + 1)
                    .is_some_and(|flg| ZLIB_LEVELS.contains(flg));
                if !level_ok || !zlib_header_ok(&bytes[at..]) {
                    continue;
                }
                self.candidates.push(Candidate {
                    offset: base + at as u64,
                    target: Target::Zlib,
                });
                self.zlib_candidates += 1;
                if self.zlib_candidates >= MAX_ZLIB {
                    break;
                }
            }
        }
    }

    /// The candidates, in offset order.
    pub(crate) fn finish(mut self) -> Vec<Candidate> {
        self.candidates.sort_by_key(|c| c.offset);
        self.candidates
    }
}

/// A zlib header: deflate with a window of at most 32 KiB, no preset dictionary, and the
/// check bits right. Only the first two bytes are known at detection; the rest of the
/// header check happens when the stream is followed.
fn zlib_header_ok(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        // The second byte is in the next read: the check happens when it is followed.
        _ => true,
    }
}

/// Whether `bytes` could start a deflate stream whose first block a decoder accepts: not
/// the reserved block type, a stored block's length and its complement agreeing, a
/// dynamic block's counts in range and its code-length code complete (zlib refuses an
/// incomplete or over-subscribed one). Most two-byte zlib headers met in binary data are
/// chance, and this rejects nearly all of those without setting up an inflater (its
/// zeroed window cost more than the rest of the carving of a binary file). A fixed-code
/// block has nothing to check here; the trial decode decides.
fn deflate_start_plausible(bytes: &[u8]) -> bool {
    let bit = |at: usize| {
        bytes
            .get(at / 8)
            .map(|byte| u32::from(byte >> (at % 8) & 1))
    };
    let bits = |at: usize, count: usize| -> Option<u32> {
        (0..count).try_fold(0, |value, i| Some(value | bit(at + i)? << i))
    };
    // Too few bytes to tell (a stream at the very end): the trial decode decides.
    let Some(block_type) = bits(1, 2) else {
        return true;
    };
    match block_type {
        0 => match bytes.get(1..5) {
            Some(&[l0, l1, n0, n1]) => {
                u16::from_le_bytes([l0, l1]) == !u16::from_le_bytes([n0, n1])
            }
            _ => true,
        },
        1 => true,
        2 => {
            let counts = (bits(3, 5), bits(8, 5), bits(13, 4));
            let (Some(literals), Some(distances), Some(lengths)) = counts else {
                return true;
            };
            if literals + 257 > 286 || distances + 1 > 30 {
                return false;
            }
            let mut kraft = 0u32;
            for i in 0..(lengths as usize + 4) {
                let Some(length) = bits(17 + 3 * i, 3) else {
                    return true;
                };
                if length > 0 {
                    kraft += 1 << (7 - length);
                }
            }
            kraft == 128
        }
        _ => false,
    }
}

/// Bytes of a leaf that can be read again from an offset.
pub(crate) enum Bytes<'a> {
    Memory { bytes: &'a [u8], start: u64 },
    File { file: &'a File, length: u64 },
}

impl<'a> Bytes<'a> {
    pub(crate) fn memory(bytes: &'a [u8], start: u64) -> Bytes<'a> {
        Bytes::Memory { bytes, start }
    }

    pub(crate) fn file(file: &'a File, length: u64) -> Bytes<'a> {
        Bytes::File { file, length }
    }

    fn start(&self) -> u64 {
        match self {
            Bytes::Memory { start, .. } => *start,
            Bytes::File { .. } => 0,
        }
    }

    fn end(&self) -> u64 {
        match self {
            Bytes::Memory { bytes, start } => start + bytes.len() as u64,
            Bytes::File { length, .. } => *length,
        }
    }

    /// A reader of the bytes from `offset` to `end`; empty if `offset` is before the bytes
    /// held (a look behind a candidate, as at a PNG chunk's type, can reach before a copy
    /// kept from that candidate on: it gets nothing rather than other bytes).
    fn reader(&self, offset: u64, end: u64) -> Slice<'a> {
        let end = if offset < self.start() {
            offset
        } else {
            end.max(offset)
        };
        Slice {
            source: match self {
                Bytes::Memory { bytes, start } => Bytes::Memory {
                    bytes,
                    start: *start,
                },
                Bytes::File { file, length } => Bytes::File {
                    file,
                    length: *length,
                },
            },
            begin: offset,
            at: offset,
            end: end.min(self.end()),
        }
    }

    /// Up to `len` bytes from `offset`.
    fn head(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let _ = self
            .reader(offset, offset.saturating_add(len as u64))
            .read_to_end(&mut out);
        out
    }

    /// How the bytes from `offset` on can be read again, for nested carving.
    fn reopen_from(&self, offset: u64) -> Reopen<'a> {
        match self {
            Bytes::Memory { bytes, start } => {
                let skip = offset.saturating_sub(*start) as usize;
                Reopen::Memory(bytes.get(skip..).unwrap_or_default())
            }
            // A file is reopened from its start only; nested candidates are rare enough
            // that they are kept as they stream by.
            Bytes::File { .. } => Reopen::None,
        }
    }
}

/// A window `[begin, end)` of a leaf's bytes, readable and seekable (offsets relative to
/// `begin`).
pub(crate) struct Slice<'a> {
    source: Bytes<'a>,
    begin: u64,
    at: u64,
    end: u64,
}

impl Read for Slice<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.at) as usize;
        let want = out.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = match &self.source {
            Bytes::Memory { bytes, start } => {
                let from = (self.at - start) as usize;
                out[..want].copy_from_slice(&bytes[from..from + want]);
                want
            }
            Bytes::File { file, .. } => {
                std::os::unix::fs::FileExt::read_at(*file, &mut out[..want], self.at)?
            }
        };
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for Slice<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let length = self.end - self.begin;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(delta) => length.checked_add_signed(delta),
            SeekFrom::Current(delta) => (self.at - self.begin).checked_add_signed(delta),
        };
        let target = target
            .filter(|&t| t <= length)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        self.at = self.begin + target;
        Ok(target)
    }
}

/// What the carved streams of a leaf covered: byte ranges a layer interpreted (or already
/// accounted for as a gap), and offsets where media begins.
#[derive(Debug, Default)]
pub(crate) struct Covered {
    pub ranges: Vec<(u64, u64)>,
    pub media: Vec<u64>,
}

impl Covered {
    fn contains(&self, offset: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(start, end)| start <= offset && offset < end)
    }
}

/// Follows every candidate of a leaf; returns what was covered.
pub(crate) fn follow(
    walk: &Walk,
    chain: &[String],
    candidates: Vec<Candidate>,
    source: &Bytes,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Covered {
    let mut covered = Covered::default();
    let mut encrypted_seen: Vec<&str> = Vec::new();
    let mut last_offset = None;
    for candidate in candidates {
        let offset = candidate.offset;
        if offset < source.start() || offset >= source.end() || covered.contains(offset) {
            continue;
        }
        if walk.check_running().is_err() {
            break;
        }
        let duplicate = last_offset == Some(offset);
        last_offset = Some(offset);
        match candidate.target {
            Target::Media => covered.media.push(offset),
            Target::Encrypted(marker) => {
                let name = marker.name;
                let head = source.head(offset, SNIFF_LEN);
                let plain_message = name == encrypted::ARMORED_OPENPGP
                    && super::openpgp::armored_message_is_plain(&head);
                if !encrypted_seen.contains(&name)
                    && !plain_message
                    && marker.holds_ciphertext(&head)
                {
                    encrypted_seen.push(name);
                    walk.fail(
                        GapKind::Encrypted,
                        chain,
                        format!(
                            "{name} ciphertext at byte {offset}: what it encrypts cannot be read \
                             without the key"
                        ),
                    );
                }
            }
            Target::Format(format) if !duplicate => {
                let head = source.head(offset, SNIFF_LEN);
                if let Some(end) =
                    follow_format(walk, chain, format, &head, source, offset, depth, buffer)
                {
                    covered.ranges.push((offset, end));
                }
            }
            Target::Zlib if !duplicate && !is_png_pixel_data(source, offset) => {
                let head = source.head(offset, 16);
                if head.len() >= 2 && zlib_header_ok(&head) && deflate_start_plausible(&head[2..]) {
                    if let Some(end) = follow_zlib(walk, chain, source, offset, depth, buffer) {
                        covered.ranges.push((offset, end));
                    }
                }
            }
            Target::ZipEnd => {
                if let Some(range) = follow_zip_end(walk, chain, source, offset, depth, buffer) {
                    covered.ranges.push(range);
                }
            }
            Target::IsoVolume => {
                let head = source.head(offset, 8);
                // The first descriptor is sector 16; the system area before it is not
                // needed (and may be gone from a copy kept of a stream).
                let first_descriptor = offset >= 32 << 10;
                if first_descriptor && head.first() == Some(&1) && head.get(6) == Some(&1) {
                    if let Some(range) = follow_iso(walk, chain, source, offset, depth, buffer) {
                        covered.ranges.push(range);
                    }
                }
            }
            _ => {}
        }
    }
    covered
}

/// Follows a registered format found at `offset`; returns where its input ended.
#[allow(clippy::too_many_arguments)]
fn follow_format(
    walk: &Walk,
    chain: &[String],
    format: &'static dyn Format,
    head: &[u8],
    source: &Bytes,
    offset: u64,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Option<u64> {
    if !format.recognise(head, Place::Inside) {
        return None;
    }
    let name = format.name_at(head);
    match format.class() {
        Class::Readable => {}
        // At byte 0 it is the leaf itself, already a gap.
        Class::Unsupported if offset == 0 => return None,
        Class::Unsupported if embedded_unsupported_holds(name, head) => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "a {name} stream starts at byte {offset}: scour cannot decode it; its raw \
                     bytes were scanned, what it compresses or packs was not"
                ),
            );
            return Some(source.end());
        }
        _ => return None,
    }
    let mut member = chain.to_vec();
    member.push(format!("{}@{offset}", format.name()));
    if let Some(codec) = format.stream_decoder() {
        if !trial_decode(|input| codec.single_decoder(input), source, offset) {
            return None;
        }
        // A decoder that consumes its input exactly says where its stream ended, so a
        // stream that follows within its read-ahead (consecutive compressed buffers of an
        // Arrow file, ELF sections) is still followed.
        if let Some(exact) = codec.single_exact {
            let mut input = Metered::new(source.reader(offset, source.end()));
            {
                let decoder = exact(Box::new(&mut input)).ok()?;
                let mut carved = Carved::new(walk, &member, format.name(), decoder);
                inspect(walk, &member, &mut carved, depth + 1, Reopen::None, buffer);
                let _ = io::copy(&mut carved, &mut io::sink());
            }
            return Some(offset + input.consumed.max(1));
        }
        let mut input = Counting::new(source.reader(offset, source.end()));
        {
            let decoder = codec.single_decoder(&mut input).ok()?;
            let mut carved = Carved::new(walk, &member, format.name(), decoder);
            inspect(walk, &member, &mut carved, depth + 1, Reopen::None, buffer);
            let _ = io::copy(&mut carved, &mut io::sink());
        }
        return Some(offset + input.count);
    }
    // A container: its own checks decide, and its own failures are gaps. One that reads
    // better with random access (a squashfs behind an ELF runtime, a 7z behind a
    // self-extractor stub) gets the bytes in place, within the nesting limit.
    if depth + 1 < walk.limits().max_depth {
        let mut slice = source.reader(offset, source.end());
        walk.opening(format.name());
        if format.open_seekable(walk, &member, &mut slice, depth + 1, buffer) {
            return Some(source.end());
        }
    }
    let mut input = Counting::new(source.reader(offset, source.end()));
    inspect(
        walk,
        &member,
        &mut input,
        depth + 1,
        source.reopen_from(offset),
        buffer,
    );
    Some(offset + input.count)
}

/// Whether an unsupported format's signature met inside other bytes is really one: the
/// version fields its header has (programs that handle these formats carry the bare magic
/// numbers as constants, which must not make their binaries gaps).
fn embedded_unsupported_holds(name: &str, head: &[u8]) -> bool {
    match name {
        "7z" => head.len() > 8 && head[6] == 0 && head[7] <= 4,
        "rar" => rar_header_checks(head),
        "squashfs" => {
            head.len() > 30 && u16::from_le_bytes([head[28], head[29]]) == 4 && {
                let block_log = u16::from_le_bytes([head[22], head[23]]);
                (12..=20).contains(&block_log)
            }
        }
        // Reserved fields zero, version 1.3, a cabinet at least as large as its header.
        "cab" => {
            let u32_at = |at: usize| {
                head.get(at..at + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            };
            u32_at(12) == Some(0)
                && u32_at(20) == Some(0)
                && head.get(24..26) == Some(&[3, 1])
                && u32_at(8).is_some_and(|size| size >= 36)
        }
        // Flags, and the lengths of the installer's header and of all its data (the bare
        // magic number is also a constant in archivers that read NSIS installers).
        "nsis" => {
            let u32_at = |at: usize| {
                head.get(at..at + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            };
            let flags_ok = u32_at(0).is_some_and(|flags| flags < 16);
            match (u32_at(20), u32_at(24)) {
                (Some(header), Some(total)) => {
                    flags_ok && header > 0 && header < total && total <= 1 << 30
                }
                _ => false,
            }
        }
        // Version 01, reserved bits clear, a block size of 64 KiB to 4 MiB.
        "lz4" => {
            head.len() > 6
                && head[4] & 0xC2 == 0x40
                && head[5] & 0x8F == 0
                && (4..=7).contains(&(head[5] >> 4))
        }
        _ => false,
    }
}

/// Whether the header after a rar signature carries its own CRC: RAR 5 (`Rar!\x1A\x07\x01\0`,
/// a CRC-32 of the header size and header) or RAR 1.5-4 (`Rar!\x1A\x07\0`, then the archive
/// header: the low 16 bits of a CRC-32 from its type byte on). `libarchive.so` and
/// `file`'s `magic.mgc` hold the bare signature followed by code or zeros.
fn rar_header_checks(head: &[u8]) -> bool {
    let crc = |bytes: &[u8]| crc32fast::hash(bytes);
    match head.get(6..8) {
        Some([1, 0]) => {
            let Some(stored) = head.get(8..12) else {
                return false;
            };
            let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
            // The header size: a variable-length integer of at most 3 bytes here.
            let mut size = 0usize;
            let mut size_bytes = 0;
            for (i, &byte) in head.iter().skip(12).take(3).enumerate() {
                size |= usize::from(byte & 0x7F) << (7 * i);
                size_bytes = i + 1;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            let end = 12 + size_bytes + size;
            size > 0 && head.len() >= end && crc(&head[12..end]) == stored
        }
        Some([0, _]) => {
            let (Some(stored), Some(size)) = (head.get(7..9), head.get(12..14)) else {
                return false;
            };
            let stored = u16::from_le_bytes([stored[0], stored[1]]);
            let end = 7 + usize::from(u16::from_le_bytes([size[0], size[1]]));
            head[9] == 0x73 && end > 9 && head.len() >= end && crc(&head[9..end]) as u16 == stored
        }
        _ => false,
    }
}

/// Whether a zlib stream at `offset` is a PNG's pixel data: the data of an `IDAT` chunk (or
/// an APNG `fdAT` frame, after its sequence number). Pixels hold no text, and an encoder
/// splits their one zlib stream over many chunks (libpng: 8 KiB each), so read from the
/// first chunk alone it breaks off at the chunk's CRC: a false `corrupt` gap on every
/// ordinary image. Text chunks (`zTXt`, `iTXt`) and ICC profiles are still carved.
fn is_png_pixel_data(source: &Bytes, offset: u64) -> bool {
    let chunk_type = |back: u64| {
        offset
            .checked_sub(back)
            .filter(|&at| at >= source.start())
            .map(|at| source.head(at, 4))
    };
    chunk_type(4).is_some_and(|kind| kind == b"IDAT")
        || chunk_type(8).is_some_and(|kind| kind == b"fdAT")
}

/// A zlib stream at `offset` (no registry entry: two bytes are no magic number).
fn follow_zlib(
    walk: &Walk,
    chain: &[String],
    source: &Bytes,
    offset: u64,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Option<u64> {
    if !trial_decode(
        |input| Ok(Box::new(flate2::read::ZlibDecoder::new(input)) as Box<dyn Read>),
        source,
        offset,
    ) {
        return None;
    }
    let mut member = chain.to_vec();
    member.push(format!("zlib@{offset}"));
    let consumed = Rc::new(Cell::new(0));
    let input = SharedCount {
        inner: source.reader(offset, source.end()),
        count: Rc::clone(&consumed),
    };
    let mut decoder = flate2::read::ZlibDecoder::new(input);
    let false_start = {
        let mut carved = Carved::new(walk, &member, "zlib", &mut decoder);
        carved.consumed = Some(consumed);
        inspect(walk, &member, &mut carved, depth + 1, Reopen::None, buffer);
        let _ = io::copy(&mut carved, &mut io::sink());
        carved.false_start
    };
    // A false start read nothing its bytes do not hold raw: they stay the leaf's, for
    // opaque accounting too.
    (!false_start).then(|| offset + decoder.total_in())
}

/// Counts the bytes read through it into a counter someone else holds.
struct SharedCount<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for SharedCount<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// A zip found by its end record: the central directory says where the zip begins.
fn follow_zip_end(
    walk: &Walk,
    chain: &[String],
    source: &Bytes,
    offset: u64,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Option<(u64, u64)> {
    let record = source.head(offset, 22);
    if record.len() < 22 {
        return None;
    }
    let u32_at = |at: usize| {
        u64::from(u32::from_le_bytes([
            record[at],
            record[at + 1],
            record[at + 2],
            record[at + 3],
        ]))
    };
    let directory_size = u32_at(12);
    let directory_offset = u32_at(16);
    let comment = u64::from(u16::from_le_bytes([record[20], record[21]]));
    let end = offset + 22 + comment;
    if end > source.end() || directory_offset == 0xFFFF_FFFF {
        return None;
    }
    let start = offset.checked_sub(directory_size + directory_offset)?;
    if start < source.start() {
        // A stream read once is kept from its first candidate on; a zip found by its end
        // record can begin before that (a jmod: 4 bytes, then a zip whose members hold
        // the first candidate).
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "a zip from byte {start} to {end} was found by its end record, but this stream \
                 was read once and kept only from byte {} on: its members were not read (scan \
                 the file inside a directory to read it in place)",
                source.start()
            ),
        );
        return Some((source.start(), end));
    }
    // Offsets relative to the zip's own start (a stub prepended with `cat`), or to the
    // file's (`zip -A`): the central directory is where one of them says.
    let base = [start, source.start()]
        .into_iter()
        .find(|&base| source.head(base + directory_offset, 4) == b"PK\x01\x02")?;
    if start == 0
        && source.start() == 0
        && super::zip::ZIP.recognise(&source.head(0, 8), Place::Inside)
    {
        // A zip from byte 0 was already read as the stream itself. (One whose offsets count
        // from byte 0 behind a prefix, as Python's zipapp writes them, was not.)
        return None;
    }
    let mut member = chain.to_vec();
    member.push(format!("zip@{start}"));
    walk.opening("zip");
    super::zip::scan_seekable(walk, &member, source.reader(base, end), depth + 1, buffer);
    Some((start, end))
}

/// An ISO 9660 image whose first volume descriptor (sector 16) is at `offset`: its files
/// are read with random access from there on (the system area before it was scanned raw).
fn follow_iso(
    walk: &Walk,
    chain: &[String],
    source: &Bytes,
    offset: u64,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Option<(u64, u64)> {
    let start = offset - (32 << 10);
    let mut member = chain.to_vec();
    member.push(format!("iso9660@{start}"));
    let mut reader = source.reader(offset, source.end());
    super::iso9660::scan_seekable(walk, &member, &mut reader, depth + 1, buffer)
        .then_some((start.max(source.start()), source.end()))
}

/// Decodes up to [`TRIAL_OUTPUT`] bytes: a real stream produces them (or ends cleanly);
/// a false start fails within a few bytes.
fn trial_decode<'a>(
    decoder: impl FnOnce(Slice<'a>) -> io::Result<Box<dyn Read + 'a>>,
    source: &Bytes<'a>,
    offset: u64,
) -> bool {
    let Ok(mut decoder) = decoder(source.reader(offset, source.end())) else {
        return false;
    };
    let mut out = vec![0u8; TRIAL_OUTPUT];
    let mut produced = 0;
    while produced < out.len() {
        match decoder.read(&mut out[produced..]) {
            Ok(0) => return produced > 0,
            Ok(n) => produced += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return produced >= TRIAL_MINIMUM,
        }
    }
    true
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R> Counting<R> {
    fn new(inner: R) -> Counting<R> {
        Counting { inner, count: 0 }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A buffered reader that counts the bytes its reader consumed, not those it read ahead.
struct Metered<R> {
    inner: R,
    buffer: Box<[u8]>,
    at: usize,
    filled: usize,
    consumed: u64,
}

impl<R: Read> Metered<R> {
    fn new(inner: R) -> Metered<R> {
        Metered {
            inner,
            buffer: vec![0; 64 << 10].into_boxed_slice(),
            at: 0,
            filled: 0,
            consumed: 0,
        }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = io::BufRead::fill_buf(self)?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl<R: Read> io::BufRead for Metered<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at >= self.filled {
            self.filled = self.inner.read(&mut self.buffer)?;
            self.at = 0;
        }
        Ok(&self.buffer[self.at..self.filled])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.filled - self.at);
        self.at += amount;
        self.consumed += amount as u64;
    }
}

/// A carved stream's decoder: its output counts against the archive's limits; an error
/// ends it quietly if little had been decoded (a false start that passed the trial), and
/// is a `corrupt` gap if it had clearly been a real stream.
struct Carved<'w, 'a, 'm, R> {
    walk: &'w Walk<'a, 'm>,
    chain: &'w [String],
    format: &'static str,
    inner: R,
    produced: u64,
    ended: bool,
    /// Compressed bytes the decoder has read, where known (read-ahead included).
    consumed: Option<Rc<Cell<u64>>>,
    /// It failed and was taken for a false start, not a damaged stream.
    false_start: bool,
}

impl<'w, 'a, 'm, R: Read> Carved<'w, 'a, 'm, R> {
    fn new(walk: &'w Walk<'a, 'm>, chain: &'w [String], format: &'static str, inner: R) -> Self {
        Carved {
            walk,
            chain,
            format,
            inner,
            produced: 0,
            ended: false,
            consumed: None,
            false_start: false,
        }
    }

    /// Whether what was decoded before an error shows a real compressed stream: enough of
    /// it, and (where the input read is known) more than that input. A false start in a
    /// binary table can pass the trial and run on for a while through "stored" blocks
    /// (`ff ff 00 00` is a valid stored-block length): such output is no larger than the
    /// bytes it came from, which the leaf's own scan read raw anyway. A damaged stream of
    /// real content had compressed it.
    fn was_real(&self) -> bool {
        let compressed = self.consumed.as_ref().is_none_or(|consumed| {
            let input = consumed.get();
            self.produced > input + input / 8
        });
        self.produced >= REAL_STREAM && compressed
    }
}

impl<R: Read> Read for Carved<'_, '_, '_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.ended {
            return Ok(0);
        }
        self.walk.check_running()?;
        match self.inner.read(out) {
            Ok(n) => {
                self.produced += n as u64;
                self.walk.expanded(n as u64, self.chain)?;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(error) => {
                self.ended = true;
                self.false_start = !self.was_real();
                if !self.false_start {
                    self.walk.fail(
                        GapKind::Corrupt,
                        self.chain,
                        format!(
                            "the {} stream is damaged or truncated after {} decoded bytes: {} — \
                             the rest of it was not scanned",
                            self.format,
                            self.produced,
                            super::describe_error(&error)
                        ),
                    );
                }
                Ok(0)
            }
        }
    }
}

/// A leaf at the nesting limit: validated streams or archives in it are not followed, and
/// that is a gap.
pub(crate) fn too_deep_to_follow(
    walk: &Walk,
    chain: &[String],
    candidates: &[Candidate],
    depth: u32,
) {
    let followable = candidates
        .iter()
        .any(|c| matches!(c.target, Target::Format(f) if f.class() == Class::Readable));
    if followable {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "compressed streams or archives start inside it, {depth} levels deep, at the \
                 nesting limit (--archive-max-depth {}); they were not opened",
                walk.limits().max_depth
            ),
        );
    }
}

/// A once-only leaf too large to keep: validated candidates in it cannot be followed.
pub(crate) fn too_large_to_follow(
    walk: &Walk,
    chain: &[String],
    candidates: &[Candidate],
    first: u64,
) {
    let followable = candidates
        .iter()
        .any(|c| matches!(c.target, Target::Format(f) if f.class() == Class::Readable));
    if followable {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "compressed streams or archives start inside it (the first at byte {first}), \
                 but it is larger than {} MiB and can only be read once here, so they were not \
                 decoded",
                super::leaf::KEPT_BYTES >> 20
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    #[test]
    fn deflate_starts_that_no_decoder_accepts_are_rejected() {
        use super::deflate_start_plausible;
        let counting: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        for text in [&b"short"[..], &[b'x'; 100_000][..], &counting[..]] {
            for level in [0, 1, 6, 9] {
                let mut encoder =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
                encoder.write_all(text).unwrap();
                let stream = encoder.finish().unwrap();
                assert!(deflate_start_plausible(&stream[2..]), "level {level}");
            }
        }
        // The reserved block type, and a stored block whose length is not complemented.
        assert!(!deflate_start_plausible(&[0b110, 0, 0, 0, 0]));
        assert!(!deflate_start_plausible(&[0b000, 5, 0, 5, 0]));
        // Random bytes: most starts are rejected.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let rejected = (0..10_000)
            .filter(|_| {
                let head: Vec<u8> = (0..14)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                !deflate_start_plausible(&head)
            })
            .count();
        assert!(rejected > 6_500, "{rejected}");
    }

    use super::super::decode::testing::scan_memory;

    const SECRET: &[u8] = b"glpat-Qm7Zt3Lw9Kd2Rs7Vx4Pn";

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
        out
    }

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("compress in memory");
        encoder.finish().expect("compress in memory")
    }

    /// A PNG as libpng writes it: the pixels' one zlib stream split over IDAT chunks, and a
    /// compressed text chunk.
    fn png(text: &[u8]) -> Vec<u8> {
        let mut file = b"\x89PNG\r\n\x1A\n".to_vec();
        file.extend(chunk(b"IHDR", &[0, 0, 1, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0]));
        let mut ztxt = b"Comment\0\0".to_vec();
        ztxt.extend(zlib(text));
        file.extend(chunk(b"zTXt", &ztxt));
        // A gradient with some noise: compressed with Huffman codes, so a stream cut at a
        // chunk boundary fails to decode (stored blocks would not notice).
        let mut seed = 0x2545_F491u32;
        let pixels: Vec<u8> = (0..300_000u32)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ((i / 7) as u8).wrapping_add((seed >> 29) as u8)
            })
            .collect();
        for piece in zlib(&pixels).chunks(8192) {
            file.extend(chunk(b"IDAT", piece));
        }
        file.extend(chunk(b"IEND", b""));
        file
    }

    #[test]
    fn png_pixels_over_many_chunks_are_no_gap_and_text_chunks_are_read() {
        let clean = scan_memory(SECRET, "photo.png", &png(b"taken on a phone"));
        assert!(clean.gaps.is_empty(), "{:?}", clean.gaps);
        let mut text = b"exported by the ci: ".repeat(4);
        text.extend_from_slice(SECRET);
        let file = png(&text);
        assert!(memchr::memmem::find(&file, SECRET).is_none());
        let scanned = scan_memory(SECRET, "photo.png", &file);
        assert_eq!(scanned.places().len(), 1, "{:?}", scanned.places());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    /// A RAR 5 main archive header after its signature, its CRC-32 as the format has it.
    fn rar5() -> Vec<u8> {
        let header = [0x03u8, 0x01, 0x00, 0x00]; // size 3: type 1 (main), flags, archive flags
        let mut out = b"Rar!\x1A\x07\x01\x00".to_vec();
        out.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&[0u8; 32]);
        out
    }

    #[test]
    fn a_rar_signature_counts_inside_other_bytes_only_with_its_header_crc() {
        assert!(super::rar_header_checks(&rar5()));
        let mut damaged = rar5();
        damaged[13] ^= 1;
        assert!(!super::rar_header_checks(&damaged));
        // As libarchive.so and magic.mgc hold it: code or zeros after the signature.
        assert!(!super::rar_header_checks(
            b"Rar!\x1A\x07\x01\x00H9\x10u,\xb8\x1e\x00\x00"
        ));
        assert!(!super::rar_header_checks(
            &[b"Rar!\x1A\x07\x01\x00".as_slice(), &[0; 24]].concat()
        ));
        // RAR 4: the marker block, then an archive header whose CRC-16 is a CRC-32's low bits.
        let mut rar4 = b"Rar!\x1A\x07\x00".to_vec();
        let header = [0x73u8, 0x00, 0x00, 13, 0, 0, 0, 0, 0, 0, 0];
        rar4.extend_from_slice(&(crc32fast::hash(&header) as u16).to_le_bytes());
        rar4.extend_from_slice(&header);
        assert!(super::rar_header_checks(&rar4));
        rar4[10] ^= 1;
        assert!(!super::rar_header_checks(&rar4));

        let mut stub = b"#!/bin/sh\nexec unrar x \"$0\"\n".to_vec();
        stub.extend(rar5());
        let scanned = scan_memory(SECRET, "installer.sh", &stub);
        assert_eq!(scanned.gaps.len(), 1, "{:?}", scanned.gaps);
    }

    #[test]
    fn a_zlib_payload_after_pages_of_text_is_followed() {
        let mut file = b"# install notes, plain text for a while\n".repeat(600);
        assert!(file.len() > 16 << 10 && !file.contains(&0));
        let mut payload = b"token=".to_vec();
        payload.extend_from_slice(SECRET);
        payload.extend((0..4000u32).map(|i| (i * 7 % 251) as u8));
        file.extend(zlib(&payload));
        assert!(memchr::memmem::find(&file, SECRET).is_none());
        let scanned = scan_memory(SECRET, "install.sh", &file);
        assert_eq!(scanned.places().len(), 1, "{:?}", scanned.places());
    }
}
