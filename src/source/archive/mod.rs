//! The archive source: compressed streams and archives, recursively. (Being built: issue 4.)

use serde::{Deserialize, Serialize};

/// What was read of one top-level archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveCoverage {}
