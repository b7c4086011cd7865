//! Safety limits for reading archives, and the reader that enforces them.
//!
//! An archive is a program for producing bytes: a few kilobytes can claim petabytes (a zip
//! bomb), nest a thousand levels deep, or hide a zip that must be held in memory to be read.
//! Every decoded byte therefore passes through [`Decoded`], which counts it against the
//! limits of its top-level archive. When a limit is reached, reading of that whole top-level
//! archive stops and the stop is a `limit-exceeded` gap naming the archive and the member
//! being read; a scan never quietly reads less than it claims.

use std::io::{self, Read};

use super::{describe_error, Walk};
use crate::coverage::GapKind;

/// How far scour follows an archive. The defaults read real backups and CI log archives
/// completely; each can be raised on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Containers and compression layers inside one another (`a.tar.gz` is 2 deep).
    pub max_depth: u32,
    /// Bytes produced by all decompression inside one top-level archive.
    pub max_expanded_bytes: u64,
    /// Expanded bytes per byte of the top-level archive, checked once more than
    /// [`RATIO_FLOOR`] bytes have been expanded (so small, very compressible files are fine).
    pub max_ratio: u64,
    /// Bytes held in memory at once for members that need random access (a zip or a git
    /// pack inside a compressed stream).
    pub max_buffer: u64,
    /// Accept opaque content (high-entropy bytes no layer could interpret) instead of
    /// recording it as a gap; the report says it was accepted (`--allow-opaque`).
    pub allow_opaque: bool,
}

/// Expansion below this many bytes never counts as a bomb, whatever the ratio.
pub const RATIO_FLOOR: u64 = 1 << 30;

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 20,
            max_expanded_bytes: 1 << 40,
            max_ratio: 1000,
            max_buffer: 1 << 30,
            allow_opaque: false,
        }
    }
}

impl ArchiveLimits {
    /// Why `expanded` bytes from `input` bytes of archive is too much, if it is.
    pub(super) fn expansion_exceeded(&self, expanded: u64, input: u64) -> Option<String> {
        if expanded > self.max_expanded_bytes {
            return Some(format!(
                "more than {} bytes expanded (limit --archive-max-bytes)",
                self.max_expanded_bytes
            ));
        }
        if expanded > RATIO_FLOOR && expanded / input.max(1) > self.max_ratio {
            return Some(format!(
                "{expanded} bytes expanded from {input} bytes of archive, more than {}× (limit \
                 --archive-max-ratio; a zip bomb looks like this)",
                self.max_ratio
            ));
        }
        None
    }
}

/// Parses a byte count such as `1048576`, `512M`, `64G` or `1T` (binary units).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => {
            let shift = match unit.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown unit in {text:?}: use K, M, G or T")),
            };
            (&text[..at], shift)
        }
        _ => (text, 0),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a byte count (e.g. 512M, 64G)"))?;
    value
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// A decompressor's output, counted against the limits of its top-level archive. Errors of
/// the decompressor are recorded here, once, as gaps naming the stream; callers above see
/// an error that says so (see [`super::is_reported`]).
pub(super) struct Decoded<'w, 'a, 'm, R> {
    walk: &'w Walk<'a, 'm>,
    chain: Vec<String>,
    format: &'static str,
    inner: R,
    produced: u64,
    failed: bool,
}

impl<'w, 'a, 'm, R: Read> Decoded<'w, 'a, 'm, R> {
    pub(super) fn new(
        walk: &'w Walk<'a, 'm>,
        chain: &[String],
        format: &'static str,
        inner: R,
    ) -> Self {
        Decoded {
            walk,
            chain: chain.to_vec(),
            format,
            inner,
            produced: 0,
            failed: false,
        }
    }
}

impl<R: Read> Read for Decoded<'_, '_, '_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.walk.check_running()?;
        if self.failed {
            return Err(io::Error::other(super::Reported));
        }
        match self.inner.read(out) {
            Ok(n) => {
                self.produced += n as u64;
                self.walk.expanded(n as u64, &self.chain)?;
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) if super::is_reported(&error) => {
                self.failed = true;
                Err(error)
            }
            Err(error) => {
                self.failed = true;
                let from_file = error
                    .get_ref()
                    .is_some_and(|e| e.is::<super::compressed::InputError>());
                let kind = if from_file {
                    GapKind::ReadError
                } else if describe_error(&error).to_lowercase().contains("memory") {
                    GapKind::LimitExceeded
                } else {
                    GapKind::Corrupt
                };
                Err(self.walk.fail(
                    kind,
                    &self.chain,
                    format!(
                        "{} stream is damaged or truncated after {} decompressed bytes: {}",
                        self.format,
                        self.produced,
                        describe_error(&error)
                    ),
                ))
            }
        }
    }
}

/// Counts the bytes read through it.
pub(super) struct Counted<R> {
    pub inner: R,
    pub count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_byte_counts() {
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("2g"), Ok(2 << 30));
        assert!(parse_bytes("12Q").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("99999999999T").is_err());
    }

    #[test]
    fn ratio_counts_only_past_the_floor() {
        let limits = ArchiveLimits::default();
        assert!(limits.expansion_exceeded(RATIO_FLOOR, 1).is_none());
        assert!(limits.expansion_exceeded(RATIO_FLOOR + 1, 1).is_some());
        assert!(limits
            .expansion_exceeded(RATIO_FLOOR * 2, RATIO_FLOOR)
            .is_none());
        assert!(limits
            .expansion_exceeded(limits.max_expanded_bytes + 1, u64::MAX)
            .is_some());
    }
}
