//! Damaged and hostile archives: every one ends, within its limits, with a gap that names
//! it, and nothing is ever written anywhere.

mod archive_support;
mod common;

use std::io::{Cursor, Write};

use archive_support::*;
use common::{random_token, scan, scan_with_secrets, write};
use serde_json::Value;

fn gaps_of_kind(scan: &common::Scan, kind: &str) -> Vec<Value> {
    scan.gaps()
        .into_iter()
        .filter(|g| g["kind"] == kind)
        .collect()
}

fn chain_text(gap: &Value) -> String {
    gap["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("!")
}

fn lines(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| {
            format!(
                "{i:08} request served in {}ms by worker {}\n",
                i * 7 % 1000,
                i % 13
            )
            .into_bytes()
        })
        .collect()
}

#[test]
fn truncated_gzip_is_incomplete_and_named() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let whole = gzip(&lines(50_000));
    write(dir.path(), "logs/old.log.gz", &whole[..whole.len() / 2]);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.code(), 3);
    let corrupt = gaps_of_kind(&result, "corrupt");
    assert_eq!(corrupt.len(), 1, "gaps: {:?}", result.gaps());
    assert!(chain_text(&corrupt[0]).ends_with("logs/old.log.gz"));
    assert!(corrupt[0]["reason"]
        .as_str()
        .unwrap()
        .contains("old.log.gz"));
    result.assert_no_leak(&secret);
}

#[test]
fn damaged_gzip_and_trailing_garbage_are_gaps() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut damaged = gzip(&lines(20_000));
    let middle = damaged.len() / 2;
    for byte in &mut damaged[middle..middle + 64] {
        *byte ^= 0x5A;
    }
    write(dir.path(), "damaged.gz", damaged);
    let mut trailing = gzip(b"fine\n");
    trailing.extend_from_slice(b"this is not a gzip member");
    write(dir.path(), "trailing.gz", trailing);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let named: Vec<String> = gaps_of_kind(&result, "corrupt")
        .iter()
        .map(chain_text)
        .collect();
    assert!(named.iter().any(|c| c.ends_with("damaged.gz")), "{named:?}");
    assert!(
        named.iter().any(|c| c.ends_with("trailing.gz")),
        "{named:?}"
    );
}

#[test]
fn truncated_tar_and_absurd_member_size_are_gaps() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let whole = tar(&[("a.txt", &lines(10)[..]), ("b.txt", &lines(10)[..])]);
    // Cut right after the first member's data: the end-of-archive block is missing.
    let first_end = 512 + lines(10).len().div_ceil(512) * 512;
    write(dir.path(), "cut.tar", &whole[..first_end]);
    // A member whose header claims 8 GiB, followed by a few bytes.
    let mut header = tar::Header::new_gnu();
    header.set_path("huge.bin").unwrap();
    header.set_size(8 << 30);
    header.set_cksum();
    let mut claims = header.as_bytes().to_vec();
    claims.extend_from_slice(&[b'x'; 1000]);
    write(dir.path(), "claims.tar", claims);
    // A GNU long-name record claiming 4 GiB (the tar crate would hold it in memory).
    let mut long = tar::Header::new_gnu();
    long.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    long.set_entry_type(tar::EntryType::GNULongName);
    long.set_size(4 << 30);
    long.set_cksum();
    let mut hostile = long.as_bytes().to_vec();
    hostile.extend_from_slice(&[b'n'; 4096]);
    write(dir.path(), "longname.tar.gz", gzip(&hostile));
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let named: Vec<String> = gaps_of_kind(&result, "corrupt")
        .iter()
        .map(chain_text)
        .collect();
    assert!(named.iter().any(|c| c.ends_with("cut.tar")), "{named:?}");
    assert!(
        named.iter().any(|c| c.ends_with("claims.tar!huge.bin")),
        "{named:?}"
    );
}

#[test]
fn encrypted_zip_member_is_incomplete() {
    use zip::unstable::write::FileOptionsExt;
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(b"nothing secret\n").unwrap();
    let locked = zip::write::SimpleFileOptions::default()
        .with_deprecated_encryption(b"hunter2")
        .unwrap();
    writer.start_file("vault/keys.txt", locked).unwrap();
    writer.write_all(&secret).unwrap();
    write(
        dir.path(),
        "locked.zip",
        writer.finish().unwrap().into_inner(),
    );
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.code(), 3);
    let encrypted = gaps_of_kind(&result, "encrypted");
    assert_eq!(encrypted.len(), 1, "gaps: {:?}", result.gaps());
    assert!(chain_text(&encrypted[0]).ends_with("locked.zip!vault/keys.txt"));
    result.assert_no_leak(&secret);
}

#[test]
fn unsupported_formats_are_gaps() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "archive.7z",
        b"7z\xBC\xAF\x27\x1C\x00\x04 rest of a 7z archive",
    );
    write(
        dir.path(),
        "renamed.dat",
        b"Rar!\x1A\x07\x01\x00 rest of a rar archive",
    );
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let named: Vec<String> = gaps_of_kind(&result, "unsupported")
        .iter()
        .map(chain_text)
        .collect();
    assert_eq!(named.len(), 2, "{named:?}");
}

/// A recursive zip bomb in the style of 42.zip: each level holds 16 copies of the level
/// below; four levels claim 16^4 × 16 MiB = 1 TiB from a few hundred kilobytes.
fn zip_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 16 << 20];
    let mut level = zip(&[("zeros.bin", &zeros[..])]);
    for depth in 1..=4 {
        let names: Vec<String> = (0..16).map(|i| format!("{depth}-{i}.zip")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &level[..])).collect();
        level = zip(&members);
    }
    level
}

#[test]
fn zip_bomb_stops_at_a_limit() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let bomb = zip_bomb();
    assert!(bomb.len() < 4 << 20, "bomb is {} bytes", bomb.len());
    write(dir.path(), "42.zip", &bomb);
    let started = std::time::Instant::now();
    let result = scan(&secret, &[dir.path()]);
    assert!(
        started.elapsed().as_secs() < 120,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(result.verdict(), "incomplete");
    let limits = gaps_of_kind(&result, "limit-exceeded");
    assert_eq!(limits.len(), 1, "gaps: {:?}", result.gaps());
    assert!(chain_text(&limits[0]).contains("42.zip!"));
    let archive = &archives(&result.report)[0];
    let expanded = archive["expanded_bytes"].as_u64().unwrap();
    assert!(expanded < 3 << 30, "expanded {expanded}");
}

#[test]
fn overlapping_zip_entries_are_refused() {
    // Two central-directory entries pointing at the same local file: the construction of
    // non-recursive zip bombs.
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let single = zip(&[("a.txt", &lines(100)[..])]);
    let eocd = single.len() - 22;
    let cd_start = u32::from_le_bytes(single[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    let cd = single[cd_start..eocd].to_vec();
    let mut twice = single[..cd_start].to_vec();
    let mut second = cd.clone();
    second[46] = b'b'; // a different name, the same data
    twice.extend_from_slice(&cd);
    twice.extend_from_slice(&second);
    let mut end = single[eocd..].to_vec();
    end[8..10].copy_from_slice(&2u16.to_le_bytes());
    end[10..12].copy_from_slice(&2u16.to_le_bytes());
    end[12..16].copy_from_slice(&((cd.len() * 2) as u32).to_le_bytes());
    twice.extend_from_slice(&end);
    write(dir.path(), "overlap.zip", twice);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete", "gaps: {:?}", result.gaps());
    assert!(!result.gaps().is_empty());
    assert!(result
        .gaps()
        .iter()
        .all(|g| chain_text(g).contains("overlap.zip")));
}

#[test]
fn traversal_and_symlink_members_write_nothing() {
    let secret = random_token(32);
    let tag = String::from_utf8(random_token(12)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let escape = format!("../../../../../../tmp/scour-escape-{tag}");
    let absolute = format!("/tmp/scour-absolute-{tag}");
    let mut builder = tar::Builder::new(Vec::new());
    for name in [escape.as_str(), absolute.as_str()] {
        let content = text_with(&secret, 1, "k=");
        let mut header = tar::Header::new_gnu();
        // Write the raw name, as a hostile tool would (the builder refuses `..`).
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(content.len() as u64);
        header.set_cksum();
        builder.append(&header, &content[..]).unwrap();
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder
        .append_link(&mut link, "etc-link", format!("/tmp/scour-link-{tag}"))
        .unwrap();
    let tarball = builder.into_inner().unwrap();
    write(dir.path(), "evil.tar.gz", gzip(&tarball));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .add_symlink(
            "zip-link",
            format!("/tmp/scour-ziplink-{tag}"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    write(
        dir.path(),
        "links.zip",
        writer.finish().unwrap().into_inner(),
    );
    let before: Vec<_> = walk(dir.path());
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    let places: Vec<String> = result.places().into_iter().map(|(p, _)| p).collect();
    assert!(
        places
            .iter()
            .any(|p| p.ends_with(&format!("evil.tar.gz!{escape}"))),
        "{places:?}"
    );
    assert!(
        places
            .iter()
            .any(|p| p.ends_with(&format!("evil.tar.gz!{absolute}"))),
        "{places:?}"
    );
    let skipped = &result.report["coverage"]["roots"][0]["skipped"]["symlink"];
    assert_eq!(skipped["count"], 2, "{skipped}");
    for written in [
        format!("/tmp/scour-escape-{tag}"),
        absolute.clone(),
        format!("/tmp/scour-link-{tag}"),
        format!("/tmp/scour-ziplink-{tag}"),
    ] {
        assert!(
            !std::path::Path::new(&written).exists(),
            "{written} was written"
        );
    }
    assert_eq!(walk(dir.path()), before, "the scanned tree changed");
    result.assert_no_leak(&secret);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn nesting_deeper_than_the_limit_is_a_gap() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut nested = text_with(&secret, 1, "");
    for _ in 0..25 {
        nested = gzip(&nested);
    }
    write(dir.path(), "matryoshka.gz", nested);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let limits = gaps_of_kind(&result, "limit-exceeded");
    assert_eq!(limits.len(), 1, "gaps: {:?}", result.gaps());
    assert!(limits[0]["reason"]
        .as_str()
        .unwrap()
        .contains("--archive-max-depth 20"));
    assert_eq!(archives(&result.report)[0]["max_depth"], 20);

    // The same limit, lowered: a zip in a tar.gz is 3 deep.
    let inner = zip(&[("k.txt", &text_with(&secret, 1, "")[..])]);
    write(
        dir.path(),
        "matryoshka.gz",
        gzip(&tar(&[("app.jar", &inner[..])])),
    );
    let shallow = scan_with_secrets(&[&secret], &[dir.path()], &["--archive-max-depth", "2"]);
    assert_eq!(shallow.verdict(), "incomplete");
    let limits = gaps_of_kind(&shallow, "limit-exceeded");
    assert_eq!(limits.len(), 1);
    assert!(chain_text(&limits[0]).ends_with("matryoshka.gz!app.jar"));
}

#[test]
fn a_zip_inside_a_stream_beyond_the_buffer_limit_is_a_gap() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let inner = zip(&[
        ("k.txt", &text_with(&secret, 1, "")[..]),
        ("pad.bin", &lines(40_000)[..]),
    ]);
    write(dir.path(), "outer.tar", tar(&[("big.zip", &inner[..])]));
    let result = scan_with_secrets(&[&secret], &[dir.path()], &["--archive-max-buffer", "4K"]);
    assert_eq!(result.verdict(), "incomplete");
    let limits = gaps_of_kind(&result, "limit-exceeded");
    assert_eq!(limits.len(), 1, "gaps: {:?}", result.gaps());
    assert!(chain_text(&limits[0]).ends_with("outer.tar!big.zip"));
    assert!(limits[0]["reason"]
        .as_str()
        .unwrap()
        .contains("--archive-max-buffer"));
}
