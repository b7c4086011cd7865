//! Verification: may a finding close on this envelope?
//!
//! The envelope is checked first (payload type, signatures by allowed keys, an in-toto
//! statement with scour's predicate, a report consistent with itself), then the closure
//! [`Policy`]. Every check is reported, passed or failed, with its reason; a finding may
//! close only when all of them pass. Once a signature fails nothing in the payload is
//! trusted, so no policy check is judged on it.

use chrono::{DateTime, Utc};

use super::dsse::Envelope;
use super::keys::PublicKey;
use super::policy::{Check, Policy};
use super::statement::{Statement, PAYLOAD_TYPE};
use super::subjects;
use crate::secret::Secret;
use crate::verdict::Verdict;

/// The outcome: every check made, and the statement when the envelope was sound.
pub struct Verification {
    pub checks: Vec<Check>,
    pub statement: Option<Statement>,
}

impl Verification {
    pub fn may_close(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }
}

pub fn verify(
    envelope: &[u8],
    keys: &[PublicKey],
    policy: &Policy,
    secrets: &[Secret],
    now: DateTime<Utc>,
) -> Verification {
    let mut checks = Vec::new();
    let statement = verify_envelope(envelope, keys, policy, &mut checks);
    if let Some(statement) = &statement {
        checks.push(consistency(statement));
        checks.extend(policy.judge(&statement.predicate, secrets, now));
    }
    Verification { checks, statement }
}

/// Checks what the envelope proves about who signed what; returns the trusted statement.
pub fn verify_envelope(
    bytes: &[u8],
    keys: &[PublicKey],
    policy: &Policy,
    checks: &mut Vec<Check>,
) -> Option<Statement> {
    let envelope = match Envelope::parse(bytes) {
        Ok(envelope) => envelope,
        Err(error) => {
            checks.push(Check::new("envelope", false, error.to_string()));
            return None;
        }
    };
    let type_ok = envelope.payload_type == PAYLOAD_TYPE;
    checks.push(Check::new(
        "payload type",
        type_ok,
        if type_ok {
            PAYLOAD_TYPE.to_string()
        } else {
            format!("{:?}, expected {PAYLOAD_TYPE}", envelope.payload_type)
        },
    ));
    let signers = match envelope.signers(keys) {
        Ok(signers) => signers,
        Err(error) => {
            checks.push(Check::new("signature", false, error.to_string()));
            return None;
        }
    };
    let allowed: Vec<&PublicKey> = signers
        .into_iter()
        .filter(|key| {
            policy.allowed_signers.is_empty() || policy.allowed_signers.contains(&key.keyid())
        })
        .collect();
    let signed = allowed.len() >= policy.min_signers.max(1);
    let names: Vec<String> = allowed
        .iter()
        .map(|key| format!("{} ({})", key.keyid(), key.origin))
        .collect();
    checks.push(Check::new(
        "signature",
        signed,
        if signed {
            format!("valid signature(s) by {}", names.join(", "))
        } else {
            format!(
                "{} valid signature(s) by allowed keys, {} required: the envelope was changed, or \
                 signed by another key{}",
                allowed.len(),
                policy.min_signers.max(1),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (valid: {})", names.join(", "))
                }
            )
        },
    ));
    if !signed || !type_ok {
        return None;
    }
    let body = envelope.body().ok()?;
    match Statement::parse(&body) {
        Ok(statement) => {
            checks.push(Check::new(
                "statement",
                true,
                format!(
                    "in-toto Statement v1 about {} subject(s)",
                    statement.subject.len()
                ),
            ));
            Some(statement)
        }
        Err(error) => {
            checks.push(Check::new("statement", false, error.to_string()));
            None
        }
    }
}

/// A signed report must agree with itself: its verdict follows from its findings and gaps,
/// and its roots' digests are the statement's subjects.
fn consistency(statement: &Statement) -> Check {
    let report = &statement.predicate;
    let gaps = report.coverage.gap_count();
    let decided = Verdict::decide(report.findings.len(), gaps);
    let subjects_agree = subjects::from_report(report)
        .iter()
        .all(|subject| statement.subject.contains(subject));
    if !subjects_agree {
        return Check::new(
            "report consistency",
            false,
            "the statement's subjects differ from the digests recorded in the report",
        );
    }
    let consistent = decided == report.verdict
        && report.summary.findings == report.findings.len()
        && report.summary.gaps == gaps;
    Check::new(
        "report consistency",
        consistent,
        if consistent {
            format!(
                "{} finding(s), {} gap(s), verdict {}",
                report.findings.len(),
                gaps,
                report.verdict.as_str()
            )
        } else {
            format!(
                "the verdict {} does not follow from {} finding(s) and {gaps} gap(s)",
                report.verdict.as_str(),
                report.findings.len()
            )
        },
    )
}
