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
//! - [`recorder`]: the sink every source reports into, with its [`bounds`], the
//!   [`progress`] display and [`contain`] (a unit that panics is a gap). It lives here, not
//!   in `scan`, so sources never import the driver that runs them (no import cycle).

pub mod archive;
pub mod bounds;
pub mod contain;
pub mod content;
pub mod fs;
pub mod git;
pub mod names;
pub mod oci;
pub mod progress;
pub mod recorder;
pub mod s3;
pub mod sparse;
pub mod stability;

/// Where a finding in a store lives: part of the data model, kept at this path too.
pub use crate::model::provenance;

use recorder::Recorder;

/// What a source needs to report into: the scan's recorder and which root it is walking.
#[derive(Clone, Copy)]
pub struct Context<'a, 'm> {
    pub recorder: &'a Recorder<'m>,
    pub root: usize,
}
