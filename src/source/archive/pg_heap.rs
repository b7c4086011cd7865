//! PostgreSQL data files (`base/<db>/<relfilenode>`, a cluster's heap and TOAST tables):
//! every page scanned raw, and every compressed value found in a page decompressed.
//!
//! PostgreSQL compresses a long value (over ~2 KB) before storing it, with pglz (its own
//! LZ77) or, from version 14 on, lz4. A compressed value stored in its row (an *inline*
//! compressed datum: a 4-byte varlena header whose low bits are `10`, the raw size and
//! method, then the compressed bytes) hides its text from a raw scan. Rows are not parsed
//! against the table's schema, which lives in the catalog; instead every 4-byte-aligned
//! position of each page's tuple area (live rows, dead rows and what vacuum left) that
//! holds a plausible compressed-datum header is decoded, and a value that decodes to
//! exactly its stated size is scanned as a member through the pipeline. The pages
//! themselves are scanned raw in runs of whole pages (a row never crosses a page).
//!
//! Also read: a TOAST table's chunks (`chunk_id`, `chunk_seq`, `chunk_data`) that follow
//! each other in a page are joined and, if the joined data is a compressed value,
//! decompressed. Not read: an out-of-line value whose chunks are spread over pages that are
//! not consecutive in the file or interleaved with other values' chunks (the chunks are
//! scanned raw, so an uncompressed value is still found).
//!
//! Recognised by the first page's header: the page size and layout version (8 KiB,
//! version 4) and pointers that are in order.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const PAGE: usize = 8192;
/// Pages scanned raw at a time.
const RUN_PAGES: usize = 128;
const PAGE_HEADER: usize = 24;
/// pglz cannot expand more than this (a 2-byte back reference copies at most 273 bytes,
/// one control bit each).
const MAX_RATIO: usize = 140;
/// Compression methods in `va_tcinfo`'s top bits.
const METHOD_PGLZ: u32 = 0;
const METHOD_LZ4: u32 = 1;

pub(crate) static PG_HEAP: PgHeap = PgHeap;

pub(crate) struct PgHeap;

impl Format for PgHeap {
    fn name(&self) -> &'static str {
        "postgresql data file"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() >= PAGE_HEADER && page_header_ok(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut run = vec![0u8; PAGE * RUN_PAGES];
        let mut toast = Toast::default();
        loop {
            let filled = match read_up_to(reader, &mut run) {
                Ok(n) => n,
                Err(error) => {
                    walk.fail_unless_reported(
                        GapKind::ReadError,
                        chain,
                        "could not read the data file",
                        &error,
                    );
                    return;
                }
            };
            if filled == 0 {
                break;
            }
            let bytes = &run[..filled];
            let mut raw = bytes;
            leaf::scan(
                walk,
                chain,
                &mut raw,
                depth + 1,
                Reopen::Memory(bytes),
                leaf::Kind::Plain,
                buffer,
            );
            for page in bytes.chunks(PAGE) {
                if page.len() == PAGE && page_header_ok(page) {
                    for value in compressed_values(page, &mut toast) {
                        let mut reader = &value[..];
                        scan_member(walk, chain, &mut reader, depth + 1, buffer);
                    }
                }
            }
            if walk.check_running().is_err() || filled < run.len() {
                break;
            }
        }
        if let Some(value) = toast.finish() {
            let mut reader = &value[..];
            scan_member(walk, chain, &mut reader, depth + 1, buffer);
        }
    }
}

fn le16(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// An 8 KiB page of layout version 4 whose lower, upper and special pointers are in order.
fn page_header_ok(page: &[u8]) -> bool {
    let lower = le16(page, 12);
    let upper = le16(page, 14);
    let special = le16(page, 16);
    let flags = le16(page, 10);
    le16(page, 18) == PAGE | 4
        && flags <= 0x7
        && (PAGE_HEADER..=upper).contains(&lower)
        && lower.is_multiple_of(4)
        && upper <= special
        && special <= PAGE
}

/// The values of `page` that decode: inline compressed datums anywhere in its tuple area,
/// and TOAST values whose chunks it completes.
fn compressed_values(page: &[u8], toast: &mut Toast) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    let upper = le16(page, 14);
    let special = le16(page, 16);
    let mut at = upper.div_ceil(4) * 4;
    while at + 8 <= special {
        match inline_datum(&page[at..special]) {
            Some((value, length)) => {
                values.push(value);
                at += length.div_ceil(4) * 4;
            }
            None => at += 4,
        }
    }
    // TOAST chunks, in line-pointer order.
    let lower = le16(page, 12);
    for pointer in page[PAGE_HEADER..lower].chunks_exact(4) {
        let word = le32(pointer, 0);
        let (offset, flags, length) = (
            (word & 0x7FFF) as usize,
            (word >> 15) & 3,
            (word >> 17) as usize,
        );
        if flags != 1 || offset + length > PAGE || length < 24 {
            continue;
        }
        if let Some(value) = toast.chunk(&page[offset..offset + length]) {
            values.push(value);
        }
    }
    values
}

/// A compressed datum at the start of `bytes`: its decoded value and its stored length.
fn inline_datum(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let header = le32(bytes, 0);
    if header & 0x03 != 0x02 {
        return None;
    }
    let length = (header >> 2) as usize;
    if !(9..=bytes.len()).contains(&length) {
        return None;
    }
    let value = decompress(&bytes[4..length])?;
    Some((value, length))
}

/// A compressed value's body (`va_tcinfo`, then the compressed bytes), decoded.
fn decompress(body: &[u8]) -> Option<Vec<u8>> {
    let info = le32(body.get(..4)?, 0);
    let raw_size = (info & 0x3FFF_FFFF) as usize;
    let data = &body[4..];
    if raw_size <= data.len() || raw_size > data.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    match info >> 30 {
        METHOD_PGLZ => pglz_decompress(data, raw_size),
        METHOD_LZ4 => lz4_flex::block::decompress(data, raw_size)
            .ok()
            .filter(|value| value.len() == raw_size),
        _ => None,
    }
}

/// Decompresses pglz (PostgreSQL's `pglz_decompress`) into exactly `raw_size` bytes,
/// consuming all of `input`; `None` if it is not that.
fn pglz_decompress(input: &[u8], raw_size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw_size);
    let mut at = 0;
    while at < input.len() && out.len() < raw_size {
        let mut control = input[at];
        at += 1;
        for _ in 0..8 {
            if at >= input.len() || out.len() >= raw_size {
                break;
            }
            if control & 1 != 0 {
                let first = usize::from(*input.get(at)?);
                let second = usize::from(*input.get(at + 1)?);
                at += 2;
                let mut length = (first & 0x0F) + 3;
                let offset = ((first & 0xF0) << 4) | second;
                if length == 18 {
                    length += usize::from(*input.get(at)?);
                    at += 1;
                }
                if offset == 0 || offset > out.len() {
                    return None;
                }
                let length = length.min(raw_size - out.len());
                let start = out.len() - offset;
                for i in 0..length {
                    let byte = out[start + i];
                    out.push(byte);
                }
            } else {
                out.push(input[at]);
                at += 1;
            }
            control >>= 1;
        }
    }
    (out.len() == raw_size && at == input.len()).then_some(out)
}

/// The chunks of the TOAST value being joined.
#[derive(Default)]
struct Toast {
    id: Option<u32>,
    next_seq: u32,
    data: Vec<u8>,
}

/// Most bytes of one TOAST value joined in memory (PostgreSQL's own limit is 1 GiB).
const MAX_TOAST_VALUE: usize = 64 << 20;

impl Toast {
    /// Takes a heap tuple that may be a TOAST chunk; returns the previous value, decoded,
    /// if this tuple ends it.
    fn chunk(&mut self, tuple: &[u8]) -> Option<Vec<u8>> {
        let attributes = le16(tuple, 18) & 0x07FF;
        let data_at = usize::from(tuple[22]);
        if attributes != 3 || data_at < 23 || data_at + 12 > tuple.len() {
            return None;
        }
        let fields = &tuple[data_at..];
        let id = le32(fields, 0);
        let seq = le32(fields, 4);
        // chunk_data: a bytea with a 4-byte header (uncompressed) or a 1-byte header.
        let chunk = match fields[8] {
            short if short & 0x01 == 0x01 && short != 0x01 => {
                let length = usize::from(short >> 1);
                fields.get(9..8 + length)?
            }
            _ => {
                let header = le32(fields, 8);
                if header & 0x03 != 0 {
                    return None;
                }
                let length = (header >> 2) as usize;
                fields.get(12..8 + length)?
            }
        };
        let mut finished = None;
        if self.id == Some(id) && seq == self.next_seq {
            if self.data.len() + chunk.len() <= MAX_TOAST_VALUE {
                self.data.extend_from_slice(chunk);
            }
        } else {
            finished = self.finish();
            if seq != 0 {
                return finished;
            }
            self.id = Some(id);
            self.data.extend_from_slice(chunk);
        }
        self.next_seq = seq + 1;
        finished
    }

    /// The value joined so far, decoded if it is compressed.
    fn finish(&mut self) -> Option<Vec<u8>> {
        self.id = None;
        let data = std::mem::take(&mut self.data);
        decompress(&data)
    }
}

fn read_up_to(input: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < out.len() {
        match input.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pglz_literals_and_back_references() {
        // Control 0b0000_1000: three literals, then a reference (length 3 + 3, offset 3).
        let input = [0x08, b'a', b'b', b'c', 0x03, 0x03];
        assert_eq!(
            pglz_decompress(&input, 9).as_deref(),
            Some(&b"abcabcabc"[..])
        );
        assert_eq!(pglz_decompress(&input, 10), None);
        assert_eq!(pglz_decompress(&[0x01, 0x03, 0x05], 6), None);
    }

    #[test]
    fn finds_an_inline_compressed_datum_in_a_page() {
        let input = [0x08, b'a', b'b', b'c', 0x03, 0x03];
        let mut datum = Vec::new();
        let length = 4 + 4 + input.len();
        datum.extend_from_slice(&(((length as u32) << 2) | 0x02).to_le_bytes());
        datum.extend_from_slice(&9u32.to_le_bytes());
        datum.extend_from_slice(&input);
        let mut page = vec![0u8; PAGE];
        page[12..14].copy_from_slice(&28u16.to_le_bytes());
        page[14..16].copy_from_slice(&8000u16.to_le_bytes());
        page[16..18].copy_from_slice(&8192u16.to_le_bytes());
        page[18..20].copy_from_slice(&(8192u16 | 4).to_le_bytes());
        page[8024..8024 + datum.len()].copy_from_slice(&datum);
        assert!(page_header_ok(&page));
        let values = compressed_values(&page, &mut Toast::default());
        assert_eq!(values, [b"abcabcabc".to_vec()]);
    }
}
