//! Reading one opened stream: the common step of every source.

use std::io::Read;

use super::Context;
use crate::coverage::GapKind;
use crate::findings::display_chain;
use crate::matcher::ScanBuffer;

/// Scans one stream named by `chain`, recording hits, bytes and any read error as a gap.
pub fn scan_stream(ctx: Context, chain: &[String], reader: impl Read, buffer: &mut ScanBuffer) {
    let recorder = ctx.recorder;
    let outcome = recorder.matcher().scan_reader(reader, buffer, &mut |_| {});
    recorder.hits(chain, &outcome.hits);
    recorder.scanned(ctx.root, outcome.bytes);
    if let Some(error) = outcome.error {
        recorder.gap(
            ctx.root,
            GapKind::ReadError,
            chain.to_vec(),
            format!(
                "could not read {} past byte {}: {error} — the rest of it was not scanned",
                display_chain(chain),
                outcome.bytes
            ),
        );
    }
}
