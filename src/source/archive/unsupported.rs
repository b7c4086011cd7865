//! Formats scour recognises but cannot decode: each one met is an `unsupported` gap naming
//! it, because what it compresses or packs cannot be proven free of the secret. The raw
//! bytes are still scanned. When a format gains a decoder it moves out of this table into
//! a file of its own in the registry ([`super::format::FORMATS`]).

use super::format::{Class, Magic, MagicTable};

pub(crate) static UNSUPPORTED: MagicTable = MagicTable {
    class: Class::Unsupported,
    entries: &[
        // A 7z whose start header fails its CRC, or of a later major version (sevenz.rs
        // reads the others).
        Magic::start(b"7z\xBC\xAF\x27\x1C", "7z"),
        Magic::start(b"Rar!\x1A\x07", "rar"),
        // A `.Z` header ncompress does not write (compressed.rs reads the others).
        Magic::start(b"\x1F\x9D", "unix compress (.Z)"),
        Magic::start(b"\x1F\xA0", "lzh compress"),
        Magic::start(b"BZ3v1", "bzip3"),
        Magic::start(b"LRZI", "lrzip"),
        Magic::start(b"bvx2", "lzfse"),
        Magic::start(b"bvxn", "lzvn"),
        Magic::start(b"\xCA\xFE\xD0\x0D", "pack200"),
        Magic::start(b"SZDD\x88\xF0\x27\x33", "ms compress (SZDD)"),
        Magic::start(b"KWAJ\x88\xF0\x27\xD1", "ms compress (KWAJ)"),
        Magic::start(b"MSCF\0\0\0\0", "cab"),
        Magic::start(b"ITSF\x03\x00\x00\x00", "chm"),
        Magic::start(b"MSWIM\0\0\0", "wim"),
        // An rpm lead not followed by a signature header (rpm.rs reads the others).
        Magic::start(b"\xED\xAB\xEE\xDB", "rpm"),
        Magic::start(b"xar!", "xar"),
        Magic::start(b"hsqs", "squashfs"),
        Magic::start(b"sqsh", "squashfs"),
        Magic::start(b"\x45\x3D\xCD\x28", "cramfs"),
        // A zisofs file whose header zisofs.rs does not accept.
        Magic::start(b"\x37\xE4\x53\x96\xC9\xDB\xD6\x07", "zisofs"),
        Magic::at(7, b"**ACE**", "ace"),
        Magic::start(b"StuffIt ", "stuffit"),
        Magic::start(b"SIT!\0", "stuffit"),
        Magic::start(b"zPQ", "zpaq"),
        // zpaq 7's journaling archives start with a block locator tag before `zPQ`.
        Magic::start(b"7kSt\xA0\x31\x83\xD3\x8C\xB2\x28\xB0\xD3zPQ", "zpaq"),
        Magic::checked(0, b"RZIP", "rzip", |head| {
            head.get(4).is_some_and(|&v| v <= 2)
        }),
        Magic::checked(0, b"\x60\xEA", "arj", arj_main_header),
        Magic::checked(2, b"-lh", "lha", lha_header),
        Magic::checked(2, b"-lz", "lha", lha_header),
        Magic::checked(2, b"-pm", "lha", lha_header),
        Magic::checked(0, b"ZOO ", "zoo", |head| {
            head.get(20..24) == Some(b"\xDC\xA7\xC4\xFD")
        }),
        // A dar slice: its magic number, a 10-byte label, the slice flag and extension.
        Magic::checked(0, b"\0\0\0\x7B", "dar", |head| {
            matches!(head.get(14), Some(b'T' | b'N'))
                && matches!(head.get(15), Some(b'N' | b'S' | b'T'))
        }),
        Magic::start(b"\x06\x22\x4D\x18", "lizard"),
        Magic::start(b"\x8F\xAF\xAC\x84", "ppmd (var.H)"),
        Magic::start(b"ISc(", "installshield cab"),
        Magic::start(b"KGB_arch", "kgb"),
        Magic::start(b"ArC\x01", "freearc"),
        Magic::checked(0, b"\x1F\x1E", "pack", |head| head.len() > 6),
        // A Flash movie compressed with LZMA (no LZMA header of its own).
        Magic::checked(0, b"ZWS", "swf (lzma)", |head| {
            head.get(3).is_some_and(|&v| (13..60).contains(&v))
        }),
        // The first header of an NSIS installer's data (after its executable stub, where
        // [`super::carve`] finds it): zlib, bzip2 or LZMA without their own headers.
        Magic::checked(4, b"\xEF\xBE\xAD\xDENullsoftInst", "nsis", |head| {
            head.get(..4).is_some_and(|flags| {
                u32::from_le_bytes([flags[0], flags[1], flags[2], flags[3]]) < 0x100
            })
        }),
    ],
};

/// An ARJ main header: its basic header size (at most 2600 bytes), a first-header size
/// of at least 30 and the file type 2 (the archive's own header).
fn arj_main_header(head: &[u8]) -> bool {
    match head {
        [_, _, low, high, first, _, _, _, _, _, kind, ..] => {
            let size = u16::from_le_bytes([*low, *high]);
            (30..=2600).contains(&size) && *first >= 30 && *kind == 2
        }
        _ => false,
    }
}

/// An LHA member header: `-lh?-` (or `-lz?-`, `-pm?-`) at byte 2 and a header level of at
/// most 3 at byte 20.
fn lha_header(head: &[u8]) -> bool {
    head.get(6) == Some(&b'-') && head.get(20).is_some_and(|&level| level <= 3)
}

#[cfg(test)]
mod tests {
    use super::super::format::{recognise, Class, Place};

    #[test]
    fn recognised_formats_without_a_decoder_are_unsupported() {
        for head in [
            &b"7z\xBC\xAF\x27\x1C\x00\x04"[..],
            b"Rar!\x1A\x07\x01\x00",
            b"\x1F\x9D\x08",
        ] {
            let format = recognise(head, Place::Filesystem).expect("recognised");
            assert_eq!(format.class(), Class::Unsupported, "{head:?}");
        }
        let format = recognise(b"Rar!\x1A\x07\x01\x00", Place::Inside).unwrap();
        assert_eq!(format.name_at(b"Rar!\x1A\x07\x01\x00"), "rar");
        assert!(recognise(b"plain text, 7z and Rar! in the middle", Place::Inside).is_none());
    }
}
