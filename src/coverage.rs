//! Coverage and gaps: what a scan read and what it could not. The types live in
//! [`crate::model::coverage`] and [`crate::model::gaps`]; this path is kept for the code that
//! names them here.

pub use crate::model::coverage::*;
pub use crate::model::gaps::*;
