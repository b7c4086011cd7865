//! Findings: where a secret was seen, in which encoding. The types live in
//! [`crate::model::findings`]; this path is kept for the code that names them here.

pub use crate::model::findings::*;
