//! Bytes written as a list of numbers: JSON arrays (Node's `JSON.stringify` of a `Buffer`,
//! `{"type":"Buffer","data":[120,32,...]}`), Python's `list(b"...")` and `bytes((...))`, C
//! arrays from `xxd -i` (`{ 0x1f, 0x8b, ... }`), Java's signed `new byte[] { 31, -117, ... }`,
//! Go's `[]byte{...}` and Rust's `[0x1f, 0x8b]` (a `u8`/`i8` suffix is read through).
//!
//! No automaton variant spells a secret this way, so a list is decoded even when it holds
//! the secret itself, and a list of compressed bytes leads to the compressed text. The finder
//! streams: `memchr` finds the next `[`, `{` or `(` (text with none costs nothing more), and a
//! list is read from there while it is numbers (decimal 0 to 255, `0x` hex up to `0xff`, or
//! signed -128 to -1 for the bytes 0x80 to 0xff) separated by commas, with any whitespace and
//! newlines, closed by the matching bracket. Anything else in it (a string, a float, 300)
//! says it is not bytes and drops it. A list the leaf ends inside is kept (a truncated dump).
//! Lists shorter than the shortest pattern are dropped by the [`Sink`].

use super::{DecodedRun, Sink, RUN_BUDGET};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for an opening bracket.
    Idle,
    /// After the opening bracket or a comma: whitespace, then a number or the close.
    Element,
    /// After a `-`.
    Sign,
    /// Inside a decimal number.
    Decimal,
    /// After a leading `0`: a decimal, `x`, or the end of the number.
    Zero,
    /// After `0x`, before any hex digit.
    HexStart,
    /// Inside the hex digits of a number.
    Hex,
    /// After a type suffix's `u` or `i`: its `8`.
    Suffix,
    /// After a number: whitespace, then a comma or the close.
    Separator,
}

/// The list being read.
struct List {
    start: u64,
    close: u8,
    bytes: Vec<u8>,
    truncated: bool,
}

pub(crate) struct ByteLists {
    state: State,
    list: Option<List>,
    /// The number being read (its magnitude) and its digits.
    value: u32,
    digits: u8,
    negative: bool,
    /// Offset just past the last byte fed.
    position: u64,
}

impl ByteLists {
    pub(crate) fn new() -> ByteLists {
        ByteLists {
            state: State::Idle,
            list: None,
            value: 0,
            digits: 0,
            negative: false,
            position: 0,
        }
    }

    fn open(&mut self, close: u8, at: u64) {
        self.list = Some(List {
            start: at,
            close,
            bytes: Vec::new(),
            truncated: false,
        });
        self.state = State::Element;
    }

    fn begin_number(&mut self, negative: bool) {
        self.value = 0;
        self.digits = 0;
        self.negative = negative;
    }

    fn digit(&mut self, value: u32, radix: u32) -> bool {
        self.value = self.value * radix + value;
        self.digits += 1;
        let limit = if self.negative { 128 } else { 255 };
        self.digits <= 3 && self.value <= limit
    }

    /// The number just read is one byte of the list.
    fn end_number(&mut self) -> bool {
        if self.digits == 0 || (self.negative && self.value == 0) {
            return false;
        }
        let byte = if self.negative {
            (256 - self.value) as u8
        } else {
            self.value as u8
        };
        if let Some(list) = &mut self.list {
            if list.bytes.len() < RUN_BUDGET {
                list.bytes.push(byte);
            } else {
                list.truncated = true;
            }
        }
        self.state = State::Separator;
        true
    }

    fn drop_list(&mut self) {
        self.list = None;
        self.state = State::Idle;
    }

    fn close(&mut self, end: u64, sink: &mut Sink) {
        self.state = State::Idle;
        if let Some(list) = self.list.take() {
            sink.offer(DecodedRun {
                encoding: "byte-list",
                offset: list.start,
                encoded_len: end - list.start,
                bytes: list.bytes,
                truncated: list.truncated,
                map: Vec::new(),
            });
        }
    }

    /// One byte of a list (`at` is its offset); returns false if the byte ends the list as
    /// not a byte list (it is then looked at again as a possible opening).
    fn step(&mut self, byte: u8, at: u64, sink: &mut Sink) -> bool {
        let close = self.list.as_ref().map_or(0, |list| list.close);
        let blank = matches!(byte, b' ' | b'\t' | b'\n' | b'\r');
        let ends_number = blank || byte == b',' || byte == close;
        match self.state {
            State::Idle => return true,
            State::Element => match byte {
                _ if blank => {}
                b'-' => {
                    self.begin_number(true);
                    self.state = State::Sign;
                }
                b'0' => {
                    self.begin_number(false);
                    self.digits = 1;
                    self.state = State::Zero;
                }
                b'1'..=b'9' => {
                    self.begin_number(false);
                    self.digit(u32::from(byte - b'0'), 10);
                    self.state = State::Decimal;
                }
                // An empty list, or a trailing comma.
                _ if byte == close => self.close(at + 1, sink),
                _ => return false,
            },
            State::Sign => match byte {
                b'1'..=b'9' => {
                    self.digit(u32::from(byte - b'0'), 10);
                    self.state = State::Decimal;
                }
                _ => return false,
            },
            State::Decimal | State::Zero => match byte {
                b'0'..=b'9' => {
                    self.state = State::Decimal;
                    return self.digit(u32::from(byte - b'0'), 10);
                }
                b'x' | b'X' if self.state == State::Zero => {
                    self.begin_number(false);
                    self.state = State::HexStart;
                }
                b'u' | b'i' => return self.end_number_then(State::Suffix),
                _ if ends_number => return self.end_number() && self.separator(byte, at, sink),
                _ => return false,
            },
            State::HexStart | State::Hex => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    self.state = State::Hex;
                    let value = (byte as char).to_digit(16).unwrap_or(0);
                    return self.digit(value, 16);
                }
                b'u' | b'i' if self.state == State::Hex => {
                    return self.end_number_then(State::Suffix);
                }
                _ if ends_number && self.state == State::Hex => {
                    return self.end_number() && self.separator(byte, at, sink)
                }
                _ => return false,
            },
            State::Suffix => match byte {
                b'8' => self.state = State::Separator,
                _ => return false,
            },
            State::Separator => return self.separator(byte, at, sink),
        }
        true
    }

    fn end_number_then(&mut self, state: State) -> bool {
        let ok = self.end_number();
        self.state = state;
        ok
    }

    /// A byte after a number.
    fn separator(&mut self, byte: u8, at: u64, sink: &mut Sink) -> bool {
        let close = self.list.as_ref().map_or(0, |list| list.close);
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => self.state = State::Separator,
            b',' => self.state = State::Element,
            _ if byte == close => self.close(at + 1, sink),
            _ => return false,
        }
        true
    }
}

impl super::RunFinder for ByteLists {
    fn feed(&mut self, bytes: &[u8], at: u64, sink: &mut Sink) {
        self.position = at + bytes.len() as u64;
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Idle {
                let Some(open) = memchr::memchr3(b'[', b'{', b'(', &bytes[i..]) else {
                    return;
                };
                i += open;
                let close = match bytes[i] {
                    b'[' => b']',
                    b'{' => b'}',
                    _ => b')',
                };
                self.open(close, at + i as u64);
                i += 1;
                continue;
            }
            if self.step(bytes[i], at + i as u64, sink) {
                i += 1;
            } else {
                // Not a byte list; this byte may open one.
                self.drop_list();
            }
        }
    }

    fn finish(&mut self, sink: &mut Sink) {
        // The leaf ended inside a list: what was read of it is kept.
        if matches!(self.state, State::Decimal | State::Zero | State::Hex) {
            self.end_number();
        }
        if self.state != State::Idle {
            self.close(self.position, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::testing::scan_memory;
    use super::super::{RunFinder, Sink};
    use super::ByteLists;

    const SECRET: &[u8] = b"ghp_7Kq2Xw9LmB4vR8sT1nZ6pY3cD0fJ";

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn lists_in(text: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut finder = ByteLists::new();
        let mut sink = Sink::new(4);
        let mut at = 0;
        for piece in text.chunks(step) {
            finder.feed(piece, at, &mut sink);
            at += piece.len() as u64;
        }
        finder.finish(&mut sink);
        sink.runs.into_iter().map(|run| run.bytes).collect()
    }

    fn join(items: impl Iterator<Item = String>, separator: &str) -> String {
        items.collect::<Vec<_>>().join(separator)
    }

    #[test]
    fn every_list_style_decodes_to_its_bytes() {
        let bytes = b"x \x1f\x8b\x80\xff\x00 y".to_vec();
        let decimal = join(bytes.iter().map(|b| b.to_string()), ",");
        let python = join(bytes.iter().map(|b| b.to_string()), ", ");
        let c = join(bytes.iter().map(|b| format!("0x{b:02x}")), ",\n  ");
        let c_tight = join(bytes.iter().map(|b| format!("0x{b:02X}")), ",");
        let java = join(bytes.iter().map(|&b| (b as i8).to_string()), ", ");
        let rust = join(bytes.iter().map(|b| format!("{b}u8")), ", ");
        for sample in [
            format!("{{\"b\":{{\"type\":\"Buffer\",\"data\":[{decimal}]}}}}"),
            format!("x = [{python}]\n"),
            format!("unsigned char p[] = {{\n  {c}\n}};\n"),
            format!("char p[] = {{{c_tight}}};"),
            format!("byte[] k = new byte[] {{ {java}, }};"),
            format!("const K: [u8; 10] = [{rust}];"),
            format!("k = bytes(({python}))"),
        ] {
            for step in [1, 3, 4096] {
                assert_eq!(
                    lists_in(sample.as_bytes(), step),
                    std::slice::from_ref(&bytes),
                    "{sample}"
                );
            }
        }
    }

    #[test]
    fn lists_that_are_not_bytes_are_dropped() {
        let text = b"[1, 2, 300, 4, 5] [1.5, 2, 3, 4, 5] [\"a\", \"b\", 1, 2] {-0, 1, 2, 3} \
            [0x100, 1, 2, 3] [-129, 1, 2, 3] [[1, 2, 3], [4, 5, 6]] {a: 1, b: 2, c: 3, d: 4}";
        assert!(lists_in(text, 5).is_empty());
        // The inner lists of a nested one are lists of their own.
        assert_eq!(
            lists_in(b"[[1, 2, 3, 4], [5, 6, 7, 8]]", 2),
            [vec![1, 2, 3, 4], vec![5, 6, 7, 8]]
        );
    }

    #[test]
    fn gzip_in_a_node_buffer_and_a_java_array_is_followed() {
        let compressed = gzip(SECRET);
        let node = join(compressed.iter().map(|b| b.to_string()), ",");
        let java = join(compressed.iter().map(|&b| (b as i8).to_string()), ", ");
        for (name, sample) in [
            (
                "a.json",
                format!("{{\"b\":{{\"type\":\"Buffer\",\"data\":[{node}]}}}}\n"),
            ),
            ("K.java", format!("byte[] k = {{{java}}};\n")),
        ] {
            let scanned = scan_memory(SECRET, name, sample.as_bytes());
            let places = scanned.places();
            assert_eq!(places.len(), 1, "{name}: {places:?}");
            assert!(
                places[0].0.starts_with(&format!("{name} › byte-list@")),
                "{places:?}"
            );
            assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
        }
    }
}
