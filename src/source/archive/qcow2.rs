//! qcow2 disk images (`QFI\xfb`, versions 2 and 3): the guest disk, read cluster by cluster
//! through the L1 and L2 tables, with compressed clusters (`qemu-img convert -c`: raw
//! deflate, or zstd for `compression_type=zstd`) decompressed.
//!
//! A qcow2 file stores the guest's clusters in any order and compressed clusters packed to
//! 512-byte sectors, so a secret in a guest file is either cut at a host cluster boundary
//! or compressed: neither is in the file's raw bytes. The guest disk is read in guest order
//! as one stream and goes through the pipeline (a filesystem image, a tarball on a raw
//! disk): unallocated and zero clusters are left out, each run of them standing as one
//! zero byte so no match can join the clusters on either side. Extended L2 entries
//! (subclusters) are read as whole clusters.
//!
//! Gaps: encrypted images (`encrypted`), images whose data is in an external data file and
//! internal snapshots (`unsupported`: snapshot tables are not followed, so clusters only a
//! snapshot uses are not read). A backing file is a file of its own and is scanned as one
//! where it is. Host clusters no table points to (left by a discard) are not read.

use std::fs::File;
use std::io::{self, Read};

use super::format::{Format, Place};
use super::limits::Decoded;
use super::sqlite::Source;
use super::{buffer_whole, drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"QFI\xFB";
/// Bits of an L1 or standard L2 entry that hold a host offset.
const OFFSET_MASK: u64 = 0x00FF_FFFF_FFFF_FE00;
const COMPRESSED: u64 = 1 << 62;
/// Largest L1 table accepted (qemu's own limit, 32 MiB of entries).
const MAX_L1_ENTRIES: u64 = 32 << 20 >> 3;
/// Incompatible feature bits (version 3).
const EXTERNAL_DATA_FILE: u64 = 1 << 2;
const EXTENDED_L2: u64 = 1 << 4;
/// Guest bytes handed on per read, as the other decoders do.
const HANDOFF: usize = 1 << 20;

pub(crate) static QCOW2: Qcow2 = Qcow2;

pub(crate) struct Qcow2;

impl Format for Qcow2 {
    fn name(&self) -> &'static str {
        "qcow2"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() >= 72
            && head.starts_with(MAGIC)
            && matches!(be32(head, 4), 2 | 3)
            && (9..=21).contains(&be32(head, 20))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let Some(bytes) = buffer_whole(walk, chain, reader, "qcow2 image") else {
            return;
        };
        read_image(walk, chain, &Source::Memory(&bytes), depth, buffer);
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
        walk.input_size_known(metadata.len());
        read_image(walk, chain, &Source::File(file, metadata.len()), 0, buffer);
        true
    }
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn be64(bytes: &[u8], at: usize) -> u64 {
    let mut field = [0u8; 8];
    field.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(field)
}

/// What the header says about the guest disk.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    cluster_bits: u32,
    virtual_size: u64,
    l1_entries: u64,
    l1_offset: u64,
    /// Bytes of an L2 entry (8, or 16 with extended L2 entries).
    l2_entry: u64,
    zstd: bool,
}

impl Geometry {
    fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }
}

fn read_image(walk: &Walk, chain: &[String], source: &Source, depth: u32, buffer: &mut ScanBuffer) {
    let mut header = [0u8; 112];
    if !matches!(source.read_at(0, &mut header), Ok(n) if n >= 72) {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the qcow2 header is truncated".to_string(),
        );
        return;
    }
    let version = be32(&header, 4);
    let (incompatible, header_length) = if version >= 3 {
        (be64(&header, 72), be32(&header, 100))
    } else {
        (0, 72)
    };
    if be32(&header, 32) != 0 {
        walk.fail(
            GapKind::Encrypted,
            chain,
            "an encrypted qcow2 image: its guest disk cannot be read without the key".to_string(),
        );
        return;
    }
    if incompatible & EXTERNAL_DATA_FILE != 0 {
        walk.fail(
            GapKind::Unsupported,
            chain,
            "a qcow2 image whose guest data is in an external data file: scan that file (it \
             is a raw disk image)"
                .to_string(),
        );
        return;
    }
    let snapshots = be32(&header, 60);
    if snapshots > 0 {
        walk.fail(
            GapKind::Unsupported,
            chain,
            format!(
                "a qcow2 image with {snapshots} internal snapshots: the current guest disk was \
                 read, clusters only a snapshot uses were not (qemu-img convert -l can export a \
                 snapshot)"
            ),
        );
    }
    let geometry = Geometry {
        cluster_bits: be32(&header, 20),
        virtual_size: be64(&header, 24),
        l1_entries: u64::from(be32(&header, 36)),
        l1_offset: be64(&header, 40),
        l2_entry: if incompatible & EXTENDED_L2 != 0 {
            16
        } else {
            8
        },
        zstd: header_length > 104 && header[104] == 1,
    };
    if !(9..=21).contains(&geometry.cluster_bits) || geometry.l1_entries > MAX_L1_ENTRIES {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the qcow2 header's cluster size or L1 table size is out of range".to_string(),
        );
        return;
    }
    let mut l1 = vec![0u8; (geometry.l1_entries * 8) as usize];
    if !matches!(source.read_at(geometry.l1_offset, &mut l1), Ok(n) if n == l1.len()) {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the qcow2 L1 table is outside the file".to_string(),
        );
        return;
    }
    let l1 = l1.chunks_exact(8).map(|entry| be64(entry, 0)).collect();
    let mut guest = Guest {
        source,
        geometry,
        l1,
        l2: Vec::new(),
        tables_seen: Default::default(),
        next_cluster: 0,
        chunk: Vec::new(),
        at: 0,
        in_hole: false,
        problem: None,
    };
    {
        let mut decoded = Decoded::new(walk, chain, "qcow2", &mut guest);
        scan_member(walk, chain, &mut decoded, depth + 1, buffer);
        let _ = drain(&mut decoded);
    }
    if let Some(problem) = guest.problem {
        walk.fail(GapKind::Corrupt, chain, problem);
    }
}

/// The guest disk, in guest order, with runs of unallocated clusters as one zero byte.
struct Guest<'s, 'a> {
    source: &'s Source<'a>,
    geometry: Geometry,
    l1: Vec<u64>,
    /// The L2 table of the current L1 entry (host entries, first word of each).
    l2: Vec<u64>,
    tables_seen: std::collections::HashSet<u64>,
    next_cluster: u64,
    chunk: Vec<u8>,
    at: usize,
    in_hole: bool,
    /// The first cluster that could not be read, for a gap once the disk is read.
    problem: Option<String>,
}

impl Guest<'_, '_> {
    /// Guest clusters to read: the disk's, at most what the L1 table can map.
    fn clusters(&self) -> u64 {
        let mapped = (self.l1.len() as u64).saturating_mul(self.entries_per_l2());
        self.geometry
            .virtual_size
            .div_ceil(self.geometry.cluster_size())
            .min(mapped)
    }

    fn entries_per_l2(&self) -> u64 {
        self.geometry.cluster_size() / self.geometry.l2_entry
    }

    /// The L2 entry of guest cluster `cluster`, loading its L2 table at a table's first
    /// cluster; `None` if the whole table is unallocated (the caller skips past it).
    fn l2_entry(&mut self, cluster: u64) -> io::Result<Option<u64>> {
        let per_table = self.entries_per_l2();
        let index = (cluster % per_table) as usize;
        if index == 0 || self.l2.is_empty() {
            let l1_index = (cluster / per_table) as usize;
            let table = self.l1.get(l1_index).copied().unwrap_or(0) & OFFSET_MASK;
            self.l2.clear();
            if table == 0 {
                return Ok(None);
            }
            // Every table of a real image is a cluster of its own: one met twice is a loop
            // a hostile image would use to make a small file read forever.
            if !self.tables_seen.insert(table) {
                self.note(format!("the L2 table at byte {table} is used twice"));
                return Ok(None);
            }
            let mut raw = vec![0u8; self.geometry.cluster_size() as usize];
            if self.source.read_at(table, &mut raw)? < raw.len() {
                self.note(format!("the L2 table at byte {table} is outside the file"));
            }
            let step = self.geometry.l2_entry as usize;
            self.l2
                .extend(raw.chunks_exact(step).map(|entry| be64(entry, 0)));
        }
        Ok(Some(self.l2.get(index).copied().unwrap_or(0)))
    }

    fn note(&mut self, problem: String) {
        if self.problem.is_none() {
            self.problem = Some(format!(
                "{problem}; the guest clusters it holds were not read"
            ));
        }
    }

    /// Fills `chunk` with the next clusters (a hole as its zero byte), up to [`HANDOFF`]
    /// bytes; false at the end of the disk.
    fn next(&mut self) -> io::Result<bool> {
        self.chunk.clear();
        self.at = 0;
        while self.chunk.len() < HANDOFF {
            if self.next_cluster >= self.clusters() {
                return Ok(!self.chunk.is_empty());
            }
            let cluster = self.next_cluster;
            self.next_cluster += 1;
            let Some(entry) = self.l2_entry(cluster)? else {
                // An unallocated L2 table: the clusters it would map are a hole.
                let per_table = self.entries_per_l2();
                self.next_cluster = (cluster / per_table + 1) * per_table;
                if !self.in_hole {
                    self.chunk.push(0);
                    self.in_hole = true;
                }
                continue;
            };
            let data = if entry & COMPRESSED != 0 {
                self.compressed(cluster, entry)?
            } else {
                let offset = entry & OFFSET_MASK;
                let zero = entry & 1 != 0;
                if offset == 0 || zero {
                    None
                } else {
                    let mut data = vec![0u8; self.geometry.cluster_size() as usize];
                    if self.source.read_at(offset, &mut data)? < data.len() {
                        self.note(format!("guest cluster {cluster} is outside the file"));
                    }
                    Some(data)
                }
            };
            match data {
                Some(mut data) => {
                    let start = cluster * self.geometry.cluster_size();
                    let end = (start + data.len() as u64).min(self.geometry.virtual_size);
                    data.truncate((end - start) as usize);
                    self.chunk.extend_from_slice(&data);
                    self.in_hole = false;
                }
                None if !self.in_hole => {
                    self.chunk.push(0);
                    self.in_hole = true;
                }
                None => {}
            }
        }
        Ok(true)
    }

    /// A compressed cluster, decompressed; `None` (and a problem noted) if it does not
    /// decompress.
    fn compressed(&mut self, cluster: u64, entry: u64) -> io::Result<Option<Vec<u8>>> {
        let cluster_bits = self.geometry.cluster_bits;
        let offset_bits = 62 - (cluster_bits - 8);
        let offset = entry & ((1 << offset_bits) - 1);
        let sectors = (entry >> offset_bits) & ((1 << (cluster_bits - 8)) - 1);
        let length = (sectors + 1) * 512 - (offset & 511);
        let mut input = vec![0u8; length as usize];
        let n = self.source.read_at(offset, &mut input)?;
        input.truncate(n);
        let size = self.geometry.cluster_size() as usize;
        let mut output = vec![0u8; size];
        let produced = if self.geometry.zstd {
            let mut decoder = zstd::stream::read::Decoder::new(&input[..])?;
            read_up_to(&mut decoder, &mut output).ok()
        } else {
            let mut inflater = flate2::Decompress::new(false);
            match inflater.decompress(&input, &mut output, flate2::FlushDecompress::Finish) {
                Ok(_) => Some(inflater.total_out() as usize),
                Err(_) => None,
            }
        };
        match produced {
            Some(n) if n > 0 => {
                output.truncate(n);
                Ok(Some(output))
            }
            _ => {
                self.note(format!(
                    "compressed guest cluster {cluster} (at byte {offset}) does not decompress"
                ));
                Ok(None)
            }
        }
    }
}

impl Read for Guest<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() && !self.next()? {
            return Ok(0);
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
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

    /// A version 3 image of one 512-byte cluster per table, built by hand: L1 at 512, one
    /// L2 table at 1024 whose first entry is a raw-deflate compressed cluster at 1536.
    fn image(data: &[u8]) -> Vec<u8> {
        let mut compressed = Vec::new();
        {
            use std::io::Write;
            let mut encoder =
                flate2::write::DeflateEncoder::new(&mut compressed, flate2::Compression::best());
            encoder.write_all(data).unwrap();
        }
        let mut file = vec![0u8; 1536];
        file[..4].copy_from_slice(MAGIC);
        file[4..8].copy_from_slice(&3u32.to_be_bytes());
        file[20..24].copy_from_slice(&9u32.to_be_bytes()); // 512-byte clusters
        file[24..32].copy_from_slice(&512u64.to_be_bytes()); // one cluster of guest disk
        file[36..40].copy_from_slice(&1u32.to_be_bytes());
        file[40..48].copy_from_slice(&512u64.to_be_bytes());
        file[100..104].copy_from_slice(&104u32.to_be_bytes());
        file[512..520].copy_from_slice(&(1024u64 | 1 << 63).to_be_bytes());
        // Compressed: offset bits 0..61-1 (62 - (9 - 8) = 61), sector count above: 0.
        file[1024..1032].copy_from_slice(&(COMPRESSED | 1536).to_be_bytes());
        file.extend_from_slice(&compressed);
        file.resize(file.len().div_ceil(512) * 512, 0);
        file
    }

    #[test]
    fn reads_a_compressed_cluster_through_the_tables() {
        let data: Vec<u8> = b"token=".iter().copied().cycle().take(512).collect();
        let file = image(&data);
        assert!(QCOW2.recognise(&file, Place::Inside));
        let source = Source::Memory(&file);
        let mut header = [0u8; 112];
        source.read_at(0, &mut header).unwrap();
        let geometry = Geometry {
            cluster_bits: 9,
            virtual_size: 512,
            l1_entries: 1,
            l1_offset: 512,
            l2_entry: 8,
            zstd: false,
        };
        let mut guest = Guest {
            source: &source,
            geometry,
            l1: vec![1024 | 1 << 63],
            l2: Vec::new(),
            tables_seen: Default::default(),
            next_cluster: 0,
            chunk: Vec::new(),
            at: 0,
            in_hole: false,
            problem: None,
        };
        let mut out = Vec::new();
        guest.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(guest.problem, None);
    }
}
