//! Git objects and packs built byte by byte, for the shapes the real `git` never writes
//! (corrupt or self-referencing deltas, damaged indexes, deltas whose bases come later).

use std::io::Write;
use std::path::Path;

use sha1::{Digest, Sha1};

pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The SHA-1 object id of `content` stored as an object of `kind` (`blob`, `tree`, ...).
pub fn object_id(kind: &str, content: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(format!("{kind} {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.finalize().into()
}

/// Writes a loose object into `git_dir` and returns its id.
pub fn write_loose(git_dir: &Path, kind: &str, content: &[u8]) -> [u8; 20] {
    let id = object_id(kind, content);
    let hex = hex::encode(id);
    let dir = git_dir.join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    let mut raw = format!("{kind} {}\0", content.len()).into_bytes();
    raw.extend_from_slice(content);
    std::fs::write(dir.join(&hex[2..]), zlib(&raw)).unwrap();
    id
}

/// A pack entry header: type and size.
pub fn entry_header(kind: u8, mut size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = (kind << 4) | (size & 0x0F) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7F) as u8;
        size >>= 7;
    }
    out.push(byte);
    out
}

/// A size in a delta's header (little-endian base-128).
pub fn delta_size(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A version 2 pack of `entries` (raw entry bytes: header and zlib data), with its trailing
/// checksum.
pub fn pack(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut pack = b"PACK".to_vec();
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for entry in entries {
        pack.extend_from_slice(entry);
    }
    let checksum: [u8; 20] = Sha1::digest(&pack).into();
    pack.extend_from_slice(&checksum);
    pack
}

/// Writes a pack of `entries` (raw entry bytes, with the id the index gives each) and its
/// version 2 index into a bare repository's `objects/pack`.
pub fn write_pack(git_dir: &Path, entries: &[([u8; 20], Vec<u8>)]) {
    let bytes: Vec<Vec<u8>> = entries.iter().map(|(_, bytes)| bytes.clone()).collect();
    let pack = pack(&bytes);
    let checksum: [u8; 20] = pack[pack.len() - 20..].try_into().unwrap();
    let mut listed: Vec<([u8; 20], u32, u32)> = Vec::new();
    let mut offset = 12u32;
    for (id, bytes) in entries {
        listed.push((*id, crc32(bytes), offset));
        offset += bytes.len() as u32;
    }
    listed.sort();
    let mut index = b"\xfftOc".to_vec();
    index.extend_from_slice(&2u32.to_be_bytes());
    for first in 0..256usize {
        let count = listed
            .iter()
            .filter(|(id, _, _)| usize::from(id[0]) <= first)
            .count();
        index.extend_from_slice(&(count as u32).to_be_bytes());
    }
    for (id, _, _) in &listed {
        index.extend_from_slice(id);
    }
    for (_, crc, _) in &listed {
        index.extend_from_slice(&crc.to_be_bytes());
    }
    for (_, _, offset) in &listed {
        index.extend_from_slice(&offset.to_be_bytes());
    }
    index.extend_from_slice(&checksum);
    let own: [u8; 20] = Sha1::digest(&index).into();
    index.extend_from_slice(&own);
    let name = hex::encode(checksum);
    let dir = git_dir.join("objects/pack");
    std::fs::write(dir.join(format!("pack-{name}.pack")), pack).unwrap();
    std::fs::write(dir.join(format!("pack-{name}.idx")), index).unwrap();
}

/// The CRC-32 a pack index records per entry.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
