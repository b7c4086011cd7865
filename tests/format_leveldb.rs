//! LevelDB and RocksDB databases made by the real libraries (plyvel, rocksdict), laid out
//! as Chrome's and Electron apps' Local Storage is: JSON settings blobs one after another,
//! each with a token. Snappy copies each blob's shared parts from the one before, so the
//! token is cut in the raw table; a value written last lives in the write-ahead log, cut
//! where the log's 32 KiB blocks end. Each was `absent` before the LevelDB layers.

mod common;

use std::path::Path;

use common::{have_python_module, random_token, run_shell, scan};

const WRITE: &str = r#"
import os, random, string, sys
secret = os.environ["SECRET"]
rng = random.Random(7)
def token():
    return "xoxc-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40))
def blob(tok):
    return ('\x01{"teams":{"T1":{"token":"%s","name":"example workspace",'
            '"url":"https://example.slack.com/","theme":"dark"}}}' % tok).encode()
def fill(put):
    for i in range(2000):
        put(b"_https://app.slack.com\x00\x01localConfig%05d" % i, blob(token()))
    put(b"_https://app.slack.com\x00\x01localConfig01000x", blob(secret))

if sys.argv[1] == "leveldb":
    import plyvel
    db = plyvel.DB("table", create_if_missing=True)
    fill(db.put)
    db.close()
    db = plyvel.DB("table")
    db.compact_range()
    db.close()
    # The log: one record whose value holds the secret where the first block ends.
    db = plyvel.DB("log", create_if_missing=True)
    key = b"_https://app.slack.com\x00\x01localConfig_v2"
    pad = 32768 - 7 - 12 - 1 - 1 - len(key) - 3 - 20
    db.put(key, b"\x01" + b"x" * (pad - 1) + b'"token":"' + secret.encode() + b'"' + b"y" * 100)
    db.close()
else:
    from rocksdict import Rdict, Options, DBCompressionType, BlockBasedOptions
    for name, kind, version in [("snappy", DBCompressionType.snappy(), 6),
                                ("lz4", DBCompressionType.lz4(), 4),
                                ("zstd", DBCompressionType.zstd(), 2)]:
        options = Options()
        options.set_compression_type(kind)
        table = BlockBasedOptions()
        table.set_format_version(version)
        options.set_block_based_table_factory(table)
        db = Rdict("rocks-" + name, options)
        fill(db.put if hasattr(db, "put") else db.__setitem__)
        db.flush()
        db.close()
"#;

fn files_named(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_named(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            found.push(path);
        }
    }
    found
}

/// Each file holding the secret is found once: through its decoded entries or joined
/// records where the raw bytes cut it, in the file itself where they did not.
fn assert_found_once_in_each(dir: &Path, secret: &[u8], files: &[std::path::PathBuf]) {
    let result = scan(secret, &[dir]);
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
    assert_eq!(result.verdict(), "found");
    for file in files {
        let name = file.to_string_lossy().into_owned();
        let raw = memchr::memmem::find(&std::fs::read(file).unwrap(), secret).is_some();
        let places: Vec<String> = result
            .places()
            .into_iter()
            .map(|(chain, _)| chain)
            .filter(|chain| chain.split('!').next() == Some(name.as_str()))
            .collect();
        assert_eq!(places.len(), 1, "{name}: {places:?}");
        // Where the raw bytes cut it: in the layer that rebuilt it (a zstd block is also
        // carved, and a secret found there is not reported again from the entries).
        if !raw {
            let layers = ["records", "entries", "zstd@"];
            let inner = places[0]
                .strip_prefix(&format!("{name}!"))
                .unwrap_or_default();
            assert!(
                layers.iter().any(|layer| inner.starts_with(layer)),
                "{name}: {places:?}"
            );
        }
    }
    result.assert_no_leak(secret);
}

#[test]
fn leveldb_tables_and_logs_are_decoded() {
    if !have_python_module("plyvel") {
        return;
    }
    let secret = random_token(40);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("write.py"), WRITE).unwrap();
    run_shell("python3 write.py leveldb", b"", &secret, &["python3"], dir).expect("plyvel ran");
    std::fs::remove_file(dir.join("write.py")).unwrap();
    let tables = files_named(&dir.join("table"), ".ldb");
    let logs: Vec<_> = files_named(&dir.join("log"), ".log")
        .into_iter()
        .filter(|log| std::fs::metadata(log).unwrap().len() > 0)
        .collect();
    assert_eq!(logs.len(), 1);
    let log = std::fs::read(&logs[0]).unwrap();
    assert!(
        memchr::memmem::find(&log, &secret).is_none(),
        "the log holds the secret whole"
    );
    let holding: Vec<_> = tables.iter().chain(&logs).cloned().collect();
    assert_found_once_in_each(dir, &secret, &holding);

    // A damaged fragment is a gap; a table cut before its footer is one too.
    let mut damaged = log.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x20;
    std::fs::write(&logs[0], damaged).unwrap();
    let table = std::fs::read(&tables[0]).unwrap();
    std::fs::write(&tables[0], &table[..table.len() - 48]).unwrap();
    let result = scan(&secret, &[dir]);
    let gaps = result.gaps();
    for cause in ["is damaged", "no footer"] {
        assert!(
            gaps.iter()
                .any(|gap| gap["kind"] == "corrupt"
                    && gap["reason"].as_str().unwrap().contains(cause)),
            "{cause}: {gaps:?}"
        );
    }
    assert_ne!(result.verdict(), "absent");
}

#[test]
fn rocksdb_tables_are_decoded() {
    if !have_python_module("rocksdict") {
        return;
    }
    let secret = random_token(40);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("write.py"), WRITE).unwrap();
    run_shell("python3 write.py rocksdb", b"", &secret, &["python3"], dir).expect("rocksdict ran");
    std::fs::remove_file(dir.join("write.py")).unwrap();
    let tables = files_named(dir, ".sst");
    assert_eq!(tables.len(), 3, "{tables:?}");
    assert_found_once_in_each(dir, &secret, &tables);
}
