//! Decode layers on samples made by the real tools: base64 at any wrap width, chains
//! (gzip | base64 | base64, UTF-16LE | base64), hex dumps (xxd, hexdump -C, od), and a
//! docker json-file log split at 16 KiB. Each sample is checked not to hold the secret raw.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{random_token, scan, write};

/// Runs `shell` with `input` on stdin; `None` (the test is skipped, saying why) if a tool is
/// missing outside CI. In CI a missing tool fails the test.
fn pipe(shell: &str, input: &[u8], tools: &[&str]) -> Option<Vec<u8>> {
    for tool in tools {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "{tool} is needed (see .ci/run)"
            );
            eprintln!("skipped: {tool} is not installed");
            return None;
        }
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(shell)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("input written");
    let output = child.wait_with_output().expect("tool ran");
    assert!(output.status.success(), "{shell} failed");
    Some(output.stdout)
}

fn config(secret: &[u8]) -> Vec<u8> {
    let mut text = b"# service configuration\n".repeat(8);
    text.extend_from_slice(b"api_token = ");
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nregion = eu-west-1\n");
    text
}

fn assert_found_only_decoded(secret: &[u8], name: &str, sample: &[u8], element: &str) {
    assert!(
        memchr::memmem::find(sample, secret).is_none(),
        "{name} holds the secret raw"
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), name, sample);
    let result = scan(secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found", "{name}");
    let places = result.places();
    assert_eq!(places.len(), 1, "{name}: {places:?}");
    assert!(
        places[0].0.contains(&format!("!{element}@")),
        "{name}: {places:?}"
    );
    result.assert_no_leak(secret);
}

#[test]
fn base64_wrapped_at_60_and_72_is_found() {
    let secret = random_token(32);
    for width in [60, 72] {
        let Some(encoded) = pipe(&format!("base64 -w {width}"), &config(&secret), &["base64"])
        else {
            return;
        };
        let mut yaml = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  app.conf: |\n".to_vec();
        for line in encoded.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            yaml.extend_from_slice(b"    ");
            yaml.extend_from_slice(line);
            yaml.push(b'\n');
        }
        assert_found_only_decoded(&secret, &format!("cm-{width}.yaml"), &yaml, "base64");
    }
}

#[test]
fn helm_style_gzip_base64_base64_chain_is_found() {
    let secret = random_token(32);
    let mut release = b"{\"name\":\"web\",\"chart\":{\"values\":{\"password\":\"".to_vec();
    release.extend_from_slice(&secret);
    release.extend_from_slice(b"\"}}}");
    let Some(encoded) = pipe(
        "gzip -c | base64 -w 0 | base64 -w 0",
        &release,
        &["gzip", "base64"],
    ) else {
        return;
    };
    let mut manifest =
        b"apiVersion: v1\nkind: Secret\ntype: helm.sh/release.v1\ndata:\n  release: ".to_vec();
    manifest.extend_from_slice(&encoded);
    manifest.push(b'\n');
    assert_found_only_decoded(
        &secret,
        "sh.helm.release.v1.web.v1.yaml",
        &manifest,
        "base64",
    );
}

#[test]
fn powershell_encoded_command_utf16le_base64_is_found() {
    let secret = random_token(28);
    let mut script = b"$env:DEPLOY_TOKEN = '".to_vec();
    script.extend_from_slice(&secret);
    script.extend_from_slice(b"'; Invoke-WebRequest https://deploy.example");
    let Some(encoded) = pipe(
        "iconv -f UTF-8 -t UTF-16LE | base64 -w 0",
        &script,
        &["iconv", "base64"],
    ) else {
        return;
    };
    let mut command = b"powershell.exe -NoProfile -EncodedCommand ".to_vec();
    command.extend_from_slice(&encoded);
    command.push(b'\n');
    assert_found_only_decoded(&secret, "run.cmd", &command, "base64");
}

#[test]
fn hex_dumps_by_xxd_hexdump_and_od_are_found() {
    let secret = random_token(30);
    let payload = config(&secret);
    for (name, shell, tool) in [
        ("dump.xxd", "xxd", "xxd"),
        ("dump.hexdump", "hexdump -C", "hexdump"),
        ("dump.od", "od -A x -t x1z -v", "od"),
    ] {
        let Some(dump) = pipe(shell, &payload, &[tool]) else {
            return;
        };
        assert_found_only_decoded(&secret, name, &dump, "hexdump");
    }
}

#[test]
fn docker_json_file_log_split_at_16k_is_found() {
    let secret = random_token(36);
    // A 20 KiB line with the secret across docker's 16 KiB cut, as the json-file driver
    // writes it: JSON-escaped, the first entry without its trailing newline.
    let mut line = "x".repeat(16 * 1024 - 12).into_bytes();
    line.extend_from_slice(&secret);
    line.extend_from_slice(&b"y".repeat(4000));
    let mut log = Vec::new();
    let pieces = line.chunks(16 * 1024).collect::<Vec<_>>();
    for (i, piece) in pieces.iter().enumerate() {
        let mut text = String::from_utf8_lossy(piece).into_owned();
        if i + 1 == pieces.len() {
            text.push('\n');
        }
        let entry = serde_json::json!({
            "log": text,
            "stream": "stdout",
            "time": format!("2025-03-01T10:00:00.{i:09}Z"),
        });
        log.extend_from_slice(entry.to_string().as_bytes());
        log.push(b'\n');
    }
    assert_found_only_decoded(&secret, "abc123-json.log", &log, "container-log");
}
