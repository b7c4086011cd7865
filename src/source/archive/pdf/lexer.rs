//! PDF's tokens (ISO 32000-1 §7.2, §7.3): what both an object's dictionary and a content
//! stream are written in.
//!
//! The lexer never fails: bytes that are not a token it knows (binary junk in a damaged
//! file) come back as keywords, and an unterminated string ends at the end of the input.
//! Every token consumes at least one byte, so a loop over tokens always ends.

/// One token. Strings are decoded (escapes, hex digits); names have their `#xx` escapes
/// decoded and no leading `/`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token<'a> {
    Number(f64),
    Name(Vec<u8>),
    /// A literal string `( … )`; `verbatim` when it holds no escape, so its bytes are the
    /// very bytes of the input.
    Literal {
        bytes: Vec<u8>,
        verbatim: bool,
    },
    /// A hexadecimal string `< … >`.
    Hex(Vec<u8>),
    ArrayOpen,
    ArrayClose,
    DictOpen,
    DictClose,
    /// Anything else: an operator in a content stream, `obj`, `R`, `true`, `null`, junk.
    Keyword(&'a [u8]),
}

pub(super) fn is_white(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | 0)
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(byte: u8) -> bool {
    !is_white(byte) && !is_delimiter(byte)
}

#[derive(Clone)]
pub(super) struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(bytes: &'a [u8], at: usize) -> Lexer<'a> {
        Lexer { bytes, at }
    }

    /// The offset of the next byte to read.
    pub(super) fn position(&self) -> usize {
        self.at
    }

    pub(super) fn seek(&mut self, at: usize) {
        self.at = at.min(self.bytes.len());
    }

    /// Skips white space and comments.
    pub(super) fn skip_white(&mut self) {
        while let Some(&byte) = self.bytes.get(self.at) {
            if is_white(byte) {
                self.at += 1;
            } else if byte == b'%' {
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|&b| b != b'\r' && b != b'\n')
                {
                    self.at += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next token and the offset where it starts.
    pub(super) fn next_token(&mut self) -> Option<(usize, Token<'a>)> {
        self.skip_white();
        let start = self.at;
        let byte = *self.bytes.get(start)?;
        self.at += 1;
        let token = match byte {
            b'(' => self.literal(),
            b'<' if self.bytes.get(self.at) == Some(&b'<') => {
                self.at += 1;
                Token::DictOpen
            }
            b'<' => self.hex(),
            b'>' if self.bytes.get(self.at) == Some(&b'>') => {
                self.at += 1;
                Token::DictClose
            }
            b'[' => Token::ArrayOpen,
            b']' => Token::ArrayClose,
            b'/' => self.name(),
            _ if is_regular(byte) => {
                while self.bytes.get(self.at).is_some_and(|&b| is_regular(b)) {
                    self.at += 1;
                }
                let word = &self.bytes[start..self.at];
                number(word).map_or(Token::Keyword(word), Token::Number)
            }
            // A lone `)`, `>`, `{` or `}`.
            _ => Token::Keyword(&self.bytes[start..self.at]),
        };
        Some((start, token))
    }

    fn name(&mut self) -> Token<'a> {
        let mut name = Vec::new();
        while let Some(&byte) = self.bytes.get(self.at).filter(|&&b| is_regular(b)) {
            self.at += 1;
            let escaped = (byte == b'#')
                .then(|| self.bytes.get(self.at..self.at + 2))
                .flatten()
                .and_then(|digits| std::str::from_utf8(digits).ok())
                .and_then(|digits| u8::from_str_radix(digits, 16).ok());
            match escaped {
                Some(value) => {
                    name.push(value);
                    self.at += 2;
                }
                None => name.push(byte),
            }
        }
        Token::Name(name)
    }

    fn hex(&mut self) -> Token<'a> {
        let mut bytes = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(&byte) = self.bytes.get(self.at) {
            self.at += 1;
            if byte == b'>' {
                break;
            }
            let Some(nibble) = (byte as char).to_digit(16) else {
                continue;
            };
            match high.take() {
                Some(h) => bytes.push(h << 4 | nibble as u8),
                None => high = Some(nibble as u8),
            }
        }
        // An odd final digit is followed by an implied 0 (§7.3.4.3).
        if let Some(h) = high {
            bytes.push(h << 4);
        }
        Token::Hex(bytes)
    }

    fn literal(&mut self) -> Token<'a> {
        let mut bytes = Vec::new();
        let mut verbatim = true;
        let mut depth = 1usize;
        while let Some(&byte) = self.bytes.get(self.at) {
            self.at += 1;
            match byte {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'\\' => {
                    verbatim = false;
                    self.escape(&mut bytes);
                    continue;
                }
                _ => {}
            }
            bytes.push(byte);
        }
        Token::Literal { bytes, verbatim }
    }

    /// The escape after a `\` in a literal string (§7.3.4.2).
    fn escape(&mut self, bytes: &mut Vec<u8>) {
        let Some(&byte) = self.bytes.get(self.at) else {
            return;
        };
        self.at += 1;
        match byte {
            b'n' => bytes.push(b'\n'),
            b'r' => bytes.push(b'\r'),
            b't' => bytes.push(b'\t'),
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(byte - b'0');
                for _ in 0..2 {
                    match self.bytes.get(self.at) {
                        Some(&digit @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(digit - b'0');
                            self.at += 1;
                        }
                        _ => break,
                    }
                }
                bytes.push(value as u8);
            }
            // A line continuation: the end of line is not part of the string.
            b'\r' => {
                if self.bytes.get(self.at) == Some(&b'\n') {
                    self.at += 1;
                }
            }
            b'\n' => {}
            other => bytes.push(other),
        }
    }
}

/// A PDF number: an optional sign, digits, at most one `.` (read by hand: content streams
/// are mostly numbers, and a general float parser costs more than the rest of the lexer).
fn number(word: &[u8]) -> Option<f64> {
    let (negative, unsigned) = match word.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, word),
    };
    let mut value = 0f64;
    let mut scale = 0f64;
    let mut digits = 0;
    for &byte in unsigned {
        match byte {
            b'0'..=b'9' => {
                digits += 1;
                value = value * 10.0 + f64::from(byte - b'0');
                scale *= 10.0;
            }
            b'.' if scale == 0.0 => scale = 1.0,
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let value = if scale > 0.0 { value / scale } else { value };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &[u8]) -> Vec<Token<'_>> {
        let mut lexer = Lexer::new(input, 0);
        std::iter::from_fn(|| lexer.next_token().map(|(_, token)| token)).collect()
    }

    #[test]
    fn strings_names_and_numbers_are_decoded() {
        let input =
            b"<</Type/Font /A#20B 12 -3.5>> [(a\\(b\\)c\\101\\\nd) <48 65 6c6>] 0 0 R % c\nTj";
        assert_eq!(
            tokens(input),
            vec![
                Token::DictOpen,
                Token::Name(b"Type".to_vec()),
                Token::Name(b"Font".to_vec()),
                Token::Name(b"A B".to_vec()),
                Token::Number(12.0),
                Token::Number(-3.5),
                Token::DictClose,
                Token::ArrayOpen,
                Token::Literal {
                    bytes: b"a(b)cAd".to_vec(),
                    verbatim: false
                },
                Token::Hex(b"Hel`".to_vec()),
                Token::ArrayClose,
                Token::Number(0.0),
                Token::Number(0.0),
                Token::Keyword(b"R"),
                Token::Keyword(b"Tj"),
            ]
        );
    }

    #[test]
    fn nested_parentheses_stay_in_the_string_and_junk_never_stalls() {
        assert_eq!(
            tokens(b"(a(b)c)"),
            vec![Token::Literal {
                bytes: b"a(b)c".to_vec(),
                verbatim: true
            }]
        );
        let junk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert!(tokens(&junk).len() < junk.len());
        assert_eq!(tokens(b"(unterminated").len(), 1);
    }
}
