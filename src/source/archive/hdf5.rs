//! HDF5 files (`\x89HDF\r\n\x1a\n`: h5py, netCDF-4, Keras/MATLAB v7.3 files): scanned raw,
//! with their filter pipelines checked.
//!
//! A chunked dataset's chunks pass through the filters of its pipeline message. Deflate
//! chunks are zlib streams and zstd and bzip2 chunks frames of their own, all carved from
//! the raw bytes like any stream. Other filters leave bytes no layer can read: `shuffle`
//! (h5py's usual companion of gzip) transposes each chunk's bytes by element, so a string
//! decompressed from its zlib stream is still scattered; `lzf`, `szip`, `blosc`, `lz4`,
//! `bitshuffle`, `nbit` and `scaleoffset` have no header at all. A file using any of them
//! is an `unsupported` gap naming the filter, never a silent pass. Pipeline messages
//! (version 1 in old-style object headers, version 2 in `OHDR` ones) are found by their
//! message header as the bytes stream by.

use std::fs::File;
use std::io::{Read, Seek};

use super::format::{Format, Place};
use super::{leaf, Reopen, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";
/// The filter pipeline message's type.
const PIPELINE: u8 = 0x0B;
/// Bytes of a pipeline message looked at from its message header on.
const WINDOW: usize = 48;

pub(crate) static HDF5: Hdf5 = Hdf5;

pub(crate) struct Hdf5;

impl Format for Hdf5 {
    fn name(&self) -> &'static str {
        "hdf5"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(MAGIC)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut watch = Watch::new(reader);
        leaf::scan(
            walk,
            chain,
            &mut watch,
            depth,
            Reopen::None,
            leaf::Kind::Plain,
            buffer,
        );
        watch.report(walk, chain);
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        let size = file.metadata().map(|m| m.len()).ok();
        if let Some(size) = size {
            walk.input_size_known(size);
        }
        let mut reader = file;
        if reader.rewind().is_err() {
            return false;
        }
        let mut watch = Watch::new(&mut reader);
        leaf::scan(
            walk,
            chain,
            &mut watch,
            0,
            Reopen::File(file, size),
            leaf::Kind::Plain,
            buffer,
        );
        watch.report(walk, chain);
        true
    }
}

/// Looks for filter pipeline messages in the bytes read through it.
struct Watch<'r> {
    inner: &'r mut dyn Read,
    /// The last bytes of the previous read, for a message header split across reads.
    tail: Vec<u8>,
    unreadable: Option<&'static str>,
}

impl<'r> Watch<'r> {
    fn new(inner: &'r mut dyn Read) -> Watch<'r> {
        Watch {
            inner,
            tail: Vec::new(),
            unreadable: None,
        }
    }

    fn look(&mut self, bytes: &[u8]) {
        if self.unreadable.is_some() {
            return;
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(bytes);
        for at in memchr::memchr_iter(PIPELINE, &window) {
            if let Some(name) = unreadable_filter(&window[at..]) {
                self.unreadable = Some(name);
                return;
            }
        }
        let keep = window.len().min(WINDOW);
        self.tail = window[window.len() - keep..].to_vec();
    }

    fn report(&self, walk: &Walk, chain: &[String]) {
        if let Some(name) = self.unreadable {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "HDF5 datasets in it pass through the {name} filter, which scour cannot \
                     undo; their chunks were scanned raw only"
                ),
            );
        }
    }
}

impl Read for Watch<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.look(&out[..n]);
        Ok(n)
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// The name of a filter whose output scour cannot read, for a filter id; `None` for the
/// filters whose output is carved (deflate, bzip2, zstd) or leaves bytes as they are
/// (fletcher32); `Some("")` for an id that is no filter (not a pipeline message).
fn filter_name(id: u16) -> Option<&'static str> {
    match id {
        1 | 3 | 307 | 32015 => None,
        2 => Some("shuffle"),
        4 => Some("szip"),
        5 => Some("nbit"),
        6 => Some("scaleoffset"),
        32000 => Some("lzf"),
        32001 => Some("blosc"),
        32004 => Some("lz4"),
        32008 => Some("bitshuffle"),
        32016..=32030 | 32002 | 32003 | 32005..=32007 | 32009..=32014 => Some("third-party"),
        _ => Some(""),
    }
}

/// Whether `bytes` (from a byte equal to [`PIPELINE`]) start a filter pipeline message
/// with a filter scour cannot undo, and which.
fn unreadable_filter(bytes: &[u8]) -> Option<&'static str> {
    // Version 1, in an old-style object header: type u16, size u16, flags, 3 reserved;
    // then version 1, the filter count, 6 reserved bytes, the filters.
    if bytes.get(1) == Some(&0)
        && bytes.get(5..8) == Some(&[0, 0, 0])
        && bytes.get(8) == Some(&1)
        && bytes.get(10..16) == Some(&[0; 6])
    {
        let count = *bytes.get(9)?;
        return first_unreadable(bytes, 16, count, 1);
    }
    // Version 2, in an `OHDR` object header: type u8, size u16, flags, (a creation order
    // u16 if the header tracks it); then version 2, the filter count, the filters.
    for data in [4, 6] {
        if bytes.get(data) == Some(&2) {
            let count = *bytes.get(data + 1)?;
            if let Some(name) = first_unreadable(bytes, data + 2, count, 2) {
                return Some(name);
            }
        }
    }
    None
}

/// The first unreadable filter among the `count` filters described from `at`, if every
/// description up to it is well formed.
fn first_unreadable(bytes: &[u8], mut at: usize, count: u8, version: u8) -> Option<&'static str> {
    if !(1..=32).contains(&count) {
        return None;
    }
    for _ in 0..count {
        let id = u16_at(bytes, at)?;
        let has_name = version == 1 || id >= 256;
        let name_len = if has_name { u16_at(bytes, at + 2)? } else { 0 };
        let fields = if has_name { at + 4 } else { at + 2 };
        let flags = u16_at(bytes, fields)?;
        let values = u16_at(bytes, fields + 2)?;
        if flags > 1 || values > 16 || name_len > 64 {
            return None;
        }
        match filter_name(id) {
            Some("") => return None,
            Some(name) => return Some(name),
            None => {}
        }
        let name_len = usize::from(name_len);
        let name_len = if version == 1 {
            name_len.div_ceil(8) * 8
        } else {
            name_len
        };
        let mut values_len = usize::from(values) * 4;
        if version == 1 && values % 2 == 1 {
            values_len += 4;
        }
        at = fields + 4 + name_len + values_len;
        if at > WINDOW {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_messages_name_the_filter_scour_cannot_undo() {
        // Version 1: shuffle (element size 40) then deflate (level 4).
        let mut v1 = vec![PIPELINE, 0, 32, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0];
        v1.extend_from_slice(&[2, 0, 0, 0, 1, 0, 1, 0, 40, 0, 0, 0, 0, 0, 0, 0]);
        v1.extend_from_slice(&[1, 0, 0, 0, 1, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(unreadable_filter(&v1), Some("shuffle"));
        // Deflate alone is carved: no gap.
        let mut deflate = vec![PIPELINE, 0, 16, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0];
        deflate.extend_from_slice(&[1, 0, 0, 0, 1, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(unreadable_filter(&deflate), None);
        // Version 2: lzf (id 32000, which has a name length field).
        let v2 = [PIPELINE, 12, 0, 0, 2, 1, 0x00, 0x7D, 0, 0, 1, 0, 0, 0];
        assert_eq!(unreadable_filter(&v2), Some("lzf"));
        assert_eq!(unreadable_filter(&[PIPELINE, 1, 2, 3, 4, 5, 6, 7, 8]), None);
    }
}
