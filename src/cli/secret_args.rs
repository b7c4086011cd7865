//! The only ways a secret may be given: an environment variable, a file, or a prompt.

use std::path::PathBuf;

use clap::Args;

use crate::secret::{Secret, SecretSources};

#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// Read a revoked secret from this environment variable (repeatable).
    #[arg(long = "secret-env", value_name = "NAME")]
    pub env: Vec<String>,
    /// Read revoked secrets from this file, one per line; `-` reads standard input (repeatable).
    #[arg(long = "secret-file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

impl SecretArgs {
    pub fn sources(&self) -> SecretSources {
        SecretSources {
            env: self.env.clone(),
            files: self.files.clone(),
        }
    }

    /// Loads the secrets, prompting without echo when none is named and a terminal is there.
    pub fn load(&self) -> anyhow::Result<Vec<Secret>> {
        Ok(self.sources().load()?)
    }
}
