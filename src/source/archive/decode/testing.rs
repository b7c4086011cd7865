//! A scan of in-memory bytes through the whole pipeline, for unit tests of layers.

use crate::coverage::{Gap, RootCoverage};
use crate::findings::Finding;
use crate::matcher::{Matcher, ScanBuffer};
use crate::scan::progress::Progress;
use crate::scan::recorder::Recorder;
use crate::secret::Secret;
use crate::source::archive::format::Place;
use crate::source::archive::{inspect_top_level, ArchiveLimits, Reopen};
use crate::source::Context;

/// What a scan of one in-memory file found.
pub(crate) struct Scanned {
    pub findings: Vec<Finding>,
    pub gaps: Vec<Gap>,
}

impl Scanned {
    /// Each finding's chain joined by ` › `, with its encoding.
    pub(crate) fn places(&self) -> Vec<(String, String)> {
        self.findings
            .iter()
            .map(|f| (f.location.chain.join(" › "), f.encoding.clone()))
            .collect()
    }
}

/// Scans `bytes` as the file `name` for `secret`, as the directory source would.
pub(crate) fn scan_memory(secret: &[u8], name: &str, bytes: &[u8]) -> Scanned {
    let secrets = [Secret::new(secret.to_vec(), "test").expect("a test secret is valid")];
    let matcher = Matcher::new(&secrets).expect("a test secret compiles");
    let recorder = Recorder::new(
        &matcher,
        vec!["s1".to_string()],
        vec![RootCoverage::default()],
        Progress::new(false),
        ArchiveLimits::default(),
    );
    let chain = vec![name.to_string()];
    let mut reader = bytes;
    inspect_top_level(
        Context {
            recorder: &recorder,
            root: 0,
        },
        &chain,
        Place::Filesystem,
        &mut reader,
        Reopen::Memory(bytes),
        &mut ScanBuffer::new(),
    );
    let (findings, coverage) = recorder.finish();
    Scanned {
        findings,
        gaps: coverage.gaps().cloned().collect(),
    }
}
