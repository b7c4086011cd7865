//! Compressed streams: gzip, bzip2, xz and zstd, each decoded as a stream.
//!
//! Concatenated streams are read to the end: rotated logs are often several gzip members
//! (or bzip2/xz streams, or zstd frames) in one file, and a secret in the second member
//! counts as much as one in the first. Decoder memory is capped (zstd window, xz memory
//! limit) so a hostile header cannot make a decoder allocate without bound; hitting the cap
//! is a `limit-exceeded` gap. The decoded stream is scanned as a member at `depth + 1`
//! under the same chain: compression adds no element to a finding's location.

use std::io::{BufReader, Read};

use super::limits::Decoded;
use super::sniff::Kind;
use super::{scan_member, Walk};
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

/// Largest zstd window accepted (2^27 = 128 MiB, the zstd tool's own default limit).
const ZSTD_WINDOW_LOG_MAX: u32 = 27;
/// Memory an xz decoder may use (xz -9 needs 65 MiB).
const XZ_MEMORY_LIMIT: u64 = 512 << 20;

pub(super) fn scan(
    walk: &Walk,
    chain: &[String],
    kind: Kind,
    input: &mut dyn Read,
    depth: u32,
    buffer: &mut ScanBuffer,
) {
    let mut decoder: Box<dyn Read + '_> = match kind {
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        Kind::Xz => {
            match liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMORY_LIMIT,
                liblzma::stream::CONCATENATED,
            ) {
                Ok(stream) => Box::new(liblzma::read::XzDecoder::new_stream(input, stream)),
                Err(error) => {
                    walk.fail(GapKind::Unsupported, chain, format!("could not start an xz decoder: {error}"));
                    return;
                }
            }
        }
        Kind::Zstd => match zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 17, input))
        {
            Ok(mut decoder) => {
                if let Err(error) = decoder.window_log_max(ZSTD_WINDOW_LOG_MAX) {
                    walk.fail(GapKind::Unsupported, chain, format!("could not start a zstd decoder: {error}"));
                    return;
                }
                Box::new(decoder)
            }
            Err(error) => {
                walk.fail(GapKind::Unsupported, chain, format!("could not start a zstd decoder: {error}"));
                return;
            }
        },
        _ => return,
    };
    let mut decoded = Decoded::new(walk, chain, kind.name(), &mut decoder);
    scan_member(walk, chain, &mut decoded, depth + 1, buffer);
    // A container may stop before the end of its stream (a tar's end marker): what follows
    // must still decode cleanly, or it is a gap.
    let _ = super::drain(&mut decoded);
}
