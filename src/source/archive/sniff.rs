//! Recognising containers by their first bytes, never by their names.
//!
//! A `.log` can be gzipped, a `.bin` can be a tarball, and a renamed `.zip` is still a zip,
//! so only magic numbers decide. [`Peeked`] reads the first bytes of a stream and then
//! replays them, so sniffing consumes nothing and the stream is still read exactly once.

use std::io::{self, Read};

/// Bytes read before deciding; enough for the tar magic at offset 257.
pub(crate) const SNIFF_LEN: usize = 1024;

/// What a stream turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Not a container: scanned as bytes.
    Plain,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Zip,
    Tar,
    /// Unix `ar` (`.deb`, `.a`, `.rlib`).
    Ar,
    /// A zlib-compressed git object (`blob 12\0...`); only recognised inside archives.
    GitLooseObject,
    /// A git packfile; only recognised inside archives.
    GitPack,
    /// A `git bundle` file (`# v2 git bundle` or `# v3 git bundle`, ref lines, a blank
    /// line, then a pack); recognised anywhere, as bundles are standalone backups.
    GitBundle,
    /// A format scour recognises but cannot read; the name is for the gap.
    Unsupported(&'static str),
}

impl Kind {
    pub(crate) fn is_container(self) -> bool {
        !matches!(self, Kind::Plain)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::Ar => "ar",
            Kind::GitLooseObject => "git loose object",
            Kind::GitPack => "git pack",
            Kind::GitBundle => "git bundle",
            Kind::Unsupported(name) => name,
        }
    }
}

const UNSUPPORTED: &[(&[u8], &str)] = &[
    (b"7z\xBC\xAF\x27\x1C", "7z"),
    (b"Rar!\x1A\x07", "rar"),
    (b"\x04\x22\x4D\x18", "lz4"),
    (b"LZIP", "lzip"),
    (b"\x89LZO\x00\r\n\x1A\n", "lzop"),
    (b"\x1F\x9D", "unix compress (.Z)"),
    (b"\x1F\xA0", "lzh compress"),
    (b"MSCF\0\0\0\0", "cab"),
    (b"\xED\xAB\xEE\xDB", "rpm"),
    (b"070701", "cpio"),
    (b"070702", "cpio"),
    (b"070707", "cpio"),
    (b"xar!", "xar"),
    (b"hsqs", "squashfs"),
];

/// Decides what `head` (the first bytes of a stream) is. Git objects are only recognised
/// when `inside_archive`: on a filesystem, repositories belong to the git source.
pub(crate) fn sniff(head: &[u8], inside_archive: bool) -> Kind {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\x1F\x8B\x08") {
        return Kind::Gzip;
    }
    if head.len() >= 10
        && starts(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == *b"1AY&SY" || head[4..10] == *b"\x17\x72\x45\x38\x50\x90")
    {
        return Kind::Bzip2;
    }
    if starts(b"\xFD7zXZ\x00") {
        return Kind::Xz;
    }
    if starts(b"\x28\xB5\x2F\xFD") {
        return Kind::Zstd;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08PK\x03\x04") {
        return Kind::Zip;
    }
    if is_tar_header(head) {
        return Kind::Tar;
    }
    if starts(b"!<arch>\n") {
        return Kind::Ar;
    }
    if starts(b"# v2 git bundle\n") || starts(b"# v3 git bundle\n") {
        return Kind::GitBundle;
    }
    if inside_archive {
        if head.len() >= 12 && starts(b"PACK") && matches!(head[4..8], [0, 0, 0, 2] | [0, 0, 0, 3])
        {
            return Kind::GitPack;
        }
        if super::git_objects::is_loose_object(head) {
            return Kind::GitLooseObject;
        }
    }
    for (magic, name) in UNSUPPORTED {
        if starts(magic) {
            return Kind::Unsupported(name);
        }
    }
    Kind::Plain
}

/// A ustar/GNU/PAX header: the magic at 257 and a header checksum that adds up.
fn is_tar_header(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let magic = &head[257..265];
    if !(magic.starts_with(b"ustar\0") || magic == b"ustar  \0") {
        return false;
    }
    let field = &head[148..156];
    let digits: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .skip_while(|&&b| b == b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(digits.trim(), 8) else {
        return false;
    };
    let sum: u32 = head[..148]
        .iter()
        .chain(&head[156..512])
        .map(|&b| b as u32)
        .sum::<u32>()
        + 8 * 32;
    sum == stored
}

/// A reader whose first bytes have been read ahead for sniffing and are replayed.
pub(crate) struct Peeked<R> {
    head: Vec<u8>,
    at: usize,
    error: Option<io::Error>,
    inner: R,
}

impl<R: Read> Peeked<R> {
    /// Reads up to `len` bytes ahead. A read error is kept and returned after the head.
    pub(crate) fn new(mut inner: R, len: usize) -> Peeked<R> {
        let mut head = vec![0; len];
        let mut filled = 0;
        let mut error = None;
        while filled < len {
            match inner.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        head.truncate(filled);
        Peeked {
            head,
            at: 0,
            error,
            inner,
        }
    }

    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }
}

impl<R: Read> Read for Peeked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = out.len().min(self.head.len() - self.at);
            out[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.inner.read(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_bytes() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_cksum();
        builder
            .append_data(&mut header, "a.txt", &b"abc"[..])
            .unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn recognises_by_magic_not_name() {
        assert_eq!(sniff(b"\x1F\x8B\x08\x00rest", false), Kind::Gzip);
        assert_eq!(sniff(b"BZh91AY&SYxxxx", false), Kind::Bzip2);
        assert_eq!(sniff(b"\xFD7zXZ\x00\x00", false), Kind::Xz);
        assert_eq!(sniff(b"\x28\xB5\x2F\xFD\x00", false), Kind::Zstd);
        assert_eq!(sniff(b"PK\x03\x04....", false), Kind::Zip);
        assert_eq!(sniff(b"PK\x05\x06....", false), Kind::Zip);
        assert_eq!(sniff(&tar_bytes(), false), Kind::Tar);
        assert_eq!(
            sniff(b"7z\xBC\xAF\x27\x1C\x00\x04", false),
            Kind::Unsupported("7z")
        );
        assert_eq!(
            sniff(b"Rar!\x1A\x07\x01\x00", false),
            Kind::Unsupported("rar")
        );
        assert_eq!(
            sniff(b"plain text, BZh and PK in the middle", false),
            Kind::Plain
        );
        assert_eq!(sniff(b"", false), Kind::Plain);
    }

    #[test]
    fn a_broken_tar_checksum_is_not_a_tar() {
        let mut bytes = tar_bytes();
        bytes[0] ^= 1;
        assert_eq!(sniff(&bytes, false), Kind::Plain);
    }

    #[test]
    fn git_packs_only_inside_archives() {
        let pack = b"PACK\0\0\0\x02\0\0\0\x01rest";
        assert_eq!(sniff(pack, true), Kind::GitPack);
        assert_eq!(sniff(pack, false), Kind::Plain);
    }

    #[test]
    fn peeking_replays_every_byte() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut peeked = Peeked::new(&data[..], SNIFF_LEN);
        assert_eq!(peeked.head(), &data[..SNIFF_LEN]);
        let mut all = Vec::new();
        peeked.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }
}
