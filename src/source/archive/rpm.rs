//! rpm packages (binary and source): a 96-byte lead, the signature header, the main
//! header, then the payload, read as one stream.
//!
//! Both headers are scanned as members (`signature header`, `header`): the main header
//! holds the scriptlets (`%pre`, `%post`, triggers), the description, the changelog and
//! every file name, as NUL-terminated strings in its data store. The payload (a cpio
//! archive, compressed with gzip, xz, zstd, bzip2 or lzma as the header's
//! `PAYLOADCOMPRESSOR` says) then goes through the pipeline like a compressed stream, so its
//! files are members named by their paths: `app.rpm!./etc/app/credentials`.
//!
//! A header is an 16-byte intro (magic `8E AD E8 01`, reserved, index count, data size),
//! 16 bytes per index entry, then the data store; the signature header is padded to 8
//! bytes. Headers larger than rpm itself accepts are `corrupt`.

use std::io::{self, Read};

use super::format::{Format, Place};
use super::limits::Counted;
use super::{drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

const LEAD: usize = 96;
/// The package's name in the lead.
const LEAD_NAME: std::ops::Range<usize> = 10..76;
const LEAD_MAGIC: &[u8] = b"\xED\xAB\xEE\xDB";
const HEADER_MAGIC: &[u8] = b"\x8E\xAD\xE8\x01";
/// rpm's own limits on a header (`hdrchkTags`, `hdrchkData`).
const MAX_INDEX_ENTRIES: u64 = 0x00FF_FFFF;
const MAX_DATA: u64 = 256 << 20;

pub(crate) static RPM: Rpm = Rpm;

pub(crate) struct Rpm;

impl Format for Rpm {
    fn name(&self) -> &'static str {
        "rpm"
    }

    /// The lead's magic, a format version rpm writes (3 or 4), and the signature header's
    /// magic right after the lead.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(LEAD_MAGIC)
            && matches!(head.get(4), Some(3 | 4))
            && head.get(LEAD..LEAD + 4) == Some(HEADER_MAGIC)
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

fn scan(walk: &Walk, chain: &[String], input: &mut dyn Read, depth: u32, buffer: &mut ScanBuffer) {
    let mut lead = [0u8; LEAD];
    if let Err(error) = input.read_exact(&mut lead) {
        walk.fail_unless_reported(GapKind::Corrupt, chain, "the rpm lead is truncated", &error);
        return;
    }
    // The lead's name field (a NUL-terminated `name-version-release`) is text too.
    let mut lead_member = chain.to_vec();
    lead_member.push("lead".to_string());
    scan_member(walk, &lead_member, &mut &lead[LEAD_NAME], depth + 1, buffer);
    let Some(signature_len) = header(walk, chain, input, "signature header", depth, buffer) else {
        return;
    };
    let padding = (8 - signature_len % 8) % 8;
    if io::copy(&mut input.take(padding), &mut io::sink()).ok() != Some(padding) {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "the rpm package is truncated after its signature header".to_string(),
        );
        return;
    }
    if header(walk, chain, input, "header", depth, buffer).is_none() {
        return;
    }
    if walk.check_running().is_err() {
        return;
    }
    // The payload: a compressed cpio archive, recognised and opened by the pipeline.
    scan_member(walk, chain, input, depth + 1, buffer);
    let _ = drain(input);
}

/// Reads one header and scans it as the member `name`; returns its length in bytes.
fn header(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    name: &str,
    depth: u32,
    buffer: &mut ScanBuffer,
) -> Option<u64> {
    let mut member = chain.to_vec();
    member.push(name.to_string());
    let mut intro = [0u8; 16];
    if let Err(error) = input.read_exact(&mut intro) {
        walk.fail_unless_reported(
            GapKind::Corrupt,
            &member,
            "the rpm package is truncated before this header; the rest was not read",
            &error,
        );
        return None;
    }
    if &intro[..4] != HEADER_MAGIC {
        walk.fail(
            GapKind::Corrupt,
            &member,
            "no rpm header magic where the header should start; the rest was not read".to_string(),
        );
        return None;
    }
    let entries = u64::from(u32::from_be_bytes([
        intro[8], intro[9], intro[10], intro[11],
    ]));
    let data = u64::from(u32::from_be_bytes([
        intro[12], intro[13], intro[14], intro[15],
    ]));
    if entries > MAX_INDEX_ENTRIES || data > MAX_DATA {
        walk.fail(
            GapKind::Corrupt,
            &member,
            format!(
                "an rpm header claiming {entries} entries and {data} data bytes, more than rpm \
                 accepts; the rest was not read"
            ),
        );
        return None;
    }
    let body = entries * 16 + data;
    let mut counted = Counted {
        inner: input.take(body),
        count: 0,
    };
    walk.entering(&member);
    let mut whole = (&intro[..]).chain(&mut counted);
    scan_member(walk, &member, &mut whole, depth + 1, buffer);
    let rest = drain(&mut whole);
    if walk.check_running().is_err() {
        return None;
    }
    if let Err(error) = rest {
        walk.fail_unless_reported(GapKind::Corrupt, &member, "could not read it", &error);
        return None;
    }
    if counted.count < body {
        walk.fail(
            GapKind::Corrupt,
            &member,
            "the rpm package is truncated inside this header".to_string(),
        );
        return None;
    }
    Some(16 + body)
}

#[cfg(test)]
mod tests {
    use super::super::decode::testing::scan_memory;
    use super::*;

    fn lead() -> Vec<u8> {
        let mut lead = LEAD_MAGIC.to_vec();
        lead.extend_from_slice(&[3, 0]);
        lead.resize(LEAD, 0);
        lead
    }

    fn header_intro(entries: u32, data: u32) -> Vec<u8> {
        let mut intro = HEADER_MAGIC.to_vec();
        intro.extend_from_slice(&[0; 4]);
        intro.extend_from_slice(&entries.to_be_bytes());
        intro.extend_from_slice(&data.to_be_bytes());
        intro
    }

    #[test]
    fn a_header_cut_short_is_a_corrupt_gap() {
        let mut package = lead();
        package.extend(header_intro(0, 0));
        package.extend(header_intro(2, 4096));
        package.extend_from_slice(&[0u8; 100]);
        let scanned = scan_memory(b"rpmSecret0123456789abcdefgh", "cut.rpm", &package);
        assert!(
            scanned.gaps.iter().any(|gap| gap.kind == GapKind::Corrupt
                && gap.chain.last().map(String::as_str) == Some("header")),
            "{:?}",
            scanned.gaps
        );
    }

    #[test]
    fn a_header_larger_than_rpm_accepts_is_refused() {
        let mut package = lead();
        package.extend(header_intro(u32::MAX, u32::MAX));
        let scanned = scan_memory(b"rpmSecret0123456789abcdefgh", "huge.rpm", &package);
        assert_eq!(scanned.gaps.len(), 1, "{:?}", scanned.gaps);
        assert_eq!(scanned.gaps[0].kind, GapKind::Corrupt);
    }

    #[test]
    fn needs_the_lead_and_the_signature_header() {
        let mut head = LEAD_MAGIC.to_vec();
        head.extend_from_slice(&[3, 0]);
        head.resize(LEAD, 0);
        head.extend_from_slice(HEADER_MAGIC);
        assert!(RPM.recognise(&head, Place::Inside));
        head[LEAD] = 0;
        assert!(!RPM.recognise(&head, Place::Inside));
        assert!(!RPM.recognise(LEAD_MAGIC, Place::Inside));
    }
}
