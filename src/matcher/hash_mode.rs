//! Hash mode inside the matcher: ledger entries as patterns, candidates from the same
//! windows as plaintext matches.
//!
//! Each ledger entry gets a [`PatternInfo`] after the plaintext patterns (its `secret` index
//! continues after the plaintext secrets), so sources and the recorder handle ledger hits
//! like any other [`Hit`]; `Hit::ledger` says how the entry was seen.

use std::ops::Range;
use std::sync::Arc;

use super::{Edges, Hit, Matcher, Mode, PatternInfo};
use crate::ledger::{Extractor, Index, Ledger};
use crate::rules::RuleSet;
use crate::secret::Secret;

impl Matcher {
    /// A matcher for plaintext `secrets` (possibly none) and for every entry of `ledger`,
    /// found by hash through candidates that `rules` and the entries' classes define.
    pub fn with_ledger(
        secrets: &[Secret],
        ledger: &Ledger,
        rules: RuleSet,
    ) -> anyhow::Result<Matcher> {
        let mut matcher = Matcher::new(secrets)?;
        let index = Index::new(ledger)?;
        for (number, entry) in ledger.entries.iter().enumerate() {
            matcher.patterns.push(PatternInfo {
                secret: secrets.len() + number,
                encoding: "ledger",
                detail: Arc::from(format!("ledger entry {}", entry.id)),
                edges: Edges::default(),
                len: entry.length,
                mode: Mode::Ledger,
            });
        }
        matcher.shortest = super::shortest_of(&matcher.patterns);
        matcher.extractor = Some(Extractor::new(rules, index));
        Ok(matcher)
    }

    /// The hash-mode extractor, when the matcher was built with a ledger.
    pub fn extractor(&self) -> Option<&Extractor> {
        self.extractor.as_ref()
    }

    /// Ledger hits starting inside `starts`, one per (start, entry), with `offset` still the
    /// start in `window` (the caller adds lines and columns).
    pub(crate) fn candidate_hits(
        &self,
        window: &[u8],
        starts: Range<usize>,
        complete: bool,
    ) -> Vec<Hit> {
        let Some(extractor) = &self.extractor else {
            return Vec::new();
        };
        let mut hits: Vec<Hit> = Vec::new();
        extractor.for_each_hit(window, starts, complete, &mut |found| {
            hits.push(Hit {
                pattern: self.plaintext_patterns + found.via.entry as usize,
                offset: found.start as u64,
                len: found.len as u64,
                line: 0,
                column: 0,
                ledger: Some(found.via),
            })
        });
        // The same entry at the same place through a rule and a generic token is one
        // finding; the rule's wins.
        hits.sort_by_key(|hit| (hit.offset, hit.pattern));
        hits.dedup_by_key(|hit| (hit.offset, hit.pattern));
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::testing::ledger_of;

    fn matcher(secrets: &[&[u8]]) -> Matcher {
        Matcher::with_ledger(&[], &ledger_of(secrets), RuleSet::builtin().unwrap()).unwrap()
    }

    /// Where each ledger hit of `hay` starts.
    fn starts(m: &Matcher, hay: &[u8]) -> Vec<u64> {
        m.scan_slice(hay)
            .iter()
            .filter(|h| h.ledger.is_some())
            .map(|h| h.offset)
            .collect()
    }

    #[test]
    fn finds_a_rule_token_raw() {
        // 36 characters after the prefix: the github-pat-classic rule recognises it.
        let token = b"ghp_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken123";
        let m = matcher(&[token]);
        let hay = [b"raw ".as_slice(), token, b" tail\n"].concat();
        assert_eq!(starts(&m, &hay), [4]);
        let hit = m.scan_slice(&hay)[0];
        assert!(hit.ledger.is_some_and(|via| via.rule.is_some()));
        // 35: no rule does, so the generic token path must.
        let token = b"ghp_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken12";
        let m = matcher(&[token]);
        let hay = [b"raw ".as_slice(), token, b" tail\n"].concat();
        assert_eq!(starts(&m, &hay), [4]);
    }

    #[test]
    fn encoded_content_is_not_the_matcher_s_to_decode() {
        // Decoding is the content pipeline's (its decode layers send decoded runs through
        // the matcher again): the matcher sees candidates of the bytes it is given.
        let token = b"ghp_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken123";
        let m = matcher(&[token]);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, token);
        assert!(starts(&m, b64.as_bytes()).is_empty());
    }

    #[test]
    fn a_generic_password_is_found_delimited_or_glued() {
        let m = matcher(&[b"Tr0ub4dor&3x"]);
        assert_eq!(starts(&m, b"DB_PASSWORD=Tr0ub4dor&3x\n"), [12]);
        assert_eq!(starts(&m, b"xTr0ub4dor&3xy"), [1]);
        // Glued to any number of bytes of its class: the entry's sieve finds the window.
        let far = format!("{}Tr0ub4dor&3x{}", "q".repeat(900), "q".repeat(80));
        assert_eq!(starts(&m, far.as_bytes()), [900]);
    }

    #[test]
    fn without_a_sieve_only_short_glue_is_seen() {
        let mut ledger = ledger_of(&[b"Tr0ub4dor&3x"]);
        ledger.entries[0].sieve = None;
        let m = Matcher::with_ledger(&[], &ledger, RuleSet::builtin().unwrap()).unwrap();
        assert_eq!(starts(&m, b"xTr0ub4dor&3xy"), [1]);
        // Glued to more than MAX_GLUE bytes of its class in all: the documented limit of
        // entries written before sieves existed.
        let far = format!("{}Tr0ub4dor&3x{}", "q".repeat(9), "q".repeat(8));
        assert!(starts(&m, far.as_bytes()).is_empty());
    }

    #[test]
    fn an_unprefixed_key_glued_to_letters_or_a_colour_code_is_found() {
        // Matches no rule (no known prefix), so only generic candidates can see it.
        let key = b"Zq8xLm2Wv9Rt4Yp7Kd3N";
        let m = matcher(&[key]);
        let key = std::str::from_utf8(key).unwrap();
        for hay in [
            format!("xyz{key}\n"),
            format!("{key}xyz\n"),
            format!("token: \x1b[31m{key}\x1b[0m\n"),
            format!("\x1b[1;32mABC{key}\n"),
            format!("{}{key}\n", "x".repeat(40)),
            format!("\x1b[31mLONGPREFIXOFLETTERSANDDIGITS0123456789{key}TAIL\x1b[0m\n"),
        ] {
            assert!(!starts(&m, hay.as_bytes()).is_empty(), "{hay:?}");
        }
    }

    #[test]
    fn a_ledger_entry_split_by_a_colour_code_is_found_in_the_terminal_view() {
        let m = matcher(&[b"Zq8xLm2Wv9Rt4Yp7Kd3N"]);
        let hay = b"token: Zq8xLm2Wv9\x1b[1;31mRt4Yp7Kd3N\x1b[0m\n";
        assert!(m.scan_slice(hay).is_empty(), "not visible in the raw bytes");
        let mut view = crate::matcher::normalise::TerminalView::new(&m);
        view.feed(hay);
        let hits = view.finish();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!((hits[0].offset, hits[0].line, hits[0].column), (7, 1, 8));
        assert!(hits[0].ledger.is_some());
    }

    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn candidates_straddling_windows_are_found_once() {
        let token = b"npm_R4nd0mT0kenR4nd0mT0kenR4nd0mT0ken123";
        let password = b"plain+pass/word99";
        let m = matcher(&[token, password]);
        let mut data = vec![b' '; (1 << 20) * 2 + 12345];
        let mut expected = Vec::new();
        for (n, at) in [
            5usize,
            (1 << 20) - 20,
            (1 << 20) + 40,
            (2 << 20) - 30,
            2 << 20,
        ]
        .into_iter()
        .enumerate()
        {
            let secret: &[u8] = if n % 2 == 0 { token } else { password };
            data[at..at + secret.len()].copy_from_slice(secret);
            expected.push(at as u64);
        }
        for step in [1 << 20, 4093] {
            let reader = Trickle { data: &data, step };
            let outcome = m.scan_reader(reader, &mut super::super::ScanBuffer::new(), &mut |_| {});
            let mut offsets: Vec<u64> = outcome.hits.iter().map(|h| h.offset).collect();
            offsets.sort_unstable();
            assert_eq!(offsets, expected, "step {step}");
        }
    }
}
