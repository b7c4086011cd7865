//! `scour ledger add` and `scour ledger list`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::secret_args::SecretArgs;
use crate::ledger::{index::hash_hex, sieve, CharClass, Entry, Ledger};
use crate::rules::RuleSet;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Add revoked secrets to a ledger (created if missing). The secret is read from a
    /// no-echo prompt, --secret-env or --secret-file; only its salted hash, length,
    /// character class, recognising rule and public prefix are written.
    Add(AddArgs),
    /// List a ledger's entries (there are no secrets in a ledger to show).
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    secrets: SecretArgs,
    /// The ledger file (JSON Lines).
    #[arg(long, value_name = "FILE")]
    ledger: PathBuf,
    /// A note for people, e.g. where the secret was used. Must not contain the secret.
    #[arg(long, value_name = "TEXT")]
    label: Option<String>,
    /// The entry's id, e.g. the remediation ticket [default: L- and 12 hex digits of the hash].
    #[arg(long, value_name = "TICKET")]
    id: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The ledger file (JSON Lines).
    #[arg(long, value_name = "FILE")]
    ledger: PathBuf,
}

pub fn run(command: LedgerCommand) -> anyhow::Result<i32> {
    match command {
        LedgerCommand::Add(args) => add(args),
        LedgerCommand::List(args) => list(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<i32> {
    let secrets = args.secrets.load()?;
    if args.id.is_some() && secrets.len() > 1 {
        anyhow::bail!(
            "--id names one entry, but {} secrets were given; add them one at a time, or \
             leave out --id to get an id derived from each hash",
            secrets.len()
        );
    }
    let rules = RuleSet::builtin()?;
    // `.scour/ledger.jsonl` in a fresh repository: make the directory, as the docs suggest.
    if let Some(parent) = args.ledger.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            anyhow::anyhow!(
                "could not create the ledger's directory {}: {e}",
                parent.display()
            )
        })?;
    }
    let mut ledger = Ledger::open_or_create(&args.ledger)?;
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    // Hashed look-ups, so adding many secrets is linear, not quadratic, in the ledger's size.
    let mut id_of_hash: HashMap<String, String> = ledger
        .entries
        .iter()
        .map(|e| (e.sha256.clone(), e.id.clone()))
        .collect();
    let mut ids: HashSet<String> = ledger.entries.iter().map(|e| e.id.clone()).collect();
    let mut added = Vec::new();
    for secret in &secrets {
        let bytes = secret.expose();
        if let Some(label) = &args.label {
            let window = bytes.len().min(8);
            if bytes
                .windows(window)
                .any(|w| label.as_bytes().windows(window).any(|l| l == w))
            {
                anyhow::bail!("the --label contains part of the secret; choose a label without it");
            }
        }
        let sha256 = hash_hex(&ledger.salt, bytes);
        if let Some(existing) = id_of_hash.get(&sha256) {
            eprintln!(
                "scour: this secret is already in {} as {}; not added again",
                args.ledger.display(),
                existing
            );
            continue;
        }
        let id = args
            .id
            .clone()
            .unwrap_or_else(|| format!("L-{}", &sha256[..12]));
        if ids.contains(&id) {
            anyhow::bail!(
                "{} already has an entry with id {id}; choose another --id",
                args.ledger.display()
            );
        }
        let rule = rules.recognise(bytes).map(|r| rules.get(r));
        // Only a prefix the rule's format defines, and only if the secret really has it.
        let prefix = rule
            .and_then(|r| r.prefix.clone())
            .filter(|p| bytes.starts_with(p.as_bytes()) && p.len() < bytes.len());
        let entry = Entry {
            id: id.clone(),
            label: args.label.clone(),
            date: date.clone(),
            sha256: sha256.clone(),
            length: bytes.len(),
            class: CharClass::of(bytes),
            rule: rule.map(|r| r.id.clone()),
            prefix,
            // Only where a scan uses it: entries a rule recognises are found by the rule's
            // capture, so they give away no bits of a rolling hash.
            sieve: rule
                .is_none()
                .then(|| sieve::to_hex(sieve::of_secret(&ledger.salt, bytes))),
        };
        id_of_hash.insert(sha256, id.clone());
        ids.insert(id);
        added.push(entry);
    }
    // One write and one flush for the whole batch; nothing is written if a check above failed.
    let described: Vec<String> = added.iter().map(describe).collect();
    ledger.append_all(added)?;
    // Buffered: one unbuffered stderr write per entry would cost 100,000 system calls.
    let mut report = String::new();
    for line in described {
        report.push_str(&format!("scour: added {line}\n"));
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), report.as_bytes());
    Ok(0)
}

fn list(args: ListArgs) -> anyhow::Result<i32> {
    let ledger = Ledger::load(&args.ledger)?;
    for entry in &ledger.entries {
        println!("{}", describe(entry));
    }
    println!(
        "{} entries; ledger sha256 {}",
        ledger.entries.len(),
        ledger.file_sha256
    );
    Ok(0)
}

fn describe(entry: &Entry) -> String {
    let mut text = format!(
        "{}  {}  {} bytes, {}",
        entry.id,
        entry.date,
        entry.length,
        entry.class.name()
    );
    if let Some(rule) = &entry.rule {
        text.push_str(&format!(", rule {rule}"));
    }
    if let Some(prefix) = &entry.prefix {
        text.push_str(&format!(", prefix {prefix}"));
    }
    if let Some(label) = &entry.label {
        text.push_str(&format!("  \"{label}\""));
    }
    text
}
