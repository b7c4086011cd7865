//! Helpers shared by the integration tests: run the real binary, parse its report, and
//! check that no piece of a secret leaked into anything it wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The environment variable tests pass secrets through.
pub const SECRET_ENV: &str = "SCOUR_TEST_SECRET";

pub fn scour() -> Command {
    let mut cmd = Command::cargo_bin("scour").expect("binary built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// The result of one `scour scan` run with a JSON report.
pub struct Scan {
    pub output: Output,
    pub report: Value,
    pub report_bytes: Vec<u8>,
}

impl Scan {
    pub fn code(&self) -> i32 {
        self.output.status.code().expect("exited normally")
    }

    pub fn verdict(&self) -> &str {
        self.report["verdict"].as_str().expect("verdict")
    }

    pub fn findings(&self) -> &Vec<Value> {
        self.report["findings"].as_array().expect("findings")
    }

    pub fn gaps(&self) -> Vec<Value> {
        self.report["coverage"]["roots"]
            .as_array()
            .expect("roots")
            .iter()
            .flat_map(|r| r["gaps"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Innermost element of each finding's location chain, with its line.
    pub fn places(&self) -> Vec<(String, u64)> {
        self.findings()
            .iter()
            .map(|f| {
                let chain = f["location"]["chain"].as_array().expect("chain");
                let joined = chain
                    .iter()
                    .map(|c| c.as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join("!");
                (joined, f["location"]["line"].as_u64().unwrap_or(0))
            })
            .collect()
    }

    pub fn encodings(&self) -> Vec<String> {
        self.findings()
            .iter()
            .map(|f| f["encoding"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Fails if any 8-byte window of `secret` appears in stdout, stderr or the report.
    pub fn assert_no_leak(&self, secret: &[u8]) {
        assert_no_window(&self.output.stdout, secret, "stdout");
        assert_no_window(&self.output.stderr, secret, "stderr");
        assert_no_window(&self.report_bytes, secret, "report");
    }
}

pub fn assert_no_window(haystack: &[u8], secret: &[u8], what: &str) {
    for window in secret.windows(8.min(secret.len())) {
        assert!(
            memchr::memmem::find(haystack, window).is_none(),
            "{what} contains an 8-byte piece of the secret"
        );
    }
}

/// Runs `scour scan --secret-file` with the given secrets over `paths`, JSON to a file.
pub fn scan_with_secrets(secrets: &[&[u8]], paths: &[&Path], extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("secrets");
    let mut content = Vec::new();
    for s in secrets {
        content.extend_from_slice(s);
        content.push(b'\n');
    }
    std::fs::write(&secret_file, content).expect("write secrets");
    let report_path = dir.path().join("report.json");
    let mut cmd = scour();
    cmd.arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--format", "json", "--output"])
        .arg(&report_path)
        .args(extra)
        .args(paths);
    let output = cmd.output().expect("run scour");
    let report_bytes = std::fs::read(&report_path).unwrap_or_default();
    let report = serde_json::from_slice(&report_bytes).unwrap_or(Value::Null);
    assert_valid_report(&report);
    Scan {
        output,
        report,
        report_bytes,
    }
}

pub fn scan(secret: &[u8], paths: &[&Path]) -> Scan {
    scan_with_secrets(&[secret], paths, &[])
}

pub fn write(dir: &Path, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, bytes).expect("write");
    path
}

/// A random secret of `len` printable, non-space ASCII bytes, different every run.
pub fn random_token(len: usize) -> Vec<u8> {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect()
}

/// The report schema shipped in the repository (`docs/report.schema.json`), compiled once.
fn report_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
        let text = std::fs::read(&path).expect("docs/report.schema.json (scour generate schema)");
        let schema: Value = serde_json::from_slice(&text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema compiles")
    })
}

/// Fails unless `report` is a scour JSON report valid against the shipped schema. Other
/// documents (SARIF, DSSE envelopes, nothing) are left alone; an envelope's predicate is
/// the report and is checked.
pub fn assert_valid_report(document: &Value) {
    let report = match document.get("schema") {
        Some(_) => document,
        None => match document.pointer("/predicate/schema") {
            Some(_) => &document["predicate"],
            None => return,
        },
    };
    let errors: Vec<String> = report_validator()
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "the report does not match docs/report.schema.json (run `scour generate schema > \
         docs/report.schema.json` if a field was added on purpose): {errors:#?}"
    );
}

/// Whether `tool` is on the PATH. Outside CI a missing tool skips the sample that needs it;
/// in CI (`.ci/run` installs every tool the tests use) it fails the test.
pub fn have_tool(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
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
    }
    found
}

/// Runs `program` with `args` in `dir` (a real tool building a sample); its stdout. Fails
/// the test, with the tool's stderr, if it does not succeed.
pub fn run_tool(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Whether python3 can import `module`; outside CI a missing module skips the sample.
pub fn have_python_module(module: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 module {module} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: python3 module {module} is not installed");
    }
    found
}

/// Runs `shell` (bash) in `dir` with `input` on stdin and `secret` in its environment as
/// `SECRET`; its standard output, or `None` if one of `tools` is missing outside CI.
pub fn run_shell(
    shell: &str,
    input: &[u8],
    secret: &[u8],
    tools: &[&str],
    dir: &Path,
) -> Option<Vec<u8>> {
    use std::io::Write;
    use std::process::Stdio;
    if !tools.iter().all(|tool| have_tool(tool)) {
        return None;
    }
    let mut child = std::process::Command::new("bash")
        .arg("-c")
        .arg(shell)
        .current_dir(dir)
        .env(
            "SECRET",
            std::str::from_utf8(secret).expect("the secret is text"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("bash runs");
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

/// A sample made with a real tool: (file name, the decode element its one finding must be
/// under (a trailing `?` also accepts a finding in the file itself), bytes).
pub type Sample = (String, &'static str, Vec<u8>);

/// Writes the samples into one tree and scans it: each must hold the secret only encoded,
/// and be found exactly once, under its decode element, with no gap and no leak.
pub fn assert_each_found_once_under_its_element(secret: &[u8], samples: &[Sample]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, _, bytes) in samples {
        assert!(
            memchr::memmem::find(bytes, secret).is_none(),
            "{name} holds the secret raw:\n{}",
            String::from_utf8_lossy(bytes)
        );
        write(dir.path(), name, bytes);
    }
    let result = scan_with_secrets(&[secret], &[dir.path()], &[]);
    let places = result.places();
    let mut failures = Vec::new();
    for (name, element, bytes) in samples {
        let mine: Vec<&String> = places
            .iter()
            .map(|(chain, _)| chain)
            .filter(|chain| {
                chain
                    .split('!')
                    .next()
                    .is_some_and(|first| first.ends_with(&format!("/{name}")))
            })
            .collect();
        let (element, or_leaf) = match element.strip_suffix('?') {
            Some(element) => (element, true),
            None => (*element, false),
        };
        let under = |chain: &str| {
            chain.contains(&format!("!{element}@")) || (or_leaf && !chain.contains('!'))
        };
        if !(mine.len() == 1 && under(mine[0])) {
            failures.push(format!(
                "{name}: expected one finding under {element}, got {mine:?}\n{}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
    assert_eq!(result.verdict(), "found");
    result.assert_no_leak(secret);
}
