//! `oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]`: what a registry target names.

/// A repository in a registry, and which of its images: one tag, one digest, or every tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciTarget {
    /// `host` or `host:port`.
    pub registry: String,
    pub repository: String,
    pub selection: Selection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    AllTags,
    Tag(String),
    Digest(String),
}

impl OciTarget {
    /// `Some` for an `oci://` target, `None` for anything else.
    pub fn parse(target: &str) -> Option<Result<OciTarget, String>> {
        let rest = target.strip_prefix("oci://")?;
        let invalid = || {
            format!(
                "{target:?} is not a registry target: write oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]"
            )
        };
        let Some((registry, path)) = rest.split_once('/') else {
            return Some(Err(invalid()));
        };
        let (repository, selection) = if let Some((repo, digest)) = path.split_once('@') {
            (repo, Selection::Digest(digest.to_string()))
        } else {
            match path.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, Selection::Tag(tag.to_string())),
                _ => (path, Selection::AllTags),
            }
        };
        if registry.is_empty() || repository.is_empty() {
            return Some(Err(invalid()));
        }
        Some(Ok(OciTarget {
            registry: registry.to_string(),
            repository: repository.to_string(),
            selection,
        }))
    }

    /// Plain HTTP for a registry on this machine, as docker does; HTTPS everywhere else.
    pub fn base_url(&self) -> String {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        let scheme = if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", self.registry)
    }

    pub fn display(&self) -> String {
        let base = format!("oci://{}/{}", self.registry, self.repository);
        match &self.selection {
            Selection::AllTags => base,
            Selection::Tag(tag) => format!("{base}:{tag}"),
            Selection::Digest(digest) => format!("{base}@{digest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let all = OciTarget::parse("oci://127.0.0.1:5000/team/app")
            .unwrap()
            .unwrap();
        assert_eq!(all.registry, "127.0.0.1:5000");
        assert_eq!(all.repository, "team/app");
        assert_eq!(all.selection, Selection::AllTags);
        assert_eq!(all.base_url(), "http://127.0.0.1:5000");
        let tag = OciTarget::parse("oci://ghcr.io/o/app:v1").unwrap().unwrap();
        assert_eq!(tag.selection, Selection::Tag("v1".into()));
        assert_eq!(tag.base_url(), "https://ghcr.io");
        let digest = OciTarget::parse("oci://localhost:5000/app@sha256:ab")
            .unwrap()
            .unwrap();
        assert_eq!(digest.selection, Selection::Digest("sha256:ab".into()));
        assert!(OciTarget::parse("oci://host").unwrap().is_err());
    }
}
