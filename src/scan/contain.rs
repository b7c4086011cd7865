//! Containment: one unit of work (a file of the walk, a top-level archive, a git object or
//! repository) that panics becomes an `internal-error` gap naming that unit, and the sweep
//! goes on, so a bug in one parser can never cost the whole report.
//!
//! A panic's payload is never shown or recorded: it may quote the bytes being parsed (the
//! secret itself). [`install_panic_hook`] replaces the default hook, which prints the payload
//! on stderr, with one that prints a fixed line and the code location only.

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

/// Replaces the default panic hook (which prints the payload) with one that prints a fixed
/// line and where in scour's code the panic happened, for the first panic only (a damaged
/// pack can make every object panic; each is a gap in the report anyway).
pub fn install_panic_hook() {
    static SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if SHOWN.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("scour: internal error{place}: a parser panicked; the unit is recorded as a gap");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::RootCoverage;
    use crate::matcher::Matcher;
    use crate::scan::progress::Progress;
    use crate::scan::recorder::Recorder;
    use crate::secret::Secret;

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
