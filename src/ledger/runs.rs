//! Finding long runs of bytes from one class without looking at every byte.
//!
//! Candidates and encoded runs are only interesting from some length `L` on. Any run of at
//! least `L` bytes contains one of a series of probe positions spaced `L` apart, so only the
//! probes are tested and a run is expanded around a probe that hits it. On ordinary text,
//! where class runs are short words, that tests a fraction of the bytes with few
//! mispredicted branches.

use std::ops::Range;

/// Calls `on_run` once for every maximal run of `member` bytes at least `min_len` long
/// that ends after `from` and starts before `until`, in order.
pub fn for_each_long_run(
    bytes: &[u8],
    from: usize,
    until: usize,
    min_len: usize,
    member: &[bool; 256],
    on_run: &mut dyn FnMut(Range<usize>),
) {
    let min_len = min_len.max(1);
    let is_member = |at: usize| member[bytes[at] as usize];
    let mut probe = from;
    while probe < bytes.len() {
        if !is_member(probe) {
            probe += min_len;
            continue;
        }
        let start = bytes[..probe]
            .iter()
            .rposition(|&b| !member[b as usize])
            .map_or(0, |n| n + 1);
        if start >= until {
            return;
        }
        let end = bytes[probe..]
            .iter()
            .position(|&b| !member[b as usize])
            .map_or(bytes.len(), |n| probe + n);
        if end - start >= min_len {
            on_run(start..end);
        }
        probe = end + min_len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_runs_a_full_scan_finds() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut member = [false; 256];
        for b in b'a'..=b'z' {
            member[b as usize] = true;
        }
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..rng.gen_range(0..300))
                .map(|_| {
                    if rng.gen_bool(0.8) {
                        b'a' + rng.gen_range(0..26)
                    } else {
                        b' '
                    }
                })
                .collect();
            let min_len = rng.gen_range(1..12);
            let from = rng.gen_range(0..=bytes.len());
            let until = rng.gen_range(from..=bytes.len());
            let mut expected = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                if !member[bytes[at] as usize] {
                    at += 1;
                    continue;
                }
                let start = at;
                while at < bytes.len() && member[bytes[at] as usize] {
                    at += 1;
                }
                if at - start >= min_len && at > from && start < until {
                    expected.push(start..at);
                }
            }
            let mut found = Vec::new();
            for_each_long_run(&bytes, from, until, min_len, &member, &mut |r| {
                found.push(r)
            });
            assert_eq!(
                found, expected,
                "min_len {min_len} from {from} until {until}"
            );
        }
    }
}
