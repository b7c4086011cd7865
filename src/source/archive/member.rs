//! The member protocol of the sequential containers (ar, cpio): what happens after a
//! member's bytes were offered to [`super::scan_member`] — the rest of the member is read
//! (drained) so the container stays in step, and the one failure there may be is recorded
//! once, as a read error or as a member shorter than its header said. Kept in one place so
//! a format cannot forget a step and under-report.

use std::io::{self, Read};

use super::limits::Counted;
use super::{drain, Walk};
use crate::coverage::GapKind;

/// How a container names itself and its members in gap reasons (`ar archive`/`member`,
/// `cpio archive`/`entry`).
pub(super) struct Words {
    pub container: &'static str,
    pub member: &'static str,
}

/// Finishes one member of `declared` bytes read through `counted`: drains what its layers
/// left unread, then records a read failure or a truncation. Returns false when reading of
/// the container must stop (a failure, or the walk was stopped).
pub(super) fn finish<R: Read>(
    walk: &Walk,
    member: &[String],
    counted: &mut Counted<R>,
    declared: u64,
    words: &Words,
) -> bool {
    let rest = drain(counted);
    if walk.check_running().is_err() {
        return false;
    }
    if let Err(error) = rest {
        walk.fail_unless_reported(
            GapKind::Corrupt,
            member,
            &format!("could not read the {}", words.member),
            &error,
        );
        return false;
    }
    if counted.count < declared {
        walk.fail(
            GapKind::Corrupt,
            member,
            format!(
                "the {} is truncated inside this {}",
                words.container, words.member
            ),
        );
        return false;
    }
    true
}

/// Reads until `out` is full or the input ends; the number of bytes read (less than
/// `out.len()` only at the end of the input).
pub(super) fn read_full(input: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < out.len() {
        match input.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
