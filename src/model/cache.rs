//! What a report says about the `--cache` of proofs of absence a scan used.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the report says about the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CacheRecord {
    pub dir: String,
    pub engine: String,
    /// Units not read because an earlier proof about them was reused.
    pub units_reused: u64,
    /// The oldest and newest of the reused proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_proven_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_proven_until: Option<DateTime<Utc>>,
    /// Units proven by this scan and recorded for the next one.
    pub units_recorded: u64,
    /// Why the cache was not used or not written, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}
