//! Ciphertext that scour recognises: each one met is an `encrypted` gap naming it, never an
//! "absent", because nothing can be proven about what a key hides. The raw bytes are still
//! scanned (an unencrypted header or name can hold the secret too).
//!
//! Recognised at the start of a stream: the headers below, and OpenPGP messages (`gpg -c`,
//! `gpg -e`), whose first packet is a session key (an armored message is de-armored first,
//! by [`super::openpgp`], which also reads the messages that are not encrypted). Markers
//! that occur inside otherwise readable files (an ansible-vault value in YAML, a SOPS
//! value, an armored PGP block in an email) are found anywhere by [`super::carve`], from
//! [`MARKERS`].

use super::format::{Class, Format, Magic, MagicTable, Place};

static HEADERS: MagicTable = MagicTable {
    class: Class::Encrypted,
    entries: &[
        Magic::start(b"Salted__", "openssl enc"),
        Magic::start(b"U2FsdGVkX1", "openssl enc (base64)"),
        Magic::start(b"age-encryption.org/v1", "age"),
        Magic::start(b"-----BEGIN AGE ENCRYPTED FILE-----", "age (armored)"),
        Magic::start(b"$ANSIBLE_VAULT;", "ansible-vault"),
        Magic::start(b"BORG_SEG", "borg repository segment"),
        Magic::start(b"\x03\xD9\xA2\x9A\x67\xFB\x4B\xB5", "keepass (kdbx)"),
        Magic::start(b"\x03\xD9\xA2\x9A\x65\xFB\x4B\xB5", "keepass (kdb)"),
        Magic::start(b"LUKS\xBA\xBE", "luks"),
        Magic::at(3, b"-FVE-FS-", "bitlocker"),
        Magic::start(b"\x00GITCRYPT\x00", "git-crypt"),
        Magic::start(b"VimCrypt~", "vim encryption"),
        Magic::start(b"AES\x01\x00", "aescrypt"),
        Magic::start(b"AES\x02\x00", "aescrypt"),
        Magic::start(b"AES\x03\x00", "aescrypt"),
        Magic::start(b"encrcdsa", "encrypted disk image (dmg)"),
        Magic::start(b"RCLONE\x00\x00", "rclone crypt"),
        Magic::start(b"PWS3", "password safe v3"),
        Magic::start(b"kych\x00\x01", "macos keychain"),
        Magic::start(b"KWALLET\n\r\x00\r\n", "kwallet"),
        Magic::start(b"GnomeKeyring\n\r\x00\n", "gnome keyring"),
        Magic::start(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "encrypted private key",
        ),
    ],
};

/// The name of an armored OpenPGP block's marker; such a block is ciphertext only if its
/// first packet is (see [`super::carve`]).
pub(crate) const ARMORED_OPENPGP: &str = "openpgp (armored)";

/// A marker of ciphertext inside a readable stream, and what must follow it for the
/// marker to count (so a marker's name in code or documentation is not a gap).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marker {
    pub bytes: &'static [u8],
    pub name: &'static str,
    pub follows: Follows,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follows {
    /// A run of base64 or hex within the next line or two.
    Text,
    /// A DER length right after the marker (whose last byte is the tag it introduces).
    Der,
    /// Nothing: the marker is specific enough by itself.
    Alone,
    /// A run of base64 right after the marker, as in `ENC(...)` or `{cipher}...` values:
    /// the marker alone is a common word in code.
    Base64Now,
    /// A PDF object: a dictionary (`<<`) or an indirect reference (`6 0 R`), as the
    /// `/Encrypt` entry of a trailer or cross-reference stream has.
    PdfObject,
}

impl Marker {
    const fn text(bytes: &'static [u8], name: &'static str) -> Marker {
        Marker {
            bytes,
            name,
            follows: Follows::Text,
        }
    }
    const fn der(bytes: &'static [u8], name: &'static str) -> Marker {
        Marker {
            bytes,
            name,
            follows: Follows::Der,
        }
    }
    const fn alone(bytes: &'static [u8], name: &'static str) -> Marker {
        Marker {
            bytes,
            name,
            follows: Follows::Alone,
        }
    }
    const fn base64_now(bytes: &'static [u8], name: &'static str) -> Marker {
        Marker {
            bytes,
            name,
            follows: Follows::Base64Now,
        }
    }
    const fn pdf(bytes: &'static [u8], name: &'static str) -> Marker {
        Marker {
            bytes,
            name,
            follows: Follows::PdfObject,
        }
    }

    /// Whether `head`, the bytes from where the marker was found, hold ciphertext.
    pub(crate) fn holds_ciphertext(&self, head: &[u8]) -> bool {
        match self.follows {
            Follows::Alone => true,
            Follows::Der => der_length_follows(head.get(self.bytes.len()..).unwrap_or(&[])),
            Follows::Text => base64_run_follows(head),
            Follows::Base64Now => base64_run_starts(head.get(self.bytes.len()..).unwrap_or(&[])),
            Follows::PdfObject => pdf_object_follows(head.get(self.bytes.len()..).unwrap_or(&[])),
        }
    }
}

/// Whether `after` starts with at least 24 base64 characters (18 bytes: more than a
/// word or a name, as short as an encrypted short password).
fn base64_run_starts(after: &[u8]) -> bool {
    after
        .iter()
        .take(24)
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
        .count()
        == 24
}

/// Whether a PDF is encrypted: an `/Encrypt` entry whose value is a dictionary or a
/// reference (its trailer's, or its cross-reference stream's).
pub(crate) fn pdf_is_encrypted(pdf: &[u8]) -> bool {
    memchr::memmem::find_iter(pdf, b"/Encrypt")
        .any(|at| pdf_object_follows(&pdf[at + b"/Encrypt".len()..]))
}

/// Whether `after` starts (past PDF white space) with a dictionary or an indirect
/// reference (`<<`, or `12 0 R`): the value of a PDF's `/Encrypt` entry, not the word in
/// code or prose (`trailer["/Encrypt"]`).
fn pdf_object_follows(after: &[u8]) -> bool {
    let white = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | 0);
    let skip_white = |bytes: &[u8]| -> usize { bytes.iter().take_while(|b| white(b)).count() };
    let digits =
        |bytes: &[u8]| -> usize { bytes.iter().take_while(|b| b.is_ascii_digit()).count() };
    let mut at = skip_white(after);
    if after[at..].starts_with(b"<<") {
        return true;
    }
    for _ in 0..2 {
        let number = digits(&after[at..]);
        let gap = skip_white(&after[at + number..]);
        if number == 0 || gap == 0 {
            return false;
        }
        at += number + gap;
    }
    after.get(at) == Some(&b'R')
}

/// A definite DER length of a value worth encrypting (8 bytes to 16 MiB), or the
/// indefinite length BER writers use for streamed CMS.
fn der_length_follows(after: &[u8]) -> bool {
    match after {
        [0x80, ..] => true,
        [short, ..] if *short < 0x80 => *short >= 8,
        [0x81, n, ..] => *n >= 0x80,
        [0x82, high, ..] => *high > 0,
        [0x83, high, ..] => *high > 0,
        _ => false,
    }
}

/// Whether a text marker is followed by what such ciphertext looks like (a run of base64
/// or hex within the next line or two), and not just the marker's name in code or
/// documentation.
///
/// Only the next few lines count, and a NUL ends the search: a program that writes such
/// files carries the marker as a string constant among others (`pgcrypto.so` holds
/// `-----BEGIN PGP MESSAGE-----\n\0%s: %s\n\0`), and further on, its base64 alphabet.
fn base64_run_follows(head: &[u8]) -> bool {
    /// Armor headers (`Version:`, `Comment:`, `Proc-Type:`, `DEK-Info:`) and a blank line
    /// may come before the body.
    const LINES: usize = 8;
    let mut run = 0;
    let mut lines = 0;
    for &byte in head.iter().skip(4) {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=') {
            run += 1;
            if run >= 32 {
                return true;
            }
            continue;
        }
        run = 0;
        match byte {
            0 => return false,
            b'\n' => {
                lines += 1;
                if lines > LINES {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
}

/// Markers of encrypted values inside readable files, found anywhere in a stream.
pub(crate) static MARKERS: &[Marker] = &[
    Marker::text(b"$ANSIBLE_VAULT;", "ansible-vault"),
    Marker::text(b"ENC[AES256_GCM,", "sops"),
    Marker::text(b"-----BEGIN PGP MESSAGE-----", ARMORED_OPENPGP),
    Marker::text(b"-----BEGIN AGE ENCRYPTED FILE-----", "age (armored)"),
    Marker::text(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "encrypted private key",
    ),
    Marker::text(b"Proc-Type: 4,ENCRYPTED", "encrypted private key"),
    Marker::text(b"U2FsdGVkX1", "openssl enc (base64)"),
    Marker::text(b"Salted__", "openssl enc"),
    Marker::text(b"vault:v1:", "hashicorp vault transit"),
    Marker::text(b"kind: SealedSecret", "sealed secret"),
    Marker::text(b"\"kind\":\"SealedSecret\"", "sealed secret"),
    Marker::text(b"EJ[1:", "ejson"),
    // A PDF encrypted by its standard security handler (`qpdf --encrypt`, a password set
    // in any PDF writer), even with an empty user password: every string and stream is
    // RC4 or AES ciphertext scour does not decrypt.
    Marker::pdf(b"/Encrypt", "encrypted pdf"),
    // Encrypted values in configuration and exports, each by its tool's own prefix.
    Marker::base64_now(b"ENC[PKCS7,", "hiera-eyaml"),
    Marker::base64_now(b"ENC[GPG,", "hiera-eyaml"),
    Marker::base64_now(b"{cipher}", "spring cloud config cipher"),
    Marker::base64_now(b"ENC(", "jasypt"),
    Marker::text(b"{AQAAABAAAA", "jenkins secret"),
    // Chef encrypted data bags and OpenTofu encrypted state.
    Marker::text(b"\"encrypted_data\"", "encrypted data bag or state"),
    Marker::text(b"\"encryptedPassword\"", "firefox saved login"),
    Marker::alone(
        b"\"encKeyValidation_DO_NOT_EDIT\"",
        "bitwarden encrypted export",
    ),
    // Laravel's encrypter: base64 of {"iv":...,"value":...,"mac":...}.
    Marker::text(b"eyJpdiI6", "laravel encrypted value"),
    // Kubernetes encryption at rest: every Secret in etcd (and its snapshots) under a
    // provider's prefix.
    Marker::alone(b"k8s:enc:", "kubernetes encrypted secret"),
    // A Windows DPAPI blob (saved RDP and Wi-Fi passwords, browsers' keys, PowerShell
    // ConvertFrom-SecureString and Export-Clixml, which write it as hex): its version and
    // provider GUID.
    Marker::alone(
        b"\x01\x00\x00\x00\xD0\x8C\x9D\xDF\x01\x15\xD1\x11\x8C\x7A\x00\xC0\x4F\xC2\x97\xEB",
        "windows dpapi blob",
    ),
    Marker::alone(
        b"01000000d08c9ddf0115d1118c7a00c04fc297eb",
        "windows dpapi blob",
    ),
    Marker::alone(
        b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0",
        "encrypted office document",
    ),
    // A password-protected OpenDocument file (LibreOffice): its manifest says which
    // members are ciphertext.
    Marker::alone(b"<manifest:encryption-data", "encrypted opendocument"),
    // DER structures that hold ciphertext, each an object identifier (tag, length, value)
    // followed by the constructed value it introduces, so the bare numbers in a table of
    // OIDs do not count. They cover CMS and S/MIME encryption (`openssl cms -encrypt`,
    // `openssl smime -encrypt`, after the base64 of a mail or PEM block is decoded),
    // PKCS#12 stores (`.p12`, `.pfx`, Java PKCS12 keystores: shrouded key bags and
    // encrypted SafeContents) and encrypted PKCS#8 keys in DER.
    Marker::der(
        b"\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x03\xA0",
        "cms enveloped data",
    ),
    Marker::der(
        b"\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x06\xA0",
        "cms encrypted data",
    ),
    Marker::der(
        b"\x06\x0B\x2A\x86\x48\x86\xF7\x0D\x01\x09\x10\x01\x17\xA0",
        "cms authenticated enveloped data",
    ),
    Marker::der(
        b"\x06\x0B\x2A\x86\x48\x86\xF7\x0D\x01\x0C\x0A\x01\x02\xA0",
        "pkcs#12 shrouded key",
    ),
    Marker::der(
        b"\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x05\x0D\x30",
        "pbes2-encrypted data",
    ),
    // An adb backup whose header names a cipher.
    Marker::text(
        b"ANDROID BACKUP\n5\n1\nAES-256\n",
        "android backup (encrypted)",
    ),
    Marker::text(
        b"ANDROID BACKUP\n4\n1\nAES-256\n",
        "android backup (encrypted)",
    ),
    Marker::text(
        b"ANDROID BACKUP\n5\n0\nAES-256\n",
        "android backup (encrypted)",
    ),
];

/// An encrypted store known by its layout, not by any magic number: every file in it is
/// ciphertext (file names too, for most), and its small files are too short to count as
/// opaque. Each is recognised by the file that configures it, and its siblings.
struct StoreLayout {
    /// The configuration file's name.
    config: &'static str,
    /// Entries beside it that the store always has.
    siblings: &'static [&'static str],
    what: &'static str,
}

static STORE_LAYOUTS: &[StoreLayout] = &[
    StoreLayout {
        config: "config",
        siblings: &["data", "index", "keys", "snapshots"],
        what: "a restic repository: every file in it is encrypted, and what it backs up \
               cannot be read without the repository password",
    },
    StoreLayout {
        config: "gocryptfs.conf",
        siblings: &["gocryptfs.diriv"],
        what: "a gocryptfs encrypted directory: every file in it is encrypted, and its \
               plaintext cannot be read without the password",
    },
    StoreLayout {
        config: "vault.cryptomator",
        siblings: &["d"],
        what: "a Cryptomator vault: every file in it is encrypted, and its plaintext cannot \
               be read without the vault password",
    },
    StoreLayout {
        config: "cryfs.config",
        siblings: &[],
        what: "a CryFS encrypted directory: every block in it is encrypted, and its \
               plaintext cannot be read without the password",
    },
    StoreLayout {
        config: ".encfs6.xml",
        siblings: &[],
        what: "an EncFS encrypted directory: every file in it is encrypted, and its \
               plaintext cannot be read without the password",
    },
    StoreLayout {
        config: "kopia.repository.f",
        siblings: &[],
        what: "a Kopia repository: every blob in it is encrypted, and what it backs up \
               cannot be read without the repository password",
    },
];

/// If `path` is the file that configures an encrypted store (see [`STORE_LAYOUTS`]): the
/// store's directory and what it is.
pub(crate) fn encrypted_store_of(
    path: &std::path::Path,
) -> Option<(&std::path::Path, &'static str)> {
    let name = path.file_name()?.to_str()?;
    let layout = STORE_LAYOUTS.iter().find(|layout| layout.config == name)?;
    let store = path.parent()?;
    layout
        .siblings
        .iter()
        .all(|sibling| store.join(sibling).exists())
        .then_some((store, layout.what))
}

pub(crate) static ENCRYPTED: Encrypted = Encrypted;

pub(crate) struct Encrypted;

impl Format for Encrypted {
    fn name(&self) -> &'static str {
        "encrypted"
    }

    fn class(&self) -> Class {
        Class::Encrypted
    }

    fn name_at(&self, head: &[u8]) -> &'static str {
        match HEADERS.find(head) {
            Some(magic) => magic.name,
            None if is_openpgp_encrypted(head) => "openpgp",
            None => "encrypted",
        }
    }

    fn recognise(&self, head: &[u8], _place: Place) -> bool {
        HEADERS.find(head).is_some() || is_openpgp_encrypted(head)
    }
}

/// An OpenPGP message whose first packet is a public-key (tag 1) or symmetric-key (tag 3)
/// encrypted session key, in the old or new packet format, with a version these packets
/// have (3 to 6). That is how `gpg -c` and `gpg -e` output begins.
pub(crate) fn is_openpgp_encrypted(head: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return false;
    };
    if first & 0x80 == 0 {
        return false;
    }
    let (tag, body) = if first & 0x40 != 0 {
        // New format: one-octet length below 192, or a two-octet length.
        let tag = first & 0x3F;
        match head.get(1) {
            Some(&len) if len < 192 => (tag, 2),
            Some(&len) if len < 224 => (tag, 3),
            _ => return false,
        }
    } else {
        let tag = (first >> 2) & 0x0F;
        let length_bytes = match first & 0x03 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => return false,
        };
        (tag, 1 + length_bytes)
    };
    let version = head.get(body).copied();
    match tag {
        // Symmetric-key session key: versions 4, 5, 6; then a cipher id (1..=13).
        3 => {
            matches!(version, Some(4..=6))
                && head.get(body + 1).is_some_and(|c| (1..=13).contains(c))
        }
        // Public-key session key: versions 3 and 6; then an 8-byte key id (v3).
        1 => matches!(version, Some(3 | 6)) && head.len() > body + 10,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::{recognise, Class, Place};
    use super::*;

    #[test]
    fn encrypted_headers_are_recognised() {
        for (head, name) in [
            (
                &b"Salted__\x01\x02\x03\x04\x05\x06\x07\x08"[..],
                "openssl enc",
            ),
            (b"age-encryption.org/v1\n-> X25519 abc", "age"),
            (b"$ANSIBLE_VAULT;1.1;AES256\n3338", "ansible-vault"),
            (b"RCLONE\x00\x00\x9a\x41\x07\xee", "rclone crypt"),
            (b"PWS3\x11\x22\x33\x44", "password safe v3"),
            (b"kych\x00\x01\x00\x00", "macos keychain"),
            (b"KWALLET\n\r\x00\r\n\x00\x01", "kwallet"),
            (b"GnomeKeyring\n\r\x00\n\x00\x01", "gnome keyring"),
            (
                b"\x8C\x0D\x04\x07\x03\x02\x11\x22\x33\x44\x55\x66\x77\x88\x01",
                "openpgp",
            ),
            (
                b"\xC3\x0D\x04\x09\x03\x02\x11\x22\x33\x44\x55\x66\x77\x88\x01",
                "openpgp",
            ),
        ] {
            let format = recognise(head, Place::Filesystem).expect("recognised");
            assert_eq!(format.class(), Class::Encrypted);
            assert_eq!(format.name_at(head), name);
        }
    }

    #[test]
    fn ordinary_bytes_are_not_openpgp() {
        assert!(!is_openpgp_encrypted(b"\x8C\x0D\x01\x07"));
        assert!(!is_openpgp_encrypted(b"hello"));
        assert!(!is_openpgp_encrypted(b""));
    }

    /// The name of the first marker that holds ciphertext in `text`, if any.
    fn marked(text: &[u8]) -> Option<&'static str> {
        MARKERS.iter().find_map(|marker| {
            memchr::memmem::find_iter(text, marker.bytes)
                .any(|at| marker.holds_ciphertext(&text[at..]))
                .then_some(marker.name)
        })
    }

    #[test]
    fn encrypted_values_in_configuration_and_exports_are_marked() {
        let laravel = {
            use base64::Engine;
            let payload = br#"{"iv":"pGvGCyiKcNq2eRqwIXrhTg==","value":"x8aAy4oRbZ0BBKaGQlyMBomXg2ppmVp1SMvF3KVQ1Y0=","mac":"4f0c6e4e1a0b0b5bd1b7a5b2ad7b1e1e1f5a4c7e2d9a3e6b8c1d0f2a3b4c5d6e","tag":""}"#;
            base64::engine::general_purpose::STANDARD.encode(payload)
        };
        let samples: Vec<(&[u8], &str)> = vec![
            (b"db::password: ENC[PKCS7,MIIBiQYJKoZIhvcNAQcDoIIBejCCAXYCAQAxggEhMIIBHQIBADAFMAACAQEw]\n", "hiera-eyaml"),
            (b"password: '{cipher}AQA3PqRkQOnEZHyqcxb1q9G5jcXtW6zrC6/k8Xd5vGRxEzHz'\n", "spring cloud config cipher"),
            (b"spring.datasource.password=ENC(G6N718UuyPE5bHyWKyuLQSm02auQPUtm)\n", "jasypt"),
            (b"<password>{AQAAABAAAAAQn8vK6yV0nq0WZ6P3NcKl0h3Y7u0bH+fM1X5ZQk3J2Zo=}</password>", "jenkins secret"),
            (b"{\"id\": \"db\", \"password\": {\"encrypted_data\": \"hzXGr0o3gXyAp2c/vXrH+Ia1B4n0DRYbB6s5qzvFl0M=\\n\", \"iv\": \"Xb2H\"}}", "encrypted data bag or state"),
            (b"{\"hostname\":\"https://x\",\"encryptedPassword\":\"MDoEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECN3QW8uy0LpO\"}", "firefox saved login"),
            (b"{\"encrypted\": true, \"encKeyValidation_DO_NOT_EDIT\": \"2.Gm|Rk|Pz\"}", "bitwarden encrypted export"),
            (b"<manifest:file-entry manifest:full-path=\"content.xml\"><manifest:encryption-data manifest:checksum-type=\"SHA256\">", "encrypted opendocument"),
            (laravel.as_bytes(), "laravel encrypted value"),
            (b"/registry/secrets/default/db\x00k8s:enc:aescbc:v1:key1:\x8f\x12\x99", "kubernetes encrypted secret"),
            (b"01000000d08c9ddf0115d1118c7a00c04fc297eb0100000082bd7b4bd1a5a94a", "windows dpapi blob"),
            (b"\x00\x01\x00\x00\x00\xD0\x8C\x9D\xDF\x01\x15\xD1\x11\x8C\x7A\x00\xC0\x4F\xC2\x97\xEB\x01", "windows dpapi blob"),
        ];
        for (text, name) in samples {
            assert_eq!(
                marked(text),
                Some(name),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        for code in [
            &b"#define ENC(x) ((x) ^ 0x5a)\n"[..],
            b"if value.startswith('{cipher}'):\n",
            b"encrypted_data = None\nif self.encrypted_data:\n",
            b"ENC[PKCS7,]",
            b"prefix = \"k8s:enc\"",
        ] {
            assert_eq!(marked(code), None, "{}", String::from_utf8_lossy(code));
        }
    }

    #[test]
    fn encrypted_stores_are_known_by_their_configuration_and_its_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let store = |name: &str, config: &str, siblings: &[&str]| {
            let root = dir.path().join(name);
            std::fs::create_dir_all(&root).unwrap();
            std::fs::write(root.join(config), b"{}").unwrap();
            for sibling in siblings {
                std::fs::create_dir_all(root.join(sibling)).unwrap();
            }
            root.join(config)
        };
        for (config, siblings, what) in [
            ("vault.cryptomator", &["d"][..], "Cryptomator"),
            (".encfs6.xml", &[], "EncFS"),
            ("cryfs.config", &[], "CryFS"),
            ("kopia.repository.f", &[], "Kopia"),
            ("config", &["data", "index", "keys", "snapshots"], "restic"),
        ] {
            let path = store(what, config, siblings);
            let (root, said) = encrypted_store_of(&path).expect(what);
            assert_eq!(root, path.parent().unwrap());
            assert!(said.contains(what), "{said}");
        }
        // An ordinary `config` (a git directory's, an app's) and a Cryptomator name
        // without its data directory are not stores.
        assert!(encrypted_store_of(&store("app", "config", &["data"])).is_none());
        assert!(encrypted_store_of(&store("lone", "vault.cryptomator", &[])).is_none());
    }

    #[test]
    fn a_pdf_encrypt_entry_needs_a_dictionary_or_a_reference() {
        let marker = MARKERS
            .iter()
            .find(|marker| marker.name == "encrypted pdf")
            .unwrap();
        for trailer in [
            &b"/Encrypt 6 0 R >>"[..],
            b"/Encrypt\r\n12 0 R/ID",
            b"/Encrypt << /Filter /Standard /V 5",
            b"/Encrypt<</Filter/Standard",
        ] {
            assert!(marker.holds_ciphertext(trailer), "{trailer:?}");
        }
        for code in [
            &b"/Encrypt\"]"[..],
            b"/Encrypt entry",
            b"/Encrypt 6 0 obj",
            b"/Encrypt 6 R",
            b"/Encrypt",
        ] {
            assert!(!marker.holds_ciphertext(code), "{code:?}");
        }
    }

    #[test]
    fn a_text_marker_needs_base64_in_its_next_lines_before_any_nul() {
        let armored =
            b"-----BEGIN PGP MESSAGE-----\nVersion: x\n\nhQEMA5rNIgnpb7ItAQf/cQ2pzvK7bLd1EM9x\n";
        assert!(base64_run_follows(armored));
        // A program's string constants: the marker, a format string, then (past a NUL) a
        // base64 alphabet.
        let constants = b"-----BEGIN PGP MESSAGE-----\n\0%s: %s\n\0\n-----END PGP MESSAGE-----\n\0\
            ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        assert!(!base64_run_follows(constants));
        let far = [
            &b"-----BEGIN PGP MESSAGE-----"[..],
            &b"\nprose".repeat(12),
            b"\n",
            &[b'A'; 40],
        ]
        .concat();
        assert!(!base64_run_follows(&far));
    }
}
