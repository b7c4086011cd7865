//! The hash tables of an ELF executable or shared library, for opaque-content accounting.
//!
//! A large binary's GNU hash table (`.gnu.hash`: a Bloom filter and hash values, 200-500 KiB
//! in `cc1` or `node`) measures as random as ciphertext, and so would be an `opaque` gap in
//! every tree that holds a compiler or a Node.js binary. A section counts as such a table
//! only when its size is exactly what its own header and its symbol table make it (so a
//! section header cannot simply call a compressed blob a hash table); everything else
//! (code, `.rodata`, `.data`, where an embedded blob could hide) is still measured. Other
//! linker tables are not high-entropy and need no exemption. The file's bytes are all
//! scanned as they are either way, and compressed sections (`SHF_COMPRESSED` debug info)
//! are found by carving their zlib or zstd streams.

const SHT_HASH: u32 = 5;
const SHT_GNU_HASH: u32 = 0x6fff_fff6;
/// Most section headers read (the format's 16-bit count allows 65,535).
const MAX_SECTIONS: u64 = 0xFFFF;
/// Largest section header entry accepted (64 bytes in ELF64, 40 in ELF32).
const MAX_ENTRY: u64 = 128;

/// Byte ranges of `read_at`'s stream (`length` bytes) that verified hash tables occupy;
/// empty when the stream is no ELF file or its section header table is out of bounds.
/// `read_at(offset, len)` returns up to `len` bytes from `offset`.
pub(crate) fn table_ranges(
    length: u64,
    read_at: impl Fn(u64, usize) -> Vec<u8>,
) -> Vec<(u64, u64)> {
    let header = read_at(0, 64);
    let Some(layout) = Layout::of(&header) else {
        return Vec::new();
    };
    let Some((offset, count, entry)) = layout.section_table(&header) else {
        return Vec::new();
    };
    let table_bytes = count * entry;
    if count == 0
        || count > MAX_SECTIONS
        || entry > MAX_ENTRY
        || offset.saturating_add(table_bytes) > length
    {
        return Vec::new();
    }
    let table = read_at(offset, table_bytes as usize);
    let sections: Vec<Section> = table
        .chunks_exact(entry as usize)
        .filter_map(|raw| layout.section(raw))
        .collect();
    sections
        .iter()
        .filter(|section| section.end() <= length)
        .filter(|section| layout.hash_table_fits(section, &sections, &read_at))
        .map(|section| (section.offset, section.end()))
        .collect()
}

/// The fields of a section header this module reads.
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    entry_size: u64,
}

impl Section {
    fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }

    /// Entries of a symbol table.
    fn symbols(&self) -> Option<u64> {
        (self.entry_size > 0).then(|| self.size / self.entry_size)
    }
}

/// Word size and byte order, from `e_ident`.
#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    big_endian: bool,
}

impl Layout {
    fn of(header: &[u8]) -> Option<Layout> {
        if header.len() < 52 || !header.starts_with(b"\x7fELF") {
            return None;
        }
        let wide = match header[4] {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big_endian = match header[5] {
            1 => false,
            2 => true,
            _ => return None,
        };
        (!wide || header.len() >= 64).then_some(Layout { wide, big_endian })
    }

    fn uint(&self, bytes: &[u8], at: usize, size: usize) -> Option<u64> {
        let field = bytes.get(at..at + size)?;
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        Some(if self.big_endian {
            field.iter().fold(0, fold)
        } else {
            field.iter().rev().fold(0, fold)
        })
    }

    /// `e_shoff`, `e_shnum`, `e_shentsize`.
    fn section_table(&self, header: &[u8]) -> Option<(u64, u64, u64)> {
        let (offset, entry_at, count_at, minimum) = if self.wide {
            (self.uint(header, 0x28, 8)?, 0x3A, 0x3C, 64)
        } else {
            (self.uint(header, 0x20, 4)?, 0x2E, 0x30, 40)
        };
        let entry = self.uint(header, entry_at, 2)?;
        let count = self.uint(header, count_at, 2)?;
        (entry >= minimum).then_some((offset, count, entry))
    }

    fn section(&self, raw: &[u8]) -> Option<Section> {
        let kind = self.uint(raw, 4, 4)? as u32;
        Some(if self.wide {
            Section {
                kind,
                offset: self.uint(raw, 0x18, 8)?,
                size: self.uint(raw, 0x20, 8)?,
                link: self.uint(raw, 0x28, 4)? as u32,
                entry_size: self.uint(raw, 0x38, 8)?,
            }
        } else {
            Section {
                kind,
                offset: self.uint(raw, 0x10, 4)?,
                size: self.uint(raw, 0x14, 4)?,
                link: self.uint(raw, 0x18, 4)? as u32,
                entry_size: self.uint(raw, 0x24, 4)?,
            }
        })
    }

    /// Whether `section` is a hash table whose size is exactly what its header and the
    /// symbol table it links to make it.
    fn hash_table_fits(
        &self,
        section: &Section,
        sections: &[Section],
        read_at: &impl Fn(u64, usize) -> Vec<u8>,
    ) -> bool {
        if !matches!(section.kind, SHT_HASH | SHT_GNU_HASH) {
            return false;
        }
        let Some(symbols) = sections
            .get(section.link as usize)
            .and_then(Section::symbols)
        else {
            return false;
        };
        let header = read_at(section.offset, 16);
        let word = |at: usize| self.uint(&header, at, 4);
        let expected = if section.kind == SHT_HASH {
            // nbucket, nchain (one chain entry per symbol), then both arrays.
            match (word(0), word(4)) {
                (Some(buckets), Some(chains)) if chains == symbols => {
                    (2 + buckets + chains).checked_mul(4)
                }
                _ => None,
            }
        } else {
            // nbuckets, symoffset, bloom words, bloom shift; the Bloom filter, the
            // buckets, then one hash value per symbol from symoffset on.
            match (word(0), word(4), word(8)) {
                (Some(buckets), Some(first), Some(bloom)) if first <= symbols => {
                    let bloom_word = if self.wide { 8 } else { 4 };
                    bloom
                        .checked_mul(bloom_word)
                        .and_then(|b| b.checked_add(16 + 4 * buckets + 4 * (symbols - first)))
                }
                _ => None,
            }
        };
        expected == Some(section.size)
    }
}

/// [`table_ranges`] over a byte slice.
pub(crate) fn table_ranges_of(bytes: &[u8]) -> Vec<(u64, u64)> {
    table_ranges(bytes.len() as u64, |offset, len| {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        bytes[start..start.saturating_add(len).min(bytes.len())].to_vec()
    })
}

/// [`table_ranges`] over a file.
pub(crate) fn table_ranges_of_file(file: &std::fs::File, length: u64) -> Vec<(u64, u64)> {
    use std::os::unix::fs::FileExt;
    table_ranges(length, |offset, len| {
        let mut out = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            match file.read_at(&mut out[filled..], offset + filled as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        out.truncate(filled);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF: a 10-symbol `.dynsym`, a `.gnu.hash` for it of
    /// `hash_size` bytes (84 is what its header says), a `.rodata`, then the section headers.
    fn elf(hash_size: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        let dynsym = bytes.len() as u64;
        bytes.extend(std::iter::repeat_n(0u8, 240));
        let hash = bytes.len() as u64;
        // 4 buckets, symbols from 1, 2 Bloom words, shift 6.
        for field in [4u32, 1, 2, 6] {
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        bytes.extend(std::iter::repeat_n(0xA5, hash_size as usize - 16));
        let rodata = bytes.len() as u64;
        bytes.extend(std::iter::repeat_n(0x5A, 4096));
        let table = bytes.len() as u64;
        bytes[0x28..0x30].copy_from_slice(&table.to_le_bytes());
        bytes[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        bytes[0x3C..0x3E].copy_from_slice(&4u16.to_le_bytes());
        let section = |kind: u32, offset: u64, size: u64, link: u32, entry: u64| {
            let mut header = vec![0u8; 64];
            header[4..8].copy_from_slice(&kind.to_le_bytes());
            header[0x18..0x20].copy_from_slice(&offset.to_le_bytes());
            header[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            header[0x28..0x2C].copy_from_slice(&link.to_le_bytes());
            header[0x38..0x40].copy_from_slice(&entry.to_le_bytes());
            header
        };
        bytes.extend(section(0, 0, 0, 0, 0));
        bytes.extend(section(11, dynsym, 240, 0, 24));
        bytes.extend(section(SHT_GNU_HASH, hash, hash_size, 1, 0));
        bytes.extend(section(1, rodata, 4096, 0, 0));
        bytes
    }

    #[test]
    fn a_hash_table_of_the_size_its_header_gives_is_a_table() {
        let hash = 64 + 240;
        assert_eq!(table_ranges_of(&elf(84)), vec![(hash, hash + 84)]);
    }

    #[test]
    fn a_section_merely_called_a_hash_table_is_not() {
        // A blob behind a hash table header: its size is not the table's.
        assert!(table_ranges_of(&elf(84 + 65536)).is_empty());
    }

    #[test]
    fn a_truncated_or_foreign_file_has_no_tables() {
        let whole = elf(84);
        assert!(table_ranges_of(&whole[..whole.len() - 10]).is_empty());
        assert!(table_ranges_of(b"\x7fELF but not really").is_empty());
        assert!(table_ranges_of(&[0u8; 4096]).is_empty());
    }
}
