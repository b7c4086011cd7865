//! 7z archives (`7z a`, `7zz a`), read with `sevenz-rust2`: LZMA, LZMA2, PPMd, BZip2 and
//! Deflate coders, the BCJ and delta filters, solid and non-solid archives.
//!
//! A 7z's index is at its end (the start header points to it), so reading one needs random
//! access: a 7z file on disk is read in place, one inside a stream is held in memory within
//! [`super::ArchiveLimits::max_buffer`], as a zip is. Members are decoded block by block
//! (a solid block holds many files, decoded in order) and each goes through the driver.
//!
//! What cannot be read is a gap, block by block: a block encrypted with a password
//! (`7z a -p`) is an `encrypted` gap naming its files, whose names are still checked; an
//! archive whose index is encrypted too (`-mhe=on`) is one `encrypted` gap; a coder scour
//! does not have (zstd, brotli and lz4 from 7-Zip forks, ARM64 filters) is `unsupported`; a
//! damaged block is `corrupt`, and the other blocks are still read.

use std::io::{Read, Seek};

use sevenz_rust2::{Archive, BlockDecoder, EncoderMethod, Error, Password};

use super::format::{self, Format, Place, Seekable};
use super::limits::Decoded;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;
use crate::source::names;

pub(crate) static SEVEN_ZIP: SevenZip = SevenZip;

pub(crate) struct SevenZip;

const MAGIC: &[u8] = b"7z\xBC\xAF\x27\x1C";

impl Format for SevenZip {
    fn name(&self) -> &'static str {
        "7z"
    }

    /// The signature, major version 0 (every 7z ever written) and a start header whose
    /// CRC holds: 7-Zip's own binaries carry the bare signature as a constant, and those
    /// must not become gaps when found inside other bytes.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        let Some(start_header) = head.get(12..32) else {
            return false;
        };
        head.starts_with(MAGIC)
            && head[6] == 0
            && head[8..12] == crc32fast::hash(start_header).to_le_bytes()
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
            "7z archive",
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

/// Whether an error says the content is encrypted (the AES coder is not built in, so an
/// encrypted index or block fails as a missing method or a missing password).
fn is_encryption_error(error: &Error) -> bool {
    match error {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => true,
        Error::UnsupportedCompressionMethod(method) => method.to_uppercase().contains("AES"),
        _ => false,
    }
}

fn gap_kind(error: &Error) -> GapKind {
    match error {
        _ if is_encryption_error(error) => GapKind::Encrypted,
        Error::UnsupportedCompressionMethod(_)
        | Error::Unsupported(_)
        | Error::UnsupportedVersion { .. }
        | Error::ExternalUnsupported => GapKind::Unsupported,
        Error::MaxMemLimited { .. } => GapKind::LimitExceeded,
        Error::Io(error, _) if super::is_reported(error) => GapKind::Corrupt,
        _ => GapKind::Corrupt,
    }
}

fn already_reported(error: &Error) -> bool {
    match error {
        Error::Io(error, _) | Error::MaybeBadPassword(error) => super::is_reported(error),
        _ => false,
    }
}

/// Memory a coder may use for its dictionary or model, in KiB: the walk's buffer limit.
fn memory_limit_kb(walk: &Walk) -> usize {
    usize::try_from(walk.limits().max_buffer / 1024).unwrap_or(usize::MAX)
}

fn scan_seekable<R: Read + Seek>(
    walk: &Walk,
    chain: &[String],
    mut reader: R,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let password = Password::empty();
    let archive =
        match Archive::read_with_memory_limit(&mut reader, &password, memory_limit_kb(walk)) {
            Ok(archive) => archive,
            Err(error) => {
                let what = if is_encryption_error(&error) {
                    "the archive's index is encrypted (7z -mhe): neither its file names nor \
                     their content can be read without the password"
                        .to_string()
                } else {
                    format!("not a readable 7z archive: {error}")
                };
                walk.fail(gap_kind(&error), chain, what);
                return;
            }
        };
    for block_index in 0..archive.blocks.len() {
        if walk.check_running().is_err() {
            return;
        }
        scan_block(
            walk,
            chain,
            &archive,
            block_index,
            &mut reader,
            depth,
            buffer,
        );
    }
    // Files without data (empty files, directories): only their names.
    for (index, entry) in archive.files.iter().enumerate() {
        let no_block = archive
            .stream_map
            .file_block_index
            .get(index)
            .is_none_or(Option::is_none);
        if no_block && !entry.is_anti_item {
            names::check_listed_member(walk.ctx, &member_chain(chain, &entry.name), None);
        }
    }
}

fn member_chain(chain: &[String], name: &str) -> Vec<String> {
    let mut member = chain.to_vec();
    member.push(name.to_string());
    member
}

fn scan_block<R: Read + Seek>(
    walk: &Walk,
    chain: &[String],
    archive: &Archive,
    block_index: usize,
    reader: &mut R,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let password = Password::empty();
    let decoder = BlockDecoder::new_with_memory_limit(
        1,
        memory_limit_kb(walk),
        block_index,
        archive,
        &password,
        reader,
    );
    let files: Vec<String> = decoder.entries().iter().map(|e| e.name.clone()).collect();
    let encrypted = archive.blocks[block_index]
        .coders
        .iter()
        .any(|coder| coder.encoder_method_id() == EncoderMethod::ID_AES256_SHA256);
    if encrypted {
        for name in &files {
            names::check_listed_member(walk.ctx, &member_chain(chain, name), None);
        }
        walk.fail(
            GapKind::Encrypted,
            chain,
            format!(
                "{} is encrypted with a password (7z -p): its content cannot be read without \
                 it; the names were checked",
                describe_block(block_index, files.len())
            ),
        );
        return;
    }
    let mut stopped = false;
    let result = decoder.for_each_entries(&mut |entry, data| {
        if entry.is_anti_item {
            return Ok(true);
        }
        let member = member_chain(chain, &entry.name);
        if entry.is_directory {
            names::check_listed_member(walk.ctx, &member, None);
            return Ok(true);
        }
        walk.entering(&member);
        let mut decoded = Decoded::new(walk, &member, "7z member", data);
        scan_member(walk, &member, &mut decoded, depth + 1, buffer);
        let rest = super::drain(&mut decoded);
        if walk.check_running().is_err() || rest.is_err() {
            // Decoded recorded the failure; the rest of the block cannot be reached.
            stopped = true;
            return Ok(false);
        }
        Ok(true)
    });
    if let Err(error) = result {
        if !stopped && !already_reported(&error) {
            walk.fail(
                gap_kind(&error),
                chain,
                format!(
                    "{} could not be decoded: {error}; the rest of that block was not scanned",
                    describe_block(block_index, files.len())
                ),
            );
        }
    }
}

/// "block 2 (3 files)" for a gap's reason. Names are left out: they are labels that may
/// hold the secret, and every member's name is checked on its own.
fn describe_block(block_index: usize, files: usize) -> String {
    match files {
        1 => format!("block {block_index} (1 file)"),
        _ => format!("block {block_index} ({files} files)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_signature_with_a_checked_start_header() {
        let mut head = b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec();
        let start_header = [7u8; 20];
        head.extend_from_slice(&crc32fast::hash(&start_header).to_le_bytes());
        head.extend_from_slice(&start_header);
        assert!(SEVEN_ZIP.recognise(&head, Place::Inside));
        head[20] ^= 1;
        assert!(
            !SEVEN_ZIP.recognise(&head, Place::Inside),
            "a start header CRC that fails"
        );
        assert!(!SEVEN_ZIP.recognise(b"7z\xBC\xAF\x27\x1C\x00\x04", Place::Inside));
        assert!(!SEVEN_ZIP.recognise(b"7z archive", Place::Filesystem));
    }

    #[test]
    fn describes_blocks_without_names() {
        assert_eq!(describe_block(0, 1), "block 0 (1 file)");
        assert_eq!(describe_block(2, 5), "block 2 (5 files)");
    }
}
