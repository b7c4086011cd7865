//! Backslash escapes, in every dialect at once: JSON (`\"`, `\/`, `\uXXXX` with surrogate
//! pairs), C and Python (`\x41`, octal `\101`, `\n`, `\"`, `\'`), Go `%q`, Java
//! `.properties` (`\:`, `\=`, `\ `, `\uXXXX`, a trailing `\` continuing the value on the next
//! line, whose leading blanks are dropped), YAML double-quoted scalars (the same escaped line
//! breaks), shell `printf %q` (`\` before every special character) and `$'...'` ANSI-C
//! quoting.
//!
//! The dialects agree wherever a writer would escape a printable character: a backslash
//! before anything that is not a letter or digit stands for that character, `\\` for one
//! backslash. They differ on a few letters (`\e`, `\a`, `\v`), decoded as C does; no
//! writer escapes a plain letter, so reading them either way cannot split a secret.

use super::escaped::{Decoded, Escaping};
use super::wake::Atom;

fn hex_digits(line: &[u8], from: usize, max: usize) -> (u32, usize) {
    let mut value = 0;
    let mut count = 0;
    while count < max {
        match line
            .get(from + count)
            .and_then(|&b| (b as char).to_digit(16))
        {
            Some(digit) => value = value << 4 | digit,
            None => break,
        }
        count += 1;
    }
    (value, count)
}

fn push_char(out: &mut Vec<u8>, code: u32) -> bool {
    match char::from_u32(code) {
        Some(c) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            true
        }
        None => false,
    }
}

/// Decodes the escape whose backslash is at `at`; returns the bytes it used (0: it is a
/// line continuation).
fn escape(line: &[u8], at: usize, out: &mut Vec<u8>) -> usize {
    let Some(&next) = line.get(at + 1) else {
        return 0;
    };
    let simple = match next {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'a' => Some(7),
        b'e' | b'E' => Some(0x1b),
        _ => None,
    };
    if let Some(byte) = simple {
        out.push(byte);
        return 2;
    }
    match next {
        b'0'..=b'7' => {
            let mut value = 0u32;
            let mut count = 0;
            while count < 3 {
                match line.get(at + 1 + count) {
                    Some(&d @ b'0'..=b'7') => value = value << 3 | u32::from(d - b'0'),
                    _ => break,
                }
                count += 1;
            }
            out.push(value as u8);
            1 + count
        }
        b'x' => match hex_digits(line, at + 2, 2) {
            (_, 0) => {
                out.push(b'x');
                2
            }
            (value, count) => {
                out.push(value as u8);
                2 + count
            }
        },
        b'u' | b'U' => {
            let width = if next == b'u' { 4 } else { 8 };
            let (code, count) = hex_digits(line, at + 2, width);
            if count < width {
                out.push(next);
                return 2;
            }
            // A UTF-16 surrogate pair written as two escapes (JSON, Java).
            if (0xd800..0xdc00).contains(&code) && line.get(at + 6..at + 8) == Some(b"\\u") {
                let (low, low_count) = hex_digits(line, at + 8, 4);
                if low_count == 4 && (0xdc00..0xe000).contains(&low) {
                    let combined = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                    if push_char(out, combined) {
                        return 12;
                    }
                }
            }
            if !push_char(out, code) {
                out.extend_from_slice(&line[at..at + 2 + width]);
            }
            2 + width
        }
        other => {
            out.push(other);
            2
        }
    }
}

/// Whether a line holds an escape that can be part of a secret: `\n`, `\t`, `\r`, `\b`
/// and `\f` stand for control characters a printable secret never holds, so a log or a C
/// string with only those costs no second pass; anything else (`\\`, `\"`, `\x41`, octal,
/// `\u0027`, `\:`, `\ `, `\$`) or a continuation at the end of the line is decoded. (`\\`
/// and `\"` alone are not left to the automaton's JSON variants: a `.properties` file
/// escapes the backslash of a secret but not its `"`.)
fn has_escape(line: &[u8]) -> bool {
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'\\', &line[from..]) {
        let at = from + found;
        match line.get(at + 1) {
            None => return true,
            Some(b'n' | b't' | b'r' | b'b' | b'f') => from = at + 2,
            Some(_) => return true,
        }
    }
    false
}

fn decode(line: &[u8], at: u64, out: &mut Decoded) -> bool {
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'\\', &line[from..]) {
        let backslash = from + found;
        out.bytes.extend_from_slice(&line[from..backslash]);
        let used = escape(line, backslash, &mut out.bytes);
        if used == 0 {
            return true;
        }
        from = backslash + used;
        out.mark(at + from as u64);
    }
    out.bytes.extend_from_slice(&line[from..]);
    false
}

pub(crate) fn escaping() -> Escaping {
    Escaping {
        encoding: "backslash",
        wake: Atom::TextByte(b'\\'),
        has_escape,
        decode,
    }
}

#[cfg(test)]
mod tests {
    use super::super::escaped::Decoded;
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"Kp9 \"q'$\\x:=Zr#7!Lw&uT2";

    fn decoded(line: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Decoded::new();
        let continued = super::decode(line, 0, &mut out);
        (out.bytes, continued)
    }

    /// underscore.js: a regex of lone surrogates, whose escapes stay as they are. Decoding it
    /// again and again went down to the nesting limit: a false `limit-exceeded` gap on a
    /// clean file.
    #[test]
    fn escapes_that_decode_to_themselves_are_not_followed() {
        let source = br"var reStrSymbol = /[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g;
  var escapeRegExp = /\\|'|\r|\n|\u2028|\u2029/g;
";
        let scanned = scan_memory(SECRET, "underscore.js", source);
        assert!(scanned.findings.is_empty());
        assert!(scanned.gaps.is_empty(), "{:?}", scanned.gaps);
    }

    #[test]
    fn every_dialect_decodes() {
        assert_eq!(decoded(br#"a\"b\\c\/d"#).0, b"a\"b\\c/d");
        assert_eq!(
            decoded(br"\x41\101\u00e9\ud83d\ude00").0,
            "AAé😀".as_bytes()
        );
        assert_eq!(decoded(br"key\:x\=y\ z").0, b"key:x=y z");
        assert_eq!(decoded(br"a\$b\'c\ d\!").0, b"a$b'c d!");
        assert_eq!(decoded(br"\x").0, b"x");
        assert_eq!(decoded(br"\u12").0, b"u12");
        assert_eq!(decoded(b"abc\\"), (b"abc".to_vec(), true));
        assert_eq!(decoded(b"abc\\\\"), (b"abc\\".to_vec(), false));
    }

    #[test]
    fn every_character_escaped_is_found() {
        let escaped: String = SECRET.iter().map(|b| format!("\\x{b:02x}")).collect();
        let sample = format!("const char *key = \"{escaped}\";\n");
        assert!(memchr::memmem::find(sample.as_bytes(), SECRET).is_none());
        let places = scan_memory(SECRET, "key.c", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert_eq!(places[0].0, "key.c › backslash@0");
    }

    #[test]
    fn a_properties_value_continued_over_lines_is_joined() {
        let mut escaped = String::new();
        for &b in SECRET {
            if matches!(b, b':' | b'=' | b' ' | b'#' | b'!' | b'\\') {
                escaped.push('\\');
            }
            escaped.push(b as char);
        }
        let (head, tail) = escaped.split_at(9);
        let sample =
            format!("# app\ndb.user=admin\ndb.password={head}\\\n        {tail}\nnext=1\n");
        let places = scan_memory(SECRET, "app.properties", sample.as_bytes()).places();
        assert_eq!(places.len(), 1, "{places:?}");
        assert!(
            places[0].0.starts_with("app.properties › backslash@"),
            "{places:?}"
        );
    }

    #[test]
    fn a_plain_secret_on_an_escaped_line_is_reported_once() {
        let mut sample =
            br#"{"a":"x\ny\tz\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041","k":""#.to_vec();
        sample.extend_from_slice(b"Kp9Zr7LwuT2abcdefgh");
        sample.extend_from_slice(b"\"}\n");
        let secret = b"Kp9Zr7LwuT2abcdefgh";
        let places = scan_memory(secret, "a.json", &sample).places();
        assert_eq!(places, vec![("a.json".to_string(), "raw".to_string())]);
    }
}
