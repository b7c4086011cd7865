//! zisofs: files compressed inside ISO 9660 images (`xorriso -set_filter_r --zisofs`,
//! `mkzftree`), as live and installer images store them. Decoded as a compression layer,
//! so the file's text goes through the pipeline under the file's own name.
//!
//! A zisofs file is a 16-byte header (magic, uncompressed size, header size / 4, log2 of
//! the block size), a table of block offsets (one more than the blocks), then each block as
//! a zlib stream; a block whose two offsets are equal is all zeros. Blocks are read in
//! order, so the file streams; a table that goes backwards or a block that inflates to the
//! wrong size is a `corrupt` gap.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const MAGIC: &[u8] = b"\x37\xE4\x53\x96\xC9\xDB\xD6\x07";
const HEADER: usize = 16;

pub(crate) static ZISOFS: Zisofs = Zisofs;

pub(crate) struct Zisofs;

impl Format for Zisofs {
    fn name(&self) -> &'static str {
        "zisofs"
    }

    /// The magic, a 16-byte header (size field 4) and a block size of 32 to 128 KiB, the
    /// only ones the format allows.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.len() >= HEADER
            && head.starts_with(MAGIC)
            && head[12] == 4
            && (15..=17).contains(&head[13])
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let blocks = match Blocks::start(reader) {
            Ok(blocks) => blocks,
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    "not a readable zisofs file",
                    &error,
                );
                return;
            }
        };
        let mut decoded = Decoded::new(walk, chain, "zisofs", blocks);
        scan_member(walk, chain, &mut decoded, depth + 1, buffer);
        let _ = super::drain(&mut decoded);
    }
}

/// The decoded bytes of a zisofs file, block by block.
struct Blocks<'r> {
    input: &'r mut dyn Read,
    offsets: Vec<u64>,
    next: usize,
    block_size: u64,
    left: u64,
    current: Vec<u8>,
    at: usize,
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl<'r> Blocks<'r> {
    fn start(input: &'r mut dyn Read) -> io::Result<Blocks<'r>> {
        let mut header = [0u8; HEADER];
        input.read_exact(&mut header)?;
        let size = u64::from(u32::from_le_bytes([
            header[8], header[9], header[10], header[11],
        ]));
        let block_size = 1u64 << header[13];
        let blocks = size.div_ceil(block_size);
        let mut table = vec![0u8; (blocks as usize + 1) * 4];
        input.read_exact(&mut table)?;
        let offsets: Vec<u64> = table
            .chunks_exact(4)
            .map(|o| u64::from(u32::from_le_bytes([o[0], o[1], o[2], o[3]])))
            .collect();
        let table_end = HEADER as u64 + table.len() as u64;
        let first = offsets.first().copied().unwrap_or(table_end);
        if first < table_end || offsets.windows(2).any(|pair| pair[1] < pair[0]) {
            return Err(corrupt("its block table is out of order"));
        }
        io::copy(&mut input.take(first - table_end), &mut io::sink())?;
        Ok(Blocks {
            input,
            offsets,
            next: 0,
            block_size,
            left: size,
            current: Vec::new(),
            at: 0,
        })
    }

    /// Decodes the next block into `current`; false at the end.
    fn next_block(&mut self) -> io::Result<bool> {
        let (Some(&start), Some(&end)) =
            (self.offsets.get(self.next), self.offsets.get(self.next + 1))
        else {
            return Ok(false);
        };
        self.next += 1;
        let expected = self.block_size.min(self.left);
        self.left -= expected;
        self.current.clear();
        self.at = 0;
        if start == end {
            self.current.resize(expected as usize, 0);
            return Ok(true);
        }
        let mut compressed = Vec::with_capacity((end - start) as usize);
        self.input.take(end - start).read_to_end(&mut compressed)?;
        if (compressed.len() as u64) < end - start {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file ends inside a zisofs block",
            ));
        }
        flate2::read::ZlibDecoder::new(&compressed[..])
            .take(expected + 1)
            .read_to_end(&mut self.current)?;
        if self.current.len() as u64 != expected {
            return Err(corrupt("a zisofs block inflates to the wrong size"));
        }
        Ok(true)
    }
}

impl Read for Blocks<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if !self.next_block()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::decode::testing::scan_memory;
    use super::*;

    /// A zisofs file of `content` in 32 KiB blocks, with an all-zero block kept sparse.
    fn zisofs(content: &[u8]) -> Vec<u8> {
        let block = 1usize << 15;
        let blocks: Vec<&[u8]> = content.chunks(block).collect();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(content.len() as u32).to_le_bytes());
        out.extend_from_slice(&[4, 15, 0, 0]);
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        let start = HEADER + (blocks.len() + 1) * 4;
        for chunk in &blocks {
            offsets.push((start + data.len()) as u32);
            if chunk.iter().any(|&b| b != 0) {
                let mut encoder =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(chunk).unwrap();
                data.extend(encoder.finish().unwrap());
            }
        }
        offsets.push((start + data.len()) as u32);
        for offset in offsets {
            out.extend_from_slice(&offset.to_le_bytes());
        }
        out.extend(data);
        out
    }

    #[test]
    fn blocks_are_inflated_in_order_and_zero_blocks_are_zeros() {
        let secret = b"zisofsSecret0123456789abcdefghij";
        let mut content = vec![0u8; 1 << 15];
        content.extend(b"line\n".repeat(7000));
        content.extend_from_slice(secret);
        content.extend(b"\nmore\n".repeat(100));
        let file = zisofs(&content);
        assert!(memchr::memmem::find(&file, secret).is_none());
        let scanned = scan_memory(secret, "f.log", &file);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        assert_eq!(scanned.findings.len(), 1);
        let mut decoded = Vec::new();
        Blocks::start(&mut &file[..])
            .unwrap()
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, content);
    }

    #[test]
    fn a_table_out_of_order_is_corrupt() {
        let mut file = zisofs(&b"text\n".repeat(20000));
        file[HEADER + 4..HEADER + 8].copy_from_slice(&1u32.to_le_bytes());
        let scanned = scan_memory(b"zisofsSecret0123456789abcdefghij", "f", &file);
        assert!(
            scanned.gaps.iter().any(|gap| gap.kind == GapKind::Corrupt),
            "{:?}",
            scanned.gaps
        );
    }
}
