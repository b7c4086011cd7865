//! Bounds on what one scan can put in a report: at most [`FINDINGS_PER_PLACE`] findings per
//! secret and place (the rest counted exactly), and names and reasons cut to a fixed length.
//!
//! Without them a hostile or merely repetitive input decides the report's size: a secret
//! printed a million times in one log, or a tar whose member names are a mebibyte each. With
//! them a report grows with the number of distinct places a secret is in, never with how
//! often it repeats or how long a name is.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// Findings listed per (secret, place); occurrences past it are counted in `Finding::more`.
pub const FINDINGS_PER_PLACE: u64 = 100;

/// Longest name (a chain element: path, member, object name) a report shows whole.
pub const MAX_NAME_BYTES: usize = 1024;

/// Longest gap reason a report shows whole (reasons quote names and library errors).
pub const MAX_REASON_BYTES: usize = 4096;

/// `text` if it fits in `max` bytes, else its first `max` bytes (cut at a character
/// boundary) and a marker with the full length and a hash of the whole, so two long names
/// that share a prefix stay distinct in the report.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "{}…[cut: {} bytes in all, sha256 {}]",
        &text[..cut],
        text.len(),
        hex::encode(&digest[..8])
    )
}

/// A chain with every element bounded to [`MAX_NAME_BYTES`].
pub fn bounded_chain(chain: &[String]) -> Vec<String> {
    chain
        .iter()
        .map(|name| bounded(name, MAX_NAME_BYTES))
        .collect()
}

/// How many findings each (place, secret) has had, to admit only the first
/// [`FINDINGS_PER_PLACE`]. Memory grows with distinct places, not with occurrences.
#[derive(Debug, Default)]
pub struct PlaceCounts {
    by_place: HashMap<Vec<String>, HashMap<String, u64>>,
}

impl PlaceCounts {
    /// Counts one occurrence of `secret` in `chain`; true if it is to be listed.
    pub fn admit(&mut self, chain: &[String], secret: &str) -> bool {
        let secrets = match self.by_place.get_mut(chain) {
            Some(secrets) => secrets,
            None => self.by_place.entry(chain.to_vec()).or_default(),
        };
        let count = match secrets.get_mut(secret) {
            Some(count) => count,
            None => secrets.entry(secret.to_string()).or_insert(0),
        };
        *count += 1;
        *count <= FINDINGS_PER_PLACE
    }

    /// Occurrences of `secret` in `chain` that were counted but not listed.
    pub fn not_listed(&self, chain: &[String], secret: &str) -> u64 {
        self.by_place
            .get(chain)
            .and_then(|secrets| secrets.get(secret))
            .map_or(0, |&count| count.saturating_sub(FINDINGS_PER_PLACE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept_whole() {
        assert_eq!(bounded("srv/app/.env", MAX_NAME_BYTES), "srv/app/.env");
    }

    #[test]
    fn long_names_are_cut_and_stay_distinct() {
        let a = format!("{}a", "x".repeat(1 << 20));
        let b = format!("{}b", "x".repeat(1 << 20));
        let (cut_a, cut_b) = (bounded(&a, MAX_NAME_BYTES), bounded(&b, MAX_NAME_BYTES));
        assert!(cut_a.len() < MAX_NAME_BYTES + 100, "{}", cut_a.len());
        assert!(cut_a.contains(&format!("{} bytes in all", a.len())));
        assert_ne!(cut_a, cut_b);
    }

    #[test]
    fn names_are_cut_at_a_character_boundary() {
        let name = "é".repeat(MAX_NAME_BYTES);
        let cut = bounded(&name, MAX_NAME_BYTES + 1);
        assert!(cut.starts_with(&"é".repeat(MAX_NAME_BYTES / 2)));
    }

    #[test]
    fn occurrences_past_the_cap_are_counted_not_admitted() {
        let mut counts = PlaceCounts::default();
        let chain = vec!["log".to_string()];
        let admitted = (0..FINDINGS_PER_PLACE + 42)
            .filter(|_| counts.admit(&chain, "s1"))
            .count() as u64;
        assert_eq!(admitted, FINDINGS_PER_PLACE);
        assert_eq!(counts.not_listed(&chain, "s1"), 42);
        assert!(counts.admit(&chain, "s2"), "another secret has its own cap");
        assert!(
            counts.admit(&["other".to_string()], "s1"),
            "another place too"
        );
    }
}
