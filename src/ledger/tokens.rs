//! Generic tokens: for ledger entries no rule recognises (a password, an unprefixed key),
//! every token of an entry's length and character class, delimited by bytes outside the
//! class or by a separator (`=`, `:`, `@`, ...).
//!
//! What this cannot see: a secret glued to more bytes of its own class (`xhunter2hunter2`
//! when the class is alnum), and a secret split by a line break.

use std::ops::Range;

use super::entry::{is_separator, CharClass};

/// A class compiled to a byte table, with the entry lengths it may hold.
#[derive(Debug, Clone)]
pub struct TokenClass {
    pub class: CharClass,
    member: [bool; 256],
    separator_inside: bool,
    lengths: Vec<usize>,
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
        }
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
        assert_eq!(found, ["abcd1234", "abcd1234"]);
    }

    #[test]
    fn printable_values_are_cut_at_separators() {
        let found = tokens(
            CharClass::Printable,
            vec![10],
            b"DB_PASSWORD=Tr0ub4d&r!\nuser:Tr0ub4d&r!@host",
        );
        assert_eq!(found, ["Tr0ub4d&r!", "Tr0ub4d&r!"]);
    }
}
