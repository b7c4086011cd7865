//! The starting points of history: refs (by namespace), detached and worktree `HEAD`s,
//! reflog entries, and the entries of every index (main and linked worktrees).
//!
//! These tell a verifier which state of the repository a report speaks for (the ref tips),
//! and tell attribution where a matching object can be reached from.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Oid, Repository};

/// A named starting point: a ref, a detached `HEAD`, or a worktree's `HEAD`.
#[derive(Debug, Clone)]
pub(crate) struct Tip {
    pub name: String,
    pub id: Oid,
    /// The commit an annotated tag (or chain of them) points to, if any.
    pub commit: Option<Oid>,
}

/// One reflog file and the ids its entries name.
#[derive(Debug, Clone)]
pub(crate) struct Reflog {
    pub name: String,
    pub ids: Vec<Oid>,
}

/// Every ref of the repository, plus `HEAD`s that are detached.
pub(crate) fn tips(repo: &Repository, git_dir: &Path) -> (Vec<Tip>, Vec<String>) {
    let mut tips = Vec::new();
    let mut problems = Vec::new();
    match repo.references() {
        Ok(references) => {
            for reference in references {
                match reference {
                    Ok(reference) => {
                        let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
                        let commit = reference.peel_to_commit().ok().map(|c| c.id());
                        match reference.resolve().ok().and_then(|r| r.target()) {
                            Some(id) => tips.push(Tip { name, id, commit }),
                            None => problems.push(format!("ref {name} does not resolve")),
                        }
                    }
                    Err(error) => problems.push(error.message().to_string()),
                }
            }
        }
        Err(error) => problems.push(error.message().to_string()),
    }
    if let Some(id) = detached_head(&git_dir.join("HEAD")) {
        tips.push(Tip {
            name: "HEAD".into(),
            id,
            commit: Some(id),
        });
    }
    for name in worktree_names(git_dir) {
        if let Some(id) = detached_head(&git_dir.join("worktrees").join(&name).join("HEAD")) {
            tips.push(Tip {
                name: format!("worktrees/{name}/HEAD"),
                id,
                commit: Some(id),
            });
        }
    }
    tips.sort_by(|a, b| a.name.cmp(&b.name));
    (tips, problems)
}

fn detached_head(path: &Path) -> Option<Oid> {
    let text = std::fs::read_to_string(path).ok()?;
    Oid::from_str(text.trim()).ok()
}

/// Names of linked worktrees (`<git dir>/worktrees/<name>`).
pub(crate) fn worktree_names(git_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(git_dir.join("worktrees"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("HEAD").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The namespace a ref is counted under: `refs/heads`, `refs/original`, `refs/stash`, `HEAD`.
pub(crate) fn namespace(name: &str) -> String {
    let parts: Vec<&str> = name.splitn(3, '/').collect();
    match parts.as_slice() {
        ["refs", space, _] => format!("refs/{space}"),
        _ => name.to_string(),
    }
}

/// Every reflog of the repository and its linked worktrees, read from `logs/`.
pub(crate) fn reflogs(git_dir: &Path) -> Vec<Reflog> {
    let mut logs = Vec::new();
    collect_logs(&git_dir.join("logs"), "", &mut logs);
    for name in worktree_names(git_dir) {
        let dir = git_dir.join("worktrees").join(&name).join("logs");
        collect_logs(&dir, &format!("worktrees/{name}/"), &mut logs);
    }
    logs.sort_by(|a, b| a.name.cmp(&b.name));
    logs
}

fn collect_logs(dir: &Path, prefix: &str, out: &mut Vec<Reflog>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_logs(&path, &format!("{name}/"), out);
        } else if kind.is_file() {
            if let Ok(text) = std::fs::read(&path) {
                out.push(Reflog {
                    name,
                    ids: reflog_ids(&text),
                });
            }
        }
    }
}

/// The old and new ids of every reflog line (`<old> <new> <who> <when>\t<message>`).
fn reflog_ids(text: &[u8]) -> Vec<Oid> {
    let mut ids = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        for field in line.splitn(3, |&b| b == b' ').take(2) {
            if let Some(id) = std::str::from_utf8(field)
                .ok()
                .and_then(|s| Oid::from_str(s).ok())
                .filter(|id| !id.is_zero())
            {
                ids.push(id);
            }
        }
    }
    ids
}

/// `(where, path, blob)` for every entry of the main index and each worktree's index
/// (for a split index, its own entries and its shared base's).
pub(crate) fn index_entries(git_dir: &Path) -> Vec<(String, String, Oid)> {
    let mut entries = Vec::new();
    let mut read = |label: &str, path: &Path| {
        let Some(parsed) = std::fs::read(path)
            .ok()
            .and_then(|bytes| super::index_file::parse(&bytes))
        else {
            return;
        };
        let mut all = parsed.entries;
        if let Some(shared) = parsed.shared {
            if let Some(base) = std::fs::read(git_dir.join(format!("sharedindex.{shared}")))
                .ok()
                .and_then(|bytes| super::index_file::parse(&bytes))
            {
                all.extend(base.entries);
            }
        }
        for entry in all {
            let name = String::from_utf8_lossy(&entry.path).into_owned();
            entries.push((label.to_string(), name, entry.id));
        }
    };
    read("index", &git_dir.join("index"));
    for name in worktree_names(git_dir) {
        read(
            &format!("worktrees/{name}/index"),
            &git_dir.join("worktrees").join(&name).join("index"),
        );
    }
    entries
}

/// Ref counts by namespace.
pub(crate) fn by_namespace(tips: &[Tip]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for tip in tips {
        *counts.entry(namespace(&tip.name)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_group_refs() {
        assert_eq!(namespace("refs/heads/main"), "refs/heads");
        assert_eq!(namespace("refs/original/refs/heads/main"), "refs/original");
        assert_eq!(namespace("refs/stash"), "refs/stash");
        assert_eq!(namespace("HEAD"), "HEAD");
    }

    #[test]
    fn reflog_lines_give_both_ids() {
        let line = b"0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 t <t@t> 0 +0000\tcommit (initial): x\n2222222222222222222222222222222222222222 3333333333333333333333333333333333333333 t <t@t> 0 +0000\treset\n";
        assert_eq!(reflog_ids(line).len(), 3);
    }
}
