//! Every encoding and alignment of two fresh random secrets — a token, and a password with
//! `/ + = & % "` and a space — planted one per file and written by independent encoders
//! (the base64, hex, percent-encoding and serde_json crates), plus near misses that must not
//! match. Each plant must give exactly one finding with the right encoding; near misses none.

mod common;

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use common::{random_token, scan_with_secrets, write};

/// Python's `urllib.parse.quote(s, safe='')`: everything but RFC 3986 unreserved.
const PYTHON_QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn password() -> Vec<u8> {
    let mut password = random_token(6);
    password.extend_from_slice(b"/+=&%\" ");
    password.extend(random_token(6));
    password
}

fn utf16(secret: &[u8], big_endian: bool, bom: bool) -> Vec<u8> {
    let text = std::str::from_utf8(secret).unwrap();
    let mut out = Vec::new();
    let units = bom
        .then_some(0xFEFFu16)
        .into_iter()
        .chain(text.encode_utf16());
    for unit in units {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn wrap(encoded: &str, width: usize, newline: &str) -> String {
    encoded
        .as_bytes()
        .chunks(width)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join(newline)
}

/// (file name, content, expected encodings separated by `|`) for every form of `secret`.
fn plants(secret: &[u8]) -> Vec<(String, Vec<u8>, &'static str)> {
    let text = std::str::from_utf8(secret).unwrap();
    let mut plants: Vec<(String, Vec<u8>, &'static str)> = vec![
        ("raw.env".into(), [b"KEY=", secret, b"\n"].concat(), "raw"),
        (
            "hex-lower.txt".into(),
            hex::encode(secret).into_bytes(),
            "hex",
        ),
        (
            "hex-upper.txt".into(),
            hex::encode_upper(secret).into_bytes(),
            "hex",
        ),
        (
            "percent-20.url".into(),
            format!(
                "https://h/?p={}&x=1",
                utf8_percent_encode(text, PYTHON_QUOTE)
            )
            .into_bytes(),
            "percent",
        ),
        (
            "percent-plus.form".into(),
            format!(
                "user=a&password={}",
                utf8_percent_encode(text, PYTHON_QUOTE)
                    .to_string()
                    .replace("%20", "+")
            )
            .into_bytes(),
            "percent",
        ),
        (
            "percent-nonalnum.txt".into(),
            utf8_percent_encode(text, NON_ALPHANUMERIC)
                .to_string()
                .into_bytes(),
            "percent",
        ),
        (
            "config.json".into(),
            serde_json::to_vec(&serde_json::json!({ "password": text })).unwrap(),
            "json",
        ),
        (
            "slash.json".into(),
            serde_json::to_string(text)
                .unwrap()
                .replace('/', "\\/")
                .into_bytes(),
            "json",
        ),
        (
            "unicode.json".into(),
            text.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_string()
                    } else {
                        format!("\\u{:04x}", c as u32)
                    }
                })
                .collect::<String>()
                .into_bytes(),
            "json",
        ),
        ("utf16le.txt".into(), utf16(secret, false, true), "utf16le"),
        ("utf16be.txt".into(), utf16(secret, true, false), "utf16be"),
    ];
    // Base64 at every alignment: the secret after 0..=5 bytes of prefix, with a suffix.
    for prefix in ["", "u", "us", "use", "user", "user:"] {
        let plain = [prefix.as_bytes(), secret, b"\n"].concat();
        plants.push((
            format!("b64-std-{}.txt", prefix.len()),
            STANDARD.encode(&plain).into_bytes(),
            "base64",
        ));
        plants.push((
            format!("b64-url-{}.txt", prefix.len()),
            URL_SAFE_NO_PAD.encode(&plain).into_bytes(),
            "base64url|base64",
        ));
        plants.push((
            format!("b64-url-padded-{}.txt", prefix.len()),
            URL_SAFE
                .encode([prefix.as_bytes(), secret].concat())
                .into_bytes(),
            "base64url|base64",
        ));
    }
    // A docker config.json "auth" field: base64("user:" + secret).
    let auth = STANDARD.encode([b"deploy:", secret].concat());
    plants.push((
        "docker-config.json".into(),
        format!("{{\"auths\":{{\"r.io\":{{\"auth\":\"{auth}\"}}}}}}").into_bytes(),
        "base64",
    ));
    // Wrapped base64 inside a larger document, at many offsets so line breaks fall inside.
    for (width, newline) in [(64, "\n"), (76, "\r\n"), (64, "\r\n"), (76, "\n")] {
        for prefix_len in [10usize, 31, 44, 45, 46, 47] {
            let plain = [&vec![b'#'; prefix_len][..], secret, &[0xA5; 64][..]].concat();
            let body = wrap(&STANDARD.encode(&plain), width, newline);
            plants.push((
                format!("wrapped-{width}-{}-{prefix_len}.pem", newline.len()),
                format!("-----BEGIN BLOB-----{newline}{body}{newline}-----END BLOB-----{newline}")
                    .into_bytes(),
                "base64-wrapped|base64",
            ));
        }
    }
    plants
}

fn near_misses(secret: &[u8]) -> Vec<Vec<u8>> {
    let truncated = secret[..secret.len() - 1].to_vec();
    let mut changed_last = secret.to_vec();
    *changed_last.last_mut().unwrap() ^= 0x01;
    let mut changed_middle = secret.to_vec();
    changed_middle[secret.len() / 2] ^= 0x02;
    let mut changed_first = secret.to_vec();
    changed_first[0] ^= 0x01;
    vec![truncated, changed_last, changed_middle, changed_first]
}

fn plant_all(dir: &Path, label: &str, secret: &[u8]) -> Vec<(String, &'static str)> {
    let mut expected = Vec::new();
    for (name, content, encoding) in plants(secret) {
        // An encoder that leaves this secret unchanged wrote it raw (a token of letters and
        // digits is its own percent- and JSON-encoding).
        let encoding = if memchr::memmem::find(&content, secret).is_some() {
            "raw"
        } else {
            encoding
        };
        let path = write(dir, &format!("{label}/{name}"), content);
        expected.push((path.to_string_lossy().into_owned(), encoding));
    }
    for (i, near) in near_misses(secret).iter().enumerate() {
        write(
            dir,
            &format!("near/{label}-{i}.raw"),
            [b"v=", &near[..], b"\n"].concat(),
        );
        write(dir, &format!("near/{label}-{i}.hex"), hex::encode(near));
        for prefix in ["", "a", "ab"] {
            let content = STANDARD.encode([prefix.as_bytes(), &near[..]].concat());
            write(
                dir,
                &format!("near/{label}-{i}-{}.b64", prefix.len()),
                content,
            );
        }
        let json = serde_json::to_vec(&String::from_utf8_lossy(near)).unwrap();
        write(dir, &format!("near/{label}-{i}.json"), json);
    }
    expected
}

#[test]
fn every_encoding_and_alignment_is_found_and_near_misses_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let token = random_token(40);
    let password = password();
    let mut expected = plant_all(dir.path(), "token", &token);
    expected.extend(plant_all(dir.path(), "password", &password));

    let scan = scan_with_secrets(&[&token, &password], &[dir.path()], &[]);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(scan.verdict(), "found");

    let findings = scan.findings();
    for (path, encoding) in &expected {
        let here: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["location"]["chain"][0].as_str() == Some(path.as_str()))
            .collect();
        assert_eq!(
            here.len(),
            1,
            "{path}: expected one {encoding} finding, got {here:?}"
        );
        // "a|b": either name is right (a URL-safe encoding without '-' or '_' is also
        // standard base64; a wrapped one whose break misses the secret is plain base64).
        let found = here[0]["encoding"].as_str().unwrap_or_default();
        assert!(
            encoding.split('|').any(|e| e == found),
            "{path}: {found} is not {encoding}"
        );
    }
    let stray: Vec<_> = findings
        .iter()
        .filter(|f| {
            let path = f["location"]["chain"][0].as_str().unwrap_or_default();
            !expected.iter().any(|(p, _)| p == path)
        })
        .collect();
    assert!(
        stray.is_empty(),
        "near misses or other files matched: {stray:?}"
    );
    assert_eq!(findings.len(), expected.len());

    // Both secrets are named, by different fingerprint ids.
    let ids: std::collections::HashSet<&str> = findings
        .iter()
        .filter_map(|f| f["secret"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    scan.assert_no_leak(&token);
    scan.assert_no_leak(&password);
}

#[test]
fn findings_give_line_column_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let token = random_token(32);
    let content = [b"first line\nsecond ", &token[..], b" line\n"].concat();
    write(dir.path(), "f.txt", content);
    let scan = common::scan(&token, &[dir.path()]);
    let location = &scan.findings()[0]["location"];
    assert_eq!(location["line"], 2);
    assert_eq!(location["column"], 8);
    assert_eq!(location["offset"], 18);
}

/// A dataset moved off a mainframe in binary mode is EBCDIC: made here with iconv in two
/// code pages, each found as `ebcdic` (the secret is not in the files raw).
#[test]
fn ebcdic_datasets_from_iconv_are_found() {
    if !common::have_tool("iconv") {
        return;
    }
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let jcl = format!(
        "//DBLOAD   JOB (ACCT),'NIGHTLY LOAD',CLASS=A\n//STEP1    EXEC PGM=DSNTIAD\n//SYSIN    DD *\n  CONNECT TO DB2P USER LOADER USING {};\n/*\n",
        String::from_utf8_lossy(&secret)
    );
    let plain = write(dir.path(), "plain.jcl", &jcl);
    for code_page in ["IBM037", "IBM1047"] {
        let output = std::process::Command::new("iconv")
            .args(["-f", "ASCII", "-t", code_page])
            .arg(&plain)
            .output()
            .expect("iconv");
        assert!(output.status.success());
        assert!(memchr::memmem::find(&output.stdout, &secret).is_none());
        let path = write(
            dir.path(),
            &format!("ebcdic/{code_page}.dat"),
            &output.stdout,
        );
        let scan = scan_with_secrets(&[&secret], &[&path], &[]);
        assert_eq!(scan.verdict(), "found", "{code_page}: {}", scan.report);
        assert_eq!(scan.encodings(), ["ebcdic"], "{code_page}");
    }
}
