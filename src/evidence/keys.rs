//! Signing keys: Ed25519 key pairs in the PEM files openssl and DSSE tooling use.
//!
//! A private key is PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`), the form
//! `openssl genpkey -algorithm ed25519` writes and OpenSSL 3.0 reads; ed25519-dalek's own
//! encoder writes v2 (with the public key embedded), which OpenSSL 3.0 rejects, so scour
//! encodes [`KeypairBytes`] without the public key. A public key is SubjectPublicKeyInfo PEM
//! (`-----BEGIN PUBLIC KEY-----`). Both kinds of private key file load.
//!
//! A key's id is the securesystemslib key id: the SHA-256 of the canonical JSON
//! `{"keytype":"ed25519","keyval":{"public":"<hex>"},"scheme":"ed25519"}`, which is what
//! Python DSSE tooling looks keys up by. In an envelope the id is only a hint: verification
//! always tries the signature against the key material itself.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::KeypairBytes;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// A private key that signs envelopes. Its bytes are wiped on drop by ed25519-dalek.
pub struct PrivateKey {
    signing: SigningKey,
}

/// A public key that verifies envelopes, with the file it came from for messages.
#[derive(Debug, Clone)]
pub struct PublicKey {
    verifying: VerifyingKey,
    pub origin: String,
}

impl PrivateKey {
    pub fn generate() -> PrivateKey {
        PrivateKey {
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Reads a PKCS#8 PEM private key (v1 or v2), e.g. one made by `scour keygen` or openssl.
    pub fn load(path: &Path) -> anyhow::Result<PrivateKey> {
        let pem = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("could not read the signing key {}", path.display()))?,
        );
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an Ed25519 PKCS#8 PEM private key ({e}); make one with \
                 `scour keygen --out NAME` or `openssl genpkey -algorithm ed25519`",
                path.display()
            )
        })?;
        Ok(PrivateKey { signing })
    }

    /// PKCS#8 v1 PEM, readable by OpenSSL 3.0.
    pub fn to_pem(&self) -> anyhow::Result<zeroize::Zeroizing<String>> {
        let bytes = KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("could not encode the private key: {e}"))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            verifying: self.signing.verifying_key(),
            origin: "the signing key".to_string(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo PEM public key.
    pub fn load(path: &Path) -> anyhow::Result<PublicKey> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the public key {}", path.display()))?;
        let verifying = VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an Ed25519 public key in PEM ({e}); `scour keygen` writes one as \
                 NAME.pub, `openssl pkey -in KEY -pubout` makes one from a private key",
                path.display()
            )
        })?;
        Ok(PublicKey {
            verifying,
            origin: path.display().to_string(),
        })
    }

    pub fn to_pem(&self) -> anyhow::Result<String> {
        self.verifying
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("could not encode the public key: {e}"))
    }

    /// The securesystemslib key id.
    pub fn keyid(&self) -> String {
        let description = format!(
            r#"{{"keytype":"ed25519","keyval":{{"public":"{}"}},"scheme":"ed25519"}}"#,
            hex::encode(self.verifying.as_bytes())
        );
        hex::encode(Sha256::digest(description.as_bytes()))
    }

    /// Strict verification (rejects malleable and small-order signatures).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.verifying.verify_strict(message, &signature).is_ok()
    }
}

/// The two files `scour keygen --out NAME` writes.
pub fn key_paths(name: &Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut path = name.as_os_str().to_owned();
        path.push(suffix);
        PathBuf::from(path)
    };
    (with(".key"), with(".pub"))
}

/// Writes a new key pair as `NAME.key` (mode 0600) and `NAME.pub`; never overwrites a file.
pub fn generate_files(name: &Path) -> anyhow::Result<(PathBuf, PathBuf, String)> {
    let (private_path, public_path) = key_paths(name);
    for path in [&private_path, &public_path] {
        if path.symlink_metadata().is_ok() {
            anyhow::bail!(
                "{} already exists; scour never overwrites a key file — choose another --out \
                 name or move the old file away",
                path.display()
            );
        }
    }
    let key = PrivateKey::generate();
    let public = key.public();
    write_new(&private_path, key.to_pem()?.as_bytes(), 0o600)?;
    write_new(&public_path, public.to_pem()?.as_bytes(), 0o644)?;
    Ok((private_path, public_path, public.keyid()))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_key_pem_is_pkcs8_v1_and_round_trips() {
        let key = PrivateKey::generate();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        // v1 OneAsymmetricKey of an Ed25519 seed is exactly 48 bytes of DER.
        let der = pkcs8_der(&pem);
        assert_eq!(der.len(), 48);
        assert_eq!(der[2..5], [0x02, 0x01, 0x00], "version 0 (v1)");
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.to_bytes(), key.signing.to_bytes());
    }

    fn pkcs8_der(pem: &str) -> Vec<u8> {
        use base64::Engine;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    #[test]
    fn keyid_is_securesystemslib_id() {
        // RFC 8032 test 1 public key; id computed with securesystemslib's canonical JSON.
        let public: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap()
                .try_into()
                .unwrap();
        let key = PublicKey {
            verifying: VerifyingKey::from_bytes(&public).unwrap(),
            origin: "t".into(),
        };
        let expected = hex::encode(Sha256::digest(
            br#"{"keytype":"ed25519","keyval":{"public":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"},"scheme":"ed25519"}"#,
        ));
        assert_eq!(key.keyid(), expected);
    }

    #[test]
    fn keygen_never_overwrites_and_restricts_the_private_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("closer");
        let (private, public, _) = generate_files(&name).unwrap();
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let before = std::fs::read(&private).unwrap();
        assert!(generate_files(&name).is_err());
        assert_eq!(std::fs::read(&private).unwrap(), before);
        PrivateKey::load(&private).unwrap();
        PublicKey::load(&public).unwrap();
    }
}
