//! Recognising repositories: which directories are git directories, and which git directory
//! a work tree, a linked worktree or a submodule checkout belongs to.
//!
//! A git directory is recognised by its layout (`HEAD` plus `objects/` and `refs/`, or
//! `HEAD` plus a `commondir` file for a linked worktree's private directory), so bare
//! repositories, `--mirror` clones, `.git` directories given directly and submodule stores
//! under `.git/modules/` are all found the same way. A `.git` *file* (`gitdir: <path>`)
//! names the git directory of a linked worktree or a submodule checkout.

use std::path::{Path, PathBuf};

/// True if `dir` is laid out as a git directory with its own object database.
pub(crate) fn is_git_dir(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// The shared git directory of a linked worktree's private directory
/// (`<main>/.git/worktrees/<name>`), read from its `commondir` file.
pub(crate) fn common_dir(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("commondir")).ok()?;
    let common = dir.join(text.trim_end_matches(['\n', '\r']));
    is_git_dir(&common).then_some(common)
}

/// The git directory named by a `.git` file (`gitdir: <path>`, relative to the file).
pub(crate) fn gitdir_file_target(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let target = text.strip_prefix("gitdir:")?.trim();
    let base = file.parent()?;
    Some(base.join(target))
}

/// The git directory holding the object database for `dir`, if `dir` is a git directory, a
/// linked worktree's private directory, or a work tree with a `.git` directory or file.
pub(crate) fn object_git_dir(dir: &Path) -> Option<PathBuf> {
    if is_git_dir(dir) {
        return Some(dir.to_path_buf());
    }
    if dir.join("HEAD").is_file() {
        if let Some(common) = common_dir(dir) {
            return Some(common);
        }
    }
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        return object_git_dir(&dot_git);
    }
    if dot_git.is_file() {
        let target = gitdir_file_target(&dot_git)?;
        return object_git_dir(&target);
    }
    None
}

/// The object format a repository declares (`extensions.objectFormat` in its `config`),
/// lower-cased; `None` means git's default, SHA-1. Read as text, without any other
/// configuration: only the `[extensions]` section is looked at.
pub(crate) fn object_format(git_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(git_dir.join("config")).ok()?;
    let mut in_extensions = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_extensions = line.to_ascii_lowercase().starts_with("[extensions");
            continue;
        }
        if !in_extensions {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim().eq_ignore_ascii_case("objectformat") {
                return Some(value.trim().trim_matches('"').to_ascii_lowercase());
            }
        }
    }
    None
}

/// True for the file name of a loose object (`objects/ab/<38 hex>`, or 62 for SHA-256).
pub(crate) fn is_loose_object_path(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(parent) = path.parent() else {
        return false;
    };
    let Some(fanout) = parent.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let in_objects = parent
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "objects");
    in_objects
        && fanout.len() == 2
        && is_hex(fanout)
        && (name.len() == 38 || name.len() == 62)
        && is_hex(name)
}

/// True for a file shaped like a loose object (`ab/<38 hex>`) somewhere under an `objects`
/// directory but not directly in it, where no object database will list it.
pub(crate) fn looks_like_stray_loose_object(path: &Path) -> bool {
    let shaped = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| (name.len() == 38 || name.len() == 62) && is_hex(name))
        && path
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 2 && is_hex(n));
    shaped
        && !is_loose_object_path(path)
        && path
            .ancestors()
            .skip(2)
            .any(|a| a.file_name().is_some_and(|n| n == "objects"))
}

/// True for an indexed pack (`objects/pack/pack-*.pack` with its `.idx` beside it): the
/// object database reads it, so it need not be byte-scanned as a file.
pub(crate) fn is_indexed_pack_path(path: &Path) -> bool {
    let in_pack_dir = path.parent().is_some_and(|p| {
        p.file_name().is_some_and(|n| n == "pack")
            && p.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "objects")
    });
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("pack-") && n.ends_with(".pack"));
    in_pack_dir && named && path.with_extension("idx").is_file()
}

/// The `objects` directory a loose object or pack file belongs to.
pub(crate) fn objects_dir_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "objects"))
        .map(Path::to_path_buf)
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_object_paths_are_recognised_by_shape() {
        let id = "0123456789abcdef0123456789abcdef012345";
        assert!(is_loose_object_path(Path::new(&format!(
            "r/.git/objects/ab/{id}"
        ))));
        assert!(!is_loose_object_path(Path::new(&format!("r/src/ab/{id}"))));
        assert!(!is_loose_object_path(Path::new("r/.git/objects/ab/short")));
        assert!(!is_loose_object_path(Path::new(&format!(
            "r/.git/objects/zz/{id}"
        ))));
    }
}
