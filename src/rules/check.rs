//! `scour rules check`: every rule's examples, run through the same keyword prefilter and
//! regex a scan uses, so an example that passes here is found the same way in a scan.

use super::RuleSet;

/// One example that did not behave as its rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub rule: String,
    pub file: String,
    pub problem: String,
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.rule, self.file, self.problem)
    }
}

/// Runs every example of every rule; an empty result means all passed.
pub fn check(rules: &RuleSet) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        let fail = |problem: String| CheckFailure {
            rule: rule.id.clone(),
            file: rule.file.clone(),
            problem,
        };
        if rule.matches.is_empty() {
            failures.push(fail("has no example that must match".into()));
        }
        for (number, example) in rule.matches.iter().enumerate() {
            let captured = captures_of(rules, index, example.as_bytes());
            if captured.is_empty() {
                failures.push(fail(format!(
                    "example {} that must match does not",
                    number + 1
                )));
            }
            if let Some(prefix) = &rule.prefix {
                if captured.iter().any(|c| !c.starts_with(prefix.as_bytes())) {
                    failures.push(fail(format!(
                        "example {}: the capture does not start with the prefix {prefix}",
                        number + 1
                    )));
                }
            }
        }
        for (number, example) in rule.no_match.iter().enumerate() {
            if !captures_of(rules, index, example.as_bytes()).is_empty() {
                failures.push(fail(format!(
                    "example {} that must not match does",
                    number + 1
                )));
            }
        }
    }
    failures
}

fn captures_of<'a>(rules: &RuleSet, rule: usize, example: &'a [u8]) -> Vec<&'a [u8]> {
    let mut captured = Vec::new();
    rules.for_each_capture(example, 0..example.len(), &mut |found, range| {
        if found == rule {
            captured.push(&example[range]);
        }
    });
    captured
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_example_behaves() {
        let rules = RuleSet::builtin().unwrap();
        let failures = check(&rules);
        assert!(
            failures.is_empty(),
            "{}",
            failures
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn a_wrong_example_is_reported() {
        let text = "[[rule]]\nid='t'\ndescription='d'\nregex='(?P<secret>tok_[0-9]{4})'\nkeywords=['tok_']\nmatches=['tok_12']\nno_match=['tok_1234']\n";
        let rules = RuleSet::from_sources(&[("t.toml", text)]).unwrap();
        let failures = check(&rules);
        assert_eq!(failures.len(), 2, "{failures:?}");
    }
}
