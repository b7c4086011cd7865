//! Recognising containers by their first bytes, never by their names.
//!
//! A `.log` can be gzipped, a `.bin` can be a tarball, and a renamed `.zip` is still a zip,
//! so only magic numbers decide. [`Peeked`] reads the first bytes of a stream and then
//! replays them, so sniffing consumes nothing and the stream is still read exactly once.
//! Which formats exist is the registry's business ([`super::format::FORMATS`]).

use std::io::{self, Read};

use super::format::{Format, Place};

/// Bytes read before deciding; enough for the tar magic at offset 257.
pub(crate) const SNIFF_LEN: usize = 1024;

/// The registered format a stream starting with `head` is in, if any.
pub(crate) fn sniff(head: &[u8], place: Place) -> Option<&'static dyn Format> {
    super::format::recognise(head, place)
}

/// As [`sniff`], for a stream whose name is known (the last element of its chain): formats
/// without a magic number are then tried too.
pub(crate) fn sniff_named(
    head: &[u8],
    place: Place,
    name: Option<&String>,
) -> Option<&'static dyn Format> {
    sniff(head, place).or_else(|| super::format::recognise_named(head, name?))
}

/// A ustar/GNU/PAX header (the magic at 257) or a v7 header (`tar --format=v7`: no magic,
/// so the fields must look like a v7 header's), with a header checksum that adds up.
pub(super) fn is_tar_header(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let magic = &head[257..265];
    if !(magic.starts_with(b"ustar\0") || magic == b"ustar  \0" || is_v7_header(head)) {
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

/// The fields of a v7 tar header: a printable, NUL-terminated name, octal mode, ids, size
/// and time fields, a v7 type flag, and after the link name nothing but the device numbers
/// (where ustar has its magic and names). Only the checksum, checked by the caller, then
/// remains to agree.
fn is_v7_header(head: &[u8]) -> bool {
    let name = &head[..100];
    let name_len = name.iter().position(|&b| b == 0).unwrap_or(100);
    let printable = |field: &[u8]| {
        field
            .iter()
            .all(|&b| (0x20..0x7F).contains(&b) || b >= 0x80)
    };
    let octal = |field: &[u8]| {
        let digits = field.iter().filter(|b| b.is_ascii_digit()).count();
        digits > 0 && field.iter().all(|&b| matches!(b, b'0'..=b'7' | b' ' | 0))
    };
    name_len > 0
        && printable(&name[..name_len])
        && [&head[100..108], &head[108..116], &head[116..124], &head[124..136], &head[136..148]]
            .iter()
            .all(|field| octal(field))
        && matches!(head[156], 0 | b'0'..=b'7')
        // No magic, user or group names; GNU tar still fills in the device numbers.
        && head[257..329].iter().all(|&b| b == 0)
        && [&head[329..337], &head[337..345]]
            .iter()
            .all(|field| field.iter().all(|&b| b == 0) || octal(field))
        && head[345..512].iter().all(|&b| b == 0)
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

    fn name(head: &[u8], place: Place) -> Option<&'static str> {
        sniff(head, place).map(|format| format.name_at(head))
    }

    #[test]
    fn recognises_by_magic_not_name() {
        let fs = Place::Filesystem;
        assert_eq!(name(b"\x1F\x8B\x08\x00rest", fs), Some("gzip"));
        assert_eq!(name(b"BZh91AY&SYxxxx", fs), Some("bzip2"));
        assert_eq!(name(b"\xFD7zXZ\x00\x00", fs), Some("xz"));
        assert_eq!(name(b"\x28\xB5\x2F\xFD\x00", fs), Some("zstd"));
        assert_eq!(name(b"\x50\x2A\x4D\x18\x04\0\0\0abcd", fs), Some("zstd"));
        assert_eq!(name(b"PK\x03\x04....", fs), Some("zip"));
        assert_eq!(name(b"PK\x05\x06....", fs), Some("zip"));
        assert_eq!(name(&tar_bytes(), fs), Some("tar"));
        assert_eq!(name(b"7z\xBC\xAF\x27\x1C\x00\x04", fs), Some("7z"));
        assert_eq!(name(b"Rar!\x1A\x07\x01\x00", fs), Some("rar"));
        assert_eq!(name(b"plain text, BZh and PK in the middle", fs), None);
        assert_eq!(name(b"", fs), None);
    }

    #[test]
    fn a_broken_tar_checksum_is_not_a_tar() {
        let mut bytes = tar_bytes();
        bytes[0] ^= 1;
        assert_eq!(name(&bytes, Place::Filesystem), None);
    }

    #[test]
    fn git_packs_only_inside_archives() {
        let pack = b"PACK\0\0\0\x02\0\0\0\x01rest";
        assert_eq!(name(pack, Place::Inside), Some("git pack"));
        assert_eq!(name(pack, Place::Filesystem), None);
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
