//! OpenPGP messages that are not encrypted: `gpg --store`, `gpg --sign` (`-s`), with or
//! without `-z N`, binary or ASCII-armored (`-a`, `-----BEGIN PGP MESSAGE-----`).
//!
//! Such a message is a sequence of packets whose text is compressed (a compressed packet,
//! tag 8: ZIP = raw deflate, ZLIB or BZip2) around a literal packet (tag 11) that holds the
//! signed or stored file, so the secret is nowhere in its raw bytes. Packets are parsed as
//! a stream (old and new header formats, partial body lengths, the old format's
//! indeterminate length); a compressed packet's decompressed bytes and a literal packet's
//! data go back through the pipeline at `depth + 1` (where the packets inside a compressed
//! packet are recognised again), so the driver bounds nesting and counts every byte.
//! Other packets (signatures, one-pass signatures, markers) are scanned as they are.
//! Keyrings and exported keys (`gpg --export`, a de-armored key block) are packets too: a
//! stream that starts with a key packet ([`super::openpgp_keys`]) is read the same way, so
//! its key material is interpreted content, not `opaque`; a passphrase-protected secret
//! key is an `encrypted` gap.
//!
//! An armored message is de-armored (headers skipped, base64 decoded line by line, the
//! CRC24 checksum verified) and the binary message goes through the pipeline again: if it
//! is encrypted it is the `encrypted` gap of [`super::encrypted`]. An encrypted packet met
//! inside a message (a session key, encrypted data) is an `encrypted` gap here.
//!
//! Recognised at the start of a stream (binary or armored). An armored block inside other
//! content (an email) is base64 to the decode layers, which decode it; the binary message
//! is then recognised here, and the block is no `encrypted` gap ([`super::carve`]).

use std::io::{self, BufRead, BufReader, Read};

use base64::Engine;

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::limits::Decoded;
use super::openpgp_keys as keys;
use super::{drain, scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// The first line of an armored message.
pub(crate) const ARMOR_BEGIN: &[u8] = b"-----BEGIN PGP MESSAGE-----";
/// Longest armor line accepted (the standard says 76 characters).
const MAX_ARMOR_LINE: usize = 64 << 10;

pub(crate) static OPENPGP: OpenPgp = OpenPgp;

pub(crate) struct OpenPgp;

/// Packet tags this layer treats specially (RFC 9580 section 5).
const TAG_COMPRESSED: u8 = 8;
const TAG_LITERAL: u8 = 11;
const TAG_ONE_PASS_SIGNATURE: u8 = 4;
const TAG_MARKER: u8 = 10;
/// Session keys and encrypted data: what follows them cannot be read without a key.
const ENCRYPTED_TAGS: &[u8] = &[1, 3, 9, 18, 20];

impl Format for OpenPgp {
    fn name(&self) -> &'static str {
        "openpgp"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        armor_follows(head) || starts_plain_message(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut peeked = super::sniff::Peeked::new(reader, ARMOR_BEGIN.len());
        if peeked.head().starts_with(ARMOR_BEGIN) {
            dearmor(walk, chain, &mut peeked, depth, buffer);
        } else {
            // Packet headers are read a few bytes at a time: buffered, so each is not a read
            // call. The message is read to its end, so reading ahead costs nothing.
            let mut buffered = BufReader::with_capacity(1 << 16, peeked);
            read_packets(walk, chain, &mut buffered, depth, buffer);
        }
    }
}

/// Whether `head` is an armored message: the BEGIN line alone on its line, optional
/// `Key: value` headers, a blank line, then a line of base64. The marker's name in code or
/// documentation is not one.
fn armor_follows(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(ARMOR_BEGIN) else {
        return false;
    };
    let mut lines = rest
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    if lines
        .next()
        .is_none_or(|end| !end.iter().all(|b| b.is_ascii_whitespace()))
    {
        return false;
    }
    let is_base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    for line in lines {
        if line.contains(&b':') {
            continue;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        return line.len() >= 16 && line.iter().all(is_base64);
    }
    false
}

/// Whether an armored block at the start of `head` (met inside other content) holds a
/// message whose first packet is not encrypted, as far as `head` shows. Such a block is
/// no ciphertext; the decode layers decode its base64 and the message is read here.
pub(crate) fn armored_message_is_plain(head: &[u8]) -> bool {
    if !armor_follows(head) {
        return false;
    }
    let mut input = head;
    let mut armor = Armor::new(&mut input);
    let mut binary = Vec::new();
    let mut chunk = [0u8; 1024];
    // The head ends inside the armor: decode what it holds, whatever error the cut causes.
    while let Ok(n) = armor.read(&mut chunk) {
        if n == 0 {
            break;
        }
        binary.extend_from_slice(&chunk[..n]);
    }
    !super::encrypted::is_openpgp_encrypted(&binary) && starts_plain_message(&binary)
}

/// A packet's header: its tag and how its body's length is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    tag: u8,
    length: Length,
    /// Bytes of the header itself.
    size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// The whole body, this many bytes.
    Fixed(u64),
    /// A part of this many bytes, then another length (new format only).
    Partial(u64),
    /// To the end of the stream (old format, length type 3).
    Indeterminate,
}

/// Parses a packet header from `bytes` (at least the header's bytes); `None` if the bytes
/// are not one or are too short.
fn parse_header(bytes: &[u8]) -> Option<Header> {
    let first = *bytes.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    if first & 0x40 != 0 {
        let (length, size) = new_length(&bytes[1..])?;
        return Some(Header {
            tag: first & 0x3F,
            length,
            size: 1 + size,
        });
    }
    let tag = (first >> 2) & 0x0F;
    let be = |n: usize| -> Option<u64> {
        let field = bytes.get(1..1 + n)?;
        Some(field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    };
    let (length, size) = match first & 0x03 {
        0 => (Length::Fixed(be(1)?), 2),
        1 => (Length::Fixed(be(2)?), 3),
        2 => (Length::Fixed(be(4)?), 5),
        _ => (Length::Indeterminate, 1),
    };
    Some(Header { tag, length, size })
}

/// A new-format body length from its octets; the length and how many octets it took.
fn new_length(bytes: &[u8]) -> Option<(Length, usize)> {
    let first = *bytes.first()?;
    match first {
        0..=191 => Some((Length::Fixed(u64::from(first)), 1)),
        192..=223 => {
            let second = *bytes.get(1)?;
            let length = ((u64::from(first) - 192) << 8) + u64::from(second) + 192;
            Some((Length::Fixed(length), 2))
        }
        224..=254 => Some((Length::Partial(1 << (first & 0x1F)), 1)),
        255 => {
            let field = bytes.get(1..5)?;
            let length = u32::from_be_bytes([field[0], field[1], field[2], field[3]]);
            Some((Length::Fixed(u64::from(length)), 5))
        }
    }
}

/// Whether `head` starts an OpenPGP message that is not encrypted: a compressed packet
/// whose content decodes to packets, a literal packet, a one-pass signature or a marker.
/// Checked deeply enough (the content's first packet, a trial inflate of what the head
/// holds) that binary data starting with one of these header bytes is not claimed.
fn starts_plain_message(head: &[u8]) -> bool {
    let Some(header) = parse_header(head) else {
        return false;
    };
    let body = &head[header.size.min(head.len())..];
    let fixed = match header.length {
        Length::Fixed(length) => Some(length),
        _ => None,
    };
    // A head shorter than the sniffing window is the whole stream (a short decoded run, a
    // small member): a literal packet claiming more than it holds is bytes that only look
    // like one (a false `corrupt` gap, seen on a base64-looking word in git's release
    // notes). Not taking it costs nothing: a literal packet's content is plain bytes, and
    // the raw scan reads them.
    let whole_stream = head.len() < super::sniff::SNIFF_LEN;
    let overlong = fixed.is_some_and(|length| length > body.len() as u64);
    if header.tag == TAG_LITERAL && whole_stream && overlong {
        return false;
    }
    match header.tag {
        TAG_COMPRESSED => compressed_content_is_packets(body),
        TAG_LITERAL => {
            // A data format, then a file name that is printable (or empty) and fits.
            let Some((&format, rest)) = body.split_first() else {
                return false;
            };
            let name_length = rest.first().map_or(0, |&n| usize::from(n));
            let name = rest.get(1..1 + name_length).unwrap_or_default();
            b"btu1lm".contains(&format)
                && fixed.is_none_or(|length| length >= 6 + name_length as u64)
                && name.iter().all(|&b| b >= 0x20 && b != 0x7F)
        }
        TAG_ONE_PASS_SIGNATURE => {
            // Version 3 (13 bytes) or 6; a signature type of binary or text document.
            matches!(
                (fixed, body.first().copied(), body.get(1).copied()),
                (Some(13), Some(3), Some(0 | 1)) | (Some(_), Some(6), Some(0 | 1))
            )
        }
        TAG_MARKER => fixed == Some(3) && body.starts_with(b"PGP"),
        // A keyring or an exported key: the first key packet is whole in the head and
        // its fields fit it.
        keys::TAG_PUBLIC_KEY | keys::TAG_SECRET_KEY => fixed
            .and_then(|length| body.get(..usize::try_from(length).ok()?))
            .is_some_and(|key| keys::public_fields_fit(header.tag, key)),
        _ => false,
    }
}

/// Whether the content of a compressed packet (its algorithm byte, then the data) starts
/// with a packet, as far as the head shows.
fn compressed_content_is_packets(body: &[u8]) -> bool {
    let Some((&algorithm, data)) = body.split_first() else {
        return false;
    };
    let first_packet_ok = |bytes: &[u8]| {
        bytes.first().is_some_and(|&b| b & 0x80 != 0)
            && parse_header(bytes).is_none_or(|h| {
                matches!(
                    h.tag,
                    2 | TAG_ONE_PASS_SIGNATURE | TAG_COMPRESSED | TAG_LITERAL | TAG_MARKER
                )
            })
    };
    match algorithm {
        0 => first_packet_ok(data),
        1 | 2 => {
            let mut inflater = flate2::Decompress::new(algorithm == 2);
            let mut out = vec![0u8; 4096];
            match inflater.decompress(data, &mut out, flate2::FlushDecompress::None) {
                Ok(_) => {
                    let produced = inflater.total_out() as usize;
                    produced > 0 && first_packet_ok(&out[..produced])
                }
                Err(_) => false,
            }
        }
        3 => {
            data.len() >= 10
                && data.starts_with(b"BZh")
                && (b'1'..=b'9').contains(&data[3])
                && data[4..10] == *b"1AY&SY"
        }
        _ => false,
    }
}

/// Reads the packets of a binary message, each body through the pipeline.
fn read_packets(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut packets = 0u64;
    loop {
        let header = match read_header(input) {
            Ok(Some(header)) => header,
            Ok(None) => return,
            Err(error) => {
                walk.fail_unless_reported(
                    GapKind::Corrupt,
                    chain,
                    &format!(
                        "bad OpenPGP packet header after {packets} packets; the rest was not read"
                    ),
                    &error,
                );
                return;
            }
        };
        packets += 1;
        let mut body = Body::new(input, header.length);
        if ENCRYPTED_TAGS.contains(&header.tag) {
            walk.fail(
                GapKind::Encrypted,
                chain,
                format!(
                    "an encrypted OpenPGP packet (tag {}): what it encrypts cannot be read \
                     without the key; its raw bytes were scanned",
                    header.tag
                ),
            );
            // Everything after a session key is what it unlocks: scanned raw only.
            leaf::scan(
                walk,
                chain,
                &mut body,
                depth + 1,
                Reopen::None,
                leaf::Kind::Accounted,
                buffer,
            );
            leaf::scan(
                walk,
                chain,
                input,
                depth + 1,
                Reopen::None,
                leaf::Kind::Accounted,
                buffer,
            );
            return;
        }
        match header.tag {
            TAG_COMPRESSED => read_compressed(walk, chain, &mut body, depth, buffer),
            TAG_LITERAL => read_literal(walk, chain, &mut body, depth, buffer),
            keys::TAG_SECRET_KEY | keys::TAG_SECRET_SUBKEY => {
                read_secret_key(walk, chain, &mut body, depth, buffer)
            }
            _ => scan_member(walk, chain, &mut body, depth + 1, buffer),
        }
        if walk.check_running().is_err() {
            return;
        }
        if let Err(error) = drain(&mut body) {
            walk.fail_unless_reported(
                GapKind::Corrupt,
                chain,
                &format!("could not read OpenPGP packet {packets}"),
                &error,
            );
            return;
        }
    }
}

/// Longest secret key packet looked into (an RSA-16384 key is under 5 KiB); a longer one
/// is scanned as it is.
const MAX_KEY_PACKET: u64 = 64 << 10;

/// A secret key packet: scanned as it is, and an `encrypted` gap when a passphrase
/// protects its secret part.
fn read_secret_key(
    walk: &Walk,
    chain: &[String],
    body: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut packet = Vec::new();
    if let Err(error) = body.take(MAX_KEY_PACKET).read_to_end(&mut packet) {
        walk.fail_unless_reported(
            GapKind::Corrupt,
            chain,
            "could not read an OpenPGP secret key packet",
            &error,
        );
        return;
    }
    if keys::secret_part_is_protected(&packet) == Some(true) {
        walk.fail(
            GapKind::Encrypted,
            chain,
            "a passphrase-protected OpenPGP secret key: its secret part cannot be read \
             without the passphrase; the rest of the keyring was read"
                .to_string(),
        );
    }
    let mut rest = io::Cursor::new(packet).chain(body);
    scan_member(walk, chain, &mut rest, depth + 1, buffer);
}

/// A compressed packet: its algorithm byte, then the compressed packets.
fn read_compressed(
    walk: &Walk,
    chain: &[String],
    body: &mut Body,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut algorithm = [0u8; 1];
    if body.read_exact(&mut algorithm).is_err() {
        walk.fail(
            GapKind::Corrupt,
            chain,
            "an OpenPGP compressed packet is truncated".to_string(),
        );
        return;
    }
    let mut decoder: Box<dyn Read + '_> = match algorithm[0] {
        0 => Box::new(&mut *body),
        1 => Box::new(flate2::read::DeflateDecoder::new(&mut *body)),
        2 => Box::new(flate2::read::ZlibDecoder::new(&mut *body)),
        3 => Box::new(bzip2::read::BzDecoder::new(&mut *body)),
        other => {
            walk.fail(
                GapKind::Unsupported,
                chain,
                format!(
                    "an OpenPGP compressed packet uses compression algorithm {other}, which \
                     scour cannot decode; what it compresses was not read"
                ),
            );
            return;
        }
    };
    let mut decoded = Decoded::new(walk, chain, "openpgp compressed packet", &mut decoder);
    scan_member(walk, chain, &mut decoded, depth + 1, buffer);
    let _ = drain(&mut decoded);
}

/// A literal packet: a format byte, a file name, a date, then the data.
fn read_literal(
    walk: &Walk,
    chain: &[String],
    body: &mut Body,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut fields = [0u8; 2];
    let mut name = Vec::new();
    let mut date = [0u8; 4];
    let read = body.read_exact(&mut fields).and_then(|()| {
        name.resize(usize::from(fields[1]), 0);
        body.read_exact(&mut name)?;
        body.read_exact(&mut date)
    });
    if let Err(error) = read {
        walk.fail_unless_reported(
            GapKind::Corrupt,
            chain,
            "an OpenPGP literal packet is truncated",
            &error,
        );
        return;
    }
    // The stored file is named like an archive member (its name is checked like one);
    // `gpg --store` of standard input stores no name.
    let mut member = chain.to_vec();
    if !name.is_empty() {
        member.push(String::from_utf8_lossy(&name).into_owned());
        walk.entering(&member);
    }
    scan_member(walk, &member, body, depth + 1, buffer);
}

/// Reads one packet header; `None` at the end of the stream.
fn read_header(input: &mut dyn Read) -> io::Result<Option<Header>> {
    let mut bytes = [0u8; 6];
    if read_up_to(input, &mut bytes[..1])? == 0 {
        return Ok(None);
    }
    let more = match bytes[0] {
        b if b & 0x80 == 0 => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an OpenPGP packet (the tag byte's high bit is clear)",
            ))
        }
        b if b & 0x40 == 0 => match b & 0x03 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 0,
        },
        _ => {
            read_exact_or_truncated(input, &mut bytes[1..2])?;
            match bytes[1] {
                192..=223 => 1,
                255 => 4,
                _ => 0,
            }
        }
    };
    let start = if bytes[0] & 0x40 != 0 { 2 } else { 1 };
    read_exact_or_truncated(input, &mut bytes[start..start + more])?;
    parse_header(&bytes[..start + more])
        .map(Some)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad OpenPGP packet header"))
}

fn read_exact_or_truncated(input: &mut dyn Read, out: &mut [u8]) -> io::Result<()> {
    if read_up_to(input, out)? < out.len() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the OpenPGP message is truncated inside a packet header",
        ));
    }
    Ok(())
}

fn read_up_to(input: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < out.len() {
        match input.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// One packet's body, across partial lengths.
struct Body<'r> {
    input: &'r mut dyn Read,
    /// Bytes left in the current part (unused when indeterminate).
    left: u64,
    /// Another part follows the current one.
    partial: bool,
    indeterminate: bool,
    failed: bool,
}

impl<'r> Body<'r> {
    fn new(input: &'r mut dyn Read, length: Length) -> Body<'r> {
        let (left, partial, indeterminate) = match length {
            Length::Fixed(n) => (n, false, false),
            Length::Partial(n) => (n, true, false),
            Length::Indeterminate => (0, false, true),
        };
        Body {
            input,
            left,
            partial,
            indeterminate,
            failed: false,
        }
    }

    /// Reads the length of the next part.
    fn next_part(&mut self) -> io::Result<()> {
        let mut octets = [0u8; 5];
        read_exact_or_truncated(self.input, &mut octets[..1])?;
        let more = match octets[0] {
            192..=223 => 1,
            255 => 4,
            _ => 0,
        };
        read_exact_or_truncated(self.input, &mut octets[1..1 + more])?;
        let (length, _) = new_length(&octets[..1 + more]).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "bad OpenPGP partial body length",
            )
        })?;
        (self.left, self.partial) = match length {
            Length::Fixed(n) => (n, false),
            Length::Partial(n) => (n, true),
            Length::Indeterminate => (0, false),
        };
        Ok(())
    }
}

impl Read for Body<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            // The first error was recorded by whoever read it.
            return Err(io::Error::other(super::Reported));
        }
        let read = self.read_parts(out);
        self.failed = read.is_err();
        read
    }
}

impl Body<'_> {
    fn read_parts(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.indeterminate {
            return self.input.read(out);
        }
        while self.left == 0 {
            if !self.partial {
                return Ok(0);
            }
            self.next_part()?;
        }
        let want = out
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.input.read(&mut out[..want])?;
        if n == 0 && want > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the OpenPGP message is truncated inside a packet",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// De-armors a message and reads the binary message it holds.
fn dearmor(
    walk: &Walk,
    chain: &[String],
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut armor = Armor::new(input);
    {
        let mut decoded = Decoded::new(walk, chain, "openpgp armor", &mut armor);
        scan_member(walk, chain, &mut decoded, depth + 1, buffer);
        if drain(&mut decoded).is_err() || walk.check_running().is_err() {
            return;
        }
    }
    if let Some(problem) = armor.problem() {
        walk.fail(GapKind::Corrupt, chain, problem);
    }
}

/// The base64 body of an armored message, decoded as a stream.
struct Armor<'r> {
    input: BufReader<&'r mut dyn Read>,
    state: ArmorState,
    line: Vec<u8>,
    /// Base64 characters of an incomplete group of four, carried to the next line.
    carry: Vec<u8>,
    decoded: Vec<u8>,
    at: usize,
    crc: u32,
    stored_crc: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArmorState {
    /// Before the blank line that ends the armor headers.
    Headers,
    Body,
    /// After the checksum line or the END line.
    Done {
        ended: bool,
    },
}

impl<'r> Armor<'r> {
    fn new(input: &'r mut dyn Read) -> Armor<'r> {
        Armor {
            input: BufReader::new(input),
            state: ArmorState::Headers,
            line: Vec::new(),
            carry: Vec::new(),
            decoded: Vec::new(),
            at: 0,
            crc: CRC24_INIT,
            stored_crc: None,
        }
    }

    /// What was wrong with the armor once it was read, if anything.
    fn problem(&self) -> Option<String> {
        if self.state != (ArmorState::Done { ended: true }) {
            return Some("the armored OpenPGP message has no END line: it is truncated".into());
        }
        match self.stored_crc {
            Some(stored) if stored != self.crc & 0xFF_FFFF => Some(
                "the armored OpenPGP message's checksum does not match its content".to_string(),
            ),
            _ => None,
        }
    }

    /// Reads the next line into `self.line`, without its line ending; false at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let read = (&mut self.input)
            .take(MAX_ARMOR_LINE as u64 + 1)
            .read_until(b'\n', &mut self.line)?;
        if read == 0 {
            return Ok(false);
        }
        if self.line.len() > MAX_ARMOR_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an armor line longer than 64 KiB",
            ));
        }
        while self.line.last().is_some_and(|b| b.is_ascii_whitespace()) {
            self.line.pop();
        }
        Ok(true)
    }

    /// Decodes lines until some bytes are decoded or the armor ends.
    fn fill(&mut self) -> io::Result<()> {
        self.decoded.clear();
        self.at = 0;
        while self.decoded.is_empty() {
            if let ArmorState::Done { .. } = self.state {
                return Ok(());
            }
            if !self.next_line()? {
                self.state = ArmorState::Done { ended: false };
                return self.flush_carry();
            }
            match self.state {
                ArmorState::Headers => {
                    if self.line.starts_with(ARMOR_BEGIN) {
                        continue;
                    }
                    if self.line.is_empty() {
                        self.state = ArmorState::Body;
                    } else if !self.line.contains(&b':') {
                        // No blank line after the headers: this is already the body.
                        self.state = ArmorState::Body;
                        self.body_line()?;
                    }
                }
                ArmorState::Body => self.body_line()?,
                ArmorState::Done { .. } => {}
            }
        }
        Ok(())
    }

    fn body_line(&mut self) -> io::Result<()> {
        if self.line.starts_with(b"-----END PGP") {
            self.state = ArmorState::Done { ended: true };
            return self.flush_carry();
        }
        if self.line.len() == 5 && self.line[0] == b'=' {
            let mut crc = [0u8; 3];
            if base64::engine::general_purpose::STANDARD
                .decode_slice(&self.line[1..], &mut crc)
                .is_ok()
            {
                self.stored_crc =
                    Some((u32::from(crc[0]) << 16) | (u32::from(crc[1]) << 8) | u32::from(crc[2]));
            }
            self.flush_carry()?;
            // The END line follows the checksum.
            let ended = self.next_line()? && self.line.starts_with(b"-----END PGP");
            self.state = ArmorState::Done { ended };
            return Ok(());
        }
        let line = std::mem::take(&mut self.line);
        self.carry
            .extend(line.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        self.line = line;
        let whole = self.carry.len() / 4 * 4;
        if self.carry[..whole].contains(&b'=') {
            // Padding ends the data; take the rest at once.
            return self.flush_carry();
        }
        self.decode(whole)
    }

    /// Decodes the first `len` carried characters (a multiple of four).
    fn decode(&mut self, len: usize) -> io::Result<()> {
        let start = self.decoded.len();
        base64::engine::general_purpose::STANDARD
            .decode_vec(&self.carry[..len], &mut self.decoded)
            .map_err(|error| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad base64 in the armored OpenPGP message: {error}"),
                )
            })?;
        self.carry.drain(..len);
        self.crc = crc24(self.crc, &self.decoded[start..]);
        Ok(())
    }

    fn flush_carry(&mut self) -> io::Result<()> {
        let len = self.carry.len();
        if len == 0 {
            return Ok(());
        }
        self.decode(len)
    }
}

impl Read for Armor<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.decoded.len() {
            self.fill()?;
        }
        let n = out.len().min(self.decoded.len() - self.at);
        out[..n].copy_from_slice(&self.decoded[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

const CRC24_INIT: u32 = 0xB7_04CE;
const CRC24_POLY: u32 = 0x186_4CFB;

/// The armor checksum (RFC 9580 section 6.1), continued over `bytes`.
fn crc24(mut crc: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        crc ^= u32::from(byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= CRC24_POLY;
            }
        }
    }
    crc & 0xFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_both_formats_and_partial_lengths() {
        assert_eq!(
            parse_header(&[0xA3, 0x01]),
            Some(Header {
                tag: 8,
                length: Length::Indeterminate,
                size: 1
            })
        );
        assert_eq!(
            parse_header(&[0xAC, 0x10]).map(|h| (h.tag, h.length)),
            Some((11, Length::Fixed(16)))
        );
        assert_eq!(
            parse_header(&[0xCB, 0xC5, 0x02]).map(|h| (h.tag, h.length, h.size)),
            Some((11, Length::Fixed(((0xC5 - 192) << 8) + 2 + 192), 3))
        );
        assert_eq!(
            parse_header(&[0xCB, 0xED]).map(|h| h.length),
            Some(Length::Partial(1 << 13))
        );
        assert_eq!(parse_header(b"text"), None);
    }

    #[test]
    fn a_literal_packet_body_reads_across_partial_lengths() {
        // A partial part of 2 bytes (0xE1), then a final part of 3.
        let stream = [b'a', b'b', 0x03, b'c', b'd', b'e', 0xFF];
        let mut input = &stream[..];
        let mut body = Body::new(&mut input, Length::Partial(2));
        let mut out = Vec::new();
        body.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
        assert_eq!(input, [0xFF]);
    }

    #[test]
    fn a_short_stream_claiming_a_longer_literal_packet_is_not_a_message() {
        // Tag 11 (literal), length 40, format `b`, a one-byte name: the whole stream is 9
        // bytes, so it is no message, only bytes decoded from a word that look like one.
        let stream = b"\xCB\x28b\x01x\0\0\0\0";
        assert!(!super::starts_plain_message(stream));
        let mut whole = stream.to_vec();
        whole.extend_from_slice(&[b'.'; 34]);
        assert!(super::starts_plain_message(&whole));
    }

    #[test]
    fn plain_messages_are_recognised_and_others_are_not() {
        // gpg --store: a compressed packet (ZIP) around a literal packet.
        let mut literal = vec![0xCB, 0x0C, b'b', 0x01, b'f', 0, 0, 0, 0];
        literal.extend_from_slice(b"hello");
        let mut deflated = Vec::new();
        {
            use std::io::Write;
            let mut encoder =
                flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::default());
            encoder.write_all(&literal).unwrap();
        }
        let mut message = vec![0xA3, 0x01];
        message.extend_from_slice(&deflated);
        assert!(starts_plain_message(&message));
        assert!(starts_plain_message(&literal));
        assert!(!starts_plain_message(&[0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]));
        assert!(!starts_plain_message(&[0xCB, 0x0C, b'x', 0x01]));
        // Encrypted messages are not this layer's.
        assert!(!starts_plain_message(
            b"\x8C\x0D\x04\x07\x03\x02\x11\x22\x33\x44\x55\x66\x77\x88\x01"
        ));
        assert!(!starts_plain_message(b"plain text"));
    }

    #[test]
    fn an_armored_block_is_plain_unless_its_first_packet_is_encrypted() {
        let armored = |binary: &[u8]| {
            let body = base64::engine::general_purpose::STANDARD.encode(binary);
            format!("-----BEGIN PGP MESSAGE-----\n\n{body}\n-----END PGP MESSAGE-----\n")
        };
        let mut literal = vec![0xCB, 0x1A, b'b', 0x01, b'f', 0, 0, 0, 0];
        literal.extend_from_slice(b"hello, a literal packet");
        assert!(armored_message_is_plain(armored(&literal).as_bytes()));
        let session_key = b"\xC3\x0D\x04\x09\x03\x02\x11\x22\x33\x44\x55\x66\x77\x88\x01\x02";
        assert!(!armored_message_is_plain(armored(session_key).as_bytes()));
        // The marker named in code or documentation is no block at all.
        assert!(!armored_message_is_plain(
            b"const ARMOR: &str = \"-----BEGIN PGP MESSAGE-----\";"
        ));
    }

    #[test]
    fn armor_decodes_and_checks_its_crc() {
        let data = b"\xA3\x01some binary message bytes";
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        let crc = crc24(CRC24_INIT, data);
        let crc = base64::engine::general_purpose::STANDARD.encode([
            (crc >> 16) as u8,
            (crc >> 8) as u8,
            crc as u8,
        ]);
        let (first, second) = encoded.split_at(10);
        let text = format!(
            "-----BEGIN PGP MESSAGE-----\nComment: x\n\n{first}\n{second}\n={crc}\n-----END PGP MESSAGE-----\nafter"
        );
        let mut input = text.as_bytes();
        let mut armor = Armor::new(&mut input);
        let mut out = Vec::new();
        armor.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
        assert_eq!(armor.problem(), None);

        let damaged = text.replace(&format!("={crc}"), "=AAAA");
        let mut input = damaged.as_bytes();
        let mut armor = Armor::new(&mut input);
        armor.read_to_end(&mut Vec::new()).unwrap();
        assert!(armor.problem().is_some());
    }
}
