//! Generic tokens: for ledger entries no rule recognises (a password, an unprefixed key),
//! every token of an entry's length and character class, delimited by bytes outside the
//! class or by a separator (`=`, `:`, `@`, ...), and every window of an entry's length in a
//! run of the class up to [`MAX_GLUE`] bytes longer than the entry: a secret glued to a few
//! bytes of its own class (`xyz<secret>`, the `31m` of a colour code `ESC[31m<secret>`,
//! `<secret>EOF`) is still a candidate.
//!
//! Every window of every run would cost one SHA-256 per byte per entry length (a 76-byte
//! base64 line against 20 entry lengths is 1,100 hashes), so windows are taken only where
//! the glue is short, and only for the lengths entries have.
//!
//! Longer glue is covered for entries that have a sieve ([`super::sieve`]): every window of
//! an entry's length in a run is tested with a rolling hash, and only windows that pass are
//! hashed with SHA-256.
//!
//! What this cannot see: for entries without a sieve (written by an older `ledger add`), a
//! secret glued to more than [`MAX_GLUE`] bytes of its own class in all; for every entry, a
//! secret split by a line break.

use std::ops::Range;

use super::entry::{is_separator, CharClass};
use super::sieve::WindowSieve;

/// Bytes of the class a secret may be glued to, before and after it together, and still be
/// a candidate.
pub const MAX_GLUE: usize = 16;

/// A class compiled to a byte table, with the entry lengths it may hold.
#[derive(Debug, Clone)]
pub struct TokenClass {
    pub class: CharClass,
    member: [bool; 256],
    separator_inside: bool,
    lengths: Vec<usize>,
    /// Tests every window of a long run for the entries that have sieves.
    sieve: Option<WindowSieve>,
}

impl TokenClass {
    pub fn new(class: CharClass, lengths: Vec<usize>) -> TokenClass {
        let mut member = [false; 256];
        for byte in 0..=255u8 {
            member[byte as usize] = class.contains(byte);
        }
        let separator_inside = (0..=255u8).any(|b| member[b as usize] && is_separator(b));
        TokenClass {
            class,
            member,
            separator_inside,
            lengths,
            sieve: None,
        }
    }

    /// Every window of an entry's length in a long run is then tested against the entries'
    /// sieves, however much glue surrounds it.
    pub fn with_sieve(mut self, sieve: Option<WindowSieve>) -> TokenClass {
        self.sieve = sieve;
        self
    }

    /// Calls `on_token` for every candidate token starting inside `starts`.
    pub fn for_each_token(
        &self,
        bytes: &[u8],
        starts: Range<usize>,
        complete: bool,
        on_token: &mut dyn FnMut(Range<usize>),
    ) {
        let Some(&shortest) = self.lengths.first() else {
            return;
        };
        let limit = starts.end.min(bytes.len());
        // A run that straddles `starts.start` may still hold candidates starting inside.
        super::runs::for_each_long_run(
            bytes,
            starts.start,
            limit,
            shortest,
            &self.member,
            &mut |run| self.candidates_in_run(bytes, run, &starts, complete, on_token),
        );
    }

    fn candidates_in_run(
        &self,
        bytes: &[u8],
        run: Range<usize>,
        starts: &Range<usize>,
        complete: bool,
        on_token: &mut dyn FnMut(Range<usize>),
    ) {
        let end_known = run.end < bytes.len() || complete;
        let ends_ok = |end: usize| {
            if end == run.end {
                end_known
            } else {
                is_separator(bytes[end])
            }
        };
        let mut try_start = |start: usize| {
            if !starts.contains(&start) {
                return;
            }
            for &length in &self.lengths {
                let end = start + length;
                if end > run.end {
                    break;
                }
                if ends_ok(end) {
                    on_token(start..end);
                }
            }
        };
        try_start(run.start);
        if self.separator_inside {
            for at in run.clone() {
                if is_separator(bytes[at]) && at + 1 < run.end {
                    try_start(at + 1);
                }
            }
        }
        self.glued_windows(bytes, &run, starts, on_token);
        if let Some(sieve) = &self.sieve {
            // A window found here and above is looked up twice and reported once.
            if starts.start < starts.end {
                sieve.for_each_window(bytes, run, starts.start, starts.end - 1, on_token);
            }
        }
    }

    /// Every window of an entry's length inside `run` glued to at most [`MAX_GLUE`] bytes
    /// of the class in all: the bytes between the window and the separator (or run end)
    /// nearest it on each side. A window with no glue is a delimited token, already a
    /// candidate. The window itself may hold separators (a password with `&` in it).
    fn glued_windows(
        &self,
        bytes: &[u8],
        run: &Range<usize>,
        starts: &Range<usize>,
        on_token: &mut dyn FnMut(Range<usize>),
    ) {
        // Where glue may begin on the left: the run's start and just after each separator.
        let mut anchors = vec![run.start];
        if self.separator_inside {
            anchors.extend(
                run.clone()
                    .filter(|&at| is_separator(bytes[at]))
                    .map(|at| at + 1),
            );
        }
        let right_glue = |end: usize| -> Option<usize> {
            let look = &bytes[end..run.end.min(end + MAX_GLUE + 1)];
            match look
                .iter()
                .position(|&b| self.separator_inside && is_separator(b))
            {
                Some(glue) => Some(glue),
                None if end + look.len() == run.end => Some(look.len()),
                None => None,
            }
        };
        for &length in &self.lengths {
            if length >= run.len() {
                break;
            }
            for (n, &anchor) in anchors.iter().enumerate() {
                // Left glue holds no separator: it ends before the next one.
                let next_anchor = anchors.get(n + 1).map_or(run.end + 1, |&a| a);
                let last_start = (anchor + MAX_GLUE).min(next_anchor - 1);
                for start in anchor..=last_start {
                    let end = start + length;
                    if end > run.end {
                        break;
                    }
                    if !starts.contains(&start) {
                        continue;
                    }
                    let Some(right) = right_glue(end) else {
                        continue;
                    };
                    let glue = start - anchor + right;
                    if glue > 0 && glue <= MAX_GLUE {
                        on_token(start..end);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(class: CharClass, lengths: Vec<usize>, bytes: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        TokenClass::new(class, lengths).for_each_token(bytes, 0..bytes.len(), true, &mut |r| {
            found.push(String::from_utf8_lossy(&bytes[r]).into_owned())
        });
        found
    }

    #[test]
    fn delimited_tokens_of_the_length_are_candidates() {
        let found = tokens(
            CharClass::Alnum,
            vec![8],
            b"pw=abcd1234;x abcd12345 abcd1234",
        );
        // The 9-byte token holds two glued windows of the length as well.
        assert_eq!(found, ["abcd1234", "abcd1234", "bcd12345", "abcd1234"]);
    }

    #[test]
    fn tokens_glued_to_a_few_class_bytes_are_candidates() {
        let found = tokens(
            CharClass::Alnum,
            vec![8],
            b"xyzabcd1234 31mabcd1234 abcd1234EOF",
        );
        let whole = found.iter().filter(|f| *f == "abcd1234").count();
        assert_eq!(whole, 3, "{found:?}");
        // Every window of the length in a run up to MAX_GLUE longer, each once.
        let run = "a".repeat(8 + MAX_GLUE);
        assert_eq!(
            tokens(CharClass::Alnum, vec![8], run.as_bytes()).len(),
            MAX_GLUE + 1
        );
        let longer = "a".repeat(8 + MAX_GLUE + 1);
        assert!(tokens(CharClass::Alnum, vec![8], longer.as_bytes()).is_empty());
    }

    #[test]
    fn printable_values_are_cut_at_separators() {
        let hay = b"DB_PASSWORD=Tr0ub4d&r!\nuser:Tr0ub4d&r!@host";
        let found = tokens(CharClass::Printable, vec![10], hay);
        assert_eq!(
            found.iter().filter(|t| *t == "Tr0ub4d&r!").count(),
            2,
            "{found:?}"
        );
        // Glue never crosses a separator: no window starts inside `DB_PASSWORD` and leaves
        // more than MAX_GLUE bytes between it and the nearest separators.
        let long = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=Tr0ub4d&r!";
        let found = tokens(CharClass::Printable, vec![10], long);
        assert!(found.iter().all(|t| !t.starts_with("AAAA")), "{found:?}");
        assert!(found.contains(&"Tr0ub4d&r!".to_string()));
    }
}
