//! Decode layers for the encodings of issue 9 category 4 beyond base64, hex, QP and UTF-16,
//! on samples made by the real tools: `base32` and `basenc --base32hex`, `git format-patch
//! --binary` and `git diff --binary` (base85 + zlib, literal and delta hunks), Python's
//! `b85encode`/`a85encode`, `uuencode` (sharutils), percent-encoding two and three levels
//! deep, `printf %q` and `$'...'` from bash, Java's `Properties.store`, C `\x` and octal
//! escapes, Python's `csv` (a password-manager export), `sqlite3 .dump`, and PyYAML's folded
//! and quoted scalars. All samples go through one scan; each must give exactly one finding,
//! under the expected decode element, and none holds the secret raw.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{have_tool as have, random_token, run_shell as run, scan_with_secrets, write};

/// Runs a Python script with `input` on stdin; `None` if Python is missing outside CI.
fn run_py(script: &str, input: &[u8]) -> Option<Vec<u8>> {
    if !have("python3") {
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("input written");
    let output = child.wait_with_output().expect("python ran");
    assert!(output.status.success(), "{script} failed");
    Some(output.stdout)
}

/// A fresh secret with every awkward printable character (space, `"`, `\`, `%`, `$`, `'`),
/// long enough for YAML emitters to fold it at a space.
fn awkward_secret() -> Vec<u8> {
    let t = || String::from_utf8(random_token(7)).expect("ASCII");
    format!(
        "{} {}\"{}\\{}%{}$ {}'{} {} {} {} {} {}",
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t(),
        t()
    )
    .into_bytes()
}

fn config(secret: &[u8]) -> Vec<u8> {
    let mut text = b"# service configuration\n".repeat(4);
    text.extend_from_slice(b"api_token = ");
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nregion = eu-west-1\n");
    text
}

const PY_A85: &str = "import base64,sys; sys.stdout.buffer.write(base64.a85encode(sys.stdin.buffer.read(), adobe=True, wrapcol=76))";
const PY_B85: &str =
    "import base64,sys; sys.stdout.buffer.write(base64.b85encode(sys.stdin.buffer.read()))";
/// Z85 is base85 with its own alphabet: Python's b85 digits mapped onto Z85's.
const PY_Z85: &str = "import base64,sys; d=sys.stdin.buffer.read(); d+=b'\\0'*(-len(d)%4); sys.stdout.buffer.write(base64.b85encode(d).translate(bytes.maketrans(b'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~', b'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#')))";
/// A PDF page whose content stream is `[/ASCII85Decode /FlateDecode]`.
const PY_PDF: &str = "import base64,sys,zlib; body=b'BT /F1 12 Tf 72 712 Td (' + sys.stdin.buffer.read() + b') Tj ET'; data=base64.a85encode(zlib.compress(body), adobe=True, wrapcol=72)[2:]; sys.stdout.buffer.write(b'%PDF-1.4\\n4 0 obj\\n<< /Length ' + str(len(data)).encode() + b' /Filter [/ASCII85Decode /FlateDecode] >>\\nstream\\n' + data + b'\\nendstream\\nendobj\\n%%EOF\\n')";
const PY_PERCENT2: &str = "import sys,urllib.parse as u; s=sys.stdin.read(); sys.stdout.write('https://sso.example/cb?next=' + u.quote('https://app.example/?token=' + u.quote(s, safe=''), safe='') + '\\n')";
const PY_PERCENT3: &str = "import sys,urllib.parse as u; s=sys.stdin.read(); sys.stdout.write('q=' + u.quote_plus(u.quote_plus(u.quote_plus(s))) + '\\n')";
const PY_CSV: &str = "import csv,sys; w=csv.writer(sys.stdout); w.writerow(['folder','favorite','type','name','notes','fields','reprompt','login_uri','login_username','login_password','login_totp']); w.writerow(['','','login','prod db','said \"rotate\"','','0','https://db.example','admin',sys.stdin.read(),''])";
const PY_HEX_ESCAPES: &str = "import sys; s=sys.stdin.buffer.read(); sys.stdout.write('static const char key[] = \"' + ''.join('\\\\x%02x' % b for b in s) + '\";\\n')";
const PY_OCTAL_ESCAPES: &str = "import sys; s=sys.stdin.buffer.read(); sys.stdout.write('KEY=$(printf \"' + ''.join('\\\\%03o' % b for b in s) + '\")\\n')";

fn py_yaml(style: &str) -> String {
    format!("import sys,yaml; sys.stdout.write(yaml.dump({{'service': {{'name': 'api', 'password': sys.stdin.read(), 'port': 8080}}}}{style}))")
}

/// (file name, decode element expected in the finding's chain (`None`: the leaf itself),
/// sample).
type Sample = (String, Option<&'static str>, Vec<u8>);

fn tool_samples(secret: &[u8], dir: &Path) -> Vec<Sample> {
    let payload = config(secret);
    let mut samples = Vec::new();
    let mut add = |name: &str, element: Option<&'static str>, made: Option<Vec<u8>>| {
        if let Some(bytes) = made {
            samples.push((name.to_string(), element, bytes));
        }
    };
    add(
        "b32.txt",
        Some("base32"),
        run("base32", &payload, secret, &["base32"], dir),
    );
    add(
        "b32-lower.txt",
        Some("base32"),
        run(
            "base32 -w 0 | tr A-Z a-z | tr -d =",
            &payload,
            secret,
            &["base32"],
            dir,
        ),
    );
    add(
        "b32hex.txt",
        Some("base32hex"),
        run("basenc --base32hex", &payload, secret, &["basenc"], dir),
    );
    add(
        "b32-gzip.txt",
        Some("base32"),
        run(
            "gzip -c | base32 -w 64",
            &payload,
            secret,
            &["gzip", "base32"],
            dir,
        ),
    );
    add("ascii85.txt", Some("ascii85"), run_py(PY_A85, &payload));
    add("page.pdf", Some("ascii85-flate"), run_py(PY_PDF, secret));
    add("b85.txt", Some("base85"), run_py(PY_B85, &payload));
    add("z85.txt", Some("z85"), run_py(PY_Z85, &payload));
    add(
        "uu.txt",
        Some("uuencode"),
        run(
            "uuencode service.conf",
            &payload,
            secret,
            &["uuencode"],
            dir,
        ),
    );
    add(
        "uu-m.txt",
        Some("base64"),
        run(
            "uuencode -m service.conf",
            &payload,
            secret,
            &["uuencode"],
            dir,
        ),
    );
    add("percent2.log", Some("percent"), run_py(PY_PERCENT2, secret));
    add("percent3.log", Some("percent"), run_py(PY_PERCENT3, secret));
    add(
        "printf-q.sh",
        Some("backslash"),
        run(
            r#"printf 'export TOKEN=%q\n' "$SECRET""#,
            b"",
            secret,
            &[],
            dir,
        ),
    );
    add(
        "ansi-c.sh",
        // `\'` and `\\` only: the automaton's single-quoted string variant.
        None,
        run(
            r#"v="$SECRET"$'\t'; printf 'TOKEN=%q\n' "$v""#,
            b"",
            secret,
            &[],
            dir,
        ),
    );
    add("key.c", Some("backslash"), run_py(PY_HEX_ESCAPES, secret));
    add(
        "octal.sh",
        Some("backslash"),
        run_py(PY_OCTAL_ESCAPES, secret),
    );
    add("bitwarden_export.csv", None, run_py(PY_CSV, secret));
    add(
        "dump.sql",
        None,
        run(
            r#"sqlite3 ':memory:' "create table creds(id integer, password text); insert into creds values (1, '$(printf %s "$SECRET" | sed "s/'/''/g")');" .dump"#,
            b"",
            secret,
            &["sqlite3"],
            dir,
        ),
    );
    for (name, style, element) in [
        ("plain.yaml", "", "yaml-fold"),
        ("single.yaml", ", default_style=\"'\"", "yaml-fold"),
        ("double.yaml", ", default_style='\"'", "backslash"),
        ("folded.yaml", ", default_style='>'", "yaml-fold"),
    ] {
        let script = py_yaml(style);
        let made = if have("python3")
            && Command::new("python3")
                .args(["-c", "import yaml"])
                .status()
                .is_ok_and(|s| s.success())
        {
            run_py(&script, secret)
        } else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PyYAML is needed (python3-yaml)"
            );
            None
        };
        add(name, Some(element), made);
    }
    samples
}

/// A Java `.properties` file from `Properties.store`, and the same value continued over two
/// lines by hand (a trailing `\`).
fn java_samples(secret: &[u8], dir: &Path) -> Vec<Sample> {
    if !have("java") {
        return Vec::new();
    }
    let source = dir.join("Store.java");
    std::fs::write(
        &source,
        "public class Store { public static void main(String[] a) throws Exception { \
         java.util.Properties p = new java.util.Properties(); \
         p.setProperty(\"db.password\", System.getenv(\"SECRET\")); p.store(System.out, null); } }",
    )
    .expect("java source written");
    let Some(stored) = run("java Store.java", b"", secret, &["java"], dir) else {
        return Vec::new();
    };
    let text = String::from_utf8(stored.clone()).expect("properties are ASCII");
    let line = text
        .lines()
        .find(|l| l.starts_with("db.password="))
        .expect("the property is written");
    let cut = line
        .char_indices()
        .map(|(i, _)| i)
        .filter(|&i| i > 20 && !line[..i].ends_with('\\'))
        .nth(10)
        .expect("a long value");
    let continued = text.replace(
        line,
        &format!("{}\\\n        {}", &line[..cut], &line[cut..]),
    );
    vec![
        ("app.properties".into(), Some("backslash"), stored),
        (
            "continued.properties".into(),
            Some("backslash"),
            continued.into_bytes(),
        ),
    ]
}

/// `git format-patch --binary` of a gzip'd file holding the secret (a literal hunk), and
/// `git diff --binary` of a binary file changed to hold it (delta hunks).
fn git_samples(secret: &[u8], dir: &Path) -> Vec<Sample> {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("repo dir");
    let script = r#"set -e
        git init -q . && git config user.email t@example.com && git config user.name t
        head -c 30000 /dev/urandom > blob.bin
        git add blob.bin && git commit -qm base
        printf '%s\n' "token = $SECRET" | gzip -c > secret.gz
        { head -c 12000 blob.bin; printf '%s' "$SECRET"; tail -c +12001 blob.bin; } > blob.new
        mv blob.new blob.bin
        git add secret.gz blob.bin && git commit -qm add
        git format-patch --binary -1 --stdout -- secret.gz > ../literal.patch
        git diff --binary HEAD~1 HEAD -- blob.bin > ../delta.patch"#;
    if run(script, b"", secret, &["git", "gzip"], &repo).is_none() {
        return Vec::new();
    }
    let literal = std::fs::read(dir.join("literal.patch")).expect("patch written");
    let delta = std::fs::read(dir.join("delta.patch")).expect("patch written");
    assert!(memchr::memmem::find(&literal, b"GIT binary patch").is_some());
    assert!(
        memchr::memmem::find(&delta, b"\ndelta ").is_some(),
        "git wrote a delta hunk"
    );
    vec![
        ("0001-add.patch".into(), Some("git-binary-literal"), literal),
        ("blob.diff".into(), Some("git-binary-delta-inserts"), delta),
    ]
}

#[test]
fn every_encoding_made_by_its_real_tool_is_found_once() {
    let secret = awkward_secret();
    let work = tempfile::tempdir().unwrap();
    let mut samples = tool_samples(&secret, work.path());
    samples.extend(java_samples(&secret, work.path()));
    samples.extend(git_samples(&secret, work.path()));
    let dir = tempfile::tempdir().unwrap();
    for (name, _, bytes) in &samples {
        assert!(
            memchr::memmem::find(bytes, &secret).is_none(),
            "{name} holds the secret raw:\n{}",
            String::from_utf8_lossy(bytes)
        );
        write(dir.path(), name, bytes);
    }
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "found");
    let places = result.places();
    let mut failures = Vec::new();
    for (name, element, bytes) in &samples {
        let mine: Vec<&String> = places
            .iter()
            .map(|(chain, _)| chain)
            .filter(|chain| {
                chain
                    .split('!')
                    .next()
                    .is_some_and(|first| first.ends_with(&format!("/{name}")) || first == name)
            })
            .collect();
        let expected = match element {
            Some(element) => mine.len() == 1 && mine[0].contains(&format!("!{element}@")),
            None => mine.len() == 1 && !mine[0].contains('!'),
        };
        if !expected {
            failures.push(format!(
                "{name}: expected one finding under {element:?}, got {mine:?}\n{}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(600)])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    result.assert_no_leak(&secret);
}

#[test]
fn a_run_at_the_nesting_limit_is_a_gap() {
    let secret = random_token(30);
    let dir = tempfile::tempdir().unwrap();
    let Some(encoded) = run(
        "base64 -w 0 | base64 -w 0 | base64 -w 0 | base64 -w 0",
        &config(&secret),
        &secret,
        &["base64"],
        dir.path(),
    ) else {
        return;
    };
    write(dir.path(), "deep.txt", &encoded);
    let result = scan_with_secrets(&[&secret], &[dir.path()], &["--archive-max-depth", "2"]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.places());
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|gap| gap["kind"] == "limit-exceeded"
            && gap["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not decoded"))),
        "{gaps:?}"
    );
    result.assert_no_leak(&secret);
}
