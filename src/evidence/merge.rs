//! Merging shards: N signed shard reports in, one report of the whole sweep out.
//!
//! Every shard must be signed by one of the given keys, name the same targets, secrets
//! (same salt) and options, and all N shards must be present exactly once; anything else is
//! an error, never a quietly smaller proof. Counts add up, gaps and findings are united,
//! and the verdict is decided again from the union. The merged statement's subjects are the
//! merged report's own (the ref tips of every repository, which all shards must have read
//! at the same tips), then the shards' subjects, each named with its shard.

use std::collections::BTreeMap;

use anyhow::bail;

use super::dsse::Envelope;
use super::keys::PublicKey;
use super::statement::Statement;
use super::subjects::{self, Subject};
use crate::coverage::{Coverage, RootCoverage, SKIP_EXAMPLES};
use crate::model::Shard;
use crate::report::{Report, ScanRecord};
use crate::secret::Salt;
use crate::verdict::Verdict;

/// One shard envelope as read from disk, named for error messages.
pub struct ShardInput {
    pub name: String,
    pub envelope: Vec<u8>,
}

pub fn merge(inputs: &[ShardInput], keys: &[PublicKey]) -> anyhow::Result<Statement> {
    let mut shards = inputs
        .iter()
        .map(|input| open(input, keys))
        .collect::<anyhow::Result<Vec<_>>>()?;
    shards.sort_by_key(|(_, shard, _)| shard.index);
    let Some((first_name, first_shard, first)) = shards.first() else {
        bail!("no shard envelopes given");
    };
    let count = first_shard.count;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (name, shard, statement) in &shards {
        if shard.count != count {
            bail!("{name} is shard {shard} but {first_name} is shard {first_shard}: shards of different sweeps");
        }
        if let Some(other) = seen.insert(shard.index, name) {
            bail!("shard {shard} is given twice ({other} and {name}); each shard must be given exactly once");
        }
        same_sweep(first_name, &first.predicate, name, &statement.predicate)?;
    }
    let missing: Vec<String> = (1..=count)
        .filter(|index| !seen.contains_key(index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "shard(s) {} missing: a merge without every shard would prove less than it claims",
            missing.join(", ")
        );
    }
    let reports: Vec<&Report> = shards.iter().map(|(_, _, s)| &s.predicate).collect();
    let combined = combine(&reports)?;
    let mut subjects = subjects::from_report(&combined);
    same_ref_tips(&subjects)?;
    subjects.extend(shards.iter().flat_map(|(_, shard, statement)| {
        statement.subject.iter().map(move |subject| Subject {
            name: format!("{} (shard {shard})", subject.name),
            ..subject.clone()
        })
    }));
    Ok(Statement::new(subjects, combined))
}

/// Every shard must have read a repository at the same ref tips: otherwise the shards
/// scanned different states of it and their union proves nothing about either.
fn same_ref_tips(subjects: &[Subject]) -> anyhow::Result<()> {
    let mut tips: BTreeMap<&str, &Subject> = BTreeMap::new();
    for subject in subjects {
        if let Some(other) = tips.insert(&subject.name, subject) {
            bail!(
                "the shards read {} at different tips ({:?} and {:?}): the repository changed \
                 during the sweep; run every shard again against one state",
                subject.name,
                other.digest,
                subject.digest
            );
        }
    }
    Ok(())
}

fn open(input: &ShardInput, keys: &[PublicKey]) -> anyhow::Result<(String, Shard, Statement)> {
    let name = input.name.clone();
    let envelope = Envelope::parse(&input.envelope).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    if envelope.signers(keys)?.is_empty() {
        bail!("{name} carries no valid signature by any --pubkey given: it was changed, or signed by another key");
    }
    let statement =
        Statement::parse(&envelope.body()?).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let Some(shard) = statement.predicate.scan.shard else {
        bail!("{name} is a whole scan, not a shard; only reports made with --shard K/N merge");
    };
    Ok((name, shard, statement))
}

/// Shards are comparable only if everything but the shard index is the same.
fn same_sweep(a_name: &str, a: &Report, b_name: &str, b: &Report) -> anyhow::Result<()> {
    let differs = |what: &str| {
        anyhow::anyhow!("{b_name} and {a_name} differ in {what}: they are not shards of one sweep")
    };
    if a.fingerprints != b.fingerprints {
        return Err(differs(
            "fingerprint salt (give every shard the same --salt)",
        ));
    }
    // Shards name the same secrets by fingerprint; where each read them from may differ.
    let fingerprints = |r: &Report| {
        r.secrets
            .iter()
            .map(|s| (s.id.clone(), s.fingerprint.clone()))
            .collect::<Vec<_>>()
    };
    if fingerprints(a) != fingerprints(b) {
        return Err(differs("secrets"));
    }
    if a.tool != b.tool {
        return Err(differs("scour version"));
    }
    let options = |scan: &ScanRecord| ScanRecord {
        shard: None,
        threads: 0,
        ..scan.clone()
    };
    if options(&a.scan) != options(&b.scan) {
        return Err(differs("paths or options"));
    }
    let roots = |r: &Report| -> Vec<(String, String)> {
        r.coverage
            .roots
            .iter()
            .map(|c| (c.root.clone(), c.kind.clone()))
            .collect()
    };
    if roots(a) != roots(b) {
        return Err(differs("targets"));
    }
    Ok(())
}

/// Every shard of a store lists the whole store and reads only its part: the listing (its
/// counts and manifest digest) is kept once if all shards agree, the parts read are added.
fn merge_store(merged: &mut RootCoverage, part: &RootCoverage) {
    let Some(part_store) = &part.store else {
        return;
    };
    match &mut merged.store {
        None => {
            merged.store = Some(part_store.clone());
            merged.digest = part.digest.clone();
        }
        Some(store) => {
            store.units_read += part_store.units_read;
            if merged.digest != part.digest || store.versions != part_store.versions {
                // The store changed between the shards' listings: no one state was covered.
                merged.digest = None;
                merged.gaps.push(crate::coverage::Gap {
                    kind: crate::coverage::GapKind::Changed,
                    chain: vec![merged.root.clone()],
                    reason: format!(
                        "the shards of {} listed different contents (the store changed during \
                         the sweep): sweep it again",
                        merged.root
                    ),
                });
            }
        }
    }
}

fn combine(reports: &[&Report]) -> anyhow::Result<Report> {
    let first = reports[0];
    let mut roots: Vec<RootCoverage> = first
        .coverage
        .roots
        .iter()
        .map(|root| RootCoverage {
            root: root.root.clone(),
            kind: root.kind.clone(),
            // Every shard scanned the same roots; the first one's git facts stand for all.
            work_tree: root.work_tree.clone(),
            ..RootCoverage::default()
        })
        .collect();
    let mut findings = Vec::new();
    for report in reports {
        findings.extend(report.findings.iter().cloned());
        for (merged, part) in roots.iter_mut().zip(&report.coverage.roots) {
            merged.files_scanned += part.files_scanned;
            merged.bytes_scanned += part.bytes_scanned;
            for (reason, skipped) in &part.skipped {
                let entry = merged.skipped.entry(*reason).or_default();
                entry.count += skipped.count;
                let room = SKIP_EXAMPLES.saturating_sub(entry.examples.len());
                entry
                    .examples
                    .extend(skipped.examples.iter().take(room).cloned());
            }
            merged.gaps.extend(part.gaps.iter().cloned());
            let grew = &mut merged.grew_during_scan;
            grew.count += part.grew_during_scan.count;
            let room = SKIP_EXAMPLES.saturating_sub(grew.examples.len());
            grew.examples
                .extend(part.grew_during_scan.examples.iter().take(room).cloned());
            merged
                .repositories
                .extend(part.repositories.iter().cloned());
            merged.archives.extend(part.archives.iter().cloned());
            merge_store(merged, part);
        }
    }
    for root in &mut roots {
        root.gaps.sort();
        root.gaps.dedup();
    }
    findings.sort_by(|a, b| {
        (&a.location, &a.secret, &a.encoding).cmp(&(&b.location, &b.secret, &b.encoding))
    });
    findings.dedup();
    let coverage = Coverage { roots };
    let verdict = Verdict::decide(findings.len(), coverage.gap_count());
    let salt = Salt::from_hex(&first.fingerprints.salt)
        .ok_or_else(|| anyhow::anyhow!("the shards' salt is not 16 bytes of hex"))?;
    let started_at = reports
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or(first.started_at);
    let finished_at = reports
        .iter()
        .map(|r| r.finished_at)
        .max()
        .unwrap_or(first.finished_at);
    let mut report = Report::new(
        verdict,
        started_at,
        finished_at,
        salt,
        first.secrets.clone(),
        ScanRecord {
            shard: None,
            ..first.scan.clone()
        },
        findings,
        coverage,
    );
    report.tool = first.tool.clone();
    Ok(report)
}
