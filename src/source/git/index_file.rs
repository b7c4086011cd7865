//! Reading a git index file directly, fast: the paths and blob ids of its entries.
//!
//! libgit2 takes about 250 ms to load the index of a 100k-file repository (it checksums and
//! re-sorts it); a pre-commit hook cannot afford that, and only needs paths, modes and ids.
//! Versions 2, 3 and 4 (path prefix compression) are read, and split indexes (`link`
//! extension: entries in the index plus a shared base index), which libgit2 cannot read.
//! Anything unexpected returns `None`.

use std::collections::HashMap;

use git2::Oid;

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub path: Vec<u8>,
    pub id: Oid,
    pub mode: u32,
    /// 0 for a normal entry; 1–3 for the sides of an unresolved conflict.
    pub stage: u8,
}

const FIXED: usize = 62;

/// An index file's entries, and the shared index it builds on if it is a split index.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    /// `sharedindex.<id>` in the git directory, for a split index.
    pub shared: Option<Oid>,
    /// The cache-tree extension: the tree id of each directory (`""`, `"a/"`, `"a/b/"`)
    /// whose entries have not changed since it was last written as a tree.
    pub trees: HashMap<Vec<u8>, Oid>,
}

/// The entries of an index file, or `None` if it is not one this reader handles.
pub(crate) fn parse(bytes: &[u8]) -> Option<Parsed> {
    if bytes.len() < 12 || &bytes[0..4] != b"DIRC" {
        return None;
    }
    let version = be32(bytes, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(bytes, 8)? as usize;
    let mut entries = Vec::with_capacity(count.min(bytes.len() / FIXED));
    let mut at = 12;
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let mode = be32(bytes, at + 24)?;
        let id = Oid::from_bytes(bytes.get(at + 40..at + 60)?).ok()?;
        let flags = u16::from_be_bytes(bytes.get(at + 60..at + 62)?.try_into().ok()?);
        let extended = version >= 3 && flags & 0x4000 != 0;
        let path_at = at + FIXED + if extended { 2 } else { 0 };
        let path;
        if version == 4 {
            let (strip, used) = varint(bytes.get(path_at..)?)?;
            let suffix_at = path_at + used;
            let nul = memchr::memchr(0, bytes.get(suffix_at..)?)?;
            let keep = previous.len().checked_sub(strip as usize)?;
            let mut full = previous[..keep].to_vec();
            full.extend_from_slice(&bytes[suffix_at..suffix_at + nul]);
            path = full;
            at = suffix_at + nul + 1;
        } else {
            let nul = memchr::memchr(0, bytes.get(path_at..)?)?;
            path = bytes[path_at..path_at + nul].to_vec();
            // Entries are padded with 1–8 NULs to a multiple of 8 bytes.
            let length = path_at - at + nul;
            at += (length + 8) & !7;
        }
        previous.clone_from(&path);
        entries.push(Entry {
            path,
            id,
            mode,
            stage: ((flags >> 12) & 3) as u8,
        });
    }
    let shared = extension(bytes, at, b"link")
        .map(|link| link.get(0..20).and_then(|id| Oid::from_bytes(id).ok()))
        .map(|id| id.ok_or(()));
    let mut trees = HashMap::new();
    if let Some(data) = extension(bytes, at, b"TREE") {
        // A damaged cache-tree only costs speed: the caller then compares every entry.
        if cache_tree(data, 0, b"", &mut trees).is_none() {
            trees.clear();
        }
    }
    match shared {
        Some(Err(())) => None,
        Some(Ok(id)) => Some(Parsed {
            entries,
            shared: Some(id),
            trees,
        }),
        None => Some(Parsed {
            entries,
            shared: None,
            trees,
        }),
    }
}

/// Reads one cache-tree node (`name NUL count SP subtrees LF [id]`) and its subtrees.
fn cache_tree(
    data: &[u8],
    mut at: usize,
    parent: &[u8],
    out: &mut HashMap<Vec<u8>, Oid>,
) -> Option<usize> {
    let nul = memchr::memchr(0, data.get(at..)?)?;
    let name = &data[at..at + nul];
    at += nul + 1;
    let space = memchr::memchr(b' ', data.get(at..)?)?;
    let count: i64 = std::str::from_utf8(&data[at..at + space])
        .ok()?
        .parse()
        .ok()?;
    at += space + 1;
    let newline = memchr::memchr(b'\n', data.get(at..)?)?;
    let subtrees: usize = std::str::from_utf8(&data[at..at + newline])
        .ok()?
        .parse()
        .ok()?;
    at += newline + 1;
    let mut path = parent.to_vec();
    if !name.is_empty() {
        path.extend_from_slice(name);
        path.push(b'/');
    }
    if count >= 0 {
        out.insert(path.clone(), Oid::from_bytes(data.get(at..at + 20)?).ok()?);
        at += 20;
    }
    for _ in 0..subtrees {
        at = cache_tree(data, at, &path, out)?;
    }
    Some(at)
}

/// The payload of one extension, if present.
fn extension<'a>(bytes: &'a [u8], mut at: usize, wanted: &[u8; 4]) -> Option<&'a [u8]> {
    // The last 20 bytes are the checksum; extensions sit between the entries and it.
    let end = bytes.len().saturating_sub(20);
    while at + 8 <= end {
        let size = be32(bytes, at + 4)? as usize;
        if &bytes[at..at + 4] == wanted {
            return bytes.get(at + 8..at + 8 + size);
        }
        at += 8 + size;
    }
    None
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// git's offset varint (as in `OFS_DELTA`), used by index v4 for the prefix length.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut used = 0;
    let mut byte = *bytes.first()?;
    used += 1;
    let mut value = u64::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        byte = *bytes.get(used)?;
        used += 1;
        value = ((value + 1) << 7) | u64::from(byte & 0x7f);
    }
    Some((value, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(version: &str) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        };
        git(&["init", "-q"]);
        for path in [
            "a.txt",
            "dir/b.txt",
            "dir/sub/c.txt",
            "dir/sub/d-longer-name.txt",
        ] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, path).unwrap();
        }
        git(&["add", "."]);
        git(&["update-index", "--index-version", version]);
        let bytes = std::fs::read(dir.path().join(".git/index")).unwrap();
        (dir, bytes)
    }

    #[test]
    fn every_version_gives_the_same_entries_as_libgit2() {
        for version in ["2", "3", "4"] {
            let (dir, bytes) = index_of(version);
            let ours = parse(&bytes).expect("parsed").entries;
            let theirs = git2::Index::open(&dir.path().join(".git/index")).unwrap();
            let theirs: Vec<(Vec<u8>, Oid)> = theirs.iter().map(|e| (e.path, e.id)).collect();
            let ours: Vec<(Vec<u8>, Oid)> = ours.into_iter().map(|e| (e.path, e.id)).collect();
            assert_eq!(ours, theirs, "index version {version}");
        }
    }

    #[test]
    fn the_cache_tree_names_each_directory_tree() {
        let (dir, _) = index_of("2");
        let output = std::process::Command::new("git")
            .current_dir(dir.path())
            .args(["write-tree"])
            .output()
            .unwrap();
        let root = Oid::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap();
        let bytes = std::fs::read(dir.path().join(".git/index")).unwrap();
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.trees.get(b"".as_slice()), Some(&root));
        assert!(parsed.trees.contains_key(b"dir/sub/".as_slice()));
        assert_eq!(parsed.trees.len(), 3);
    }

    #[test]
    fn garbage_is_not_an_index() {
        assert!(parse(b"DIRC\0\0\0\x09").is_none());
        assert!(parse(b"hello").is_none());
    }
}
