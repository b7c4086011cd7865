//! Percent-encoding at any depth: `%XX` decoded in every line that holds one.
//!
//! One level is forward-matched by the automaton; this layer is for the levels above it
//! (`%2541` is `%41` is `A`, as a URL encoded into a query parameter of another URL, or a
//! form value encoded twice). The decoded block goes through the pipeline again, so each
//! level peels one more, and the last one is the automaton's (which also knows `+` for a
//! space). `+` is left as it is here: decoding it would corrupt a literal `+` one level up.
//! Only lines holding `%25` (an encoded `%`, the mark of a second level) are decoded.

use super::escaped::{Decoded, Escaping};

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn escape_at(line: &[u8], at: usize) -> Option<u8> {
    let high = hex_value(*line.get(at + 1)?)?;
    let low = hex_value(*line.get(at + 2)?)?;
    Some(high << 4 | low)
}

/// Whether a line holds an encoded `%` (`%25`): one level of percent-encoding is the
/// automaton's, so only a line encoded twice or more needs decoding.
fn has_escape(line: &[u8]) -> bool {
    memchr::memchr_iter(b'%', line).any(|at| line[at + 1..].starts_with(b"25"))
}

fn decode(line: &[u8], at: u64, out: &mut Decoded) -> bool {
    let mut from = 0;
    for percent in memchr::memchr_iter(b'%', line) {
        if percent < from {
            continue;
        }
        let Some(byte) = escape_at(line, percent) else {
            continue;
        };
        out.bytes.extend_from_slice(&line[from..percent]);
        out.bytes.push(byte);
        from = percent + 3;
        out.mark(at + from as u64);
    }
    out.bytes.extend_from_slice(&line[from..]);
    false
}

pub(crate) fn escaping() -> Escaping {
    Escaping {
        encoding: "percent",
        has_escape,
        decode,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_memory;

    const SECRET: &[u8] = b"Zq7%p9 \"x'$\\w+Lm3Rt/8=";

    fn percent_encode(bytes: &[u8]) -> Vec<u8> {
        bytes
            .iter()
            .flat_map(|&b| {
                if b.is_ascii_alphanumeric() {
                    vec![b]
                } else {
                    format!("%{b:02X}").into_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn double_and_triple_encoding_are_peeled_once_each() {
        for levels in [2, 3] {
            let mut value = SECRET.to_vec();
            for _ in 0..levels {
                value = percent_encode(&value);
            }
            let mut sample = b"GET /login?next=https%3A%2F%2Fexample.com&token=".to_vec();
            sample.extend_from_slice(&value);
            sample.extend_from_slice(b" HTTP/1.1\n200 OK\n");
            assert!(memchr::memmem::find(&sample, SECRET).is_none());
            let places = scan_memory(SECRET, "access.log", &sample).places();
            assert_eq!(places.len(), 1, "{levels} levels: {places:?}");
            let expected = vec!["percent@0"; levels - 1].join(" › ");
            assert_eq!(
                places[0].0,
                format!("access.log › {expected}"),
                "{places:?}"
            );
        }
    }

    #[test]
    fn one_level_is_the_automaton_s_and_not_reported_twice() {
        let mut sample = b"token=".to_vec();
        sample.extend_from_slice(&percent_encode(SECRET));
        sample.extend_from_slice(b"&x=%41\n");
        let places = scan_memory(SECRET, "a.log", &sample).places();
        assert_eq!(places, vec![("a.log".to_string(), "percent".to_string())]);
    }
}
