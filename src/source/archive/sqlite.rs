//! SQLite database files (`SQLite format 3\0`): every value, whole, even where SQLite split it.
//!
//! A value longer than fits in its page continues on overflow pages, each starting with the
//! 4-byte number of the next one, so a secret stored in a long value can be cut in two by a
//! page boundary and a page pointer, and a plain scan of the file misses it. This layer reads
//! the pages itself:
//!
//! - every page that is a b-tree page (table or index, leaf or interior, live or left on the
//!   freelist with its old rows) has its cells parsed; a cell whose payload spills onto
//!   overflow pages is reassembled by following the chain and scanned as a member named
//!   `page N cell I`, through the whole pipeline (a value can be a gzip blob or base64);
//! - the file itself is then scanned raw, page by page, with the bytes that went into a
//!   reassembled value blanked out, so each occurrence is reported once, and everything else
//!   (short values, freeblocks and unallocated space where deleted rows linger, freelist
//!   pages, pages of any other kind) is still read. Offsets stay those of the file, so
//!   streams carved from it are read from the file.
//!
//! Not read: a value split across a stale overflow chain whose pages were reused, and
//! content of encrypted databases (SQLCipher has no plain header and is opaque). The write-
//! ahead log (`-wal`) is a separate file, scanned as bytes; its frames hold whole pages.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::sqlite_encrypted::ChromiumValues;
use super::{buffer_whole, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"SQLite format 3\0";
/// The database header before the first page's b-tree header.
const DATABASE_HEADER: usize = 100;
/// Longest overflow chain followed: a value of this many pages is already absurd.
const MAX_CHAIN_PAGES: u32 = 1 << 20;

pub(crate) static SQLITE: Sqlite = Sqlite;

pub(crate) struct Sqlite;

impl Format for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(MAGIC) && head.len() >= DATABASE_HEADER
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let Some(bytes) = buffer_whole(walk, chain, reader, "SQLite database") else {
            return;
        };
        let source = Source::Memory(&bytes);
        read_database(walk, chain, &source, Reopen::Memory(&bytes), depth, buffer);
        walk.release(bytes.len() as u64);
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        let Ok(metadata) = file.metadata() else {
            return false;
        };
        let source = Source::File(file, metadata.len());
        walk.input_size_known(metadata.len());
        read_database(
            walk,
            chain,
            &source,
            Reopen::File(file, Some(metadata.len())),
            0,
            buffer,
        );
        true
    }
}

/// Where the pages are read from: bytes in memory or a file read in place (also what other
/// random-access formats read from).
pub(super) enum Source<'a> {
    Memory(&'a [u8]),
    File(&'a File, u64),
}

impl Source<'_> {
    pub(super) fn len(&self) -> u64 {
        match self {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::File(_, len) => *len,
        }
    }

    /// Reads `out.len()` bytes at `offset`; past the end it reads what there is and zeroes
    /// the rest, returning how many bytes were real.
    pub(super) fn read_at(&self, offset: u64, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Memory(bytes) => {
                let start = (offset as usize).min(bytes.len());
                let n = out.len().min(bytes.len() - start);
                out[..n].copy_from_slice(&bytes[start..start + n]);
                out[n..].fill(0);
                Ok(n)
            }
            Source::File(file, _) => {
                let mut filled = 0;
                while filled < out.len() {
                    match file.read_at(&mut out[filled..], offset + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
                out[filled..].fill(0);
                Ok(filled)
            }
        }
    }
}

/// The geometry of a database, from its header.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    page_size: usize,
    /// Bytes of each page that hold b-tree content (the rest is reserved for extensions).
    usable: usize,
    pages: u32,
}

fn geometry(header: &[u8], file_len: u64) -> Option<Geometry> {
    let raw = u16::from_be_bytes([header[16], header[17]]) as usize;
    let page_size = if raw == 1 { 65536 } else { raw };
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return None;
    }
    let reserved = header[20] as usize;
    let usable = page_size.checked_sub(reserved)?;
    if usable < 480 {
        return None;
    }
    // The page count in the header is trusted only when it is not stale; the file's length
    // says how many pages there are anyway.
    let pages = file_len.div_ceil(page_size as u64).min(u32::MAX as u64) as u32;
    Some(Geometry {
        page_size,
        usable,
        pages,
    })
}

fn read_database(
    walk: &Walk,
    chain: &[String],
    source: &Source,
    reopen: Reopen,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut header = [0u8; DATABASE_HEADER];
    let geometry = match source.read_at(0, &mut header) {
        Ok(n) if n == DATABASE_HEADER => geometry(&header, source.len()),
        _ => None,
    };
    let Some(geometry) = geometry else {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the SQLite header gives no valid page size; its pages were not parsed, the file \
             was scanned as bytes"
                .to_string(),
        );
        scan_raw(
            walk,
            chain,
            source,
            None,
            &HashMap::new(),
            reopen,
            depth,
            buffer,
        );
        return;
    };
    let mut blanked: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
    let mut chromium = ChromiumValues::default();
    let mut page = vec![0u8; geometry.page_size];
    for number in 1..=geometry.pages {
        if walk.check_running().is_err() {
            return;
        }
        let offset = (number as u64 - 1) * geometry.page_size as u64;
        if let Err(error) = source.read_at(offset, &mut page) {
            walk.fail(
                GapKind::ReadError,
                chain,
                format!("could not read SQLite page {number}: {error}"),
            );
            return;
        }
        chromium.page(&page);
        let Some(cells) = btree_cells(&page, number, geometry.usable) else {
            continue;
        };
        for (index, cell) in cells.iter().enumerate() {
            let Some(first_overflow) = cell.overflow else {
                chromium.record(&page[cell.local_start..cell.local_start + cell.local_len]);
                continue;
            };
            let mut member = chain.to_vec();
            member.push(format!("page {number} cell {index}"));
            match reassemble(walk, source, geometry, &page, cell, first_overflow) {
                Ok((value, used)) => {
                    chromium.record(&value);
                    walk.entering(&member);
                    scan_member(walk, &member, &mut &value[..], depth + 1, buffer);
                    walk.release(value.len() as u64);
                    let local = blanked.entry(number).or_default();
                    local.push((cell.local_start, cell.local_len));
                    for (page_number, start, len) in used {
                        blanked.entry(page_number).or_default().push((start, len));
                    }
                }
                Err(why) => {
                    walk.fail(
                        GapKind::Corrupt,
                        &member,
                        format!("{why}; the parts of the value were scanned as bytes"),
                    );
                }
            }
        }
    }
    chromium.report(walk, chain);
    scan_raw(
        walk,
        chain,
        source,
        Some(geometry),
        &blanked,
        reopen,
        depth,
        buffer,
    );
}

/// A cell's payload: where its local part lies in the page, and the first overflow page.
#[derive(Debug)]
struct Cell {
    payload: u64,
    local_start: usize,
    local_len: usize,
    overflow: Option<u32>,
}

/// The cells of `page` if it is a b-tree page (of any kind), else `None`.
fn btree_cells(page: &[u8], number: u32, usable: usize) -> Option<Vec<Cell>> {
    let at = if number == 1 { DATABASE_HEADER } else { 0 };
    let kind = *page.get(at)?;
    let (leaf, table) = match kind {
        0x0D => (true, true),
        0x05 => (false, true),
        0x0A => (true, false),
        0x02 => (false, false),
        _ => return None,
    };
    if !leaf && table {
        return Some(Vec::new()); // interior table cells hold only keys
    }
    let header_len = if leaf { 8 } else { 12 };
    let count = u16::from_be_bytes([*page.get(at + 3)?, *page.get(at + 4)?]) as usize;
    let pointers = at + header_len;
    if pointers + 2 * count > usable {
        return None;
    }
    let mut cells = Vec::with_capacity(count);
    for i in 0..count {
        let pointer = u16::from_be_bytes([page[pointers + 2 * i], page[pointers + 2 * i + 1]]);
        if let Some(cell) = parse_cell(page, pointer as usize, leaf, table, usable) {
            cells.push(cell);
        }
    }
    Some(cells)
}

fn parse_cell(page: &[u8], start: usize, leaf: bool, table: bool, usable: usize) -> Option<Cell> {
    let mut at = start;
    if !leaf {
        at += 4; // left child page number
    }
    let (payload, n) = varint(page.get(at..usable)?)?;
    at += n;
    if table {
        let (_rowid, n) = varint(page.get(at..usable)?)?;
        at += n;
    }
    let local = local_payload(payload, usable, table);
    if at + local > usable {
        return None;
    }
    let overflow = if (local as u64) < payload {
        let bytes = page.get(at + local..at + local + 4)?;
        let next = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        Some(next).filter(|&n| n != 0)
    } else {
        None
    };
    Some(Cell {
        payload,
        local_start: at,
        local_len: local,
        overflow,
    })
}

/// How much of a payload of `payload` bytes is stored in its b-tree page (the SQLite file
/// format, section 1.6).
fn local_payload(payload: u64, usable: usize, table: bool) -> usize {
    let usable = usable as u64;
    let most = if table {
        usable - 35
    } else {
        (usable - 12) * 64 / 255 - 23
    };
    if payload <= most {
        return payload as usize;
    }
    let least = (usable - 12) * 32 / 255 - 23;
    let k = least + (payload - least) % (usable - 4);
    (if k <= most { k } else { least }) as usize
}

/// The whole payload of `cell`: its local part, then each overflow page's content in
/// order. Returns the value and the (page, start, length) of every overflow byte used.
#[allow(clippy::type_complexity)]
fn reassemble(
    walk: &Walk,
    source: &Source,
    geometry: Geometry,
    page: &[u8],
    cell: &Cell,
    first: u32,
) -> Result<(Vec<u8>, Vec<(u32, usize, usize)>), String> {
    if !walk.reserve(cell.payload) {
        return Err(format!(
            "a value of {} bytes is larger than the memory left (--archive-max-buffer)",
            cell.payload
        ));
    }
    let mut value = Vec::with_capacity(cell.payload as usize);
    value.extend_from_slice(&page[cell.local_start..cell.local_start + cell.local_len]);
    let mut used = Vec::new();
    let mut next = first;
    let mut overflow = vec![0u8; geometry.usable];
    let mut followed = 0u32;
    while (value.len() as u64) < cell.payload {
        if next == 0 || next > geometry.pages || followed >= MAX_CHAIN_PAGES {
            walk.release(cell.payload);
            return Err(format!(
                "an overflow chain breaks off after {followed} pages ({} of {} bytes)",
                value.len(),
                cell.payload
            ));
        }
        followed += 1;
        let offset = (next as u64 - 1) * geometry.page_size as u64;
        if source.read_at(offset, &mut overflow).is_err() {
            walk.release(cell.payload);
            return Err(format!("could not read overflow page {next}"));
        }
        let want = (cell.payload - value.len() as u64).min(geometry.usable as u64 - 4) as usize;
        value.extend_from_slice(&overflow[4..4 + want]);
        used.push((next, 0, 4 + want));
        next = u32::from_be_bytes([overflow[0], overflow[1], overflow[2], overflow[3]]);
    }
    Ok((value, used))
}

/// A SQLite varint: 1 to 9 bytes, big-endian, 7 bits a byte (all 8 in the ninth).
pub(super) fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Some(((value << 8) | byte as u64, 9));
        }
        value = (value << 7) | (byte & 0x7F) as u64;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Scans the file's bytes, page by page, with what went into reassembled values blanked.
#[allow(clippy::too_many_arguments)]
fn scan_raw(
    walk: &Walk,
    chain: &[String],
    source: &Source,
    geometry: Option<Geometry>,
    blanked: &HashMap<u32, Vec<(usize, usize)>>,
    reopen: Reopen,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let page_size = geometry.map_or(1 << 16, |g| g.page_size);
    let mut pages = BlankedPages {
        source,
        blanked,
        page_size,
        next: 1,
        page: Vec::new(),
        at: 0,
    };
    leaf::scan(
        walk,
        chain,
        &mut pages,
        depth,
        reopen,
        leaf::Kind::Plain,
        buffer,
    );
}

/// The file as a stream of pages with ranges blanked (zeroed).
struct BlankedPages<'s, 'b> {
    source: &'s Source<'s>,
    blanked: &'b HashMap<u32, Vec<(usize, usize)>>,
    page_size: usize,
    next: u32,
    page: Vec<u8>,
    at: usize,
}

impl Read for BlankedPages<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.page.len() {
            let offset = (self.next as u64 - 1) * self.page_size as u64;
            if offset >= self.source.len() {
                return Ok(0);
            }
            self.page.resize(self.page_size, 0);
            let n = self.source.read_at(offset, &mut self.page)?;
            self.page.truncate(n);
            if let Some(ranges) = self.blanked.get(&self.next) {
                for &(start, len) in ranges {
                    let end = (start + len).min(self.page.len());
                    self.page[start.min(end)..end].fill(0);
                }
            }
            self.next += 1;
            self.at = 0;
            if n == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.page.len() - self.at);
        out[..n].copy_from_slice(&self.page[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xFF; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    #[test]
    fn local_payload_follows_the_file_format() {
        // 4096-byte pages: table leaves keep up to 4061 bytes in the page.
        assert_eq!(local_payload(4061, 4096, true), 4061);
        let spilled = local_payload(10_000, 4096, true);
        assert!((489..4061).contains(&spilled), "{spilled}");
        assert_eq!(local_payload(100, 4096, false), 100);
    }

    #[test]
    fn only_the_sqlite_magic_is_recognised() {
        let mut head = MAGIC.to_vec();
        head.resize(DATABASE_HEADER, 0);
        assert!(SQLITE.recognise(&head, Place::Filesystem));
        assert!(!SQLITE.recognise(b"SQLite format 2\0 and more text", Place::Filesystem));
    }
}
