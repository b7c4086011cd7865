//! lzop files (`.lzo`, magic `\x89LZO\0\r\n\x1a\n`): LZO1X blocks, decoded block by block.
//!
//! lzop is what kernel builds, embedded firmware and some backup scripts (`tar --lzop`)
//! compress with; until it was read, every `.lzo` file was an `unsupported` gap. The file
//! is a header (version, method, flags, the original name, which is checked as a name:
//! `location.in` `lzop-name`), then blocks, each its decoded and stored lengths and the
//! checksums the flags ask for, then the bytes: stored as they are when no shorter, else
//! LZO1X (all three lzop methods, `-1` to `-9`, decode with it; `lzokay-native`). A zero
//! decoded length ends the file; another file may follow (files concatenated). A method
//! lzop does not write, a block larger than lzop allows, one that does not decode to its
//! length, or bytes after the end that are not another file are an error (the caller's
//! gap). The header's extra field, if any, is checked as text like the name (`lzop-extra`).

use std::io::{self, Read};

use super::compressed::HeaderSink;

pub(crate) const MAGIC: &[u8] = b"\x89LZO\x00\r\n\x1A\n";

/// Header flags (lzop's `F_*`).
const ADLER32_DECODED: u32 = 0x0001;
const ADLER32_COMPRESSED: u32 = 0x0002;
const EXTRA_FIELD: u32 = 0x0040;
const CRC32_DECODED: u32 = 0x0100;
const CRC32_COMPRESSED: u32 = 0x0200;
const FILTER: u32 = 0x0800;
/// Largest block lzop writes (its `MAX_BLOCK_SIZE`).
const MAX_BLOCK: u32 = 64 << 20;
/// The LZO1X methods lzop writes: `-1` (the default), `-1` with 15-bit tables, `-7`/`-9`.
const LZO1X_METHODS: [u8; 3] = [1, 2, 3];
/// Version from which the header holds the version needed, a level and the high mtime.
const VERSION_WITH_LEVEL: u16 = 0x0940;

pub(crate) fn recognise(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The decoded bytes of an lzop file.
pub(crate) struct Decoder<'r> {
    input: Box<dyn Read + 'r>,
    names: Option<HeaderSink<'r>>,
    flags: u32,
    started: bool,
    finished: bool,
    /// The current block's decoded bytes, as far as they were handed out.
    block: io::Cursor<Vec<u8>>,
}

impl<'r> Decoder<'r> {
    pub(crate) fn new(input: Box<dyn Read + 'r>, names: Option<HeaderSink<'r>>) -> Decoder<'r> {
        Decoder {
            input,
            names,
            flags: 0,
            started: false,
            finished: false,
            block: io::Cursor::new(Vec::new()),
        }
    }

    /// Reads a header, the magic number included.
    fn header(&mut self) -> io::Result<()> {
        let mut magic = [0u8; 9];
        self.input.read_exact(&mut magic)?;
        if magic != MAGIC {
            return Err(invalid("not an lzop header"));
        }
        self.header_after_magic()
    }

    fn header_after_magic(&mut self) -> io::Result<()> {
        let version = self.u16()?;
        let _library_version = self.u16()?;
        if version >= VERSION_WITH_LEVEL {
            let _version_needed = self.u16()?;
        }
        let method = self.u8()?;
        if !LZO1X_METHODS.contains(&method) {
            return Err(unsupported(&format!(
                "lzop method {method} (lzop writes LZO1X, methods 1 to 3)"
            )));
        }
        if version >= VERSION_WITH_LEVEL {
            let _level = self.u8()?;
        }
        self.flags = self.u32()?;
        if self.flags & FILTER != 0 {
            let _filter = self.u32()?;
        }
        let _mode = self.u32()?;
        let _mtime_low = self.u32()?;
        if version >= VERSION_WITH_LEVEL {
            let _mtime_high = self.u32()?;
        }
        let name_len = self.u8()?;
        let mut name = vec![0u8; usize::from(name_len)];
        self.input.read_exact(&mut name)?;
        if let Some(names) = &mut self.names {
            if !name.is_empty() {
                names("lzop-name", &name);
            }
        }
        let _header_checksum = self.u32()?;
        if self.flags & EXTRA_FIELD != 0 {
            // Bytes of the header like the name: checked as text, never skipped unread.
            let len = self.u32()?;
            let mut extra = Vec::new();
            (&mut self.input)
                .take(u64::from(len))
                .read_to_end(&mut extra)?;
            if extra.len() != len as usize {
                return Err(invalid("an lzop header's extra field is cut short"));
            }
            if let Some(names) = &mut self.names {
                names("lzop-extra", &extra);
            }
            let _extra_checksum = self.u32()?;
        }
        Ok(())
    }

    /// After a file's end marker: the end of the input, or the next file's header (files
    /// written one after another, `cat a.lzo b.lzo`). Anything else is an error, never
    /// bytes left unread.
    fn next_file(&mut self) -> io::Result<bool> {
        let mut magic = Vec::with_capacity(MAGIC.len());
        (&mut self.input)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut magic)?;
        if magic.is_empty() {
            return Ok(false);
        }
        if magic != MAGIC {
            return Err(invalid("bytes follow the end of an lzop file"));
        }
        self.header_after_magic()?;
        Ok(true)
    }

    /// Reads the next block into `block`; false after the last.
    fn next_block(&mut self) -> io::Result<bool> {
        let mut decoded_len = self.u32()?;
        while decoded_len == 0 {
            if !self.next_file()? {
                return Ok(false);
            }
            decoded_len = self.u32()?;
        }
        let stored_len = self.u32()?;
        if decoded_len > MAX_BLOCK || stored_len > decoded_len {
            return Err(invalid("an lzop block is larger than lzop writes"));
        }
        for flag in [ADLER32_DECODED, CRC32_DECODED] {
            if self.flags & flag != 0 {
                let _checksum = self.u32()?;
            }
        }
        if stored_len < decoded_len {
            for flag in [ADLER32_COMPRESSED, CRC32_COMPRESSED] {
                if self.flags & flag != 0 {
                    let _checksum = self.u32()?;
                }
            }
        }
        let mut stored = vec![0u8; stored_len as usize];
        self.input.read_exact(&mut stored)?;
        let block = if stored_len == decoded_len {
            stored
        } else {
            let decoded = lzokay_native::decompress_all(&stored, Some(decoded_len as usize))
                .map_err(|e| invalid(&format!("an lzop block does not decode: {e}")))?;
            if decoded.len() != decoded_len as usize {
                return Err(invalid(
                    "an lzop block decodes to another length than it says",
                ));
            }
            decoded
        };
        self.block = io::Cursor::new(block);
        Ok(true)
    }

    fn u8(&mut self) -> io::Result<u8> {
        let mut byte = [0u8; 1];
        self.input.read_exact(&mut byte)?;
        Ok(byte[0])
    }

    fn u16(&mut self) -> io::Result<u16> {
        let mut bytes = [0u8; 2];
        self.input.read_exact(&mut bytes)?;
        Ok(u16::from_be_bytes(bytes))
    }

    fn u32(&mut self) -> io::Result<u32> {
        let mut bytes = [0u8; 4];
        self.input.read_exact(&mut bytes)?;
        Ok(u32::from_be_bytes(bytes))
    }
}

impl Read for Decoder<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.started = true;
            self.header()?;
        }
        loop {
            let n = self.block.read(out)?;
            if n > 0 || out.is_empty() || self.finished {
                return Ok(n);
            }
            if !self.next_block()? {
                self.finished = true;
            }
        }
    }
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

fn unsupported(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, why.to_string())
}
