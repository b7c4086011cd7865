//! Media formats: compressed pixels and samples (JPEG, PNG, MP4, fonts ...). They are read
//! raw like any file (metadata such as EXIF or text chunks still gets scanned and carved),
//! but their high-entropy bytes are not counted as opaque content: no text hides in an
//! image's entropy-coded data, and calling every photo "unreadable" would make no scan
//! of an ordinary tree complete.

use super::format::{Class, Magic, MagicTable};

pub(crate) static INERT: MagicTable = MagicTable {
    class: Class::Inert,
    entries: &[
        Magic::start(b"\xFF\xD8\xFF", "jpeg"),
        Magic::start(b"\x89PNG\r\n\x1A\n", "png"),
        Magic::start(b"GIF87a", "gif"),
        Magic::start(b"GIF89a", "gif"),
        Magic::at(8, b"WEBP", "webp"),
        Magic::at(8, b"WAVE", "wav"),
        Magic::at(8, b"AVI ", "avi"),
        Magic::at(8, b"AIFF", "aiff"),
        Magic::at(4, b"ftyp", "iso media (mp4, mov, heic, avif)"),
        Magic::start(b"\x1A\x45\xDF\xA3", "matroska/webm"),
        Magic::start(b"ID3", "mp3"),
        Magic::start(b"\xFF\xFB", "mp3"),
        Magic::start(b"\xFF\xF3", "mp3"),
        Magic::start(b"\xFF\xF2", "mp3"),
        Magic::start(b"\xFF\xF1", "aac"),
        Magic::start(b"\xFF\xF9", "aac"),
        Magic::start(b"OggS", "ogg"),
        Magic::start(b"fLaC", "flac"),
        Magic::start(b"FLV\x01", "flv"),
        Magic::start(b"\x30\x26\xB2\x75\x8E\x66\xCF\x11", "asf/wmv"),
        Magic::start(b"wOFF", "woff"),
        Magic::start(b"wOF2", "woff2"),
        Magic::start(b"\x00\x01\x00\x00\x00", "truetype"),
        Magic::start(b"OTTO", "opentype"),
        Magic::start(b"II*\x00", "tiff"),
        Magic::start(b"MM\x00*", "tiff"),
        Magic::start(b"8BPS", "psd"),
        Magic::start(b"\x00\x00\x00\x0CjP  ", "jpeg 2000"),
        Magic::start(b"\x00\x00\x00\x0CJXL ", "jpeg xl"),
        Magic::start(b"\xFF\x0A", "jpeg xl"),
    ],
};
