//! Git packs and loose objects as formats of the registry. Only recognised inside archives,
//! git objects and decoded content: on a filesystem, repositories belong to the git source,
//! which also knows their commits, paths and refs. The decoding is in [`super::git_objects`].

use std::io::Read;

use super::format::{Format, Place};
use super::{git_objects, Walk};
use crate::matcher::ScanBuffer;

pub(crate) static GIT_PACK: GitPack = GitPack;
pub(crate) static GIT_LOOSE_OBJECT: GitLooseObject = GitLooseObject;

pub(crate) struct GitPack;

impl Format for GitPack {
    fn name(&self) -> &'static str {
        "git pack"
    }

    fn recognise(&self, head: &[u8], place: Place) -> bool {
        place == Place::Inside
            && head.len() >= 12
            && head.starts_with(b"PACK")
            && matches!(head[4..8], [0, 0, 0, 2] | [0, 0, 0, 3])
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
