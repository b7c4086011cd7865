//! Git repositories inside archives: a backed-up `.git` directory or bare repository.
//!
//! Git stores every object zlib-compressed, so a byte scan of a tarred repository sees
//! nothing of its history. Loose objects are inflated; packs are decoded object by object,
//! deltas included (a delta's base is found by offset or by id, and rebuilt), and every
//! object's content — blobs, commit messages, trees, tags — is scanned, as a member named
//! `<type> <id>` under the pack. Objects that cannot be decoded, and deltas whose base is
//! not in the pack, are gaps; nothing is skipped quietly.
//!
//! On a filesystem, repositories belong to the git source (which also knows commits, paths
//! and refs), so these formats are only recognised inside archives.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::rc::Rc;

use flate2::{Decompress, FlushDecompress, Status};
use sha1::{Digest, Sha1};

use super::limits::Decoded;
use super::{buffer_whole, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Longest object header (`commit 18446744073709551615\0`).
const MAX_HEADER: usize = 32;
/// Decoded objects kept to rebuild deltas against; the cache is emptied when it is full.
const CACHE_BYTES: usize = 64 << 20;
/// Longest delta chain followed (git's own default is 50).
const MAX_DELTA_CHAIN: usize = 10_000;

const TYPES: [&str; 5] = ["", "commit", "tree", "blob", "tag"];

/// Whether `head` is the start of a zlib stream that inflates to a git object header.
pub(super) fn is_loose_object(head: &[u8]) -> bool {
    if head.len() < 2 || head[0] & 0x0F != 8 || head[0] >> 4 > 7 || head[1] & 0x20 != 0 {
        return false;
    }
    if (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 != 0 {
        return false;
    }
    let mut out = [0u8; MAX_HEADER];
    let mut inflater = Decompress::new(true);
    if inflater
        .decompress(head, &mut out, FlushDecompress::None)
        .is_err()
    {
        return false;
    }
    let produced = &out[..inflater.total_out() as usize];
    parse_header(produced).is_some()
}

/// `(type, size, header length)` of `blob 12\0...`.
fn parse_header(bytes: &[u8]) -> Option<(&'static str, u64, usize)> {
    let end = bytes.iter().position(|&b| b == 0)?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    let (kind, size) = text.split_once(' ')?;
    let kind = TYPES[1..].iter().find(|&&t| t == kind)?;
    Some((kind, size.parse().ok()?, end + 1))
}

/// A loose object: the object's content (after its header) is scanned under the member's
/// own name, which is the object id.
pub(super) fn scan_loose(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut inflated = Decoded::new(walk, chain, "zlib", flate2::read::ZlibDecoder::new(input));
    let mut header = Vec::with_capacity(MAX_HEADER);
    let mut byte = [0u8; 1];
    while header.len() < MAX_HEADER && header.last() != Some(&0) {
        match inflated.read(&mut byte) {
            Ok(1) => header.push(byte[0]),
            Ok(_) => break,
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::UnreadableObject,
                    chain,
                    "could not inflate the git object",
                    &error,
                );
                return;
            }
        }
    }
    if parse_header(&header).is_none() {
        walk.fail(
            GapKind::UnreadableObject,
            chain,
            "the git object has no valid header".to_string(),
        );
        return;
    }
    scan_member(walk, chain, &mut inflated, depth + 1, buffer);
}

/// Longest bundle header read (ref lines, prerequisites, capabilities) before its pack.
const MAX_BUNDLE_HEADER: u64 = 64 << 20;

/// A `git bundle`: its header (ref names and prerequisites, scanned as text under the
/// member name `bundle header`), then the pack, read like any pack in an archive.
pub(super) fn scan_bundle(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut reader = std::io::BufReader::new(input);
    let mut header = Vec::new();
    loop {
        let mut line = Vec::new();
        let read = std::io::BufRead::read_until(
            &mut (&mut reader).take(MAX_BUNDLE_HEADER),
            b'\n',
            &mut line,
        );
        match read {
            Ok(0) => break,
            Ok(_) if line == b"\n" => break,
            Ok(_) if header.len() as u64 + line.len() as u64 > MAX_BUNDLE_HEADER => {
                walk.fail(
                    GapKind::LimitExceeded,
                    chain,
                    format!("the git bundle's header is longer than {MAX_BUNDLE_HEADER} bytes; its pack was not scanned"),
                );
                return;
            }
            Ok(_) => header.extend_from_slice(&line),
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    "could not read the git bundle's header",
                    &error,
                );
                return;
            }
        }
    }
    let mut member = chain.to_vec();
    member.push("bundle header".to_string());
    scan_member(walk, &member, &mut &header[..], depth + 1, buffer);
    walk.entering(chain);
    scan_pack(walk, chain, &mut reader, depth, buffer);
}

/// What pass one learnt about a packed object.
struct Entry {
    offset: usize,
    kind: u8,
    base: Base,
    /// Where its zlib data starts, and the size its header declares.
    data: usize,
    size: u64,
}

enum Base {
    None,
    Offset(usize),
    Id([u8; 20]),
}

type Object = Rc<(u8, Vec<u8>)>;

/// A pack: held in memory (deltas refer back anywhere in it), objects listed in one pass,
/// then each rebuilt and scanned.
pub(super) fn scan_pack(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let Some(pack) = buffer_whole(walk, chain, input, "git pack") else {
        return;
    };
    let held = pack.len() as u64;
    if pack.len() < 12 || !pack.starts_with(b"PACK") {
        walk.release(held);
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the git pack has no valid header; it was not scanned".to_string(),
        );
        return;
    }
    let mut reader = PackReader {
        walk,
        chain,
        pack: &pack,
        by_offset: HashMap::new(),
        by_id: HashMap::new(),
        cache: HashMap::new(),
        cached: 0,
    };
    reader.run(depth, buffer);
    walk.release(held);
}

struct PackReader<'p, 'w, 'a, 'm> {
    walk: &'w Walk<'a, 'm>,
    chain: &'p [String],
    pack: &'p [u8],
    by_offset: HashMap<usize, usize>,
    by_id: HashMap<[u8; 20], usize>,
    cache: HashMap<usize, Object>,
    cached: usize,
}

impl PackReader<'_, '_, '_, '_> {
    fn run(&mut self, depth: u32, buffer: &mut ScanBuffer) {
        let count = u32::from_be_bytes([self.pack[8], self.pack[9], self.pack[10], self.pack[11]]);
        let mut entries = Vec::new();
        let mut at = 12usize;
        for index in 0..count {
            match self.list(at) {
                Some((entry, next)) => {
                    self.by_offset.insert(entry.offset, entries.len());
                    entries.push(entry);
                    at = next;
                }
                None => {
                    self.gap(
                        GapKind::UnreadableObject,
                        format!(
                            "object {index} of {count} (at byte {at}) cannot be decoded; it and the \
                             objects after it were not scanned"
                        ),
                    );
                    break;
                }
            }
            if self.walk.check_running().is_err() {
                return;
            }
        }
        // One pass in pack order. A delta whose base (by id) has not been seen yet waits
        // under that id, and is rebuilt as soon as an object with that id is scanned (thin
        // pack fix-ups put bases after their deltas): every entry is resolved once, so the
        // work is linear whatever the order.
        let mut waiting: HashMap<[u8; 20], Vec<usize>> = HashMap::new();
        for index in 0..entries.len() {
            let mut ready = vec![index];
            while let Some(next) = ready.pop() {
                let scanned = match self.object(&entries, next) {
                    Ok(object) => self.scan_object(&entries[next], &object, depth, buffer),
                    Err(Unresolved::MissingBase(id)) => {
                        waiting.entry(id).or_default().push(next);
                        continue;
                    }
                    Err(Unresolved::Broken(why)) => {
                        self.gap(
                            GapKind::UnreadableObject,
                            format!(
                                "the object at byte {} cannot be decoded: {why}",
                                entries[next].offset
                            ),
                        );
                        continue;
                    }
                    Err(Unresolved::Stopped) => return,
                };
                if let Some(deltas) = waiting.remove(&scanned) {
                    ready.extend(deltas);
                }
            }
        }
        let mut unresolved: Vec<usize> = waiting.into_values().flatten().collect();
        unresolved.sort_unstable();
        for index in unresolved {
            self.gap(
                GapKind::MissingObjects,
                format!(
                    "the delta at byte {} refers to a base object that is not in this pack \
                     (a thin pack); its content was not scanned",
                    entries[index].offset
                ),
            );
        }
    }

    fn gap(&self, kind: GapKind, why: String) {
        self.walk.fail(kind, self.chain, why);
    }

    /// Parses the entry at `at` and inflates it once to find where the next one starts.
    fn list(&self, at: usize) -> Option<(Entry, usize)> {
        let pack = self.pack;
        let mut pos = at;
        let mut byte = *pack.get(pos)?;
        pos += 1;
        let kind = (byte >> 4) & 7;
        let mut size = u64::from(byte & 0x0F);
        let mut shift = 4;
        while byte & 0x80 != 0 {
            byte = *pack.get(pos)?;
            pos += 1;
            if shift > 63 {
                return None;
            }
            size |= u64::from(byte & 0x7F) << shift;
            shift += 7;
        }
        let base = match kind {
            1..=4 => Base::None,
            6 => {
                byte = *pack.get(pos)?;
                pos += 1;
                let mut distance = usize::from(byte & 0x7F);
                while byte & 0x80 != 0 {
                    byte = *pack.get(pos)?;
                    pos += 1;
                    distance =
                        distance.checked_add(1)?.checked_mul(128)? | usize::from(byte & 0x7F);
                }
                Base::Offset(at.checked_sub(distance).filter(|_| distance > 0)?)
            }
            7 => {
                let id: [u8; 20] = pack.get(pos..pos + 20)?.try_into().ok()?;
                pos += 20;
                Base::Id(id)
            }
            _ => return None,
        };
        let (_, consumed) = inflate(&pack[pos..], size, false, u64::MAX)?;
        Some((
            Entry {
                offset: at,
                kind,
                base,
                data: pos,
                size,
            },
            pos + consumed,
        ))
    }

    /// The full content of entry `index`, rebuilding deltas. Iterative: the chain down to a
    /// whole (or cached) object is collected first, then the deltas are applied upwards, so
    /// a chain thousands of deltas long cannot overflow the stack.
    fn object(&mut self, entries: &[Entry], index: usize) -> Result<Object, Unresolved> {
        let mut chain = vec![index];
        let mut object = loop {
            let entry = &entries[*chain.last().unwrap_or(&index)];
            if let Some(object) = self.cache.get(&entry.offset) {
                break object.clone();
            }
            let base = match entry.base {
                Base::None => {
                    let data = self.inflate_entry(entry)?;
                    break Rc::new((entry.kind, data));
                }
                Base::Offset(offset) => *self
                    .by_offset
                    .get(&offset)
                    .ok_or_else(|| Unresolved::Broken("its base offset is not an object".into()))?,
                Base::Id(id) => *self.by_id.get(&id).ok_or(Unresolved::MissingBase(id))?,
            };
            // Offsets point strictly backwards and ids only name objects already scanned, so
            // a chain cannot loop; it can still be absurdly long.
            if chain.len() > MAX_DELTA_CHAIN {
                return Err(Unresolved::Broken(
                    "the delta chain is too long or loops".into(),
                ));
            }
            chain.push(base);
        };
        // The last element is the base just found (or cached); apply the deltas above it.
        if let Some(base) = chain.pop() {
            self.remember(entries[base].offset, &object);
        }
        for &delta_index in chain.iter().rev() {
            let entry = &entries[delta_index];
            let delta = self.inflate_entry(entry)?;
            let content = apply_delta(&object.1, &delta, self.max_object())
                .ok_or_else(|| Unresolved::Broken("its delta instructions are damaged".into()))?;
            self.walk
                .expanded(content.len() as u64, self.chain)
                .map_err(|_| Unresolved::Stopped)?;
            object = Rc::new((object.0, content));
            self.remember(entry.offset, &object);
        }
        Ok(object)
    }

    /// The largest object rebuilt in memory: what the archive buffer limit still allows.
    fn max_object(&self) -> u64 {
        self.walk.limits().max_buffer
    }

    fn inflate_entry(&self, entry: &Entry) -> Result<Vec<u8>, Unresolved> {
        if entry.size > self.max_object() {
            return Err(Unresolved::Broken(format!(
                "it declares {} bytes, more than the {} an object may take in memory \
                 (--archive-max-buffer)",
                entry.size,
                self.max_object()
            )));
        }
        let (data, _) = inflate(
            &self.pack[entry.data..],
            entry.size,
            true,
            self.max_object(),
        )
        .ok_or_else(|| Unresolved::Broken("its zlib data is damaged".into()))?;
        self.walk
            .expanded(data.len() as u64, self.chain)
            .map_err(|_| Unresolved::Stopped)?;
        Ok(data)
    }

    fn remember(&mut self, offset: usize, object: &Object) {
        if self.cache.contains_key(&offset) {
            return;
        }
        if self.cached + object.1.len() > CACHE_BYTES {
            self.cache.clear();
            self.cached = 0;
        }
        self.cached += object.1.len();
        self.cache.insert(offset, object.clone());
    }

    /// Scans one rebuilt object as a member `<type> <id>`; returns its id.
    fn scan_object(
        &mut self,
        entry: &Entry,
        object: &Object,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) -> [u8; 20] {
        let (kind, content) = (&object.0, &object.1);
        let name = TYPES.get(usize::from(*kind)).copied().unwrap_or("object");
        let id = object_id(name, content);
        if let Some(&index) = self.by_offset.get(&entry.offset) {
            self.by_id.insert(id, index);
        }
        let mut member = self.chain.to_vec();
        member.push(format!("{name} {}", hex::encode(id)));
        self.walk.entering(&member);
        scan_member(
            self.walk,
            &member,
            &mut Cursor::new(&content[..]),
            depth + 1,
            buffer,
        );
        id
    }
}

enum Unresolved {
    /// The base, named by this id, has not been seen (yet).
    MissingBase([u8; 20]),
    Broken(String),
    Stopped,
}

fn object_id(kind: &str, content: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(format!("{kind} {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.finalize().into()
}

/// Inflates one zlib stream from the start of `input`; returns the output (if `keep`) and
/// how many input bytes it used. `None` if damaged, or larger than `size` declares or than
/// `cap` allows.
fn inflate(input: &[u8], size: u64, keep: bool, cap: u64) -> Option<(Vec<u8>, usize)> {
    if keep && size > cap {
        return None;
    }
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(if keep { size.min(64 << 20) as usize } else { 0 });
    let mut scratch = vec![0u8; 64 << 10];
    loop {
        let before_in = inflater.total_in() as usize;
        let before_out = inflater.total_out();
        let status = inflater
            .decompress(&input[before_in..], &mut scratch, FlushDecompress::None)
            .ok()?;
        let produced = (inflater.total_out() - before_out) as usize;
        if inflater.total_out() > size {
            return None;
        }
        if keep {
            out.extend_from_slice(&scratch[..produced]);
        }
        match status {
            Status::StreamEnd => break,
            _ if produced == 0 && inflater.total_in() as usize == before_in => return None,
            _ => {}
        }
    }
    (inflater.total_out() == size).then_some((out, inflater.total_in() as usize))
}

/// Applies a git delta to `base`; `None` if damaged or if the result would be larger than
/// `cap` (a few delta bytes can ask for gigabytes).
fn apply_delta(base: &[u8], delta: &[u8], cap: u64) -> Option<Vec<u8>> {
    let mut pos = 0;
    let base_size = varint(delta, &mut pos)?;
    let result_size = varint(delta, &mut pos)?;
    if base_size != base.len() as u64 || result_size > cap {
        return None;
    }
    let mut out = Vec::with_capacity(result_size.min(64 << 20) as usize);
    while pos < delta.len() {
        let op = delta[pos];
        pos += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for i in 0..4 {
                if op & (1 << i) != 0 {
                    offset |= usize::from(*delta.get(pos)?) << (8 * i);
                    pos += 1;
                }
            }
            for i in 0..3 {
                if op & (0x10 << i) != 0 {
                    len |= usize::from(*delta.get(pos)?) << (8 * i);
                    pos += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(len)?)?);
        } else if op != 0 {
            let len = usize::from(op);
            out.extend_from_slice(delta.get(pos..pos + len)?);
            pos += len;
        } else {
            return None;
        }
        if out.len() as u64 > result_size {
            return None;
        }
    }
    (out.len() as u64 == result_size).then_some(out)
}

fn varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        if shift > 63 {
            return None;
        }
        value |= u64::from(byte & 0x7F) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_copy_and_insert_instructions() {
        let base = b"hello, world";
        // base size 12, result size 12: copy 7 bytes from 0, insert "there".
        let delta = [
            12,
            12,
            0x80 | 0x01 | 0x10,
            0,
            7,
            5,
            b't',
            b'h',
            b'e',
            b'r',
            b'e',
        ];
        assert_eq!(apply_delta(base, &delta, 1 << 20).unwrap(), b"hello, there");
    }

    #[test]
    fn recognises_loose_object_headers() {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"blob 5\0hello").unwrap();
        let object = encoder.finish().unwrap();
        assert!(is_loose_object(&object));
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"just zlib data").unwrap();
        assert!(!is_loose_object(&encoder.finish().unwrap()));
    }
}
