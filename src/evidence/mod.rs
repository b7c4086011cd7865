//! Evidence: reports that someone other than the fixer can check before a finding closes.
//!
//! A signed report is a DSSE envelope ([`dsse`]) whose payload is an in-toto Statement v1
//! ([`statement`]): its subjects say what was scanned, each by a digest ([`subjects`]), and
//! its predicate is the whole JSON report. Signatures are Ed25519 over the DSSE
//! pre-authentication encoding, with keys in the PEM files openssl uses ([`keys`]), so
//! `openssl pkeyutl -verify -rawin` and any DSSE library can check them without scour.
//!
//! `scour verify` ([`verify`]) checks an envelope and then a closure [`policy`]; `scour
//! merge` ([`merge`]) joins the signed reports of a sharded sweep into one. The user guide
//! is docs/evidence.md.

pub mod dsse;
pub mod keys;
pub mod merge;
pub mod policy;
pub mod statement;
pub mod subjects;
pub mod verify;
