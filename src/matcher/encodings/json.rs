//! JSON and JavaScript string escaping.
//!
//! `"` and `\` are always escaped; encoders then differ: `\/` (PHP), non-ASCII as `\uXXXX`
//! (Python's default), `<>&` as `\u003c` (Go, to be safe inside HTML), every punctuation
//! character or every character as `\u00XX` (obfuscators, some loggers), a single-quoted
//! JavaScript string, and a JSON string inside another JSON string (escaped twice).

use super::{Encoding, Variant};

pub struct JsonEscaped;

#[derive(Clone, Copy, Default)]
struct Style {
    slash: bool,
    non_ascii: bool,
    html: bool,
    all_punctuation: bool,
    everything: bool,
    single_quoted: bool,
    upper: bool,
}

fn unicode_escape(out: &mut Vec<u8>, unit: u16, upper: bool) {
    let hex = if upper {
        format!("\\u{unit:04X}")
    } else {
        format!("\\u{unit:04x}")
    };
    out.extend_from_slice(hex.as_bytes());
}

fn escape_char(out: &mut Vec<u8>, c: char, style: Style) {
    let mut units = [0u16; 2];
    let escape_all = |out: &mut Vec<u8>, units: &[u16]| {
        for &unit in units {
            unicode_escape(out, unit, style.upper);
        }
    };
    let ascii_punct = c.is_ascii() && !c.is_ascii_alphanumeric();
    if style.everything || (style.all_punctuation && ascii_punct) {
        escape_all(out, c.encode_utf16(&mut units));
        return;
    }
    match c {
        '"' if !style.single_quoted => out.extend_from_slice(b"\\\""),
        '\'' if style.single_quoted => out.extend_from_slice(b"\\'"),
        '\\' => out.extend_from_slice(b"\\\\"),
        '/' if style.slash => out.extend_from_slice(b"\\/"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\u{c}' => out.extend_from_slice(b"\\f"),
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => {
            escape_all(out, c.encode_utf16(&mut units))
        }
        c if (c as u32) < 0x20 || (style.non_ascii && !c.is_ascii()) => {
            escape_all(out, c.encode_utf16(&mut units))
        }
        c => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

fn escape(text: &str, style: Style) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for c in text.chars() {
        escape_char(&mut out, c, style);
    }
    out
}

/// Bytes that are not UTF-8 cannot sit in a JSON string except through a lossy decoder, so
/// only the escapes of `"` and `\` apply, byte by byte.
fn escape_bytes(secret: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(secret.len() * 2);
    for &b in secret {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

impl Encoding for JsonEscaped {
    fn name(&self) -> &'static str {
        "json"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let Ok(text) = std::str::from_utf8(secret) else {
            return vec![Variant::exact(
                escape_bytes(secret),
                "\\\" and \\\\ escaped",
            )];
        };
        let mut variants = Vec::new();
        for slash in [false, true] {
            for non_ascii in [false, true] {
                for html in [false, true] {
                    let style = Style {
                        slash,
                        non_ascii,
                        html,
                        ..Style::default()
                    };
                    let detail = format!(
                        "JSON string{}{}{}",
                        if slash { ", \\/ for /" } else { "" },
                        if non_ascii {
                            ", non-ASCII as \\uXXXX"
                        } else {
                            ""
                        },
                        if html { ", <>& as \\u00XX" } else { "" },
                    );
                    variants.push(Variant::exact(escape(text, style), detail));
                }
            }
        }
        for upper in [false, true] {
            let case = if upper { "upper" } else { "lower" };
            let punct = Style {
                all_punctuation: true,
                non_ascii: true,
                upper,
                ..Style::default()
            };
            variants.push(Variant::exact(
                escape(text, punct),
                format!("every punctuation character as \\u00XX ({case}-case hex)"),
            ));
            let everything = Style {
                everything: true,
                upper,
                ..Style::default()
            };
            variants.push(Variant::exact(
                escape(text, everything),
                format!("every character as \\uXXXX ({case}-case hex)"),
            ));
        }
        let single = Style {
            single_quoted: true,
            ..Style::default()
        };
        variants.push(Variant::exact(
            escape(text, single),
            "single-quoted JavaScript string",
        ));
        let once = String::from_utf8_lossy(&escape(text, Style::default())).into_owned();
        variants.push(Variant::exact(
            escape(&once, Style::default()),
            "JSON string inside a JSON string (escaped twice)",
        ));
        variants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(secret: &str) -> Vec<Vec<u8>> {
        JsonEscaped
            .variants(secret.as_bytes())
            .into_iter()
            .map(|v| v.pattern.to_vec())
            .collect()
    }

    #[test]
    fn matches_serde_json_output() {
        let secret = "pa\"ss\\wo/rd é\u{1F600}<&>";
        let serialized = serde_json::to_string(secret).unwrap();
        let inner = serialized.trim_matches('"').as_bytes().to_vec();
        assert!(patterns(secret).contains(&inner));
    }

    #[test]
    fn covers_slash_unicode_and_double_escaping() {
        let all = patterns("a/b\"c é");
        assert!(all.contains(&r#"a\/b\"c é"#.as_bytes().to_vec()));
        assert!(all.contains(&br#"a/b\"c \u00e9"#.to_vec()));
        assert!(all.contains(&br#"a\u002fb\u0022c\u0020\u00e9"#.to_vec()));
        assert!(all.contains(&r#"a/b\\\"c é"#.as_bytes().to_vec()));
    }
}
