//! A PDF's indirect objects, found by their `N G obj` headers and in object streams, and
//! their streams' bytes decoded.
//!
//! Objects are found by scanning for their headers rather than through the cross-reference
//! table: a PDF carved out of a backup, truncated, or saved by an editor that broke its
//! offsets still gives every object it holds. Where a number is defined twice (incremental
//! updates append new versions), the one written last wins.

use std::collections::HashMap;
use std::io::Read;

use super::lexer::{Lexer, Token};

/// Deepest nesting of arrays and dictionaries read; anything deeper is left out (input
/// controls the depth, and parsing recurses).
const MAX_NESTING: usize = 32;
/// Most bytes one stream is decoded to.
pub(super) const MAX_STREAM: usize = 64 << 20;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Number(f64),
    Name(Vec<u8>),
    String(Vec<u8>),
    Array(Vec<Value>),
    Dict(Dict),
    /// An indirect reference `N G R` (the generation is not needed).
    Ref(u32),
    /// `true`, `false`, `null`, or what could not be read.
    Other,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Dict(Vec<(Vec<u8>, Value)>);

impl Dict {
    pub(super) fn get(&self, key: &[u8]) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(super) fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Value::Name(name)) => Some(name),
            _ => None,
        }
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = (&[u8], &Value)> {
        self.0.iter().map(|(k, v)| (k.as_slice(), v))
    }
}

/// Reads one value at the lexer; `None` where there is none (a keyword, the end).
pub(super) fn parse_value(lexer: &mut Lexer, depth: usize) -> Option<Value> {
    let (_, token) = lexer.next_token()?;
    parse_from(lexer, token, depth)
}

fn parse_from(lexer: &mut Lexer, token: Token, depth: usize) -> Option<Value> {
    Some(match token {
        Token::Number(number) => reference_after(lexer, number).unwrap_or(Value::Number(number)),
        Token::Name(name) => Value::Name(name),
        Token::Literal { bytes, .. } | Token::Hex(bytes) => Value::String(bytes),
        Token::ArrayOpen => {
            let mut items = Vec::new();
            loop {
                match lexer.next_token() {
                    None | Some((_, Token::ArrayClose)) => break,
                    Some((_, Token::Keyword(word))) if ends_object(word) => break,
                    Some((_, token)) => {
                        if let Some(value) = nested(lexer, token, depth) {
                            items.push(value);
                        }
                    }
                }
            }
            Value::Array(items)
        }
        Token::DictOpen => {
            let mut entries = Vec::new();
            loop {
                match lexer.next_token() {
                    Some((_, Token::Name(key))) => {
                        let value = match lexer.next_token() {
                            Some((_, Token::DictClose)) | None => {
                                entries.push((key, Value::Other));
                                break;
                            }
                            Some((_, token)) => nested(lexer, token, depth).unwrap_or(Value::Other),
                        };
                        entries.push((key, value));
                    }
                    Some((_, Token::Keyword(word))) if !ends_object(word) => {}
                    Some((_, Token::Number(_) | Token::Literal { .. } | Token::Hex(_))) => {}
                    _ => break,
                }
            }
            Value::Dict(Dict(entries))
        }
        Token::Keyword(word) if !ends_object(word) => Value::Other,
        _ => return None,
    })
}

/// A nested value, or `None` past [`MAX_NESTING`] (its tokens are then skipped flat).
fn nested(lexer: &mut Lexer, token: Token, depth: usize) -> Option<Value> {
    if depth >= MAX_NESTING {
        return None;
    }
    parse_from(lexer, token, depth + 1)
}

/// Keywords that no value runs past: a damaged dictionary ends where its object does.
fn ends_object(word: &[u8]) -> bool {
    matches!(word, b"obj" | b"endobj" | b"stream" | b"endstream")
}

/// `number G R` read as a reference, the lexer left after it; `None` (lexer untouched) if
/// the number is not followed by a generation and `R`.
fn reference_after(lexer: &mut Lexer, number: f64) -> Option<Value> {
    let mut ahead = lexer.clone();
    let (_, Token::Number(generation)) = ahead.next_token()? else {
        return None;
    };
    let (_, Token::Keyword(b"R")) = ahead.next_token()? else {
        return None;
    };
    if number < 0.0 || number.fract() != 0.0 || generation.fract() != 0.0 {
        return None;
    }
    *lexer = ahead;
    Some(Value::Ref(number as u32))
}

/// One indirect object.
#[derive(Debug)]
pub(super) struct Object<'a> {
    pub value: Value,
    /// The stream's raw (still encoded) bytes, for a stream object in the file itself.
    pub stream: Option<&'a [u8]>,
    /// Where the object (or the object stream holding it) starts: the latest wins.
    position: usize,
}

impl Object<'_> {
    pub(super) fn dict(&self) -> Option<&Dict> {
        match &self.value {
            Value::Dict(dict) => Some(dict),
            _ => None,
        }
    }
}

/// Every object of a PDF, by number.
pub(super) struct Document<'a> {
    pub objects: HashMap<u32, Object<'a>>,
    /// Object streams whose filters could not be undone: the objects in them (fonts and
    /// their maps, often) were not read, which the caller records as a gap.
    pub unreadable_object_streams: Vec<(u32, Undecodable)>,
}

impl<'a> Document<'a> {
    pub(super) fn parse(bytes: &'a [u8]) -> Document<'a> {
        let mut objects = HashMap::new();
        let mut next = 0;
        for at in memchr::memmem::find_iter(bytes, b"obj") {
            if at < next {
                continue;
            }
            let Some((number, header)) = object_header(bytes, at) else {
                continue;
            };
            let (object, end) = read_object(bytes, header, at + 3);
            next = end;
            insert(&mut objects, number, object);
        }
        let mut document = Document {
            objects,
            unreadable_object_streams: Vec::new(),
        };
        document.read_object_streams();
        document
    }

    pub(super) fn get(&self, number: u32) -> Option<&Object<'a>> {
        self.objects.get(&number)
    }

    /// The value `value` stands for: itself, or the object it refers to.
    pub(super) fn resolve<'v>(&'v self, value: &'v Value) -> &'v Value {
        match value {
            Value::Ref(number) => self.get(*number).map_or(&Value::Other, |o| &o.value),
            value => value,
        }
    }

    /// Objects kept in object streams (PDF 1.5+: fonts, pages and resources of most modern
    /// writers are there, compressed).
    fn read_object_streams(&mut self) {
        let mut found = Vec::new();
        for (&number, object) in &self.objects {
            let (Some(dict), Some(raw)) = (object.dict(), object.stream) else {
                continue;
            };
            if dict.name(b"Type") != Some(b"ObjStm") {
                continue;
            }
            let decoded = match decode(dict, raw) {
                Ok(decoded) => decoded,
                Err(why) => {
                    self.unreadable_object_streams.push((number, why));
                    continue;
                }
            };
            let first = match dict.get(b"First") {
                Some(Value::Number(first)) if *first >= 0.0 => *first as usize,
                _ => continue,
            };
            for (number, offset) in object_stream_index(&decoded, first) {
                let mut lexer = Lexer::new(&decoded, first.saturating_add(offset));
                if let Some(value) = parse_value(&mut lexer, 0) {
                    found.push((number, value, object.position));
                }
            }
        }
        for (number, value, position) in found {
            let object = Object {
                value,
                stream: None,
                position,
            };
            insert(&mut self.objects, number, object);
        }
    }
}

fn insert<'a>(objects: &mut HashMap<u32, Object<'a>>, number: u32, object: Object<'a>) {
    match objects.get(&number) {
        Some(known) if known.position > object.position => {}
        _ => {
            objects.insert(number, object);
        }
    }
}

/// The (object number, offset from `/First`) pairs at the start of an object stream.
fn object_stream_index(decoded: &[u8], first: usize) -> Vec<(u32, usize)> {
    let head = &decoded[..first.min(decoded.len())];
    let mut lexer = Lexer::new(head, 0);
    let mut numbers = Vec::new();
    while let Some((_, Token::Number(value))) = lexer.next_token() {
        numbers.push(value);
    }
    numbers
        .chunks_exact(2)
        .filter(|pair| pair.iter().all(|n| *n >= 0.0 && n.fract() == 0.0))
        .map(|pair| (pair[0] as u32, pair[1] as usize))
        .collect()
}

/// The object number of an `N G obj` header whose `obj` is at `at`, and where the header
/// starts.
fn object_header(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    use super::lexer::is_white;
    let after = bytes.get(at + 3).copied();
    if after.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut start = at;
    let mut numbers = [0u64; 2];
    for slot in numbers.iter_mut().rev() {
        let white = bytes[..start]
            .iter()
            .rev()
            .take_while(|&&b| is_white(b))
            .count();
        if white == 0 {
            return None;
        }
        start -= white;
        let digits = bytes[..start]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 10 {
            return None;
        }
        start -= digits;
        *slot = std::str::from_utf8(&bytes[start..start + digits])
            .ok()?
            .parse()
            .ok()?;
    }
    if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    Some((u32::try_from(numbers[0]).ok()?, start))
}

/// The object whose body starts at `body`, and where it ends.
fn read_object(bytes: &[u8], header: usize, body: usize) -> (Object<'_>, usize) {
    let mut lexer = Lexer::new(bytes, body);
    let value = parse_value(&mut lexer, 0).unwrap_or(Value::Other);
    let mut object = Object {
        value,
        stream: None,
        position: header,
    };
    let after_value = lexer.position();
    let Some((_, Token::Keyword(b"stream"))) = lexer.next_token() else {
        return (object, after_value);
    };
    let mut start = lexer.position();
    if bytes[start..].starts_with(b"\r\n") {
        start += 2;
    } else if bytes[start..].starts_with(b"\n") || bytes[start..].starts_with(b"\r") {
        start += 1;
    }
    let declared = match object.dict().and_then(|d| d.get(b"Length")) {
        Some(Value::Number(length)) if *length >= 0.0 => Some(*length as usize),
        _ => None,
    };
    let end = declared
        .and_then(|length| start.checked_add(length))
        .filter(|&end| end <= bytes.len() && followed_by_endstream(&bytes[end..]))
        .or_else(|| {
            memchr::memmem::find(&bytes[start..], b"endstream").map(|found| {
                let data = &bytes[start..start + found];
                let trimmed = data.strip_suffix(b"\r\n").or(data.strip_suffix(b"\n"));
                start + trimmed.map_or(data.len(), <[u8]>::len)
            })
        });
    match end {
        Some(end) => {
            object.stream = Some(&bytes[start..end]);
            (object, end)
        }
        // No end: the stream runs to the end of the (truncated) file; headers after its
        // start are still looked for.
        None => {
            object.stream = Some(&bytes[start..]);
            (object, start)
        }
    }
}

fn followed_by_endstream(after: &[u8]) -> bool {
    let white = after
        .iter()
        .take_while(|&&b| super::lexer::is_white(b))
        .count();
    after[white..].starts_with(b"endstream")
}

/// Why a stream's bytes could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Undecodable {
    /// A filter scour does not decode (named).
    Filter(String),
    /// Decoded past [`MAX_STREAM`].
    TooLarge,
}

/// A stream's bytes with its filters undone. A damaged or truncated compressed stream gives
/// what decoded before the damage.
pub(super) fn decode(dict: &Dict, raw: &[u8]) -> Result<Vec<u8>, Undecodable> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        None => Vec::new(),
        Some(Value::Name(name)) => vec![name],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Name(name) => Some(name.as_slice()),
                _ => None,
            })
            .collect(),
        Some(_) => return Err(Undecodable::Filter("an unreadable /Filter".to_string())),
    };
    let parms = dict.get(b"DecodeParms");
    let mut bytes = raw.to_vec();
    for (index, filter) in filters.iter().enumerate() {
        bytes = match *filter {
            b"FlateDecode" | b"Fl" => inflate(&bytes)?,
            b"ASCIIHexDecode" | b"AHx" => {
                let mut hex = b"<".to_vec();
                hex.extend_from_slice(&bytes);
                match Lexer::new(&hex, 0).next_token() {
                    Some((_, Token::Hex(decoded))) => decoded,
                    _ => Vec::new(),
                }
            }
            b"ASCII85Decode" | b"A85" => ascii85(&bytes),
            b"RunLengthDecode" | b"RL" => run_length(&bytes)?,
            other => {
                return Err(Undecodable::Filter(
                    String::from_utf8_lossy(other).into_owned(),
                ))
            }
        };
        if predictor(parms, index) > 1 {
            return Err(Undecodable::Filter(format!(
                "{} with a predictor",
                String::from_utf8_lossy(filter)
            )));
        }
    }
    Ok(bytes)
}

/// The `/Predictor` of the `index`th filter's parameters (1: none).
fn predictor(parms: Option<&Value>, index: usize) -> i64 {
    let dict = match parms {
        Some(Value::Dict(dict)) => Some(dict),
        Some(Value::Array(items)) => match items.get(index) {
            Some(Value::Dict(dict)) => Some(dict),
            _ => None,
        },
        _ => None,
    };
    match dict.and_then(|d| d.get(b"Predictor")) {
        Some(Value::Number(n)) => *n as i64,
        _ => 1,
    }
}

fn inflate(bytes: &[u8]) -> Result<Vec<u8>, Undecodable> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(bytes).take(MAX_STREAM as u64 + 1);
    // A damaged stream keeps what inflated before the damage.
    let _ = decoder.read_to_end(&mut out);
    if out.len() > MAX_STREAM {
        return Err(Undecodable::TooLarge);
    }
    Ok(out)
}

/// ASCII85 (§7.4.3): groups of five digits `!`–`u`, `z` for four zeros, ending at `~>`.
fn ascii85(bytes: &[u8]) -> Vec<u8> {
    use crate::source::archive::decode::base85::decode_digits;
    let mut out = Vec::new();
    let mut digits = Vec::new();
    for &byte in bytes {
        match byte {
            b'~' => break,
            b'z' if digits.len() % 5 == 0 => {
                let _ = decode_digits(&std::mem::take(&mut digits), &mut out);
                out.extend_from_slice(&[0; 4]);
            }
            b'!'..=b'u' => digits.push(byte - b'!'),
            _ => {}
        }
    }
    // A group that overflows is damage: what decoded before it is kept.
    let _ = decode_digits(&digits, &mut out);
    out
}

/// RunLengthDecode (§7.4.5).
fn run_length(bytes: &[u8]) -> Result<Vec<u8>, Undecodable> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(&length) = bytes.get(at) {
        at += 1;
        match length {
            128 => break,
            0..=127 => {
                let end = (at + usize::from(length) + 1).min(bytes.len());
                out.extend_from_slice(&bytes[at..end]);
                at = end;
            }
            _ => {
                if let Some(&byte) = bytes.get(at) {
                    out.resize(out.len() + 257 - usize::from(length), byte);
                }
                at += 1;
            }
        }
        if out.len() > MAX_STREAM {
            return Err(Undecodable::TooLarge);
        }
    }
    Ok(out)
}
