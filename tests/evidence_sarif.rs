//! SARIF 2.1.0 output, validated against the official schema offline.

mod common;
mod git_support;

use common::{random_token, scan_with_secrets, write};
use serde_json::Value;

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    // The schema's two `language` patterns have a stray `]`; this is what they mean.
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(broken).count(), 2);
    let text = text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn assert_valid(sarif: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");
}

#[test]
fn the_validator_rejects_invalid_sarif() {
    let validator = sarif_validator();
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.1.0"})));
    assert!(!validator.is_valid(&serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]
    })));
}

#[test]
fn findings_become_schema_valid_sarif_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    let other = random_token(30);
    let tree = dir.path().join("repo");
    write(
        &tree,
        "config/app.env",
        [b"A=1\nTOKEN=".as_slice(), &secret, b"\n"].concat(),
    );
    write(
        &tree,
        "docs/my notes.md",
        [b"line\nline\n\nkey: ".as_slice(), &other].concat(),
    );
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    write(&tree, "ci/job.log", format!("x\n{encoded}\n"));
    let scan = scan_with_secrets(&[&secret, &other], &[&tree], &["--format", "sarif"]);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    scan.assert_no_leak(&secret);
    scan.assert_no_leak(&other);
    let sarif: Value = serde_json::from_slice(&scan.report_bytes).unwrap();
    assert_valid(&sarif);

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    // One rule per encoding (raw, base64): a rule id never depends on the secret, so it
    // stays the same across runs and cannot be tested against a guess.
    assert_eq!(rules.len(), 2);
    let mut places: Vec<(String, u64)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
            assert!(location["region"].get("snippet").is_none());
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            (
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                location["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        vec![
            ("ci/job.log".to_string(), 2),
            ("config/app.env".to_string(), 2),
            ("docs/my%20notes.md".to_string(), 4),
        ]
    );
    for rule in rules {
        assert_eq!(rule["properties"]["tags"][0], "security");
        assert!(rule["help"]["text"].is_string());
    }
}

#[test]
fn a_fixed_salt_keeps_rule_ids_and_fingerprints_stable_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    let tree = dir.path().join("repo");
    write(&tree, "a.txt", [b"k=".as_slice(), &secret].concat());
    let salt = "00112233445566778899aabbccddeeff";
    let ids = || {
        let scan = scan_with_secrets(&[&secret], &[&tree], &["--format", "sarif", "--salt", salt]);
        let sarif: Value = serde_json::from_slice(&scan.report_bytes).unwrap();
        let result = &sarif["runs"][0]["results"][0];
        (
            result["ruleId"].clone(),
            result["partialFingerprints"].clone(),
        )
    };
    assert_eq!(ids(), ids());
}

#[test]
fn a_clean_scan_is_valid_sarif_with_no_results_and_gaps_as_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("repo");
    write(&tree, "a.txt", "nothing here");
    let scan = scan_with_secrets(&[&random_token(20)], &[&tree], &["--format", "sarif"]);
    assert_eq!(scan.code(), 0);
    let sarif: Value = serde_json::from_slice(&scan.report_bytes).unwrap();
    assert_valid(&sarif);
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert_eq!(sarif["runs"][0]["properties"]["verdict"], "absent");
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is needed by this test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn a_git_working_tree_names_its_commit_and_remote_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    let tree = dir.path().join("repo");
    write(
        &tree,
        "src/config.py",
        [b"KEY = '".as_slice(), &secret, b"'\n"].concat(),
    );
    git(&tree, &["init", "-q"]);
    git(&tree, &["add", "."]);
    git(&tree, &["commit", "-q", "-m", "add config"]);
    git(
        &tree,
        &[
            "remote",
            "add",
            "origin",
            "https://ci:tok3n-do-not-leak@git.example.com/o/r.git",
        ],
    );
    let head = git(&tree, &["rev-parse", "HEAD"]);
    let scan = scan_with_secrets(&[&secret], &[&tree], &["--format", "sarif"]);
    scan.assert_no_leak(&secret);
    let text = String::from_utf8_lossy(&scan.report_bytes);
    assert!(!text.contains("tok3n"), "remote credentials leaked");
    let sarif: Value = serde_json::from_slice(&scan.report_bytes).unwrap();
    assert_valid(&sarif);
    let provenance = &sarif["runs"][0]["versionControlProvenance"][0];
    assert_eq!(provenance["revisionId"], head.as_str());
    assert_eq!(
        provenance["repositoryUri"],
        "https://git.example.com/o/r.git"
    );
    assert_eq!(provenance["branch"], "main");
    assert!(sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/config.py"
        ));
}

#[test]
fn a_secret_in_git_history_is_located_at_its_path_with_the_commit_in_properties() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    let repository = dir.path().join("repo");
    git_support::repo(&repository);
    let commit = git_support::commit_file(
        &repository,
        "config/prod.env",
        &[b"A=1\nB=2\nTOKEN=".as_slice(), &secret, b"\n"].concat(),
        "add config",
    );
    git_support::git(&repository, &["rm", "-q", "config/prod.env"]);
    git_support::git(&repository, &["commit", "-qm", "remove config"]);
    let blob = git_support::git(
        &repository,
        &["rev-parse", &format!("{commit}:config/prod.env")],
    );
    let salt = [
        "--salt",
        "0123456789abcdef0123456789abcdef",
        "--format",
        "sarif",
    ];

    let scan = scan_with_secrets(&[&secret], &[&repository], &salt);
    assert_eq!(
        scan.code(),
        1,
        "{}",
        String::from_utf8_lossy(&scan.output.stderr)
    );
    scan.assert_no_leak(&secret);
    let sarif: Value = serde_json::from_slice(&scan.report_bytes).unwrap();
    assert_valid(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let in_history: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["gitObject"] == blob.as_str())
        .collect();
    assert_eq!(in_history.len(), 1, "{results:#?}");
    let result = in_history[0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "config/prod.env");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 3);
    assert_eq!(location["region"]["startColumn"], 7);
    let properties = &result["properties"];
    assert_eq!(properties["commit"], commit.as_str());
    assert_eq!(properties["commits"][0]["path"], "config/prod.env");
    assert_eq!(properties["gitObjectKind"], "blob");
    assert_eq!(properties["reachability"], "reachable");
    assert!(properties["refs"]
        .as_array()
        .unwrap()
        .contains(&Value::from("refs/heads/main")));
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains(&commit));

    // The same history scanned again with the same salt: the alert keeps its fingerprint.
    let again = scan_with_secrets(&[&secret], &[&repository], &salt);
    let again: Value = serde_json::from_slice(&again.report_bytes).unwrap();
    let fingerprints = |sarif: &Value| -> Vec<Value> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(fingerprints(&sarif), fingerprints(&again));
}
