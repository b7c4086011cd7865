//! Sources: where bytes come from, and under which name a finding in them is reported.
//!
//! A source enumerates its inputs, opens each one as a byte stream, and hands the stream
//! with its location chain to [`content::scan_stream`], which decides how to read it (plain
//! bytes today; archives and other containers plug in there). Sources report everything
//! they scanned, skipped or could not read to the scan's [`Recorder`].
//!
//! - [`fs`]: directory trees and single files.
//! - [`git`]: every object of a repository's history.
//! - [`archive`]: compressed streams and archives, recursively.
//! - [`names`]: names (files, members, refs, link targets, extended attributes) as content.

pub mod archive;
pub mod content;
pub mod fs;
pub mod git;
pub mod names;
pub mod oci;
pub mod provenance;
pub mod s3;
pub mod sparse;
pub mod stability;

use crate::scan::recorder::Recorder;

/// What a source needs to report into: the scan's recorder and which root it is walking.
#[derive(Clone, Copy)]
pub struct Context<'a, 'm> {
    pub recorder: &'a Recorder<'m>,
    pub root: usize,
}
