//! Containment: one unit of work (a file of the walk, a top-level archive, a git object or
//! repository) that panics becomes an `internal-error` gap naming that unit, and the sweep
//! goes on, so a bug in one parser can never cost the whole report.
//!
//! A panic's payload is never shown or recorded: it may quote the bytes being parsed (the
//! secret itself). [`install_panic_hook`] (in [`crate::redact`]) replaces the default hook,
//! which prints the payload on stderr, with one that prints a fixed line and the code
//! location only.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::coverage::GapKind;
use crate::findings::display_chain;
use crate::source::Context;

/// Runs one unit of work named by `chain`; a panic inside it is recorded as an
/// `internal-error` gap and `None` is returned. What the unit recorded before the panic
/// (findings, gaps) stays recorded.
pub fn unit<T>(ctx: Context, chain: &[String], work: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(value) => Some(value),
        Err(_payload) => {
            ctx.recorder.gap(
                ctx.root,
                GapKind::InternalError,
                chain.to_vec(),
                format!(
                    "a parser panicked while reading {}: it was not (completely) scanned; the \
                     rest of the scan went on (please report this as a bug in scour)",
                    display_chain(chain)
                ),
            );
            None
        }
    }
}

/// The panic hook that prints no payload is the redaction module's (it is about what reaches
/// stderr); kept at this path for the code that names it here.
pub use crate::redact::install_panic_hook;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::RootCoverage;
    use crate::matcher::Matcher;
    use crate::secret::Secret;
    use crate::source::progress::Progress;
    use crate::source::recorder::Recorder;

    #[test]
    fn a_panicking_unit_is_a_gap_without_its_payload_and_the_next_unit_runs() {
        let secret = b"tok_c0nta1nment_9f8e".to_vec();
        let matcher = Matcher::new(&[Secret::new(secret.clone(), "test").unwrap()]).unwrap();
        let recorder = Recorder::new(
            &matcher,
            vec!["s".into()],
            vec![RootCoverage::default()],
            Progress::new(false),
            Default::default(),
        );
        let ctx = Context {
            recorder: &recorder,
            root: 0,
        };
        let quoted = String::from_utf8(secret.clone()).unwrap();
        let failed: Option<()> = unit(ctx, &["a.bin".to_string()], || {
            panic!("bad header {quoted}");
        });
        assert!(failed.is_none());
        let after = unit(ctx, &["b.txt".to_string()], || 7);
        assert_eq!(after, Some(7), "the sweep goes on");
        let (_, coverage) = recorder.finish();
        let gaps: Vec<_> = coverage.gaps().collect();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].kind, GapKind::InternalError);
        assert_eq!(gaps[0].chain, ["a.bin"]);
        assert!(!gaps[0].reason.contains("tok_c0nta1nment"), "no payload");
    }
}
