//! A revoked private key is one secret: given in one form, it is found in every other
//! (PKCS#1, PKCS#8, SEC1, OpenSSH, DER, JWK), and never in unrelated keys, whose BEGIN/END
//! lines and DER headers it shares. Keys are made by openssl and ssh-keygen.

mod common;

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;

/// Skips (outside CI) when a tool the test needs is missing; fails loudly in CI.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is needed by this test; .ci/run installs it"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// The named numbers of `openssl pkey -text` (e.g. `privateExponent`), as bytes.
fn openssl_numbers(dir: &Path, key: &str) -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8(run_tool(
        dir,
        "openssl",
        &["pkey", "-in", key, "-text", "-noout"],
    ))
    .expect("text");
    let mut numbers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            let name = line.split(':').next().unwrap_or_default().to_string();
            numbers.push((name, Vec::new()));
        } else if let Some((_, bytes)) = numbers.last_mut() {
            for pair in line.trim().split(':').filter(|p| !p.is_empty()) {
                if let Ok(byte) = u8::from_str_radix(pair, 16) {
                    bytes.push(byte);
                }
            }
        }
    }
    numbers
}

fn number(numbers: &[(String, Vec<u8>)], name: &str) -> String {
    let bytes = &numbers
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in openssl's output"))
        .1;
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(0);
    URL_SAFE_NO_PAD.encode(&bytes[first..])
}

fn scan_key(key: &Path, tree: &Path) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let output = scour()
        .args(["scan", "--format", "json", "--output"])
        .arg(&report)
        .arg("--secret-file")
        .arg(key)
        .arg(tree)
        .output()
        .unwrap();
    let report_bytes = std::fs::read(&report).unwrap_or_default();
    let report = serde_json::from_slice(&report_bytes).unwrap_or(serde_json::Value::Null);
    assert_valid_report(&report);
    Scan {
        output,
        report,
        report_bytes,
    }
}

fn files_with_findings(scan: &Scan) -> Vec<String> {
    let mut files: Vec<String> = scan
        .places()
        .into_iter()
        .map(|(chain, _)| {
            let outer = chain.split('!').next().unwrap_or_default();
            Path::new(outer)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn a_revoked_rsa_key_is_found_in_every_form_and_not_in_other_keys() {
    if !have("openssl") || !have("ssh-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = d.join("tree");
    std::fs::create_dir(&tree).unwrap();
    run_tool(
        d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "rsa",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "revoked.pem",
        ],
    );
    // The same key as PKCS#1 PEM, DER, OpenSSH and JWK, in the tree.
    run_tool(
        d,
        "openssl",
        &[
            "rsa",
            "-in",
            "revoked.pem",
            "-traditional",
            "-out",
            "tree/pkcs1.pem",
        ],
    );
    run_tool(
        d,
        "openssl",
        &[
            "pkey",
            "-in",
            "revoked.pem",
            "-outform",
            "DER",
            "-out",
            "tree/key.der",
        ],
    );
    std::fs::copy(d.join("revoked.pem"), tree.join("id_rsa")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tree.join("id_rsa"), std::fs::Permissions::from_mode(0o600)).unwrap();
    run_tool(&tree, "ssh-keygen", &["-q", "-p", "-N", "", "-f", "id_rsa"]);
    assert!(std::fs::read_to_string(tree.join("id_rsa"))
        .unwrap()
        .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let numbers = openssl_numbers(d, "revoked.pem");
    let jwk = format!(
        r#"{{"kty":"RSA","n":"{}","e":"AQAB","d":"{}","p":"{}","q":"{}","dp":"{}","dq":"{}","qi":"{}"}}"#,
        number(&numbers, "modulus"),
        number(&numbers, "privateExponent"),
        number(&numbers, "prime1"),
        number(&numbers, "prime2"),
        number(&numbers, "exponent1"),
        number(&numbers, "exponent2"),
        number(&numbers, "coefficient"),
    );
    write(&tree, "keys/key.jwk", &jwk);
    // Unrelated keys: same BEGIN/END lines, same DER headers, other numbers.
    let others = tree.join("others");
    std::fs::create_dir(&others).unwrap();
    run_tool(
        &others,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "rsa",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "other-rsa.pem",
        ],
    );
    run_tool(
        &others,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other-ec.pem",
        ],
    );
    run_tool(
        &others,
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "other-ed.pem"],
    );
    run_tool(
        &others,
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-f", "other_ed25519"],
    );
    run_tool(
        &others,
        "ssh-keygen",
        &["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", "other_rsa"],
    );

    let scan = scan_key(&d.join("revoked.pem"), &tree);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(
        files_with_findings(&scan),
        vec!["id_rsa", "key.der", "key.jwk", "pkcs1.pem"],
        "{:#?}",
        scan.places()
    );
    // One key is one secret in the report, however many of its numbers are searched for.
    assert_eq!(scan.report["secrets"].as_array().unwrap().len(), 1);
    let body: String = std::fs::read_to_string(d.join("revoked.pem"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    scan.assert_no_leak(body.as_bytes());
}

#[test]
fn an_ed25519_key_given_as_pkcs8_is_found_as_jwk_and_der_and_an_ec_key_as_pkcs8() {
    if !have("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = d.join("tree");
    std::fs::create_dir(&tree).unwrap();
    run_tool(
        d,
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"],
    );
    run_tool(
        d,
        "openssl",
        &[
            "pkey",
            "-in",
            "ed.pem",
            "-outform",
            "DER",
            "-out",
            "tree/ed.der",
        ],
    );
    let numbers = openssl_numbers(d, "ed.pem");
    let jwk = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","d":"{}","x":"{}"}}]}}"#,
        number(&numbers, "priv"),
        number(&numbers, "pub")
    );
    write(&tree, "jwks.json", &jwk);
    run_tool(
        &tree,
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "unrelated.pem"],
    );
    let scan = scan_key(&d.join("ed.pem"), &tree);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(files_with_findings(&scan), vec!["ed.der", "jwks.json"]);

    // An EC key given as SEC1 ("EC PRIVATE KEY", after an "EC PARAMETERS" block) is
    // found as PKCS#8.
    let ec_tree = d.join("ec-tree");
    std::fs::create_dir(&ec_tree).unwrap();
    run_tool(
        d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "ec-sec1.pem",
        ],
    );
    run_tool(
        d,
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "ec-sec1.pem",
            "-out",
            "ec-tree/ec.p8",
        ],
    );
    let scan = scan_key(&d.join("ec-sec1.pem"), &ec_tree);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(files_with_findings(&scan), vec!["ec.p8"]);
}

#[test]
fn an_openssh_key_is_found_inside_a_backup_archive_but_not_in_other_keys() {
    if !have("ssh-keygen") || !have("tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("home/.ssh")).unwrap();
    run_tool(
        d,
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            "home/.ssh/id_ed25519",
        ],
    );
    std::fs::create_dir(d.join("tree")).unwrap();
    run_tool(d, "tar", &["-czf", "tree/home-backup.tar.gz", "home"]);
    run_tool(
        d,
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            "tree/unrelated_ed25519",
        ],
    );
    let scan = scan_key(&d.join("home/.ssh/id_ed25519"), &d.join("tree"));
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    assert_eq!(files_with_findings(&scan), vec!["home-backup.tar.gz"]);
}

#[test]
fn encrypted_keys_certificates_and_boilerplate_lines_are_refused() {
    if !have("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_tool(
        d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-128-cbc",
            "-pass",
            "pass:demo-pass",
            "-out",
            "enc.pem",
        ],
    );
    let tree = d.join("tree");
    write(&tree, "a.txt", "nothing");
    let scan = scan_key(&d.join("enc.pem"), &tree);
    assert_eq!(scan.code(), 2);
    let stderr = String::from_utf8_lossy(&scan.output.stderr);
    assert!(stderr.contains("encrypted private key"), "{stderr}");

    write(
        d,
        "lines.txt",
        "a-real-token-1234\n-----BEGIN PRIVATE KEY-----\n",
    );
    let scan = scan_key(&d.join("lines.txt"), &tree);
    assert_eq!(scan.code(), 2);
    let stderr = String::from_utf8_lossy(&scan.output.stderr);
    assert!(
        stderr.contains("boilerplate") || stderr.contains("PEM"),
        "{stderr}"
    );
}
