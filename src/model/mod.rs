//! The data model: what a scan found and what it covered, as every other part of scour
//! speaks of it. Sources and the recorder fill it in, the report holds it, renderers and
//! evidence read it.
//!
//! It depends on nothing else in the crate (only std, serde, schemars, chrono and sha2 for the
//! shard partition), so any module may use it without forming an import cycle;
//! `tests/architecture.rs` keeps it that way. The old paths (`crate::findings`,
//! `crate::coverage`, `crate::verdict`, `crate::scan::shard`, `crate::source::provenance`, and
//! the coverage sections under `crate::source`) re-export these types.

pub mod cache;
pub mod coverage;
pub mod findings;
pub mod gaps;
pub mod provenance;
pub mod shard;
pub mod verdict;

pub use cache::CacheRecord;
pub use coverage::{
    ArchiveCoverage, Checkout, Coverage, DigestBinds, Layer, OpaqueAccepted, RepositoryCoverage,
    RootCoverage, RootDigest, StoreCoverage, WorkTree,
};
pub use findings::{display_chain, Finding, Location, Mode};
pub use gaps::{Gap, GapKind, SkipReason, Skipped, SKIP_EXAMPLES};
pub use provenance::{CommitPath, GitProvenance, StoreProvenance};
pub use shard::Shard;
pub use verdict::{Verdict, EXIT_ERROR};
