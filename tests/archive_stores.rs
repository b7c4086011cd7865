//! Structured stores and streams made by the real tools (sqlite3, pg_dump, lz4, ...): a
//! secret the store split or compressed is found, and each sample is checked not to hold
//! the secret raw, so a test cannot pass by a plain scan.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{random_token, scan, write};

/// Whether `tool` can be run. Missing in CI is a failure (CI installs it, `.ci/run`);
/// missing elsewhere skips the test, saying why.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// Runs `program args` with `input` on standard input (secrets never go in arguments).
fn run_with_input(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {program}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn assert_found_once(result: &common::Scan, secret: &[u8], chain_end: &str) {
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let places = result.places();
    assert_eq!(places.len(), 1, "findings: {:?}", result.findings());
    assert!(
        places[0].0.ends_with(chain_end),
        "{} should end with {chain_end}",
        places[0].0
    );
    result.assert_no_leak(secret);
}

/// A SQLite database (made by `sqlite3`) whose one long value holds the secret across the
/// first overflow-page boundary, so the file never holds it whole.
fn sqlite_with_split_secret(dir: &Path, secret: &[u8]) -> std::path::PathBuf {
    let path = dir.join("app.db");
    // The value's length stays the same, so the page boundary inside it stays put (about
    // 1,860 bytes in, for 4 KiB pages) while the secret moves across it.
    for before in (1700..2100).step_by(5) {
        let _ = std::fs::remove_file(&path);
        let value = format!(
            "{}{}{}",
            "x".repeat(before),
            String::from_utf8_lossy(secret),
            "y".repeat(10_000 - before)
        );
        let sql = format!(
            "PRAGMA page_size=4096;\nCREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\n\
             INSERT INTO notes(body) VALUES('short note');\n\
             INSERT INTO notes(body) VALUES('{value}');\n"
        );
        run_with_input("sqlite3", &[path.to_str().unwrap()], sql.as_bytes());
        if !contains(&std::fs::read(&path).unwrap(), secret) {
            return path;
        }
    }
    panic!("no placement split the secret across an overflow page");
}

#[test]
fn sqlite_value_split_across_an_overflow_page() {
    if !have("sqlite3") {
        return;
    }
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    sqlite_with_split_secret(dir.path(), &secret);
    let result = scan(&secret, &[dir.path()]);
    assert_found_once(&result, &secret, "app.db!page 2 cell 1");
}

#[test]
fn sqlite_inside_a_tarball_and_short_values_found_once() {
    if !have("sqlite3") {
        return;
    }
    let secret = random_token(40);
    let short = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("short.db");
    let sql = format!(
        "CREATE TABLE kv(k TEXT, v TEXT);\nINSERT INTO kv VALUES('token', '{}');\n",
        String::from_utf8_lossy(&short)
    );
    run_with_input("sqlite3", &[db.to_str().unwrap()], sql.as_bytes());
    // A short value is stored whole in its page: found once, not twice.
    let result = scan(&short, &[&db]);
    assert_found_once(&result, &short, "short.db");

    let split = sqlite_with_split_secret(dir.path(), &secret);
    let bytes = std::fs::read(&split).unwrap();
    let archive = dir.path().join("out");
    std::fs::create_dir(&archive).unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "var/lib/app.db", &bytes[..])
        .unwrap();
    write(&archive, "backup.tar", builder.into_inner().unwrap());
    let result = scan(&secret, &[&archive]);
    assert_found_once(&result, &secret, "backup.tar!var/lib/app.db!page 2 cell 1");
}

#[test]
fn sqlite_deleted_row_lingers_and_is_found() {
    if !have("sqlite3") {
        return;
    }
    let secret = random_token(36);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("deleted.db");
    let sql = format!(
        "PRAGMA secure_delete=OFF;\nCREATE TABLE kv(k TEXT, v TEXT);\n\
         INSERT INTO kv VALUES('keep', 'nothing here');\n\
         INSERT INTO kv VALUES('old', '{}');\nDELETE FROM kv WHERE k='old';\n",
        String::from_utf8_lossy(&secret)
    );
    run_with_input("sqlite3", &[db.to_str().unwrap()], sql.as_bytes());
    let dump = run_with_input("sqlite3", &[db.to_str().unwrap(), ".dump"], b"");
    assert!(!contains(&dump, &secret), "the row is deleted");
    let result = scan(&secret, &[&db]);
    assert_found_once(&result, &secret, "deleted.db");
}

/// A throwaway PostgreSQL cluster in a temporary directory, on a Unix socket only; run as
/// user `postgres` when the tests run as root (PostgreSQL refuses to run as root).
struct Postgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Postgres {
    fn bin_dir() -> Option<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        dirs.sort();
        dirs.pop()
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        // SAFETY-free check of the effective user: root has uid 0.
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        if root {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=postgres", "--regid=postgres", "--clear-groups"])
                .arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn start() -> Option<Postgres> {
        let Some(bin) = Self::bin_dir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL is required in CI (.ci/run installs it)"
            );
            eprintln!("skipped: PostgreSQL (initdb) is not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if let Ok(user) = Command::new("id").args(["-u", "postgres"]).output() {
            if let Ok(uid) = String::from_utf8_lossy(&user.stdout).trim().parse::<u32>() {
                let _ = std::os::unix::fs::chown(dir.path(), Some(uid), None);
            }
        }
        let port = 20_000 + (std::process::id() % 20_000) as u16;
        let cluster = Postgres { bin, dir, port };
        let data = cluster.dir.path().join("data");
        let status = cluster
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let options = format!(
            "-k {} -c listen_addresses= -p {port}",
            cluster.dir.path().display()
        );
        let status = cluster
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.path().join("log"))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl start failed");
        Some(cluster)
    }

    fn connection(&self) -> Vec<String> {
        vec![
            "-h".into(),
            self.dir.path().display().to_string(),
            "-p".into(),
            self.port.to_string(),
            "-U".into(),
            "postgres".into(),
        ]
    }

    fn psql(&self, sql: &str) {
        let mut child = self
            .command("psql")
            .args(self.connection())
            .args(["-q", "-v", "ON_ERROR_STOP=1", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "psql failed");
    }

    fn pg_dump(&self, args: &[&str]) -> Vec<u8> {
        let output = self
            .command("pg_dump")
            .args(self.connection())
            .args(args)
            .arg("postgres")
            .output()
            .unwrap();
        assert!(output.status.success(), "pg_dump failed");
        output.stdout
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .stdout(Stdio::null())
            .status();
    }
}

#[test]
fn pg_dump_custom_format_table_data() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let secret = random_token(40);
    // Enough rows before the secret that it lies well past the first 4 KiB chunk of the
    // table's zlib stream (which carving alone would read).
    postgres.psql(&format!(
        "CREATE TABLE users(id int, note text);\n\
         INSERT INTO users SELECT g, 'user ' || g || ' ' || md5(g::text) FROM generate_series(1, 20000) g;\n\
         INSERT INTO users VALUES (0, 'api key {}');\n",
        String::from_utf8_lossy(&secret)
    ));
    let compressed = postgres.pg_dump(&["-Fc"]);
    let plain = postgres.pg_dump(&["-Fc", "-Z0"]);
    let dir = tempfile::tempdir().unwrap();
    assert!(!contains(&compressed, &secret), "the data is compressed");
    write(dir.path(), "nightly.dump", &compressed);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let places = result.places();
    assert_eq!(places.len(), 1, "findings: {:?}", result.findings());
    assert!(places[0].0.contains("nightly.dump!dump id "), "{places:?}");
    result.assert_no_leak(&secret);

    // Uncompressed, the rows are stored whole: found once, in the file itself.
    let plain_dir = tempfile::tempdir().unwrap();
    write(plain_dir.path(), "plain.dump", &plain);
    let result = scan(&secret, &[plain_dir.path()]);
    assert_found_once(&result, &secret, "plain.dump");
}

#[test]
fn lz4_frame_legacy_and_at_an_offset() {
    if !have("lz4") {
        return;
    }
    let secret = random_token(40);
    // lz4 stores new bytes as literals: the secret's halves appear first on their own, so
    // the secret itself is written as two back-references and is not in the file raw.
    // (lz4 looks back 64 KiB at most, so they come just before it.)
    let mut text = Vec::new();
    for i in 0..19_998 {
        text.extend_from_slice(format!("log line {i} nothing to see\n").as_bytes());
    }
    text.extend_from_slice(b"first half ");
    text.extend_from_slice(&secret[..20]);
    text.extend_from_slice(b"\nsecond half ");
    text.extend_from_slice(&secret[20..]);
    text.push(b'\n');
    text.extend_from_slice(b"token=");
    text.extend_from_slice(&secret);
    text.extend_from_slice(b"\nlast line\n");
    let frame = run_with_input("lz4", &["-c", "-9"], &text);
    let legacy = run_with_input("lz4", &["-c", "-l", "-9"], &text);
    for (name, bytes) in [("app.log.lz4", &frame), ("initrd.lz4", &legacy)] {
        assert!(!contains(bytes, &secret), "{name} is compressed");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, bytes);
        let result = scan(&secret, &[dir.path()]);
        assert_found_once(&result, &secret, name);
        assert_eq!(
            result.places()[0].1,
            20_001,
            "line counts through the decoded text"
        );
    }
    // A frame after a binary prefix (as inside a firmware image or a database record).
    let mut embedded = vec![0u8; 300];
    embedded.extend_from_slice(b"\x7FELF header-ish prefix\0\0");
    embedded.extend_from_slice(&frame);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "firmware.bin", &embedded);
    let result = scan(&secret, &[dir.path()]);
    assert_found_once(&result, &secret, "firmware.bin!lz4@324");
}

/// A cpio archive made by the real `cpio -o` in `format` (`bin` is GNU cpio's default) of
/// a tree holding the secret in `etc/app/credentials`.
fn cpio_archive(format: &str, secret: &[u8]) -> Vec<u8> {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "etc/hostname", "box\n");
    let mut content = b"[default]\naws_secret_access_key = ".to_vec();
    content.extend_from_slice(secret);
    content.push(b'\n');
    write(tree.path(), "etc/app/credentials", &content);
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && find . | sort | cpio -o --quiet -H {format}",
            tree.path().display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "cpio failed");
    output.stdout
}

#[test]
fn cpio_binary_newc_and_odc_members() {
    if !have("cpio") {
        return;
    }
    let secret = random_token(40);
    for format in ["bin", "newc", "odc", "crc"] {
        let archive = cpio_archive(format, &secret);
        // The member is stored raw, so the plain scan would find it too: what matters is
        // that it is found once, as a member named by its path.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &format!("initrd-{format}.img"), &archive);
        let result = scan(&secret, &[dir.path()]);
        assert_found_once(
            &result,
            &secret,
            &format!("initrd-{format}.img!etc/app/credentials"),
        );
        assert_eq!(result.places()[0].1, 2, "{format}: line within the member");
    }
    // Compressed, as an initramfs is: the gzip layer, then the cpio members.
    let mut gz = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    gz.stdin
        .take()
        .unwrap()
        .write_all(&cpio_archive("newc", &secret))
        .unwrap();
    let compressed = gz.wait_with_output().unwrap().stdout;
    assert!(!contains(&compressed, &secret));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "initrd.img", &compressed);
    let result = scan(&secret, &[dir.path()]);
    assert_found_once(&result, &secret, "initrd.img!etc/app/credentials");
}

/// Random bytes as a SQLite blob literal.
fn blob_literal(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("X'{hex}'")
}

/// A Chromium `Cookies` database, with Chrome's schema, made by `sqlite3`: every cookie value
/// is AES ciphertext behind a `v10` tag, as Chrome on Linux writes it. A session token kept
/// there cannot be read, so the database is an `encrypted` gap, never a clean pass; the same
/// schema with no encrypted value, and another app's `v10` blob, stay clean.
#[test]
fn chromium_encrypted_values_are_an_encrypted_gap() {
    if !have("sqlite3") {
        return;
    }
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let schema =
        "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);\n\
        CREATE TABLE cookies(creation_utc INTEGER NOT NULL,host_key TEXT NOT NULL,\
        top_frame_site_key TEXT NOT NULL,name TEXT NOT NULL,value TEXT NOT NULL,\
        encrypted_value BLOB NOT NULL,path TEXT NOT NULL,expires_utc INTEGER NOT NULL,\
        is_secure INTEGER NOT NULL,is_httponly INTEGER NOT NULL,last_access_utc INTEGER NOT NULL,\
        has_expires INTEGER NOT NULL,is_persistent INTEGER NOT NULL,priority INTEGER NOT NULL,\
        samesite INTEGER NOT NULL,source_scheme INTEGER NOT NULL,source_port INTEGER NOT NULL,\
        last_update_utc INTEGER NOT NULL);\n\
        INSERT INTO meta VALUES('version','21');\n";
    let mut rows = String::new();
    for (i, host) in [".github.com", ".gitlab.example.com", "ci.example.com"]
        .iter()
        .enumerate()
    {
        let mut ciphertext = b"v10".to_vec();
        ciphertext.extend(random_token(48).iter().map(|b| b.wrapping_mul(151)));
        rows.push_str(&format!(
            "INSERT INTO cookies VALUES(1337{i},'{host}','','session','',{},'/',0,1,1,0,1,1,1,0,2,443,0);\n",
            blob_literal(&ciphertext)
        ));
    }
    let profile = dir.path().join("profile");
    std::fs::create_dir(&profile).unwrap();
    let cookies = profile.join("Cookies");
    let sql = format!("{schema}{rows}");
    run_with_input("sqlite3", &[cookies.to_str().unwrap()], sql.as_bytes());
    assert!(!contains(&std::fs::read(&cookies).unwrap(), &secret));
    let result = scan(&secret, &[&profile]);
    assert_eq!(result.verdict(), "incomplete", "gaps: {:?}", result.gaps());
    let gaps = result.gaps();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["kind"], "encrypted", "{gaps:?}");
    let said = gaps[0].to_string();
    assert!(
        said.contains("Cookies") && said.contains("3 values"),
        "{said}"
    );
    result.assert_no_leak(&secret);

    // The same schema with no value in it, and another app's `v10` blob: nothing encrypted.
    let clean = dir.path().join("clean");
    std::fs::create_dir(&clean).unwrap();
    let empty = clean.join("Cookies");
    run_with_input("sqlite3", &[empty.to_str().unwrap()], schema.as_bytes());
    let mut tagged = b"v10".to_vec();
    tagged.extend_from_slice(&[0x42; 40]);
    let other = format!(
        "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB);\nINSERT INTO blobs(data) VALUES({});\n",
        blob_literal(&tagged)
    );
    run_with_input(
        "sqlite3",
        &[clean.join("app.db").to_str().unwrap()],
        other.as_bytes(),
    );
    let result = scan(&secret, &[&clean]);
    assert_eq!(result.verdict(), "absent", "gaps: {:?}", result.gaps());
}
