//! The ledger: every object id read in this run, so an object shared by several
//! repositories (mirrors, forks, alternates) is inflated and scanned once.
//!
//! An object that matched keeps its findings (members of a blob included), so each further
//! repository holding it still gets findings attributed to its own commits and refs, without
//! reading the object again. An object whose reading left a gap is not recorded: each
//! repository holding it reads it again and records the gap under its own name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid};

use crate::findings::Finding;

/// What reading an object showed.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
    Clean,
    Matched {
        kind: ObjectType,
        findings: Arc<Vec<Finding>>,
    },
}

#[derive(Default)]
pub(crate) struct Ledger {
    seen: Mutex<HashMap<Oid, Seen>>,
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Oid, Seen>> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Splits `ids` into those never read in this run and those already read (with what
    /// reading them showed).
    pub(crate) fn partition(&self, ids: Vec<Oid>) -> (Vec<Oid>, Vec<(Oid, Seen)>) {
        let seen = self.lock();
        let mut new = Vec::with_capacity(ids.len());
        let mut known = Vec::new();
        for id in ids {
            match seen.get(&id) {
                Some(state) => known.push((id, state.clone())),
                None => new.push(id),
            }
        }
        (new, known)
    }

    pub(crate) fn record(&self, id: Oid, state: Seen) {
        self.lock().insert(id, state);
    }
}
