//! Revoked secrets: how they enter scour, how they are held, and how reports name them.
//!
//! A secret only ever enters through an environment variable, a file (or standard input),
//! or a no-echo prompt: never through a command-line argument, where it would sit in shell
//! history and in `ps`. Its bytes live in [`Secret`], which wipes them on drop and whose
//! `Debug` never prints them.
//!
//! Reports name a secret by a salted SHA-256 [`Fingerprint`]: whoever holds the secret can
//! recompute it from the salt stored in the report, and no precomputed table identifies it.
//! A weak password can still be guessed offline from any verifiable fingerprint; the README
//! says so.

use std::fmt;
use std::io::{IsTerminal, Read};
use std::path::Path;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// Shorter secrets would match all over ordinary data, so scour refuses them.
pub const MIN_SECRET_LEN: usize = 8;

/// One revoked secret's bytes, wiped from memory when dropped.
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
}

impl Secret {
    /// Accepts a secret after checking it is long enough to search for.
    ///
    /// The error names where the secret came from, never any part of it.
    pub fn new(bytes: Vec<u8>, origin: &str) -> Result<Secret, SecretError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(SecretError::Empty(origin.to_string()));
        }
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort {
                origin: origin.to_string(),
                len: bytes.len(),
            });
        }
        Ok(Secret { bytes })
    }

    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The salted fingerprint that identifies this secret in a report.
    pub fn fingerprint(&self, salt: &Salt) -> Fingerprint {
        Fingerprint::compute(salt, &self.bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.bytes.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret from {0} is empty or only whitespace; nothing to search for")]
    Empty(String),
    #[error(
        "the secret from {origin} is {len} bytes long; scour needs at least {MIN_SECRET_LEN} \
         (a shorter value would match all over ordinary data)"
    )]
    TooShort { origin: String, len: usize },
    #[error("environment variable {0} is not set; export it with the revoked secret, or use --secret-file")]
    EnvUnset(String),
    #[error("environment variable {0} is not valid in this platform's encoding")]
    EnvNotUnicode(String),
    #[error("could not read secrets from {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{0} holds no secret (every line is empty)")]
    NoneInFile(String),
    #[error(
        "no secret given: use --secret-env NAME or --secret-file FILE \
         (there is deliberately no flag that takes the secret itself)"
    )]
    NoneGiven,
}

/// Reads the value of one environment variable as a secret.
pub fn from_env(name: &str) -> Result<Secret, SecretError> {
    let origin = format!("environment variable {name}");
    match std::env::var_os(name) {
        None => Err(SecretError::EnvUnset(name.to_string())),
        Some(value) => {
            use std::os::unix::ffi::OsStringExt;
            Secret::new(value.into_vec(), &origin)
        }
    }
}

/// Reads one secret per line from a file, or from standard input when `path` is `-`.
///
/// Line endings (`\n`, `\r\n`) are not part of a secret; other whitespace is, because a
/// password may begin or end with a space.
pub fn from_file(path: &Path) -> Result<Vec<Secret>, SecretError> {
    let origin = if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let read_error = |source| SecretError::Read {
        origin: origin.clone(),
        source,
    };
    let mut content = Zeroizing::new(Vec::new());
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut content)
            .map_err(read_error)?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut content))
            .map_err(read_error)?;
    }
    let mut secrets = Vec::new();
    for (number, line) in content.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let line_origin = format!("{origin} line {}", number + 1);
        secrets.push(Secret::new(line.to_vec(), &line_origin)?);
    }
    if secrets.is_empty() {
        return Err(SecretError::NoneInFile(origin));
    }
    Ok(secrets)
}

/// Asks for the secret on the terminal without echoing it.
pub fn from_prompt() -> Result<Secret, SecretError> {
    if !std::io::stdin().is_terminal() {
        return Err(SecretError::NoneGiven);
    }
    let mut typed =
        rpassword::prompt_password("Revoked secret (not echoed): ").map_err(|source| {
            SecretError::Read {
                origin: "the terminal prompt".into(),
                source,
            }
        })?;
    let bytes = typed.as_bytes().to_vec();
    typed.zeroize();
    Secret::new(bytes, "the terminal prompt")
}

/// Where the secrets of a command come from, as chosen on the command line.
#[derive(Debug, Default, Clone)]
pub struct SecretSources {
    pub env: Vec<String>,
    pub files: Vec<std::path::PathBuf>,
}

impl SecretSources {
    /// Loads every secret named; prompts when none is named and a terminal is attached.
    pub fn load(&self) -> Result<Vec<Secret>, SecretError> {
        let mut secrets = Vec::new();
        for name in &self.env {
            secrets.push(from_env(name)?);
        }
        for file in &self.files {
            secrets.extend(from_file(file)?);
        }
        if secrets.is_empty() {
            secrets.push(from_prompt()?);
        }
        Ok(dedupe(secrets))
    }

    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.files.is_empty()
    }
}

/// Drops repeated secrets, keeping the first of each. Keyed by a hash (so the set holds no
/// secret bytes of its own) and linear in the number of secrets: a file of 100,000 secrets
/// must not cost 5·10⁹ comparisons.
fn dedupe(secrets: Vec<Secret>) -> Vec<Secret> {
    use std::hash::{Hash, Hasher};
    let mut by_hash: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    let mut unique: Vec<Secret> = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        secret.expose().hash(&mut hasher);
        let same = by_hash.entry(hasher.finish()).or_default();
        if !same.iter().any(|&i| unique[i].expose() == secret.expose()) {
            same.push(unique.len());
            unique.push(secret);
        }
    }
    unique
}

/// Random bytes mixed into every fingerprint of one report.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 16]);

impl Salt {
    pub fn random() -> Salt {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Salt(bytes)
    }

    pub fn from_hex(text: &str) -> Option<Salt> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Salt(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", self.to_hex())
    }
}

/// `SHA-256(salt || secret)`, in hex. Its first 16 hex digits are the secret's short id.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    pub fn compute(salt: &Salt, secret: &[u8]) -> Fingerprint {
        let mut hasher = Sha256::new();
        hasher.update(salt.0);
        hasher.update(secret);
        Fingerprint(hex::encode(hasher.finalize()))
    }

    /// The short id findings use to say which secret they are about.
    pub fn id(&self) -> String {
        self.0.chars().take(16).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_short_and_blank_secrets() {
        assert!(matches!(
            Secret::new(b"1234567".to_vec(), "t"),
            Err(SecretError::TooShort { len: 7, .. })
        ));
        assert!(matches!(
            Secret::new(b" \t  \t   ".to_vec(), "t"),
            Err(SecretError::Empty(_))
        ));
        assert!(Secret::new(b"12345678".to_vec(), "t").is_ok());
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new(b"hunter2hunter2".to_vec(), "t").unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter"));
    }

    #[test]
    fn fingerprint_depends_on_salt() {
        let secret = Secret::new(b"correct horse battery".to_vec(), "t").unwrap();
        let a = secret.fingerprint(&Salt([1; 16]));
        let b = secret.fingerprint(&Salt([2; 16]));
        assert_ne!(a, b);
        assert_eq!(a, secret.fingerprint(&Salt([1; 16])));
        assert_eq!(a.id().len(), 16);
    }

    #[test]
    fn file_secrets_keep_inner_spaces_and_drop_line_endings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets");
        std::fs::write(&path, b" pass word \r\n\nsecond-secret\n").unwrap();
        let secrets = from_file(&path).unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets[0].expose(), b" pass word ");
        assert_eq!(secrets[1].expose(), b"second-secret");
    }
}
