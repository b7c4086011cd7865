//! Token-format rules: how to recognise a secret by its shape, without knowing it.
//!
//! A rule (one `[[rule]]` table in a `rules/*.toml` file, one file per provider family) has
//! an id, a description, a regex whose `secret` capture group is the secret, cheap literal
//! keywords of which one must occur near a match, examples that must and must not match,
//! and, when the format defines one, the public prefix (`ghp_`, `xoxb-`) that says what
//! kind of secret it is without saying which.
//!
//! All rules are compiled once into a [`RuleSet`]: one keyword automaton finds the keywords
//! of every rule in one pass (for rules whose regex starts with `(?i`, in lower, UPPER and
//! Capitalized form), and a rule's regex runs only on the region just around its own
//! keywords. The
//! keyword prefilter is what keeps rules cheap on ordinary data.
//!
//! Rules are embedded in the binary ([`embedded`]), so `scour` finds them from any
//! directory; `rules/` stays the source of truth.

mod check;
mod embedded;

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use serde::Deserialize;

pub use check::{check, CheckFailure};

/// How far before a keyword a rule's match may begin (e.g. `abc8Q~...`: three bytes).
pub(crate) const KEYWORD_BACK: usize = 64;
/// How far past a keyword a match may end unless the rule sets `max_len`. A rule whose
/// regex can match more must set it, or longer matches are cut short.
const DEFAULT_MAX_LEN: usize = 256;

/// One rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub regex: Regex,
    pub keywords: Vec<String>,
    /// The non-secret prefix the format defines, if any (e.g. `ghp_`).
    pub prefix: Option<String>,
    /// Longest match the rule looks for, in bytes.
    pub max_len: usize,
    /// Fake examples that must produce a `secret` capture.
    pub matches: Vec<String>,
    /// Fake examples that must not.
    pub no_match: Vec<String>,
    /// Which file the rule came from, for messages.
    pub file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSource {
    id: String,
    description: String,
    regex: String,
    keywords: Vec<String>,
    prefix: Option<String>,
    max_len: Option<usize>,
    matches: Vec<String>,
    no_match: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct KeywordOwner {
    rule: usize,
}

/// The keyword search: SIMD "Teddy" searchers over groups of keywords when they can be
/// built (several times faster than an automaton on ordinary text), else one automaton.
/// Both report leftmost, non-overlapping occurrences per group; [`expand_owners`] makes up
/// for the occurrences that hides.
enum KeywordSearch {
    Packed(Vec<(aho_corasick::packed::Searcher, usize)>),
    Automaton(AhoCorasick),
}

/// Keywords per packed searcher; Teddy is fast up to a few dozen patterns.
const PACKED_GROUP: usize = 40;

impl KeywordSearch {
    fn new(keywords: &[String]) -> anyhow::Result<KeywordSearch> {
        let packed: Option<Vec<_>> = keywords
            .chunks(PACKED_GROUP)
            .enumerate()
            .map(|(group, chunk)| {
                aho_corasick::packed::Config::new()
                    .builder()
                    .extend(chunk)
                    .build()
                    .map(|searcher| (searcher, group * PACKED_GROUP))
            })
            .collect();
        if let Some(packed) = packed {
            return Ok(KeywordSearch::Packed(packed));
        }
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(keywords)
            .map(KeywordSearch::Automaton)
            .map_err(|e| anyhow::anyhow!("could not compile the rules' keywords: {e}"))
    }

    /// Calls `on_keyword(keyword index, start, end)` for occurrences in `haystack`.
    fn for_each(&self, haystack: &[u8], on_keyword: &mut dyn FnMut(usize, usize, usize)) {
        match self {
            KeywordSearch::Packed(searchers) => {
                for (searcher, first) in searchers {
                    for found in searcher.find_iter(haystack) {
                        on_keyword(
                            first + found.pattern().as_usize(),
                            found.start(),
                            found.end(),
                        );
                    }
                }
            }
            KeywordSearch::Automaton(automaton) => {
                for found in automaton.find_iter(haystack) {
                    on_keyword(found.pattern().as_usize(), found.start(), found.end());
                }
            }
        }
    }
}

/// For each keyword, its own rule plus the rules of every keyword an occurrence of it could
/// hide from a non-overlapping search: keywords inside it, and keywords that could overlap
/// its start or end. Regions around the found keyword are wide enough for those.
fn expand_owners(keywords: &[String], owners: &[KeywordOwner]) -> Vec<Vec<usize>> {
    let overlaps = |a: &str, b: &str| {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        a.windows(b.len()).any(|w| w == b)
            || (1..a.len().min(b.len())).any(|n| a.ends_with(&b[..n]) || b.ends_with(&a[..n]))
    };
    keywords
        .iter()
        .enumerate()
        .map(|(index, keyword)| {
            let mut rules = vec![owners[index].rule];
            for (other, candidate) in keywords.iter().enumerate() {
                if other != index && overlaps(keyword, candidate) {
                    rules.push(owners[other].rule);
                }
            }
            rules.sort_unstable();
            rules.dedup();
            rules
        })
        .collect()
}

/// Every rule, with the keyword automata that decide where each rule's regex runs.
pub struct RuleSet {
    rules: Vec<Rule>,
    keywords: KeywordSearch,
    /// Per keyword: the rules to try where it occurs (its own, and those of keywords an
    /// occurrence of it could hide, see [`expand_owners`]).
    owners: Vec<Vec<usize>>,
    longest_keyword: usize,
    longest: usize,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl RuleSet {
    /// The rules shipped in `rules/`, embedded in the binary.
    pub fn builtin() -> anyhow::Result<RuleSet> {
        let mut rules = Vec::new();
        for (file, text) in embedded::FILES {
            rules.extend(parse(file, text)?);
        }
        RuleSet::compile(rules)
    }

    /// Parses rule files from `(name, contents)` pairs (tests and future `--rules DIR`).
    pub fn from_sources(files: &[(&str, &str)]) -> anyhow::Result<RuleSet> {
        let mut rules = Vec::new();
        for (file, text) in files {
            rules.extend(parse(file, text)?);
        }
        RuleSet::compile(rules)
    }

    fn compile(rules: Vec<Rule>) -> anyhow::Result<RuleSet> {
        let mut seen = std::collections::HashSet::new();
        for rule in &rules {
            if !seen.insert(rule.id.as_str()) {
                anyhow::bail!("rule id {} is defined twice (in {})", rule.id, rule.file);
            }
        }
        // One case-sensitive automaton for every keyword, so a window is searched once.
        // Case-insensitive rules get their keywords as written in lower, UPPER and
        // Capitalized form (`password`, `PASSWORD`, `Password`): folding every keyword
        // would make short ones (`SK`) match all over ordinary text.
        let mut keywords: Vec<String> = Vec::new();
        let mut owners = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let fold = rule.regex.as_str().starts_with("(?i");
            for keyword in &rule.keywords {
                let mut forms = vec![keyword.clone()];
                if fold {
                    let lower = keyword.to_ascii_lowercase();
                    let mut capitalized = lower.clone();
                    if let Some(first) = capitalized.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    forms.extend([keyword.to_ascii_uppercase(), capitalized, lower]);
                }
                forms.sort();
                forms.dedup();
                for form in forms {
                    keywords.push(form);
                    owners.push(KeywordOwner { rule: index });
                }
            }
        }
        let owners = expand_owners(&keywords, &owners);
        let longest_keyword = keywords.iter().map(String::len).max().unwrap_or(0);
        let longest = rules.iter().map(|r| r.max_len).max().unwrap_or(0);
        Ok(RuleSet {
            keywords: KeywordSearch::new(&keywords)?,
            owners,
            longest_keyword,
            rules,
            longest,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// Bytes around a capture start that must be in view for no match to be missed.
    pub fn span_needed(&self) -> usize {
        self.longest + KEYWORD_BACK
    }

    /// Every `secret` capture in `haystack` that starts inside `starts`, as
    /// `(rule index, capture range)`. Bytes outside `starts` are context only.
    pub fn for_each_capture(
        &self,
        haystack: &[u8],
        starts: Range<usize>,
        on_capture: &mut dyn FnMut(usize, Range<usize>),
    ) {
        if starts.start >= starts.end {
            return;
        }
        // Keywords may sit a little before the capture; the match may run max_len past it.
        let from = starts.start.saturating_sub(KEYWORD_BACK);
        let to = haystack
            .len()
            .min(starts.end + KEYWORD_BACK + self.longest_keyword);
        let mut regions: Vec<(usize, usize, usize)> = Vec::new();
        // A hidden keyword may begin up to one keyword length before the one found.
        let back = KEYWORD_BACK + self.longest_keyword;
        self.keywords
            .for_each(&haystack[from..to], &mut |keyword, at, end| {
                for &rule in &self.owners[keyword] {
                    let start = (from + at).saturating_sub(back);
                    let end = haystack
                        .len()
                        .min(from + end + self.rules[rule].max_len + back);
                    regions.push((rule, start, end));
                }
            });
        regions.sort_unstable();
        let mut index = 0;
        while index < regions.len() {
            let (rule, start, mut end) = regions[index];
            index += 1;
            while index < regions.len() && regions[index].0 == rule && regions[index].1 <= end {
                end = end.max(regions[index].2);
                index += 1;
            }
            self.captures_in(rule, haystack, start..end, &starts, on_capture);
        }
    }

    fn captures_in(
        &self,
        rule: usize,
        haystack: &[u8],
        region: Range<usize>,
        starts: &Range<usize>,
        on_capture: &mut dyn FnMut(usize, Range<usize>),
    ) {
        let regex = &self.rules[rule].regex;
        let text = &haystack[region.clone()];
        let mut at = 0;
        while at <= text.len() {
            let Some(captures) = regex.captures_at(text, at) else {
                break;
            };
            let whole = captures.get(0).map_or(at..at, |m| m.range());
            if let Some(secret) = captures.name("secret") {
                let absolute = region.start + secret.start()..region.start + secret.end();
                if starts.contains(&absolute.start) && !absolute.is_empty() {
                    on_capture(rule, absolute);
                }
            }
            // Resume just after the match start, so a match hiding inside a longer
            // false start (e.g. `password=password=...`) is still seen.
            at = if whole.is_empty() {
                whole.end + 1
            } else {
                next_char(text, whole.start).max(whole.start + 1)
            };
            if whole.end > text.len() {
                break;
            }
        }
    }

    /// The rule that recognises `secret` on its own (its capture is the whole secret), if any.
    pub fn recognise(&self, secret: &[u8]) -> Option<usize> {
        let mut found = None;
        self.for_each_capture(secret, 0..secret.len(), &mut |rule, range| {
            if found.is_none() && range == (0..secret.len()) {
                found = Some(rule);
            }
        });
        found
    }
}

fn next_char(text: &[u8], at: usize) -> usize {
    let mut next = at + 1;
    while next < text.len() && (text[next] & 0xC0) == 0x80 {
        next += 1;
    }
    next
}

fn parse(file: &str, text: &str) -> anyhow::Result<Vec<Rule>> {
    let parsed: RuleFile =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("rule file {file} is not valid: {e}"))?;
    parsed
        .rule
        .into_iter()
        .map(|source| {
            let regex = Regex::new(&source.regex).map_err(|e| {
                anyhow::anyhow!("rule {} in {file} has an invalid regex: {e}", source.id)
            })?;
            if !regex.capture_names().any(|name| name == Some("secret")) {
                anyhow::bail!(
                    "rule {} in {file} has no (?P<secret>...) capture group around the secret",
                    source.id
                );
            }
            let max_len = source.max_len.unwrap_or(DEFAULT_MAX_LEN);
            // Byte regexes may match non-UTF-8, so parse the way `regex::bytes` does.
            let longest = regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(&source.regex)
                .ok()
                .and_then(|hir| hir.properties().maximum_len());
            if longest.is_none_or(|longest| longest > max_len) {
                anyhow::bail!(
                    "rule {} in {file} can match {} bytes but max_len is {max_len}: bound the \
                     regex's repetitions or raise max_len, or long matches would be cut short",
                    source.id,
                    longest.map_or("unboundedly many".to_string(), |n| n.to_string())
                );
            }
            if source.keywords.is_empty() || source.keywords.iter().any(String::is_empty) {
                anyhow::bail!(
                    "rule {} in {file} needs at least one non-empty keyword",
                    source.id
                );
            }
            Ok(Rule {
                id: source.id,
                description: source.description,
                regex,
                keywords: source.keywords,
                prefix: source.prefix,
                max_len,
                matches: source.matches,
                no_match: source.no_match,
                file: file.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load_and_are_many() {
        let rules = RuleSet::builtin().unwrap();
        assert!(rules.rules().len() >= 40, "{} rules", rules.rules().len());
    }

    #[test]
    fn recognises_a_bare_token_and_not_a_context_rule() {
        let rules = RuleSet::builtin().unwrap();
        let token = b"ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let rule = rules.recognise(token).map(|r| rules.get(r).id.clone());
        assert_eq!(rule.as_deref(), Some("github-pat-classic"));
        assert_eq!(rules.recognise(b"just-a-password-123"), None);
    }

    #[test]
    fn captures_only_start_inside_the_given_range() {
        let rules = RuleSet::builtin().unwrap();
        let hay = b"x ghp_abcdefghijklmnopqrstuvwxyz0123456789 y";
        let mut seen = Vec::new();
        rules.for_each_capture(hay, 0..hay.len(), &mut |_, r| seen.push(r));
        assert_eq!(seen, vec![2..42]);
        seen.clear();
        rules.for_each_capture(hay, 3..hay.len(), &mut |_, r| seen.push(r));
        assert!(seen.is_empty());
    }

    #[test]
    fn keywords_hidden_by_an_overlapping_keyword_still_trigger_their_rule() {
        let rule = |id: &str, regex: &str, keyword: &str| {
            format!("[[rule]]\nid='{id}'\ndescription='d'\nregex='{regex}'\nkeywords=['{keyword}']\nmatches=[]\nno_match=[]\n")
        };
        let text = rule("a", "(?P<secret>abcxyz_[0-9]{8})", "abcxyz")
            + &rule("b", "(?P<secret>xyzq_[0-9]{8})", "xyzq")
            + &rule("c", "(?P<secret>cx[0-9]{8})", "cx");
        let rules = RuleSet::from_sources(&[("t.toml", &text)]).unwrap();
        // `abcxyz` is found first and hides both `xyzq` (overlapping its end) and `cx`
        // (inside it) from a leftmost search.
        let hay = b"abcxyzq_12345678";
        let mut seen = Vec::new();
        rules.for_each_capture(hay, 0..hay.len(), &mut |rule, _| {
            seen.push(rules.get(rule).id.clone())
        });
        seen.sort();
        assert_eq!(seen, ["b"]);
        let hay = b"abcx12345678";
        let mut seen = Vec::new();
        rules.for_each_capture(hay, 0..hay.len(), &mut |rule, _| {
            seen.push(rules.get(rule).id.clone())
        });
        assert_eq!(seen, ["c"]);
    }

    #[test]
    fn a_rule_without_secret_group_is_refused() {
        let bad = "[[rule]]\nid='x'\ndescription='d'\nregex='abc'\nkeywords=['abc']\nmatches=[]\nno_match=[]\n";
        let error = RuleSet::from_sources(&[("bad.toml", bad)]).unwrap_err();
        assert!(error.to_string().contains("secret"), "{error}");
    }
}
