//! The in-toto Statement v1 that a signed report carries.
//!
//! `subject` says what was scanned (see [`super::subjects`]), `predicateType` names scour's
//! secret-absence predicate, and `predicate` is the whole JSON report: verdict, the
//! secrets' salted fingerprints, findings, coverage with gaps, options, tool version and
//! times. The envelope's `payloadType` is `application/vnd.in-toto+json`.

use serde::{Deserialize, Serialize};

use super::dsse::Envelope;
use super::keys::PrivateKey;
use super::subjects::Subject;
use crate::report::Report;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const PREDICATE_TYPE: &str = "https://github.com/scour-dev/scour/attestation/secret-absence/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Report,
}

impl Statement {
    pub fn new(subject: Vec<Subject>, report: Report) -> Statement {
        Statement {
            statement_type: STATEMENT_TYPE.to_string(),
            subject,
            predicate_type: PREDICATE_TYPE.to_string(),
            predicate: report,
        }
    }

    /// The statement as a signed DSSE envelope.
    pub fn sign(&self, keys: &[&PrivateKey]) -> anyhow::Result<Envelope> {
        let body = serde_json::to_vec(self)?;
        Ok(Envelope::sign(PAYLOAD_TYPE, &body, keys))
    }

    /// Reads a statement from an envelope body, checking its type and predicate type.
    pub fn parse(body: &[u8]) -> anyhow::Result<Statement> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| anyhow::anyhow!("the payload is not JSON: {e}"))?;
        let statement_type = value["_type"].as_str().unwrap_or_default();
        if statement_type != STATEMENT_TYPE {
            anyhow::bail!(
                "the payload is not an in-toto Statement v1 (_type {statement_type:?}, expected {STATEMENT_TYPE})"
            );
        }
        let predicate_type = value["predicateType"].as_str().unwrap_or_default();
        if predicate_type != PREDICATE_TYPE {
            anyhow::bail!(
                "the statement's predicateType is {predicate_type:?}, not scour's {PREDICATE_TYPE}"
            );
        }
        serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("the predicate is not a scour report: {e}"))
    }
}
