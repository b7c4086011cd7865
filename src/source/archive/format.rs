//! The registry of layers: every format the content pipeline recognises, in one table.
//!
//! A format is one type implementing [`Format`]: how to recognise it from the bytes where it
//! starts, and how to open it (decode a compressed stream, list an archive's members, or
//! record why it cannot be read). The driver ([`super::scan_member`]) owns everything else
//! — nesting depth, budgets, counting, gaps — so a new format cannot forget any of it.
//! Adding one (say lz4) is one file with its `Format` impl and its test, plus one line in
//! [`FORMATS`]; it then works everywhere bytes are inspected: files, archive members, git
//! objects, decoded runs, streams carved out of other files ([`super::carve`]).
//!
//! Formats are recognised by their bytes, never by their names alone: a format with no magic
//! number at all (brotli) is recognised by a name that says so and a trial decode that
//! agrees ([`Format::recognise_named`]). Order matters only where two formats could claim
//! the same bytes; the more specific one comes first.

use std::fs::File;
use std::io::{Read, Seek};

use super::Walk;
use crate::matcher::ScanBuffer;

/// What kind of layer a format is; decides what the pipeline does when it is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Decoded or listed by scour: its content goes through the pipeline again.
    Readable,
    /// Recognised, but scour cannot decode it: a gap (`unsupported`); raw bytes still scanned.
    Unsupported,
    /// Recognised as ciphertext: a gap (`encrypted`); raw bytes still scanned.
    Encrypted,
    /// Media whose bytes are compressed pixels or samples (JPEG, PNG, MP4, fonts): read raw
    /// like any file, and never counted as opaque content, since no text hides in them.
    Inert,
}

/// Where a stream is being recognised, for formats that only make sense in some places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A file on a filesystem (the git source owns repositories there).
    Filesystem,
    /// Inside an archive, a git object, a decoded run or a carved stream.
    Inside,
}

/// One format of the registry.
pub(crate) trait Format: Sync {
    /// Stable name used in gaps, coverage and locations (`gzip`, `tar`, `7z`).
    fn name(&self) -> &'static str;

    fn class(&self) -> Class {
        Class::Readable
    }

    /// The name to show for this format met at `head` (a table of magic numbers names the
    /// entry that matched).
    fn name_at(&self, head: &[u8]) -> &'static str {
        let _ = head;
        self.name()
    }

    /// Whether a stream whose first bytes are `head` (up to [`super::sniff::SNIFF_LEN`],
    /// fewer at the end of a stream) is in this format. Must be cheap and must not claim
    /// ordinary text.
    fn recognise(&self, head: &[u8], place: Place) -> bool;

    /// For a format with no magic number at all (brotli): whether a stream named `name`
    /// (a file's path or a member's name) whose first bytes are `head` is in this format.
    /// Asked only when no format recognised the bytes; the name alone must never be enough.
    fn recognise_named(&self, head: &[u8], name: &str) -> bool {
        let _ = (head, name);
        false
    }

    /// Reads the stream: decodes it or lists its members, each scanned with
    /// [`super::scan_member`] at `depth + 1`. Records its own failures as gaps on `walk`.
    /// Unused for classes other than [`Class::Readable`].
    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let _ = (walk, chain, reader, depth, buffer);
    }

    /// For a compressed stream: its decoder, so a stream carved out of other bytes can be
    /// tried and read leniently ([`super::carve`]).
    fn stream_decoder(&self) -> Option<&super::compressed::Codec> {
        None
    }

    /// Reads a stream found inside other bytes that can be read again with random access
    /// (from its start at offset 0), if the format does better that way than as a stream
    /// held in memory. `false` if it does not.
    fn open_seekable(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Seekable,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) -> bool {
        let _ = (walk, chain, reader, depth, buffer);
        false
    }

    /// Reads a whole file on disk (from its start, whatever its position) with random
    /// access or on a helper thread, if the format does better that way than as a stream.
    /// `false` if it does not, and the file is then read as a stream.
    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        let _ = (walk, chain, file, buffer);
        false
    }
}

/// Reads and seeks: what a format read in place with random access needs.
pub(crate) trait Seekable: Read + Seek + Send {}
impl<T: Read + Seek + Send> Seekable for T {}

/// How a format that needs random access (7z, squashfs) reads itself from any seekable
/// source; [`open_held`] and [`open_file_in_place`] turn it into the driver's ways in.
pub(crate) type ScanSeekable = fn(&Walk, &[String], &mut dyn Seekable, u32, &mut ScanBuffer);

/// [`Format::open`] for a random-access format met inside a stream: held in memory within
/// `--archive-max-buffer` (a gap beyond it), then read.
pub(crate) fn open_held(
    walk: &Walk,
    chain: &[String],
    reader: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
    what: &str,
    scan: ScanSeekable,
) {
    let Some(bytes) = super::buffer_whole(walk, chain, reader, what) else {
        return;
    };
    let held = bytes.len() as u64;
    scan(walk, chain, &mut std::io::Cursor::new(bytes), depth, buffer);
    walk.release(held);
}

/// [`Format::open_file`] for a random-access format: the file read in place from its start.
pub(crate) fn open_file_in_place(
    walk: &Walk,
    chain: &[String],
    file: &File,
    buffer: &mut ScanBuffer,
    scan: ScanSeekable,
) -> bool {
    if let Ok(metadata) = file.metadata() {
        walk.input_size_known(metadata.len());
    }
    let mut file = file;
    if file.rewind().is_err() {
        return false;
    }
    scan(walk, chain, &mut file, 0, buffer);
    true
}

/// Every format scour knows, most specific first.
pub(crate) static FORMATS: &[&dyn Format] = &[
    &super::compressed::GZIP,
    &super::compressed::BZIP2,
    &super::compressed::XZ,
    &super::compressed::ZSTD,
    &super::compressed::LZIP,
    &super::compressed::LZMA_ALONE,
    &super::compressed::LZ4,
    &super::compressed::SNAPPY,
    &super::compressed::UNIX_COMPRESS,
    &super::compressed::LZOP,
    &super::mozlz4::MOZLZ4,
    &super::brotli::BROTLI,
    &super::zip::ZIP,
    &super::sevenz::SEVEN_ZIP,
    &super::tar::TAR,
    &super::ar::AR,
    &super::squashfs::SQUASHFS,
    &super::zisofs::ZISOFS,
    &super::rpm::RPM,
    &super::git_formats::GIT_BUNDLE,
    &super::cpio::CPIO,
    &super::sqlite::SQLITE,
    &super::pg_dump::PG_DUMP,
    &super::avro::AVRO,
    &super::orc::ORC,
    &super::parquet::PARQUET,
    &super::pdf::PDF,
    &super::leveldb::LEVELDB_TABLE,
    &super::leveldb_log::LEVELDB_LOG,
    &super::hdf5::HDF5,
    &super::rdb::RDB,
    &super::qcow2::QCOW2,
    &super::journal::JOURNAL,
    &super::pg_heap::PG_HEAP,
    // Before `ENCRYPTED`: an armored message is de-armored here, and only then known to be
    // encrypted or not.
    &super::openpgp::OPENPGP,
    // Before `ENCRYPTED`: only its key entries are ciphertext.
    &super::java_keystore::JAVA_KEYSTORE,
    &super::svndiff::SVNDIFF,
    &super::git_formats::GIT_PACK,
    &super::git_formats::GIT_LOOSE_OBJECT,
    &super::encrypted::ENCRYPTED,
    &super::unsupported::UNSUPPORTED,
    &super::inert::INERT,
];

/// The format of a stream starting with `head`, if any.
pub(crate) fn recognise(head: &[u8], place: Place) -> Option<&'static dyn Format> {
    FORMATS
        .iter()
        .copied()
        .find(|format| format.recognise(head, place))
}

/// The format of a stream named `name` starting with `head`, for the formats without a
/// magic number, which only a name and a trial decode together can tell.
pub(crate) fn recognise_named(head: &[u8], name: &str) -> Option<&'static dyn Format> {
    FORMATS
        .iter()
        .copied()
        .find(|format| format.recognise_named(head, name))
}

/// A format known only by a magic number at a fixed offset, for the tables of formats that
/// are recognised but not decoded (unsupported, encrypted, inert media).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Magic {
    pub name: &'static str,
    pub offset: usize,
    pub bytes: &'static [u8],
    /// A check of the header's other fields, for a magic number too short to be enough
    /// alone (ARJ's two bytes, LHA's method at byte 2): the bytes from the stream's start.
    pub check: Option<fn(&[u8]) -> bool>,
}

impl Magic {
    pub(crate) const fn at(offset: usize, bytes: &'static [u8], name: &'static str) -> Magic {
        Magic {
            name,
            offset,
            bytes,
            check: None,
        }
    }

    /// A magic number whose header must also pass `check` (given the bytes from the start).
    pub(crate) const fn checked(
        offset: usize,
        bytes: &'static [u8],
        name: &'static str,
        check: fn(&[u8]) -> bool,
    ) -> Magic {
        Magic {
            name,
            offset,
            bytes,
            check: Some(check),
        }
    }

    pub(crate) const fn start(bytes: &'static [u8], name: &'static str) -> Magic {
        Magic::at(0, bytes, name)
    }

    pub(crate) fn matches(&self, head: &[u8]) -> bool {
        // The first byte alone first: every stream is sniffed against every table, and
        // nearly every entry differs there (a call to compare whole slices cost more than
        // the rest of sniffing a small file).
        head.get(self.offset) == self.bytes.first()
            && head.get(self.offset..self.offset + self.bytes.len()) == Some(self.bytes)
            && self.check.is_none_or(|check| check(head))
    }
}

/// A table of magic numbers of one class, as one registry entry; at a stream it is named
/// by the entry that matched.
pub(crate) struct MagicTable {
    pub class: Class,
    pub entries: &'static [Magic],
}

impl MagicTable {
    pub(crate) fn find(&self, head: &[u8]) -> Option<&'static Magic> {
        self.entries.iter().find(|magic| magic.matches(head))
    }
}

impl Format for MagicTable {
    fn name(&self) -> &'static str {
        match self.class {
            Class::Encrypted => "encrypted",
            Class::Unsupported => "unsupported",
            Class::Inert => "media",
            Class::Readable => "readable",
        }
    }

    fn class(&self) -> Class {
        self.class
    }

    fn name_at(&self, head: &[u8]) -> &'static str {
        self.find(head).map_or(self.name(), |magic| magic.name)
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        self.find(head).is_some()
    }
}
