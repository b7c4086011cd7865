//! Many patterns at once: a hashed index of 8-byte grams.
//!
//! Teddy ([`super::prefilter`]) stops paying off beyond 64 distinct prefixes, and an
//! Aho-Corasick automaton for hundreds of secrets (each with a few hundred variants) is a
//! large NFA that walks every byte. This index replaces both when the pattern set is large:
//!
//! - every pattern is at least `shortest` bytes long, so every occurrence covers one
//!   position `j` that is a multiple of `stride = min(shortest - 7, MAX_STRIDE)`, and the
//!   8 bytes at `j` are the pattern's bytes at offset `j - start`, below `stride`. The index
//!   holds, for every pattern, its grams at offsets `0..stride`;
//! - the scan reads the 8 bytes at every `stride`-th position, hashes them with one multiply
//!   and tests 3 bits of one word of a blocked Bloom filter (16-32 bits per distinct gram,
//!   small enough to stay in L2 for a thousand secrets, so most positions stop there); only
//!   when the bits are set are the gram's (pattern, offset) pairs looked up and each pattern
//!   compared byte for byte.
//!
//! Every occurrence is found exactly once (through its one `j`), which is what the
//! automaton's overlapping search reports, so the two engines give the same matches. The
//! filter's memory and false-positive rate follow the number of distinct grams, not of
//! patterns: the variants of one secret share most of their leading bytes.

use std::ops::Range;

use zeroize::Zeroizing;

use super::PatternSet;

/// Bytes per gram: one unaligned `u64` load.
const GRAM: usize = 8;
/// Positions skipped between two reads at most. More means fewer reads but more distinct
/// grams (a larger filter).
const MAX_STRIDE: usize = 8;
/// Filter bits per distinct gram (at least; rounded up to a power of two). The filter is a
/// blocked Bloom filter: each gram sets 3 bits of one 64-bit word, so a read costs one load,
/// and with 16 bits or more per gram fewer than 1% of reads go on to the look-up.
const BITS_PER_GRAM: usize = 16;
/// Bits of the hash that pick the 3 bits inside a word (6 each).
const IN_WORD_BITS: u32 = 18;
/// Odd multipliers to hash grams with; the first one under which no run of common filler
/// (zeros, spaces, `0xFF`, ...) passes the filter is used, so such runs cost one load per
/// read and nothing more.
const MULTIPLIERS: [u64; 6] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0xD6E8_FEB8_6659_FD93,
    0xFF51_AFD7_ED55_8CCD,
    0xC4CE_B9FE_1A85_EC53,
];
/// Runs that fill whole regions of ordinary files.
const FILLER: [u8; 10] = [0x00, b' ', 0xFF, b'\n', b'0', b'A', b'-', b'=', b'\t', b'.'];

/// One distinct gram and where its (pattern, offset) pairs are.
#[derive(Clone, Copy)]
struct Gram {
    gram: u64,
    targets: u32,
    count: u32,
}

/// A pattern that has a gram at some offset below `stride`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    pattern: u32,
    offset: u32,
}

pub(crate) struct GramIndex {
    /// All patterns' bytes, one after another; derived from secrets, so wiped on drop.
    bytes: Zeroizing<Vec<u8>>,
    /// `(start in bytes, length)` of each pattern.
    spans: Vec<(usize, usize)>,
    stride: usize,
    hasher: Hasher,
    filter: Vec<u64>,
    /// Start of each bucket's grams in `grams` (one more entry than buckets).
    buckets: Vec<u32>,
    grams: Vec<Gram>,
    targets: Vec<Target>,
}

/// Where a gram's hash falls: a filter word, 3 bits in it, a look-up bucket.
#[derive(Clone, Copy)]
struct Hasher {
    multiplier: u64,
    word_shift: u32,
    bucket_mask: u64,
}

impl Hasher {
    fn hash(&self, gram: u64) -> u64 {
        let hash = gram.wrapping_mul(self.multiplier);
        // Fold the high bits down so the low bits (the in-word bits) depend on every byte.
        hash ^ (hash >> 29)
    }

    fn word(&self, hash: u64) -> usize {
        (hash >> self.word_shift) as usize
    }

    fn mask(hash: u64) -> u64 {
        (1 << (hash & 63)) | (1 << ((hash >> 6) & 63)) | (1 << ((hash >> 12) & 63))
    }

    fn bucket(&self, hash: u64) -> usize {
        ((hash >> IN_WORD_BITS) & self.bucket_mask) as usize
    }
}

impl GramIndex {
    /// Indexes the set, or hands it back if a pattern is shorter than a gram.
    pub(crate) fn new(set: PatternSet) -> Result<GramIndex, PatternSet> {
        let Some(shortest) = set.spans.iter().map(|&(_, len)| len).min() else {
            return Err(set);
        };
        if shortest < GRAM || set.len() > u32::MAX as usize {
            return Err(set);
        }
        let stride = (shortest - GRAM + 1).min(MAX_STRIDE);
        let (bytes, spans) = set.into_parts();
        // (gram, target) pairs, sorted so each distinct gram's targets are one run. This is
        // the largest structure while building (16 bytes per pattern and offset), so the
        // rest is derived from it in place of copies.
        let mut pairs: Vec<(u64, Target)> = Vec::with_capacity(spans.len() * stride);
        for (index, &(start, len)) in spans.iter().enumerate() {
            let pattern = &bytes[start..start + len];
            for offset in 0..stride {
                let target = Target {
                    pattern: index as u32,
                    offset: offset as u32,
                };
                pairs.push((gram_at(pattern, offset), target));
            }
        }
        pairs.sort_unstable();
        let distinct = pairs.chunk_by(|a, b| a.0 == b.0).count();

        let filter_words = (distinct * BITS_PER_GRAM / 64).next_power_of_two().max(64);
        let bucket_count = distinct.next_power_of_two();
        let (hasher, filter) = choose_hasher(&pairs, filter_words, bucket_count);

        // Each distinct gram with its run of targets (kept in gram order), then the grams
        // ordered by bucket: sorting the distinct grams costs less than sorting the pairs.
        let mut grams = Vec::with_capacity(distinct);
        let mut first_target = 0;
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            grams.push(Gram {
                gram: run[0].0,
                targets: first_target as u32,
                count: run.len() as u32,
            });
            first_target += run.len();
        }
        let targets: Vec<Target> = pairs.iter().map(|&(_, target)| target).collect();
        drop(pairs);
        grams.sort_unstable_by_key(|g| hasher.bucket(hasher.hash(g.gram)));
        let mut buckets = vec![0u32; bucket_count + 1];
        for g in &grams {
            buckets[hasher.bucket(hasher.hash(g.gram)) + 1] += 1;
        }
        for bucket in 0..bucket_count {
            buckets[bucket + 1] += buckets[bucket];
        }
        Ok(GramIndex {
            bytes,
            spans,
            stride,
            hasher,
            filter,
            buckets,
            grams,
            targets,
        })
    }

    /// Calls `on_match(pattern, start, end)` for every occurrence of every pattern in
    /// `window` that starts inside `starts` (and ends inside `window`).
    pub(crate) fn for_each_match(
        &self,
        window: &[u8],
        starts: Range<usize>,
        mut on_match: impl FnMut(usize, usize, usize),
    ) {
        let stride = self.stride;
        // The positions read: multiples of `stride` from which an occurrence starting inside
        // `starts` is seen, with a whole gram inside the window.
        let mut at = starts.start.div_ceil(stride) * stride;
        let end = (starts.end + stride - 1).min(window.len().saturating_sub(GRAM - 1));
        let hasher = self.hasher;
        while at < end {
            let gram = gram_at(window, at);
            let hash = hasher.hash(gram);
            let mask = Hasher::mask(hash);
            if self.filter[hasher.word(hash)] & mask == mask {
                self.confirm(window, &starts, at, gram, hash, &mut on_match);
            }
            at += stride;
        }
    }

    fn confirm(
        &self,
        window: &[u8],
        starts: &Range<usize>,
        at: usize,
        gram: u64,
        hash: u64,
        on_match: &mut impl FnMut(usize, usize, usize),
    ) {
        let bucket = self.hasher.bucket(hash);
        let grams = &self.grams[self.buckets[bucket] as usize..self.buckets[bucket + 1] as usize];
        let Some(found) = grams.iter().find(|g| g.gram == gram) else {
            return;
        };
        let targets = &self.targets[found.targets as usize..][..found.count as usize];
        for target in targets {
            let Some(start) = at.checked_sub(target.offset as usize) else {
                continue;
            };
            let (from, len) = self.spans[target.pattern as usize];
            let end = start + len;
            if starts.contains(&start)
                && end <= window.len()
                && window[start..end] == self.bytes[from..from + len]
            {
                on_match(target.pattern as usize, start, end);
            }
        }
    }

    #[cfg(test)]
    fn passes_filter(&self, gram: u64) -> bool {
        let hash = self.hasher.hash(gram);
        let mask = Hasher::mask(hash);
        self.filter[self.hasher.word(hash)] & mask == mask
    }
}

fn gram_at(bytes: &[u8], at: usize) -> u64 {
    let mut gram = [0u8; GRAM];
    gram.copy_from_slice(&bytes[at..at + GRAM]);
    u64::from_le_bytes(gram)
}

/// The filter under the first multiplier that lets no filler run through (unless a pattern
/// holds that run). `pairs` is sorted by gram.
fn choose_hasher(
    pairs: &[(u64, Target)],
    filter_words: usize,
    bucket_count: usize,
) -> (Hasher, Vec<u64>) {
    let mut chosen = None;
    for multiplier in MULTIPLIERS {
        let hasher = Hasher {
            multiplier,
            word_shift: 64 - filter_words.trailing_zeros(),
            bucket_mask: bucket_count as u64 - 1,
        };
        let mut filter = vec![0u64; filter_words];
        for run in pairs.chunk_by(|a, b| a.0 == b.0) {
            let hash = hasher.hash(run[0].0);
            filter[hasher.word(hash)] |= Hasher::mask(hash);
        }
        let lets_filler_through = FILLER.iter().any(|&byte| {
            let filler = u64::from_ne_bytes([byte; GRAM]);
            let hash = hasher.hash(filler);
            let mask = Hasher::mask(hash);
            pairs
                .binary_search_by_key(&filler, |&(gram, _)| gram)
                .is_err()
                && filter[hasher.word(hash)] & mask == mask
        });
        let better = chosen.is_none() || !lets_filler_through;
        if better {
            chosen = Some((hasher, filter));
        }
        if !lets_filler_through {
            break;
        }
    }
    chosen.expect("MULTIPLIERS is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&[u8]]) -> PatternSet {
        let mut set = PatternSet::default();
        for pattern in patterns {
            set.insert(pattern);
        }
        set
    }

    fn index(patterns: &[&[u8]]) -> GramIndex {
        GramIndex::new(set(patterns)).ok().unwrap()
    }

    fn matches(index: &GramIndex, window: &[u8], starts: Range<usize>) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        index.for_each_match(window, starts, |pattern, start, _| {
            found.push((start, pattern))
        });
        found.sort_unstable();
        found
    }

    /// Every occurrence, the slow way.
    fn naive(patterns: &[&[u8]], window: &[u8], starts: Range<usize>) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for start in starts {
            for (index, pattern) in patterns.iter().enumerate() {
                if window[start..].starts_with(pattern) {
                    found.push((start, index));
                }
            }
        }
        found
    }

    #[test]
    fn finds_every_occurrence_once_at_every_alignment() {
        let patterns: [&[u8]; 4] = [
            b"needle-in-hay-01",
            b"needle-in-hay-01-longer",
            b"in-hay-01-longer",
            b"\0n\0e\0e\0d\0l\0e\0",
        ];
        let idx = index(&patterns);
        assert_eq!(idx.stride, 6, "the shortest pattern has 13 bytes");
        for shift in 0..20 {
            let mut window = vec![b'.'; shift];
            window.extend_from_slice(
                b"xx needle-in-hay-01-longer yy \0n\0e\0e\0d\0l\0e\0 needle-in-hay-01",
            );
            let all = naive(&patterns, &window, 0..window.len());
            assert_eq!(all.len(), 5);
            assert_eq!(
                matches(&idx, &window, 0..window.len()),
                all,
                "shift {shift}"
            );
            // Starts outside the range are context only.
            let part = shift + 3..shift + 20;
            assert_eq!(
                matches(&idx, &window, part.clone()),
                naive(&patterns, &window, part)
            );
        }
    }

    #[test]
    fn short_patterns_are_left_to_the_automaton() {
        assert!(GramIndex::new(set(&[b"seven77"])).is_err());
    }

    #[test]
    fn filler_does_not_reach_the_lookup() {
        let patterns: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| format!("tok_{:08}_abcdefgh", i + 10_000_000).into_bytes())
            .collect();
        let patterns: Vec<&[u8]> = patterns.iter().map(|p| &p[..]).collect();
        let idx = index(&patterns);
        for byte in FILLER {
            let gram = u64::from_ne_bytes([byte; GRAM]);
            assert!(!idx.passes_filter(gram), "filler {byte:#x}");
        }
        // and most other grams stop at the filter too.
        let passed = (0..100_000u64)
            .filter(|i| idx.passes_filter(i.wrapping_mul(0x2545_F491_4F6C_DD1D)))
            .count();
        assert!(
            passed < 2_000,
            "{passed} of 100,000 random grams passed the filter"
        );
    }
}
