//! Shards: one scan split into N disjoint parts that together cover everything.
//!
//! Shard `K/N` owns an item when the first 8 bytes of the SHA-256 of the item's key, read
//! as a big-endian integer, are `K - 1` modulo `N`. The key of a file is its path relative to
//! the scanned root, so the partition is the same on every machine and every run; the git
//! source uses object ids. Each shard's report says which shard it is, and only
//! `scour merge` of all N shards makes a report that can close a finding.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole scan: owns everything.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    pub fn owns(&self, key: &[u8]) -> bool {
        if self.count <= 1 {
            return true;
        }
        let digest = Sha256::digest(key);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let invalid = || format!("invalid shard {text:?}: write K/N with 1 <= K <= N, e.g. 2/8");
        let (index, count) = text.split_once('/').ok_or_else(invalid)?;
        let index: u32 = index.trim().parse().map_err(|_| invalid())?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        if index == 0 || count == 0 || index > count {
            return Err(invalid());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_keys_disjointly_and_completely() {
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        let mut per_shard = [0usize; 3];
        for n in 0..3000 {
            let key = format!("dir/file-{n}.txt");
            let owners: Vec<usize> = (0..3).filter(|&i| shards[i].owns(key.as_bytes())).collect();
            assert_eq!(owners.len(), 1, "{key}");
            per_shard[owners[0]] += 1;
        }
        assert!(per_shard.iter().all(|&n| n > 800), "{per_shard:?}");
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(
            "2/8".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 8 }
        );
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
