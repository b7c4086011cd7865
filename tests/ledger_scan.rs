//! Scans with a revocation ledger only: secrets found by hash, never needed in plaintext.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{random_token, scour, write, Scan, SECRET_ENV};
use serde_json::Value;

/// Builds a ledger of `secrets` through `scour ledger add`.
fn ledger_of(dir: &Path, secrets: &[&[u8]]) -> PathBuf {
    let ledger = dir.join("revoked.jsonl");
    for secret in secrets {
        let output = scour()
            .args(["ledger", "add", "--ledger"])
            .arg(&ledger)
            .args(["--secret-env", SECRET_ENV])
            .env(SECRET_ENV, std::str::from_utf8(secret).unwrap())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    ledger
}

fn ledger_scan(ledger: &Path, paths: &[&Path]) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let output = scour()
        .arg("scan")
        .arg("--ledger")
        .arg(ledger)
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .args(paths)
        .output()
        .unwrap();
    let report_bytes = std::fs::read(&report_path).unwrap_or_default();
    let report = serde_json::from_slice(&report_bytes).unwrap_or(Value::Null);
    common::assert_valid_report(&report);
    Scan {
        output,
        report,
        report_bytes,
    }
}

fn token(prefix: &str, len: usize) -> Vec<u8> {
    [prefix.as_bytes(), &random_token(len)].concat()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn percent_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// For each finding in `file`, its secret id and how it was seen: the outermost decode
/// layer of its chain (`base64` for `file › base64@12 › ...`), or its encoding when it was
/// seen in the file's own bytes.
fn found_in(scan: &Scan, file: &str) -> Vec<(String, String)> {
    scan.findings()
        .iter()
        .filter(|f| {
            f["location"]["chain"][0]
                .as_str()
                .is_some_and(|p| p.ends_with(file))
        })
        .map(|f| {
            assert_eq!(f["mode"], "ledger");
            let how = match f["location"]["chain"][1].as_str() {
                Some(layer) => layer.split('@').next().unwrap().to_string(),
                None => f["encoding"].as_str().unwrap().to_string(),
            };
            (f["secret"].as_str().unwrap().to_string(), how)
        })
        .collect()
}

/// The chain of each finding in `file`, joined by ` › `.
fn chains_in(scan: &Scan, file: &str) -> Vec<String> {
    scan.findings()
        .iter()
        .filter(|f| {
            f["location"]["chain"][0]
                .as_str()
                .is_some_and(|p| p.ends_with(file))
        })
        .map(|f| {
            f["location"]["chain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" › ")
        })
        .collect()
}

#[test]
fn ledger_only_scan_finds_tokens_raw_and_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let github = token("ghp_", 36);
    let slack = [
        b"xoxb-".as_slice(),
        b"12345678901-",
        b"123456789012-",
        &random_token(24),
    ]
    .concat();
    let plain = random_token(40);
    let ledger = ledger_of(dir.path(), &[&github, &slack, &plain]);
    let tree = dir.path().join("tree");
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    for (name, secret) in [("github", &github), ("slack", &slack), ("plain", &plain)] {
        write(
            &tree,
            &format!("{name}/raw.env"),
            format!("TOKEN={}\n", s(secret)),
        );
        write(
            &tree,
            &format!("{name}/b64.yaml"),
            format!("data:\n  token: {}\n", b64(secret)),
        );
        write(
            &tree,
            &format!("{name}/pct.log"),
            format!("GET /hook?t={} 200\n", percent_all(secret)),
        );
        let json = serde_json::json!({ "config": { "token": s(secret), "nested": format!("{{\"t\":\"{}\"}}", s(secret)) } });
        write(&tree, &format!("{name}/doc.json"), json.to_string());
        // Base64 of a JSON document holding the token: two layers.
        write(
            &tree,
            &format!("{name}/k8s.yaml"),
            format!("stringData: {}\n", b64(json.to_string().as_bytes())),
        );
    }
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(scan.verdict(), "found");
    let ids: Vec<String> = std::fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for (index, name) in ["github", "slack", "plain"].iter().enumerate() {
        let id = &ids[index];
        for (file, encoding) in [
            ("raw.env", "raw"),
            ("b64.yaml", "base64"),
            ("pct.log", "percent"),
            ("doc.json", "raw"),
            ("k8s.yaml", "base64"),
        ] {
            let found = found_in(&scan, &format!("{name}/{file}"));
            assert!(
                found.contains(&(id.clone(), encoding.to_string())),
                "{name}/{file}: expected {encoding}, got {found:?}"
            );
        }
    }
    for secret in [&github, &slack, &plain] {
        scan.assert_no_leak(secret);
    }
    let ledger_record = &scan.report["ledger"];
    assert_eq!(ledger_record["entries"], 3);
    assert_eq!(ledger_record["sha256"].as_str().unwrap().len(), 64);
    assert!(!ledger_record["cannot_see"].as_array().unwrap().is_empty());
}

#[test]
fn json_escaped_and_utf16_tokens_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("glpat-", 20);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let tree = dir.path().join("tree");
    let escaped: String = secret.iter().map(|b| format!("\\u{:04x}", b)).collect();
    write(&tree, "escaped.json", format!("{{\"k\":\"{escaped}\"}}"));
    let wide: Vec<u8> = format!("key={}\r\n", String::from_utf8_lossy(&secret))
        .bytes()
        .flat_map(|b| [b, 0])
        .collect();
    write(&tree, "wide.reg", wide);
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found");
    // Decoded by the pipeline's backslash and UTF-16 layers, named in the chain.
    let escaped = chains_in(&scan, "escaped.json");
    assert_eq!(escaped.len(), 1, "{escaped:?}");
    assert!(escaped[0].contains(" › backslash@"), "{escaped:?}");
    let wide = chains_in(&scan, "wide.reg");
    assert_eq!(wide.len(), 1, "{wide:?}");
    assert!(wide[0].contains(" › utf16@"), "{wide:?}");
    scan.assert_no_leak(&secret);
}

#[test]
fn a_password_without_rule_is_found_delimited_or_glued() {
    let dir = tempfile::tempdir().unwrap();
    let password = [random_token(10), b"&!x".to_vec(), random_token(5)].concat();
    let ledger = ledger_of(dir.path(), &[&password]);
    let entry: Value = serde_json::from_str(
        std::fs::read_to_string(&ledger)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap(),
    )
    .unwrap();
    assert!(
        entry.get("rule").is_none(),
        "no rule should recognise a password"
    );
    let p = String::from_utf8(password.clone()).unwrap();
    let tree = dir.path().join("tree");
    write(&tree, "app.ini", format!("[db]\npassword = {p}\nhost=x\n"));
    write(&tree, "url.txt", format!("mysql://app:{p}@db:3306/x\n"));
    write(&tree, "glued.txt", format!("prefix{p}suffix\n"));
    let scan = ledger_scan(&ledger, &[&tree]);
    let places: Vec<String> = scan.places().into_iter().map(|(p, _)| p).collect();
    assert!(places.iter().any(|p| p.ends_with("app.ini")), "{places:?}");
    assert!(places.iter().any(|p| p.ends_with("url.txt")), "{places:?}");
    // Glued to a few bytes of its own class: every window of the entry's length is a
    // candidate within the glue limit the report states.
    assert!(
        places.iter().any(|p| p.ends_with("glued.txt")),
        "{places:?}"
    );
    let limits = scan.report["ledger"]["cannot_see"].to_string();
    assert!(limits.contains("delimited"), "{limits}");
    scan.assert_no_leak(&password);
}

/// A key no rule recognises, glued to far more than a few bytes of its own class: after
/// 40 letters, after a colour code and a long alphanumeric run, and in the middle of a long
/// run. Every window of the entry's length is tested (the entry's sieve narrows the windows
/// hashed with SHA-256), and a file of long clean runs stays cheap.
#[test]
fn a_key_glued_to_a_long_run_of_its_class_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let key = random_token(28);
    let ledger = ledger_of(dir.path(), &[&key]);
    let entry: Value = serde_json::from_str(
        std::fs::read_to_string(&ledger)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap(),
    )
    .unwrap();
    assert!(entry.get("rule").is_none());
    assert_eq!(entry["sieve"].as_str().map(str::len), Some(6), "{entry}");
    let k = String::from_utf8(key.clone()).unwrap();
    let tree = dir.path().join("tree");
    let glue = "x".repeat(40);
    let run = String::from_utf8(random_token(300)).unwrap();
    write(&tree, "letters.txt", format!("{glue}{k}\n"));
    write(
        &tree,
        "colour.log",
        format!("key: \x1b[1;31mPREFIX{run}{k}TAIL\x1b[0m\n"),
    );
    write(&tree, "middle.txt", format!("blob {run}{k}{run} end\n"));
    // A long clean file of long runs: the window test costs little.
    let clean: String = (0..20_000)
        .map(|_| format!("{}\n", String::from_utf8(random_token(200)).unwrap()))
        .collect();
    write(&tree, "clean.txt", &clean);
    for file in ["letters.txt", "colour.log", "middle.txt"] {
        let bytes = std::fs::read(tree.join(file)).unwrap();
        assert!(memchr::memmem::find(&bytes, &key).is_some());
    }
    let started = std::time::Instant::now();
    let scan = ledger_scan(&ledger, &[&tree]);
    let took = started.elapsed();
    let places: Vec<String> = scan.places().into_iter().map(|(p, _)| p).collect();
    for file in ["letters.txt", "colour.log", "middle.txt"] {
        assert!(
            places.iter().any(|p| p.ends_with(file)),
            "{file}: {places:?}"
        );
    }
    assert!(
        !places.iter().any(|p| p.ends_with("clean.txt")),
        "{places:?}"
    );
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
    scan.assert_no_leak(&key);
}

#[test]
fn absent_with_a_ledger_lists_it_and_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_of(dir.path(), &[&token("npm_", 36)]);
    let tree = dir.path().join("tree");
    write(
        &tree,
        "a.txt",
        format!("npm_{}\n", String::from_utf8(random_token(36)).unwrap()),
    );
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "absent");
    assert_eq!(scan.code(), 0);
    assert_eq!(scan.report["ledger"]["entries"], 1);
}

#[test]
fn a_ledger_of_100k_random_entries_works() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let salt = [0x5a_u8; 16];
    let mut text = format!(
        "{{\"scour_ledger\":1,\"hash\":\"sha256(salt || secret)\",\"salt\":\"{}\"}}\n",
        hex::encode(salt)
    );
    let needle = random_token(32);
    let mut add = |id: String, secret: &[u8]| {
        let hash = hex::encode(
            Sha256::new()
                .chain_update(salt)
                .chain_update(secret)
                .finalize(),
        );
        text.push_str(&format!(
            "{{\"id\":\"{id}\",\"date\":\"2026-11-30\",\"sha256\":\"{hash}\",\"length\":{},\"class\":\"alnum\"}}\n",
            secret.len()
        ));
    };
    for n in 0..100_000 {
        add(format!("R{n}"), &random_token(32));
    }
    add("NEEDLE".into(), &needle);
    let ledger = dir.path().join("big.jsonl");
    std::fs::write(&ledger, text).unwrap();
    let tree = dir.path().join("tree");
    write(
        &tree,
        "x.env",
        format!("A={}\n", String::from_utf8(needle.clone()).unwrap()),
    );
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found");
    let secrets: Vec<&str> = scan
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, ["NEEDLE"]);
    assert_eq!(scan.report["ledger"]["entries"], 100_001);
}

#[test]
fn a_wrong_ledger_is_an_error_never_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    write(&tree, "a.txt", "nothing here\n");
    let good = ledger_of(dir.path(), &[&random_token(30)]);
    let good_text = std::fs::read_to_string(&good).unwrap();
    let cases = [
        (
            "malformed.jsonl",
            format!("{good_text}{{\"id\": \"broken\"\n"),
            "line 3",
        ),
        (
            "v9.jsonl",
            good_text.replacen("\"scour_ledger\":1", "\"scour_ledger\":9", 1),
            "format version 9",
        ),
        (
            "headless.jsonl",
            good_text.lines().skip(1).collect::<Vec<_>>().join("\n"),
            "not a scour ledger",
        ),
    ];
    for (name, text, message) in cases {
        let path = write(dir.path(), name, text);
        let scan = ledger_scan(&path, &[&tree]);
        assert_eq!(scan.code(), 2, "{name}");
        assert!(
            scan.report_bytes.is_empty(),
            "{name}: no report may be written"
        );
        let stderr = String::from_utf8_lossy(&scan.output.stderr);
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
    let missing = ledger_scan(&dir.path().join("nope.jsonl"), &[&tree]);
    assert_eq!(missing.code(), 2);
}

#[test]
fn ledger_and_plaintext_secrets_combine() {
    let dir = tempfile::tempdir().unwrap();
    let by_hash = token("dckr_pat_", 27);
    let by_plain = random_token(24);
    let ledger = ledger_of(dir.path(), &[&by_hash]);
    let tree = dir.path().join("tree");
    write(
        &tree,
        "both.txt",
        format!(
            "a={}\nb={}\n",
            String::from_utf8(by_hash.clone()).unwrap(),
            String::from_utf8(by_plain.clone()).unwrap()
        ),
    );
    let scan = common::scan_with_secrets(
        &[&by_plain],
        &[&tree],
        &["--ledger", ledger.to_str().unwrap()],
    );
    assert_eq!(scan.verdict(), "found");
    let mut modes: Vec<String> = scan
        .findings()
        .iter()
        .map(|f| f["mode"].as_str().unwrap().to_string())
        .collect();
    modes.sort();
    assert_eq!(modes, ["ledger", "plaintext"]);
    scan.assert_no_leak(&by_hash);
    scan.assert_no_leak(&by_plain);
}

/// A base64 blob far longer than a read window is decoded as it streams (the pipeline's
/// decode layers, not a window-bound decoder): an entry near its end is found, and the
/// blob's length alone is no gap.
#[test]
fn an_entry_deep_inside_a_long_base64_run_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("npm_", 36);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let tree = dir.path().join("tree");
    let mut blob: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    blob.extend_from_slice(b"\nNPM_TOKEN=");
    blob.extend_from_slice(&secret);
    blob.extend_from_slice(b"\n");
    write(&tree, "image.b64", b64(&blob));
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    let chains = chains_in(&scan, "image.b64");
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(chains[0].contains(" › base64@0"), "{chains:?}");
    scan.assert_no_leak(&secret);
}

/// Hash mode reads encoded content through the content pipeline's decode layers, so a chain
/// the old hash-mode decoders could not follow (base64 of gzip of JSON) is found, and the
/// finding names its decode path.
#[test]
fn an_entry_in_base64_of_gzip_of_json_is_found() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let secret = token("ghp_", 36);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let json = serde_json::json!({
        "auths": { "registry.example": { "token": String::from_utf8(secret.clone()).unwrap() } },
        "note": "x".repeat(200),
    })
    .to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    let tree = dir.path().join("tree");
    write(
        &tree,
        "release.yaml",
        format!("kind: Secret\ndata:\n  release: {}\n", b64(&gzipped)),
    );
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    // The gzip stream is decompressed in place (as in plaintext mode, it is no chain
    // element of its own): only decompressed does the run hold the entry.
    assert!(memchr::memmem::find(&gzipped, &secret).is_none());
    let chains = chains_in(&scan, "release.yaml");
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(
        chains[0].ends_with("release.yaml › base64@30"),
        "{chains:?}"
    );
    let finding = &scan.findings()[0];
    assert_eq!(finding["mode"], "ledger");
    scan.assert_no_leak(&secret);
}

/// Base64 wrapped at 76 columns and indented in a YAML block scalar: the pipeline's base64
/// layer joins the lines; an entry whose base64 crosses a line break is found.
#[test]
fn an_entry_in_base64_wrapped_at_76_in_a_yaml_block_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("glpat-", 20);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let mut env = b"# generated\n".repeat(4);
    env.extend_from_slice(b"DEPLOY_TOKEN=");
    env.extend_from_slice(&secret);
    env.extend_from_slice(b"\nREGION=eu-west-1\n");
    let encoded = b64(&env);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert!(lines.len() >= 2);
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  app.env: |\n    {}\n  other: value\n",
        lines.join("\n    ")
    );
    let tree = dir.path().join("tree");
    write(&tree, "config.yaml", &yaml);
    assert!(memchr::memmem::find(yaml.as_bytes(), &secret).is_none());
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    let chains = chains_in(&scan, "config.yaml");
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(chains[0].contains(" › base64@"), "{chains:?}");
    scan.assert_no_leak(&secret);
}

/// Quoted-printable (a mail body): the secret is cut by a soft line break, so it is whole
/// only once the pipeline's quoted-printable layer has joined the lines.
#[test]
fn an_entry_in_quoted_printable_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("xoxp-", 30);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let s = String::from_utf8(secret.clone()).unwrap();
    // Quoted-printable pieces (an `=XX` escape is one piece, never cut by a soft break);
    // 60 characters before `token=`, so the 76-column soft break falls inside the secret.
    let prefix = "Hello team, the staging credentials were pasted below by mis";
    assert_eq!(prefix.len(), 60);
    let mut pieces: Vec<String> = prefix.chars().map(String::from).collect();
    pieces.extend("token".chars().map(String::from));
    pieces.push("=3D".into());
    pieces.extend(s.chars().map(String::from));
    pieces.extend(["=20", "=E2", "=80", "=94"].map(String::from));
    pieces.extend(
        " rotate it before Friday, thanks."
            .chars()
            .map(String::from),
    );
    let mut qp = String::new();
    let mut line = String::new();
    for piece in pieces {
        if line.len() + piece.len() > 75 {
            qp.push_str(&line);
            qp.push_str("=\n");
            line.clear();
        }
        line.push_str(&piece);
    }
    qp.push_str(&line);
    qp.push('\n');
    let mail = format!(
        "From: ops@example.com\nSubject: creds\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: quoted-printable\n\n{qp}"
    );
    assert!(
        memchr::memmem::find(mail.as_bytes(), &secret).is_none(),
        "{mail}"
    );
    let tree = dir.path().join("tree");
    write(&tree, "message.eml", &mail);
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found", "{:?}", scan.gaps());
    let chains = chains_in(&scan, "message.eml");
    assert_eq!(chains.len(), 1, "{chains:?}");
    assert!(chains[0].contains(" › quoted-printable@"), "{chains:?}");
    scan.assert_no_leak(&secret);
}

/// Plain base64 of an entry is one finding (the base64 layer, no forward variant to
/// duplicate it), and an entry both raw in a JSON string and inside the escaped string the
/// backslash layer decodes is one finding too: the leaf's hit shadows the decoded run's.
#[test]
fn an_entry_seen_raw_and_decoded_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("ghp_", 36);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let s = String::from_utf8(secret.clone()).unwrap();
    let tree = dir.path().join("tree");
    write(&tree, "plain.yaml", format!("token: {}\n", b64(&secret)));
    write(
        &tree,
        "nested.json",
        format!("{{\"config\": \"{{\\\"token\\\": \\\"{s}\\\"}}\"}}\n"),
    );
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found");
    let plain = chains_in(&scan, "plain.yaml");
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(plain[0].ends_with(" › base64@7"), "{plain:?}");
    let nested = chains_in(&scan, "nested.json");
    assert_eq!(nested, [nested[0].clone()], "{nested:?}");
    assert!(!nested[0].contains('›'), "{nested:?}");
    for finding in scan.findings() {
        assert_eq!(finding["more"].as_u64().unwrap_or(0), 0, "{finding}");
    }
    scan.assert_no_leak(&secret);
}

/// A file named after the base64 of an entry: names are decoded by the same layers (they
/// are not files, so the finding says its layer in `encoding`), and the name is redacted.
#[test]
fn an_entry_in_a_base64_file_name_is_found_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("ghp_", 36);
    let ledger = ledger_of(dir.path(), &[&secret]);
    let name = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&secret);
    let tree = dir.path().join("tree");
    write(&tree, &format!("{name}.txt"), "clean\n");
    let scan = ledger_scan(&ledger, &[&tree]);
    assert_eq!(scan.verdict(), "found");
    let named: Vec<&Value> = scan
        .findings()
        .iter()
        .filter(|f| f["location"]["in"] == "name")
        .collect();
    assert_eq!(named.len(), 1, "{:?}", scan.findings());
    assert_eq!(named[0]["encoding"], "base64");
    assert!(!String::from_utf8_lossy(&scan.report_bytes).contains(&name));
    scan.assert_no_leak(&secret);
}
