//! Scanning the members of a streamed archive on several threads.
//!
//! A tar (or a `.tar.zst`, a `.tar.gz`) is one stream: its members come one after another,
//! and scanning them one after another leaves every core but one idle while decoding is
//! cheap and scanning is not. So a member that is plain bytes (no format at its start, so
//! it opens nothing that would need the archive's own state) and small enough to hold is
//! read into memory and handed to a worker thread, while the reading thread goes on to the
//! next member. When every worker is busy and the queue is full, the reading thread scans
//! the member itself: memory stays bounded (at most [`QUEUED`] members waiting and one per
//! worker) and no thread ever waits on another with work in hand.
//!
//! A worker scans its member under a walk of its own (the archive's walk is not shared
//! between threads); what that walk counted (members, decoded bytes, depth, gaps) is
//! added to the archive's walk when the archive ends ([`Walk::absorb`]). Its limits apply
//! to the member: decoded bytes are measured against the member's size.

use std::sync::Mutex;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::format::Place;
use super::sniff::{sniff, SNIFF_LEN};
use super::{inspect, ArchiveCoverage, Reopen, Walk};
use crate::matcher::ScanBuffer;
use crate::source::Context;

/// Largest member handed to a worker; larger ones are streamed by the reading thread.
pub(crate) const MAX_MEMBER: u64 = 8 << 20;
/// Members read ahead and waiting for a worker.
const QUEUED: usize = 2;

/// One member to scan: its chain, its bytes and its depth.
struct Job {
    chain: Vec<String>,
    bytes: Vec<u8>,
    depth: u32,
}

/// The workers of one archive.
pub(crate) struct Pool {
    sender: Sender<Job>,
}

/// How many workers an archive gets: the other cores (the reading thread scans too).
fn worker_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .clamp(1, 3)
}

/// Runs `body` with a pool of workers that live until it returns, then adds what they
/// counted to `walk`.
pub(crate) fn with_pool<T>(walk: &Walk, body: impl FnOnce(&Pool) -> T) -> T {
    let results: Mutex<Vec<ArchiveCoverage>> = Mutex::new(Vec::new());
    let (sender, receiver) = crossbeam_channel::bounded::<Job>(QUEUED);
    let ctx = walk.ctx;
    let outcome = std::thread::scope(|scope| {
        for _ in 0..worker_count() {
            let receiver = receiver.clone();
            let results = &results;
            scope.spawn(move || work(ctx, receiver, results));
        }
        drop(receiver);
        let pool = Pool { sender };
        let outcome = body(&pool);
        // Closing the queue ends each worker once it is empty; the scope joins them.
        drop(pool);
        outcome
    });
    for coverage in results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        walk.absorb(&coverage);
    }
    outcome
}

/// A worker: scans members until the queue closes, each under a walk of its own.
fn work(ctx: Context, receiver: Receiver<Job>, results: &Mutex<Vec<ArchiveCoverage>>) {
    let mut buffer = ScanBuffer::new();
    for job in receiver {
        crate::source::names::check_member(ctx, &job.chain);
        let walk = Walk::new(ctx, &job.chain, Place::Inside);
        walk.input_size_known(job.bytes.len() as u64);
        let mut reader = &job.bytes[..];
        inspect(
            &walk,
            &job.chain,
            &mut reader,
            job.depth,
            Reopen::Memory(&job.bytes),
            &mut buffer,
        );
        let coverage = walk.into_coverage();
        results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(coverage);
    }
}

impl Pool {
    /// Scans a member held in memory: on a worker if it is plain bytes and the queue has
    /// room, else on this thread, under `walk`.
    pub(crate) fn scan(
        &self,
        walk: &Walk,
        chain: Vec<String>,
        bytes: Vec<u8>,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let plain = sniff(&bytes[..bytes.len().min(SNIFF_LEN)], Place::Inside).is_none();
        let job = Job {
            chain,
            bytes,
            depth,
        };
        let job = if plain {
            match self.sender.try_send(job) {
                Ok(()) => return,
                Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => job,
            }
        } else {
            job
        };
        crate::source::names::check_member(walk.ctx, &job.chain);
        let mut reader = &job.bytes[..];
        inspect(
            walk,
            &job.chain,
            &mut reader,
            job.depth,
            Reopen::Memory(&job.bytes),
            buffer,
        );
    }
}
