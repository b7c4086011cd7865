//! Binary formats that hide text from a raw scan, each sample built with the real tool:
//! OpenPGP messages that are not encrypted, Redis snapshots, brotli, qcow2 and VMDK images,
//! v7 tar, systemd journal files and PostgreSQL data files. Every sample is checked not to
//! hold the secret raw, so a pass means the layer decoded it.

mod archive_support;
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use archive_support::gap_kinds;
use common::{random_token, scan, write};

/// A tool the test needs: required in CI (where .ci/run installs it), skipped elsewhere.
fn tool(program: &str) -> Option<Command> {
    let found = (Path::new(program).is_absolute() && Path::new(program).exists())
        || Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: {program} is not installed");
        return None;
    }
    Some(Command::new(program))
}

fn run(mut command: Command) -> Vec<u8> {
    let output = command.output().expect("run tool");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn assert_not_raw(bytes: &[u8], secret: &[u8]) {
    assert!(
        memchr::memmem::find(bytes, secret).is_none(),
        "the sample holds the secret raw: the test would prove nothing"
    );
}

/// The scan found the secret, with no gap, and leaked nothing.
fn assert_found(result: &common::Scan, secret: &[u8]) {
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    result.assert_no_leak(secret);
}

/// Text that compresses well (so every compressor really compresses it) around the secret.
fn compressible_with(secret: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..200 {
        text.extend_from_slice(format!("line {i}: the quick brown fox jumps over\n").as_bytes());
    }
    text.extend_from_slice(b"api_token=");
    text.extend_from_slice(secret);
    text.push(b'\n');
    for i in 0..200 {
        text.extend_from_slice(format!("line {i}: the lazy dog sleeps\n").as_bytes());
    }
    text
}

/// Words of random letters: zstd and xz entropy-code them, so a secret among them is not
/// stored as a raw literal.
fn words_with(secret: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut words = |n: usize| {
        (0..n)
            .map(|_| {
                let len = rng.gen_range(2..9);
                (0..len)
                    .map(|_| b"etaoinshrdlu"[rng.gen_range(0..12)] as char)
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "{} token={} {}",
        words(300),
        String::from_utf8_lossy(secret),
        words(300)
    )
}

struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Option<Gpg> {
        tool("gpg")?;
        let home = tempfile::tempdir().unwrap();
        Some(Gpg { home })
    }

    fn command(&self) -> Command {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--yes",
            "--quiet",
            "--pinentry-mode",
            "loopback",
        ]);
        command
    }

    fn with_signing_key(self) -> Gpg {
        let mut command = self.command();
        command.args([
            "--passphrase",
            "",
            "--quick-gen-key",
            "scour test <test@example.invalid>",
            "future-default",
            "sign",
            "never",
        ]);
        run(command);
        self
    }

    /// Runs gpg with `args`, the input file and the output file last.
    fn make(&self, args: &[&str], input: &Path, output: &Path) -> Vec<u8> {
        let mut command = self.command();
        command.args(args).arg("-o").arg(output).arg(input);
        run(command);
        std::fs::read(output).unwrap()
    }
}

#[test]
fn openpgp_messages_that_are_not_encrypted_are_read() {
    let Some(gpg) = Gpg::new() else { return };
    let gpg = gpg.with_signing_key();
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain/creds.txt", compressible_with(&secret));
    let root = dir.path().join("store");
    std::fs::create_dir_all(&root).unwrap();
    let samples: &[(&str, &[&str])] = &[
        ("store.gpg", &["--store"]),
        ("store-z6.gpg", &["-z", "6", "--store"]),
        ("store-zlib.gpg", &["--compress-algo", "zlib", "--store"]),
        ("signed.gpg", &["--sign"]),
        ("signed-bzip2.gpg", &["--compress-algo", "bzip2", "-s"]),
        ("signed.asc", &["--armor", "--sign"]),
        ("store.asc", &["-a", "--store"]),
    ];
    for (name, args) in samples {
        let bytes = gpg.make(args, &plain, &root.join(name));
        assert_not_raw(&bytes, &secret);
    }
    // From standard input, gpg writes the literal data with partial body lengths.
    let mut command = gpg.command();
    command
        .args(["-z", "9", "--store"])
        .stdin(std::fs::File::open(&plain).unwrap());
    let piped = run(command);
    assert_not_raw(&piped, &secret);
    write(&root, "piped.gpg", &piped);
    // An armored message inside an email body.
    let armored = std::fs::read(root.join("signed.asc")).unwrap();
    let mut email = b"From: ops@example.invalid\nSubject: creds\n\nHere you go:\n\n".to_vec();
    email.extend_from_slice(&armored);
    email.extend_from_slice(b"\n-- \nops\n");
    write(&root, "mail/creds.eml", &email);

    let result = scan(&secret, &[&root]);
    assert_found(&result, &secret);
    let mut found: Vec<String> = result
        .places()
        .iter()
        .map(|(place, _)| {
            let relative = place.split_once("/store/").map_or(&place[..], |(_, r)| r);
            relative.split('!').next().unwrap_or_default().to_string()
        })
        .collect();
    found.sort();
    found.dedup();
    let mut expected: Vec<String> = samples.iter().map(|(n, _)| n.to_string()).collect();
    expected.push("piped.gpg".into());
    expected.push("mail/creds.eml".into());
    expected.sort();
    assert_eq!(found, expected, "{:?}", result.places());
    // The block in the email is read once (its base64 decoded), and is no encrypted gap.
    let in_email = result
        .places()
        .iter()
        .filter(|(place, _)| place.contains("mail/creds.eml"))
        .count();
    assert_eq!(in_email, 1, "{:?}", result.places());
    // The literal packet's file name is the member name.
    assert!(
        result
            .places()
            .iter()
            .any(|(place, _)| place.ends_with("store.gpg!creds.txt")),
        "{:?}",
        result.places()
    );
}

#[test]
fn encrypted_openpgp_stays_an_encrypted_gap_armored_or_not() {
    let Some(gpg) = Gpg::new() else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain/creds.txt", compressible_with(&secret));
    let root = dir.path().join("store");
    std::fs::create_dir_all(&root).unwrap();
    let pass = ["--passphrase", "hunter2"];
    for (name, extra) in [("c.gpg", None), ("c.asc", Some("--armor"))] {
        let mut args = pass.to_vec();
        args.extend(extra);
        args.push("-c");
        let bytes = gpg.make(&args, &plain, &root.join(name));
        assert_not_raw(&bytes, &secret);
    }
    let result = scan(&secret, &[&root]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.gaps());
    assert_eq!(result.code(), 3);
    let gaps = result.gaps();
    assert_eq!(gap_kinds(&gaps), ["encrypted", "encrypted"], "{gaps:?}");
    result.assert_no_leak(&secret);
}

/// A throwaway redis-server on 127.0.0.1, a free port and a temporary directory.
struct Redis {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Option<Redis> {
        tool("redis-server")?;
        tool("redis-cli")?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let redis = Redis { child, port, dir };
        for _ in 0..100 {
            if redis
                .cli(&["PING"])
                .is_ok_and(|out| out.starts_with(b"PONG"))
            {
                return Some(redis);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn cli(&self, args: &[&str]) -> std::io::Result<Vec<u8>> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()?;
        Ok(output.stdout)
    }

    /// Runs one command whose last argument comes from standard input (`-x`).
    fn cli_with_value(&self, args: &[&str], value: &[u8]) {
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-x"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(value).unwrap();
        assert!(child.wait().unwrap().success());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_snapshot_values_are_decompressed() {
    let Some(redis) = Redis::start() else { return };
    let secrets: Vec<Vec<u8>> = (0..4).map(|_| random_token(40)).collect();
    // A string, a list element, a hash value and a set member, each long and compressible,
    // so Redis stores it LZF-compressed.
    redis.cli_with_value(&["SET", "session:1"], &compressible_with(&secrets[0]));
    redis.cli_with_value(&["RPUSH", "queue"], &compressible_with(&secrets[1]));
    redis.cli_with_value(
        &["HSET", "user:7", "token"],
        &compressible_with(&secrets[2]),
    );
    redis.cli_with_value(&["SADD", "tokens"], &compressible_with(&secrets[3]));
    assert!(redis.cli(&["SAVE"]).unwrap().starts_with(b"OK"));
    let rdb = std::fs::read(redis.dir.path().join("dump.rdb")).unwrap();
    assert!(rdb.starts_with(b"REDIS00"));
    for secret in &secrets {
        assert_not_raw(&rdb, secret);
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "backup/dump.rdb", &rdb);
    for secret in &secrets {
        let result = scan(secret, &[dir.path()]);
        assert_found(&result, secret);
    }
}

#[test]
fn brotli_files_are_decoded() {
    let Some(mut brotli) = tool("brotli") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain/app.js", compressible_with(&secret));
    let output = dir.path().join("site/app.js.br");
    std::fs::create_dir_all(output.parent().unwrap()).unwrap();
    brotli.arg("-o").arg(&output).arg(&plain);
    run(brotli);
    let bytes = std::fs::read(&output).unwrap();
    assert_not_raw(&bytes, &secret);
    // The same bytes without the name that says brotli are not guessed at.
    write(dir.path(), "site/renamed.bin", &bytes);
    let result = scan(&secret, &[&dir.path().join("site/app.js.br")]);
    assert_found(&result, &secret);
}

/// A 16 MiB raw disk with `content` at an odd offset (across a 64 KiB cluster boundary).
fn raw_disk(dir: &Path, content: &[u8]) -> std::path::PathBuf {
    let path = dir.join("disk.raw");
    let mut disk = vec![0u8; 16 << 20];
    let at = (3 << 16) - 100;
    disk[at..at + content.len()].copy_from_slice(content);
    std::fs::write(&path, disk).unwrap();
    path
}

#[test]
fn qcow2_compressed_images_and_vmdk_stream_optimized_are_read() {
    if tool("qemu-img").is_none() {
        return;
    }
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_disk(dir.path(), &compressible_with(&secret));
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    for (name, args) in [
        ("disk.qcow2", &["-c", "-O", "qcow2"][..]),
        ("disk-v2.qcow2", &["-c", "-O", "qcow2", "-o", "compat=0.10"]),
        (
            "disk-zstd.qcow2",
            &["-c", "-O", "qcow2", "-o", "compression_type=zstd"],
        ),
        ("plain.qcow2", &["-O", "qcow2", "-o", "cluster_size=4096"]),
        (
            "disk.vmdk",
            &["-O", "vmdk", "-o", "subformat=streamOptimized"],
        ),
    ] {
        let mut command = Command::new("qemu-img");
        command
            .arg("convert")
            .args(args)
            .arg(&raw)
            .arg(images.join(name));
        run(command);
        if name != "plain.qcow2" {
            assert_not_raw(&std::fs::read(images.join(name)).unwrap(), &secret);
        }
    }
    let result = scan(&secret, &[&images]);
    assert_found(&result, &secret);
    let mut found: Vec<String> = result
        .places()
        .iter()
        .map(|(place, _)| {
            let file = place.split('!').next().unwrap_or_default();
            file.rsplit('/').next().unwrap_or_default().to_string()
        })
        .collect();
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        [
            "disk-v2.qcow2",
            "disk-zstd.qcow2",
            "disk.qcow2",
            "disk.vmdk",
            "plain.qcow2"
        ]
    );
}

#[test]
fn v7_tar_members_are_opened() {
    if tool("tar").is_none() || tool("xz").is_none() {
        return;
    }
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    // An lzma-alone member (no magic number: only readable where the member starts).
    let plain = write(&source, "etc/app.conf", compressible_with(&secret));
    let mut xz = Command::new("xz");
    xz.args(["--format=lzma", "-k"]).arg(&plain);
    run(xz);
    std::fs::remove_file(&plain).unwrap();
    let archive = dir.path().join("old.tar");
    let mut tar = Command::new("tar");
    tar.args(["--format=v7", "-cf"])
        .arg(&archive)
        .arg("-C")
        .arg(&source)
        .arg("etc");
    run(tar);
    let bytes = std::fs::read(&archive).unwrap();
    assert!(!bytes[257..262].starts_with(b"ustar"), "a v7 header");
    assert_not_raw(&bytes, &secret);
    let result = scan(&secret, &[&archive]);
    assert_found(&result, &secret);
    assert!(
        result.places()[0].0.ends_with("old.tar!etc/app.conf.lzma"),
        "{:?}",
        result.places()
    );
}

#[test]
fn systemd_journal_compressed_fields_are_read() {
    if tool("/usr/lib/systemd/systemd-journal-remote").is_none() {
        return;
    }
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let export = format!(
        "__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=12345\n\
         _BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\nMESSAGE={}\n\n\
         __REALTIME_TIMESTAMP=1700000000000001\n__MONOTONIC_TIMESTAMP=12346\n\
         _BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=web1\nMESSAGE=short line\n\n",
        words_with(&secret)
    );
    let journal = dir.path().join("log/remote.journal");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    let mut child = Command::new("/usr/lib/systemd/systemd-journal-remote")
        .arg(format!("--output={}", journal.display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let bytes = std::fs::read(&journal).unwrap();
    assert!(bytes.starts_with(b"LPKSHHRH"));
    assert_not_raw(&bytes, &secret);
    let result = scan(&secret, &[&journal]);
    assert_found(&result, &secret);
}

/// A throwaway PostgreSQL cluster on a Unix socket, run as `postgres` when the tests run
/// as root (PostgreSQL refuses to run as root).
struct Postgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Postgres {
    fn start() -> Option<Postgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|entries| {
                let mut dirs: Vec<_> = entries
                    .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                    .filter(|p| p.join("initdb").exists())
                    .collect();
                dirs.sort();
                dirs.pop()
            });
        let Some(bin) = bin else {
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
        let port = 20_000 + ((std::process::id() + 7_919) % 20_000) as u16;
        let cluster = Postgres { bin, dir, port };
        let mut initdb = cluster.command("initdb");
        initdb
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(cluster.data());
        run(initdb);
        let options = format!(
            "-k {} -c listen_addresses= -p {port}",
            cluster.dir.path().display()
        );
        let mut start = cluster.command("pg_ctl");
        start
            .args(["-w", "-D"])
            .arg(cluster.data())
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.path().join("log"))
            .arg("start");
        run(start);
        Some(cluster)
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
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

    /// Runs `sql`; returns what psql printed (tuples only, unaligned).
    fn psql(&self, sql: &str) -> String {
        let mut child = self
            .command("psql")
            .args(["-h", &self.dir.path().display().to_string()])
            .args(["-p", &self.port.to_string(), "-U", "postgres"])
            .args(["-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "psql failed");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.args(["-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .stdout(Stdio::null());
        let _ = stop.status();
    }
}

#[test]
fn postgresql_heap_files_with_compressed_values_are_read() {
    let Some(pg) = Postgres::start() else { return };
    let inline = random_token(40);
    let toasted = random_token(40);
    // Numbered lines around the secret: 200 short ones compress below the TOAST threshold
    // (stored compressed in the row), 4000 varied ones compress to more than that (stored
    // out of line, compressed, in chunks of a TOAST table).
    let text = |secret: &[u8], lines: u64| {
        let mut value = String::new();
        for i in 0..lines {
            if lines > 1000 {
                value.push_str(&format!("line {i}: checksum {}\n", i * 7919 % 10007));
            } else {
                value.push_str(&format!("line {i}: the quick brown fox\n"));
            }
            if i == lines / 2 {
                value.push_str(&format!("api_token={}\n", String::from_utf8_lossy(secret)));
            }
        }
        value
    };
    pg.psql(&format!(
        "CREATE TABLE notes(id int, body text);\n\
         INSERT INTO notes VALUES (1, '{}'), (2, '{}');\nCHECKPOINT;\n",
        text(&inline, 200),
        text(&toasted, 4000)
    ));
    let heap = pg.psql("SELECT pg_relation_filepath('notes');");
    let toast = pg
        .psql("SELECT pg_relation_filepath(reltoastrelid) FROM pg_class WHERE relname = 'notes';");
    let copy = tempfile::tempdir().unwrap();
    for (name, relative) in [("heap", &heap), ("toast", &toast)] {
        let bytes = std::fs::read(pg.data().join(relative)).unwrap();
        assert_not_raw(&bytes, &inline);
        assert_not_raw(&bytes, &toasted);
        write(copy.path(), &format!("base/{name}"), &bytes);
    }
    for secret in [&inline, &toasted] {
        let result = scan(secret, &[copy.path()]);
        assert_found(&result, secret);
    }
}
