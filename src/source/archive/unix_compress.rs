//! UNIX `compress` streams (`.Z`, magic `1F 9D`): LZW, decoded as `gzip -d` and
//! `uncompress` do.
//!
//! Old tape and log archives (`.tar.Z`), and tools that still write `compress -c`, store
//! text this way; until it was read, every `.Z` file was an `unsupported` gap.
//!
//! The format, as ncompress writes it: a third header byte holds the largest code width
//! (9 to 16 bits) and the block-mode flag (`0x80`: code 256 clears the table). Codes are
//! packed least significant bit first, starting 9 bits wide and growing by one each time the
//! table fills its width. The compressor writes codes in groups of eight (one group of
//! `width` bytes), and when the width grows, or the table is cleared, it pads the group it
//! is in; the decoder skips those padding codes. The KwKwK case (a code not yet in the
//! table, the previous string plus its own first byte) is the one subtle step.

use std::io::{self, Read};

/// The header: magic, then the flags byte.
pub(crate) const MAGIC: &[u8] = b"\x1F\x9D";
const BLOCK_MODE: u8 = 0x80;
const MAX_BITS_MASK: u8 = 0x1F;
/// Bits the format leaves unused; a stream that sets them is not one ncompress can read.
const RESERVED: u8 = 0x60;
const INITIAL_BITS: u32 = 9;
const CLEAR: u32 = 256;
/// Codes in one group: a group of `width` codes of `width` bits is `width` bytes.
const GROUP: u32 = 8;

/// Whether `head` starts a `.Z` stream with a header ncompress writes.
pub(crate) fn recognise(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
        && head.get(2).is_some_and(|&flags| {
            let max_bits = flags & MAX_BITS_MASK;
            flags & RESERVED == 0 && (INITIAL_BITS as u8..=16).contains(&max_bits)
        })
}

/// The decoded bytes of a `.Z` stream.
pub(crate) struct Decoder<R> {
    input: R,
    started: bool,
    block_mode: bool,
    max_bits: u32,
    width: u32,
    /// Largest code at the current width, past which the width grows: `2^width - 1`, or
    /// `2^max_bits` at the largest width (as ncompress and gzip set it).
    width_limit: u32,
    /// Codes read at the current width, modulo [`GROUP`].
    in_group: u32,
    bits: u64,
    bit_count: u32,
    input_ended: bool,
    /// Prefix code and last byte of each table entry (codes 257 on; 0 to 255 are bytes).
    prefix: Vec<u16>,
    suffix: Vec<u8>,
    next_free: u32,
    previous: Option<u32>,
    first_byte: u8,
    /// The last batch of decoded bytes, as far as it was handed out.
    decoded: io::Cursor<Vec<u8>>,
    finished: bool,
}

impl<R: Read> Decoder<R> {
    pub(crate) fn new(input: R) -> Decoder<R> {
        Decoder {
            input,
            started: false,
            block_mode: false,
            max_bits: 16,
            width: INITIAL_BITS,
            width_limit: (1 << INITIAL_BITS) - 1,
            in_group: 0,
            bits: 0,
            bit_count: 0,
            input_ended: false,
            prefix: vec![0; 1 << 16],
            suffix: (0..1u32 << 16).map(|code| code as u8).collect(),
            next_free: 256,
            previous: None,
            first_byte: 0,
            decoded: io::Cursor::new(Vec::new()),
            finished: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        let mut header = [0u8; 3];
        self.input.read_exact(&mut header)?;
        if !recognise(&header) {
            return Err(corrupt("not a compress (.Z) header"));
        }
        self.block_mode = header[2] & BLOCK_MODE != 0;
        self.max_bits = u32::from(header[2] & MAX_BITS_MASK);
        self.next_free = if self.block_mode { CLEAR + 1 } else { CLEAR };
        self.started = true;
        Ok(())
    }

    /// The next `width` bits, or `None` at the end of the input (a last, partial code is
    /// the padding of the final byte).
    fn bits(&mut self, width: u32) -> io::Result<Option<u32>> {
        while self.bit_count < width && !self.input_ended {
            let mut byte = [0u8; 1];
            match self.input.read(&mut byte) {
                Ok(0) => self.input_ended = true,
                Ok(_) => {
                    self.bits |= u64::from(byte[0]) << self.bit_count;
                    self.bit_count += 8;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.bit_count < width {
            return Ok(None);
        }
        let value = (self.bits & ((1 << width) - 1)) as u32;
        self.bits >>= width;
        self.bit_count -= width;
        Ok(Some(value))
    }

    /// Skips the codes that pad the current group (the width grows or the table is
    /// cleared), as the compressor wrote them.
    fn skip_group_padding(&mut self) -> io::Result<()> {
        if self.in_group != 0 {
            for _ in self.in_group..GROUP {
                if self.bits(self.width)?.is_none() {
                    break;
                }
            }
        }
        self.in_group = 0;
        Ok(())
    }

    /// Decodes the next code onto the batch in `decoded`; false at the end of the stream.
    fn step(&mut self) -> io::Result<bool> {
        if self.next_free > self.width_limit {
            self.skip_group_padding()?;
            self.width += 1;
            self.width_limit = if self.width == self.max_bits {
                1 << self.max_bits
            } else {
                (1 << self.width) - 1
            };
        }
        let Some(code) = self.bits(self.width)? else {
            return Ok(false);
        };
        self.in_group = (self.in_group + 1) % GROUP;
        let Some(previous) = self.previous else {
            if code >= CLEAR {
                return Err(corrupt(
                    "the first code of a compress (.Z) stream is not a byte",
                ));
            }
            self.previous = Some(code);
            self.first_byte = code as u8;
            self.decoded.get_mut().push(code as u8);
            return Ok(true);
        };
        if code == CLEAR && self.block_mode {
            self.skip_group_padding()?;
            self.next_free = CLEAR;
            self.width = INITIAL_BITS;
            self.width_limit = (1 << INITIAL_BITS) - 1;
            return Ok(true);
        }
        let start = self.decoded.get_ref().len();
        let mut string = code;
        if code >= self.next_free {
            if code > self.next_free {
                return Err(corrupt("a compress (.Z) code points past its table"));
            }
            // KwKwK: the previous string and its own first byte.
            self.decoded.get_mut().push(self.first_byte);
            string = previous;
        }
        // A string is never longer than the table; a chain that is was made by a damaged
        // stream (never loop on one).
        let mut steps = 0;
        while string >= CLEAR {
            self.decoded.get_mut().push(self.suffix[string as usize]);
            string = u32::from(self.prefix[string as usize]);
            steps += 1;
            if steps > 1 << 16 {
                return Err(corrupt("a compress (.Z) string runs in a circle"));
            }
        }
        self.first_byte = string as u8;
        self.decoded.get_mut().push(self.first_byte);
        self.decoded.get_mut()[start..].reverse();
        if self.next_free < 1 << self.max_bits {
            self.prefix[self.next_free as usize] = previous as u16;
            self.suffix[self.next_free as usize] = self.first_byte;
            self.next_free += 1;
        }
        self.previous = Some(code);
        Ok(true)
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.header()?;
        }
        loop {
            let n = self.decoded.read(out)?;
            if n > 0 || out.is_empty() || self.finished {
                return Ok(n);
            }
            self.decoded.get_mut().clear();
            self.decoded.set_position(0);
            // Decode a batch, so a read is not a call per code.
            while self.decoded.get_ref().len() < out.len() {
                if !self.step()? {
                    self.finished = true;
                    break;
                }
            }
        }
    }
}

fn corrupt(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Decoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    /// `echo hello | compress -c`, written by ncompress 5.0.
    #[test]
    fn a_stream_from_compress_is_decoded() {
        let stream = b"\x1f\x9d\x90\x68\xca\xb0\x61\xf3\x46\x01";
        assert_eq!(decode(stream).unwrap(), b"hello\n");
    }

    /// What `compress -b BITS` writes decodes to its input, at every code width, for text,
    /// noise (the table fills and is cleared) and runs (KwKwK codes). Not `-b 9`:
    /// ncompress's own `uncompress` and `gzip -d` reject what it writes then.
    #[test]
    fn compress_output_round_trips_at_every_width() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let found = Command::new("sh")
            .args(["-c", "command -v compress"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "compress is needed (.ci/run)"
            );
            return;
        }
        let mut seed = 3u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut input = Vec::new();
        let words: [&[u8]; 6] = [
            b"token ",
            b"error ",
            b"value\n",
            b"GET /api ",
            b"200 ",
            b"id=",
        ];
        while input.len() < 200_000 {
            input.extend_from_slice(words[(next() % 6) as usize]);
        }
        input.extend((0..150_000).map(|_| next() as u8));
        input.extend(std::iter::repeat_n(b'a', 70_000));
        input.extend_from_slice(b"abababababababab the end");
        for bits in 10..=16 {
            let mut child = Command::new("compress")
                .args(["-c", "-f", "-b", &bits.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let feed = input.clone();
            let writer = std::thread::spawn(move || stdin.write_all(&feed));
            let output = child.wait_with_output().unwrap();
            writer.join().unwrap().unwrap();
            assert!(recognise(&output.stdout), "-b {bits}");
            let decoded = decode(&output.stdout).unwrap();
            let first_difference = decoded.iter().zip(&input).position(|(a, b)| a != b);
            assert!(
                decoded == input,
                "-b {bits}: {} of {} bytes, first difference at {first_difference:?}",
                decoded.len(),
                input.len()
            );
        }
    }

    #[test]
    fn headers_are_told_apart() {
        assert!(recognise(b"\x1f\x9d\x90"));
        assert!(recognise(b"\x1f\x9d\x10"));
        assert!(!recognise(b"\x1f\x9d\x08")); // 8-bit codes: never written
        assert!(!recognise(b"\x1f\x9d\xf0")); // reserved bits
        assert!(!recognise(b"\x1f\x8b\x08"));
        assert!(decode(b"\x1f\x9d").is_err());
    }

    #[test]
    fn a_code_past_the_table_is_an_error_not_a_panic() {
        // 9-bit codes: 'a' (97), then 300, past the one entry 'a' could have made.
        let codes = [97u32, 300];
        let mut bits = 0u64;
        for (i, code) in codes.iter().enumerate() {
            bits |= u64::from(*code) << (9 * i);
        }
        let mut stream = b"\x1f\x9d\x90".to_vec();
        stream.extend_from_slice(&bits.to_le_bytes()[..3]);
        assert!(decode(&stream).is_err());
    }
}
