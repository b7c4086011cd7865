//! Files the walk hands to the git source first. Loose objects outside an object database's usual place (a quarantine directory such as
//! `objects/tmp_objdir-incoming-*/ab/<id>`, a copied-out fan-out directory): no object
//! database lists them, and their bytes are zlib-compressed, so scanning the file as it is
//! would find nothing. They are inflated and scanned here instead.

use std::io::Read;
use std::path::Path;

use super::discover;
use crate::matcher::ScanBuffer;
use crate::source::fs::{display, scan_file};
use crate::source::Context;

/// Largest stray loose object inflated in memory; larger ones are scanned as files and gapped.
const LIMIT: u64 = 1 << 30;

/// Handles a file the walk met inside a git directory. Returns true if it was dealt with
/// here (left to the object scan, or inflated), false if the walk should scan it as a file.
pub fn claim_file(ctx: Context, path: &Path, buffer: &mut ScanBuffer) -> bool {
    if ctx.recorder.git.notice_file(ctx.root, path) {
        return true;
    }
    if path.file_name().is_some_and(|n| n == ".git") {
        record_broken_link(ctx, path);
    }
    if !discover::looks_like_stray_loose_object(path) {
        return false;
    }
    match inflate(path) {
        Some(content) => {
            let chain = vec![display(path)];
            let body = content
                .iter()
                .position(|&b| b == 0)
                .map_or(&content[..], |nul| &content[nul + 1..]);
            let hits = crate::source::archive::decode::text_hits(ctx.recorder.matcher(), body);
            ctx.recorder.text_hits(&chain, None, &hits);
            ctx.recorder.scanned(ctx.root, body.len() as u64);
        }
        None => scan_file(ctx, path, buffer),
    }
    true
}

/// A `.git` file whose git directory is gone: the work tree's history cannot be scanned.
fn record_broken_link(ctx: Context, path: &Path) {
    let Some(target) = discover::gitdir_file_target(path) else {
        return;
    };
    if discover::object_git_dir(&target).is_none() {
        ctx.recorder.gap(
            ctx.root,
            crate::coverage::GapKind::MissingObjects,
            vec![display(path)],
            format!(
                "{} points to the git directory {}, which does not exist: this work tree's history was not scanned; scan the repository it belongs to",
                display(path),
                target.display()
            ),
        );
    }
}

/// The inflated object (`<type> <size>\0<content>`), or None if this is not one.
fn inflate(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let mut content = Vec::new();
    flate2::read::ZlibDecoder::new(file)
        .take(LIMIT)
        .read_to_end(&mut content)
        .ok()?;
    let is_object = [&b"blob "[..], b"tree ", b"commit ", b"tag "]
        .iter()
        .any(|kind| content.starts_with(kind));
    is_object.then_some(content)
}
