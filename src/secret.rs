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
//!
//! A file that holds a private key is one secret, not a list of lines ([`keys`]); a line
//! of a secrets file that is boilerplate (a PEM armour line, a PEM header) is refused, never
//! searched for, because it would match every other file of its kind.

pub mod keys;

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
    /// What the fingerprint is computed over, when it is not `bytes`: every part of one
    /// private key shares its key's identity, so the key is named once.
    identity: Option<Zeroizing<Vec<u8>>>,
    /// Where it came from (`environment variable NAME`, `FILE line N`, `key FILE`): a
    /// stable name chosen by the user, never derived from the secret.
    source: String,
    /// A short, stable name for SARIF alerts: `env:NAME`, `file:NAME:LINE`, `key:NAME`
    /// (the file's name without its directory, which is often a temporary one).
    name: String,
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
        Ok(Secret {
            bytes,
            identity: None,
            source: origin.to_string(),
            name: origin.to_string(),
        })
    }

    /// The same secret under a stable short name (see [`Secret::name`]).
    pub fn named(mut self, name: String) -> Secret {
        self.name = name;
        self
    }

    /// A short name for the secret that stays the same across runs; no part of the secret.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One private number of a key: searched for as itself, fingerprinted as the key.
    pub fn key_part(bytes: Vec<u8>, identity: &[u8], origin: &str) -> Result<Secret, SecretError> {
        let mut secret = Secret::new(bytes, origin)?;
        secret.identity = Some(Zeroizing::new(identity.to_vec()));
        Ok(secret)
    }

    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Where the secret came from, as the user named it (no part of the secret).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The salted fingerprint that identifies this secret in a report.
    pub fn fingerprint(&self, salt: &Salt) -> Fingerprint {
        Fingerprint::compute(salt, self.identity.as_deref().unwrap_or(&self.bytes))
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
    // `cause` is not a `source`: the message says it once, and error chains do not repeat it.
    #[error("could not read secrets from {origin}: {cause}")]
    Read {
        origin: String,
        cause: std::io::Error,
    },
    #[error(
        "{origin} line {line} is boilerplate ({what}), not a secret: it would match every file \
         of its kind. Give a private key as its whole file, or remove the line"
    )]
    Boilerplate {
        origin: String,
        line: usize,
        what: &'static str,
    },
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(
        "the two entries differ; nothing was scanned. Run again and type the revoked secret twice"
    )]
    PromptMismatch,
    #[error("{0} holds no secret (every line is empty)")]
    NoneInFile(String),
    #[error(
        "no secret given: use --secret-env NAME or --secret-file FILE \
         (there is deliberately no flag that takes the secret itself)"
    )]
    NoneGiven,
}

/// Reads the value of one environment variable as a secret (or as a private key, if it
/// holds one).
pub fn from_env(name: &str) -> Result<Vec<Secret>, SecretError> {
    let origin = format!("environment variable {name}");
    match std::env::var_os(name) {
        None => Err(SecretError::EnvUnset(name.to_string())),
        Some(value) => {
            use std::os::unix::ffi::OsStringExt;
            let value = Zeroizing::new(value.into_vec());
            let name = format!("env:{name}");
            match keys::parse(&value, &origin)? {
                Some(keys) => key_secrets(keys, &origin, &name),
                None => Ok(vec![Secret::new(value.to_vec(), &origin)?.named(name)]),
            }
        }
    }
}

/// The secrets of private keys: each private number, fingerprinted as its key.
fn key_secrets(
    keys: Vec<keys::PrivateKey>,
    origin: &str,
    name: &str,
) -> Result<Vec<Secret>, SecretError> {
    let mut secrets = Vec::new();
    let several = keys.len() > 1;
    for (number, key) in keys.into_iter().enumerate() {
        let key_origin = format!("{origin} ({} key, {})", key.kind, key.form);
        let key_name = if several {
            format!("{name}#{}", number + 1)
        } else {
            name.to_string()
        };
        for (_, part) in &key.parts {
            secrets.push(
                Secret::key_part(part.to_vec(), &key.identity, &key_origin)?
                    .named(key_name.clone()),
            );
        }
    }
    if secrets.is_empty() {
        return Err(SecretError::NoneInFile(origin.to_string()));
    }
    Ok(secrets)
}

/// What a line is if it is boilerplate shared by many files rather than a secret.
fn boilerplate(line: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if (text.starts_with("-----BEGIN ") || text.starts_with("-----END ")) && text.ends_with("-----")
    {
        return Some("a PEM armour line");
    }
    const HEADERS: [&str; 4] = ["Proc-Type:", "DEK-Info:", "Comment:", "Version:"];
    if HEADERS.iter().any(|h| text.starts_with(h)) {
        return Some("a PEM header");
    }
    None
}

/// Reads one secret per line from a file, or from standard input when `path` is `-`.
///
/// Line endings (`\n`, `\r\n`) are not part of a secret; other whitespace is, because a
/// password may begin or end with a space.
/// A file holding private keys (PEM, OpenSSH, DER, JWK) is read as those keys instead.
pub fn from_file(path: &Path) -> Result<Vec<Secret>, SecretError> {
    let origin = if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let file_name = match path.file_name() {
        _ if path == Path::new("-") => "-".to_string(),
        Some(name) => name.to_string_lossy().into_owned(),
        None => origin.clone(),
    };
    let read_error = |cause| SecretError::Read {
        origin: origin.clone(),
        cause,
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
    if let Some(keys) = keys::parse(&content, &origin)? {
        return key_secrets(keys, &format!("key {origin}"), &format!("key:{file_name}"));
    }
    let mut secrets = Vec::new();
    for (number, line) in content.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if let Some(what) = boilerplate(line) {
            return Err(SecretError::Boilerplate {
                origin,
                line: number + 1,
                what,
            });
        }
        let line_origin = format!("{origin} line {}", number + 1);
        let name = format!("file:{file_name}:{}", number + 1);
        secrets.push(Secret::new(line.to_vec(), &line_origin)?.named(name));
    }
    if secrets.is_empty() {
        return Err(SecretError::NoneInFile(origin));
    }
    Ok(secrets)
}

/// Asks for the secret on the terminal without echoing it, twice: a typo would otherwise
/// "prove" the absence of a secret nobody has.
pub fn from_prompt() -> Result<Secret, SecretError> {
    if !std::io::stdin().is_terminal() {
        return Err(SecretError::NoneGiven);
    }
    let first = prompt("Revoked secret (not echoed): ")?;
    let second = prompt("Type it again to confirm: ")?;
    Ok(confirm(first, second, "the terminal prompt")?.named("prompt".into()))
}

fn prompt(text: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let mut typed = rpassword::prompt_password(text).map_err(|cause| SecretError::Read {
        origin: "the terminal prompt".into(),
        cause,
    })?;
    let bytes = Zeroizing::new(typed.as_bytes().to_vec());
    typed.zeroize();
    Ok(bytes)
}

/// The secret if both entries agree; checked before length, so the error never hints at it.
fn confirm(
    first: Zeroizing<Vec<u8>>,
    second: Zeroizing<Vec<u8>>,
    origin: &str,
) -> Result<Secret, SecretError> {
    use subtle_compare::equal;
    if !equal(&first, &second) {
        return Err(SecretError::PromptMismatch);
    }
    Secret::new(first.to_vec(), origin)
}

/// Comparison whose time does not depend on where two entries first differ.
mod subtle_compare {
    pub fn equal(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
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
            secrets.extend(from_env(name)?);
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

    #[test]
    fn boilerplate_lines_are_refused_not_searched_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets");
        std::fs::write(&path, b"token-one-12345\n-----END RSA PRIVATE KEY-----\n").unwrap();
        assert!(matches!(
            from_file(&path),
            Err(SecretError::Boilerplate { line: 2, .. })
        ));
    }

    #[test]
    fn a_key_file_is_one_secret_however_many_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\n\
             MC4CAQAwBQYDK2VwBCIEIBJd7X+7ZfZixkbfLtzFjzwbUf7zXxWhG4nBTKAURteH\n\
             -----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let secrets = from_file(&path).unwrap();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].expose().len(), 32);
        assert!(secrets[0].source().contains("Ed25519"));
    }

    #[test]
    fn two_prompt_entries_must_agree() {
        let a = Zeroizing::new(b"revoked-secret-1".to_vec());
        let b = Zeroizing::new(b"revoked-secret-2".to_vec());
        assert!(matches!(
            confirm(a.clone(), b, "t"),
            Err(SecretError::PromptMismatch)
        ));
        assert_eq!(
            confirm(a.clone(), a, "t").unwrap().expose(),
            b"revoked-secret-1"
        );
    }

    #[test]
    fn a_missing_file_says_its_cause_once() {
        let error = from_file(Path::new("/nonexistent/secret.txt")).unwrap_err();
        let chained = format!("{:#}", anyhow::Error::from(error));
        assert_eq!(chained.matches("No such file").count(), 1, "{chained}");
    }
}
