//! Decode layers on layouts the real tools make when told to: `base64 -w N` and `base32 -w N`
//! at widths that are not multiples of 4 or 8 (17, 61, 70) and the usual ones (64, 76),
//! indented in a YAML block, with CRLF, with `\n` escapes in a JSON string, in the url
//! alphabet (`basenc --base64url`); Python's undelimited `base64.a85encode`; and
//! percent-encoding over another encoding (`urllib.parse.quote` of base64 of gzip, and of
//! gzip itself). Every sample holds a fresh secret, never raw; each must give exactly one
//! finding, under the expected decode element. A tree of ordinary prose, source code and
//! identifiers must stay `absent` with no gap.

mod common;

use std::path::Path;

use common::{random_token, run_shell, scan_with_secrets, write, Sample};

/// [`run_shell`] for tools that do not need the secret in their environment.
fn run(shell: &str, input: &[u8], tools: &[&str], dir: &Path) -> Option<Vec<u8>> {
    run_shell(shell, input, b"", tools, dir)
}

/// A payload long enough to wrap many lines, with the secret in the middle.
fn config(secret: &[u8]) -> Vec<u8> {
    let mut text = b"# service configuration, generated; do not edit by hand\n".repeat(6);
    text.extend_from_slice(b"api_token = ");
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nregion = eu-west-1\nretries = 3\n");
    text
}

const PY_A85: &str = "import base64,gzip,sys; sys.stdout.write('data: ' + base64.a85encode(gzip.compress(sys.stdin.buffer.read())).decode() + '\\n')";
const PY_PERCENT_B64: &str = "import base64,gzip,sys,urllib.parse as u; sys.stdout.write('GET /s?x=' + u.quote(base64.b64encode(gzip.compress(sys.stdin.buffer.read())).decode(), safe='') + ' HTTP/1.1\\n')";
const PY_PERCENT_GZIP: &str = "import gzip,sys,urllib.parse as u; sys.stdout.write('blob=' + u.quote(gzip.compress(sys.stdin.buffer.read()), safe='') + '\\n')";
const PY_JSON_61: &str = "import base64,gzip,json,sys; b=base64.b64encode(gzip.compress(sys.stdin.buffer.read())).decode(); sys.stdout.write(json.dumps({'kind': 'bundle', 'cert': '\\n'.join(b[i:i+61] for i in range(0, len(b), 61)) + '\\n'}))";

fn samples(secret: &[u8], dir: &Path) -> Vec<Sample> {
    let payload = config(secret);
    let mut samples = Vec::new();
    let mut add = |name: String, element: &'static str, made: Option<Vec<u8>>| {
        if let Some(bytes) = made {
            samples.push((name, element, bytes));
        }
    };
    for width in [17, 61, 64, 70, 76] {
        add(
            format!("b64-gz-w{width}.txt"),
            "base64",
            run(
                &format!("gzip -c | base64 -w {width}"),
                &payload,
                &["gzip", "base64"],
                dir,
            ),
        );
    }
    // A line of 61 may hold the whole base64 of the secret, which the automaton then finds
    // in the leaf: either place is one finding.
    add(
        "b64-text-w61.txt".into(),
        "base64?",
        run("base64 -w 61", &payload, &["base64"], dir),
    );
    add(
        "b64-text-w17.txt".into(),
        "base64",
        run("base64 -w 17", &payload, &["base64"], dir),
    );
    add(
        "values.yaml".into(),
        "base64",
        run(
            "printf 'secret:\\n  data:\\n    blob: |\\n'; gzip -c | base64 -w 70 | sed 's/^/      /'; printf '  kind: Opaque\\n'",
            &payload,
            &["gzip", "base64", "sed"],
            dir,
        ),
    );
    add(
        "crlf.txt".into(),
        "base64",
        run(
            "gzip -c | base64 -w 61 | sed 's/$/\\r/'",
            &payload,
            &["gzip", "base64", "sed"],
            dir,
        ),
    );
    add(
        "b64url-w61.txt".into(),
        "base64",
        run(
            "gzip -c | basenc --base64url -w 61",
            &payload,
            &["gzip", "basenc"],
            dir,
        ),
    );
    add(
        "b32-gz-w70.txt".into(),
        "base32",
        run("gzip -c | base32 -w 70", &payload, &["gzip", "base32"], dir),
    );
    add(
        "b32-text-w70.txt".into(),
        "base32",
        run("base32 -w 70", &payload, &["base32"], dir),
    );
    add(
        "cert.json".into(),
        "base64",
        run(
            &format!("python3 -c \"{PY_JSON_61}\""),
            &payload,
            &["python3"],
            dir,
        ),
    );
    add(
        "a85.txt".into(),
        "ascii85",
        run(
            &format!("python3 -c \"{PY_A85}\""),
            &payload,
            &["python3"],
            dir,
        ),
    );
    add(
        "access.log".into(),
        "percent",
        run(
            &format!("python3 -c \"{PY_PERCENT_B64}\""),
            &payload,
            &["python3"],
            dir,
        ),
    );
    add(
        "form.txt".into(),
        "percent",
        run(
            &format!("python3 -c \"{PY_PERCENT_GZIP}\""),
            &payload,
            &["python3"],
            dir,
        ),
    );
    samples
}

#[test]
fn layouts_the_tools_make_are_found_once_under_their_decode_element() {
    let secret = random_token(32);
    let work = tempfile::tempdir().unwrap();
    let samples = samples(&secret, work.path());
    common::assert_each_found_once_under_its_element(&secret, &samples);
}

#[test]
fn ordinary_prose_code_and_identifiers_stay_absent_with_no_gap() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    // This crate's own sources and documents: code, comments, test vectors, identifiers.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for relative in ["README.md", "Cargo.toml"] {
        if let Ok(bytes) = std::fs::read(root.join(relative)) {
            write(dir.path(), relative, bytes);
        }
    }
    let sources = root.join("src/source/archive/decode");
    for entry in std::fs::read_dir(&sources).expect("sources listed") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        write(
            dir.path(),
            &format!("src/{name}"),
            std::fs::read(&path).expect("read"),
        );
    }
    let mut prose = String::new();
    for i in 0..200 {
        prose.push_str(&format!(
            "Line {i}: the quick brown fox jumps over the lazy dog; see \
             https://example.com/search?q=caf%C3%A9%20au%20lait&next=%2Fhome%2Fuser%2Fdocs \
             and /usr/local/lib/python3.11/site-packages/numpy/core/_methods.py:{i}.\n\
             internationalization_and_localization_v{i} = getUserAccountSettingsForTenant{i}()\n"
        ));
    }
    write(dir.path(), "notes.txt", prose.as_bytes());
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "absent", "{:?}", result.gaps());
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}
