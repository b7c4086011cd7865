//! PDF documents: the bytes as they are, then the text each content stream shows.
//!
//! The raw pass (the leaf scan: literal strings, metadata, and every zlib stream carved
//! after its `stream` keyword) finds text a writer kept whole. It cannot find text shown in
//! a subset font, which most writers embed for TrueType and OpenType fonts (fpdf2,
//! reportlab, LibreOffice, Chrome, Word): the strings are glyph numbers, `<001d0022…> Tj`,
//! and only the font's `ToUnicode` map says which characters they are. Nor can it find text
//! a writer cut into pieces: kerning in a `TJ` array, a token wrapped over two lines.
//!
//! So after the raw pass, every object is found ([`objects`]), each font's `ToUnicode` map
//! read ([`cmap`]), and each content stream's shown text rebuilt ([`text`]) and scanned as
//! member `object N text`. Font names are resolved through every `/Font` resource dictionary
//! of the file; a name that stands for different fonts on different pages gives one view per
//! font (`object N text 2`), so no text is read through the wrong map. What the raw pass
//! already found in a piece kept whole is not reported again.
//!
//! What cannot be read is a gap: text shown in a composite font with no `ToUnicode` map
//! (`unsupported`: its glyph numbers were only scanned as bytes), a stream whose filter
//! scour does not decode (LZW, a predictor), a stream or view past its budget
//! (`limit-exceeded`). An encrypted PDF is already an `encrypted` gap of the raw pass; its
//! streams are not read.

mod cmap;
mod lexer;
mod objects;
mod text;

use std::collections::HashMap;
use std::io::Read;

use super::format::{Format, Place};
use super::{decode, leaf, Walk};
use crate::coverage::GapKind;
use crate::findings::display_chain;
use crate::matcher::ScanBuffer;
use cmap::CMap;
use objects::{Document, Undecodable, Value};
use text::Font;

/// Most views one content stream gets (one per font a name stands for).
const MAX_VIEWS: usize = 4;

pub(crate) static PDF: Pdf = Pdf;

pub(crate) struct Pdf;

impl Format for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }

    /// `%PDF-` and a version digit.
    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(b"%PDF-") && head.get(5).is_some_and(u8::is_ascii_digit)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let what = "text shown in subset fonts or cut into pieces";
        super::hold_then_read(walk, chain, reader, depth, buffer, what, read_pdf);
    }
}

/// The PDF's bytes as they are, then the text it shows.
fn read_pdf(walk: &Walk, chain: &[String], bytes: &[u8], depth: u32, buffer: &mut ScanBuffer) {
    leaf::scan_bytes(walk, chain, bytes, depth, leaf::Kind::Plain, buffer);
    if !super::encrypted::pdf_is_encrypted(bytes) && walk.check_running().is_ok() {
        read_text(walk, chain, bytes, depth, buffer);
    }
}

/// Each font by its object number, and the font objects each resource name stands for.
struct Fonts {
    by_object: HashMap<u32, (Option<CMap>, bool)>,
    by_name: HashMap<Vec<u8>, Vec<u32>>,
}

impl Fonts {
    fn of(document: &Document) -> Fonts {
        let mut by_object = HashMap::new();
        let mut by_name: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        for (&number, object) in &document.objects {
            let Some(dict) = object.dict() else {
                continue;
            };
            if dict.name(b"Type") == Some(b"Font") || dict.get(b"ToUnicode").is_some() {
                let composite = dict.name(b"Subtype") == Some(b"Type0");
                let cmap = match dict.get(b"ToUnicode") {
                    Some(Value::Ref(map)) => document
                        .get(*map)
                        .and_then(|map| objects::decode(map.dict()?, map.stream?).ok())
                        .map(|bytes| CMap::parse(&bytes))
                        .filter(|cmap| !cmap.is_empty()),
                    _ => None,
                };
                by_object.insert(number, (cmap, composite));
            }
            for (name, font) in font_resources(document, &object.value) {
                let fonts = by_name.entry(name).or_default();
                if !fonts.contains(&font) {
                    fonts.push(font);
                }
            }
        }
        for fonts in by_name.values_mut() {
            fonts.sort_unstable();
        }
        Fonts { by_object, by_name }
    }

    /// The font `name` stands for in view `choice` (the last one it has, past its count).
    fn font(&self, name: &[u8], choice: usize) -> Option<Font<'_>> {
        let fonts = self.by_name.get(name)?;
        let number = fonts.get(choice).or(fonts.last())?;
        let (cmap, composite) = self.by_object.get(number)?;
        Some(Font {
            cmap: cmap.as_ref(),
            composite: *composite,
        })
    }

    /// How many views a stream needs: the most fonts one of its names stands for.
    fn views(&self, content: &[u8]) -> usize {
        self.by_name
            .iter()
            .filter(|(_, fonts)| fonts.len() > 1)
            .filter(|(name, _)| {
                let mut shown = b"/".to_vec();
                shown.extend_from_slice(name);
                memchr::memmem::find(content, &shown).is_some()
            })
            .map(|(_, fonts)| fonts.len())
            .max()
            .unwrap_or(1)
            .min(MAX_VIEWS)
    }
}

/// The (name, font object) pairs of every `/Font` resource dictionary inside `value`.
fn font_resources(document: &Document, value: &Value) -> Vec<(Vec<u8>, u32)> {
    let mut found = Vec::new();
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Dict(dict) => {
                for (key, entry) in dict.entries() {
                    if key == b"Font" {
                        if let Value::Dict(fonts) = document.resolve(entry) {
                            for (name, font) in fonts.entries() {
                                if let Value::Ref(font) = font {
                                    found.push((name.to_vec(), *font));
                                }
                            }
                        }
                    } else {
                        pending.push(entry);
                    }
                }
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    found
}

/// Whether a stream object holds something other than page content: images, font
/// programs, metadata, the file's own structure.
fn is_not_content(dict: &objects::Dict) -> bool {
    matches!(
        dict.name(b"Type"),
        Some(b"XRef" | b"ObjStm" | b"Metadata" | b"EmbeddedFile" | b"CMap")
    ) || matches!(
        dict.name(b"Subtype"),
        Some(b"Image" | b"Type1C" | b"CIDFontType0C" | b"OpenType" | b"XML")
    ) || dict.get(b"Length1").is_some()
        || dict.get(b"Length2").is_some()
        || dict.get(b"FunctionType").is_some()
        || dict.get(b"ShadingType").is_some()
}

fn read_text(walk: &Walk, chain: &[String], bytes: &[u8], depth: u32, buffer: &mut ScanBuffer) {
    let document = Document::parse(bytes);
    for (number, why) in &document.unreadable_object_streams {
        let lost = "the objects it holds (fonts and their maps among them) were not read";
        undecodable(walk, chain, *number, why, lost);
    }
    let fonts = Fonts::of(&document);
    let maps: Vec<u32> = fonts
        .by_object
        .keys()
        .filter_map(
            |number| match document.get(*number)?.dict()?.get(b"ToUnicode") {
                Some(Value::Ref(map)) => Some(*map),
                _ => None,
            },
        )
        .collect();
    let mut numbers: Vec<u32> = document
        .objects
        .iter()
        .filter(|(number, object)| {
            object.stream.is_some()
                && !maps.contains(number)
                && object.dict().is_none_or(|dict| !is_not_content(dict))
        })
        .map(|(number, _)| *number)
        .collect();
    numbers.sort_unstable();
    let matcher = walk.ctx.recorder.matcher();
    let mut budget = decode::LEAF_BUDGET;
    for number in numbers {
        if walk.check_running().is_err() {
            return;
        }
        let Some(object) = document.get(number) else {
            continue;
        };
        let (Some(raw), dict) = (object.stream, object.dict().cloned().unwrap_or_default()) else {
            continue;
        };
        let content = match objects::decode(&dict, raw) {
            Ok(content) => content,
            Err(why) => {
                undecodable(walk, chain, number, &why, "text it shows was not read");
                continue;
            }
        };
        if memchr::memmem::find(&content, b"BT").is_none() {
            continue;
        }
        for choice in 0..fonts.views(&content) {
            let view = text::extract(&content, &|name| fonts.font(name, choice));
            if !view.unmapped.is_empty() && choice == 0 {
                unmapped(walk, chain, number, &view.unmapped);
            }
            if view.text.len() < matcher.shortest_pattern() {
                continue;
            }
            if view.text.len() > budget {
                walk.gap(
                    GapKind::LimitExceeded,
                    chain.to_vec(),
                    format!(
                        "the text shown in {} is more than the {} bytes of text read per \
                         PDF; text from object {number} on was not read",
                        display_chain(chain),
                        decode::LEAF_BUDGET
                    ),
                );
                return;
            }
            budget -= view.text.len();
            let seen: Vec<(usize, u64, u64)> = matcher
                .scan_slice(&view.text)
                .iter()
                .filter(|hit| {
                    let (start, end) = (hit.offset as usize, (hit.offset + hit.len) as usize);
                    view.pieces
                        .iter()
                        .any(|p| p.raw_visible && p.start <= start && end <= p.end)
                })
                .map(|hit| {
                    let secret = matcher.pattern(hit.pattern).secret;
                    (secret, hit.offset, hit.offset + hit.len)
                })
                .collect();
            let mut member = chain.to_vec();
            member.push(match choice {
                0 => format!("object {number} text"),
                _ => format!("object {number} text {}", choice + 1),
            });
            decode::inspect_view(walk, &member, &view.text, seen, depth + 1, buffer);
        }
    }
}

/// A stream that could not be decoded: a gap naming the object, its reason and `lost`,
/// what was therefore not read.
fn undecodable(walk: &Walk, chain: &[String], number: u32, why: &Undecodable, lost: &str) {
    let (kind, what) = match why {
        Undecodable::Filter(filter) => (
            GapKind::Unsupported,
            format!("its filter ({filter}) is not one scour decodes"),
        ),
        Undecodable::TooLarge => (
            GapKind::LimitExceeded,
            format!("it decodes to more than {} bytes", objects::MAX_STREAM),
        ),
    };
    walk.gap(
        kind,
        chain.to_vec(),
        format!(
            "object {number} of {} could not be decoded: {what}; {lost}, only its raw bytes \
             were scanned",
            display_chain(chain)
        ),
    );
}

fn unmapped(walk: &Walk, chain: &[String], number: u32, fonts: &[Vec<u8>]) {
    let names: Vec<String> = fonts
        .iter()
        .map(|name| format!("/{}", String::from_utf8_lossy(name)))
        .collect();
    walk.gap(
        GapKind::Unsupported,
        chain.to_vec(),
        format!(
            "object {number} of {} shows text in composite fonts with no ToUnicode map ({}): \
             their glyph numbers cannot be read as text, and were only scanned as bytes",
            display_chain(chain),
            names.join(", ")
        ),
    );
}
