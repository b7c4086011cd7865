//! Incremental sweeps (`--cache DIR`): reusing what an earlier scan proved absent.
//!
//! A unit of content (a file, an S3 object version, an OCI blob) that was read completely,
//! with no finding and no gap, is recorded with its identity ([`unit`]), the set of secrets
//! it was checked for (fingerprints under the cache's own salt, never the secrets) and the
//! engine that checked it ([`engine`]). A later scan with the same engine skips a unit
//! whose identity is unchanged and whose recorded set covers every secret of this scan; any
//! new secret means the unit is read again. The report says how many units were reused and
//! from when, and `verify --policy` can limit or forbid reuse. A damaged cache is ignored
//! with a warning (and replaced), never trusted; it is written atomically ([`file`]).

pub mod engine;
pub mod file;
pub mod unit;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::secret::{Fingerprint, Salt};
use file::{CacheFile, Proof};
use unit::{UnitKey, RACY_MARGIN_SECS};

pub use crate::model::CacheRecord;

/// A proof that may be reused for a unit.
#[derive(Debug, Clone)]
pub struct Reuse {
    pub proven_at: i64,
    /// The unit's content SHA-256, if it was hashed then.
    pub content: Option<[u8; 32]>,
}

struct Offer {
    hash: String,
    head: String,
    content: Option<String>,
}

pub struct Cache {
    dir: PathBuf,
    salt: Salt,
    engine: String,
    /// This scan's secrets under the cache's salt.
    current: BTreeSet<String>,
    previous: CacheFile,
    /// Indexes of the previous sets that cover every current secret.
    covering: HashSet<usize>,
    started_at: i64,
    offered: Mutex<Vec<Offer>>,
    reused: Mutex<Vec<i64>>,
    warning: Option<String>,
    /// Whether the cache file on disk is this engine's, under this salt (so a sweep that
    /// proved nothing new need not rewrite it).
    loaded: bool,
}

impl Cache {
    /// Opens the cache in `dir` for a scan of `secrets` (plaintext secrets' bytes, and ledger
    /// entry ids) under `engine`. A damaged cache is reported on stderr and ignored.
    pub fn open(dir: PathBuf, engine: String, secrets: &[&[u8]]) -> Cache {
        let (previous, warning) = match file::read(&dir) {
            Ok(Some(previous)) if previous.engine == engine => (Some(previous), None),
            Ok(Some(_)) => (
                None,
                Some("the cache was made by another engine (version, encodings, limits or rules): nothing reused".to_string()),
            ),
            Ok(None) => (None, None),
            Err(reason) => {
                let warning = format!(
                    "ignoring the cache at {}: {reason}; every unit is scanned and the cache rewritten",
                    file::path(&dir).display()
                );
                eprintln!("scour: warning: {warning}");
                (None, Some(warning))
            }
        };
        let loaded = previous.is_some();
        let salt = previous
            .as_ref()
            .and_then(|p| Salt::from_hex(&p.salt))
            .unwrap_or_else(Salt::random);
        let previous = previous.unwrap_or_else(|| CacheFile {
            format: file::FORMAT.to_string(),
            salt: salt.to_hex(),
            engine: engine.clone(),
            ..CacheFile::default()
        });
        let current: BTreeSet<String> = secrets
            .iter()
            .map(|secret| Fingerprint::compute(&salt, secret).0)
            .collect();
        let covering = previous
            .sets
            .iter()
            .enumerate()
            .filter(|(_, set)| current.iter().all(|fp| set.contains(fp)))
            .map(|(index, _)| index)
            .collect();
        Cache {
            dir,
            salt,
            engine,
            current,
            previous,
            covering,
            started_at: Utc::now().timestamp(),
            offered: Mutex::new(Vec::new()),
            reused: Mutex::new(Vec::new()),
            warning,
            loaded,
        }
    }

    /// The proof to reuse for `unit`, if its identity is unchanged, it was checked for every
    /// secret of this scan, and (for files) it had not changed shortly before the proof.
    pub fn lookup(&self, unit: &UnitKey) -> Option<Reuse> {
        let proof = self.previous.entries.get(&self.hash(&unit.identity))?;
        if !self.covering.contains(&proof.set) {
            return None;
        }
        if let Some(changed_at) = unit.changed_at {
            if changed_at >= proof.proven_at - RACY_MARGIN_SECS {
                return None;
            }
        }
        let content = proof.content.as_deref().and_then(|hex_digest| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hex_digest, &mut bytes).ok()?;
            Some(bytes)
        });
        lock(&self.reused).push(proof.proven_at);
        Some(Reuse {
            proven_at: proof.proven_at,
            content,
        })
    }

    /// Offers a unit this scan read completely; it is recorded unless a finding or a gap
    /// names `head` (the first element of its chain).
    pub fn offer(&self, unit: &UnitKey, head: String, content: Option<[u8; 32]>) {
        let offer = Offer {
            hash: self.hash(&unit.identity),
            head,
            content: content.map(hex::encode),
        };
        lock(&self.offered).push(offer);
    }

    /// Writes the updated cache and describes its use. `troubled` are the chain heads of
    /// every finding and gap of the scan; `trust_new` is false when some proof of this scan
    /// cannot be attributed to its unit (then nothing new is recorded).
    pub fn finish(self, troubled: &HashSet<String>, trust_new: bool) -> CacheRecord {
        let reused = self.reused.into_inner().unwrap_or_else(|p| p.into_inner());
        let offered = self.offered.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut next = self.previous;
        next.salt = self.salt.to_hex();
        next.engine = self.engine.clone();
        let current: Vec<String> = self.current.into_iter().collect();
        let set = match next.sets.iter().position(|s| *s == current) {
            Some(index) => index,
            None => {
                next.sets.push(current);
                next.sets.len() - 1
            }
        };
        let mut recorded = 0;
        let mut changed = !self.loaded;
        if trust_new {
            for offer in offered {
                if troubled.contains(&offer.head) {
                    changed |= next.entries.remove(&offer.hash).is_some();
                    continue;
                }
                next.entries.insert(
                    offer.hash,
                    Proof {
                        set,
                        proven_at: self.started_at,
                        content: offer.content,
                    },
                );
                recorded += 1;
            }
        }
        changed |= recorded > 0;
        drop_unused_sets(&mut next);
        let mut warning = self.warning;
        let written = if changed {
            file::write(&self.dir, &next)
        } else {
            Ok(())
        };
        if let Err(error) = written {
            let message = format!(
                "could not write the cache at {}: {error}; the next scan reads everything again",
                file::path(&self.dir).display()
            );
            eprintln!("scour: warning: {message}");
            warning = Some(message);
        }
        let at = |seconds: Option<&i64>| seconds.and_then(|s| DateTime::from_timestamp(*s, 0));
        CacheRecord {
            dir: self.dir.display().to_string(),
            engine: self.engine,
            units_reused: reused.len() as u64,
            reused_proven_from: at(reused.iter().min()),
            reused_proven_until: at(reused.iter().max()),
            units_recorded: recorded,
            warning,
        }
    }

    /// Unit identities are stored hashed: the cache names no path, key or digest.
    fn hash(&self, identity: &str) -> String {
        let digest = Sha256::digest(identity.as_bytes());
        hex::encode(&digest[..16])
    }
}

/// Sets no entry refers to any more are dropped, and the indexes renumbered.
fn drop_unused_sets(file: &mut CacheFile) {
    let used: BTreeSet<usize> = file.entries.values().map(|p| p.set).collect();
    let renumber: HashMap<usize, usize> = used
        .iter()
        .enumerate()
        .map(|(new, old)| (*old, new))
        .collect();
    file.sets = used.iter().map(|old| file.sets[*old].clone()).collect();
    for proof in file.entries.values_mut() {
        proof.set = renumber[&proof.set];
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(identity: &str, changed_at: Option<i64>) -> UnitKey {
        UnitKey {
            identity: identity.to_string(),
            changed_at,
        }
    }

    #[test]
    fn reuses_only_for_covered_secrets_and_old_enough_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = Cache::open(dir.path().into(), "e1".into(), &[b"secret-one-1234"]);
        first.offer(&unit("a", None), "a".into(), None);
        first.offer(&unit("b", Some(0)), "b".into(), None);
        first.offer(&unit("found", None), "found".into(), None);
        let troubled: HashSet<String> = ["found".to_string()].into();
        let record = first.finish(&troubled, true);
        assert_eq!(record.units_recorded, 2);

        let again = Cache::open(dir.path().into(), "e1".into(), &[b"secret-one-1234"]);
        assert!(again.lookup(&unit("a", None)).is_some());
        assert!(again.lookup(&unit("b", Some(0))).is_some());
        assert!(
            again.lookup(&unit("found", None)).is_none(),
            "a unit with a finding"
        );
        // Changed shortly before the proof: racily clean, not trusted.
        let now = Utc::now().timestamp();
        assert!(again.lookup(&unit("b", Some(now))).is_none());

        let new_secret = Cache::open(
            dir.path().into(),
            "e1".into(),
            &[b"secret-one-1234", b"secret-two-5678"],
        );
        assert!(new_secret.lookup(&unit("a", None)).is_none());
        let other_engine = Cache::open(dir.path().into(), "e2".into(), &[b"secret-one-1234"]);
        assert!(other_engine.lookup(&unit("a", None)).is_none());
        assert!(other_engine.warning.is_some());
    }

    #[test]
    fn a_corrupt_cache_is_ignored_and_names_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            file::path(dir.path()),
            b"{\"format\": \"scour-cache/1\", trunc",
        )
        .unwrap();
        let cache = Cache::open(dir.path().into(), "e".into(), &[b"hunter2-secret-value"]);
        assert!(cache.warning.as_deref().unwrap().contains("ignoring"));
        cache.offer(&unit("a", None), "a".into(), None);
        cache.finish(&HashSet::new(), true);
        let written = std::fs::read_to_string(file::path(dir.path())).unwrap();
        assert!(!written.contains("hunter2"));
        assert!(file::read(dir.path()).unwrap().is_some());
    }
}
