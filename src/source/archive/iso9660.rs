//! ISO 9660 filesystem images (`genisoimage`, `xorriso -as mkisofs`, installer and
//! cloud-init images), with Rock Ridge and Joliet names.
//!
//! An image has no magic at its start: its first volume descriptor is at byte 32768
//! (`CD001` at byte 1 of sector 16), which [`super::carve`] finds like any signature, in a
//! file or inside another stream, and hands here with random access from that descriptor on.
//! The directory trees are walked iteratively (an explicit stack, every directory extent
//! visited once, so a loop or a deep tree cannot overflow anything), and each file's
//! extents (several for a file over 4 GiB) go through the driver as a member named by its
//! path: `disk.iso!iso9660@0!etc/app/credentials`.
//!
//! Every tree is walked: the primary one (with its Rock Ridge `NM` names, continued through
//! `CE` areas) and every supplementary one (Joliet's UCS-2 names). A file's data is scanned
//! once, under the first tree that reaches it (Rock Ridge first, else Joliet), and its names
//! in the other trees are checked as names; so a file hidden from one tree is still read.
//! Directory records that do not parse are `corrupt` gaps, and the rest of that directory
//! is not read.

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};

use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;
use crate::source::names;

/// Sectors before the first volume descriptor (the system area), and their size.
const SYSTEM_SECTORS: u64 = 16;
const DESCRIPTOR_SECTOR: u64 = 2048;
/// Volume descriptors read before giving up on a terminator.
const MAX_DESCRIPTORS: u64 = 64;
/// A directory larger than this is not held in memory (real ones are a few KiB).
const MAX_DIRECTORY: u64 = 64 << 20;
/// Directories walked in one image, across all its trees.
const MAX_DIRECTORIES: usize = 1 << 20;
/// Rock Ridge continuation areas followed for one record.
const MAX_CONTINUATIONS: usize = 16;

/// One directory tree of the image.
struct Tree {
    root_extent: u32,
    root_size: u32,
    joliet: bool,
}

/// Reads the image whose first volume descriptor starts `reader`; `start` is that
/// descriptor's offset in the enclosing bytes (for the member name and the covered range).
/// Returns whether it was an image (a primary volume descriptor was found).
pub(super) fn scan_seekable<R: Read + Seek>(
    walk: &Walk,
    chain: &[String],
    reader: &mut R,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> bool {
    let mut image = Image { reader };
    let Some((block, trees)) = image.descriptors() else {
        return false;
    };
    walk.opening("iso9660");
    let mut scanned: HashSet<u32> = HashSet::new();
    let mut visited: HashSet<u32> = HashSet::new();
    let rock_ridge = trees
        .iter()
        .find(|tree| !tree.joliet)
        .is_some_and(|tree| image.has_rock_ridge(tree, block));
    let mut ordered: Vec<&Tree> = trees.iter().collect();
    // The tree with the real names goes first: its names label the members.
    ordered.sort_by_key(|tree| {
        if rock_ridge {
            tree.joliet
        } else {
            !tree.joliet
        }
    });
    for tree in ordered {
        let walked = Walker {
            walk,
            chain,
            block,
            joliet: tree.joliet,
            rock_ridge: rock_ridge && !tree.joliet,
            depth,
        };
        if !walked.tree(&mut image, tree, &mut visited, &mut scanned, buffer) {
            return true;
        }
    }
    true
}

struct Image<'r, R> {
    reader: &'r mut R,
}

impl<R: Read + Seek> Image<'_, R> {
    /// Reads `len` bytes at image offset `offset` (the reader starts at sector 16).
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let Some(position) = offset.checked_sub(SYSTEM_SECTORS * DESCRIPTOR_SECTOR) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an extent inside the system area",
            ));
        };
        self.reader.seek(SeekFrom::Start(position))?;
        let mut out = vec![0u8; len];
        self.reader.read_exact(&mut out)?;
        Ok(out)
    }

    /// The logical block size and the directory trees, from the volume descriptors.
    fn descriptors(&mut self) -> Option<(u64, Vec<Tree>)> {
        let mut trees = Vec::new();
        let mut block = None;
        for sector in SYSTEM_SECTORS..SYSTEM_SECTORS + MAX_DESCRIPTORS {
            let Ok(descriptor) = self.read_at(sector * DESCRIPTOR_SECTOR, 2048) else {
                break;
            };
            if &descriptor[1..6] != b"CD001" {
                break;
            }
            let root = &descriptor[156..190];
            let tree = Tree {
                root_extent: le32(root, 2),
                root_size: le32(root, 10),
                joliet: false,
            };
            match descriptor[0] {
                1 => {
                    let size = u16::from_le_bytes([descriptor[128], descriptor[129]]);
                    block = Some(u64::from(size));
                    trees.push(tree);
                }
                2 => {
                    let escapes = &descriptor[88..91];
                    let joliet = matches!(escapes, b"%/@" | b"%/C" | b"%/E");
                    trees.push(Tree { joliet, ..tree });
                }
                255 => break,
                _ => {}
            }
        }
        let block = block.filter(|&b| b.is_power_of_two() && (512..=2048).contains(&b))?;
        Some((block, trees))
    }

    /// Whether the root's `.` record carries the SUSP `SP` entry (Rock Ridge in use).
    fn has_rock_ridge(&mut self, tree: &Tree, block: u64) -> bool {
        let Ok(first) = self.read_at(u64::from(tree.root_extent) * block, 256) else {
            return false;
        };
        let length = first[0] as usize;
        let name_len = first.get(32).copied().unwrap_or(0) as usize;
        let system_use = 33 + name_len + (1 - name_len % 2);
        first
            .get(system_use..length.min(first.len()))
            .is_some_and(|area| area.starts_with(b"SP\x07\x01\xBE\xEF"))
    }
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A file met in a directory: its extents (one, or several for a multi-extent file).
struct File {
    name: String,
    extents: Vec<(u32, u32)>,
    symlink: Option<Vec<u8>>,
}

struct Walker<'w, 'a, 'm, 'c> {
    walk: &'w Walk<'a, 'm>,
    chain: &'c [String],
    block: u64,
    joliet: bool,
    rock_ridge: bool,
    depth: u32,
}

/// What the Rock Ridge entries of one record say.
#[derive(Default)]
struct RockRidge {
    name: Vec<u8>,
    symlink: Option<Vec<u8>>,
    /// A relocated directory's real place (`CL`): the record is a placeholder for it.
    child_link: Option<u32>,
    /// The record is a relocated directory (`RE`), listed again at its real place.
    relocated: bool,
}

impl Walker<'_, '_, '_, '_> {
    /// Walks one tree; false if the walk must stop (a limit).
    fn tree<R: Read + Seek>(
        &self,
        image: &mut Image<R>,
        tree: &Tree,
        visited: &mut HashSet<u32>,
        scanned: &mut HashSet<u32>,
        buffer: &mut ScanBuffer,
    ) -> bool {
        let mut stack: Vec<(u32, u32, Vec<String>)> =
            vec![(tree.root_extent, tree.root_size, Vec::new())];
        let mut seen_here: HashSet<u32> = HashSet::new();
        while let Some((extent, size, path)) = stack.pop() {
            if self.walk.check_running().is_err() {
                return false;
            }
            if !seen_here.insert(extent) {
                continue;
            }
            if visited.len() >= MAX_DIRECTORIES {
                self.walk.fail(
                    GapKind::LimitExceeded,
                    self.chain,
                    format!("more than {MAX_DIRECTORIES} directories; the rest were not read"),
                );
                return false;
            }
            visited.insert(extent);
            let Some(records) = self.directory(image, extent, size, &path) else {
                continue;
            };
            let (directories, files) = self.entries(image, &records, &path);
            for file in files {
                self.file(image, &path, file, scanned, buffer);
            }
            for (name, extent, size) in directories.into_iter().rev() {
                let mut inner = path.clone();
                inner.push(name);
                names::check_listed_member(self.walk.ctx, &self.member(&inner), None);
                stack.push((extent, size, inner));
            }
        }
        true
    }

    fn member(&self, path: &[String]) -> Vec<String> {
        let mut member = self.chain.to_vec();
        member.push(path.join("/"));
        member
    }

    /// A directory's bytes, or `None` (recorded) if they cannot be read.
    fn directory<R: Read + Seek>(
        &self,
        image: &mut Image<R>,
        extent: u32,
        size: u32,
        path: &[String],
    ) -> Option<Vec<u8>> {
        let place = if path.is_empty() {
            self.chain.to_vec()
        } else {
            self.member(path)
        };
        if u64::from(size) > MAX_DIRECTORY {
            self.walk.fail(
                GapKind::LimitExceeded,
                &place,
                format!("a directory of {size} bytes, more than {MAX_DIRECTORY}; not read"),
            );
            return None;
        }
        match image.read_at(u64::from(extent) * self.block, size as usize) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                self.walk.fail(
                    GapKind::Corrupt,
                    &place,
                    format!("the directory's extent cannot be read: {error}; not read"),
                );
                None
            }
        }
    }

    /// The subdirectories and files a directory's records list.
    #[allow(clippy::type_complexity)]
    fn entries<R: Read + Seek>(
        &self,
        image: &mut Image<R>,
        records: &[u8],
        path: &[String],
    ) -> (Vec<(String, u32, u32)>, Vec<File>) {
        let mut directories = Vec::new();
        let mut files: Vec<File> = Vec::new();
        let mut continuing = false;
        let mut at = 0usize;
        while at < records.len() {
            let length = records[at] as usize;
            if length == 0 {
                // Records do not cross sectors: the rest of this one is padding.
                at = (at / self.block as usize + 1) * self.block as usize;
                continue;
            }
            let Some(record) = records.get(at..at + length).filter(|r| r.len() >= 34) else {
                self.walk.fail(
                    GapKind::Corrupt,
                    &self.member(path),
                    format!(
                        "a damaged directory record at byte {at} of the directory; the rest of \
                         it was not read"
                    ),
                );
                break;
            };
            at += length;
            let name_len = record[32] as usize;
            let Some(identifier) = record.get(33..33 + name_len) else {
                continue;
            };
            if identifier == [0] || identifier == [1] {
                continue;
            }
            let flags = record[25];
            let extent = le32(record, 2);
            let size = le32(record, 10);
            let rock_ridge = if self.rock_ridge {
                let system_use = 33 + name_len + (1 - name_len % 2);
                self.rock_ridge(image, record.get(system_use..).unwrap_or_default())
            } else {
                RockRidge::default()
            };
            if rock_ridge.relocated {
                continue;
            }
            let name = self.name(identifier, &rock_ridge, flags & 0x02 != 0);
            if let Some(real) = rock_ridge.child_link {
                let real_size = image
                    .read_at(u64::from(real) * self.block, 34)
                    .map(|dot| le32(&dot, 10))
                    .unwrap_or(0);
                directories.push((name, real, real_size));
                continue;
            }
            if flags & 0x02 != 0 {
                directories.push((name, extent, size));
                continue;
            }
            match files.last_mut() {
                Some(last) if continuing => last.extents.push((extent, size)),
                _ => files.push(File {
                    name,
                    extents: vec![(extent, size)],
                    symlink: rock_ridge.symlink,
                }),
            }
            // The multi-extent flag: the next record continues this file.
            continuing = flags & 0x80 != 0;
        }
        (directories, files)
    }

    fn name(&self, identifier: &[u8], rock_ridge: &RockRidge, directory: bool) -> String {
        if !rock_ridge.name.is_empty() {
            return String::from_utf8_lossy(&rock_ridge.name).into_owned();
        }
        let mut name = if self.joliet {
            let units = identifier
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        } else {
            String::from_utf8_lossy(identifier).into_owned()
        };
        if !directory {
            // `NAME.TXT;1`: the version, then a dot left by a name without an extension.
            if let Some((stem, version)) = name.rsplit_once(';') {
                if version.bytes().all(|b| b.is_ascii_digit()) {
                    name = stem.to_string();
                }
            }
            if name.ends_with('.') {
                name.pop();
            }
        }
        name
    }

    /// Parses the SUSP entries of a record's system use area, following `CE` areas.
    fn rock_ridge<R: Read + Seek>(&self, image: &mut Image<R>, area: &[u8]) -> RockRidge {
        let mut found = RockRidge::default();
        let mut area = area.to_vec();
        let mut continuations = 0;
        loop {
            let mut next = None;
            let mut at = 0;
            while at + 4 <= area.len() {
                let signature = &area[at..at + 2];
                let length = area[at + 2] as usize;
                if length < 4 || at + length > area.len() {
                    break;
                }
                let body = &area[at + 4..at + length];
                match signature {
                    // Flags: 2 = ".", 4 = ".." (no name text).
                    b"NM" if !body.is_empty() && body[0] & 0x06 == 0 => {
                        found.name.extend_from_slice(&body[1..]);
                    }
                    b"SL" if !body.is_empty() => {
                        let target = found.symlink.get_or_insert_with(Vec::new);
                        symlink_components(&body[1..], target);
                    }
                    b"CL" if body.len() >= 4 => found.child_link = Some(le32(body, 0)),
                    b"RE" => found.relocated = true,
                    b"CE" if body.len() >= 24 => {
                        next = Some((le32(body, 0), le32(body, 8), le32(body, 16)));
                    }
                    b"ST" => break,
                    _ => {}
                }
                at += length;
            }
            let Some((block, offset, length)) = next else {
                break;
            };
            continuations += 1;
            if continuations > MAX_CONTINUATIONS || length > 64 << 10 {
                break;
            }
            let Ok(bytes) = image.read_at(
                u64::from(block) * self.block + u64::from(offset),
                length as usize,
            ) else {
                break;
            };
            area = bytes;
        }
        found
    }

    /// Scans a file's data, once per image (checks its name in every tree).
    fn file<R: Read + Seek>(
        &self,
        image: &mut Image<R>,
        path: &[String],
        file: File,
        scanned: &mut HashSet<u32>,
        buffer: &mut ScanBuffer,
    ) {
        let mut inner = path.to_vec();
        inner.push(file.name);
        let member = self.member(&inner);
        let first = file.extents.first().map_or(0, |&(extent, _)| extent);
        let bytes: u64 = file.extents.iter().map(|&(_, size)| u64::from(size)).sum();
        if file.symlink.is_some() || bytes == 0 || !scanned.insert(first) {
            names::check_listed_member(self.walk.ctx, &member, file.symlink.as_deref());
            return;
        }
        self.walk.entering(&member);
        let mut data = Extents {
            image,
            block: self.block,
            extents: file.extents,
            next: 0,
            left: 0,
            failed: None,
        };
        let mut decoded = Decoded::new(self.walk, &member, "ISO 9660 file", &mut data);
        scan_member(self.walk, &member, &mut decoded, self.depth + 1, buffer);
        let _ = super::drain(&mut decoded);
    }
}

/// A Rock Ridge symbolic link's components, joined with `/`.
fn symlink_components(mut components: &[u8], target: &mut Vec<u8>) {
    while components.len() >= 2 {
        let flags = components[0];
        let length = components[1] as usize;
        let Some(text) = components.get(2..2 + length) else {
            break;
        };
        if !target.is_empty() && !target.ends_with(b"/") {
            target.push(b'/');
        }
        match flags & 0x0E {
            0x02 => target.push(b'.'),
            0x04 => target.extend_from_slice(b".."),
            0x08 => target.push(b'/'),
            _ => target.extend_from_slice(text),
        }
        components = &components[2 + length..];
    }
}

/// A file's data: its extents read one after the other.
struct Extents<'i, 'r, R> {
    image: &'i mut Image<'r, R>,
    block: u64,
    extents: Vec<(u32, u32)>,
    next: usize,
    left: u64,
    failed: Option<()>,
}

impl<R: Read + Seek> Read for Extents<'_, '_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Ok(0);
        }
        while self.left == 0 {
            let Some(&(extent, size)) = self.extents.get(self.next) else {
                return Ok(0);
            };
            self.next += 1;
            let position = (u64::from(extent) * self.block)
                .checked_sub(SYSTEM_SECTORS * DESCRIPTOR_SECTOR)
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "an extent in the system area")
                })?;
            self.image.reader.seek(SeekFrom::Start(position))?;
            self.left = u64::from(size);
        }
        let want = out.len().min(self.left as usize);
        let n = self.image.reader.read(&mut out[..want])?;
        if n == 0 {
            self.failed = Some(());
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the image ends inside this file's extent",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::testing::scan_memory;
    use super::*;

    const SECTOR: usize = 2048;

    fn record(extent: u32, size: u32, flags: u8, name: &[u8]) -> Vec<u8> {
        let padding = 1 - name.len() % 2;
        let mut out = vec![0u8; 33];
        out[0] = (33 + name.len() + padding) as u8;
        out[2..6].copy_from_slice(&extent.to_le_bytes());
        out[6..10].copy_from_slice(&extent.to_be_bytes());
        out[10..14].copy_from_slice(&size.to_le_bytes());
        out[14..18].copy_from_slice(&size.to_be_bytes());
        out[25] = flags;
        out[32] = name.len() as u8;
        out.extend_from_slice(name);
        out.resize(out.len() + padding, 0);
        out
    }

    fn directory(image: &mut [u8], sector: usize, records: &[Vec<u8>]) {
        let mut at = sector * SECTOR;
        for record in records {
            image[at..at + record.len()].copy_from_slice(record);
            at += record.len();
        }
    }

    /// A hand-made image: a directory loop, a self-loop, and a two-extent file whose
    /// extents are stored in reverse order, so the secret is never whole in the image.
    fn hostile_image(secret: &[u8]) -> Vec<u8> {
        let mut image = vec![0u8; 24 * SECTOR];
        let pvd = 16 * SECTOR;
        image[pvd] = 1;
        image[pvd + 1..pvd + 6].copy_from_slice(b"CD001");
        image[pvd + 6] = 1;
        image[pvd + 128..pvd + 130].copy_from_slice(&2048u16.to_le_bytes());
        let root = record(18, SECTOR as u32, 0x02, &[0]);
        image[pvd + 156..pvd + 156 + 34].copy_from_slice(&root);
        let terminator = 17 * SECTOR;
        image[terminator] = 255;
        image[terminator + 1..terminator + 6].copy_from_slice(b"CD001");
        let (first, rest) = secret.split_at(secret.len() / 2);
        directory(
            &mut image,
            18,
            &[
                record(18, SECTOR as u32, 0x02, &[0]),
                record(18, SECTOR as u32, 0x02, &[1]),
                record(19, SECTOR as u32, 0x02, b"A"),
                record(18, SECTOR as u32, 0x02, b"LOOP"),
                record(22, SECTOR as u32, 0x80, b"BIG.BIN;1"),
                record(21, rest.len() as u32, 0x00, b"BIG.BIN;1"),
            ],
        );
        directory(
            &mut image,
            19,
            &[
                record(19, SECTOR as u32, 0x02, &[0]),
                record(18, SECTOR as u32, 0x02, &[1]),
                record(19, SECTOR as u32, 0x02, b"SELF"),
            ],
        );
        image[21 * SECTOR..21 * SECTOR + rest.len()].copy_from_slice(rest);
        image[23 * SECTOR - first.len()..23 * SECTOR].copy_from_slice(first);
        image
    }

    #[test]
    fn directory_loops_end_and_extents_are_joined() {
        let secret = b"isoSplitSecret0123456789abcdefghij";
        let image = hostile_image(secret);
        assert!(memchr::memmem::find(&image, secret).is_none());
        let scanned = scan_memory(secret, "disk.iso", &image);
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        let places = scanned.places();
        assert!(
            places
                .iter()
                .any(|(chain, _)| chain == "disk.iso › iso9660@0 › BIG.BIN"),
            "{places:?}"
        );
    }

    #[test]
    fn a_truncated_image_is_a_gap_not_a_stop() {
        let secret = b"isoSplitSecret0123456789abcdefghij";
        let mut image = hostile_image(secret);
        image.truncate(22 * SECTOR + 100);
        let scanned = scan_memory(secret, "disk.iso", &image);
        assert!(
            scanned.gaps.iter().any(|gap| gap.kind == GapKind::Corrupt),
            "{:?}",
            scanned.gaps
        );
    }

    #[test]
    fn symlink_targets_are_joined() {
        let mut target = Vec::new();
        symlink_components(b"\x08\x00\x00\x03etc\x00\x04conf", &mut target);
        assert_eq!(target, b"/etc/conf");
        let mut target = Vec::new();
        symlink_components(b"\x04\x00\x00\x03lib", &mut target);
        assert_eq!(target, b"../lib");
    }
}
