//! Revoked private keys given as the secret: one key, whatever form it was given in.
//!
//! A key file is not a list of secrets. Split into lines, a PEM file would make
//! `-----BEGIN PRIVATE KEY-----` a "secret" that matches every other key (a false `found`),
//! and the base64 lines of one serialisation say nothing about the key written in another
//! (PKCS#1 against OpenSSH against JWK). So a key given in any standard form — PEM PKCS#1,
//! PKCS#8 or SEC1, OpenSSH, DER, JWK — is parsed with the RustCrypto crates (`pkcs1`,
//! `pkcs8`, `sec1`, `ssh-key`, `pem-rfc7468`) and reduced to its *private numbers*:
//!
//! | key | searched for (binary, big-endian magnitude) |
//! |---|---|
//! | Ed25519 (and X25519, Ed448) | the seed |
//! | ECDSA (P-256, P-384, P-521, secp256k1) | the private scalar `d` |
//! | RSA | the first [`RSA_PART_LEN`] bytes of `d`, `p` and `q` |
//!
//! Every serialisation holds those bytes: raw in DER, as base64 inside PEM (wrapped at 64
//! columns) and OpenSSH (wrapped at 70), as base64url in JWK, as hex in `openssl -text`
//! dumps. The matcher already looks for every encoding of a byte string at every
//! alignment, so searching for these numbers finds the key in every form and every layer,
//! and never for boilerplate that all keys share. All parts of one key share one
//! [`PrivateKey::identity`], so a report names the key once.
//!
//! Encrypted keys are refused with how to decrypt them: their numbers cannot be known.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

/// Bytes of each RSA number searched for: 256 bits cannot be shared by chance, and a short
/// prefix keeps the automaton small (a 4096-bit `d` is 512 bytes).
pub const RSA_PART_LEN: usize = 32;

/// One private key, reduced to the numbers every serialisation of it contains.
pub struct PrivateKey {
    /// What kind of key it is, for messages: `RSA`, `EC P-256`, `Ed25519`.
    pub kind: String,
    /// The form it was given in: `PKCS#8 PEM`, `OpenSSH`, `JWK`, ...
    pub form: &'static str,
    /// Bytes that identify the key in fingerprints: the same for every form of the key.
    pub identity: Zeroizing<Vec<u8>>,
    /// The private numbers to search for, each named (`d`, `p`, `seed`).
    pub parts: Vec<(&'static str, Zeroizing<Vec<u8>>)>,
}

/// Why a key-looking secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{origin} holds an encrypted private key ({form}); scour needs the key's numbers, so \
         give it a decrypted copy (e.g. `openssl pkey -in KEY -out plain.pem`, or \
         `ssh-keygen -p -N '' -f COPY` for OpenSSH) and delete the copy afterwards"
    )]
    Encrypted { origin: String, form: &'static str },
    #[error(
        "{origin} looks like a {form} private key but could not be parsed ({reason}); give the \
         whole key file unchanged (scour never matches its BEGIN/END lines)"
    )]
    Malformed {
        origin: String,
        form: &'static str,
        reason: String,
    },
    #[error(
        "{origin} holds a PEM block `{label}`, which is not a private key scour can read; \
         give the private key (PKCS#1, PKCS#8, SEC1 or OpenSSH), not a certificate or public key"
    )]
    NotAPrivateKey { origin: String, label: String },
    #[error(
        "{origin} holds a {what}, which scour cannot read as a key; convert it to PKCS#8 or \
         OpenSSH first ({how})"
    )]
    Unsupported {
        origin: String,
        what: &'static str,
        how: &'static str,
    },
}

/// Reads every private key in `content` if it is a key file; `Ok(None)` if it is not one
/// (then it is a list of secrets, one per line).
pub fn parse(content: &[u8], origin: &str) -> Result<Option<Vec<PrivateKey>>, KeyError> {
    if let Some(unsupported) = unsupported_format(content, origin) {
        return Err(unsupported);
    }
    if let Some(blocks) = pem_blocks(content) {
        let mut keys = Vec::new();
        for block in blocks {
            if let Some(key) = from_pem_block(block, origin)? {
                keys.push(key);
            }
        }
        return Ok(Some(keys));
    }
    let trimmed = content.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return from_jwk_text(trimmed, origin);
    }
    if trimmed.first() == Some(&0x30) {
        if let Some(key) = from_der(trimmed, "DER") {
            return Ok(Some(vec![key]));
        }
    }
    Ok(None)
}

fn unsupported_format(content: &[u8], origin: &str) -> Option<KeyError> {
    let text = String::from_utf8_lossy(&content[..content.len().min(4096)]);
    let origin = origin.to_string();
    if text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        return Some(KeyError::Unsupported {
            origin,
            what: "PGP private key",
            how: "PGP keys are revoked through the keyservers; export the subkey you rotate with `gpg --export-secret-keys` only if you must search for it",
        });
    }
    if text.starts_with("PuTTY-User-Key-File-") {
        return Some(KeyError::Unsupported {
            origin,
            what: "PuTTY .ppk key",
            how: "`puttygen KEY.ppk -O private-openssh -o KEY`",
        });
    }
    None
}

/// The `-----BEGIN X-----` ... `-----END X-----` blocks of a PEM file, or `None` when the
/// content has no BEGIN line.
fn pem_blocks(content: &[u8]) -> Option<Vec<&[u8]>> {
    let starts: Vec<usize> = memchr::memmem::find_iter(content, b"-----BEGIN ").collect();
    if starts.is_empty() {
        return None;
    }
    let mut blocks = Vec::new();
    for start in starts {
        let rest = &content[start..];
        let Some(end) = memchr::memmem::find(rest, b"-----END ") else {
            blocks.push(rest);
            continue;
        };
        let after_end = &rest[end + 9..];
        let close = memchr::memmem::find(after_end, b"-----").map_or(after_end.len(), |i| i + 5);
        blocks.push(&rest[..end + 9 + close]);
    }
    Some(blocks)
}

fn pem_label(block: &[u8]) -> String {
    let line = block.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line)
        .trim()
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches("-----")
        .to_string()
}

fn from_pem_block(block: &[u8], origin: &str) -> Result<Option<PrivateKey>, KeyError> {
    let label = pem_label(block);
    let malformed = |form, reason: String| KeyError::Malformed {
        origin: origin.to_string(),
        form,
        reason,
    };
    let form: &'static str = match label.as_str() {
        // `openssl ecparam -genkey` writes the curve before the key: not secret, skip it.
        "EC PARAMETERS" => return Ok(None),
        "OPENSSH PRIVATE KEY" => return from_openssh(block, origin).map(Some),
        "ENCRYPTED PRIVATE KEY" => {
            return Err(KeyError::Encrypted {
                origin: origin.to_string(),
                form: "PKCS#8 PEM",
            })
        }
        "PRIVATE KEY" => "PKCS#8 PEM",
        "RSA PRIVATE KEY" => "PKCS#1 PEM",
        "EC PRIVATE KEY" => "SEC1 PEM",
        _ => {
            return Err(KeyError::NotAPrivateKey {
                origin: origin.to_string(),
                label,
            })
        }
    };
    if memchr::memmem::find(block, b"Proc-Type:").is_some() {
        return Err(KeyError::Encrypted {
            origin: origin.to_string(),
            form,
        });
    }
    let (_, der) = pem_rfc7468::decode_vec(block).map_err(|e| malformed(form, e.to_string()))?;
    let der = Zeroizing::new(der);
    from_der(&der, form)
        .map(Some)
        .ok_or_else(|| malformed(form, "its DER is not a private key scour knows".into()))
}

/// A DER private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
fn from_der(der: &[u8], form: &'static str) -> Option<PrivateKey> {
    if let Ok(info) = pkcs8::PrivateKeyInfo::try_from(der) {
        return from_pkcs8(&info, form);
    }
    if let Ok(rsa) = pkcs1::RsaPrivateKey::try_from(der) {
        return Some(rsa_key(
            form,
            rsa.private_exponent.as_bytes(),
            rsa.prime1.as_bytes(),
            rsa.prime2.as_bytes(),
        ));
    }
    if let Ok(ec) = sec1::EcPrivateKey::try_from(der) {
        let curve = ec
            .parameters
            .and_then(|p| p.named_curve())
            .map_or("unknown curve".to_string(), |oid| {
                curve_name(&oid.to_string())
            });
        return Some(scalar_key(format!("EC {curve}"), form, "d", ec.private_key));
    }
    None
}

fn from_pkcs8(info: &pkcs8::PrivateKeyInfo<'_>, form: &'static str) -> Option<PrivateKey> {
    match info.algorithm.oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => {
            let rsa = pkcs1::RsaPrivateKey::try_from(info.private_key).ok()?;
            Some(rsa_key(
                form,
                rsa.private_exponent.as_bytes(),
                rsa.prime1.as_bytes(),
                rsa.prime2.as_bytes(),
            ))
        }
        "1.2.840.10045.2.1" => {
            let ec = sec1::EcPrivateKey::try_from(info.private_key).ok()?;
            let curve = info
                .algorithm
                .parameters_oid()
                .ok()
                .or_else(|| ec.parameters.and_then(|p| p.named_curve()))
                .map_or("unknown curve".to_string(), |oid| {
                    curve_name(&oid.to_string())
                });
            Some(scalar_key(format!("EC {curve}"), form, "d", ec.private_key))
        }
        oid @ ("1.3.101.110" | "1.3.101.111" | "1.3.101.112" | "1.3.101.113") => {
            // CurvePrivateKey ::= OCTET STRING, inside the PKCS#8 OCTET STRING.
            let seed = match info.private_key {
                [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
                other => other,
            };
            let kind = match oid {
                "1.3.101.110" => "X25519",
                "1.3.101.111" => "X448",
                "1.3.101.112" => "Ed25519",
                _ => "Ed448",
            };
            Some(scalar_key(kind.to_string(), form, "seed", seed))
        }
        _ => None,
    }
}

fn from_openssh(block: &[u8], origin: &str) -> Result<PrivateKey, KeyError> {
    const FORM: &str = "OpenSSH";
    let key = ssh_key::PrivateKey::from_openssh(block).map_err(|e| KeyError::Malformed {
        origin: origin.to_string(),
        form: FORM,
        reason: e.to_string(),
    })?;
    if key.is_encrypted() {
        return Err(KeyError::Encrypted {
            origin: origin.to_string(),
            form: FORM,
        });
    }
    use ssh_key::private::KeypairData;
    let unsupported = || KeyError::Unsupported {
        origin: origin.to_string(),
        what: "OpenSSH key of a type other than RSA, ECDSA or Ed25519",
        how: "DSA and security-key (sk-) keys hold no searchable private number",
    };
    match key.key_data() {
        KeypairData::Ed25519(pair) => Ok(scalar_key(
            "Ed25519".into(),
            FORM,
            "seed",
            &Zeroizing::new(pair.private.to_bytes())[..],
        )),
        KeypairData::Ecdsa(pair) => {
            let curve = match pair.curve() {
                ssh_key::EcdsaCurve::NistP256 => "P-256",
                ssh_key::EcdsaCurve::NistP384 => "P-384",
                ssh_key::EcdsaCurve::NistP521 => "P-521",
            };
            Ok(scalar_key(
                format!("EC {curve}"),
                FORM,
                "d",
                pair.private_key_bytes(),
            ))
        }
        KeypairData::Rsa(pair) => {
            let number = |m: &ssh_key::Mpint| m.as_positive_bytes().unwrap_or_default().to_vec();
            Ok(rsa_key(
                FORM,
                &number(&pair.private.d),
                &number(&pair.private.p),
                &number(&pair.private.q),
            ))
        }
        _ => Err(unsupported()),
    }
}

/// A JWK (`{"kty": ...}`) or a JWK Set (`{"keys": [...]}`); `None` if the JSON is not one.
fn from_jwk_text(text: &[u8], origin: &str) -> Result<Option<Vec<PrivateKey>>, KeyError> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let jwks: Vec<&serde_json::Value> = match value.get("keys").and_then(|k| k.as_array()) {
        Some(keys) => keys.iter().collect(),
        None if value.get("kty").is_some() => vec![&value],
        None => return Ok(None),
    };
    let mut keys = Vec::new();
    for jwk in jwks {
        keys.push(from_jwk(jwk, origin)?);
    }
    Ok(Some(keys))
}

fn from_jwk(jwk: &serde_json::Value, origin: &str) -> Result<PrivateKey, KeyError> {
    const FORM: &str = "JWK";
    let malformed = |reason: String| KeyError::Malformed {
        origin: origin.to_string(),
        form: FORM,
        reason,
    };
    let number = |name: &str| -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let text = jwk.get(name).and_then(|v| v.as_str()).ok_or_else(|| {
            malformed(format!(
                "no `{name}` member: a public JWK has no private numbers to search for"
            ))
        })?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map(Zeroizing::new)
            .map_err(|_| malformed(format!("`{name}` is not base64url")))
    };
    let kty = jwk.get("kty").and_then(|v| v.as_str()).unwrap_or_default();
    let curve = jwk.get("crv").and_then(|v| v.as_str()).unwrap_or("unknown");
    match kty {
        "RSA" => {
            let d = number("d")?;
            // p and q are optional in a JWK; d alone identifies the key.
            let p = number("p").unwrap_or_default();
            let q = number("q").unwrap_or_default();
            Ok(rsa_key(FORM, &d, &p, &q))
        }
        "EC" => Ok(scalar_key(format!("EC {curve}"), FORM, "d", &number("d")?)),
        "OKP" => Ok(scalar_key(curve.to_string(), FORM, "seed", &number("d")?)),
        other => Err(malformed(format!(
            "key type `{other}` is not RSA, EC or OKP"
        ))),
    }
}

fn rsa_key(form: &'static str, d: &[u8], p: &[u8], q: &[u8]) -> PrivateKey {
    let d = magnitude(d);
    let mut parts = vec![("d", prefix(d))];
    for (name, number) in [("p", magnitude(p)), ("q", magnitude(q))] {
        if number.len() >= RSA_PART_LEN {
            parts.push((name, prefix(number)));
        }
    }
    PrivateKey {
        kind: "RSA".into(),
        form,
        identity: identity("RSA", d),
        parts,
    }
}

fn scalar_key(kind: String, form: &'static str, name: &'static str, scalar: &[u8]) -> PrivateKey {
    let scalar = magnitude(scalar);
    PrivateKey {
        identity: identity(&kind, scalar),
        kind,
        form,
        parts: vec![(name, Zeroizing::new(scalar.to_vec()))],
    }
}

fn prefix(number: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(number[..number.len().min(RSA_PART_LEN)].to_vec())
}

/// The number without leading zero bytes: DER and OpenSSH add one before a high bit, SEC1
/// pads to the curve size, JWK does neither.
fn magnitude(number: &[u8]) -> &[u8] {
    let first = number.iter().position(|&b| b != 0).unwrap_or(number.len());
    &number[first..]
}

fn identity(kind: &str, number: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(format!("scour-private-key-v1:{kind}:").into_bytes());
    bytes.extend_from_slice(number);
    bytes
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An Ed25519 key as `openssl genpkey -algorithm ed25519` writes it (a test key, never used).
    const ED25519_PKCS8: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIBJd7X+7ZfZixkbfLtzFjzwbUf7zXxWhG4nBTKAURteH\n\
        -----END PRIVATE KEY-----\n";

    #[test]
    fn a_pkcs8_ed25519_key_is_its_seed_and_no_boilerplate() {
        let keys = parse(ED25519_PKCS8.as_bytes(), "t").unwrap().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kind, "Ed25519");
        assert_eq!(keys[0].parts.len(), 1);
        assert_eq!(keys[0].parts[0].1.len(), 32);
        assert!(!keys[0].parts[0].1.windows(5).any(|w| w == b"BEGIN"));
    }

    #[test]
    fn the_same_seed_as_jwk_has_the_same_identity() {
        let pem = parse(ED25519_PKCS8.as_bytes(), "t").unwrap().unwrap();
        let seed = URL_SAFE_NO_PAD.encode(&pem[0].parts[0].1[..]);
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{seed}","x":"AAAA"}}"#);
        let from_jwk = parse(jwk.as_bytes(), "t").unwrap().unwrap();
        assert_eq!(from_jwk[0].identity, pem[0].identity);
    }

    #[test]
    fn certificates_public_keys_and_encrypted_keys_are_refused() {
        let cert = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            parse(cert, "t"),
            Err(KeyError::NotAPrivateKey { .. })
        ));
        let encrypted =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            parse(encrypted, "t"),
            Err(KeyError::Encrypted { .. })
        ));
        let public_jwk = br#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#;
        assert!(matches!(
            parse(public_jwk, "t"),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn plain_token_lists_are_not_keys() {
        assert!(parse(b"token-one-1234\ntoken-two-5678\n", "t")
            .unwrap()
            .is_none());
        assert!(parse(br#"{"not":"a key"}"#, "t").unwrap().is_none());
    }
}
