//! Files and directories that change while they are scanned.
//!
//! A scan that reads a file while someone rewrites it, or lists a directory while someone
//! renames files across it, can read only part of what is there and, without a check, say
//! `absent`. So, as git does for racy index entries, every file is stamped (device, inode,
//! size, mtime, ctime) when it is opened and again when it has been read, and every
//! directory is stamped when it is listed and again after the walk:
//!
//! - a file whose stamp changed, that was read short of its size at open, or whose path
//!   now names another file, is read once more; if it changes again it is a
//!   `changed-during-scan` gap;
//! - a file that only grew (a live log) is read up to the size it had when opened: not a
//!   gap, but the report lists it (`grew_during_scan`);
//! - a directory whose stamp changed after it was listed is listed again (a file renamed
//!   into it from a directory not yet listed would otherwise be missed), and a directory
//!   that keeps changing is a gap;
//! - a path listed as a file and found to be a directory when opened is walked;
//! - a file read whole and unchanged but modified moments before (within [`RACY`], as git's
//!   racily clean entries) may be in the middle of a rewrite by a writer that was paused
//!   while scour read it: after the walk its stamp is taken again, once [`RACY`] has passed,
//!   and it is read again if it changed.
//!
//! - a file seen changed once is accepted only from a read after which its stamp stays the
//!   same for a settling time measured by scour's own clock: a truncation can leave mtime
//!   and ctime as they were (they are only as fine as the kernel's clock tick), so a file
//!   cut to nothing by a writer that then paused would otherwise look settled and empty.
//!
//! Limit: timestamps are as fine as the filesystem keeps them; a same-size rewrite inside
//! one timestamp tick that does not shorten the file while it is read is not seen.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What identifies one version of a file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// How recent a change must be for a file read whole and unchanged to be checked again.
pub const RACY: std::time::Duration = std::time::Duration::from_millis(200);

/// Files checked again after the walk, past this many, are read again at once instead.
const MAX_RACY_LISTED: usize = 100_000;

impl Stamp {
    /// When this version was last changed, as a time.
    fn changed_at(&self) -> std::time::SystemTime {
        let (secs, nanos) = self.ctime;
        let since_epoch =
            std::time::Duration::new(secs.max(0) as u64, nanos.clamp(0, 999_999_999) as u32);
        std::time::UNIX_EPOCH + since_epoch
    }

    /// Changed so recently that a writer may still be at work on it.
    pub fn is_racy(&self) -> bool {
        self.changed_within(RACY)
    }

    /// Changed less than `window` ago (or, by the clock, in the future).
    pub fn changed_within(&self, window: std::time::Duration) -> bool {
        match std::time::SystemTime::now().duration_since(self.changed_at()) {
            Ok(age) => age < window,
            Err(_) => true,
        }
    }

    pub fn of(metadata: &Metadata) -> Stamp {
        Stamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.len(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    fn same_object(&self, other: &Stamp) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// How a file read went, judged from its stamps before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// Nothing changed: the bytes read are the file.
    Stable,
    /// The file only grew; its first `read` bytes (its size at open) were read.
    Grew { read: u64, now: u64 },
    /// The file changed while it was read, or its path now names something else.
    Changed(String),
}

/// Judges one read. `before` is the opened file's stamp at open, `after` the same open
/// file's stamp once read, `position` how far a sequential read got (`None` when the read
/// was not sequential, e.g. a zip read with random access), and `path_now` what the path
/// names now (`None` if it is gone: the bytes read were still the whole file).
pub fn judge(
    before: &Stamp,
    after: &Stamp,
    position: Option<u64>,
    path_now: Option<&Metadata>,
) -> FileRead {
    if let Some(now) = path_now {
        if !now.file_type().is_file() || !before.same_object(&Stamp::of(now)) {
            return FileRead::Changed(
                "its path was replaced by another file while it was read".into(),
            );
        }
    }
    if let Some(position) = position {
        if position < before.size {
            return FileRead::Changed(format!(
                "it was cut short while read (size {} at open, {position} bytes could be read)",
                before.size
            ));
        }
    }
    if after == before {
        return FileRead::Stable;
    }
    if after.size > before.size {
        return FileRead::Grew {
            read: before.size,
            now: after.size,
        };
    }
    FileRead::Changed(format!(
        "it was modified while read (size {} -> {}, mtime or ctime changed)",
        before.size, after.size
    ))
}

/// The directories a walk listed, with their stamps when listed, and paths that turned
/// out to be directories when opened as files; both are checked after the walk.
#[derive(Debug, Default)]
pub struct WalkWatch {
    listed: Mutex<HashMap<PathBuf, Stamp>>,
    found_directories: Mutex<Vec<PathBuf>>,
    racy: Mutex<Vec<RacyFile>>,
}

/// A file read whole and unchanged, but changed just before: checked again after the walk.
#[derive(Debug, Clone)]
pub struct RacyFile {
    pub path: PathBuf,
    pub relative: String,
    pub hash: bool,
    stamp: Stamp,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl WalkWatch {
    /// Stamps a directory just before it is listed.
    pub fn listing(&self, dir: &Path) {
        if let Ok(metadata) = std::fs::symlink_metadata(dir) {
            lock(&self.listed).insert(dir.to_path_buf(), Stamp::of(&metadata));
        }
    }

    pub fn was_listed(&self, dir: &Path) -> bool {
        lock(&self.listed).contains_key(dir)
    }

    /// A path listed as a file that is a directory now: it is walked after the walk.
    pub fn found_directory(&self, dir: &Path) {
        lock(&self.found_directories).push(dir.to_path_buf());
    }

    /// Notes a racy file; false if too many are noted already (the caller reads it again now).
    pub fn racy(&self, path: &Path, relative: &str, hash: bool, stamp: Stamp) -> bool {
        let mut racy = lock(&self.racy);
        if racy.len() >= MAX_RACY_LISTED {
            return false;
        }
        racy.push(RacyFile {
            path: path.to_path_buf(),
            relative: relative.to_string(),
            hash,
            stamp,
        });
        true
    }

    /// Racy files whose stamp changed once [`RACY`] has passed since their last change (one
    /// wait for all of them): each is to be read again.
    pub fn take_changed_racy(&self) -> Vec<RacyFile> {
        let mut racy = std::mem::take(&mut *lock(&self.racy));
        let Some(newest) = racy.iter().map(|f| f.stamp.changed_at()).max() else {
            return Vec::new();
        };
        if let Ok(age) = std::time::SystemTime::now().duration_since(newest) {
            if let Some(wait) = RACY.checked_sub(age) {
                std::thread::sleep(wait);
            }
        } else {
            std::thread::sleep(RACY);
        }
        racy.retain(|file| {
            std::fs::symlink_metadata(&file.path).is_ok_and(|now| Stamp::of(&now) != file.stamp)
        });
        racy.sort_by(|a, b| a.path.cmp(&b.path));
        racy
    }

    /// Directories changed since they were listed (sorted, so a re-walk is deterministic),
    /// and directories found where files were listed. Both lists are emptied; directories
    /// listed again are stamped again by the re-walk.
    pub fn take_changed(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let mut listed = lock(&self.listed);
        let mut changed: Vec<PathBuf> = listed
            .iter()
            .filter(|(dir, stamp)| {
                std::fs::symlink_metadata(dir).map_or(true, |now| Stamp::of(&now) != **stamp)
            })
            .map(|(dir, _)| dir.clone())
            .collect();
        changed.sort();
        for dir in &changed {
            listed.remove(dir);
        }
        drop(listed);
        let mut found = std::mem::take(&mut *lock(&self.found_directories));
        found.sort();
        (changed, found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stamp(path: &Path) -> (Stamp, Metadata) {
        let metadata = std::fs::symlink_metadata(path).unwrap();
        (Stamp::of(&metadata), metadata)
    }

    #[test]
    fn an_untouched_file_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let (before, now) = stamp(&path);
        assert_eq!(
            judge(&before, &before, Some(10), Some(&now)),
            FileRead::Stable
        );
    }

    #[test]
    fn an_appended_file_grew_and_a_shortened_one_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let (before, _) = stamp(&path);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"more").unwrap();
        let (after, now) = stamp(&path);
        assert_eq!(
            judge(&before, &after, Some(10), Some(&now)),
            FileRead::Grew { read: 10, now: 14 }
        );
        assert!(matches!(
            judge(&before, &after, Some(3), Some(&now)),
            FileRead::Changed(_)
        ));
    }

    #[test]
    fn a_path_renamed_over_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = (dir.path().join("f"), dir.path().join("g"));
        std::fs::write(&path, b"0123456789").unwrap();
        std::fs::write(&other, b"abcdefghij").unwrap();
        let (before, _) = stamp(&path);
        std::fs::rename(&other, &path).unwrap();
        let (_, now) = stamp(&path);
        assert!(matches!(
            judge(&before, &before, Some(10), Some(&now)),
            FileRead::Changed(_)
        ));
    }

    #[test]
    fn a_directory_changed_after_listing_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let watch = WalkWatch::default();
        watch.listing(dir.path());
        // Some filesystems keep coarse timestamps: the inode count change is what shows.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("new"), b"x").unwrap();
        let (changed, _) = watch.take_changed();
        assert_eq!(changed, [dir.path().to_path_buf()]);
        assert_eq!(watch.take_changed().0, Vec::<PathBuf>::new());
    }
}
