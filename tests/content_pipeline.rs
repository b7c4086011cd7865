//! The content pipeline on artifacts made by the real tools: formats found after a prefix
//! and at an offset, streams carved out of binary records, encrypted stores, and
//! high-entropy content no layer could read (`opaque`). Every sample is checked not to hold
//! the secret raw, so a test cannot pass by the raw scan alone.

mod archive_support;
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use archive_support::{gap_kinds, text_with};
use common::{random_token, scan, scan_with_secrets, write};

/// Runs a tool that must exist (CI installs it); outside CI a missing tool skips the test.
fn tool(name: &str) -> Option<Command> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: {name} is not installed");
        return None;
    }
    Some(Command::new(name))
}

fn run(mut command: Command, dir: &Path) {
    let status = command.current_dir(dir).status().expect("run tool");
    assert!(status.success(), "{command:?} failed");
}

fn assert_not_raw(bytes: &[u8], secret: &[u8]) {
    assert!(
        memchr::memmem::find(bytes, secret).is_none(),
        "the sample holds the secret raw: the test would prove nothing"
    );
}

fn chains(scan: &common::Scan) -> Vec<String> {
    scan.places().into_iter().map(|(p, _)| p).collect()
}

#[test]
fn a_zip_behind_a_shebang_line_is_read() {
    let Some(mut zip) = tool("zip") else { return };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    write(&work, "app/settings.py", text_with(&secret, 3, "TOKEN = '"));
    zip.args(["-q", "-r", "../app.zip", "app"]);
    run(zip, &work);
    let mut pyz = b"#!/usr/bin/env python3\n".to_vec();
    pyz.extend(std::fs::read(dir.path().join("app.zip")).unwrap());
    assert_not_raw(&pyz, &secret);
    let root = dir.path().join("out");
    write(&root, "tool.pyz", &pyz);
    let result = scan(&secret, &[&root]);
    assert_eq!(result.verdict(), "found", "{:?}", result.gaps());
    assert!(
        chains(&result)
            .iter()
            .any(|c| c.ends_with("tool.pyz!zip@23!app/settings.py")),
        "{:?}",
        chains(&result)
    );
    result.assert_no_leak(&secret);
}

#[test]
fn a_self_extracting_installer_is_read() {
    let Some(mut tar) = tool("tar") else { return };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload");
    write(&payload, "etc/app.env", text_with(&secret, 2, "API_KEY="));
    tar.args(["czf", "../payload.tar.gz", "etc"]);
    run(tar, &payload);
    let mut installer = b"#!/bin/sh\n# installer\nARCHIVE=$(awk '/^__ARCHIVE__/ {print NR + 1; exit 0; }' \"$0\")\ntail -n+$ARCHIVE \"$0\" | tar xz\nexit 0\n__ARCHIVE__\n".to_vec();
    installer.extend(std::fs::read(dir.path().join("payload.tar.gz")).unwrap());
    assert_not_raw(&installer, &secret);
    let root = dir.path().join("out");
    write(&root, "install.run", &installer);
    let result = scan(&secret, &[&root]);
    assert_eq!(result.verdict(), "found", "{:?}", result.gaps());
    assert!(
        chains(&result)
            .iter()
            .any(|c| c.contains("install.run!gzip@") && c.ends_with("!etc/app.env")),
        "{:?}",
        chains(&result)
    );
}

#[test]
fn zlib_streams_inside_binary_records_are_decoded() {
    let secret = random_token(32);
    let mut record = vec![0u8, 1, 2, 3, 0, 0, 0, 42];
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&text_with(&secret, 40, "password: "))
        .unwrap();
    let compressed = encoder.finish().unwrap();
    record.extend((compressed.len() as u32).to_le_bytes());
    record.extend(&compressed);
    record.extend([0u8; 100]);
    assert_not_raw(&record, &secret);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "data.bin", &record);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(
        chains(&result)
            .iter()
            .any(|c| c.ends_with("data.bin!zlib@12")),
        "{:?}",
        chains(&result)
    );
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}

#[test]
fn pdf_flate_streams_are_decoded() {
    let secret = random_token(32);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let text = format!(
        "BT /F1 12 Tf 72 712 Td (password {}) Tj ET",
        String::from_utf8_lossy(&secret)
    );
    encoder.write_all(text.as_bytes()).unwrap();
    let stream = encoder.finish().unwrap();
    let mut pdf =
        b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n4 0 obj\n".to_vec();
    pdf.extend(
        format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .as_bytes(),
    );
    pdf.extend(&stream);
    pdf.extend(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    assert_not_raw(&pdf, &secret);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "report.pdf", &pdf);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found", "{:?}", result.gaps());
    assert!(chains(&result)[0].contains("report.pdf!zlib@"));
}

#[test]
fn zstd_with_a_leading_skippable_frame_and_legacy_lzma_are_read() {
    let (Some(mut zstd), Some(mut xz)) = (tool("zstd"), tool("xz")) else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let plain = write(
        dir.path(),
        "src/dump.sql",
        text_with(&secret, 3000, "INSERT INTO keys VALUES ('"),
    );
    zstd.args(["-q", "-o", "dump.sql.zst.frame", "src/dump.sql"]);
    run(zstd, dir.path());
    xz.args(["--format=lzma", "-k", "-c"]).arg(&plain);
    let lzma = xz.output().expect("xz").stdout;
    let frame = std::fs::read(dir.path().join("dump.sql.zst.frame")).unwrap();
    let mut skippable = b"\x50\x2A\x4D\x18\x08\x00\x00\x00seekable".to_vec();
    skippable.extend(&frame);
    assert_not_raw(&skippable, &secret);
    assert_not_raw(&lzma, &secret);
    let root = dir.path().join("out");
    write(&root, "dump.sql.zst", &skippable);
    write(&root, "dump.sql.lzma", &lzma);
    let result = scan(&secret, &[&root]);
    assert_eq!(result.verdict(), "found");
    let mut found: Vec<String> = chains(&result)
        .iter()
        .map(|c| c.rsplit('/').next().unwrap().to_string())
        .collect();
    found.sort();
    assert_eq!(found, ["dump.sql.lzma", "dump.sql.zst"]);
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}

#[test]
fn encrypted_stores_are_gaps_never_absent() {
    let (Some(mut openssl), Some(mut gpg)) = (tool("openssl"), tool("gpg")) else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let plain = write(
        dir.path(),
        "plain/creds.txt",
        text_with(&secret, 1, "token="),
    );
    let root = dir.path().join("store");
    std::fs::create_dir_all(&root).unwrap();
    openssl
        .args([
            "enc",
            "-aes-256-cbc",
            "-pbkdf2",
            "-pass",
            "pass:hunter2",
            "-in",
        ])
        .arg(&plain)
        .arg("-out")
        .arg(root.join("creds.enc"));
    run(openssl, dir.path());
    let home = dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    gpg.env("GNUPGHOME", &home)
        .args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "hunter2",
            "-c",
            "-o",
        ])
        .arg(root.join("creds.txt.gpg"))
        .arg(&plain);
    run(gpg, dir.path());
    write(
        &root,
        "group_vars/all.yml",
        "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  62313365396662343061393464336163383764373764613633653634306231386433626436623361\n  6134333665353966363534333632666535333761666131620a663537646436643839616531643561\n",
    );
    for file in ["creds.enc", "creds.txt.gpg"] {
        assert_not_raw(&std::fs::read(root.join(file)).unwrap(), &secret);
    }
    let result = scan(&secret, &[&root]);
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.code(), 3);
    let gaps = result.gaps();
    assert_eq!(
        gap_kinds(&gaps),
        ["encrypted", "encrypted", "encrypted"],
        "{gaps:?}"
    );
    let reasons: Vec<&str> = gaps.iter().map(|g| g["reason"].as_str().unwrap()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("openssl enc")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("openpgp")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("ansible-vault")),
        "{reasons:?}"
    );
}

/// Bytes that look like ciphertext (a fixed-seed generator, so the test is repeatable).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

#[test]
fn high_entropy_content_no_layer_reads_is_opaque() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    // After the noise, a base64 run the decode layer reads: the last thing read inside the
    // leaf, which the leaf's own opaque gap must not name.
    let mut blob = noise(300 << 10);
    blob.extend_from_slice(b"\nconfig=");
    blob.extend_from_slice(
        b"bm90aGluZyB0byBzZWUgaGVyZSwganVzdCBzb21lIGNvbmZpZ3VyYXRpb24gdGV4dCBmb3IgdGhlIHRlc3Q=\n",
    );
    write(dir.path(), "blob.dat", blob);
    write(dir.path(), "small-key.bin", noise(32));
    write(dir.path(), "notes.txt", "nothing to see here\n");
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete");
    let gaps = result.gaps();
    assert_eq!(gap_kinds(&gaps), ["opaque"], "{gaps:?}");
    assert!(gaps[0]["chain"][0].as_str().unwrap().ends_with("blob.dat"));
    let reason = gaps[0]["reason"].as_str().unwrap();
    assert!(!reason.contains("while reading"), "{reason}");

    // Accepted explicitly: no gap, and the report says what was accepted.
    let accepted = scan_with_secrets(&[&secret], &[dir.path()], &["--allow-opaque"]);
    assert_eq!(accepted.verdict(), "absent");
    let root = &accepted.report["coverage"]["roots"][0];
    assert_eq!(root["opaque_accepted"]["regions"], 1);
    assert!(root["opaque_accepted"]["bytes"].as_u64().unwrap() >= 256 << 10);
    assert_eq!(accepted.report["scan"]["allow_opaque"], true);
}

#[test]
fn media_and_ordinary_executables_are_not_opaque() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    jpeg.extend(noise(200 << 10));
    write(dir.path(), "photo.jpg", &jpeg);
    let exe = std::fs::read("/bin/ls")
        .or_else(|_| std::fs::read("/usr/bin/ls"))
        .unwrap();
    write(dir.path(), "ls-copy", &exe);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "absent", "{:?}", result.gaps());
}

#[test]
fn compressed_content_read_by_a_layer_is_not_opaque() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    // 300 KiB of incompressible data, gzipped: the gzip is read, its content is opaque.
    let gz = archive_support::gzip(&noise(300 << 10));
    write(dir.path(), "random.gz", &gz);
    // Text gzipped and then buried at an offset of a binary file: carved, read, not opaque.
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("log line {i} all is well\n").into_bytes())
        .collect();
    let mut container = vec![0u8; 64];
    container.extend(archive_support::gzip(&text));
    container.extend(vec![0u8; 64]);
    write(dir.path(), "bundle.bin", &container);
    let result = scan(&secret, &[dir.path()]);
    let gaps = result.gaps();
    assert_eq!(gap_kinds(&gaps), ["opaque"], "{gaps:?}");
    assert!(gaps[0]["chain"][0].as_str().unwrap().ends_with("random.gz"));
}

/// CMS and S/MIME encryption and PKCS#12 stores hold the secret only as ciphertext: DER
/// with no magic number at byte 0, or base64 of it in a mail or PEM block. Each must be an
/// `encrypted` gap; a certificate in DER, with no ciphertext, must not be.
#[test]
fn cms_smime_and_pkcs12_ciphertext_are_encrypted_gaps() {
    let Some(_) = tool("openssl") else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "creds.txt", text_with(&secret, 1, "token="));
    std::fs::create_dir_all(dir.path().join("store")).unwrap();
    std::fs::create_dir_all(dir.path().join("clean")).unwrap();
    let openssl = |line: &str| {
        let mut command = Command::new("openssl");
        command.args(line.split(' ')).stderr(Stdio::null());
        run(command, dir.path());
    };
    // The recipient's name is plaintext in CMS, so the secret is only the PKCS#12
    // certificate's subject.
    let subject = format!("/CN={}", String::from_utf8_lossy(&secret));
    for (name, subject) in [("recipient", "/CN=recipient"), ("cert", subject.as_str())] {
        openssl(&format!(
            "req -x509 -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.pem -days 2 -subj {subject}"
        ));
    }
    openssl("cms -encrypt -in creds.txt -outform DER -out store/msg.p7m recipient.pem");
    openssl("cms -encrypt -in creds.txt -outform PEM -out store/msg.pem recipient.pem");
    openssl("smime -encrypt -aes256 -in creds.txt -out store/mail.eml recipient.pem");
    openssl(
        "pkcs12 -export -in cert.pem -inkey cert.key -passout pass:hunter2 -certpbe AES-256-CBC \
         -out store/bundle.p12",
    );
    openssl("x509 -in recipient.pem -outform DER -out clean/recipient.der");
    for file in ["msg.p7m", "msg.pem", "mail.eml", "bundle.p12"] {
        let path = dir.path().join("store").join(file);
        assert_not_raw(&std::fs::read(&path).unwrap(), &secret);
        let result = scan(&secret, &[&path]);
        assert_eq!(result.code(), 3, "{file}: {}", result.report);
        let gaps = result.gaps();
        assert!(
            gap_kinds(&gaps).contains(&"encrypted".to_string()),
            "{file}: {gaps:?}"
        );
    }
    let result = scan(&secret, &[&dir.path().join("clean")]);
    assert_eq!(
        result.code(),
        0,
        "a certificate is no ciphertext: {}",
        result.report
    );
}

#[test]
fn backup_repositories_made_by_restic_and_borg_are_encrypted_gaps() {
    let (Some(mut restic), Some(mut borg_init)) = (tool("restic"), tool("borg")) else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "data/app.env",
        text_with(&secret, 2, "SECRET_KEY="),
    );
    let backups = dir.path().join("backups");
    restic
        .env("RESTIC_PASSWORD", "correct horse")
        .args(["--quiet", "init", "--repo"])
        .arg(backups.join("restic"));
    run(restic, dir.path());
    let mut backup = Command::new("restic");
    backup
        .env("RESTIC_PASSWORD", "correct horse")
        .args(["--quiet", "backup", "data", "--repo"])
        .arg(backups.join("restic"));
    run(backup, dir.path());
    borg_init
        .env("BORG_PASSPHRASE", "correct horse")
        .env("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes")
        .env("HOME", dir.path())
        .args(["init", "--encryption=repokey"])
        .arg(backups.join("borg"));
    run(borg_init, dir.path());
    let mut create = Command::new("borg");
    create
        .env("BORG_PASSPHRASE", "correct horse")
        .env("HOME", dir.path())
        .arg("create")
        .arg(format!("{}::first", backups.join("borg").display()))
        .arg("data");
    run(create, dir.path());
    let result = scan(&secret, &[&backups]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.gaps());
    let reasons: Vec<String> = result
        .gaps()
        .iter()
        .filter(|g| g["kind"] == "encrypted")
        .map(|g| g["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("restic repository")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("borg")), "{reasons:?}");
}

#[test]
fn lzip_files_are_read() {
    let Some(mut lzip) = tool("lzip") else { return };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "dump.sql",
        text_with(&secret, 3000, "VALUES ('"),
    );
    lzip.args(["-q", "dump.sql"]);
    run(lzip, dir.path());
    assert_not_raw(
        &std::fs::read(dir.path().join("dump.sql.lz")).unwrap(),
        &secret,
    );
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
}

#[test]
fn a_carved_stream_at_the_nesting_limit_is_a_gap_not_a_silent_stop() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut bundle = b"#!/bin/sh\nexit 0\n".to_vec();
    bundle.extend(archive_support::gzip(&text_with(&secret, 3000, "key=")));
    assert_not_raw(&bundle, &secret);
    write(dir.path(), "bundle.run", &bundle);
    let result = scan_with_secrets(&[&secret], &[dir.path()], &["--archive-max-depth", "0"]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.gaps());
    let gaps = result.gaps();
    // The gzip is one; the random bytes of the compressed text can also hold a run a
    // decode layer would follow (an escape run), which at the limit is a gap of its own.
    assert!(
        gap_kinds(&gaps).iter().all(|kind| kind == "limit-exceeded"),
        "{gaps:?}"
    );
    assert!(
        gaps.iter().any(|gap| gap["reason"]
            .as_str()
            .is_some_and(|r| r.contains("compressed streams or archives start inside it"))),
        "{gaps:?}"
    );
}

/// A one-page PDF whose content stream shows `text` (uncompressed, as a writer that does
/// not compress would leave it; qpdf compresses and encrypts it).
fn pdf_showing(text: &[u8]) -> Vec<u8> {
    let mut content = b"BT /F1 12 Tf 72 720 Td (".to_vec();
    content.extend_from_slice(text);
    content.extend_from_slice(b") Tj ET");
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(&content);
    stream.extend_from_slice(b"\nendstream");
    let objects: [&[u8]; 5] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
          /Resources << /Font << /F1 5 0 R >> >> >>",
        &stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A password-protected PDF (qpdf's standard security handler, AES-256 or AES-128, even
/// with an empty user password) is ciphertext: an `encrypted` gap, never `absent`. The same
/// PDF compressed but not encrypted is read.
#[test]
fn encrypted_pdfs_are_gaps_and_compressed_ones_are_read() {
    let Some(_) = tool("qpdf") else { return };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut shown = b"api_token=".to_vec();
    shown.extend_from_slice(&secret);
    write(dir.path(), "plain.pdf", pdf_showing(&shown));
    let qpdf = |args: &str| {
        let mut command = Command::new("qpdf");
        command.args(args.split(' ').map(|arg| arg.replace("EMPTY", "")));
        run(command, dir.path());
    };
    qpdf("--compress-streams=y --object-streams=generate plain.pdf compressed.pdf");
    qpdf("--encrypt user owner 256 -- plain.pdf aes256.pdf");
    qpdf("--encrypt EMPTY owner 128 --use-aes=y -- plain.pdf aes128-empty-user.pdf");
    qpdf("--object-streams=generate --encrypt user owner 256 -- plain.pdf aes256-objstm.pdf");
    let compressed = dir.path().join("compressed.pdf");
    assert_not_raw(&std::fs::read(&compressed).unwrap(), &secret);
    let result = scan(&secret, &[&compressed]);
    assert_eq!(result.verdict(), "found", "{}", result.report);
    for file in ["aes256.pdf", "aes128-empty-user.pdf", "aes256-objstm.pdf"] {
        let path = dir.path().join(file);
        assert_not_raw(&std::fs::read(&path).unwrap(), &secret);
        let result = scan(&secret, &[&path]);
        assert_eq!(result.code(), 3, "{file}: {}", result.report);
        let gaps = result.gaps();
        assert_eq!(gap_kinds(&gaps), ["encrypted"], "{file}: {gaps:?}");
        assert!(
            gaps[0]["reason"]
                .as_str()
                .unwrap()
                .contains("encrypted pdf"),
            "{file}: {gaps:?}"
        );
    }
}

/// A directory synced to an rclone crypt remote (a common cloud backup) is ciphertext file
/// by file, each under rclone's header: encrypted gaps, however small the files.
#[test]
fn rclone_crypt_files_are_encrypted_gaps() {
    let Some(mut rclone) = tool("rclone") else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/creds.txt", text_with(&secret, 1, "token="));
    write(dir.path(), "src/notes/todo.md", "rotate the token\n");
    let remote = dir.path().join("remote");
    let obscured = Command::new("rclone")
        .args(["obscure", "hunter2"])
        .output()
        .expect("rclone obscure");
    let password = String::from_utf8(obscured.stdout).unwrap();
    rclone
        .args(["--config", "/dev/null", "copy", "src", "vault:"])
        .env("RCLONE_CONFIG_VAULT_TYPE", "crypt")
        .env("RCLONE_CONFIG_VAULT_REMOTE", &remote)
        .env("RCLONE_CONFIG_VAULT_PASSWORD", password.trim());
    run(rclone, dir.path());
    let mut files = 0;
    for entry in walk_files(&remote) {
        assert_not_raw(&std::fs::read(&entry).unwrap(), &secret);
        files += 1;
    }
    assert_eq!(files, 2, "rclone wrote one file per source file");
    let result = scan(&secret, &[&remote]);
    assert_eq!(result.code(), 3, "{}", result.report);
    let gaps = result.gaps();
    assert_eq!(gap_kinds(&gaps), ["encrypted", "encrypted"], "{gaps:?}");
    assert!(gaps
        .iter()
        .all(|gap| gap["reason"].as_str().unwrap().contains("rclone crypt")));
}

fn walk_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// A zlib stream carved out of a binary that breaks off after real compressed output is a
/// `corrupt` gap; a false start in a binary table that runs on through "stored" blocks
/// (`78 01`, then `00 ff ff 00 00` before each 64 KiB of table) and then fails decoded
/// nothing the leaf's own scan did not read raw: no gap (a Go binary had two).
#[test]
fn a_damaged_zlib_stream_is_a_gap_and_a_stored_block_false_start_is_not() {
    use flate2::write::ZlibEncoder;
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    for i in 0..6000 {
        text.extend_from_slice(format!("{i:06} GET /api/v1/items 200 ok\n").as_bytes());
    }
    text.extend_from_slice(&text_with(&secret, 1, "token="));
    let mut encoder = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&text).unwrap();
    let compressed = encoder.finish().unwrap();
    let mut damaged = b"\x00\x01\x02record header\x00\x00\x00\x00".to_vec();
    damaged.extend_from_slice(&compressed[..compressed.len() * 2 / 3]);
    damaged.extend_from_slice(&[0xFF; 64]);
    let damaged_path = write(dir.path(), "damaged/record.bin", &damaged);
    let result = scan(&secret, &[&damaged_path]);
    assert_eq!(gap_kinds(&result.gaps()), ["corrupt"], "{}", result.report);

    let mut table = b"\x00\x00\x00\x10\x00\x00\x00".to_vec();
    table.extend_from_slice(b"x\x01");
    for block in 0..2u32 {
        table.extend_from_slice(&[0x00, 0xFF, 0xFF, 0x00, 0x00]);
        for i in 0..65535u32 {
            let entry = (i.wrapping_mul(2654435761) >> 24) as u8 & 0x1F;
            table.push(if i % 4 == 0 {
                entry
            } else {
                (block + i % 3) as u8
            });
        }
    }
    table.extend_from_slice(&[0x07, 0x00, 0x00]);
    let table_path = write(dir.path(), "table/lookup.bin", &table);
    let result = scan(&secret, &[&table_path]);
    assert_eq!(result.verdict(), "absent", "{}", result.report);
}

/// An encrypted directory made by gocryptfs is known by its configuration file: one
/// `encrypted` gap for the whole store, never `absent` (its files are short ciphertext
/// with no magic number). Where FUSE is there, a file is written through the mount too.
#[test]
fn a_gocryptfs_directory_is_an_encrypted_gap() {
    let Some(mut init) = tool("gocryptfs") else {
        return;
    };
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let cipher = dir.path().join("cipher");
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&cipher).unwrap();
    std::fs::create_dir_all(&plain).unwrap();
    init.args(["-init", "-q", "-extpass", "echo hunter2", "-scryptn", "10"])
        .arg(&cipher);
    run(init, dir.path());
    let mounted = Command::new("gocryptfs")
        .args(["-q", "-extpass", "echo hunter2"])
        .arg(&cipher)
        .arg(&plain)
        .status()
        .is_ok_and(|status| status.success());
    if mounted {
        std::fs::write(plain.join("creds.txt"), text_with(&secret, 1, "token=")).unwrap();
        // Whichever unmount tool this machine has (root may also umount directly).
        let unmounted = [
            ("fusermount", "-u"),
            ("fusermount3", "-u"),
            ("umount", "-l"),
        ]
        .iter()
        .any(|(tool, flag)| {
            Command::new(tool)
                .arg(flag)
                .arg(&plain)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
        assert!(unmounted, "the gocryptfs mount could not be undone");
    } else {
        eprintln!("no FUSE here: only the store's configuration is checked");
    }
    for file in walk_files(&cipher) {
        assert_not_raw(&std::fs::read(&file).unwrap(), &secret);
    }
    let result = scan(&secret, &[&cipher]);
    assert_eq!(result.code(), 3, "{}", result.report);
    let gaps = result.gaps();
    assert_eq!(gap_kinds(&gaps), ["encrypted"], "{gaps:?}");
    assert!(gaps[0]["reason"].as_str().unwrap().contains("gocryptfs"));
}
