//! Git packs and loose objects as formats of the registry. Only recognised inside archives,
//! git objects and decoded content: on a filesystem, repositories belong to the git source,
//! which also knows their commits, paths and refs. The decoding is in [`super::git_objects`].

use std::io::Read;

use super::format::{Format, Place};
use super::{git_objects, Walk};
use crate::matcher::ScanBuffer;

pub(crate) static GIT_PACK: GitPack = GitPack;
pub(crate) static GIT_LOOSE_OBJECT: GitLooseObject = GitLooseObject;
pub(crate) static GIT_BUNDLE: GitBundle = GitBundle;

/// A `git bundle` file (`# v2 git bundle` or `# v3 git bundle`, ref lines, a blank line,
/// then a pack); recognised anywhere, as bundles are standalone backups.
pub(crate) struct GitBundle;

impl Format for GitBundle {
    fn name(&self) -> &'static str {
        "git bundle"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        head.starts_with(b"# v2 git bundle\n") || head.starts_with(b"# v3 git bundle\n")
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        git_objects::scan_bundle(walk, chain, reader, depth, buffer)
    }
}

pub(crate) struct GitPack;

impl Format for GitPack {
    fn name(&self) -> &'static str {
        "git pack"
    }

    fn recognise(&self, head: &[u8], place: Place) -> bool {
        place == Place::Inside
            && head.len() >= 13
            && head.starts_with(b"PACK")
            && matches!(head[4..8], [0, 0, 0, 2] | [0, 0, 0, 3])
            && plausible_first_object(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        git_objects::scan_pack(walk, chain, reader, depth, buffer)
    }
}

/// A pack header's object count within what real repositories hold, and a first object
/// of a real type (commit, tree, blob, tag, or a delta), so the bare magic number that git's
/// own executables carry is not taken for a pack.
fn plausible_first_object(head: &[u8]) -> bool {
    let count = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
    let kind = (head[12] >> 4) & 0x07;
    (1..1 << 26).contains(&count) && matches!(kind, 1 | 2 | 3 | 4 | 6 | 7)
}

pub(crate) struct GitLooseObject;

impl Format for GitLooseObject {
    fn name(&self) -> &'static str {
        "git loose object"
    }

    fn recognise(&self, head: &[u8], place: Place) -> bool {
        place == Place::Inside && git_objects::is_loose_object(head)
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        git_objects::scan_loose(walk, chain, reader, depth, buffer)
    }
}
