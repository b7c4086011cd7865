//! Git LFS pointers: a small blob standing in for content stored outside the object
//! database, in `.git/lfs/objects/<aa>/<bb>/<sha256>`. The content is scanned as a file when
//! it is present; a pointer whose content is absent is a gap, because the secret could be in
//! the content this repository does not hold.

use std::path::{Path, PathBuf};

/// The content address of an LFS pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LfsPointer {
    pub sha256: String,
}

impl LfsPointer {
    /// Recognises a pointer file (`version https://git-lfs.github.com/spec/v1`, `oid sha256:`).
    pub(crate) fn parse(data: &[u8]) -> Option<LfsPointer> {
        if data.len() > 1024 || !data.starts_with(b"version https://git-lfs.github.com/spec/") {
            return None;
        }
        let text = std::str::from_utf8(data).ok()?;
        let sha256 = text
            .lines()
            .find_map(|line| line.strip_prefix("oid sha256:"))?
            .trim();
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then(|| LfsPointer {
            sha256: sha256.to_ascii_lowercase(),
        })
    }

    /// Where the content lives in a git directory.
    pub(crate) fn content_path(&self, git_dir: &Path) -> PathBuf {
        git_dir
            .join("lfs/objects")
            .join(&self.sha256[0..2])
            .join(&self.sha256[2..4])
            .join(&self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_recognised() {
        let sha = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
        let text =
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize 12345\n");
        let pointer = LfsPointer::parse(text.as_bytes()).unwrap();
        assert_eq!(pointer.sha256, sha);
        assert!(pointer
            .content_path(Path::new("g"))
            .ends_with(format!("lfs/objects/4d/7a/{sha}")));
        assert!(LfsPointer::parse(b"just a file").is_none());
    }
}
