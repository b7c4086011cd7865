//! systemd journal files (`LPKSHHRH`, `*.journal`, `*.journal~`; what `journalctl --file`
//! reads): every DATA object's payload (`FIELD=value`), decompressed when the object is
//! xz, lz4 or zstd compressed.
//!
//! journald compresses every field value above a threshold (512 bytes by default), so a
//! secret in a long log message is not in the file's raw bytes. The file is read as a
//! stream of objects from the end of its header: each object's header gives its type, its
//! compression flags and its size. DATA payloads (at byte 64 of the object, 72 in compact
//! mode) are decompressed if flagged and scanned: uncompressed ones gathered, one per line,
//! into batches scanned as one member, compressed ones each as a member. FIELD objects'
//! names are scanned too; entries, hash tables, entry arrays and tags hold offsets and
//! hashes only. What follows the last object (the unused, zeroed part of the arena) is
//! scanned raw.
//!
//! A damaged object header stops the walk: a `corrupt` gap, and the rest of the file is
//! scanned raw. A payload that does not decompress is a `corrupt` gap and its raw bytes are
//! scanned.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::limits::Decoded;
use super::{drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const SIGNATURE: &[u8] = b"LPKSHHRH";
/// Incompatible flag: DATA objects carry the compact-mode tail fields.
const COMPACT: u32 = 1 << 4;
/// Object compression flags.
const OBJECT_XZ: u8 = 1;
const OBJECT_LZ4: u8 = 2;
const OBJECT_ZSTD: u8 = 4;
const TYPE_DATA: u8 = 1;
const TYPE_FIELD: u8 = 2;
const TYPE_TAG: u8 = 7;
/// Largest object read (journald refuses fields above 64 MiB uncompressed by default).
const MAX_OBJECT: u64 = 768 << 20;
/// A batch of short payloads is scanned once it holds this many bytes.
const BATCH: usize = 256 << 10;

pub(crate) static JOURNAL: Journal = Journal;

pub(crate) struct Journal;

impl Format for Journal {
    fn name(&self) -> &'static str {
        "systemd journal"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() >= 104 && head.starts_with(SIGNATURE) && {
            let header_size = le64(head, 88);
            (208..=4096).contains(&header_size) && header_size.is_multiple_of(8)
        }
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        // Objects are read header by header: buffered, so a header is not a read call.
        let mut buffered = std::io::BufReader::with_capacity(1 << 16, reader);
        let mut walker = Objects {
            walk,
            chain,
            depth,
            input: &mut buffered,
            offset: 0,
            batch: Vec::new(),
        };
        let outcome = walker.read(buffer);
        walker.flush(buffer);
        let Objects { input, offset, .. } = walker;
        match outcome {
            Ok(()) => {}
            Err(error) if super::is_reported(&error) => return,
            Err(error) => {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    format!(
                        "the journal's objects stop making sense at byte {offset} ({error}); \
                         the rest of the file was scanned raw, compressed fields in it were \
                         not decompressed"
                    ),
                );
            }
        }
        leaf::scan(
            walk,
            chain,
            input,
            depth + 1,
            Reopen::None,
            leaf::Kind::Plain,
            buffer,
        );
    }
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    let mut field = [0u8; 8];
    field.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(field)
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

struct Objects<'w, 'a, 'm, 'c, 'r> {
    walk: &'w Walk<'a, 'm>,
    chain: &'c [String],
    depth: u32,
    input: &'r mut dyn Read,
    offset: u64,
    batch: Vec<u8>,
}

impl Objects<'_, '_, '_, '_, '_> {
    /// Reads the header and every object; `Ok` at the first unused (zero) object header
    /// or the end of the file.
    fn read(&mut self, buffer: &mut ScanBuffer) -> io::Result<()> {
        let mut header = [0u8; 104];
        self.bytes(&mut header)?;
        let incompatible = u32::from_le_bytes([header[12], header[13], header[14], header[15]]);
        let header_size = le64(&header, 88);
        self.skip(header_size.saturating_sub(104))?;
        let payload_at: u64 = if incompatible & COMPACT != 0 { 72 } else { 64 };
        loop {
            self.walk.check_running()?;
            let mut object = [0u8; 16];
            let got = self.bytes_up_to(&mut object)?;
            if got == 0 || object.iter().all(|&b| b == 0) {
                return Ok(());
            }
            if got < object.len() {
                return Err(invalid("the file ends inside an object header".into()));
            }
            let kind = object[0];
            let flags = object[1];
            let size = le64(&object, 8);
            if !(1..=TYPE_TAG).contains(&kind) || !(16..=MAX_OBJECT).contains(&size) {
                return Err(invalid(format!("an object of type {kind} and size {size}")));
            }
            let padded = size.div_ceil(8) * 8;
            match kind {
                TYPE_DATA if size > payload_at => {
                    self.skip(payload_at - 16)?;
                    self.payload(size - payload_at, flags, buffer)?;
                    self.skip(padded - size)?;
                }
                TYPE_FIELD if size > 40 => {
                    // Hash, next hash offset, head data offset; then the field name.
                    self.skip(24)?;
                    self.payload(size - 40, 0, buffer)?;
                    self.skip(padded - size)?;
                }
                _ => self.skip(padded - 16)?,
            }
        }
    }

    /// A payload of `len` bytes with the object's compression `flags`.
    fn payload(&mut self, len: u64, flags: u8, buffer: &mut ScanBuffer) -> io::Result<()> {
        if !self.walk.reserve(len) {
            self.walk.fail(
                GapKind::LimitExceeded,
                self.chain,
                format!(
                    "a journal field of {len} bytes at byte {} is larger than the memory left \
                     for reading it (--archive-max-buffer); not scanned",
                    self.offset
                ),
            );
            return self.skip(len);
        }
        // Read before allocating: a size field alone must not reserve memory.
        let mut payload = Vec::new();
        let read = (&mut *self.input)
            .take(len)
            .read_to_end(&mut payload)
            .and_then(|n| {
                self.offset += n as u64;
                if (n as u64) < len {
                    Err(invalid("the file ends inside an object".into()))
                } else {
                    Ok(())
                }
            });
        let result = read.and_then(|()| self.scan_payload(&payload, flags, buffer));
        self.walk.release(len);
        result
    }

    fn scan_payload(
        &mut self,
        payload: &[u8],
        flags: u8,
        buffer: &mut ScanBuffer,
    ) -> io::Result<()> {
        let compression = flags & (OBJECT_XZ | OBJECT_LZ4 | OBJECT_ZSTD);
        if compression == 0 {
            self.batch.extend_from_slice(payload);
            self.batch.push(b'\n');
            if self.batch.len() >= BATCH {
                self.flush(buffer);
            }
            return Ok(());
        }
        self.flush(buffer);
        let at = self.offset - payload.len() as u64;
        let (name, mut decoder): (&'static str, Box<dyn Read + '_>) = match compression {
            OBJECT_XZ => (
                "xz (journal field)",
                Box::new(liblzma::read::XzDecoder::new(payload)),
            ),
            OBJECT_ZSTD => (
                "zstd (journal field)",
                Box::new(zstd::stream::read::Decoder::new(payload)?),
            ),
            OBJECT_LZ4 => match lz4_block(payload) {
                Some(bytes) => ("lz4 (journal field)", Box::new(io::Cursor::new(bytes))),
                None => {
                    self.walk.fail(
                        GapKind::Corrupt,
                        self.chain,
                        format!(
                            "the lz4-compressed journal field at byte {at} does not \
                             decompress; its raw bytes were scanned"
                        ),
                    );
                    let mut raw = payload;
                    scan_member(self.walk, self.chain, &mut raw, self.depth + 1, buffer);
                    return Ok(());
                }
            },
            other => {
                return Err(invalid(format!("compression flags {other:#x}")));
            }
        };
        let mut decoded = Decoded::new(self.walk, self.chain, name, &mut decoder);
        scan_member(self.walk, self.chain, &mut decoded, self.depth + 1, buffer);
        let _ = drain(&mut decoded);
        self.walk.check_running()
    }

    fn flush(&mut self, buffer: &mut ScanBuffer) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let mut reader = &batch[..];
        scan_member(self.walk, self.chain, &mut reader, self.depth + 1, buffer);
        self.batch = batch;
        self.batch.clear();
    }

    fn bytes_up_to(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < out.len() {
            match self.input.read(&mut out[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.offset += filled as u64;
        Ok(filled)
    }

    fn bytes(&mut self, out: &mut [u8]) -> io::Result<()> {
        if self.bytes_up_to(out)? < out.len() {
            return Err(invalid("the file ends inside an object".into()));
        }
        Ok(())
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let skipped = io::copy(&mut (&mut *self.input).take(n), &mut io::sink())?;
        self.offset += skipped;
        if skipped < n {
            return Err(invalid("the file ends inside an object".into()));
        }
        Ok(())
    }
}

/// journald's lz4 payload: the decompressed size (64-bit little-endian), then one lz4
/// block.
fn lz4_block(payload: &[u8]) -> Option<Vec<u8>> {
    let size = usize::try_from(u64::from_le_bytes(payload.get(..8)?.try_into().ok()?)).ok()?;
    if size as u64 > MAX_OBJECT {
        return None;
    }
    lz4_flex::block::decompress(&payload[8..], size).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_payloads_carry_their_size() {
        let message = b"MESSAGE=hello hello hello hello hello hello";
        let mut payload = (message.len() as u64).to_le_bytes().to_vec();
        payload.extend(lz4_flex::block::compress(message));
        assert_eq!(lz4_block(&payload).as_deref(), Some(&message[..]));
        assert_eq!(lz4_block(&payload[..4]), None);
    }

    #[test]
    fn recognised_by_signature_and_header_size() {
        let mut head = vec![0u8; 256];
        head[..8].copy_from_slice(SIGNATURE);
        head[88..96].copy_from_slice(&272u64.to_le_bytes());
        assert!(JOURNAL.recognise(&head, Place::Inside));
        head[88..96].copy_from_slice(&3u64.to_le_bytes());
        assert!(!JOURNAL.recognise(&head, Place::Inside));
    }
}
