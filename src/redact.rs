//! Redaction: the one choke point every string passes before it leaves scour.
//!
//! Reports quote names (files, members, refs, link targets) and error texts from libraries,
//! and both can hold a secret: a damaged tar makes the tar library quote header bytes, a
//! file may be named after the token. So the finished [`Report`] is walked as a generic JSON
//! value (every string and every object key, whatever field a source added) and every match
//! of the matcher (every encoding, and hash-mode candidates for ledger entries, also in what
//! the decode layers decode from the string: see [`Redactor::with_text_scan`]), and every
//! 8-byte piece of a plaintext secret, is replaced by `[REDACTED:<secret id>]` before the
//! report is rendered or signed. Lines for stderr go through [`text`] with the redactor of
//! the last scan, installed by [`install`].
//!
//! A secret that surfaces only in such text (say, quoted by an error while no finding
//! names it) is content scour was asked about: the report then gets a finding for it (in
//! `report-text`), so it can never say `absent` or `incomplete` about a secret it saw.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use aho_corasick::AhoCorasick;
use serde_json::{Map, Value};

use crate::findings::{Finding, Location};
use crate::matcher::Matcher;
use crate::report::Report;
use crate::secret::Secret;
use crate::verdict::Verdict;

/// Pieces of a plaintext secret this long are redacted even where the whole secret is not
/// there (an error quoting one header field, a name cut short).
pub const FRAGMENT_LEN: usize = 8;

/// Finds secrets in text scour is about to write, and redacts them.
pub struct Redactor {
    matcher: Arc<Matcher>,
    /// Every `FRAGMENT_LEN`-byte window of each plaintext secret.
    fragments: Option<AhoCorasick>,
    /// For each fragment pattern, the secret it came from.
    fragment_secret: Vec<usize>,
    /// Secret ids by the matcher's secret index (plaintext secrets, then ledger entries).
    ids: Vec<String>,
    /// How a string is searched: the matcher alone, or (set by the scan, which knows the
    /// content pipeline) the matcher and the decode layers, which hash mode needs to see an
    /// encoded ledger entry.
    scan: TextScan,
}

/// Finds every hit in a string; a hit seen through a decoded run covers the whole run.
pub type TextScan = fn(&Matcher, &[u8]) -> Vec<crate::matcher::Hit>;

/// One redacted range of a string.
#[derive(Debug, Clone)]
struct Redaction {
    range: Range<usize>,
    secret: usize,
    /// The matcher pattern, when a whole encoded secret matched (not just a fragment).
    pattern: Option<usize>,
}

impl Redactor {
    /// A redactor for the secrets `matcher` was built from; `ids` name them as findings do.
    pub fn new(matcher: Arc<Matcher>, secrets: &[Secret], ids: Vec<String>) -> Redactor {
        // Windows borrowed from the secrets (no copy of a secret's bytes is made here),
        // sorted so that one shared by several secrets, or repeated in one, is kept once,
        // for the first secret that has it. (Checking each window against every kept one
        // was quadratic: 0.35 s of building the redactor for 1,000 secrets.)
        let mut windows: Vec<(&[u8], usize)> = secrets
            .iter()
            .enumerate()
            .flat_map(|(index, secret)| {
                secret
                    .expose()
                    .windows(FRAGMENT_LEN)
                    .map(move |window| (window, index))
            })
            .collect();
        windows.sort_unstable();
        windows.dedup_by(|later, earlier| later.0 == earlier.0);
        let fragment_secret = windows.iter().map(|&(_, index)| index).collect();
        let fragments = if windows.is_empty() {
            None
        } else {
            AhoCorasick::new(windows.iter().map(|&(window, _)| window)).ok()
        };
        Redactor {
            matcher,
            fragments,
            fragment_secret,
            ids,
            scan: Matcher::scan_slice,
        }
    }

    /// The redactor searching strings with `scan` instead of the matcher alone.
    pub fn with_text_scan(mut self, scan: TextScan) -> Redactor {
        self.scan = scan;
        self
    }

    fn id(&self, secret: usize) -> &str {
        self.ids.get(secret).map_or("?", String::as_str)
    }

    /// Every range of `text` to redact, merged, on character boundaries.
    fn find(&self, text: &str) -> Vec<Redaction> {
        let bytes = text.as_bytes();
        let mut found: Vec<Redaction> = Vec::new();
        for hit in (self.scan)(&self.matcher, bytes) {
            let start = (hit.offset as usize).min(bytes.len());
            let end = (start + hit.len as usize).min(bytes.len());
            found.push(Redaction {
                range: start..end,
                secret: self.matcher.pattern(hit.pattern).secret,
                pattern: Some(hit.pattern),
            });
        }
        if let Some(fragments) = &self.fragments {
            for m in fragments.find_overlapping_iter(bytes) {
                found.push(Redaction {
                    range: m.start()..m.end(),
                    secret: self.fragment_secret[m.pattern().as_usize()],
                    pattern: None,
                });
            }
        }
        merge(text, found)
    }

    /// `text` with every secret replaced by `[REDACTED:<id>]`.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let found = self.find(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.replace(text, &found))
    }

    fn replace(&self, text: &str, found: &[Redaction]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for redaction in found {
            out.push_str(&text[at..redaction.range.start]);
            out.push_str(&format!("[REDACTED:{}]", self.id(redaction.secret)));
            at = redaction.range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// The report with every string and key redacted; a secret seen only in such text gets a
    /// finding (see the module documentation), and the verdict follows.
    ///
    /// Findings and roots are walked one at a time, so memory stays proportional to one of
    /// them rather than to a second copy of the whole report.
    pub fn report(&self, mut report: Report) -> anyhow::Result<Report> {
        let mut surfaced = Vec::new();
        let findings = std::mem::take(&mut report.findings);
        let roots = std::mem::take(&mut report.coverage.roots);
        let mut redacted = self.part(report, vec![], &mut surfaced)?;
        redacted.findings = findings
            .into_iter()
            .enumerate()
            .map(|(i, f)| self.part(f, vec!["findings".into(), i.to_string()], &mut surfaced))
            .collect::<anyhow::Result<_>>()?;
        redacted.coverage.roots = roots
            .into_iter()
            .enumerate()
            .map(|(i, root)| {
                let pointer = vec!["coverage".into(), "roots".into(), i.to_string()];
                self.part(root, pointer, &mut surfaced)
            })
            .collect::<anyhow::Result<_>>()?;
        self.add_surfaced_findings(&mut redacted, surfaced);
        Ok(redacted)
    }

    /// One part of the report, walked as JSON; rebuilt only if something was redacted.
    fn part<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        part: T,
        mut pointer: Vec<String>,
        surfaced: &mut Vec<Surfaced>,
    ) -> anyhow::Result<T> {
        let mut value = serde_json::to_value(&part)
            .map_err(|e| anyhow::anyhow!("could not prepare the report for redaction: {e}"))?;
        if !self.walk(&mut value, &mut pointer, None, surfaced) {
            return Ok(part);
        }
        serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("could not rebuild the redacted report: {e}"))
    }

    fn walk(
        &self,
        value: &mut Value,
        pointer: &mut Vec<String>,
        place: Option<&[String]>,
        surfaced: &mut Vec<Surfaced>,
    ) -> bool {
        match value {
            Value::String(text) => {
                let found = self.find(text);
                if found.is_empty() {
                    return false;
                }
                for redaction in &found {
                    if let Some(pattern) = redaction.pattern {
                        surfaced.push(Surfaced {
                            pattern,
                            pointer: format!("/{}", pointer.join("/")),
                            place: place.map(<[String]>::to_vec),
                        });
                    }
                }
                *text = self.replace(text, &found);
                true
            }
            Value::Array(items) => {
                let mut changed = false;
                for (index, item) in items.iter_mut().enumerate() {
                    pointer.push(index.to_string());
                    changed |= self.walk(item, pointer, place, surfaced);
                    pointer.pop();
                }
                changed
            }
            Value::Object(map) => {
                // Keys first (ref names are keys), then values; a `chain` names the place
                // for whatever else this object says.
                let mut changed = self.redact_keys(map, pointer, place, surfaced);
                if let Some(chain) = map.get_mut("chain") {
                    pointer.push("chain".into());
                    changed |= self.walk(chain, pointer, place, surfaced);
                    pointer.pop();
                }
                let own_place: Option<Vec<String>> =
                    map.get("chain").and_then(Value::as_array).map(|chain| {
                        chain
                            .iter()
                            .filter_map(|c| c.as_str().map(str::to_string))
                            .collect()
                    });
                let place = own_place.as_deref().or(place);
                for (key, item) in map.iter_mut().filter(|(key, _)| *key != "chain") {
                    pointer.push(key.clone());
                    changed |= self.walk(item, pointer, place, surfaced);
                    pointer.pop();
                }
                changed
            }
            _ => false,
        }
    }

    fn redact_keys(
        &self,
        map: &mut Map<String, Value>,
        pointer: &mut [String],
        place: Option<&[String]>,
        surfaced: &mut Vec<Surfaced>,
    ) -> bool {
        let dirty: Vec<String> = map
            .keys()
            .filter(|key| !self.find(key).is_empty())
            .cloned()
            .collect();
        let changed = !dirty.is_empty();
        for key in dirty {
            let Some(item) = map.remove(&key) else {
                continue;
            };
            let found = self.find(&key);
            for redaction in &found {
                if let Some(pattern) = redaction.pattern {
                    surfaced.push(Surfaced {
                        pattern,
                        pointer: format!("/{} (a key)", pointer.join("/")),
                        place: place.map(<[String]>::to_vec),
                    });
                }
            }
            let mut clean = self.replace(&key, &found);
            // Two keys may redact alike: keep both entries.
            let mut copy = 1;
            while map.contains_key(&clean) {
                copy += 1;
                clean = format!("{} ({copy})", self.replace(&key, &found));
            }
            map.insert(clean, item);
        }
        changed
    }

    fn add_surfaced_findings(&self, report: &mut Report, surfaced: Vec<Surfaced>) {
        let first_root = report.coverage.roots.first().map(|r| r.root.clone());
        let mut added = Vec::new();
        for seen in surfaced {
            let info = self.matcher.pattern(seen.pattern);
            let id = self.id(info.secret).to_string();
            let known = report.findings.iter().any(|f| f.secret == id)
                || added.iter().any(|f: &Finding| f.secret == id);
            if known {
                continue;
            }
            let chain = seen
                .place
                .or_else(|| first_root.clone().map(|root| vec![root]))
                .unwrap_or_default();
            added.push(Finding {
                secret: id,
                encoding: info.encoding.to_string(),
                encoding_detail: format!(
                    "{}; seen in text scour wrote about this place ({}), such as a name or an \
                     error message quoting its bytes",
                    info.detail, seen.pointer
                ),
                mode: info.mode,
                location: Location {
                    chain,
                    offset: 0,
                    line: 0,
                    column: 0,
                    within: Some("report-text".into()),
                },
                git: None,
                more: 0,
                store: None,
            });
        }
        if added.is_empty() {
            return;
        }
        report.findings.extend(added);
        report.summary.findings = report.findings.len();
        report.verdict = Verdict::decide(report.findings.len(), report.coverage.gap_count());
    }
}

/// A whole secret seen in report text, and where.
struct Surfaced {
    pattern: usize,
    pointer: String,
    place: Option<Vec<String>>,
}

/// Sorted, merged ranges widened to character boundaries of `text`.
fn merge(text: &str, mut found: Vec<Redaction>) -> Vec<Redaction> {
    for redaction in &mut found {
        let Range { mut start, mut end } = redaction.range;
        end = end.min(text.len());
        start = start.min(end);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        redaction.range = start..end;
    }
    // Whole-secret matches before fragments at the same start, so they name the finding.
    found.sort_by_key(|r| (r.range.start, r.pattern.is_none()));
    let mut merged: Vec<Redaction> = Vec::with_capacity(found.len());
    for redaction in found {
        match merged.last_mut() {
            Some(last) if redaction.range.start <= last.range.end => {
                last.range.end = last.range.end.max(redaction.range.end);
                if last.pattern.is_none() {
                    last.pattern = redaction.pattern;
                }
            }
            _ => merged.push(redaction),
        }
    }
    merged
}

/// The redactor of the scan that ran last in this process, for lines written to stderr.
static INSTALLED: RwLock<Option<Arc<Redactor>>> = RwLock::new(None);

/// Makes `redactor` the one [`text`] uses.
pub fn install(redactor: Arc<Redactor>) {
    let mut slot = INSTALLED.write().unwrap_or_else(|p| p.into_inner());
    *slot = Some(redactor);
}

/// `line` redacted with the installed redactor (unchanged before any scan built one).
pub fn text(line: &str) -> String {
    let slot = INSTALLED.read().unwrap_or_else(|p| p.into_inner());
    match slot.as_ref() {
        Some(redactor) => redactor.redact(line).into_owned(),
        None => line.to_string(),
    }
}

/// Panic messages never reach stderr: a parser that panics on hostile input may quote that
/// input (see [`crate::source::contain`], which turns the unit into a gap). This replaces
/// the default panic hook (which prints the payload) with one that prints a fixed
/// line and where in scour's code the panic happened, for the first panic only (a damaged
/// pack can make every object panic; each is a gap in the report anyway).
pub fn install_panic_hook() {
    static SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if SHOWN.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("scour: internal error{place}: a parser panicked; the unit is recorded as a gap");
    }));
}

/// A rendered report (JSON, SARIF, text, envelope) checked once more as a whole before it
/// is written: anything that reached the report without passing the recorder (the branch
/// and remote names recorded for SARIF with each root) is redacted too. Clean output is
/// returned unchanged.
pub fn output(rendered: Vec<u8>) -> Vec<u8> {
    let slot = INSTALLED.read().unwrap_or_else(|p| p.into_inner());
    let Some(redactor) = slot.as_ref() else {
        return rendered;
    };
    let text = String::from_utf8_lossy(&rendered);
    if redactor.find(&text).is_empty() {
        return rendered;
    }
    if let Ok(mut value) = serde_json::from_slice::<Value>(&rendered) {
        redactor.walk(&mut value, &mut Vec::new(), None, &mut Vec::new());
        if let Ok(mut bytes) = serde_json::to_vec_pretty(&value) {
            bytes.push(b'\n');
            return bytes;
        }
    }
    redactor.redact(&text).into_owned().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secret: &[u8]) -> Redactor {
        let secrets = vec![Secret::new(secret.to_vec(), "test").expect("secret")];
        let matcher = Arc::new(Matcher::new(&secrets).expect("matcher"));
        Redactor::new(matcher, &secrets, vec!["abcd".into()])
    }

    #[test]
    fn whole_secrets_in_any_encoding_are_redacted() {
        let r = redactor(b"tok_4f9a2b7c9d");
        assert_eq!(
            r.redact("a tok_4f9a2b7c9d b"),
            "a [REDACTED:abcd] b".to_string()
        );
        // hex
        let hex = hex::encode(b"tok_4f9a2b7c9d");
        assert_eq!(r.redact(&format!("x{hex}y")), "x[REDACTED:abcd]y");
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn pieces_of_a_secret_are_redacted_too() {
        let r = redactor(b"0123456789abcdefghij");
        let out = r.redact("field 6789abcdefg was not a number");
        assert_eq!(out, "field [REDACTED:abcd] was not a number");
    }

    #[test]
    fn redaction_keeps_text_valid_around_multibyte_characters() {
        let r = redactor(b"secret-\xc3\xa9t\xc3\xa9-token");
        let out = r.redact("é secret-été-token é");
        assert_eq!(out, "é [REDACTED:abcd] é");
    }
}
