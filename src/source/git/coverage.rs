//! What was read of one repository, and what of it could not be: the repository's section of
//! the coverage report, and the checks that turn a repository's known blind spots (shallow
//! history, a partial clone, a missing alternate, a pack without an index) into gaps.

use std::path::{Path, PathBuf};

/// What was read of one repository's history: part of the data model.
pub use crate::model::RepositoryCoverage;

/// A blind spot of a repository, to be recorded as a gap.
pub(crate) struct Blind {
    pub kind: crate::coverage::GapKind,
    pub chain: Vec<String>,
    pub reason: String,
}

/// Alternate object directories listed in `objects/info/alternates`, recursively.
pub(crate) fn alternates(objects_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![objects_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(text) = std::fs::read_to_string(dir.join("info/alternates")) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let alternate = dir.join(line);
            if !found.contains(&alternate) && found.len() < 64 {
                found.push(alternate.clone());
                pending.push(alternate);
            }
        }
    }
    found
}

/// Counts packs and loose objects in one object directory.
pub(crate) fn count_store(objects_dir: &Path) -> (u64, u64) {
    let packs = std::fs::read_dir(objects_dir.join("pack"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
                .count() as u64
        })
        .unwrap_or(0);
    let mut loose = 0;
    if let Ok(entries) = std::fs::read_dir(objects_dir) {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                loose += std::fs::read_dir(entry.path())
                    .map(|e| e.count() as u64)
                    .unwrap_or(0);
            }
        }
    }
    (packs, loose)
}

/// Blind spots of one repository that are visible from its layout and configuration.
pub(crate) fn blind_spots(git_dir: &Path, shown: &str, objects_dirs: &[PathBuf]) -> Vec<Blind> {
    use crate::coverage::GapKind;
    let mut blind = Vec::new();
    let chain = vec![shown.to_string()];
    if git_dir.join("shallow").is_file() {
        blind.push(Blind {
            kind: GapKind::ShallowHistory,
            chain: chain.clone(),
            reason: format!(
                "{shown} is a shallow clone: history before the shallow boundary is not in it and was not scanned; scan a full clone (git fetch --unshallow)"
            ),
        });
    }
    if uses_sha256(git_dir) {
        blind.push(Blind {
            kind: GapKind::Unsupported,
            chain: chain.clone(),
            reason: format!(
                "{shown} uses SHA-256 object ids, which scour cannot read yet: its history was not scanned (its plain files were)"
            ),
        });
    }
    if is_partial_clone(git_dir, objects_dirs) {
        blind.push(Blind {
            kind: GapKind::MissingObjects,
            chain: chain.clone(),
            reason: format!(
                "{shown} is a partial (promisor) clone: objects the server did not send are not in it and were not scanned; scan a full clone"
            ),
        });
    }
    for dir in objects_dirs.iter().skip(1) {
        if !dir.is_dir() {
            blind.push(Blind {
                kind: GapKind::MissingAlternate,
                chain: chain.clone(),
                reason: format!(
                    "{shown} borrows objects from {} (objects/info/alternates), which does not exist: those objects were not scanned",
                    dir.display()
                ),
            });
        }
    }
    for dir in objects_dirs.iter().filter(|d| d.is_dir()) {
        for pack in packs_without_index(dir) {
            blind.push(Blind {
                kind: crate::coverage::GapKind::UnreadableObject,
                chain: vec![pack.to_string_lossy().into_owned()],
                reason: format!(
                    "pack {} has no .idx (an interrupted fetch or repack?): its objects cannot be listed and were not inflated; run `git index-pack` on it and scan again",
                    pack.display()
                ),
            });
        }
    }
    blind
}

fn uses_sha256(git_dir: &Path) -> bool {
    let config = std::fs::read_to_string(git_dir.join("config")).unwrap_or_default();
    config.lines().any(|line| {
        let line = line.trim().to_ascii_lowercase().replace(' ', "");
        line == "objectformat=sha256"
    })
}

fn is_partial_clone(git_dir: &Path, objects_dirs: &[PathBuf]) -> bool {
    let config = std::fs::read_to_string(git_dir.join("config")).unwrap_or_default();
    let configured = config.lines().any(|line| {
        let line = line.trim().to_ascii_lowercase().replace(' ', "");
        line.starts_with("partialclone=") || line == "promisor=true"
    });
    configured
        || objects_dirs.iter().any(|dir| {
            std::fs::read_dir(dir.join("pack")).is_ok_and(|mut entries| {
                entries.any(|e| {
                    e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".promisor"))
                })
            })
        })
}

/// Pack files the object database cannot read because no index sits beside them.
pub(crate) fn packs_without_index(objects_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut packs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_pack = name.ends_with(".pack") || name.starts_with("tmp_pack_");
            is_pack && p.is_file() && !p.with_extension("idx").is_file()
        })
        .collect();
    packs.sort();
    packs
}
