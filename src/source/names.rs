//! Names are content: a secret pasted into a file name, a directory name, a symlink's
//! target, an archive member's name, a git ref's name or an extended attribute is as much a
//! copy of it as one in a file's bytes.
//!
//! Each such name goes through the matcher (every encoding; hash-mode candidates for ledger
//! entries, also in what the decode layers decode from the name) and a match is a finding whose location says where in the name it is
//! (`location.in`: `name`, `symlink-target`, `ref-name`, `xattr-name`, `xattr:NAME`). The
//! names themselves are redacted in the report by [`crate::redact`].
//!
//! Symlink targets are read with `readlink` and extended attributes with
//! `llistxattr`/`lgetxattr`: no link is ever followed.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::Context;
use crate::coverage::GapKind;
use crate::source::fs::display;
use crate::source::recorder::Recorder;

/// Scans `name` and records every match as a finding at `chain`, inside `within`.
pub fn record(recorder: &Recorder, chain: &[String], within: &str, name: &[u8]) {
    if name.is_empty() {
        return;
    }
    let hits = crate::source::archive::decode::text_hits(recorder.matcher(), name);
    recorder.text_hits(chain, Some(within), &hits);
}

/// The entry's own name (its last component: every directory on the way was checked when
/// it was met), its link target if it is a symlink, and its extended attributes.
pub fn check_entry(ctx: Context, path: &Path, is_symlink: bool) {
    let chain = [display(path)];
    if let Some(name) = path.file_name() {
        record(ctx.recorder, &chain, "name", name.as_bytes());
    }
    if is_symlink {
        // A link that vanished before it was read is not content any more.
        if let Ok(target) = std::fs::read_link(path) {
            record(
                ctx.recorder,
                &chain,
                "symlink-target",
                target.as_os_str().as_bytes(),
            );
        }
    }
    check_xattrs(ctx, path, &chain);
}

/// Every extended attribute of `path` (not of a link's target): its name and its value.
fn check_xattrs(ctx: Context, path: &Path, chain: &[String]) {
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(error) => return record_xattr_error(ctx, path, &error),
    };
    for name in names {
        let name_bytes = name.as_bytes();
        record(ctx.recorder, chain, "xattr-name", name_bytes);
        match xattr::get(path, &name) {
            Ok(Some(value)) => {
                let within = format!("xattr:{}", String::from_utf8_lossy(name_bytes));
                record(ctx.recorder, chain, &within, &value);
            }
            Ok(None) => {}
            Err(error) => record_xattr_error(ctx, path, &error),
        }
    }
}

/// A file system without extended attributes, or an entry gone since it was listed, has
/// nothing to read; anything else left attributes unread, which is a gap.
fn record_xattr_error(ctx: Context, path: &Path, error: &std::io::Error) {
    let nothing_to_read = matches!(
        error.raw_os_error(),
        Some(libc::ENOTSUP | libc::ENOENT | libc::ENODATA | libc::ENOTDIR)
    );
    if nothing_to_read {
        return;
    }
    ctx.recorder.gap(
        ctx.root,
        GapKind::ReadError,
        vec![display(path)],
        format!(
            "could not read the extended attributes of {}: {error} — they were not scanned",
            display(path)
        ),
    );
}

/// An archive member's name (the innermost element of `chain`). The outermost element is
/// a file whose name the walk checked, so a chain of one is skipped.
pub fn check_member(ctx: Context, chain: &[String]) {
    if chain.len() < 2 {
        return;
    }
    if let Some(name) = chain.last() {
        record(ctx.recorder, chain, "name", name.as_bytes());
    }
}

/// A member met in an archive listing, whatever its type (directories, links and devices
/// are never entered, so their names are checked here), and a link member's target.
pub fn check_listed_member(ctx: Context, chain: &[String], link_target: Option<&[u8]>) {
    check_member(ctx, chain);
    if let Some(target) = link_target {
        record(ctx.recorder, chain, "symlink-target", target);
    }
}

/// A git ref's name, reported as `[repository, ref name]`.
pub fn check_ref(recorder: &Recorder, repository: &str, name: &str) {
    record(
        recorder,
        &[repository.to_string(), name.to_string()],
        "ref-name",
        name.as_bytes(),
    );
}
