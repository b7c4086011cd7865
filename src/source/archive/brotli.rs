//! brotli streams (`.br` files: precompressed web assets, `Content-Encoding: br` bodies
//! saved by caches and proxies), decoded as a stream.
//!
//! brotli has no magic number: its first bits are a window size, and almost any bytes
//! start a plausible stream. So a stream is taken as brotli only when its name says so
//! (`.br`) and a trial decode of its first bytes agrees: the head must decode without an
//! error, and must not be text. Large-window streams (`brotli --large_window`, windows up to
//! 1 GiB, not valid `Content-Encoding: br`) are not taken, so a decoder never needs more
//! than the standard 16 MiB window. Found by name only: a brotli body inside another file
//! (an HTTP cache entry holding headers and body) is not carved out of it.

use std::fs::File;
use std::io::Read;

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};

use super::compressed::{self, Codec};
use super::format::{Format, Place};
use super::Walk;
use crate::matcher::ScanBuffer;

/// The decoder's input buffer.
const DECODER_BUFFER: usize = 64 << 10;
/// A trial decode stops, believing the stream, after this much output.
const TRIAL_OUTPUT: usize = 256 << 10;

static CODEC: Codec = Codec {
    name: "brotli",
    recognise: |_| false,
    decoder: |input| {
        Ok(Box::new(brotli_decompressor::Decompressor::new(
            input,
            DECODER_BUFFER,
        )))
    },
    single: |input| {
        Ok(Box::new(brotli_decompressor::Decompressor::new(
            input,
            DECODER_BUFFER,
        )))
    },
    single_exact: None,
    header_text: None,
};

pub(crate) static BROTLI: Brotli = Brotli;

pub(crate) struct Brotli;

impl Format for Brotli {
    fn name(&self) -> &'static str {
        "brotli"
    }

    fn recognise(&self, _head: &[u8], _place: Place) -> bool {
        false
    }

    fn recognise_named(&self, head: &[u8], name: &str) -> bool {
        let named = name.len() > 3
            && name.is_char_boundary(name.len() - 3)
            && name[name.len() - 3..].eq_ignore_ascii_case(".br");
        named && !head.is_empty() && !is_text(head) && !large_window(head) && trial_decodes(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        compressed::scan(walk, chain, &CODEC, reader, depth, buffer)
    }

    fn open_file(
        &self,
        walk: &Walk,
        chain: &[String],
        file: &File,
        buffer: &mut ScanBuffer,
    ) -> bool {
        compressed::scan_file(walk, chain, &CODEC, file, buffer);
        true
    }
}

/// Printable text (and a stream of a few bytes can be both): a `.br` file that is text was
/// not compressed, and is scanned as it is.
fn is_text(head: &[u8]) -> bool {
    head.len() >= 8
        && head
            .iter()
            .all(|&b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7E))
}

/// Whether the stream header asks for a large window (RFC 7932 extension: WBITS code
/// `0010001`, then 6 bits of window size).
fn large_window(head: &[u8]) -> bool {
    head.first().is_some_and(|&first| first & 0x7F == 0x11)
}

/// Decodes the head: it must end the stream cleanly, run out of input without an error,
/// or produce [`TRIAL_OUTPUT`] bytes first.
fn trial_decodes(head: &[u8]) -> bool {
    let mut state = BrotliState::new(
        StandardAlloc::default(),
        StandardAlloc::default(),
        StandardAlloc::default(),
    );
    let mut output = vec![0u8; 16 << 10];
    let mut available_in = head.len();
    let mut input_offset = 0;
    let mut total_out = 0;
    loop {
        let mut available_out = output.len();
        let mut output_offset = 0;
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            head,
            &mut available_out,
            &mut output_offset,
            &mut output,
            &mut total_out,
            &mut state,
        );
        match result {
            BrotliResult::ResultSuccess => return total_out > 0 || head.len() <= 8,
            BrotliResult::NeedsMoreInput => return true,
            BrotliResult::NeedsMoreOutput if total_out < TRIAL_OUTPUT => continue,
            BrotliResult::NeedsMoreOutput => return true,
            BrotliResult::ResultFailure => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf 'hello hello hello hello\n' | brotli -c`
    const HELLO: &[u8] = &[
        0x1F, 0x17, 0x00, 0xF8, 0x8D, 0x94, 0x6E, 0xDE, 0x44, 0x55, 0x86, 0xD6, 0x0A, 0x20, 0x6C,
        0x6F, 0x4A, 0x11, 0x79, 0xE2, 0x80, 0xAE, 0x16,
    ];

    #[test]
    fn recognised_only_by_name_and_a_trial_decode() {
        assert!(BROTLI.recognise_named(HELLO, "site/app.js.br"));
        assert!(BROTLI.recognise_named(HELLO, "APP.BR"));
        assert!(!BROTLI.recognise_named(HELLO, "app.js"));
        assert!(!BROTLI.recognise(HELLO, Place::Inside));
        assert!(!BROTLI.recognise_named(b"just some text in a .br file\n", "notes.br"));
        assert!(!BROTLI.recognise_named(&[0xFF; 64], "random.br"));
    }

    #[test]
    fn decodes_what_the_tool_wrote() {
        let mut decoder = CODEC.decoder(HELLO).unwrap();
        let mut out = Vec::new();
        decoder.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello hello hello hello\n");
    }
}
