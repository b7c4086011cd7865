//! Redis RDB snapshots (`dump.rdb`, `REDIS0009`…`REDIS0012`): every key and value, with
//! LZF-compressed strings decompressed.
//!
//! Redis compresses every string value longer than 20 bytes with LZF when that saves space
//! (`rdbcompression yes`, the default). LZF cuts literal runs every 32 bytes with a control
//! byte, so a secret in a compressible value is not in the file's raw bytes. This layer
//! parses the snapshot as a stream: the opcodes (aux fields, database selectors, expiry
//! times, functions, module aux data), then each key and its value in every encoding Redis
//! writes — plain strings, lists, sets, sorted sets, hashes, and the blobs of ziplists,
//! listpacks, intsets, zipmaps and quicklists (their entries are raw bytes inside the
//! blob), streams with their consumer groups, and module values. Every string goes through
//! the pipeline (LZF ones decompressed, within the expansion and buffer limits): short ones
//! are gathered, one per line, into batches scanned as one member; long ones are scanned
//! alone, so a value that is itself a gzip or a zip is opened.
//!
//! A value type or opcode this layer does not know (a newer Redis, a module's type of the
//! old format) is an `unsupported` gap, and the rest of the file is scanned raw.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::{drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

pub(crate) static RDB: Rdb = Rdb;

pub(crate) struct Rdb;

/// Strings of at least this many bytes are scanned alone, not batched.
const ALONE: u64 = 4 << 10;
/// A batch of short strings is scanned once it holds this many bytes.
const BATCH: usize = 256 << 10;
/// Largest LZF string accepted (Redis's own limit on a value is 512 MiB).
const MAX_LZF: u64 = 512 << 20;

impl Format for Rdb {
    fn name(&self) -> &'static str {
        "redis rdb"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() >= 10 && head.starts_with(b"REDIS") && head[5..9].iter().all(u8::is_ascii_digit)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        // The parser reads field by field: buffered, so a field is not a read call.
        let mut buffered = std::io::BufReader::with_capacity(1 << 16, reader);
        let mut parser = Parser {
            walk,
            chain,
            depth,
            input: &mut buffered,
            offset: 0,
            batch: Vec::new(),
        };
        let outcome = parser.snapshot(buffer);
        parser.flush(buffer);
        let Parser { input, offset, .. } = parser;
        match outcome {
            Ok(()) => {
                // The checksum follows the EOF opcode; anything after it is scanned raw.
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
            Err(Stop::Reported) => {}
            Err(Stop::Unknown(what)) => {
                walk.fail(
                    GapKind::Unsupported,
                    chain,
                    format!(
                        "{what} at byte {offset} of the Redis snapshot is not understood by \
                         scour; the rest of the file was scanned raw, LZF-compressed values in \
                         it were not decompressed"
                    ),
                );
                leaf::scan(
                    walk,
                    chain,
                    input,
                    depth + 1,
                    Reopen::None,
                    leaf::Kind::Accounted,
                    buffer,
                );
            }
            Err(Stop::Io(error)) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    &format!("the Redis snapshot is damaged or truncated at byte {offset}"),
                    &error,
                );
                let _ = drain(input);
            }
        }
    }
}

/// Why parsing stopped.
enum Stop {
    /// A value type or opcode this layer cannot parse.
    Unknown(String),
    /// A read error or truncation.
    Io(io::Error),
    /// Already recorded as a gap (a limit, a nested layer's failure).
    Reported,
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Stop {
        if super::is_reported(&error) {
            Stop::Reported
        } else {
            Stop::Io(error)
        }
    }
}

type Parsed<T> = Result<T, Stop>;

/// A length field: a length, or one of the special string encodings.
enum Length {
    Plain(u64),
    /// An integer stored as 1, 2 or 4 bytes.
    Integer(usize),
    Lzf,
}

struct Parser<'w, 'a, 'm, 'c, 'r> {
    walk: &'w Walk<'a, 'm>,
    chain: &'c [String],
    depth: u32,
    input: &'r mut dyn Read,
    offset: u64,
    batch: Vec<u8>,
}

impl Parser<'_, '_, '_, '_, '_> {
    fn snapshot(&mut self, buffer: &mut ScanBuffer) -> Parsed<()> {
        let mut magic = [0u8; 9];
        self.bytes(&mut magic)?;
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|digits| digits.parse::<u32>().ok())
            .unwrap_or(0);
        loop {
            self.walk.check_running()?;
            let opcode = self.byte()?;
            match opcode {
                // EOF; a checksum follows from version 5 on.
                0xFF => {
                    if version >= 5 {
                        self.skip(8)?;
                    }
                    return Ok(());
                }
                0xFE | 0xF8 => {
                    self.length()?;
                }
                0xFD => self.skip(4)?,
                0xFC => self.skip(8)?,
                0xFB => {
                    self.length()?;
                    self.length()?;
                }
                0xFA => {
                    self.string(buffer)?;
                    self.string(buffer)?;
                }
                0xF9 => self.skip(1)?,
                0xF7 => {
                    self.length()?; // module id
                    self.length()?; // when opcode
                    self.length()?; // when
                    self.module_values(buffer)?;
                }
                0xF5 => self.string(buffer)?,
                // Slot info (Redis 7.4): slot id, slot size, expires slot size.
                0xF4 => {
                    for _ in 0..3 {
                        self.length()?;
                    }
                }
                value_type => {
                    self.string(buffer)?; // the key
                    self.value(value_type, buffer)?;
                }
            }
        }
    }

    /// One value of `value_type` (RDB_TYPE_* in Redis's rdb.h).
    fn value(&mut self, value_type: u8, buffer: &mut ScanBuffer) -> Parsed<()> {
        match value_type {
            // A string; a ziplist, listpack, intset or zipmap blob.
            0 | 9..=13 | 16 | 17 | 20 => self.string(buffer),
            // List, set: n strings.
            1 | 2 => {
                for _ in 0..self.count()? {
                    self.string(buffer)?;
                }
                Ok(())
            }
            // Sorted set: members with a score as a string of 1-byte length.
            3 => {
                for _ in 0..self.count()? {
                    self.string(buffer)?;
                    let len = self.byte()?;
                    if len < 253 {
                        self.skip(u64::from(len))?;
                    }
                }
                Ok(())
            }
            // Hash: n field, value pairs.
            4 => {
                for _ in 0..self.count()? {
                    self.string(buffer)?;
                    self.string(buffer)?;
                }
                Ok(())
            }
            // Sorted set 2: members with a binary double score.
            5 => {
                for _ in 0..self.count()? {
                    self.string(buffer)?;
                    self.skip(8)?;
                }
                Ok(())
            }
            // A module value: the module id, then typed values up to an EOF opcode.
            7 => {
                self.length()?;
                self.module_values(buffer)
            }
            // Quicklist: n ziplists.
            14 => {
                for _ in 0..self.count()? {
                    self.string(buffer)?;
                }
                Ok(())
            }
            // Quicklist 2: n (container kind, listpack or plain node).
            18 => {
                for _ in 0..self.count()? {
                    self.length()?;
                    self.string(buffer)?;
                }
                Ok(())
            }
            15 | 19 | 21 => self.stream(value_type, buffer),
            other => Err(Stop::Unknown(format!("Redis value type {other}"))),
        }
    }

    /// A stream: its listpacks (keyed by master id), its metadata, its consumer groups.
    fn stream(&mut self, value_type: u8, buffer: &mut ScanBuffer) -> Parsed<()> {
        for _ in 0..self.count()? {
            self.string(buffer)?; // master entry id
            self.string(buffer)?; // listpack of entries
        }
        // Length, last id; from version 2 on also first id, max deleted id, entries added.
        let metadata = if value_type == 15 { 3 } else { 8 };
        for _ in 0..metadata {
            self.length()?;
        }
        for _ in 0..self.count()? {
            self.string(buffer)?; // group name
            self.length()?; // last delivered id
            self.length()?;
            if value_type != 15 {
                self.length()?; // entries read
            }
            // The group's pending entries: a raw id, a delivery time and count each.
            for _ in 0..self.count()? {
                self.skip(16 + 8)?;
                self.length()?;
            }
            for _ in 0..self.count()? {
                self.string(buffer)?; // consumer name
                self.skip(8)?; // seen time
                if value_type == 21 {
                    self.skip(8)?; // active time
                }
                let pending = self.count()?;
                self.skip(pending.saturating_mul(16))?;
            }
        }
        Ok(())
    }

    /// Values a module wrote with the typed API, up to its EOF opcode.
    fn module_values(&mut self, buffer: &mut ScanBuffer) -> Parsed<()> {
        loop {
            match self.count()? {
                0 => return Ok(()),
                1 | 2 => {
                    self.length()?;
                }
                3 => self.skip(4)?,
                4 => self.skip(8)?,
                5 => self.string(buffer)?,
                other => return Err(Stop::Unknown(format!("module value opcode {other}"))),
            }
        }
    }

    /// A length field.
    fn length(&mut self) -> Parsed<Length> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => Length::Plain(u64::from(first & 0x3F)),
            1 => Length::Plain((u64::from(first & 0x3F) << 8) | u64::from(self.byte()?)),
            2 => match first {
                0x80 => {
                    let mut field = [0u8; 4];
                    self.bytes(&mut field)?;
                    Length::Plain(u64::from(u32::from_be_bytes(field)))
                }
                0x81 => {
                    let mut field = [0u8; 8];
                    self.bytes(&mut field)?;
                    Length::Plain(u64::from_be_bytes(field))
                }
                other => return Err(Stop::Unknown(format!("length encoding {other:#x}"))),
            },
            _ => match first & 0x3F {
                0 => Length::Integer(1),
                1 => Length::Integer(2),
                2 => Length::Integer(4),
                3 => Length::Lzf,
                other => return Err(Stop::Unknown(format!("string encoding {other}"))),
            },
        })
    }

    /// A length that must be a plain count.
    fn count(&mut self) -> Parsed<u64> {
        match self.length()? {
            Length::Plain(n) => Ok(n),
            _ => Err(Stop::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "a string encoding where a count belongs",
            ))),
        }
    }

    /// A string, scanned.
    fn string(&mut self, buffer: &mut ScanBuffer) -> Parsed<()> {
        match self.length()? {
            Length::Integer(size) => self.skip(size as u64),
            Length::Plain(len) if len >= ALONE => {
                self.flush(buffer);
                let start = self.offset;
                let mut value = Counting {
                    inner: (&mut *self.input).take(len),
                    count: 0,
                };
                scan_member(self.walk, self.chain, &mut value, self.depth + 1, buffer);
                let rest = drain(&mut value);
                self.offset = start + value.count;
                rest?;
                self.walk.check_running()?;
                if value.count < len {
                    return Err(truncated());
                }
                Ok(())
            }
            Length::Plain(len) => {
                let at = self.batch.len();
                self.batch.resize(at + len as usize, 0);
                let mut value = std::mem::take(&mut self.batch);
                let read = self.bytes(&mut value[at..]);
                self.batch = value;
                read?;
                self.batch.push(b'\n');
                if self.batch.len() >= BATCH {
                    self.flush(buffer);
                }
                Ok(())
            }
            Length::Lzf => {
                let compressed_len = self.count()?;
                let decompressed_len = self.count()?;
                self.lzf(compressed_len, decompressed_len, buffer)
            }
        }
    }

    /// An LZF-compressed string: decompressed in memory (within the buffer limit) and
    /// scanned.
    fn lzf(
        &mut self,
        compressed_len: u64,
        decompressed_len: u64,
        buffer: &mut ScanBuffer,
    ) -> Parsed<()> {
        let reserve = compressed_len.saturating_add(decompressed_len);
        if compressed_len > MAX_LZF || decompressed_len > MAX_LZF || !self.walk.reserve(reserve) {
            self.walk.fail(
                GapKind::LimitExceeded,
                self.chain,
                format!(
                    "an LZF-compressed value of {decompressed_len} bytes at byte {} is larger \
                     than the memory left for decompressing it (--archive-max-buffer); not \
                     decompressed",
                    self.offset
                ),
            );
            self.skip(compressed_len)?;
            return Ok(());
        }
        let result = self.lzf_reserved(compressed_len, decompressed_len, buffer);
        self.walk.release(reserve);
        result
    }

    fn lzf_reserved(
        &mut self,
        compressed_len: u64,
        decompressed_len: u64,
        buffer: &mut ScanBuffer,
    ) -> Parsed<()> {
        // Read before allocating: a length field alone must not reserve memory.
        let mut compressed = Vec::new();
        let at = self.offset;
        let read = (&mut *self.input)
            .take(compressed_len)
            .read_to_end(&mut compressed)?;
        self.offset += read as u64;
        if (read as u64) < compressed_len {
            return Err(truncated());
        }
        let decompressed = match lzf_decompress(&compressed, decompressed_len as usize) {
            Some(bytes) => bytes,
            None => {
                self.walk.fail(
                    GapKind::Corrupt,
                    self.chain,
                    format!(
                        "the LZF-compressed value at byte {at} does not decompress; its raw bytes \
                         were scanned"
                    ),
                );
                self.batch.extend_from_slice(&compressed);
                self.batch.push(b'\n');
                return Ok(());
            }
        };
        self.walk.expanded(decompressed.len() as u64, self.chain)?;
        if decompressed.len() as u64 >= ALONE {
            self.flush(buffer);
            let mut reader = &decompressed[..];
            scan_member(self.walk, self.chain, &mut reader, self.depth + 1, buffer);
        } else {
            self.batch.extend_from_slice(&decompressed);
            self.batch.push(b'\n');
            if self.batch.len() >= BATCH {
                self.flush(buffer);
            }
        }
        Ok(())
    }

    /// Scans the batch of short strings gathered so far.
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

    fn byte(&mut self) -> Parsed<u8> {
        let mut byte = [0u8; 1];
        self.bytes(&mut byte)?;
        Ok(byte[0])
    }

    fn bytes(&mut self, out: &mut [u8]) -> Parsed<()> {
        let mut filled = 0;
        while filled < out.len() {
            match self.input.read(&mut out[filled..]) {
                Ok(0) => return Err(truncated()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        self.offset += out.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Parsed<()> {
        let skipped = io::copy(&mut (&mut *self.input).take(n), &mut io::sink())?;
        self.offset += skipped;
        if skipped < n {
            return Err(truncated());
        }
        Ok(())
    }
}

fn truncated() -> Stop {
    Stop::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the Redis snapshot ends inside a record",
    ))
}

struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Decompresses LZF (liblzf, as Redis uses it) into exactly `expected` bytes; `None` if the
/// data is not valid LZF of that size.
fn lzf_decompress(input: &[u8], expected: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    let mut at = 0;
    while at < input.len() {
        let control = usize::from(input[at]);
        at += 1;
        if control < 32 {
            // A literal run of control + 1 bytes.
            let run = input.get(at..at + control + 1)?;
            out.extend_from_slice(run);
            at += control + 1;
        } else {
            // A back reference: length in the top 3 bits (7 = more in the next byte).
            let mut len = control >> 5;
            if len == 7 {
                len += usize::from(*input.get(at)?);
                at += 1;
            }
            let low = usize::from(*input.get(at)?);
            at += 1;
            let distance = ((control & 0x1F) << 8) + low + 1;
            let start = out.len().checked_sub(distance)?;
            for i in 0..len + 2 {
                let byte = out[start + i];
                out.push(byte);
            }
        }
        if out.len() > expected {
            return None;
        }
    }
    (out.len() == expected).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzf_literals_and_back_references() {
        // "abcabcabcX": a literal "abc", a back reference of 6 at distance 3, a literal.
        let compressed = [2, b'a', b'b', b'c', (4 << 5), 2, 0, b'X'];
        assert_eq!(
            lzf_decompress(&compressed, 10).as_deref(),
            Some(&b"abcabcabcX"[..])
        );
        assert_eq!(lzf_decompress(&compressed, 9), None);
        // A reference before the start of the output is corrupt.
        assert_eq!(lzf_decompress(&[0x20, 5], 2), None);
        assert_eq!(lzf_decompress(&[5, b'a'], 6), None);
    }

    #[test]
    fn recognised_by_its_header() {
        assert!(RDB.recognise(b"REDIS0011\xfa\x09redis-ver", Place::Inside));
        assert!(!RDB.recognise(b"REDIS is a database", Place::Inside));
    }
}
