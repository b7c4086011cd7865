//! Opaque content: high-entropy bytes that no layer could interpret.
//!
//! Compressed or encrypted data that scour could not decode cannot be proven free of the
//! secret, so it must not pass as scanned. After a leaf is scanned and the streams carved
//! out of it followed, the high-entropy regions the [`super::entropy::Meter`] found are
//! reduced by what the carved streams consumed and by media (whose entropy is pixels); what
//! is left, if it is at least one sampling block large, is one `opaque` gap for the leaf
//! naming where and how many bytes. `--allow-opaque` accepts such content: it is then
//! counted in the root's coverage, not as a gap, and the report says it was accepted.

use super::carve::Covered;
use super::entropy::BLOCK;
use super::Walk;
use crate::coverage::GapKind;

/// Records what of `regions` is left uninterpreted after `covered`.
pub(crate) fn account(walk: &Walk, chain: &[String], regions: Vec<(u64, u64)>, covered: &Covered) {
    let mut left: Vec<(u64, u64)> = Vec::new();
    for (start, end) in regions {
        // A region that media begins in, or right before, is that media's data.
        if covered.media.iter().any(|&m| m + BLOCK >= start && m < end) {
            continue;
        }
        left.extend(subtract((start, end), &covered.ranges));
    }
    left.retain(|(start, end)| end - start >= BLOCK);
    if left.is_empty() {
        return;
    }
    let bytes: u64 = left.iter().map(|(s, e)| e - s).sum();
    let (first_start, first_end) = left[0];
    let more = match left.len() {
        1 => String::new(),
        n => format!(" and {} more region(s)", n - 1),
    };
    if walk.limits().allow_opaque {
        walk.ctx.recorder.with_root(walk.ctx.root, |root| {
            root.opaque_accepted.regions += left.len() as u64;
            root.opaque_accepted.bytes += bytes;
        });
        return;
    }
    walk.fail(
        GapKind::Opaque,
        chain,
        format!(
            "{bytes} bytes of high-entropy content (bytes {first_start}-{first_end}{more}) that no \
             layer of scour could interpret: compressed or encrypted data in a form scour cannot \
             read, so absence of the secret cannot be proven in it (--allow-opaque accepts it, \
             and the report says so)"
        ),
    );
}

/// `region` minus every range of `covered`.
fn subtract(region: (u64, u64), covered: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut pieces = vec![region];
    for &(c_start, c_end) in covered {
        pieces = pieces
            .into_iter()
            .flat_map(|(start, end)| {
                let mut out = Vec::new();
                if c_end <= start || c_start >= end {
                    out.push((start, end));
                } else {
                    if c_start > start {
                        out.push((start, c_start));
                    }
                    if c_end < end {
                        out.push((c_end, end));
                    }
                }
                out
            })
            .collect();
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covered_ranges_are_taken_out() {
        assert_eq!(
            subtract((0, 100), &[(10, 20), (50, 200)]),
            vec![(0, 10), (20, 50)]
        );
        assert_eq!(subtract((0, 100), &[]), vec![(0, 100)]);
        assert!(subtract((10, 20), &[(0, 100)]).is_empty());
    }
}
