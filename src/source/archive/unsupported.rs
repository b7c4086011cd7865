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
        Magic::start(b"\x89LZO\x00\r\n\x1A\n", "lzop"),
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
    ],
};

#[cfg(test)]
mod tests {
    use super::super::format::{recognise, Class, Place};

    #[test]
    fn recognised_formats_without_a_decoder_are_unsupported() {
        for head in [
            &b"7z\xBC\xAF\x27\x1C\x00\x04"[..],
            b"Rar!\x1A\x07\x01\x00",
            b"\x89LZO\x00\r\n\x1A\n\x10",
        ] {
            let format = recognise(head, Place::Filesystem).expect("recognised");
            assert_eq!(format.class(), Class::Unsupported, "{head:?}");
        }
        let format = recognise(b"Rar!\x1A\x07\x01\x00", Place::Inside).unwrap();
        assert_eq!(format.name_at(b"Rar!\x1A\x07\x01\x00"), "rar");
        assert!(recognise(b"plain text, 7z and Rar! in the middle", Place::Inside).is_none());
    }
}
