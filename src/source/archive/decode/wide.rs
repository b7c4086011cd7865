//! UTF-16 and UTF-32 text (little or big endian, with or without a BOM), narrowed to ASCII.
//!
//! The automaton already finds the secret itself in UTF-16; this layer is for what UTF-16
//! or UTF-32 text holds in turn: base64 in a UTF-16LE `.reg` export or unattend file, a
//! JSON-escaped value in a UTF-32 dump. A run is ASCII text whose every character is
//! followed by one (UTF-16) or three (UTF-32) zero bytes; big-endian text is the same
//! alternation started one character later, so one finder per width reads both orders.
//! Plain files have no zero bytes, so a read without one costs a single `memchr`.

use super::{DecodedRun, Sink, RUN_BUDGET};

fn is_text(byte: u8) -> bool {
    byte.is_ascii_graphic() || matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) struct WideRuns {
    encoding: &'static str,
    /// Zero bytes after each character: 1 for UTF-16, 3 for UTF-32.
    zeros: usize,
    /// Zero bytes seen since the last character of the run.
    zeros_seen: usize,
    /// The previous byte was text (a run may start there).
    previous_text: Option<(u8, u64)>,
    start: u64,
    end: u64,
    decoded: Vec<u8>,
    in_run: bool,
    truncated: bool,
}

impl WideRuns {
    pub(crate) fn utf16() -> WideRuns {
        WideRuns::new("utf16", 1)
    }

    pub(crate) fn utf32() -> WideRuns {
        WideRuns::new("utf32", 3)
    }

    fn new(encoding: &'static str, zeros: usize) -> WideRuns {
        WideRuns {
            encoding,
            zeros,
            zeros_seen: 0,
            previous_text: None,
            start: 0,
            end: 0,
            decoded: Vec::new(),
            in_run: false,
            truncated: false,
        }
    }

    fn end_run(&mut self, sink: &mut Sink) {
        if !self.in_run {
            return;
        }
        self.in_run = false;
        let bytes = std::mem::take(&mut self.decoded);
        if bytes.len() >= sink.min_decoded() {
            sink.offer(DecodedRun {
                encoding: self.encoding,
                offset: self.start,
                encoded_len: self.end - self.start,
                bytes,
                truncated: std::mem::take(&mut self.truncated),
                map: Vec::new(),
            });
        }
    }

    fn byte(&mut self, byte: u8, at: u64, sink: &mut Sink) {
        if self.in_run {
            if byte == 0 && self.zeros_seen < self.zeros {
                self.zeros_seen += 1;
                self.end = at + 1;
                return;
            }
            if self.zeros_seen == self.zeros && is_text(byte) {
                self.zeros_seen = 0;
                self.end = at + 1;
                if self.decoded.len() < RUN_BUDGET {
                    self.decoded.push(byte);
                } else {
                    self.truncated = true;
                }
                return;
            }
            self.end_run(sink);
        }
        match (self.previous_text, byte) {
            (Some((text, start)), 0) => {
                self.in_run = true;
                self.start = start;
                self.end = at + 1;
                self.zeros_seen = 1;
                self.decoded.clear();
                self.decoded.push(text);
                self.previous_text = None;
            }
            _ => self.previous_text = is_text(byte).then_some((byte, at)),
        }
    }
}

impl super::RunFinder for WideRuns {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        let mut i = 0;
        while i < bytes.len() {
            if !self.in_run {
                // Outside a run only a zero byte right after a text byte can start one, so
                // the bytes up to the next zero only matter through the last of them: binary
                // data (a zero every few hundred bytes) costs a `memchr`, not a walk.
                let Some(zero) = memchr::memchr(0, &bytes[i..]).map(|z| i + z) else {
                    let last = bytes.len() - 1;
                    self.previous_text =
                        is_text(bytes[last]).then_some((bytes[last], at + last as u64));
                    return;
                };
                if zero > i {
                    let before = bytes[zero - 1];
                    self.previous_text = is_text(before).then_some((before, at + zero as u64 - 1));
                }
                i = zero;
            }
            self.byte(bytes[i], at + i as u64, sink);
            i += 1;
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        self.end_run(sink);
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"AKIAQ7ZT3MPLX9RWV2KD";

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn base64_inside_utf16le_text_is_found() {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode([b"aws_secret=".as_slice(), SECRET].concat());
        let mut sample = vec![0xFF, 0xFE];
        sample.extend(utf16le(&format!(
            "Windows Registry Editor Version 5.00\r\n\r\n\"Token\"=\"{encoded}\"\r\n"
        )));
        assert!(memchr::memmem::find(&sample, SECRET).is_none());
        let places = scan_memory(SECRET, "export.reg", &sample).places();
        assert_eq!(places.len(), 1, "{places:?}");
        // The narrowed text holds the secret's base64, which the automaton knows.
        assert_eq!(places[0].0, "export.reg › utf16@2", "{places:?}");
        assert_eq!(places[0].1, "base64");
    }

    #[test]
    fn utf32_text_is_narrowed_and_reported_once() {
        for big_endian in [false, true] {
            let text = format!("key = {}\n", String::from_utf8_lossy(SECRET));
            let sample: Vec<u8> = text
                .chars()
                .flat_map(|c| {
                    if big_endian {
                        (c as u32).to_be_bytes()
                    } else {
                        (c as u32).to_le_bytes()
                    }
                })
                .collect();
            let places = scan_memory(SECRET, "dump.bin", &sample).places();
            assert_eq!(places.len(), 1, "big endian {big_endian}: {places:?}");
            assert!(places[0].0.starts_with("dump.bin › utf32@"), "{places:?}");
        }
    }

    #[test]
    fn utf16_the_automaton_finds_is_not_reported_twice() {
        let sample = utf16le(&format!("k={}\n", String::from_utf8_lossy(SECRET)));
        let places = scan_memory(SECRET, "w.txt", &sample).places();
        assert_eq!(places, [("w.txt".to_string(), "utf16le".to_string())]);
    }
}
