//! The git source: every object of a repository's history. (Being built: issue 3.)

use serde::{Deserialize, Serialize};

/// What was read of one repository's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryCoverage {}

/// Which commits, paths and refs hold a git object that matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitProvenance {}
