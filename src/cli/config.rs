//! `.scour.toml`: a repository's defaults for `scour scan`, `scour hook` and `scour verify`.
//!
//! Found at the top of the git work tree that holds the current directory, or given with
//! `--config FILE`. Paths in it are relative to the file's directory. Options on the command
//! line add to (`exclude`) or override (everything else) what the file says; every
//! narrowing the file causes is recorded in the report like one given on the command line.
//!
//! ```toml
//! exclude = ["target/**", "*.min.js"]   # added to --exclude
//! respect_gitignore = false
//! ledger = ".scour/ledger.jsonl"        # hash mode without the plaintext (scan and hook)
//! policy = ".scour/policy.toml"         # default `scour verify --policy`
//!
//! [limits]                               # the --archive-max-* defaults
//! archive_max_depth = 8
//! archive_max_bytes = "200G"
//! archive_max_ratio = 200
//! archive_max_buffer = "1G"
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

pub const FILE_NAME: &str = ".scour.toml";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub respect_gitignore: bool,
    pub ledger: Option<PathBuf>,
    pub policy: Option<PathBuf>,
    #[serde(default)]
    pub limits: Limits,
    /// The file it was read from, when one was.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub archive_max_depth: Option<u32>,
    pub archive_max_bytes: Option<String>,
    pub archive_max_ratio: Option<u64>,
    pub archive_max_buffer: Option<String>,
}

impl Config {
    /// The file given, or `.scour.toml` at the top of the current git work tree, or none.
    pub fn find(explicit: Option<&Path>) -> anyhow::Result<Config> {
        if let Some(path) = explicit {
            return Config::load(path);
        }
        let Some(top) = work_tree_top() else {
            return Ok(Config::default());
        };
        let candidate = top.join(FILE_NAME);
        if candidate.is_file() {
            Config::load(&candidate)
        } else {
            Ok(Config::default())
        }
    }

    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the config file {}", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid scour config: {e}(see `scour scan --help` and docs/config.md)",
                path.display()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.ledger = config.ledger.map(|p| relative_to(base, p));
        config.policy = config.policy.map(|p| relative_to(base, p));
        config.path = Some(path.to_path_buf());
        Ok(config)
    }
}

fn relative_to(base: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() || base.as_os_str().is_empty() {
        path
    } else {
        base.join(path)
    }
}

/// The top of the git work tree holding the current directory, if any.
fn work_tree_top() -> Option<PathBuf> {
    let repository = git2::Repository::discover(".").ok()?;
    repository.workdir().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_config_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            "exclude = [\"target/**\"]\nledger = \"l.jsonl\"\n[limits]\narchive_max_depth = 3\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.exclude, vec!["target/**"]);
        assert_eq!(config.ledger.unwrap(), dir.path().join("l.jsonl"));
        assert_eq!(config.limits.archive_max_depth, Some(3));
        std::fs::write(&path, "exlcude = []\n").unwrap();
        assert!(Config::load(&path).is_err());
    }
}
