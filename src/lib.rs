//! scour proves a revoked secret is gone.
//!
//! The data flow, one module per stage:
//!
//! ```text
//! secret ─► matcher (every encoding, one automaton)
//!                 ▲
//! source (fs) ────┘ byte streams with a location chain
//!                 │
//!                 ▼
//!        scan::recorder ─► findings + coverage (gaps) ─► verdict ─► report (json, text)
//! ```
//!
//! [`scan::run`] wires the stages together; [`cli`] is the command line over it.

pub mod cache;
pub mod cli;
pub mod coverage;
pub mod evidence;
pub mod findings;
pub mod hardening;
pub mod ledger;
pub mod matcher;
pub mod model;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret;
pub mod source;
pub mod verdict;
