//! Where a scanned root sits in git: its path below the work tree that holds it, and the
//! commit and remote of a repository given as a root. Read once when the scan starts and
//! kept in the report ([`WorkTree`]), so renderers (SARIF URIs relative to the repository,
//! `versionControlProvenance`) are pure functions of the report and never reopen anything.

use std::path::Path;

use crate::model::{Checkout, WorkTree};

/// The git facts of one root (`kind` is `directory` or `file`), or `None` when it is in no
/// repository.
pub fn describe(root: &Path, kind: &str) -> Option<WorkTree> {
    super::isolate();
    let work_tree = WorkTree {
        prefix: prefix_below_work_tree(root, kind),
        checkout: (kind == "directory").then(|| checkout(root)).flatten(),
    };
    (work_tree.prefix.is_some() || work_tree.checkout.is_some()).then_some(work_tree)
}

/// Where `root` sits inside the git work tree that holds it, as a URI prefix ending in `/`
/// (`src/` for `repo/src`; the file's own path for a single-file root). Empty when the root
/// is the work tree's top; `None` outside any work tree.
fn prefix_below_work_tree(root: &Path, kind: &str) -> Option<String> {
    let resolved = std::fs::canonicalize(root).ok()?;
    let start = if kind == "directory" {
        resolved.clone()
    } else {
        resolved.parent()?.to_path_buf()
    };
    let repository = git2::Repository::discover(&start).ok()?;
    let workdir = std::fs::canonicalize(repository.workdir()?).ok()?;
    let below = resolved.strip_prefix(&workdir).ok()?;
    let below = below.to_string_lossy();
    Some(if below.is_empty() {
        String::new()
    } else if kind == "directory" {
        format!("{below}/")
    } else {
        below.into_owned()
    })
}

/// The checked-out commit, branch and `origin` remote of the repository at `root` itself.
fn checkout(root: &Path) -> Option<Checkout> {
    let repository = git2::Repository::open(root).ok()?;
    let head = repository.head().ok()?;
    let commit = head.peel_to_commit().ok()?;
    let remote = repository.find_remote("origin").ok()?;
    Some(Checkout {
        remote: public_uri(remote.url()?)?,
        revision: commit.id().to_string(),
        branch: head
            .shorthand()
            .filter(|_| head.is_branch())
            .map(str::to_string),
    })
}

/// A remote URL as a URI without credentials: `https://user:token@host/x` loses
/// `user:token@`, and scp-like `git@host:owner/repo` becomes `ssh://host/owner/repo`.
pub fn public_uri(url: &str) -> Option<String> {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        return Some(format!("{scheme}://{host}/{path}"));
    }
    let (authority, path) = url.split_once(':')?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty() && !host.contains('/')).then(|| format!("ssh://{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::public_uri;

    #[test]
    fn remote_urls_lose_their_credentials() {
        assert_eq!(
            public_uri("https://ci:ghp_abc123@github.com/o/r.git").unwrap(),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            public_uri("git@github.com:o/r.git").unwrap(),
            "ssh://github.com/o/r.git"
        );
        assert_eq!(
            public_uri("https://github.com/o/r").unwrap(),
            "https://github.com/o/r"
        );
        assert_eq!(public_uri("/srv/git/r.git"), None);
    }
}
