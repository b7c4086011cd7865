//! The text a content stream shows (ISO 32000-1 §9.4): every string of `Tj`, `'`, `"` and
//! `TJ`, through the font selected by `Tf`, joined in the order shown.
//!
//! The raw stream already holds the text of a simple font's literal strings, but not text
//! that a writer cut into pieces (`TJ` arrays with kerning between them, a line wrapped in
//! the middle of a token, one string per glyph) nor glyph numbers of a subset font, which
//! only its `ToUnicode` map turns into text. The pieces are joined with nothing between
//! them: a secret is matched whole or not at all, so joining words cannot make a false
//! finding, and a token wrapped over two lines is found. Each piece records whether its
//! text is the very bytes of the raw stream (a literal string shown as it is), so what the
//! raw scan already found there is not reported again.

use super::cmap::CMap;
use super::lexer::{Lexer, Token};

/// Most operands kept before an operator, and graphics states saved (`q`): bounds for
/// hostile streams; real ones use a handful.
const MAX_OPERANDS: usize = 64;
const MAX_SAVED: usize = 256;

/// How a font's codes become text.
#[derive(Clone, Copy)]
pub(super) struct Font<'a> {
    pub cmap: Option<&'a CMap>,
    /// A composite (Type0) font: codes are glyph or CID numbers, mostly two bytes.
    pub composite: bool,
}

/// One shown string's text in the view.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Piece {
    pub start: usize,
    pub end: usize,
    /// The text is the very bytes of the raw stream (found there by the raw scan).
    pub raw_visible: bool,
}

#[derive(Debug, Default)]
pub(super) struct View {
    pub text: Vec<u8>,
    pub pieces: Vec<Piece>,
    /// Names of composite fonts that showed text but have no `ToUnicode` map: their text
    /// cannot be read.
    pub unmapped: Vec<Vec<u8>>,
}

enum Operand<'a> {
    Token(Token<'a>),
    Array(Vec<Token<'a>>),
}

/// The text `content` shows, each font name resolved by `font`.
pub(super) fn extract<'f>(content: &[u8], font: &dyn Fn(&[u8]) -> Option<Font<'f>>) -> View {
    let mut view = View::default();
    let mut lexer = Lexer::new(content, 0);
    let mut operands: Vec<Operand> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut saved: Vec<Option<Vec<u8>>> = Vec::new();
    while let Some((_, token)) = lexer.next_token() {
        let operand = match token {
            Token::ArrayOpen => Operand::Array(array(&mut lexer)),
            Token::DictOpen => {
                skip_dict(&mut lexer);
                continue;
            }
            Token::Keyword(operator) => {
                match operator {
                    b"Tf" => {
                        if let Some(Operand::Token(Token::Name(name))) =
                            operands.len().checked_sub(2).map(|i| &operands[i])
                        {
                            current = Some(name.clone());
                        }
                    }
                    b"Tj" | b"'" | b"\"" => {
                        if let Some(Operand::Token(token)) = operands.last() {
                            show(&mut view, token, current.as_deref(), font);
                        }
                    }
                    b"TJ" => {
                        if let Some(Operand::Array(items)) = operands.last() {
                            for item in items {
                                show(&mut view, item, current.as_deref(), font);
                            }
                        }
                    }
                    b"q" if saved.len() < MAX_SAVED => saved.push(current.clone()),
                    b"Q" => {
                        if let Some(font) = saved.pop() {
                            current = font;
                        }
                    }
                    b"BI" => skip_inline_image(&mut lexer, content),
                    _ => {}
                }
                operands.clear();
                continue;
            }
            token => Operand::Token(token),
        };
        if operands.len() == MAX_OPERANDS {
            operands.remove(0);
        }
        operands.push(operand);
    }
    view
}

/// The tokens of an array operand (a `TJ` array), up to its `]`; nested arrays are
/// flattened.
fn array<'a>(lexer: &mut Lexer<'a>) -> Vec<Token<'a>> {
    let mut items = Vec::new();
    let mut depth = 1usize;
    while let Some((_, token)) = lexer.next_token() {
        match token {
            Token::ArrayOpen => depth += 1,
            Token::ArrayClose => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Token::Keyword(_) => {
                // An operator inside an array is damage: the array ends before it.
                break;
            }
            token => items.push(token),
        }
    }
    items
}

/// Skips an inline dictionary (marked-content properties) up to its `>>`.
fn skip_dict(lexer: &mut Lexer) {
    let mut depth = 1usize;
    while let Some((_, token)) = lexer.next_token() {
        match token {
            Token::DictOpen => depth += 1,
            Token::DictClose => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Skips an inline image's binary data: from `ID` to `EI` between white space.
fn skip_inline_image(lexer: &mut Lexer, content: &[u8]) {
    use super::lexer::is_white;
    while let Some((_, token)) = lexer.next_token() {
        if token == Token::Keyword(b"ID") {
            break;
        }
    }
    let data = lexer.position() + 1;
    let mut from = data.min(content.len());
    while let Some(found) = memchr::memmem::find(&content[from..], b"EI") {
        let at = from + found;
        let before = at.checked_sub(1).map(|i| content[i]);
        let after = content.get(at + 2).copied();
        if before.is_some_and(is_white) && after.is_none_or(is_white) {
            lexer.seek(at + 2);
            return;
        }
        from = at + 2;
    }
    lexer.seek(content.len());
}

/// Adds the text of a shown string (a token of a `TJ` array may be a number: no text).
fn show<'f>(
    view: &mut View,
    token: &Token,
    font_name: Option<&[u8]>,
    font: &dyn Fn(&[u8]) -> Option<Font<'f>>,
) {
    let (bytes, as_in_raw) = match token {
        Token::Literal { bytes, verbatim } => (bytes, *verbatim),
        // A hex string's bytes are in the raw stream as hex digits, which the matcher's hex
        // variants and the hex decode layer read.
        Token::Hex(bytes) => (bytes, true),
        _ => return,
    };
    let start = view.text.len();
    let font = font_name.and_then(font);
    let raw_visible = match font {
        Some(Font {
            cmap: Some(cmap),
            composite,
        }) => {
            cmap.decode(bytes, if composite { 2 } else { 1 }, &mut view.text);
            as_in_raw && view.text[start..] == bytes[..]
        }
        Some(Font {
            cmap: None,
            composite: true,
        }) => {
            if let Some(name) = font_name.filter(|name| !view.unmapped.iter().any(|n| n == name)) {
                view.unmapped.push(name.to_vec());
            }
            return;
        }
        _ => {
            view.text.extend_from_slice(bytes);
            as_in_raw
        }
    };
    view.pieces.push(Piece {
        start,
        end: view.text.len(),
        raw_visible,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_kerned_and_wrapped_text_are_joined() {
        let content = b"BT /F1 12 Tf 10 10 Td [(sk_li) -20 (ve_) 5 (abc)] TJ ET\n\
                        q BT 0 0 Td (def) Tj T* (ghi) ' ET Q BI /W 2 /H 1 ID \xff(x)\xfe EI (j) Tj";
        let view = extract(content, &|_| None);
        assert_eq!(view.text, b"sk_live_abcdefghij");
        assert_eq!(view.pieces.len(), 6);
        assert!(view.pieces.iter().all(|piece| piece.raw_visible));
    }

    #[test]
    fn glyph_numbers_are_mapped_and_composite_fonts_without_a_map_are_named() {
        let cmap = CMap::parse(
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              2 beginbfchar <0001> <0073> <0002> <006B> endbfchar\n\
              1 beginbfrange <0010> <0012> <0061> endbfrange\n\
              1 beginbfrange <0020> <0021> [<005F> <00E9>] endbfrange",
        );
        let mapped = Font {
            cmap: Some(&cmap),
            composite: true,
        };
        let bare = Font {
            cmap: None,
            composite: true,
        };
        let content =
            b"/F1 9 Tf <000100020020001000110012> Tj /F2 9 Tf <0001> Tj /F1 1 Tf <0021> Tj";
        let view = extract(content, &|name| match name {
            b"F1" => Some(mapped),
            b"F2" => Some(bare),
            _ => None,
        });
        assert_eq!(String::from_utf8_lossy(&view.text), "sk_abcé");
        assert_eq!(view.unmapped, vec![b"F2".to_vec()]);
        assert!(view.pieces.iter().all(|piece| !piece.raw_visible));
    }
}
