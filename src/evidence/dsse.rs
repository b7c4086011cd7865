//! DSSE envelopes: a payload, its type, and signatures over both.
//!
//! A signature covers the Pre-Authentication Encoding, exactly as the DSSE v1 spec defines
//! it: `"DSSEv1" SP len(type) SP type SP len(body) SP body` with lengths in ASCII decimal.
//! Signing the type with the body means a payload cannot be re-labelled without breaking
//! every signature. Envelopes are written with standard padded base64; verification also
//! accepts URL-safe and unpadded base64, as the spec asks of verifiers.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::keys::{PrivateKey, PublicKey};

/// Unknown fields are refused, so that every byte of an envelope scour verifies matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Names the key (its securesystemslib id). Never trusted on its own, but when present
    /// it must name the key that verifies the signature: a changed id is a changed envelope.
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

/// The bytes a DSSE signature is over.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + payload_type.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// Decodes base64 in any of the alphabets and paddings DSSE verifiers accept.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

impl Envelope {
    /// Signs `body` of `payload_type` with every key given.
    pub fn sign(payload_type: &str, body: &[u8], keys: &[&PrivateKey]) -> Envelope {
        let message = pae(payload_type, body);
        Envelope {
            payload: STANDARD.encode(body),
            payload_type: payload_type.to_string(),
            signatures: keys
                .iter()
                .map(|key| EnvelopeSignature {
                    keyid: key.public().keyid(),
                    sig: STANDARD.encode(key.sign(&message)),
                })
                .collect(),
        }
    }

    /// Adds `key`'s signature over the same payload (a countersignature).
    pub fn countersign(&mut self, key: &PrivateKey) -> anyhow::Result<()> {
        let message = pae(&self.payload_type, &self.body()?);
        self.signatures.push(EnvelopeSignature {
            keyid: key.public().keyid(),
            sig: STANDARD.encode(key.sign(&message)),
        });
        Ok(())
    }

    pub fn parse(bytes: &[u8]) -> anyhow::Result<Envelope> {
        serde_json::from_slice(bytes).map_err(|e| {
            anyhow::anyhow!("not a DSSE envelope (expected payload, payloadType, signatures): {e}")
        })
    }

    pub fn to_json(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    pub fn body(&self) -> anyhow::Result<Vec<u8>> {
        decode_base64(&self.payload)
            .ok_or_else(|| anyhow::anyhow!("the envelope's payload is not valid base64"))
    }

    /// Which of `keys` made a valid signature over this envelope, each key once.
    ///
    /// Every signature is tried against every key whose id it names (or every key, when it
    /// names none); a signature that verifies with none of them counts for nothing.
    pub fn signers<'k>(&self, keys: &'k [PublicKey]) -> anyhow::Result<Vec<&'k PublicKey>> {
        let message = pae(&self.payload_type, &self.body()?);
        let mut signers: Vec<&PublicKey> = Vec::new();
        for signature in &self.signatures {
            let Some(sig) = decode_base64(&signature.sig) else {
                continue;
            };
            for key in keys {
                let keyid = key.keyid();
                let named = signature.keyid.is_empty() || signature.keyid == keyid;
                let already = signers.iter().any(|k| k.keyid() == keyid);
                if named && !already && key.verifies(&message, &sig) {
                    signers.push(key);
                }
            }
        }
        Ok(signers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_test_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn url_safe_and_unpadded_base64_are_accepted() {
        let bytes = [0xfbu8, 0xff, 0xfe, 0x01];
        for text in ["+//+AQ==", "-__-AQ==", "+//+AQ", "-__-AQ"] {
            assert_eq!(decode_base64(text).unwrap(), bytes, "{text}");
        }
        assert!(decode_base64("not base64!").is_none());
    }

    #[test]
    fn signature_binds_type_and_body() {
        let key = PrivateKey::generate();
        let keys = [key.public()];
        let envelope = Envelope::sign("t/1", b"body", &[&key]);
        assert_eq!(envelope.signers(&keys).unwrap().len(), 1);
        let mut retyped = envelope.clone();
        retyped.payload_type = "t/2".into();
        assert!(retyped.signers(&keys).unwrap().is_empty());
        let mut rebodied = envelope.clone();
        rebodied.payload = STANDARD.encode(b"bodz");
        assert!(rebodied.signers(&keys).unwrap().is_empty());
        let other = PrivateKey::generate();
        assert!(envelope.signers(&[other.public()]).unwrap().is_empty());
    }

    #[test]
    fn a_keyid_must_name_the_verifying_key_when_present() {
        let key = PrivateKey::generate();
        let keys = [key.public()];
        let envelope = Envelope::sign("t/1", b"body", &[&key]);
        let mut renamed = envelope.clone();
        renamed.signatures[0].keyid = PrivateKey::generate().public().keyid();
        assert!(renamed.signers(&keys).unwrap().is_empty());
        let mut anonymous = envelope.clone();
        anonymous.signatures[0].keyid.clear();
        assert_eq!(anonymous.signers(&keys).unwrap().len(), 1);
        let with_extra = br#"{"payload":"","payloadType":"t","signatures":[],"cert":"x"}"#;
        assert!(Envelope::parse(with_extra).is_err());
    }
}
