//! Decode layers for hex runs, byte lists and character references, on samples made by the
//! real tools: `xxd -p` (plain and of gzip), a PostgreSQL `bytea` hex literal, hex of base64,
//! `xxd -i` C arrays, Python's `list()` of bytes, Node's `JSON.stringify` of a `Buffer`, a
//! Java signed byte array, HTML numeric references, and base64 of gzip in XML with `&#13;`
//! line ends as .NET's `XmlSerializer` writes it. All samples go through one scan; each must
//! give exactly one finding, under the expected decode element, and none holds the secret
//! raw. A tree of ordinary hex-looking content (git ids, UUIDs, digest lists) stays absent
//! with no gap.

mod common;

use std::path::Path;

use common::{random_token, run_shell, scan_with_secrets, write};

/// [`run_shell`] in the test's working directory (the samples go to stdout).
fn run(shell: &str, input: &[u8], secret: &[u8], tools: &[&str]) -> Option<Vec<u8>> {
    run_shell(shell, input, secret, tools, Path::new("."))
}

fn config(secret: &[u8]) -> Vec<u8> {
    let mut text = b"# service configuration\n".repeat(4);
    text.extend_from_slice(b"api_token = ");
    text.extend_from_slice(secret);
    text.extend_from_slice(b"\nregion = eu-west-1\n");
    text
}

/// Text that does not compress away: the secret sits many base64 lines into its gzip.
const PY_FILLER: &str =
    "import random; f=lambda n: ''.join(random.choice('abcdefghij klmnop\\n') for _ in range(n))";
const PY_BYTE_LIST: &str =
    "import gzip,sys; print('data = ' + repr(list(gzip.compress(sys.stdin.buffer.read()))))";
const PY_JAVA: &str = "import gzip,sys; b=gzip.compress(sys.stdin.buffer.read()); print('static final byte[] KEY = new byte[] {' + ', '.join(str(x - 256 if x > 127 else x) for x in b) + '};')";
const PY_ENTITIES_DEC: &str =
    "import os; print('<p>' + ''.join('&#%d;' % ord(c) for c in os.environ['SECRET']) + '</p>')";
const PY_ENTITIES_HEX: &str = "import os; print('<p>token: ' + ''.join('&#x%x;' % ord(c) for c in os.environ['SECRET']) + '</p>')";
const NODE_BUFFER_GZIP: &str = "node -e 'console.log(JSON.stringify({b: require(\"zlib\").gzipSync(\"x \" + process.env.SECRET + \" y\")}))'";
const NODE_BUFFER: &str =
    "node -e 'console.log(JSON.stringify({b: Buffer.from(\"x \" + process.env.SECRET + \" y\")}))'";

fn py_xml_cr() -> String {
    format!("{PY_FILLER}; import base64,gzip,os; d=base64.b64encode(gzip.compress((f(300)+os.environ['SECRET']+f(300)).encode())).decode(); print('<Value>' + '&#13;\\n'.join(d[i:i+76] for i in range(0,len(d),76)) + '</Value>')")
}

/// (file name, decode element expected in the finding's chain, sample).
type Sample = (String, &'static str, Vec<u8>);

fn samples(secret: &[u8]) -> Vec<Sample> {
    let payload = config(secret);
    let mut samples = Vec::new();
    let mut add = |name: &str, element: &'static str, made: Option<Vec<u8>>| {
        if let Some(bytes) = made {
            samples.push((name.to_string(), element, bytes));
        }
    };
    let py = |script: &str| format!("python3 -c \"{}\"", script.replace('"', "\\\""));
    add(
        "plain.hex",
        "hex",
        run("xxd -p", &payload, secret, &["xxd"]),
    );
    add(
        "gzip.hex",
        "hex",
        run("gzip -c | xxd -p", &payload, secret, &["gzip", "xxd"]),
    );
    add(
        "insert.sql",
        "hex",
        run(
            "printf \"INSERT INTO blobs VALUES (1, '%s%s');\\n\" '\\x' \"$(gzip -c | xxd -p | tr -d '\\n')\"",
            &payload,
            secret,
            &["gzip", "xxd"],
        ),
    );
    add(
        "b64.hex",
        "hex",
        run(
            "base64 -w 0 | xxd -p | tr -d '\\n'",
            &payload,
            secret,
            &["base64", "xxd"],
        ),
    );
    add(
        "key.h",
        "byte-list",
        run(
            "gzip -c > key.gz && xxd -i key.gz && rm key.gz",
            &payload,
            secret,
            &["gzip", "xxd"],
        ),
    );
    add(
        "key.py",
        "byte-list",
        run(&py(PY_BYTE_LIST), &payload, secret, &["python3"]),
    );
    add(
        "Key.java",
        "byte-list",
        run(&py(PY_JAVA), &payload, secret, &["python3"]),
    );
    add(
        "buffer-gzip.json",
        "byte-list",
        run(NODE_BUFFER_GZIP, b"", secret, &["node"]),
    );
    add(
        "buffer.json",
        "byte-list",
        run(NODE_BUFFER, b"", secret, &["node"]),
    );
    add(
        "dec.html",
        "entities",
        run(&py(PY_ENTITIES_DEC), b"", secret, &["python3"]),
    );
    add(
        "hex.html",
        "entities",
        run(&py(PY_ENTITIES_HEX), b"", secret, &["python3"]),
    );
    add(
        "settings.xml",
        "base64",
        run(&py(&py_xml_cr()), b"", secret, &["python3"]),
    );
    samples
}

#[test]
fn hex_byte_lists_and_references_made_by_real_tools_are_found_once() {
    let secret = random_token(32);
    let samples = samples(&secret);
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
        if !(mine.len() == 1 && mine[0].contains(&format!("!{element}@"))) {
            failures.push(format!(
                "{name}: expected one finding under {element}, got {mine:?}\n{}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(600)])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    result.assert_no_leak(&secret);
}

/// Pseudo-random hex of `bytes` bytes, different for each `seed`.
fn digest(seed: u64, bytes: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("{:02x}", state as u8)
        })
        .collect()
}

#[test]
fn ordinary_hex_lists_and_references_stay_absent_with_no_gap() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    let mut sums = String::new();
    let mut lock = String::new();
    let mut uuids = Vec::new();
    for i in 0..400u64 {
        log.push_str(&format!(
            "commit {}\nAuthor: A <a@example.com>\n\n    fix {i}\n\n",
            digest(i, 20)
        ));
        sums.push_str(&format!("{}  dist/file-{i}.tar.gz\n", digest(i + 1000, 32)));
        sums.push_str(&format!("{}  dist/file-{i}.zip\n", digest(i + 2000, 64)));
        lock.push_str(&format!(
            "[[package]]\nname = \"p{i}\"\nchecksum = \"{}\"\n",
            digest(i + 3000, 32)
        ));
        let id = digest(i + 4000, 16);
        uuids.push(format!(
            "\"{}-{}-{}-{}-{}\"",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        ));
    }
    write(dir.path(), "git-log.txt", &log);
    write(dir.path(), "SHA256SUMS", &sums);
    write(dir.path(), "Cargo.lock", &lock);
    write(dir.path(), "ids.json", format!("[{}]\n", uuids.join(", ")));
    write(
        dir.path(),
        "shape.json",
        "{\"shape\": [3, 224, 224], \"mean\": [0.485, 0.456, 0.406], \"rgb\": [255, 128, 0]}\n",
    );
    write(
        dir.path(),
        "page.html",
        "<p>It&#8217;s &amp; that&#39;s &#x2014; all &lt;fine&gt;</p>\n",
    );
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "absent", "{:?}", result.gaps());
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}
