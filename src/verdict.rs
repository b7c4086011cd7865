//! The verdict and its exit codes. The types live in [`crate::model::verdict`]; this path is
//! kept for the code that names them here.

pub use crate::model::verdict::*;
