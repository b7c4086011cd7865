//! Every compressed and archive format, alone and nested, found by its bytes.

mod archive_support;
mod common;

use archive_support::*;
use common::{random_token, scan, write};

/// The one finding's chain joined with `!` (innermost last) and its line.
fn only_place(scan: &common::Scan) -> (String, u64) {
    let places = scan.places();
    assert_eq!(places.len(), 1, "findings: {:?}", scan.findings());
    places[0].clone()
}

fn assert_found(scan: &common::Scan, secret: &[u8], chain_end: &str, line: u64) {
    assert_eq!(scan.verdict(), "found", "gaps: {:?}", scan.gaps());
    assert_eq!(scan.code(), 1);
    assert!(scan.gaps().is_empty(), "gaps: {:?}", scan.gaps());
    let (place, found_line) = only_place(scan);
    assert!(
        place.ends_with(chain_end),
        "{place} should end with {chain_end}"
    );
    assert_eq!(found_line, line);
    scan.assert_no_leak(secret);
}

#[test]
fn rotated_log_gz() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "logs/app.log.1.gz",
        gzip(&text_with(&secret, 3, "token=")),
    );
    let result = scan(&secret, &[dir.path()]);
    assert_found(&result, &secret, "logs/app.log.1.gz", 3);
    let archives = archives(&result.report);
    assert_eq!(archives.len(), 1);
    assert_eq!(archives[0]["format"], "gzip");
    assert_eq!(archives[0]["members_scanned"], 1);
    assert_eq!(archives[0]["max_depth"], 1);
}

#[test]
fn secret_only_in_the_second_gzip_member() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let mut concatenated = gzip(b"first rotated log\nnothing here\n");
    concatenated.extend(gzip(&text_with(&secret, 2, "password: ")));
    write(dir.path(), "app.log.gz", concatenated);
    let result = scan(&secret, &[dir.path()]);
    // Lines count through the whole decompressed stream: 2 lines, then line 2 of member 2.
    assert_found(&result, &secret, "app.log.gz", 4);
}

#[test]
fn tar_gz_member_names_the_chain() {
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tar = tar(&[
        ("srv/app/README", b"nothing"),
        ("srv/app/.env", &text_with(&secret, 3, "API_KEY=")),
    ]);
    let path = write(dir.path(), "backups/2024-10.tar.gz", gzip(&tar));
    let result = scan(&secret, &[dir.path()]);
    assert_found(&result, &secret, "backups/2024-10.tar.gz!srv/app/.env", 3);
    let chain = result.findings()[0]["location"]["chain"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(chain.len(), 2, "compression adds no element: {chain:?}");
    assert_eq!(chain[0], path.to_string_lossy().as_ref());
    let archives = archives(&result.report);
    assert_eq!(archives[0]["members_scanned"], 2);
    assert_eq!(archives[0]["max_depth"], 2);
}

#[test]
fn each_compression_of_a_tar() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let tar = tar(&[("etc/conf.ini", &text_with(&secret, 5, "secret = "))]);
    write(dir.path(), "a.tar.zst", zstd(&tar));
    write(dir.path(), "b.tar.xz", xz(&tar));
    write(dir.path(), "c.tar.bz2", bzip2(&tar));
    write(dir.path(), "d.tar", &tar);
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    let names: Vec<(String, u64)> = places
        .iter()
        .map(|(p, l)| (p.rsplit('/').nth(1).unwrap().to_string(), *l))
        .collect();
    assert_eq!(
        names,
        [
            "a.tar.zst!etc",
            "b.tar.xz!etc",
            "c.tar.bz2!etc",
            "d.tar!etc"
        ]
        .map(|n| (n.to_string(), 5))
    );
    for (place, _) in &places {
        assert!(place.ends_with("!etc/conf.ini"), "{place}");
    }
    let formats: Vec<String> = archives(&result.report)
        .iter()
        .map(|a| a["format"].as_str().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(formats, ["bzip2", "tar", "xz", "zstd"]);
    result.assert_no_leak(&secret);
}

#[test]
fn zip_and_jar_members() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bundle.zip",
        zip(&[
            ("docs/a.txt", b"x"),
            ("conf/db.yml", &text_with(&secret, 2, "pw: ")),
        ]),
    );
    write(
        dir.path(),
        "app.jar",
        zip(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                "BOOT-INF/classes/application.properties",
                &text_with(&secret, 4, "spring.datasource.password="),
            ),
        ]),
    );
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    assert_eq!(places.len(), 2);
    assert!(places[0]
        .0
        .ends_with("app.jar!BOOT-INF/classes/application.properties"));
    assert_eq!(places[0].1, 4);
    assert!(places[1].0.ends_with("bundle.zip!conf/db.yml"));
    assert_eq!(places[1].1, 2);
    result.assert_no_leak(&secret);
}

#[test]
fn zip_inside_tar_gz_inside_a_folder() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let jar = zip(&[(
        "config/secrets.json",
        &text_with(&secret, 2, "{\"key\": \""),
    )]);
    let tar = tar(&[
        ("opt/app/lib/service.jar", &jar),
        ("opt/app/run.sh", b"#!/bin/sh\n"),
    ]);
    write(dir.path(), "backups/nightly/full.tar.gz", gzip(&tar));
    let result = scan(&secret, &[dir.path()]);
    assert_found(
        &result,
        &secret,
        "backups/nightly/full.tar.gz!opt/app/lib/service.jar!config/secrets.json",
        2,
    );
    assert_eq!(archives(&result.report)[0]["max_depth"], 3);
}

#[test]
fn recognised_by_bytes_not_by_name() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let tar = tar(&[("x/notes.txt", &text_with(&secret, 1, ""))]);
    write(dir.path(), "backup.bin", gzip(&tar));
    write(dir.path(), "looks-like.zip", b"just text, not a zip\n");
    let result = scan(&secret, &[dir.path()]);
    assert_found(&result, &secret, "backup.bin!x/notes.txt", 1);
}

#[test]
fn long_pax_and_concatenated_tar_members() {
    let secret = random_token(32);
    let other = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let long_name = format!("{}/deep/.env", "very-long-directory-name".repeat(8));
    let mut first = tar(&[(long_name.as_str(), &text_with(&secret, 1, "A="))]);
    // A PAX-header member (as GNU tar --format=pax and Go write).
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_pax_extensions([("path", format!("{}/pax.env", "p".repeat(120)).as_bytes())])
        .unwrap();
    let content = text_with(&other, 2, "B=");
    let mut header = tar::Header::new_ustar();
    header.set_path("short-name").unwrap();
    header.set_size(content.len() as u64);
    header.set_cksum();
    builder.append(&header, &content[..]).unwrap();
    // `cat a.tar b.tar`: the second archive follows the first one's end blocks.
    first.extend(builder.into_inner().unwrap());
    write(dir.path(), "joined.tar", &first);
    let result = common::scan_with_secrets(&[&secret, &other], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    assert_eq!(places.len(), 2);
    assert!(places
        .iter()
        .any(|(p, l)| p.ends_with(&format!("joined.tar!{long_name}")) && *l == 1));
    assert!(places
        .iter()
        .any(|(p, l)| p.ends_with("/pax.env") && *l == 2));
    result.assert_no_leak(&secret);
    result.assert_no_leak(&other);
}

#[test]
fn debian_package_data_tar() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let data = xz(&tar(&[("./etc/app/key", &text_with(&secret, 1, ""))]));
    let mut deb = b"!<arch>\n".to_vec();
    for (name, content) in [("debian-binary", &b"2.0\n"[..]), ("data.tar.xz", &data[..])] {
        deb.extend(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                name,
                0,
                0,
                0,
                100644,
                content.len()
            )
            .as_bytes(),
        );
        deb.extend_from_slice(content);
        if content.len() % 2 == 1 {
            deb.push(b'\n');
        }
    }
    write(dir.path(), "app_1.0_amd64.deb", deb);
    let result = scan(&secret, &[dir.path()]);
    assert_found(
        &result,
        &secret,
        "app_1.0_amd64.deb!data.tar.xz!etc/app/key",
        1,
    );
}

#[test]
fn clean_archives_are_absent_with_coverage() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let tar = tar(&[("a.txt", b"alpha\n"), ("b/c.txt", b"beta\n")]);
    write(dir.path(), "clean.tar.gz", gzip(&tar));
    write(dir.path(), "clean.zip", zip(&[("z.txt", b"zeta\n")]));
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "absent", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 0);
    let archives = archives(&result.report);
    assert_eq!(archives.len(), 2);
    let members: u64 = archives
        .iter()
        .map(|a| a["members_scanned"].as_u64().unwrap())
        .sum();
    assert_eq!(members, 3);
    assert!(archives.iter().all(|a| a["gaps"] == 0));
}
