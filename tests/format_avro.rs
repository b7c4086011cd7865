//! Avro object container files written by fastavro (the library Kafka Connect-style Python
//! pipelines use), with each codec it ships without extra modules. With `deflate` every block
//! is a raw deflate stream, no zlib or gzip header, so neither carving nor the raw scan can
//! see the records: only the Avro layer can.

mod common;

use std::path::Path;
use std::process::Command;

use common::{random_token, scan};

/// fastavro is installed by `.ci/run`; outside CI a missing module skips the test.
fn fastavro_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import fastavro"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 -m pip install fastavro is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: fastavro is not installed");
    }
    found
}

fn write_avro(path: &Path, codec: &str, secret: &[u8], records: usize) {
    let script = r#"
import sys, fastavro
path, codec, secret, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
schema = {"type": "record", "name": "Event", "fields": [
    {"name": "id", "type": "long"}, {"name": "note", "type": "string"}]}
rows = [{"id": i, "note": "event %d served from cache in %d ms" % (i, i % 97)} for i in range(count)]
rows[count // 2]["note"] = "rotated credential token=" + secret
with open(path, "wb") as out:
    fastavro.writer(out, fastavro.parse_schema(schema), rows, codec=codec, sync_interval=4000)
"#;
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(codec)
        .arg(std::str::from_utf8(secret).unwrap())
        .arg(records.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "fastavro could not write {codec}");
}

#[test]
fn avro_files_are_read_with_every_common_codec() {
    if !fastavro_available() {
        return;
    }
    for codec in ["deflate", "bzip2", "xz", "null"] {
        let dir = tempfile::tempdir().unwrap();
        let secret = random_token(32);
        let path = dir.path().join(format!("events-{codec}.avro"));
        write_avro(&path, codec, &secret, 3000);
        let bytes = std::fs::read(&path).unwrap();
        if codec != "null" {
            common::assert_no_window(&bytes, &secret, "the compressed avro file");
        }
        let result = scan(&secret, &[dir.path()]);
        assert_eq!(result.code(), 1, "{codec}: {}", result.report);
        assert!(result.gaps().is_empty(), "{codec}: {:?}", result.gaps());
        let places = result.places();
        assert!(
            places.iter().any(|(p, _)| p.contains("records")),
            "{codec}: {places:?}"
        );
    }
}

#[test]
fn a_truncated_avro_file_is_a_gap_not_absent() {
    if !fastavro_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let secret = random_token(32);
    let path = dir.path().join("events.avro");
    write_avro(&path, "deflate", &secret, 3000);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.code(), 1, "{}", result.report);
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|g| g["kind"] == "corrupt"),
        "the damaged last block must be a gap: {gaps:?}"
    );
}
