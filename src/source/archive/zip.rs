//! Zip archives and their family (jar, war, whl, apk, nupkg, docx, xlsx, GitHub Actions log
//! downloads), read through the central directory.
//!
//! A zip's index is at its end, so reading one needs random access. A zip file on disk is
//! read in place. A zip inside a stream (a `.jar` inside a `.tar.gz`) is held in memory
//! whole, within [`super::ArchiveLimits::max_buffer`]; a larger one is a `limit-exceeded`
//! gap. (Reading local headers front to back instead would miss what only the central
//! directory describes, and cannot size members written with data descriptors, which jar
//! tools use.)
//!
//! Local headers are checked against the central directory first: members hidden from the
//! directory are a `corrupt` gap (the listed ones are still scanned), and overlapping
//! members — the construction of non-recursive zip bombs — stop the archive. Encrypted
//! members are `encrypted` gaps, unknown compression methods `unsupported` gaps; symbolic
//! link members are counted as skipped, and their targets are checked as names. The
//! archive's comment and each member's comment (free text in the central directory, in the
//! clear even for an encrypted member) are scanned as members named `zip comment`. Nothing
//! is ever extracted.

use std::io::{Cursor, Read, Seek};

use ::zip::result::ZipError;
use ::zip::ZipArchive;

use super::format::{Format, Place};
use super::limits::Decoded;
use super::{buffer_whole, describe_error, scan_member, Walk};
use crate::coverage::{GapKind, SkipReason};
use crate::findings::display_chain;
use crate::matcher::ScanBuffer;

pub(crate) static ZIP: Zip = Zip;

pub(crate) struct Zip;

impl Format for Zip {
    fn name(&self) -> &'static str {
        "zip"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(b"PK\x03\x04")
            || head.starts_with(b"PK\x05\x06")
            || head.starts_with(b"PK\x07\x08PK\x03\x04")
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        scan_stream(walk, chain, reader, depth, buffer)
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &std::fs::File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        if let Ok(metadata) = file.metadata() {
            walk.input_size_known(metadata.len());
        }
        scan_seekable(walk, chain, file, 0, buffer);
        true
    }
}

/// A zip that arrived as a stream: buffered in memory, then read with random access.
pub(super) fn scan_stream(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let Some(bytes) = buffer_whole(walk, chain, input, "zip") else {
        return;
    };
    let held = bytes.len() as u64;
    scan_seekable(walk, chain, Cursor::new(bytes), depth, buffer);
    walk.release(held);
}

pub(super) fn scan_seekable<R: Read + Seek>(
    walk: &Walk,
    chain: &[String],
    reader: R,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut archive = match ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(error) => {
            let kind = match error {
                ZipError::UnsupportedArchive(_) => GapKind::Unsupported,
                _ => GapKind::Corrupt,
            };
            if !is_reported_zip(&error) {
                walk.fail(
                    kind,
                    chain,
                    format!("not a readable zip: {}", describe_error(&error)),
                );
            }
            return;
        }
    };
    if let Err(error) = archive.validate_header_consistency() {
        let text = describe_error(&error);
        if text.contains("overlapping") {
            walk.fail(
                GapKind::LimitExceeded,
                chain,
                format!(
                    "{text}: members that share compressed data are how zip bombs are built; \
                     the archive was not expanded"
                ),
            );
            return;
        }
        walk.fail(
            GapKind::Corrupt,
            chain,
            format!(
                "{text}: data not listed in the central directory was not scanned (the listed \
                 members were)"
            ),
        );
    }
    scan_comment(walk, chain, "zip comment", archive.comment(), depth, buffer);
    for index in 0..archive.len() {
        if walk.check_running().is_err() {
            return;
        }
        scan_entry(walk, chain, &mut archive, index, depth, buffer);
    }
}

fn scan_entry<R: Read + Seek>(
    walk: &Walk,
    chain: &[String],
    archive: &mut ZipArchive<R>,
    index: usize,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut member = chain.to_vec();
    let (encrypted, skip, symlink, comment) = match archive.by_index_raw(index) {
        Ok(raw) => {
            member.push(String::from_utf8_lossy(raw.name_raw()).into_owned());
            (
                raw.encrypted(),
                raw.is_dir() && raw.size() == 0,
                raw.is_symlink(),
                raw.comment_raw().to_vec(),
            )
        }
        Err(error) => {
            member.push(format!("#{index}"));
            walk.fail(
                GapKind::Corrupt,
                &member,
                format!(
                    "member {index} cannot be located: {}",
                    describe_error(&error)
                ),
            );
            return;
        }
    };
    // A member's comment is stored in the clear in the central directory, even for an
    // encrypted member.
    scan_comment(walk, &member, "zip comment", &comment, depth, buffer);
    if skip {
        return;
    }
    if symlink && !encrypted {
        symlink_member(walk, &member, archive, index, depth, buffer);
        return;
    }
    if encrypted {
        walk.fail(
            GapKind::Encrypted,
            &member,
            "the member is encrypted (password-protected); its content was not scanned".to_string(),
        );
        return;
    }
    walk.entering(&member);
    let mut file = match archive.by_index(index) {
        Ok(file) => file,
        Err(error) => {
            let kind = match error {
                ZipError::UnsupportedArchive(_) | ZipError::CompressionMethodNotSupported(_) => {
                    GapKind::Unsupported
                }
                _ => GapKind::Corrupt,
            };
            if !is_reported_zip(&error) {
                walk.fail(
                    kind,
                    &member,
                    format!("the member cannot be read: {}", describe_error(&error)),
                );
            }
            return;
        }
    };
    #[allow(deprecated)]
    if let zip::CompressionMethod::Unsupported(method) = file.compression() {
        walk.fail(
            GapKind::Unsupported,
            &member,
            format!(
                "the member is compressed with zip method {method}{}, which scour cannot \
                 decode; not scanned",
                unsupported_method_name(method)
            ),
        );
        return;
    }
    let mut decoded = Decoded::new(walk, &member, "zip member", &mut file);
    scan_member(walk, &member, &mut decoded, depth + 1, buffer);
    // Reading to the end is what checks the member's CRC.
    let _ = super::drain(&mut decoded);
}

/// The name of a zip compression method none of the built-in decoders reads (APPNOTE
/// 4.4.5), for the gap's reason.
fn unsupported_method_name(method: u16) -> &'static str {
    match method {
        10 => " (PKWARE DCL imploding)",
        16 => " (IBM z/OS CMPSC)",
        18 => " (IBM TERSE)",
        19 => " (IBM LZ77 z)",
        96 => " (JPEG variant)",
        97 => " (WavPack)",
        _ => "",
    }
}

/// A comment of the archive or of a member (`zip -z`, `zip -c`): text written by whoever
/// made the archive, so scanned like a member of its own named `label`.
fn scan_comment(
    walk: &Walk,
    chain: &[String],
    label: &str,
    comment: &[u8],
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    if comment.is_empty() {
        return;
    }
    let mut member = chain.to_vec();
    member.push(label.to_string());
    scan_member(walk, &member, &mut &comment[..], depth + 1, buffer);
}

/// Link targets longer than this are no path a system would follow: the member is scanned
/// as content instead.
const MAX_LINK_TARGET: u64 = 64 * 1024;

/// A symbolic link member (unix mode `S_IFLNK` in its external attributes): its content is
/// the link's target, a name, so it goes through the name check like a tar link's target
/// (see [`crate::source::names`]). The link is never followed, and is counted as skipped.
fn symlink_member<R: Read + Seek>(
    walk: &Walk,
    member: &[String],
    archive: &mut ZipArchive<R>,
    index: usize,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut target = Vec::new();
    let read = archive.by_index(index).map(|file| {
        let mut decoded = Decoded::new(walk, member, "zip member", file);
        (&mut decoded)
            .take(MAX_LINK_TARGET + 1)
            .read_to_end(&mut target)
    });
    match read {
        Ok(Ok(_)) if target.len() as u64 <= MAX_LINK_TARGET => {
            crate::source::names::check_listed_member(walk.ctx, member, Some(&target));
            walk.ctx
                .recorder
                .skipped(walk.ctx.root, SkipReason::Symlink, display_chain(member));
        }
        // Too long to be a link target: whatever it is, it is read as content.
        Ok(Ok(_)) => match archive.by_index(index) {
            Ok(mut file) => {
                walk.entering(member);
                let mut decoded = Decoded::new(walk, member, "zip member", &mut file);
                scan_member(walk, member, &mut decoded, depth + 1, buffer);
                let _ = super::drain(&mut decoded);
            }
            Err(error) => unreadable_link(walk, member, &describe_error(&error)),
        },
        Ok(Err(error)) if super::is_reported(&error) => {}
        Ok(Err(error)) => unreadable_link(walk, member, &error.to_string()),
        Err(error) if is_reported_zip(&error) => {}
        Err(error) => unreadable_link(walk, member, &describe_error(&error)),
    }
}

fn unreadable_link(walk: &Walk, member: &[String], why: &str) {
    walk.fail(
        GapKind::Corrupt,
        member,
        format!("the symbolic link member's target cannot be read: {why}"),
    );
}

fn is_reported_zip(error: &ZipError) -> bool {
    match error {
        ZipError::Io(io) => super::is_reported(io),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::decode::testing::scan_memory;
    use crate::coverage::GapKind;

    /// A stored member whose method fields (local header and central directory) say
    /// WavPack: an `unsupported` gap naming the method, not a `corrupt` one.
    #[test]
    fn a_member_in_a_method_no_decoder_reads_is_an_unsupported_gap() {
        let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        archive.start_file("audio.wv", options).unwrap();
        archive.write_all(b"samples of a recording").unwrap();
        let mut bytes = archive.finish().unwrap().into_inner();
        let local = memchr::memmem::find(&bytes, b"PK\x03\x04").unwrap();
        bytes[local + 8..local + 10].copy_from_slice(&97u16.to_le_bytes());
        let central = memchr::memmem::find(&bytes, b"PK\x01\x02").unwrap();
        bytes[central + 10..central + 12].copy_from_slice(&97u16.to_le_bytes());
        let scanned = scan_memory(b"Zq7p9xLm3Rt8wKd2", "a.zip", &bytes);
        assert_eq!(scanned.gaps.len(), 1, "{:?}", scanned.gaps);
        let gap = &scanned.gaps[0];
        assert_eq!(gap.kind, GapKind::Unsupported, "{gap:?}");
        assert!(gap.reason.contains("WavPack"), "{gap:?}");
    }
}
