//! `scour rules list` and `scour rules check`.

use clap::Subcommand;

use crate::rules::{self, RuleSet};
use crate::verdict::EXIT_ERROR;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print every rule: id, description, keywords, public prefix, regex and examples
    /// (examples are fake).
    List,
    /// Run every rule's examples; exit 0 if all behave, 2 otherwise.
    Check,
}

pub fn run(command: RulesCommand) -> anyhow::Result<i32> {
    let rules = RuleSet::builtin()?;
    match command {
        RulesCommand::List => {
            for rule in rules.rules() {
                println!("{}  ({})", rule.id, rule.file);
                println!("  {}", rule.description);
                println!("  keywords: {}", rule.keywords.join(", "));
                if let Some(prefix) = &rule.prefix {
                    println!("  public prefix: {prefix}");
                }
                println!("  regex: {}", rule.regex.as_str());
                for example in &rule.matches {
                    println!("  matches: {example}");
                }
                for example in &rule.no_match {
                    println!("  does not match: {example}");
                }
            }
            println!("{} rules", rules.rules().len());
            Ok(0)
        }
        RulesCommand::Check => {
            let failures = rules::check(&rules);
            let examples: usize = rules
                .rules()
                .iter()
                .map(|r| r.matches.len() + r.no_match.len())
                .sum();
            for failure in &failures {
                eprintln!("scour: rule check failed: {failure}");
            }
            if failures.is_empty() {
                println!(
                    "{} rules, {examples} examples: all behave as their rules say",
                    rules.rules().len()
                );
                Ok(0)
            } else {
                eprintln!("scour: {} example(s) misbehave", failures.len());
                Ok(EXIT_ERROR)
            }
        }
    }
}
