//! XML and HTML character references: `&#115;` and `&#x73;` (any character), and in the
//! same lines the named `&amp; &lt; &gt; &quot; &apos; &nbsp;`.
//!
//! The automaton's `html-entities` variant escapes only the special characters of a secret
//! (`&amp;`, `&#39;`...); a secret written one numeric reference per character (mail
//! obfuscators, HTML minifiers, `&#NNN;` from a template engine), and any run another layer
//! must read whose text holds references, are not its to see. So every line holding a
//! numeric reference is decoded (named ones alone are the automaton's, as is one level of
//! them) and goes through the pipeline again. A line that ends in a reference is continued
//! by the next one, which keeps a block whose lines each end in one (.NET's `XmlSerializer`
//! ends each base64 line in `&#13;`) whole, its last line included; the base64 layer also
//! reads such line ends itself ([`numeric`] is shared), so base64 in XML is whole in the
//! leaf, with no fragment of it a truncated stream. Unknown names, and numbers that
//! are no character, are left as they are.

use super::escaped::{Decoded, Escaping};
use super::wake::Atom;

/// Whether a line holds a numeric character reference that decodes. Only one that does
/// counts: a line whose `&#` decode to nothing (`&#x{`, `&#0;` in source code) would come
/// out of the layer as it went in, and go round again to the nesting limit (a false gap).
fn has_escape(line: &[u8]) -> bool {
    // `memchr` for the `&`, not a `memmem` searcher: building one per line costs more than
    // most lines take to search.
    memchr::memchr_iter(b'&', line)
        .any(|at| line.get(at + 1) == Some(&b'#') && numeric(&line[at + 2..]).is_some())
}

const NAMED: [(&[u8], &str); 6] = [
    (b"amp;", "&"),
    (b"lt;", "<"),
    (b"gt;", ">"),
    (b"quot;", "\""),
    (b"apos;", "'"),
    (b"nbsp;", "\u{a0}"),
];

/// The reference whose `&` is at the start of `text`: (its character, its length).
fn reference(text: &[u8]) -> Option<(char, usize)> {
    let rest = text.get(1..)?;
    if let Some(number) = rest.strip_prefix(b"#") {
        return numeric(number).map(|(c, len)| (c, len + 2));
    }
    NAMED.iter().find_map(|&(name, value)| {
        let c = value.chars().next()?;
        rest.starts_with(name).then_some((c, name.len() + 1))
    })
}

/// `NNN;` or `xHH;` after `&#` (the `;` may be missing, as HTML allows): the character and
/// the bytes it took.
pub(crate) fn numeric(text: &[u8]) -> Option<(char, usize)> {
    let (radix, skip, max_digits) = match text.first() {
        Some(b'x' | b'X') => (16, 1, 6),
        _ => (10, 0, 7),
    };
    let digits = text[skip..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    if digits == 0 || digits > max_digits {
        return None;
    }
    let value = text[skip..skip + digits].iter().fold(0u32, |value, &b| {
        value * radix + (b as char).to_digit(radix).unwrap_or(0)
    });
    let c = char::from_u32(value).filter(|&c| c != '\0')?;
    let semicolon = usize::from(text.get(skip + digits) == Some(&b';'));
    Some((c, skip + digits + semicolon))
}

fn decode(line: &[u8], at: u64, out: &mut Decoded) -> bool {
    let mut from = 0;
    let mut ends_in_reference = false;
    for amp in memchr::memchr_iter(b'&', line) {
        if amp < from {
            continue;
        }
        let Some((c, len)) = reference(&line[amp..]) else {
            continue;
        };
        out.bytes.extend_from_slice(&line[from..amp]);
        let mut utf8 = [0; 4];
        out.bytes
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        from = amp + len;
        out.mark(at + from as u64);
        ends_in_reference = from == line.len();
    }
    out.bytes.extend_from_slice(&line[from..]);
    if ends_in_reference {
        // The next line continues this text (see the module doc); its line break is kept.
        out.bytes.push(b'\n');
    }
    ends_in_reference
}

pub(crate) fn escaping() -> Escaping {
    Escaping {
        encoding: "entities",
        wake: Atom::Literal(b"&#"),
        has_escape,
        decode,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine;

    use super::super::escaped::Decoded;
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"xoxb-4Rq9Lm2Tz7Wv1Kp8Ns3Yc6Hd";

    fn decoded(line: &[u8]) -> Vec<u8> {
        let mut out = Decoded::new();
        super::decode(line, 0, &mut out);
        out.bytes
    }

    #[test]
    fn references_of_every_form_decode() {
        assert_eq!(
            decoded(b"a&#115;&#X6B;&#x5f &lt;&amp;&gt;&quot;&apos;&nbsp;&bogus; &#0; &#;"),
            "ask_ <&>\"'\u{a0}&bogus; &#0; &#;".as_bytes()
        );
        assert!(super::has_escape(b"x &#38; y"));
        // A line ending in a reference is continued by the next, its line break kept.
        let mut out = Decoded::new();
        assert!(super::decode(b"QUJD&#13;", 0, &mut out));
        assert_eq!(out.bytes, b"QUJD\r\n");
        assert!(!super::has_escape(
            b"Tom &amp; Jerry &#; &#q &#x{b:x}; &#0;"
        ));
    }

    #[test]
    fn references_that_decode_to_nothing_are_no_run() {
        let sample = b"format!(\"&#x{b:x};\") and &#0; and &#;\n".repeat(3);
        let scanned = scan_memory(SECRET, "f.rs", &sample);
        assert!(scanned.findings.is_empty());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    #[test]
    fn a_secret_as_numeric_references_is_found_once() {
        for hex in [false, true] {
            let encoded: String = SECRET
                .iter()
                .map(|&b| {
                    if hex {
                        format!("&#x{b:x};")
                    } else {
                        format!("&#{b};")
                    }
                })
                .collect();
            let sample = format!("<html><p>key: {encoded}</p>\n</html>\n");
            let places = scan_memory(SECRET, "a.html", sample.as_bytes()).places();
            assert_eq!(places.len(), 1, "hex {hex}: {places:?}");
            assert!(places[0].0.starts_with("a.html › entities@"), "{places:?}");
        }
    }

    #[test]
    fn base64_of_gzip_with_line_end_references_is_followed() {
        // Text that does not compress away, so the secret is many lines into the base64.
        let mut state = 0x2545_f491u32;
        let mut filler = || -> Vec<u8> {
            (0..400)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    b"abcdefghij klmnop\n"[(state >> 16) as usize % 18]
                })
                .collect()
        };
        let mut text = filler();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(&filler());
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&text).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap());
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        // The base64 layer reads the references at line ends itself: the block is whole in
        // the leaf, and no fragment of it is a truncated gzip (a false gap).
        for line_end in ["&#13;\n", "&#x0D;\r\n", "&#10;"] {
            let sample = format!("<v>{}</v>\n", lines.join(line_end));
            let scanned = scan_memory(SECRET, "a.xml", sample.as_bytes());
            let places = scanned.places();
            assert_eq!(places.len(), 1, "{line_end}: {places:?}");
            assert!(places[0].0.starts_with("a.xml › base64@3"), "{places:?}");
            assert!(scanned.gaps.is_empty(), "{line_end}: {:?}", scanned.gaps);
        }
    }
}
