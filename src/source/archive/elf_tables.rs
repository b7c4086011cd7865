//! The tables of an ELF executable or shared library, for opaque-content accounting.
//!
//! A large binary's GNU hash table (`.gnu.hash`: a Bloom filter and hash values, 200-500 KiB
//! in `cc1` or `node`) measures as random as ciphertext, and so would be an `opaque` gap in
//! every tree that holds a compiler or a Node.js binary. Its bytes are what the section
//! header says they are: hash tables, symbol tables, relocations, version records, notes,
//! dynamic entries. Those sections' ranges are interpreted content; everything else (code,
//! `.rodata`, `.data`, where an embedded blob could hide) is still measured. The file's
//! bytes are all scanned as they are either way, and compressed sections (`SHF_COMPRESSED`
//! debug info) are found by carving their zlib or zstd streams.

/// Section types whose contents are linker and loader tables (ELF gABI; GNU extensions).
const TABLE_TYPES: &[u32] = &[
    2,           // SHT_SYMTAB
    3,           // SHT_STRTAB
    4,           // SHT_RELA
    5,           // SHT_HASH
    6,           // SHT_DYNAMIC
    7,           // SHT_NOTE
    9,           // SHT_REL
    11,          // SHT_DYNSYM
    19,          // SHT_RELR
    0x6fff_fff6, // SHT_GNU_HASH
    0x6fff_fffd, // SHT_GNU_verdef
    0x6fff_fffe, // SHT_GNU_verneed
    0x6fff_ffff, // SHT_GNU_versym
];
/// SHT_NOBITS: no bytes in the file (`.bss`).
const NOBITS: u32 = 8;
/// Most section headers read (the format's 16-bit count allows 65,535).
const MAX_SECTIONS: u64 = 0xFFFF;

/// Byte ranges of `read_at`'s stream (`length` bytes) that ELF tables occupy; empty when
/// the stream is no ELF file or its section header table is out of bounds.
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
    if count == 0 || count > MAX_SECTIONS || offset.saturating_add(table_bytes) > length {
        return Vec::new();
    }
    let table = read_at(offset, table_bytes as usize);
    table
        .chunks_exact(entry as usize)
        .filter_map(|section| layout.table_range(section))
        .filter(|&(start, end)| start < end && end <= length)
        .collect()
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

    /// The file range of one section header's section, if it is a table.
    fn table_range(&self, section: &[u8]) -> Option<(u64, u64)> {
        let kind = self.uint(section, 4, 4)? as u32;
        if kind == NOBITS || !TABLE_TYPES.contains(&kind) {
            return None;
        }
        let (offset, size) = if self.wide {
            (self.uint(section, 0x18, 8)?, self.uint(section, 0x20, 8)?)
        } else {
            (self.uint(section, 0x10, 4)?, self.uint(section, 0x14, 4)?)
        };
        Some((offset, offset.checked_add(size)?))
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

    /// A minimal 64-bit little-endian ELF: header, a 4 KiB `.gnu.hash`, a 4 KiB `.rodata`,
    /// then the section header table.
    fn elf() -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes.extend(std::iter::repeat_n(0xA5, 8192));
        let table = bytes.len() as u64;
        bytes[0x28..0x30].copy_from_slice(&table.to_le_bytes());
        bytes[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        bytes[0x3C..0x3E].copy_from_slice(&3u16.to_le_bytes());
        let section = |kind: u32, offset: u64, size: u64| {
            let mut entry = vec![0u8; 64];
            entry[4..8].copy_from_slice(&kind.to_le_bytes());
            entry[0x18..0x20].copy_from_slice(&offset.to_le_bytes());
            entry[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            entry
        };
        bytes.extend(section(0, 0, 0));
        bytes.extend(section(0x6fff_fff6, 64, 4096));
        bytes.extend(section(1, 64 + 4096, 4096));
        bytes
    }

    #[test]
    fn hash_tables_are_tables_and_data_is_not() {
        assert_eq!(table_ranges_of(&elf()), vec![(64, 64 + 4096)]);
    }

    #[test]
    fn a_truncated_or_foreign_file_has_no_tables() {
        let whole = elf();
        assert!(table_ranges_of(&whole[..whole.len() - 10]).is_empty());
        assert!(table_ranges_of(b"\x7fELF but not really").is_empty());
        assert!(table_ranges_of(&[0u8; 4096]).is_empty());
    }
}
