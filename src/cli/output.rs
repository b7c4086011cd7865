//! Where a report goes (`-o`), handled like a Unix tool would:
//!
//! - `-` (or no `-o`) is standard output;
//! - an existing FIFO, device or socket is opened and written in place, never replaced (as
//!   root, `-o /dev/null` must leave `/dev/null` a device);
//! - a symbolic link is never replaced: the file it points to is written (atomically if it
//!   is a regular file), so readers of the link see the new report;
//! - a regular file is replaced atomically (temporary file, `fsync`, rename) and keeps its
//!   mode and, where the user may set it, its owner and group;
//! - a missing directory is an error found before the scan starts.
//!
//! Temporary files are named `.scour-tmp-<pid>-<random>`: the filesystem walk skips them (and
//! counts them as skipped), and a write removes those that dead scour processes left in the
//! same directory, so a `SIGKILL` mid-write leaves nothing a later scan reads as data.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Names of scour's temporary report files start with this.
pub use crate::source::fs::SCOUR_TEMP_PREFIX;

/// Where the report is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    /// Checks `-o` before the scan starts, so a typo costs seconds, not an hour of scanning.
    pub fn check(output: Option<&Path>) -> anyhow::Result<Destination> {
        let Some(path) = output else {
            return Ok(Destination::Stdout);
        };
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        if let Ok(metadata) = std::fs::metadata(path) {
            if metadata.is_dir() {
                anyhow::bail!(
                    "-o {} is a directory; give a file name inside it, e.g. -o {}",
                    path.display(),
                    path.join("report.json").display()
                );
            }
            return Ok(Destination::File(path.to_path_buf()));
        }
        let dir = parent_dir(path);
        match std::fs::metadata(&dir) {
            Ok(metadata) if metadata.is_dir() => Ok(Destination::File(path.to_path_buf())),
            Ok(_) => anyhow::bail!(
                "cannot write the report to {}: {} is not a directory",
                path.display(),
                dir.display()
            ),
            Err(error) => anyhow::bail!(
                "cannot write the report to {}: its directory {} is not usable ({error}); create \
                 it first (mkdir -p) or choose another -o",
                path.display(),
                dir.display()
            ),
        }
    }

    pub fn is_stdout(&self) -> bool {
        *self == Destination::Stdout
    }

    /// Writes the whole report.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Destination::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()?;
                Ok(())
            }
            Destination::File(path) => write_file(path, bytes),
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    // A link is kept: what it points to is written instead. A dangling link gets its
    // target created through it, as a shell redirection would.
    let target = if link {
        match std::fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) => return write_in_place(path, bytes, true),
        }
    } else {
        path.to_path_buf()
    };
    match std::fs::metadata(&target) {
        Ok(metadata) if metadata.is_file() => replace_atomically(&target, bytes, Some(&metadata)),
        Ok(_) => write_in_place(&target, bytes, false),
        Err(_) => replace_atomically(&target, bytes, None),
    }
}

/// Opens an existing special file (or a dangling link's target) and writes to it.
fn write_in_place(path: &Path, bytes: &[u8], create: bool) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .create(create)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            anyhow::anyhow!("could not open {} to write the report: {e}", path.display())
        })?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| anyhow::anyhow!("could not write the report to {}: {e}", path.display()))
}

/// Writes a temporary file beside `path`, then renames it over `path`, keeping the mode
/// (and owner, where allowed) of the file it replaces.
fn replace_atomically(
    path: &Path,
    bytes: &[u8],
    existing: Option<&std::fs::Metadata>,
) -> anyhow::Result<()> {
    let dir = parent_dir(path);
    remove_stale_temp_files(&dir);
    let (temp_path, mut temp) = create_temp(&dir)?;
    let written = (|| -> std::io::Result<()> {
        temp.write_all(bytes)?;
        if let Some(existing) = existing {
            keep_owner_and_mode(&temp, existing)?;
        }
        temp.sync_all()?;
        std::fs::rename(&temp_path, path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp_path);
        anyhow::bail!("could not write the report to {}: {error}", path.display());
    }
    // The rename is durable once the directory is synced too.
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn keep_owner_and_mode(temp: &File, existing: &std::fs::Metadata) -> std::io::Result<()> {
    // Owner first: chown may clear set-id bits that the mode then restores. Only root may
    // give a file away; anyone may keep their own group, so failures here are not errors.
    let _ = std::os::unix::fs::fchown(temp, Some(existing.uid()), Some(existing.gid()));
    temp.set_permissions(std::fs::Permissions::from_mode(existing.mode() & 0o7777))
}

fn create_temp(dir: &Path) -> anyhow::Result<(PathBuf, File)> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..16 {
        let suffix: u64 = rng.gen();
        let name = format!("{SCOUR_TEMP_PREFIX}{}-{suffix:016x}", std::process::id());
        let path = dir.join(name);
        // 0666 less the umask, as any new file the user creates.
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => anyhow::bail!(
                "could not create a temporary file in {}: {error}; check it is writable",
                dir.display()
            ),
        }
    }
    anyhow::bail!(
        "could not find a free temporary file name in {}",
        dir.display()
    )
}

/// Removes `.scour-tmp-<pid>-*` files in `dir` whose process no longer runs.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else {
            continue;
        };
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in a temporary file name this module makes.
fn temp_file_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(SCOUR_TEMP_PREFIX)?;
    let (pid, suffix) = rest.split_once('-')?;
    let valid = suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| pid.parse().ok()).flatten()
}

fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks whether the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_the_pid() {
        assert_eq!(temp_file_pid(".scour-tmp-42-0123456789abcdef"), Some(42));
        assert_eq!(temp_file_pid(".scour-tmp-42-short"), None);
        assert_eq!(temp_file_pid("report.json"), None);
    }

    #[test]
    fn a_missing_directory_is_an_error_before_anything_runs() {
        let error = Destination::check(Some(Path::new("/nonexistent-dir-scour/r.json")))
            .expect_err("missing directory");
        assert!(error.to_string().contains("mkdir -p"));
        assert_eq!(
            Destination::check(Some(Path::new("-"))).expect("stdout"),
            Destination::Stdout
        );
    }

    #[test]
    fn a_regular_file_keeps_its_mode_and_a_link_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        std::fs::write(&report, b"old").expect("write");
        std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.path().join("latest.json");
        std::os::unix::fs::symlink(&report, &link).expect("symlink");
        Destination::File(link.clone())
            .write(b"new")
            .expect("write");
        assert!(std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&report).expect("read"), b"new");
        let mode = std::fs::metadata(&report).expect("stat").mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(SCOUR_TEMP_PREFIX)
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn stale_temp_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        // pid_max is at most 2^22 on Linux, so this pid cannot be running.
        let stale = dir.path().join(".scour-tmp-2147483647-0123456789abcdef");
        std::fs::write(&stale, b"{\"half a report").expect("write");
        let mine = dir.path().join(format!(
            ".scour-tmp-{}-0123456789abcdef",
            std::process::id()
        ));
        std::fs::write(&mine, b"in use").expect("write");
        Destination::File(dir.path().join("r.json"))
            .write(b"{}")
            .expect("write");
        assert!(!stale.exists());
        assert!(mine.exists());
    }
}
