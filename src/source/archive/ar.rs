//! Unix `ar` archives: Debian packages (`.deb`, whose `data.tar.*` holds the files), static
//! libraries and Rust `.rlib`s. A simple stream of 60-byte headers and member data; GNU and
//! BSD long names are resolved. Members are scanned like any other stream.

use std::io::Read;

use super::format::{Format, Place};
use super::member::{self, read_full, Words};
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const HEADER: usize = 60;
/// The GNU long-name table is held in memory to name members; larger ones are not trusted.
const MAX_NAME_TABLE: u64 = 16 << 20;

pub(crate) static AR: Ar = Ar;

pub(crate) struct Ar;

const AR_WORDS: Words = Words {
    container: "ar archive",
    member: "member",
};

impl Format for Ar {
    fn name(&self) -> &'static str {
        "ar"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(b"!<arch>\n")
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
    let mut magic = [0u8; 8];
    if let Err(error) = input.read_exact(&mut magic) {
        walk.fail_unless_reported(GapKind::Corrupt, chain, "not a readable ar archive", &error);
        return;
    }
    let mut long_names: Vec<u8> = Vec::new();
    let mut offset = 8u64;
    loop {
        let mut header = [0u8; HEADER];
        match read_full(input, &mut header) {
            Ok(0) => return,
            Ok(HEADER) => {}
            Ok(_) => {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    format!("the ar archive is truncated at byte {offset}"),
                );
                return;
            }
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    "could not read the ar archive",
                    &error,
                );
                return;
            }
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&header[range]).trim().to_string()
        };
        let Ok(mut size) = field(48..58).parse::<u64>() else {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!("bad ar member header at byte {offset}"),
            );
            return;
        };
        if &header[58..60] != b"`\n" {
            walk.fail(
                GapKind::Corrupt,
                chain,
                format!("bad ar member header at byte {offset}"),
            );
            return;
        }
        offset += HEADER as u64 + size + size % 2;
        let raw_name = field(0..16);
        let mut data = input.take(size);
        let name = if let Some(len) = raw_name
            .strip_prefix("#1/")
            .and_then(|n| n.parse::<u64>().ok())
        {
            let mut name = Vec::new();
            if (&mut data).take(len).read_to_end(&mut name).is_err() {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    "could not read an ar member name".to_string(),
                );
                return;
            }
            size = size.saturating_sub(len);
            String::from_utf8_lossy(&name)
                .trim_end_matches('\0')
                .to_string()
        } else if raw_name == "//" && size <= MAX_NAME_TABLE {
            long_names.clear();
            if data.read_to_end(&mut long_names).is_err() {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    "could not read the ar name table".to_string(),
                );
                return;
            }
            skip_padding(input, size);
            continue;
        } else if let Some(at) = raw_name
            .strip_prefix('/')
            .and_then(|n| n.parse::<usize>().ok())
        {
            long_name(&long_names, at).unwrap_or(raw_name)
        } else {
            raw_name.trim_end_matches('/').to_string()
        };
        let mut member = chain.to_vec();
        member.push(name);
        walk.entering(&member);
        let mut counted = super::limits::Counted {
            inner: &mut data,
            count: 0,
        };
        scan_member(walk, &member, &mut counted, depth + 1, buffer);
        if !member::finish(walk, &member, &mut counted, size, &AR_WORDS) {
            return;
        }
        skip_padding(input, size);
    }
}

fn long_name(table: &[u8], at: usize) -> Option<String> {
    let rest = table.get(at..)?;
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    Some(
        String::from_utf8_lossy(&rest[..end])
            .trim_end_matches('/')
            .to_string(),
    )
}

fn skip_padding(input: &mut dyn Read, size: u64) {
    if size % 2 == 1 {
        let mut pad = [0u8; 1];
        let _ = input.read(&mut pad);
    }
}
