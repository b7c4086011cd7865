//! Compressed streams: gzip, bzip2, xz, zstd, lzip, lzma, lz4 and framed snappy, each decoded
//! as a stream.
//!
//! Concatenated streams are read to the end: rotated logs are often several gzip members
//! (or bzip2/xz streams, or zstd frames) in one file, and a secret in the second member
//! counts as much as one in the first. Decoder memory is capped (zstd window, xz memory
//! limit) so a hostile header cannot make a decoder allocate without bound; hitting the cap
//! is a `limit-exceeded` gap. The decoded stream is scanned as a member at `depth + 1`
//! under the same chain: compression adds no element to a finding's location.
//!
//! A compressed file on disk is decoded on a helper thread ([`scan_file`]) while the
//! calling thread scans what it decoded, as `zstd -dc | rg` would: decoding and matching
//! each take about the same time, so the two overlap instead of adding up.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use super::format::{Format, Place};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Largest zstd window accepted: 2^31 (2 GiB), what `zstd --long=31` writes, so backups made
/// that way are read. The decoder only allocates what a frame's header asks for.
const ZSTD_WINDOW_LOG_MAX: u32 = 31;
/// Memory an xz, lzma or lzip decoder may use (xz -9 needs 65 MiB; a 1.5 GiB dictionary
/// is the largest the tools write).
const XZ_MEMORY_LIMIT: u64 = 2 << 30;

/// Bytes handed from the decoding thread to the scanning thread at a time, and how many
/// such chunks may wait.
const HANDOFF_CHUNK: usize = 1 << 20;
const HANDOFF_QUEUE: usize = 4;

/// A decoder over any input.
pub(super) type DecoderFactory = for<'r> fn(Box<dyn Read + 'r>) -> io::Result<Box<dyn Read + 'r>>;

/// One compressed-stream format of the registry.
pub(crate) struct Codec {
    pub(super) name: &'static str,
    pub(super) recognise: fn(&[u8]) -> bool,
    pub(super) decoder: DecoderFactory,
    /// The decoder of one member or frame only: a stream carved out of other bytes ends
    /// where its first member does, and what follows it is not its business.
    pub(super) single: DecoderFactory,
    /// The same single-member decoder over a buffered input it consumes exactly (no read
    /// ahead), so a carved stream's end is known to the byte and a stream that follows
    /// closely is still found ([`super::carve`]); `None` if the decoder cannot say.
    pub(super) single_exact: Option<ExactFactory>,
    /// The decoder that also hands on the text fields of every header it crosses, which
    /// decoding skips (see [`Codec::decoder_with_headers`]); `None` for formats whose
    /// headers hold none.
    pub(super) header_text: Option<HeaderDecoder>,
}

/// A decoder over a buffered input that consumes only the bytes of its own stream.
pub(super) type ExactFactory = for<'r> fn(Box<dyn BufRead + 'r>) -> io::Result<Box<dyn Read + 'r>>;

/// Takes each text field of a header: its `location.in` name, and its bytes.
pub(super) type HeaderSink<'r> = Box<dyn FnMut(&'static str, &[u8]) + 'r>;

/// A decoder over any input that hands the text fields of each header it crosses to a sink.
pub(super) type HeaderDecoder =
    for<'r> fn(Box<dyn Read + 'r>, HeaderSink<'r>) -> Box<dyn Read + 'r>;

pub(crate) static GZIP: Codec = Codec {
    name: "gzip",
    recognise: |head| {
        head.starts_with(b"\x1F\x8B\x08") && head.get(3).is_none_or(|f| f & 0xE0 == 0)
    },
    decoder: |input| Ok(Box::new(flate2::read::MultiGzDecoder::new(input))),
    single: |input| Ok(Box::new(flate2::read::GzDecoder::new(input))),
    single_exact: Some(|input| Ok(Box::new(flate2::bufread::GzDecoder::new(input)))),
    header_text: Some(|input, sink| {
        Box::new(GzipMembers {
            state: Members::Between(Peek::new(input)),
            sink,
        })
    }),
};

pub(crate) static BZIP2: Codec = Codec {
    name: "bzip2",
    recognise: |head| {
        head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && (head[4..10] == *b"1AY&SY" || head[4..10] == *b"\x17\x72\x45\x38\x50\x90")
    },
    decoder: |input| Ok(Box::new(bzip2::read::MultiBzDecoder::new(input))),
    single: |input| Ok(Box::new(bzip2::read::BzDecoder::new(input))),
    single_exact: Some(|input| Ok(Box::new(bzip2::bufread::BzDecoder::new(input)))),
    header_text: None,
};

pub(crate) static XZ: Codec = Codec {
    name: "xz",
    recognise: |head| head.starts_with(b"\xFD7zXZ\x00"),
    decoder: |input| xz_family(input, Container::Xz, liblzma::stream::CONCATENATED),
    single: |input| xz_family(input, Container::Xz, 0),
    single_exact: Some(|input| xz_family_exact(input, Container::Xz)),
    header_text: None,
};

pub(crate) static LZIP: Codec = Codec {
    name: "lzip",
    recognise: |head| head.starts_with(b"LZIP\x01"),
    decoder: |input| xz_family(input, Container::Lzip, liblzma::stream::CONCATENATED),
    single: |input| xz_family(input, Container::Lzip, 0),
    single_exact: Some(|input| xz_family_exact(input, Container::Lzip)),
    header_text: None,
};

/// The legacy `.lzma` format (LZMA-alone) has no magic number: a properties byte, a
/// dictionary size and an uncompressed size. Only the shapes the tools write are taken
/// (properties `lc=3 lp=0 pb=2`, a dictionary of 2^n or 2^n + 2^(n-1) bytes, a size that
/// is unknown or below 2^48), so ordinary bytes are not mistaken for it.
pub(crate) static LZMA_ALONE: Codec = Codec {
    name: "lzma",
    recognise: is_lzma_alone,
    decoder: |input| xz_family(input, Container::LzmaAlone, 0),
    single: |input| xz_family(input, Container::LzmaAlone, 0),
    single_exact: Some(|input| xz_family_exact(input, Container::LzmaAlone)),
    header_text: None,
};

/// The containers liblzma decodes.
enum Container {
    Xz,
    Lzip,
    LzmaAlone,
}

fn xz_family<'r>(
    input: Box<dyn Read + 'r>,
    container: Container,
    flags: u32,
) -> io::Result<Box<dyn Read + 'r>> {
    use liblzma::stream::Stream;
    let stream = match container {
        Container::Xz => Stream::new_stream_decoder(XZ_MEMORY_LIMIT, flags),
        Container::Lzip => Stream::new_lzip_decoder(XZ_MEMORY_LIMIT, flags),
        Container::LzmaAlone => Stream::new_lzma_decoder(XZ_MEMORY_LIMIT),
    }
    .map_err(io::Error::other)?;
    Ok(Box::new(liblzma::read::XzDecoder::new_stream(
        input, stream,
    )))
}

/// [`xz_family`]'s single-stream decoder over a buffered input, consumed exactly.
fn xz_family_exact<'r>(
    input: Box<dyn BufRead + 'r>,
    container: Container,
) -> io::Result<Box<dyn Read + 'r>> {
    use liblzma::stream::Stream;
    let stream = match container {
        Container::Xz => Stream::new_stream_decoder(XZ_MEMORY_LIMIT, 0),
        Container::Lzip => Stream::new_lzip_decoder(XZ_MEMORY_LIMIT, 0),
        Container::LzmaAlone => Stream::new_lzma_decoder(XZ_MEMORY_LIMIT),
    }
    .map_err(io::Error::other)?;
    Ok(Box::new(liblzma::bufread::XzDecoder::new_stream(
        input, stream,
    )))
}

fn is_lzma_alone(head: &[u8]) -> bool {
    if head.len() < 13 || head[0] != 0x5D {
        return false;
    }
    let dictionary = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let lowest = dictionary & dictionary.wrapping_neg();
    let shape_ok = dictionary >= 1 << 12 && {
        let rest = dictionary - lowest;
        rest == 0 || rest == lowest.wrapping_mul(2)
    };
    let size = u64::from_le_bytes([
        head[5], head[6], head[7], head[8], head[9], head[10], head[11], head[12],
    ]);
    shape_ok && (size == u64::MAX || size < 1 << 48)
}

pub(crate) static ZSTD: Codec = Codec {
    name: "zstd",
    // A frame, or a skippable frame (pzstd and seekable zstd start with one).
    recognise: |head| {
        head.starts_with(b"\x28\xB5\x2F\xFD")
            || (head.len() >= 8 && head[0] & 0xF0 == 0x50 && head[1..4] == *b"\x2A\x4D\x18")
    },
    decoder: |input| {
        let mut decoder =
            zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 17, input))?;
        decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
        Ok(Box::new(decoder))
    },
    single: |input| {
        let decoder =
            zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 17, input))?;
        let mut decoder = decoder.single_frame();
        decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
        Ok(Box::new(decoder))
    },
    single_exact: Some(|input| {
        let mut decoder = zstd::stream::read::Decoder::with_buffer(input)?.single_frame();
        decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
        Ok(Box::new(decoder))
    }),
    header_text: None,
};

/// lz4: the frame format (magic, then a descriptor whose version bits are `01`) and the
/// legacy format (`lz4 -l`, the Linux kernel's initramfs). Concatenated frames are read on.
pub(crate) static LZ4: Codec = Codec {
    name: "lz4",
    recognise: |head| {
        (head.starts_with(b"\x04\x22\x4D\x18")
            && head.get(4).is_none_or(|flags| flags & 0xC2 == 0x40))
            || head.starts_with(b"\x02\x21\x4C\x18")
    },
    decoder: |input| Ok(Box::new(lz4_flex::frame::FrameDecoder::new(input))),
    single: |input| Ok(Box::new(OneLz4Frame::new(input))),
    single_exact: Some(|input| Ok(Box::new(OneLz4Frame::new(input)))),
    header_text: None,
};

/// The first lz4 frame of a stream, for a stream carved out of other bytes: what follows
/// it there (an Arrow IPC buffer's padding and the next buffer's length) is no second
/// frame, and ends the stream rather than damaging it. (The frame decoder reads on into
/// concatenated frames, and a carved Arrow buffer was a false `corrupt` gap.)
struct OneLz4Frame<R: Read> {
    decoder: lz4_flex::frame::FrameDecoder<R>,
    produced: bool,
}

impl<R: Read> OneLz4Frame<R> {
    fn new(input: R) -> Self {
        OneLz4Frame {
            decoder: lz4_flex::frame::FrameDecoder::new(input),
            produced: false,
        }
    }
}

impl<R: Read> Read for OneLz4Frame<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.decoder.read(out) {
            Ok(n) => {
                self.produced |= n > 0;
                Ok(n)
            }
            // A magic number is only read where a frame would start: after the first.
            Err(error)
                if self.produced
                    && error.get_ref().is_some_and(|inner| {
                        matches!(
                            inner.downcast_ref::<lz4_flex::frame::Error>(),
                            Some(lz4_flex::frame::Error::WrongMagicNumber)
                        )
                    }) =>
            {
                Ok(0)
            }
            Err(error) => Err(error),
        }
    }
}

/// snappy's framing format (`.sz`: Hadoop and Kafka tooling, python-snappy, snzip), which
/// starts with its stream identifier chunk. Raw snappy blocks have no magic: a format that
/// stores them (Avro, LevelDB) reads them itself.
pub(crate) static SNAPPY: Codec = Codec {
    name: "snappy",
    recognise: |head| head.starts_with(SNAPPY_STREAM_IDENTIFIER),
    decoder: |input| Ok(Box::new(snap::read::FrameDecoder::new(input))),
    single: |input| Ok(Box::new(snap::read::FrameDecoder::new(input))),
    single_exact: Some(|input| Ok(Box::new(snap::read::FrameDecoder::new(input)))),
    header_text: None,
};

/// UNIX `compress` (`.Z`): LZW, read by [`super::unix_compress`]. The stream has no end
/// marker (it ends where its input does), so a carved one cannot say where it stops.
pub(crate) static UNIX_COMPRESS: Codec = Codec {
    name: "compress",
    recognise: super::unix_compress::recognise,
    decoder: |input| {
        Ok(Box::new(super::unix_compress::Decoder::new(
            io::BufReader::new(input),
        )))
    },
    single: |input| {
        Ok(Box::new(super::unix_compress::Decoder::new(
            io::BufReader::new(input),
        )))
    },
    single_exact: None,
    header_text: None,
};

/// lzop (`.lzo`): LZO1X blocks, read by [`super::lzop`], whose header's file name is
/// checked as a name.
pub(crate) static LZOP: Codec = Codec {
    name: "lzop",
    recognise: super::lzop::recognise,
    decoder: |input| Ok(Box::new(super::lzop::Decoder::new(input, None))),
    single: |input| Ok(Box::new(super::lzop::Decoder::new(input, None))),
    single_exact: None,
    header_text: Some(|input, sink| Box::new(super::lzop::Decoder::new(input, Some(sink)))),
};

/// The chunk every framed snappy stream starts with.
pub(crate) const SNAPPY_STREAM_IDENTIFIER: &[u8] = b"\xFF\x06\x00\x00sNaPpY";

impl Format for Codec {
    fn name(&self) -> &'static str {
        self.name
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        (self.recognise)(head)
    }

    fn stream_decoder(&self) -> Option<&Codec> {
        Some(self)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        scan(walk, chain, self, reader, depth, buffer)
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        scan_file(walk, chain, self, file, buffer);
        true
    }
}

impl Codec {
    /// A decoder over `input`.
    pub(crate) fn decoder<'r>(&self, input: impl Read + 'r) -> io::Result<Box<dyn Read + 'r>> {
        (self.decoder)(Box::new(input))
    }

    /// A decoder over `input` that hands the text fields of every header it crosses (each
    /// member's, in a multi-member gzip file) to `sink`.
    pub(crate) fn decoder_with_headers<'r>(
        &self,
        input: impl Read + 'r,
        sink: HeaderSink<'r>,
    ) -> io::Result<Box<dyn Read + 'r>> {
        match self.header_text {
            Some(decoder) => Ok(decoder(Box::new(input), sink)),
            None => self.decoder(input),
        }
    }

    /// A decoder of the first member or frame of `input` only.
    pub(crate) fn single_decoder<'r>(
        &self,
        input: impl Read + 'r,
    ) -> io::Result<Box<dyn Read + 'r>> {
        (self.single)(Box::new(input))
    }
}

pub(super) fn scan(
    walk: &Walk,
    chain: &[String],
    codec: &Codec,
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut decoder = match codec.decoder_with_headers(input, header_sink(walk, chain)) {
        Ok(decoder) => decoder,
        Err(error) => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!("could not start a {} decoder: {error}", codec.name),
            );
            return;
        }
    };
    let mut decoded = Decoded::new(walk, chain, codec.name, &mut decoder);
    scan_member(walk, chain, &mut decoded, depth + 1, buffer);
    // A container may stop before the end of its stream (a tar's end marker): what follows
    // must still decode cleanly, or it is a gap.
    let _ = super::drain(&mut decoded);
}

/// The text a compressed stream's headers carry outside the compressed data (a gzip
/// header's original file name, which `gzip` writes by default, and comment). Decoding
/// skips it, so the decoder hands it here as it crosses each header, and it is checked as
/// names (`location.in` `gzip-name`, `gzip-comment`).
fn header_sink<'r>(walk: &Walk<'r, '_>, chain: &'r [String]) -> HeaderSink<'r> {
    let recorder = walk.ctx.recorder;
    Box::new(move |within, text| crate::source::names::record(recorder, chain, within, text))
}

/// How much of a gzip member's start is read ahead for its header's text fields (a longer
/// name is checked up to there).
const HEADER_TEXT_WINDOW: usize = 64 << 10;

/// gzip members one after another, as `MultiGzDecoder` reads them, with each member's
/// header text handed to the sink as the decoder reaches it: `cat a.gz b.gz > c.gz` keeps
/// `b.gz`'s name inside `c.gz`, after `a.gz`'s data.
struct GzipMembers<'r> {
    state: Members<'r>,
    sink: HeaderSink<'r>,
}

enum Members<'r> {
    /// At the start of a member, or at the end of the input.
    Between(Peek<'r>),
    Member(Box<flate2::bufread::GzDecoder<Peek<'r>>>),
    /// After the end, or an error.
    Done,
}

impl Read for GzipMembers<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, Members::Done) {
                Members::Done => return Ok(0),
                Members::Between(mut input) => {
                    let head = match input.peek(HEADER_TEXT_WINDOW) {
                        Ok(head) => head,
                        Err(error) => {
                            if error.kind() == io::ErrorKind::Interrupted {
                                self.state = Members::Between(input);
                            }
                            return Err(error);
                        }
                    };
                    if head.is_empty() {
                        return Ok(0);
                    }
                    // Whatever follows a member is another one: bytes that are not a gzip
                    // header hold no fields here, and the decoder refuses them (a gap).
                    for (within, text) in gzip_header_text(head) {
                        (self.sink)(within, text);
                    }
                    self.state = Members::Member(Box::new(flate2::bufread::GzDecoder::new(input)));
                }
                Members::Member(mut member) => match member.read(out) {
                    // The member ended with its checksum verified.
                    Ok(0) => self.state = Members::Between((*member).into_inner()),
                    Ok(n) => {
                        self.state = Members::Member(member);
                        return Ok(n);
                    }
                    Err(error) => {
                        if error.kind() == io::ErrorKind::Interrupted {
                            self.state = Members::Member(member);
                        }
                        return Err(error);
                    }
                },
            }
        }
    }
}

/// A buffered reader that can also show its next bytes without consuming them (a member's
/// header, before the decoder parses it).
struct Peek<'r> {
    inner: Box<dyn Read + 'r>,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<'r> Peek<'r> {
    fn new(inner: Box<dyn Read + 'r>) -> Peek<'r> {
        Peek {
            inner,
            buffer: vec![0; HEADER_TEXT_WINDOW].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The next `want` bytes (fewer at the end of the input, at most the buffer's size).
    fn peek(&mut self, want: usize) -> io::Result<&[u8]> {
        let want = want.min(self.buffer.len());
        if self.end - self.start < want {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < want {
                match self.inner.read(&mut self.buffer[self.end..])? {
                    0 => break,
                    n => self.end += n,
                }
            }
        }
        Ok(&self.buffer[self.start..self.end])
    }
}

impl Read for Peek<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Peek<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.end = self.inner.read(&mut self.buffer)?;
        }
        Ok(&self.buffer[self.start..self.end])
    }

    fn consume(&mut self, amount: usize) {
        self.start = (self.start + amount).min(self.end);
    }
}

/// The FNAME and FCOMMENT fields of the gzip header at the start of `head`.
fn gzip_header_text(head: &[u8]) -> Vec<(&'static str, &[u8])> {
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let mut fields = Vec::new();
    let Some(&flags) = head.get(3).filter(|_| head.starts_with(b"\x1F\x8B\x08")) else {
        return fields;
    };
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let Some(length) = head.get(at..at + 2) else {
            return fields;
        };
        at += 2 + usize::from(u16::from_le_bytes([length[0], length[1]]));
    }
    for (flag, within) in [(FNAME, "gzip-name"), (FCOMMENT, "gzip-comment")] {
        if flags & flag == 0 {
            continue;
        }
        let Some(rest) = head.get(at..) else {
            return fields;
        };
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        fields.push((within, &rest[..end]));
        at += end + 1;
    }
    fields
}

/// A read error of the file itself (not of its compressed content), from the decoding
/// thread.
#[derive(Debug)]
pub(super) struct InputError(pub io::Error);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not read the file: {}", self.0)
    }
}

impl std::error::Error for InputError {}

/// A top-level compressed file: decoded on a helper thread, scanned on this one.
pub(super) fn scan_file(
    walk: &Walk,
    chain: &[String],
    codec: &Codec,
    file: &File,
    buffer: &mut ScanBuffer,
) {
    let read = AtomicU64::new(0);
    let (sender, receiver) = crossbeam_channel::bounded::<io::Result<Vec<u8>>>(HANDOFF_QUEUE);
    std::thread::scope(|scope| {
        let read = &read;
        let recorder = walk.ctx.recorder;
        scope.spawn(move || {
            let input = FileInput { file, read, at: 0 };
            // Header text is checked on this thread as the decoder crosses it.
            let sink: HeaderSink = Box::new(move |within, text| {
                crate::source::names::record(recorder, chain, within, text)
            });
            let mut decoder = match codec.decoder_with_headers(input, sink) {
                Ok(decoder) => decoder,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            };
            loop {
                let mut chunk = vec![0u8; HANDOFF_CHUNK];
                let mut filled = 0;
                let mut failed = None;
                while filled < chunk.len() {
                    match decoder.read(&mut chunk[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                chunk.truncate(filled);
                let ended = filled < HANDOFF_CHUNK;
                if filled > 0 && sender.send(Ok(chunk)).is_err() {
                    return; // the scanning side stopped
                }
                if let Some(error) = failed {
                    let _ = sender.send(Err(error));
                    return;
                }
                if ended {
                    return;
                }
            }
        });
        let mut handoff = Handoff {
            walk,
            receiver,
            read,
            chunk: Vec::new(),
            at: 0,
        };
        let mut decoded = Decoded::new(walk, chain, codec.name, &mut handoff);
        scan_member(walk, chain, &mut decoded, 1, buffer);
        let _ = super::drain(&mut decoded);
        // Dropping the receiving side ends the decoding thread at its next chunk.
    });
}

struct FileInput<'c> {
    file: &'c File,
    read: &'c AtomicU64,
    at: u64,
}

impl Read for FileInput<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Positioned reads: the file's own offset belongs to whoever sniffed it.
        match std::os::unix::fs::FileExt::read_at(self.file, out, self.at) {
            Ok(n) => {
                self.at += n as u64;
                self.read.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(io::Error::new(e.kind(), InputError(e))),
        }
    }
}

/// The scanning side: decoded chunks in order, then the end or the decoder's error.
struct Handoff<'w, 'a, 'm, 'c> {
    walk: &'w Walk<'a, 'm>,
    receiver: crossbeam_channel::Receiver<io::Result<Vec<u8>>>,
    read: &'c AtomicU64,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Handoff<'_, '_, '_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() {
            match self.receiver.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(error)) => return Err(error),
                Err(_) => return Ok(0),
            }
            self.walk.input_bytes.set(self.read.load(Ordering::Relaxed));
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::decode::testing::scan_memory;

    const SECRET: &[u8] = b"xoxp-2291-Qm7Zt3Lw9Kd2Rs7Vx4Pn";

    fn framed_snappy(text: &[u8]) -> Vec<u8> {
        let mut encoder = snap::write::FrameEncoder::new(Vec::new());
        encoder.write_all(text).expect("compress in memory");
        encoder.into_inner().expect("flush in memory")
    }

    /// The secret's two halves appear apart before it, so snappy writes it as two
    /// copies, not as a literal the raw scan would see.
    fn text() -> Vec<u8> {
        let mut text = b"kafka consumer offsets and config\n".repeat(50);
        let (first, second) = SECRET.split_at(SECRET.len() / 2);
        for half in [first, second] {
            text.extend_from_slice(b"part=");
            text.extend_from_slice(half);
            text.push(b'\n');
        }
        text.extend_from_slice(b"sasl.password=");
        text.extend_from_slice(SECRET);
        text
    }

    /// An Arrow IPC body: buffers, each its decoded length (int64) and an lz4 frame, padded
    /// to 8 bytes. The carved frame ends where the next buffer's length starts (more than
    /// 64 KiB decoded, so a failure there would have been a `corrupt` gap).
    #[test]
    fn a_carved_lz4_frame_ends_at_its_end_mark() {
        let mut body = b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00record batch".to_vec();
        for round in 0..2 {
            let mut buffer = text().repeat(1 + round);
            for i in 0..8000 {
                buffer.extend_from_slice(format!("value {i} {}\n", i * 7919 % 1013).as_bytes());
            }
            let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
            encoder.write_all(&buffer).expect("compress in memory");
            let frame = encoder.finish().expect("compress in memory");
            body.extend_from_slice(&(buffer.len() as u64).to_le_bytes());
            body.extend_from_slice(&frame);
            body.resize(body.len().next_multiple_of(8), 0);
        }
        body.extend_from_slice(b"ARROW1");
        let scanned = scan_memory(SECRET, "table.arrow", &body);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        let places = scanned.places();
        // Once in the first buffer, twice in the second.
        assert_eq!(places.len(), 3, "{places:?}");
        assert!(
            places.iter().all(|(chain, _)| chain.contains("lz4@")),
            "{places:?}"
        );
    }

    #[test]
    fn a_gzip_header_name_and_comment_are_checked() {
        let mut file = b"\x1F\x8B\x08\x1C\0\0\0\0\0\x03".to_vec();
        file.extend_from_slice(b"\x04\0abcd");
        file.extend_from_slice(b"notes.txt\0deployed with ");
        file.extend_from_slice(SECRET);
        file.push(0);
        let mut body = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        body.write_all(b"hello\n").expect("compress in memory");
        file.extend_from_slice(&body.finish().expect("compress in memory"));
        file.extend_from_slice(&crc32fast::hash(b"hello\n").to_le_bytes());
        file.extend_from_slice(&6u32.to_le_bytes());
        let scanned = scan_memory(SECRET, "notes.txt.gz", &file);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        assert_eq!(scanned.findings.len(), 1, "{:?}", scanned.places());
        let within = scanned.findings[0].location.within.as_deref();
        assert_eq!(within, Some("gzip-comment"));
    }

    #[test]
    fn the_header_of_every_gzip_member_is_checked() {
        let member = |flags: u8, fields: &[u8], body: &[u8]| {
            let mut file = vec![0x1F, 0x8B, 0x08, flags, 0, 0, 0, 0, 0, 0x03];
            file.extend_from_slice(fields);
            let mut deflate =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            deflate.write_all(body).expect("compress in memory");
            file.extend_from_slice(&deflate.finish().expect("compress in memory"));
            file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
            file.extend_from_slice(&(body.len() as u32).to_le_bytes());
            file
        };
        let mut comment = b"rotated; key ".to_vec();
        comment.extend_from_slice(SECRET);
        comment.push(0);
        let mut file = member(0x08, b"app.log.1\0", &b"first\n".repeat(5000));
        file.extend_from_slice(&member(
            0x18,
            &[b"app.log.2\0".as_slice(), &comment].concat(),
            b"second\n",
        ));
        file.extend_from_slice(&member(0, b"", b"third\n"));
        let scanned = scan_memory(SECRET, "app.log.gz", &file);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        assert_eq!(scanned.findings.len(), 1, "{:?}", scanned.places());
        let within = scanned.findings[0].location.within.as_deref();
        assert_eq!(within, Some("gzip-comment"));
    }

    #[test]
    fn framed_snappy_is_decoded_alone_and_after_a_prefix() {
        let file = framed_snappy(&text());
        assert!(memchr::memmem::find(&file, SECRET).is_none());
        let scanned = scan_memory(SECRET, "segment.sz", &file);
        assert_eq!(scanned.places().len(), 1, "{:?}", scanned.places());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        let mut carried = b"\x00\x01record header\x02".to_vec();
        carried.extend_from_slice(&file);
        let scanned = scan_memory(SECRET, "segment.bin", &carried);
        assert_eq!(scanned.places().len(), 1, "{:?}", scanned.places());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }
}
