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
/// Bits per byte from which a sample counts as compressed or encrypted. 4 KiB of uniform
/// random bytes measure about 7.95; the densest text and code stay below 6.6.
const HIGH_ENTROPY_BITS: f64 = 7.5;

/// High-entropy regions of one stream, as sampled.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    enabled: bool,
    position: u64,
    counts: Vec<u32>,
    sampled: u64,
    /// Consecutive high-entropy blocks, as byte ranges, merged.
    regions: Vec<(u64, u64)>,
}

impl Meter {
    pub(crate) fn new(enabled: bool) -> Meter {
        Meter {
            enabled,
            counts: if enabled { vec![0; 256] } else { Vec::new() },
            ..Meter::default()
        }
    }

    /// Sees the next bytes of the stream.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        while !bytes.is_empty() {
            let in_block = self.position % BLOCK;
            if in_block < SAMPLE {
                let take = ((SAMPLE - in_block) as usize).min(bytes.len());
                for &byte in &bytes[..take] {
                    self.counts[byte as usize] += 1;
                }
                self.sampled += take as u64;
                self.position += take as u64;
                bytes = &bytes[take..];
                if self.sampled == SAMPLE {
                    self.close_sample();
                }
            } else {
                let take = ((BLOCK - in_block) as usize).min(bytes.len());
                self.position += take as u64;
                bytes = &bytes[take..];
            }
        }
    }

    fn close_sample(&mut self) {
        let bits = entropy_bits(&self.counts, self.sampled);
        let block_start = self.position - self.sampled;
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.sampled = 0;
        if bits < HIGH_ENTROPY_BITS {
            return;
        }
        let end = block_start + BLOCK;
        match self.regions.last_mut() {
            Some((_, last_end)) if *last_end == block_start => *last_end = end,
            _ => self.regions.push((block_start, end)),
        }
    }

    /// The high-entropy regions, clipped to the `length` of the stream.
    pub(crate) fn regions(mut self, length: u64) -> Vec<(u64, u64)> {
        for region in &mut self.regions {
            region.1 = region.1.min(length);
        }
        self.regions.retain(|(start, end)| end > start);
        self.regions
    }
}

/// Shannon entropy of a histogram, in bits per byte.
fn entropy_bits(counts: &[u32], total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
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
        let regions = meter.regions((512 << 10) as u64);
        assert_eq!(regions, vec![(256 << 10, 512 << 10)]);
    }

    #[test]
    fn a_disabled_meter_sees_nothing() {
        let mut meter = Meter::new(false);
        meter.feed(&random(1 << 20, 3));
        assert!(meter.regions(1 << 20).is_empty());
    }
}
