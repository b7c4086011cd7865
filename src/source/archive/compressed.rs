//! Compressed streams: gzip, bzip2, xz and zstd, each decoded as a stream.
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
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use super::limits::Decoded;
use super::sniff::Kind;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Largest zstd window accepted (2^27 = 128 MiB, the zstd tool's own default limit).
const ZSTD_WINDOW_LOG_MAX: u32 = 27;
/// Memory an xz decoder may use (xz -9 needs 65 MiB).
const XZ_MEMORY_LIMIT: u64 = 512 << 20;

/// Bytes handed from the decoding thread to the scanning thread at a time, and how many
/// such chunks may wait.
const HANDOFF_CHUNK: usize = 1 << 20;
const HANDOFF_QUEUE: usize = 4;

/// A decoder for `kind` over `input`.
fn decoder<'r, R: Read + 'r>(kind: Kind, input: R) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match kind {
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        Kind::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMORY_LIMIT,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::read::XzDecoder::new_stream(input, stream))
        }
        Kind::Zstd => {
            let mut decoder =
                zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 17, input))?;
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
        _ => return Err(io::Error::other("not a compressed stream")),
    })
}

pub(super) fn scan(
    walk: &Walk,
    chain: &[String],
    kind: Kind,
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut decoder = match decoder(kind, input) {
        Ok(decoder) => decoder,
        Err(error) => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!("could not start a {} decoder: {error}", kind.name()),
            );
            return;
        }
    };
    let mut decoded = Decoded::new(walk, chain, kind.name(), &mut decoder);
    scan_member(walk, chain, &mut decoded, depth + 1, buffer);
    // A container may stop before the end of its stream (a tar's end marker): what follows
    // must still decode cleanly, or it is a gap.
    let _ = super::drain(&mut decoded);
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
    kind: Kind,
    file: File,
    buffer: &mut ScanBuffer,
) {
    let read = AtomicU64::new(0);
    let (sender, receiver) = crossbeam_channel::bounded::<io::Result<Vec<u8>>>(HANDOFF_QUEUE);
    std::thread::scope(|scope| {
        let read = &read;
        scope.spawn(move || {
            let input = FileInput { file, read };
            let mut decoder = match decoder(kind, input) {
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
        let mut decoded = Decoded::new(walk, chain, kind.name(), &mut handoff);
        scan_member(walk, chain, &mut decoded, 1, buffer);
        let _ = super::drain(&mut decoded);
        // Dropping the receiving side ends the decoding thread at its next chunk.
    });
}

struct FileInput<'c> {
    file: File,
    read: &'c AtomicU64,
}

impl Read for FileInput<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.file.read(out) {
            Ok(n) => {
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
