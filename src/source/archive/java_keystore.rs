//! Java keystores in the JKS and JCEKS formats (`keytool -storetype jks|jceks`; the JDK's
//! `cacerts`, a truststore in a jar or a repository).
//!
//! A keystore is a list of entries: trusted certificates, stored in the clear, and private
//! keys (and, in JCEKS, secret keys) encrypted under a password. A truststore holds only
//! certificates, so it is readable, and taking every keystore for ciphertext made each
//! JDK and each Java project with a truststore an `encrypted` gap. The entries are walked:
//! each encrypted one is an `encrypted` gap naming its alias's position, and the whole
//! keystore (aliases, certificate chains, the encrypted bytes themselves) is scanned as it
//! is, as interpreted content.

use std::io::Read;

use super::format::{Format, Place};
use super::leaf::{self, Reopen};
use super::Walk;
use crate::coverage::GapKind;
use crate::matcher::ScanBuffer;

pub(crate) static JAVA_KEYSTORE: JavaKeystore = JavaKeystore;

pub(crate) struct JavaKeystore;

const JKS: &[u8] = b"\xFE\xED\xFE\xED";
const JCEKS: &[u8] = b"\xCE\xCE\xCE\xCE";
/// Largest keystore read (the JDK's `cacerts` is about 200 KiB); a larger one is a gap.
const MAX_KEYSTORE: u64 = 64 << 20;

impl Format for JavaKeystore {
    fn name(&self) -> &'static str {
        "java keystore"
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        (head.starts_with(JKS) || head.starts_with(JCEKS))
            && matches!(head.get(4..8), Some([0, 0, 0, 1 | 2]))
    }

    fn open(
        &self,
        walk: &Walk,
        chain: &[String],
        reader: &mut dyn Read,
        depth: u32,
        buffer: &mut ScanBuffer,
    ) {
        let mut bytes = Vec::new();
        if let Err(error) = (&mut *reader)
            .take(MAX_KEYSTORE + 1)
            .read_to_end(&mut bytes)
        {
            walk.fail_unless_reported(
                GapKind::Corrupt,
                chain,
                "could not read the keystore to its end; the part read was scanned",
                &error,
            );
            let kind = leaf::Kind::Accounted;
            leaf::scan_bytes(walk, chain, &bytes[..], depth, kind, buffer);
            return;
        }
        if bytes.len() as u64 > MAX_KEYSTORE {
            walk.fail(
                GapKind::LimitExceeded,
                chain,
                format!(
                    "a java keystore larger than {MAX_KEYSTORE} bytes: its entries were not \
                     read; its raw bytes were scanned"
                ),
            );
            // Every byte still goes through the scan, the rest of the stream included.
            let mut whole = (&bytes[..]).chain(reader);
            let kind = leaf::Kind::Plain;
            leaf::scan(walk, chain, &mut whole, depth, Reopen::None, kind, buffer);
            return;
        }
        match encrypted_entries(&bytes) {
            Ok(entries) => {
                for entry in entries {
                    walk.fail(GapKind::Encrypted, chain, entry.describe());
                }
            }
            Err(problem) => {
                walk.fail(
                    GapKind::Corrupt,
                    chain,
                    format!(
                        "{problem}; its raw bytes were scanned, the rest of its entries was \
                         not read"
                    ),
                );
            }
        }
        let kind = leaf::Kind::Inert;
        leaf::scan_bytes(walk, chain, &bytes[..], depth, kind, buffer);
    }
}

/// An entry whose content is encrypted: which one, and of what kind.
#[derive(Debug, PartialEq, Eq)]
struct EncryptedEntry {
    index: u32,
    kind: &'static str,
}

impl EncryptedEntry {
    fn describe(&self) -> String {
        format!(
            "keystore entry {} is a {} encrypted under its password: what it holds cannot be \
             read without it; the certificates and names around it were read",
            self.index + 1,
            self.kind
        )
    }
}

/// Walks the entries; a JCEKS secret key entry (a serialized `SealedObject`, with no length
/// before it) ends the walk, since what follows cannot be found without parsing Java
/// serialization.
fn encrypted_entries(bytes: &[u8]) -> Result<Vec<EncryptedEntry>, String> {
    let mut at = Cursor { bytes, at: 4 };
    let version = at.u32()?;
    let count = at.u32()?;
    let mut encrypted = Vec::new();
    for index in 0..count {
        let tag = at.u32()?;
        at.utf()?; // alias
        at.skip(8)?; // creation time
        match tag {
            1 => {
                let key = at.u32()? as usize;
                at.skip(key)?;
                encrypted.push(EncryptedEntry {
                    index,
                    kind: "private key",
                });
                let chain = at.u32()?;
                for _ in 0..chain {
                    at.certificate(version)?;
                }
            }
            2 => at.certificate(version)?,
            3 => {
                encrypted.push(EncryptedEntry {
                    index,
                    kind: "secret key",
                });
                return Ok(encrypted);
            }
            other => {
                return Err(format!(
                    "keystore entry {} has an unknown tag {other}",
                    index + 1
                ))
            }
        }
    }
    Ok(encrypted)
}

/// Big-endian fields of a keystore, bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!("the keystore is truncated at byte {}", self.at));
        };
        let field = &self.bytes[self.at..end];
        self.at = end;
        Ok(field)
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        self.take(n).map(|_| ())
    }

    fn u32(&mut self) -> Result<u32, String> {
        let field = self.take(4)?;
        Ok(u32::from_be_bytes([field[0], field[1], field[2], field[3]]))
    }

    /// A `DataOutput.writeUTF` string: a 2-byte length, then modified UTF-8.
    fn utf(&mut self) -> Result<(), String> {
        let field = self.take(2)?;
        let length = usize::from(u16::from_be_bytes([field[0], field[1]]));
        self.skip(length)
    }

    /// A certificate: its type's name (version 2), then its length and encoding.
    fn certificate(&mut self, version: u32) -> Result<(), String> {
        if version == 2 {
            self.utf()?;
        }
        let length = self.u32()? as usize;
        self.skip(length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf(text: &str) -> Vec<u8> {
        let mut out = (text.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }

    fn keystore(entries: &[(u32, &str)]) -> Vec<u8> {
        let mut out = JKS.to_vec();
        out.extend_from_slice(&2u32.to_be_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        let certificate = |out: &mut Vec<u8>| {
            out.extend(utf("X.509"));
            out.extend_from_slice(&5u32.to_be_bytes());
            out.extend_from_slice(b"\x30\x03\x02\x01\x00");
        };
        for &(tag, alias) in entries {
            out.extend_from_slice(&tag.to_be_bytes());
            out.extend(utf(alias));
            out.extend_from_slice(&[0; 8]);
            if tag == 1 {
                out.extend_from_slice(&16u32.to_be_bytes());
                out.extend_from_slice(&[0xAB; 16]);
                out.extend_from_slice(&1u32.to_be_bytes());
            }
            certificate(&mut out);
        }
        out.extend_from_slice(&[0x11; 20]);
        out
    }

    #[test]
    fn a_truststore_has_no_encrypted_entry_and_a_key_is_one() {
        let trust = keystore(&[(2, "root-a"), (2, "root-b")]);
        assert!(JAVA_KEYSTORE.recognise(&trust, Place::Inside));
        assert_eq!(encrypted_entries(&trust), Ok(Vec::new()));
        let keys = keystore(&[(2, "root"), (1, "server")]);
        assert_eq!(
            encrypted_entries(&keys),
            Ok(vec![EncryptedEntry {
                index: 1,
                kind: "private key"
            }])
        );
        assert!(encrypted_entries(&keys[..keys.len() - 30]).is_err());
        assert!(!JAVA_KEYSTORE.recognise(b"\xFE\xED\xFE\xED\x00\x00\x00\x09", Place::Inside));
    }
}
