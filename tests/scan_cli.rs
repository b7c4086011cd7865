//! The command line contract: where secrets may come from, exit codes, output formats, and
//! that no piece of a secret reaches anything scour prints or writes.

mod common;

use common::{random_token, scour, write, SECRET_ENV};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn secret_env_on_a_single_file_finds_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let secret = String::from_utf8(random_token(28)).unwrap();
    let file = write(dir.path(), "app.env", format!("KEY={secret}\n"));
    let output = scour()
        .env(SECRET_ENV, &secret)
        .args(["scan", "--secret-env", SECRET_ENV, "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    common::assert_valid_report(&report);
    assert_eq!(report["verdict"], "found");
    assert_eq!(report["coverage"]["roots"][0]["kind"], "file");
    assert_eq!(report["findings"][0]["location"]["line"], 1);
    assert_eq!(report["findings"][0]["location"]["column"], 5);
    common::assert_no_window(&output.stdout, secret.as_bytes(), "stdout");
}

#[test]
fn clean_tree_is_absent_with_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "nothing to see\n");
    let secret = String::from_utf8(random_token(28)).unwrap();
    let output = scour()
        .env(SECRET_ENV, &secret)
        .args(["scan", "--secret-env", SECRET_ENV, "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    common::assert_valid_report(&report);
    assert_eq!(report["verdict"], "absent");
    assert_eq!(report["summary"]["gaps"], 0);
    assert_eq!(report["summary"]["files_scanned"], 1);
    let fingerprint = report["secrets"][0]["fingerprint"].as_str().unwrap();
    let salt = hex::decode(report["fingerprints"]["salt"].as_str().unwrap()).unwrap();
    // Whoever holds the secret can recompute the fingerprint from the stored salt.
    use sha2::Digest;
    let recomputed = hex::encode(sha2::Sha256::digest(
        [&salt[..], secret.as_bytes()].concat(),
    ));
    assert_eq!(fingerprint, recomputed);
}

#[test]
fn usage_errors_exit_two_without_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "x\n");
    // (arguments, environment variable to set, what the error must say)
    type Case<'a> = (Vec<&'a str>, Option<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["scan"], None, "no secret given"),
        (
            vec!["scan", "--secret-env", "SCOUR_SURELY_UNSET_VARIABLE"],
            None,
            "is not set",
        ),
        (
            vec!["scan", "--secret-env", SECRET_ENV],
            Some((SECRET_ENV, "short")),
            "at least 8",
        ),
        (
            vec!["scan", "--secret-env", SECRET_ENV],
            Some((SECRET_ENV, "          ")),
            "empty or only whitespace",
        ),
    ];
    for (args, env, message) in cases {
        let mut command = scour();
        command.env_remove("SCOUR_SURELY_UNSET_VARIABLE");
        if let Some((name, value)) = env {
            command.env(name, value);
        }
        let output = command.args(&args).arg(dir.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?} printed a report");
        assert!(
            text(&output.stderr).contains(message),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    // A secret on the command line is not even an option.
    let output = scour()
        .args(["scan", "--secret", "hunter2hunter2"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    // A path that does not exist is an error, never "absent".
    let output = scour()
        .env(SECRET_ENV, "long-enough-secret")
        .args(["scan", "--secret-env", SECRET_ENV])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn secrets_from_stdin_and_empty_secret_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    write(dir.path(), "x.txt", [b"a ", &secret[..], b" b"].concat());
    let output = scour()
        .args(["scan", "--secret-file", "-", "--format", "json"])
        .arg(dir.path())
        .write_stdin([&secret[..], b"\n"].concat())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));

    let empty = write(dir.path(), "empty-secrets", "\n\n");
    let output = scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(&empty)
        .arg(dir.path().join("x.txt"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn text_report_and_output_file_never_carry_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let secret = [b"pw with space/+=&%\"".as_slice(), &random_token(12)].concat();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &secret);
    write(&tree, "raw.txt", [b"p=", &secret[..]].concat());
    write(&tree, "b64.txt", encoded);
    let secret_file = write(dir.path(), "secret", [&secret[..], b"\n"].concat());

    let text_output = scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--format", "text"])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(text_output.status.code(), Some(1));
    let shown = text(&text_output.stdout);
    assert!(shown.contains("FOUND"), "{shown}");
    assert!(
        shown.contains("raw.txt") && shown.contains("b64.txt"),
        "{shown}"
    );
    common::assert_no_window(&text_output.stdout, &secret, "text stdout");
    common::assert_no_window(&text_output.stderr, &secret, "text stderr");

    let report_path = dir.path().join("out/report.json");
    std::fs::create_dir_all(report_path.parent().unwrap()).unwrap();
    let output = scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .arg("--output")
        .arg(&report_path)
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let written = std::fs::read(&report_path).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&written).unwrap();
    common::assert_valid_report(&report);
    assert_eq!(report["summary"]["findings"], 2);
    common::assert_no_window(&written, &secret, "report file");
    common::assert_no_window(&output.stderr, &secret, "stderr");
    // Only the report is left behind: no temporary file beside it.
    let leftovers: Vec<_> = std::fs::read_dir(report_path.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 1);
}
