//! What a new user meets first: the README's quick start is true, `scour generate` makes
//! completions, man pages and the report schema, colour follows the conventions, a
//! `.scour.toml` sets defaults, errors say their cause once, `-o -` is standard output,
//! and SARIF ids are stable across runs with repository-relative URIs.

mod common;
mod git_support;

use std::path::Path;

use common::*;
use serde_json::Value;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn readme() -> String {
    std::fs::read_to_string(Path::new(MANIFEST_DIR).join("README.md")).expect("README.md")
}

/// The quick start's command (after `cargo run --release --`), and the exit code and
/// finding count the text after it promises.
fn quick_start() -> (Vec<String>, i32, usize) {
    let text = readme();
    let section = &text[text.find("## Quick start").expect("a Quick start section")..];
    let command = section
        .lines()
        .find_map(|l| l.trim().strip_prefix("cargo run --release -- "))
        .expect("a `cargo run --release -- ...` line");
    let args = command.split_whitespace().map(String::from).collect();
    let promise = section
        .lines()
        .find(|l| l.starts_with("It exits "))
        .expect("an `It exits N ... lists M findings` sentence");
    let words: Vec<&str> = promise.split_whitespace().collect();
    let after = |word: &str| -> String {
        let at = words.iter().position(|w| *w == word).expect(word);
        words[at + 1]
            .trim_matches(|c: char| !c.is_ascii_digit())
            .to_string()
    };
    (
        args,
        after("exits").parse().unwrap(),
        after("lists").parse().unwrap(),
    )
}

/// The README's table of demo plants: (path under fixtures/demo, encoding reported).
fn demo_plants() -> Vec<(String, String)> {
    let text = readme();
    let start = text
        .find("<!-- demo-plants -->")
        .expect("demo-plants marker");
    let end = text
        .find("<!-- /demo-plants -->")
        .expect("/demo-plants marker");
    let mut plants: Vec<(String, String)> = text[start..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                cells[3].trim_matches('`').to_string(),
            )
        })
        .collect();
    plants.sort();
    plants
}

#[test]
fn the_readme_quick_start_prints_what_the_readme_says() {
    let (args, code, count) = quick_start();
    let output = scour()
        .current_dir(MANIFEST_DIR)
        .args(&args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(code), "{stdout}");
    assert!(
        stdout.contains(&format!("{count} finding(s)")),
        "the README promises {count} findings: {stdout}"
    );
    // The demo secret is in a file only: the command line never holds it.
    assert!(!args.iter().any(|a| a.contains("Revoked")));

    // Each plant the README lists is found, with the encoding it names, and nothing else.
    let json_args: Vec<String> = args
        .iter()
        .map(|a| {
            if a == "text" {
                "json".to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let output = scour()
        .current_dir(MANIFEST_DIR)
        .args(&json_args)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_report(&report);
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let outer = f["location"]["chain"][0].as_str().unwrap();
            (
                outer.trim_start_matches("fixtures/demo/").to_string(),
                f["encoding"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, demo_plants());
    assert_eq!(found.len(), count);
}

#[test]
fn the_shipped_schema_is_the_generated_one() {
    let output = scour().args(["generate", "schema"]).output().unwrap();
    assert!(output.status.success());
    let shipped = std::fs::read(Path::new(MANIFEST_DIR).join("docs/report.schema.json")).unwrap();
    assert!(
        output.stdout == shipped,
        "docs/report.schema.json is stale: run `cargo run --release -- generate schema > docs/report.schema.json`"
    );
    let schema: Value = serde_json::from_slice(&shipped).unwrap();
    assert_eq!(
        schema["$id"],
        "https://github.com/scour-dev/scour/schema/report/v1"
    );
    // The schema really constrains: a report without a verdict is rejected.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "x");
    let scan = scan(&random_token(20), &[dir.path()]);
    let mut broken = scan.report.clone();
    broken.as_object_mut().unwrap().remove("verdict");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&scan.report));
    assert!(!validator.is_valid(&broken));
}

#[test]
fn completions_and_man_pages_come_from_the_command_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = scour()
            .args(["generate", "completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("--secret-file"),
            "{shell} completions know scan's options"
        );
    }
    let man = scour().args(["generate", "man"]).output().unwrap();
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH scour"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let pages = scour()
        .args(["generate", "man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(pages.status.success());
    assert!(dir.path().join("scour-scan.1").is_file());
}

fn text_scan(env: &[(&str, &str)], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(24);
    write(
        dir.path(),
        "tree/a.txt",
        [b"k=".as_slice(), &secret].concat(),
    );
    write(dir.path(), "secret", &secret);
    let mut cmd = scour();
    cmd.env_remove("CLICOLOR_FORCE").env_remove("TERM");
    cmd.args(["scan", "--format", "text", "--secret-file"])
        .arg(dir.path().join("secret"))
        .args(extra)
        .arg(dir.path().join("tree"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn colour_follows_the_flag_and_the_environment_conventions() {
    let coloured = |s: &str| s.contains("\x1b[");
    assert!(!coloured(&text_scan(&[], &[])), "not a terminal: no colour");
    assert!(coloured(&text_scan(&[], &["--color", "always"])));
    assert!(!coloured(&text_scan(
        &[("CLICOLOR_FORCE", "1")],
        &["--color", "never"]
    )));
    assert!(coloured(&text_scan(&[("CLICOLOR_FORCE", "1")], &[])));
    assert!(!coloured(&text_scan(
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[]
    )));
    // The summary ends with the coverage table.
    let text = text_scan(&[], &[]);
    assert!(
        text.contains("root") && text.contains("files") && text.contains("gaps"),
        "{text}"
    );
}

#[test]
fn a_scour_toml_at_the_repository_root_sets_excludes_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(24);
    git_support::git(dir.path(), &["init", "-q"]);
    write(
        dir.path(),
        "vendor/lib.txt",
        [b"k=".as_slice(), &secret].concat(),
    );
    write(dir.path(), "app.txt", "clean");
    write(
        dir.path(),
        ".scour.toml",
        "exclude = [\"vendor/**\"]\n[limits]\narchive_max_depth = 3\n",
    );
    write(dir.path(), "secret", &secret);
    let output = scour()
        .current_dir(dir.path())
        .args([
            "scan",
            "--format",
            "json",
            "--secret-file",
            "secret",
            "--exclude",
            "secret",
            ".",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_report(&report);
    assert_eq!(
        report["verdict"],
        "absent",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        report["scan"]["excludes"],
        serde_json::json!(["vendor/**", "secret"])
    );
    // A typo in the file is an error, not a silently ignored setting.
    write(dir.path(), ".scour.toml", "exlude = [\"vendor/**\"]\n");
    let output = scour()
        .current_dir(dir.path())
        .args(["scan", "--secret-file", "secret", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_missing_secret_file_says_its_cause_once_and_dash_o_dash_is_stdout() {
    let output = scour()
        .args(["scan", "--secret-file", "/nonexistent/secret.txt", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree/a.txt", "x");
    write(dir.path(), "secret", random_token(20));
    let output = scour()
        .current_dir(dir.path())
        .args([
            "scan",
            "--format",
            "json",
            "--secret-file",
            "secret",
            "-o",
            "-",
            "tree",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report on stdout");
    assert_eq!(report["verdict"], "absent");
    assert!(!dir.path().join("-").exists());
}

fn sarif_of(dir: &Path, secret_file: &str, path: &str) -> Value {
    let output = scour()
        .current_dir(dir)
        .args([
            "scan",
            "--format",
            "sarif",
            "--secret-file",
            secret_file,
            "--exclude",
            secret_file,
            path,
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).expect("SARIF on stdout")
}

#[test]
fn sarif_ids_are_stable_across_runs_and_uris_are_relative_to_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(30);
    let repo = dir.path();
    git_support::git(repo, &["init", "-q"]);
    write(
        repo,
        "services/api/config.env",
        [b"A=1\nTOKEN=".as_slice(), &secret, b"\n"].concat(),
    );
    write(repo, "secret.txt", &secret);
    git_support::git(repo, &["add", "services"]);
    git_support::git(repo, &["commit", "-qm", "add config"]);
    let message = [b"rotate ".as_slice(), &secret].concat();
    std::fs::write(repo.join("msg"), &message).unwrap();
    git_support::git(repo, &["commit", "-q", "--allow-empty", "-F", "msg"]);
    std::fs::remove_file(repo.join("msg")).unwrap();

    let ids = |sarif: &Value| -> Vec<(Value, Value)> {
        let mut ids: Vec<(Value, Value)> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["ruleId"].clone(), r["partialFingerprints"].clone()))
            .collect();
        ids.sort_by_key(|(a, b)| format!("{a}{b}"));
        ids
    };
    let first = sarif_of(repo, "secret.txt", ".");
    let second = sarif_of(repo, "secret.txt", ".");
    assert!(!ids(&first).is_empty());
    assert_eq!(
        ids(&first),
        ids(&second),
        "no --salt, and still the same ids"
    );
    let text = serde_json::to_string(&first).unwrap();
    assert_no_window(text.as_bytes(), &secret, "SARIF");
    assert!(!text.contains("file://"), "no absolute URIs");

    // Scanning a subdirectory still gives URIs relative to the repository root.
    let nested = scour()
        .current_dir(repo.join("services"))
        .args([
            "scan",
            "--format",
            "sarif",
            "--secret-file",
            "../secret.txt",
            "api",
        ])
        .output()
        .unwrap();
    let nested: Value = serde_json::from_slice(&nested.stdout).unwrap();
    let uris: Vec<String> = nested["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .map(String::from)
        .collect();
    assert_eq!(uris, vec!["services/api/config.env"]);

    // The commit-message finding has no file: a logical location, never a directory URI.
    let results = first["runs"][0]["results"].as_array().unwrap();
    let in_message = results
        .iter()
        .find(|r| r["properties"]["gitObjectKind"] == "commit")
        .expect("a finding in the commit message");
    assert!(in_message["locations"][0].get("physicalLocation").is_none());
    assert!(in_message["locations"][0]["logicalLocations"][0]["name"].is_string());
    for result in results {
        if let Some(uri) =
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
        {
            assert!(
                !uri.ends_with('/') && uri != "." && !uri.is_empty(),
                "{uri}"
            );
        }
    }
}
