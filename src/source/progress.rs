//! Progress on stderr for long scans: files, bytes, rate. Only on a terminal,
//! never with `--quiet`, and never anything about what was found beyond counts. The line
//! is cut to the terminal's width (`wide_msg`), so it never wraps and scrolls.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::recorder::Totals;

/// Redraws at most this often, so updating costs one atomic load per file otherwise.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_redraw_ms: AtomicU64,
}

impl Progress {
    /// A display on stderr if `wanted` and stderr is a terminal; otherwise a no-op.
    pub fn new(wanted: bool) -> Progress {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(REDRAW_EVERY);
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_redraw_ms: AtomicU64::new(0),
        }
    }

    /// Updates the message if enough time has passed since the last update.
    pub fn tick(&self, totals: &Totals) {
        let Some(bar) = &self.bar else { return };
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_redraw_ms.load(Ordering::Relaxed);
        if now < last + REDRAW_EVERY.as_millis() as u64
            || self
                .last_redraw_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        bar.set_message(message(totals, self.started.elapsed()));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn message(totals: &Totals, elapsed: Duration) -> String {
    let bytes = totals.bytes.load(Ordering::Relaxed);
    let rate = bytes as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "{} files, {} ({}/s), {} findings, {} gaps",
        totals.files.load(Ordering::Relaxed),
        HumanBytes(bytes),
        HumanBytes(rate as u64),
        totals.findings.load(Ordering::Relaxed),
        totals.gaps.load(Ordering::Relaxed),
    )
}
