//! Repositories and container images inside archives: git objects are inflated and packs
//! decoded (deltas included); image layers are named by digest.

mod archive_support;
mod common;

use std::path::Path;
use std::process::Command;

use archive_support::*;
use common::{random_token, scan_with_secrets, write};
use sha2::{Digest, Sha256};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn tar_dir(dir: &Path, name: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(name, dir).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn tarred_repository_history_in_loose_objects_and_packs() {
    let packed = random_token(32);
    let loose = random_token(32);
    let work = tempfile::tempdir().unwrap();
    let repo = work.path();
    git(repo, &["init", "-q"]);
    // A large file that first holds the packed secret, then loses it: after repacking, the
    // old version is stored as a delta against the new one.
    let body: String = (0..400)
        .map(|i| format!("setting_{i} = value number {i}\n"))
        .collect();
    let with_secret = format!(
        "{body}api_key = {}\n{body}",
        String::from_utf8_lossy(&packed)
    );
    std::fs::write(repo.join("settings.conf"), &with_secret).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "add settings"]);
    std::fs::write(
        repo.join("settings.conf"),
        format!("{body}api_key = rotated\n{body}"),
    )
    .unwrap();
    git(repo, &["commit", "-q", "-am", "rotate"]);
    git(
        repo,
        &[
            "repack",
            "-a",
            "-d",
            "-f",
            "-q",
            "--depth=50",
            "--window=50",
        ],
    );
    let verify = git(repo, &["verify-pack", "-v", &pack_index(repo)]);
    assert!(
        verify.contains(" blob ") && verify.lines().any(|l| l.split_whitespace().count() >= 7),
        "expected a delta:\n{verify}"
    );
    // Then a secret only in a loose object.
    std::fs::write(
        repo.join("notes.txt"),
        format!("temp token {}\n", String::from_utf8_lossy(&loose)),
    )
    .unwrap();
    git(repo, &["add", "notes.txt"]);
    git(repo, &["commit", "-q", "-m", "notes"]);
    git(repo, &["rm", "-q", "notes.txt"]);
    git(repo, &["commit", "-q", "-m", "remove notes"]);

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "backups/repo.tar.gz",
        gzip(&tar_dir(&repo.join(".git"), "srv/repo.git")),
    );
    let result = scan_with_secrets(&[&packed, &loose], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let places: Vec<(String, u64)> = result.places();
    let in_pack: Vec<_> = places
        .iter()
        .filter(|(p, _)| p.contains("/objects/pack/pack-"))
        .collect();
    let in_loose: Vec<_> = places
        .iter()
        .filter(|(p, _)| !p.contains("/objects/pack/"))
        .collect();
    assert_eq!(in_pack.len(), 1, "{places:?}");
    assert!(in_pack[0].0.contains(".pack!blob "), "{places:?}");
    assert_eq!(in_pack[0].1, 401);
    assert_eq!(in_loose.len(), 1, "{places:?}");
    assert!(
        in_loose[0].0.contains("srv/repo.git/objects/"),
        "{places:?}"
    );
    assert_eq!(in_loose[0].1, 1);
    // Each secret is found where it is, and nowhere else.
    let secrets: Vec<&str> = result
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_ne!(secrets[0], secrets[1]);
    result.assert_no_leak(&packed);
    result.assert_no_leak(&loose);
}

fn pack_index(repo: &Path) -> String {
    let packs = repo.join(".git/objects/pack");
    let index = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    index.to_string_lossy().into_owned()
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn docker_save_layers_are_named_by_digest() {
    let secret = random_token(32);
    let layer = gzip(&tar(&[
        ("etc/os-release", b"NAME=Alpine\n"),
        ("srv/app/.env", &text_with(&secret, 2, "DATABASE_PASSWORD=")),
    ]));
    let layer_digest = digest(&layer);
    let config = br#"{"architecture":"amd64","rootfs":{"type":"layers"}}"#;
    let config_digest = digest(config);
    let manifest = format!(
        r#"[{{"Config":"blobs/sha256/{config_digest}","RepoTags":["app:1"],"Layers":["blobs/sha256/{layer_digest}"]}}]"#
    );
    let image = tar(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        (&format!("blobs/sha256/{config_digest}"), config),
        (&format!("blobs/sha256/{layer_digest}"), &layer),
        ("manifest.json", manifest.as_bytes()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "images/app-1.tar", image);
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let places = result.places();
    assert_eq!(places.len(), 1);
    assert!(places[0].0.ends_with(&format!(
        "app-1.tar!blobs/sha256/{layer_digest}!srv/app/.env"
    )));
    assert_eq!(places[0].1, 2);
    let layers = &archives(&result.report)[0]["layers"];
    assert_eq!(layers[0]["digest"], format!("sha256:{layer_digest}"));
    result.assert_no_leak(&secret);
}

#[test]
fn legacy_docker_save_lists_layer_digests() {
    let secret = random_token(32);
    let layer = tar(&[(
        "root/.aws/credentials",
        &text_with(&secret, 3, "aws_secret_access_key = "),
    )]);
    let diff_id = format!("sha256:{}", digest(&layer));
    let config = format!(
        r#"{{"architecture":"amd64","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#
    );
    let manifest =
        r#"[{"Config":"5e1f.json","RepoTags":["legacy:1"],"Layers":["9a8b7c/layer.tar"]}]"#;
    let image = tar(&[
        ("9a8b7c/VERSION", b"1.0"),
        ("9a8b7c/layer.tar", &layer),
        ("5e1f.json", config.as_bytes()),
        ("manifest.json", manifest.as_bytes()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "legacy.tar", image);
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "found");
    let places = result.places();
    assert!(places[0]
        .0
        .ends_with("legacy.tar!9a8b7c/layer.tar!root/.aws/credentials"));
    let layers = &archives(&result.report)[0]["layers"];
    assert_eq!(layers[0]["digest"], diff_id.as_str());
    assert!(layers[0]["member"]
        .as_str()
        .unwrap()
        .ends_with("legacy.tar!9a8b7c/layer.tar"));
}
