//! Tar archives (ustar, GNU and PAX, with long names and sparse members), read as a stream.
//!
//! Member names come from PAX and GNU long-name records when present. A member's other PAX
//! records (extended attributes as `SCHILY.xattr.*`, comments, vendor keys) are scanned as
//! members of their own, named `pax KEY`: the tar crate folds them into the entry, so they
//! would otherwise never reach the matcher, and `tar --xattrs` keeps a file's extended
//! attributes there. Regular, sparse
//! (expanded to their logical size) and unknown-type members are scanned; directories,
//! devices and hard links carry no bytes of their own; symbolic links are counted as
//! skipped, as on the filesystem. Names are never used as paths, so `../` names are inert.
//!
//! A tar has no index, so completeness is checked as it is read: a member shorter than its
//! header says, a stream that ends without the end-of-archive block, and bytes after the end
//! that are neither zero padding nor another tar (as `cat a.tar b.tar` makes) are all gaps.
//!
//! Members of a tar read at the top (a `.tar` file, a `.tar.gz`) that are plain bytes and
//! not too large are scanned on worker threads while the next member is read
//! ([`member_pool`]), so a compressed tarball is scanned on every core, not one.

use std::io::{self, Read};

use tar::EntryType;

use super::format::{Format, Place};
use super::member_pool::{self, Pool};
use super::{drain, image, scan_member, Walk};
use crate::coverage::{GapKind, SkipReason};
use crate::findings::display_chain;
use crate::matcher::ScanBuffer;

const BLOCK: usize = 512;
/// Largest long-name or PAX record accepted: the tar crate holds one in memory. Real ones
/// are short, but a name of a megabyte or more is legal (and is content: it is scanned).
const MAX_EXTENSION: u64 = 64 << 20;

pub(crate) static TAR: Tar = Tar;

/// Tar (ustar, GNU, PAX, and v7 archives, which have no magic but a header checksum).
pub(crate) struct Tar;

impl Format for Tar {
    fn name(&self) -> &'static str {
        "tar"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        super::sniff::is_tar_header(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        scan(walk, chain, reader, depth, buffer)
    }
}

pub(super) fn scan(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut tracked = Tracked {
        inner: input,
        pending: Vec::new(),
        ended: false,
        walk,
        chain,
    };
    let mut run = |pool: Option<&Pool>| {
        while scan_one(walk, chain, &mut tracked, depth, pool, buffer)
            && next_archive(walk, chain, &mut tracked)
        {}
    };
    // An archive on disk or in a compressed file has its members scanned on all cores;
    // one nested deeper is already being read on a worker of some outer archive.
    if depth <= 1 {
        member_pool::with_pool(walk, |pool| run(Some(pool)));
    } else {
        run(None);
    }
}

/// Reads one tar archive; `false` if it stopped on an error (already recorded).
fn scan_one(
    walk: &Walk,
    chain: &[String],
    input: &mut Tracked<'_, '_, '_, '_>,
    depth: u32,
    pool: Option<&Pool>,
    buffer: &mut ScanBuffer,
) -> bool {
    let mut archive = tar::Archive::new(&mut *input);
    archive.set_ignore_zeros(false);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            walk.fail_unless_reported(GapKind::Corrupt, chain, "not a readable tar", &error);
            return false;
        }
    };
    let mut last = String::new();
    let mut image = image::Metadata::default();
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let after = if last.is_empty() {
                    "at its first member".to_string()
                } else {
                    format!("after member {last}")
                };
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    &format!("the tar is damaged {after}; the members after it were not scanned"),
                    &error,
                );
                return false;
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut member = chain.to_vec();
        member.push(name.clone());
        last = name;
        crate::source::names::check_listed_member(
            walk.ctx,
            &member,
            entry.link_name_bytes().as_deref(),
        );
        scan_pax_records(walk, &member, &mut entry, depth, buffer);
        match entry.header().entry_type() {
            EntryType::Directory
            | EntryType::Link
            | EntryType::Char
            | EntryType::Block
            | EntryType::Fifo => continue,
            EntryType::Symlink => {
                walk.ctx.recorder.skipped(
                    walk.ctx.root,
                    SkipReason::Symlink,
                    display_chain(&member),
                );
                continue;
            }
            _ => {}
        }
        let size = entry.size();
        walk.entering(&member);
        let mut counted = super::limits::Counted {
            inner: &mut entry,
            count: 0,
        };
        let keep = image::is_metadata_candidate(&last, size);
        match pool.filter(|_| !keep && size <= member_pool::MAX_MEMBER) {
            Some(pool) => {
                let mut bytes = Vec::with_capacity(size as usize);
                match counted.read_to_end(&mut bytes) {
                    Ok(_) => pool.scan(walk, member.clone(), bytes, depth + 1, buffer),
                    // What was read, then the error, as if the member had been streamed.
                    Err(error) => {
                        let mut replay = Replay {
                            bytes: &bytes,
                            error: Some(error),
                        };
                        scan_member(walk, &member, &mut replay, depth + 1, buffer);
                    }
                }
            }
            None => {
                let mut kept = Kept {
                    inner: &mut counted,
                    bytes: keep.then(Vec::new),
                };
                scan_member(walk, &member, &mut kept, depth + 1, buffer);
                if let Some(bytes) = kept.bytes.take() {
                    image.note(&last, &bytes);
                }
            }
        }
        let rest = drain(&mut counted);
        if walk.check_running().is_err() {
            return false;
        }
        match rest {
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    &member,
                    "could not read the member",
                    &error,
                );
                return false;
            }
            Ok(_) if counted.count < size => {
                walk.fail(
                    GapKind::Corrupt,
                    &member,
                    format!(
                        "the tar is truncated: this member has {} of its {size} bytes, and \
                         nothing after it is there",
                        counted.count
                    ),
                );
                return false;
            }
            Ok(_) => {}
        }
    }
    let layers = image.layers(chain);
    if !layers.is_empty() {
        let mut coverage = walk.coverage.borrow_mut();
        for layer in layers {
            if !coverage
                .layers
                .iter()
                .any(|known| known.member == layer.member)
            {
                coverage.layers.push(layer);
            }
        }
    }
    if input.ended {
        walk.fail(
            GapKind::Corrupt,
            chain,
            format!(
                "the tar ends without its end-of-archive block after member {last}: it was \
                 probably truncated, and members after it may be missing"
            ),
        );
        return false;
    }
    true
}

/// The PAX records that describe a member, other than its name and link target (checked
/// as names above), each scanned as a member `pax KEY` of it. A PAX header entry itself
/// (a global one, kept by the tar crate as an entry) is scanned as a member's content
/// instead, so its records are not read here.
fn scan_pax_records<R: Read>(
    walk: &Walk,
    member: &[String],
    entry: &mut tar::Entry<'_, R>,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let kind = entry.header().entry_type();
    if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
        return;
    }
    let records = match entry.pax_extensions() {
        Ok(Some(records)) => records,
        Ok(None) => return,
        Err(error) => {
            walk.fail(
                GapKind::Corrupt,
                member,
                format!("its PAX extended header cannot be read: {error} — its records were not scanned"),
            );
            return;
        }
    };
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                walk.fail(
                    GapKind::Corrupt,
                    member,
                    format!(
                        "its PAX extended header has a malformed record: {error} — the records \
                         after it were not scanned"
                    ),
                );
                return;
            }
        };
        let key = record.key_bytes();
        if key == b"path" || key == b"linkpath" {
            continue;
        }
        let mut chain = member.to_vec();
        chain.push(format!("pax {}", String::from_utf8_lossy(key)));
        scan_member(walk, &chain, &mut record.value_bytes(), depth + 1, buffer);
    }
}

/// After an archive's end block: zero padding up to the end of the stream (done), or
/// another concatenated archive (`true`, its first block put back), or a gap.
fn next_archive(walk: &Walk, chain: &[String], input: &mut Tracked<'_, '_, '_, '_>) -> bool {
    let mut block = [0u8; BLOCK];
    loop {
        match super::member::read_full(input, &mut block) {
            Ok(0) => return false,
            Ok(n) if block[..n].iter().all(|&b| b == 0) => {
                if n < BLOCK {
                    return false;
                }
            }
            Ok(n) => {
                input.pending = block[..n].to_vec();
                input.ended = false;
                return true;
            }
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    "could not read past the tar's end",
                    &error,
                );
                return false;
            }
        }
    }
}

/// The tar's input: remembers whether the stream ended (so an archive that stops without
/// its end block is noticed) and replays a block read ahead while looking for a
/// concatenated archive.
struct Tracked<'r, 'w, 'a, 'm> {
    inner: &'r mut dyn Read,
    pending: Vec<u8>,
    ended: bool,
    /// Where a refused record is recorded, as a limit rather than damage.
    walk: &'w Walk<'a, 'm>,
    chain: &'w [String],
}

impl Read for Tracked<'_, '_, '_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let n = out.len().min(self.pending.len());
            out[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        let n = self.inner.read(out)?;
        if n == 0 && !out.is_empty() {
            self.ended = true;
        }
        if n == BLOCK && out.len() == BLOCK {
            if let Some(why) = huge_extension(&out[..BLOCK]) {
                return Err(self.walk.fail(GapKind::LimitExceeded, self.chain, why));
            }
        }
        Ok(n)
    }
}

/// Long-name and PAX records are read whole into memory by the tar crate; a header that
/// claims a huge one is hostile (real ones are a few hundred bytes), so it is refused
/// before its data is read. Headers are read as whole blocks, which is what this sees.
fn huge_extension(block: &[u8]) -> Option<String> {
    let header = tar::Header::from_byte_slice(block);
    let kind = header.entry_type();
    let extension = kind.is_gnu_longname()
        || kind.is_gnu_longlink()
        || kind.is_pax_local_extensions()
        || kind.is_pax_global_extensions();
    match header.entry_size() {
        Ok(size) if extension && size > MAX_EXTENSION => Some(format!(
            "a long-name or PAX record claims {size} bytes, more than the {MAX_EXTENSION} \
             held in memory for one name: the members from there on were not scanned"
        )),
        _ => None,
    }
}

/// A member read until an error: its bytes, then the error.
struct Replay<'b> {
    bytes: &'b [u8],
    error: Option<io::Error>,
}

impl Read for Replay<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return match self.error.take() {
                Some(error) => Err(error),
                None => Ok(0),
            };
        }
        self.bytes.read(out)
    }
}

/// A member's bytes as they are scanned, kept when they may be image metadata.
struct Kept<'r> {
    inner: &'r mut dyn Read,
    bytes: Option<Vec<u8>>,
}

impl Read for Kept<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if let Some(bytes) = &mut self.bytes {
            if (bytes.len() + n) as u64 <= image::MAX_METADATA {
                bytes.extend_from_slice(&out[..n]);
            } else {
                self.bytes = None;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_name_header(size: u64) -> [u8; BLOCK] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(EntryType::GNULongName);
        header.set_size(size);
        header.set_cksum();
        let mut block = [0u8; BLOCK];
        block.copy_from_slice(header.as_bytes());
        block
    }

    #[test]
    fn names_of_a_few_mebibytes_are_read_and_absurd_ones_are_a_limit() {
        // 1 MiB and a few bytes, as `d` * 2^20 + `/n.env` needs: read.
        assert_eq!(huge_extension(&long_name_header((1 << 20) + 7)), None);
        assert_eq!(huge_extension(&long_name_header(MAX_EXTENSION)), None);
        let refused = huge_extension(&long_name_header(MAX_EXTENSION + 1)).expect("refused");
        assert!(refused.contains("not scanned"), "{refused}");
    }
}
