//! Measuring where a stream looks compressed or encrypted, for opaque-content accounting.
//!
//! Bytes that no layer could interpret and that look like ciphertext or compressed data
//! cannot be proven free of the secret, so they are a gap (`opaque`) unless a layer read
//! them. The [`Meter`] sees every byte of a leaf once (as an observer of the raw scan) and
//! samples the first [`SAMPLE`] bytes of every [`BLOCK`]: text has 4-6 bits of entropy per
//! byte, machine code about 6, base64 6; compressed and encrypted data are at 7.9 and
//! above. Sampling keeps the cost to a histogram over one byte in sixteen.

/// Granularity of the measurement: a region this large is "sizeable". Small random values
/// (keys, hashes, signatures, UUIDs) are far shorter and never count.
pub(crate) const BLOCK: u64 = 64 << 10;
/// Bytes sampled at the start of each block.
const SAMPLE: u64 = 4 << 10;
/// Bits per byte of a sample from which the whole block is measured. 4 KiB of uniform
/// random bytes measure about 7.95; text, code and most tables stay below 7.5.
const SAMPLE_BITS: f64 = 7.8;
/// Bits per byte of a whole block from which it counts as compressed or encrypted: 64 KiB
/// of deflate, xz or zstd output or ciphertext measure 7.99 and more; the densest tables in
/// executables (math constants, S-boxes, ICU data) measured 7.6-7.9 on this machine's
/// /usr/lib.
const BLOCK_BITS: f64 = 7.95;

/// High-entropy regions of one stream, as sampled.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    enabled: bool,
    position: u64,
    /// Byte counts: one table of 256 for a sample; [`LANES`] tables, one per byte position
    /// modulo [`LANES`], once a whole block is counted (random data is counted in full):
    /// consecutive equal bytes then increment different counters, so the counting loop does
    /// not stall on its own stores. Most leaves are small and only ever sampled, so only
    /// one table is cleared for them.
    counts: Vec<u32>,
    counted: u64,
    /// The current block's sample was high: the rest of the block is counted too.
    measuring_block: bool,
    /// Consecutive high-entropy blocks, as byte ranges, merged.
    regions: Vec<(u64, u64)>,
    /// The stream's first bytes, held (not counted) while it is shorter than
    /// [`SHORTEST_REGION`]: a shorter stream has no region whatever its bytes, and most
    /// leaves are that short, so counting them cost more than the rest of their scan.
    head: Vec<u8>,
    /// The head was counted: the stream reached [`SHORTEST_REGION`].
    head_counted: bool,
}

/// The shortest stream that can hold a region: a last, partial block counts from a
/// quarter of a block measured (see [`Meter::regions`]).
const SHORTEST_REGION: u64 = BLOCK / 4;

impl Meter {
    pub(crate) fn new(enabled: bool) -> Meter {
        Meter {
            enabled,
            counts: if enabled { vec![0; 256] } else { Vec::new() },
            ..Meter::default()
        }
    }

    /// Sees the next bytes of the stream.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        if !self.head_counted {
            if ((self.head.len() + bytes.len()) as u64) < SHORTEST_REGION {
                self.head.extend_from_slice(bytes);
                return;
            }
            self.head_counted = true;
            let head = std::mem::take(&mut self.head);
            self.count(&head);
        }
        self.count(bytes);
    }

    fn count(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let in_block = self.position % BLOCK;
            let counting = in_block < SAMPLE || self.measuring_block;
            let until = if in_block < SAMPLE { SAMPLE } else { BLOCK };
            let take = ((until - in_block) as usize).min(bytes.len());
            if counting {
                count_bytes(&mut self.counts, &bytes[..take]);
                self.counted += take as u64;
            }
            self.position += take as u64;
            bytes = &bytes[take..];
            let in_block = self.position % BLOCK;
            if in_block == SAMPLE {
                self.measuring_block = entropy_bits(&self.counts, self.counted) >= SAMPLE_BITS;
                if self.measuring_block {
                    self.counts.resize(256 * LANES, 0);
                } else {
                    self.reset();
                }
            } else if in_block == 0 {
                self.close_block(BLOCK_BITS);
            }
        }
    }

    fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.counted = 0;
        self.measuring_block = false;
    }

    fn close_block(&mut self, threshold: f64) {
        let high = self.measuring_block && entropy_bits(&self.counts, self.counted) >= threshold;
        let end = self.position;
        let start = end - self.counted;
        self.reset();
        if !high {
            return;
        }
        match self.regions.last_mut() {
            Some((_, last_end)) if *last_end == start => *last_end = end,
            _ => self.regions.push((start, end)),
        }
    }

    /// The high-entropy regions, once the stream has ended.
    pub(crate) fn regions(mut self) -> Vec<(u64, u64)> {
        // A last, partial block counts if enough of it was measured.
        if self.measuring_block && self.counted >= BLOCK / 4 {
            self.close_block(BLOCK_BITS - 0.02);
        }
        self.regions
    }
}

/// Tables the byte counts are spread over (see [`Meter::counts`]).
const LANES: usize = 4;

/// Adds the bytes to the tables of `counts` (one, or `LANES`).
fn count_bytes(counts: &mut [u32], bytes: &[u8]) {
    if counts.len() < 256 * LANES {
        for &byte in bytes {
            counts[byte as usize] += 1;
        }
        return;
    }
    let (lane0, rest) = counts.split_at_mut(256);
    let (lane1, rest) = rest.split_at_mut(256);
    let (lane2, lane3) = rest.split_at_mut(256);
    let mut quads = bytes.chunks_exact(LANES);
    for quad in &mut quads {
        lane0[quad[0] as usize] += 1;
        lane1[quad[1] as usize] += 1;
        lane2[quad[2] as usize] += 1;
        lane3[quad[3] as usize] += 1;
    }
    for &byte in quads.remainder() {
        lane0[byte as usize] += 1;
    }
}

/// Shannon entropy of a histogram (spread over one or `LANES` tables), in bits per byte.
fn entropy_bits(counts: &[u32], total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    let lanes = counts.len() / 256;
    (0..256)
        .map(|byte| {
            (0..lanes)
                .map(|lane| counts[lane * 256 + byte])
                .sum::<u32>()
        })
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn random_bytes_are_high_entropy_and_text_is_not() {
        let mut meter = Meter::new(true);
        let text: Vec<u8> = b"2024-05-01 INFO request served in 12ms path=/api/v1/items\n"
            .iter()
            .copied()
            .cycle()
            .take(256 << 10)
            .collect();
        meter.feed(&text);
        let noise = random(256 << 10, 7);
        for chunk in noise.chunks(1000) {
            meter.feed(chunk);
        }
        let regions = meter.regions();
        assert_eq!(regions, vec![(256 << 10, 512 << 10)]);
    }

    /// A stream too short to hold a region is held, not counted; held or not, the regions
    /// are those of the stream fed whole, however it is cut into reads.
    #[test]
    fn short_streams_are_held_and_regions_do_not_depend_on_reads() {
        let whole = |bytes: &[u8]| {
            let mut meter = Meter::new(true);
            meter.feed(bytes);
            meter.regions()
        };
        for len in [
            100,
            4096,
            (16 << 10) - 1,
            16 << 10,
            (16 << 10) + 1,
            70 << 10,
        ] {
            let noise = random(len, len as u64);
            let expected = whole(&noise);
            assert_eq!(expected.is_empty(), (len as u64) < SHORTEST_REGION, "{len}");
            for read in [1, 999, 4096, 16 << 10] {
                let mut meter = Meter::new(true);
                for chunk in noise.chunks(read) {
                    meter.feed(chunk);
                }
                assert_eq!(meter.regions(), expected, "{len} in reads of {read}");
            }
        }
    }

    #[test]
    fn a_disabled_meter_sees_nothing() {
        let mut meter = Meter::new(false);
        meter.feed(&random(1 << 20, 3));
        assert!(meter.regions().is_empty());
    }
}
