//! squashfs filesystem images (`mksquashfs`: snaps, AppImages, live-CD and firmware root
//! filesystems), version 4, little-endian, with gzip, xz, zstd or lz4 compression, read
//! with the `backhand` crate.
//!
//! An image needs random access (tables at its end point back to metadata and data
//! blocks): one on disk or carved out of a file (an AppImage is an ELF runtime followed by
//! the image) is read in place, one inside a stream is held in memory within
//! [`super::ArchiveLimits::max_buffer`]. Every regular file goes through the driver as a
//! member named by its path (`app.AppImage!squashfs@188392!usr/share/app/config.json`);
//! symlink targets and the names of directories and devices are checked as names.
//!
//! What cannot be read is a gap: lzo and lzma images (compressors not built in) are
//! `unsupported`, a damaged image or file `corrupt`. backhand parses hostile bytes, so a
//! panic inside it is contained here and becomes a `corrupt` gap for this image only.

use std::io::{BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use backhand::v4::inode::InodeId;
use backhand::{BackhandError, InnerNode, Squashfs as Image};

use super::format::{self, Format, Place, Seekable};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;
use crate::source::names;

/// Directories in one image (real root filesystems have tens of thousands).
const MAX_DIRECTORIES: usize = 200_000;
/// Stack for building the tree: a few hundred bytes per directory level, with room to
/// spare; only what a deep tree touches is ever committed.
const TREE_STACK: usize = 512 << 20;

pub(crate) static SQUASHFS: Squashfs = Squashfs;

pub(crate) struct Squashfs;

impl Format for Squashfs {
    fn name(&self) -> &'static str {
        "squashfs"
    }

    /// `hsqs`, major version 4, and a block size of 4 KiB to 1 MiB (programs that handle
    /// squashfs carry the bare magic as a constant; those must not be opened).
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        let u16_at = |at: usize| u16::from_le_bytes([head[at], head[at + 1]]);
        head.len() >= 96
            && head.starts_with(b"hsqs")
            && u16_at(28) == 4
            && (12..=20).contains(&u16_at(22))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        format::open_held(
            walk,
            chain,
            reader,
            depth,
            buffer,
            "squashfs image",
            |w, c, r, d, b| scan_seekable(w, c, r, d, b),
        );
    }

    fn open_seekable(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Seekable,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) -> bool {
        scan_seekable(walk, chain, reader, depth, buffer);
        true
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &std::fs::File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        format::open_file_in_place(walk, chain, file, buffer, |w, c, r, d, b| {
            scan_seekable(w, c, r, d, b)
        })
    }
}

/// Reads an image that starts at the reader's offset 0.
pub(crate) fn scan_seekable<R: Seekable>(
    walk: &Walk,
    chain: &[String],
    reader: R,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        read_image(walk, chain, reader, depth, buffer)
    }));
    if outcome.is_err() {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the squashfs image is malformed (its parser stopped on it); the rest of it was not \
             read"
                .to_string(),
        );
    }
}

fn read_image<R: Seekable>(
    walk: &Walk,
    chain: &[String],
    reader: R,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let unreadable = |error: BackhandError| {
        if !matches!(&error, BackhandError::StdIo(error) if super::is_reported(error)) {
            let (kind, what) = describe(&error);
            walk.fail(
                kind,
                chain,
                format!("not a readable squashfs image: {what}"),
            );
        }
    };
    let squashfs = match Image::from_reader(BufReader::new(reader)) {
        Ok(squashfs) => squashfs,
        Err(error) => return unreadable(error),
    };
    // backhand builds the tree recursively, one frame per directory level; directories
    // are bounded here and the tree is built on a thread whose stack holds that many.
    let directories = squashfs
        .inodes
        .values()
        .filter(|inode| {
            matches!(
                inode.id,
                InodeId::BasicDirectory | InodeId::ExtendedDirectory
            )
        })
        .count();
    if directories > MAX_DIRECTORIES {
        walk.fail(
            GapKind::LimitExceeded,
            chain,
            format!(
                "the squashfs image has {directories} directories, more than {MAX_DIRECTORIES}; \
                 not read"
            ),
        );
        return;
    }
    let built = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("squashfs tree".to_string())
            .stack_size(TREE_STACK)
            .spawn_scoped(scope, move || squashfs.into_filesystem_reader())
            .map(|thread| thread.join())
    });
    let filesystem = match built {
        Ok(Ok(Ok(filesystem))) => filesystem,
        Ok(Ok(Err(error))) => return unreadable(error),
        Ok(Err(_panic)) => {
            walk.fail(
                GapKind::Corrupt,
                chain,
                "the squashfs image's directory tree is malformed (its parser stopped on it); \
                 not read"
                    .to_string(),
            );
            return;
        }
        Err(error) => {
            walk.fail(
                GapKind::InternalError,
                chain,
                format!("no thread to read the squashfs image's directory tree: {error}"),
            );
            return;
        }
    };
    for node in filesystem.files() {
        if walk.check_running().is_err() {
            return;
        }
        let path = node.fullpath.to_string_lossy();
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            continue;
        }
        let mut member = chain.to_vec();
        member.push(path.to_string());
        match &node.inner {
            InnerNode::File(file) => {
                walk.entering(&member);
                let mut data = match filesystem.file(file).reader_checked() {
                    Ok(data) => data,
                    Err(error) => {
                        let (kind, what) = describe(&error);
                        walk.fail(kind, &member, format!("the file cannot be read: {what}"));
                        continue;
                    }
                };
                let mut decoded = Decoded::new(walk, &member, "squashfs file", &mut data);
                scan_member(walk, &member, &mut decoded, depth + 1, buffer);
                let _ = super::drain(&mut decoded);
            }
            InnerNode::Symlink(link) => {
                let target = link.link.to_string_lossy();
                names::check_listed_member(walk.ctx, &member, Some(target.as_bytes()));
            }
            _ => names::check_listed_member(walk.ctx, &member, None),
        }
    }
}

/// The gap kind and a reason for a backhand error.
fn describe(error: &BackhandError) -> (GapKind, String) {
    match error {
        BackhandError::UnsupportedCompression(name) => (
            GapKind::Unsupported,
            if name.is_empty() {
                "it is compressed with lzo or lzma, which scour cannot decode".to_string()
            } else {
                format!("it is compressed with {name}, which scour cannot decode")
            },
        ),
        BackhandError::UnsupportedSquashfsVersion(major, minor) => (
            GapKind::Unsupported,
            format!("squashfs version {major}.{minor} is not supported"),
        ),
        other => (GapKind::Corrupt, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_version_four_and_a_sane_block_size() {
        let mut head = vec![0u8; 96];
        head[..4].copy_from_slice(b"hsqs");
        head[22..24].copy_from_slice(&17u16.to_le_bytes());
        head[28..30].copy_from_slice(&4u16.to_le_bytes());
        assert!(SQUASHFS.recognise(&head, Place::Inside));
        head[28] = 3;
        assert!(!SQUASHFS.recognise(&head, Place::Inside));
        assert!(!SQUASHFS.recognise(b"hsqs", Place::Inside));
    }
}
