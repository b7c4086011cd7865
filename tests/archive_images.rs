//! Containers and filesystem images made by the real tools: 7z (`7zz`), ISO 9660
//! (`genisoimage`, `xorriso`), rpm (`rpmbuild`), squashfs (`mksquashfs`), and the
//! executable wrappers around them (zipapps, makeself installers, `.deb`s, nested Java
//! archives, launch-script jars, ELF + squashfs). Every sample is checked not to hold the
//! secret raw, so a test cannot pass by the raw scan alone; each one must be `found`
//! (exit 1) at the member that holds the secret.

mod archive_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use archive_support::text_with;
use common::{random_token, scan, write};

/// A tool that must exist (CI installs it, `.ci/run`); outside CI a missing tool skips.
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
    let output = command.current_dir(dir).output().expect("run tool");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn assert_not_raw(path: &Path, secret: &[u8]) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        memchr::memmem::find(&bytes, secret).is_none(),
        "{} holds the secret raw: the test would prove nothing",
        path.display()
    );
}

fn chains(scan: &common::Scan) -> Vec<String> {
    scan.places().into_iter().map(|(p, _)| p).collect()
}

/// Scans `root` and asserts `found` (exit 1), no gap, and a finding whose chain ends with
/// `chain_end` (and contains `contains`).
fn assert_found_at(root: &Path, secret: &[u8], contains: &str, chain_end: &str) {
    let result = scan(secret, &[root]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    assert!(
        chains(&result)
            .iter()
            .any(|c| c.contains(contains) && c.ends_with(chain_end)),
        "no finding at …{contains}…{chain_end}: {:?}",
        chains(&result)
    );
    result.assert_no_leak(secret);
}

/// A tree with the secret in `srv/app/config/credentials.env` (compressible text around
/// it, so compressors do not store it raw).
fn tree_with_secret(dir: &Path, secret: &[u8]) -> PathBuf {
    let tree = dir.join("tree");
    write(&tree, "srv/app/README", "an application\n".repeat(50));
    write(
        &tree,
        "srv/app/config/credentials.env",
        text_with(secret, 40, "API_TOKEN="),
    );
    tree
}

#[test]
fn sevenz_archives_and_zips_are_read_with_every_common_coder() {
    let Some(_) = tool("7zz") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with_secret(dir.path(), &secret);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // LZMA2 solid (the default), header compression off, and each other common coder.
    let variants: &[(&str, &[&str])] = &[
        ("default.7z", &[]),
        ("plain-headers.7z", &["-mhe=off", "-mhc=off"]),
        ("lzma.7z", &["-m0=LZMA"]),
        ("ppmd.7z", &["-m0=PPMd"]),
        ("bzip2.7z", &["-m0=BZip2"]),
        ("deflate.7z", &["-m0=Deflate"]),
        ("not-solid.7z", &["-ms=off"]),
        // 7-Zip's zips with methods Info-ZIP does not write (PPMd was a corrupt gap).
        ("ppmd.zip", &["-tzip", "-mm=PPMd"]),
        ("lzma.zip", &["-tzip", "-mm=LZMA"]),
        ("bzip2.zip", &["-tzip", "-mm=BZip2"]),
    ];
    for (name, options) in variants {
        let mut command = Command::new("7zz");
        command.args(["a", "-bd", "-bso0"]).args(*options);
        command.arg(out.join(name)).arg("srv");
        run(command, &tree);
        assert_not_raw(&out.join(name), &secret);
    }
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    for (name, _) in variants {
        assert!(
            found
                .iter()
                .any(|c| c.ends_with(&format!("{name}!srv/app/config/credentials.env"))),
            "{name}: {found:?}"
        );
    }
    result.assert_no_leak(&secret);
}

#[test]
fn a_sevenz_inside_a_tarball_and_behind_a_stub_is_read() {
    let Some(mut sevenz) = tool("7zz") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with_secret(dir.path(), &secret);
    sevenz.args(["a", "-bd", "-bso0", "../app.7z", "srv"]);
    run(sevenz, &tree);
    let archive = std::fs::read(dir.path().join("app.7z")).unwrap();
    let out = dir.path().join("out");
    write(
        &out,
        "bundle.tar",
        archive_support::tar(&[("app.7z", &archive)]),
    );
    let mut stub = b"#!/bin/sh\necho self-extracting\nexit 0\n".to_vec();
    stub.extend_from_slice(&archive);
    write(&out, "setup.run", &stub);
    assert_not_raw(&out.join("setup.run"), &secret);
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    assert!(found
        .iter()
        .any(|c| c.ends_with("bundle.tar!app.7z!srv/app/config/credentials.env")));
    assert!(
        found
            .iter()
            .any(|c| c.contains("setup.run!7z@") && c.ends_with("!srv/app/config/credentials.env")),
        "{found:?}"
    );
}

#[test]
fn encrypted_sevenz_archives_are_encrypted_gaps() {
    let Some(_) = tool("7zz") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with_secret(dir.path(), &secret);
    for (name, options) in [
        ("names-visible.7z", &["-pcorrect-horse", "-mhe=off"][..]),
        ("names-hidden.7z", &["-pcorrect-horse", "-mhe=on"][..]),
    ] {
        let out = dir.path().join(name.trim_end_matches(".7z"));
        std::fs::create_dir_all(&out).unwrap();
        let mut command = Command::new("7zz");
        command.args(["a", "-bd", "-bso0"]).args(options);
        command.arg(out.join(name)).arg("srv");
        run(command, &tree);
        assert_not_raw(&out.join(name), &secret);
        let result = scan(&secret, &[&out]);
        assert_eq!(result.verdict(), "incomplete", "{name}");
        let kinds: Vec<String> = result
            .gaps()
            .iter()
            .map(|g| g["kind"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(kinds.iter().any(|k| k == "encrypted"), "{name}: {kinds:?}");
        result.assert_no_leak(&secret);
    }
}

/// An ISO image of `tree` made by `command` (genisoimage or xorriso's mkisofs).
fn iso_image(mut command: Command, tree: &Path, out: &Path, options: &[&str]) {
    command
        .args(options)
        .arg("-quiet")
        .arg("-o")
        .arg(out)
        .arg(".");
    run(command, tree);
}

#[test]
fn iso_images_are_read_with_rock_ridge_and_joliet_names() {
    let Some(_) = tool("genisoimage") else { return };
    let Some(_) = tool("xorriso") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    // A long name deep in the tree (Rock Ridge and Joliet keep it, ISO 9660 mangles it),
    // compressed so the image does not hold the secret raw.
    let compressed = archive_support::gzip(&text_with(&secret, 12, "password = "));
    write(
        &tree,
        "etc/application-settings/production/database-credentials.conf.gz",
        &compressed,
    );
    write(&tree, "boot/readme.txt", "nothing here\n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let images = [
        ("rockridge.iso", "genisoimage", &["-R", "-J"][..]),
        ("joliet.iso", "genisoimage", &["-J"][..]),
        (
            "xorriso.iso",
            "xorriso",
            &["-as", "mkisofs", "-R", "-J"][..],
        ),
    ];
    for (name, program, options) in images {
        iso_image(Command::new(program), &tree, &out.join(name), options);
        assert_not_raw(&out.join(name), &secret);
    }
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    for (name, _, _) in images {
        assert!(
            found.iter().any(|c| c.ends_with(&format!(
                "{name}!iso9660@0!etc/application-settings/production/database-credentials.conf.gz"
            ))),
            "{name}: {found:?}"
        );
    }
    result.assert_no_leak(&secret);
}

#[test]
fn zisofs_compressed_files_in_an_iso_are_read() {
    let Some(mut xorriso) = tool("xorriso") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    // Large enough that zisofs compresses it (small files are stored as they are).
    let mut log = "an ordinary log line of a live image\n"
        .repeat(4000)
        .into_bytes();
    log.extend(text_with(&secret, 2, "password="));
    log.extend("more ordinary lines\n".repeat(4000).into_bytes());
    write(&tree, "var/log/installer.log", &log);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    xorriso.arg("-outdev").arg(out.join("live.iso")).args([
        "-map",
        "tree",
        "/",
        "-set_filter_r",
        "--zisofs",
        "/",
        "--",
        "-commit",
    ]);
    run(xorriso, dir.path());
    assert_not_raw(&out.join("live.iso"), &secret);
    assert_found_at(
        &out,
        &secret,
        "live.iso!iso9660@0!",
        "var/log/installer.log",
    );
}

#[test]
fn an_iso_inside_a_compressed_tarball_is_read() {
    let Some(genisoimage) = tool("genisoimage") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with_secret(dir.path(), &secret);
    let image = dir.path().join("seed.iso");
    iso_image(genisoimage, &tree, &image, &["-R", "-V", "cidata"]);
    let bytes = std::fs::read(&image).unwrap();
    let tarball = archive_support::gzip(&archive_support::tar(&[("images/seed.iso", &bytes)]));
    let out = dir.path().join("out");
    write(&out, "images.tar.gz", &tarball);
    assert_not_raw(&out.join("images.tar.gz"), &secret);
    assert_found_at(
        &out,
        &secret,
        "images.tar.gz!images/seed.iso!iso9660@0!",
        "srv/app/config/credentials.env",
    );
}

const SPEC: &str = r#"Name: demo-agent
Version: 1.0
Release: 1
Summary: demo
License: MIT
BuildArch: noarch

%description
demo

%install
mkdir -p %{buildroot}/etc/demo
cp %{_sourcedir}/agent.conf %{buildroot}/etc/demo/agent.conf

%files
/etc/demo/agent.conf

%post
echo installed
"#;

/// Builds a noarch rpm holding `payload` at `/etc/demo/agent.conf` with rpmbuild; the
/// extra `define` picks the payload compressor.
fn rpm_package(dir: &Path, payload: &[u8], post: &str, compressor: &str) -> PathBuf {
    let top = dir.join(format!("rpmbuild-{}", compressor.replace(['.', ' '], "-")));
    write(&top, "SOURCES/agent.conf", payload);
    let spec = SPEC.replace("echo installed", post);
    write(&top, "SPECS/demo.spec", spec);
    let mut command = Command::new("rpmbuild");
    command
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("--define")
        .arg(format!("_binary_payload {compressor}"))
        .args(["--quiet", "-bb", "SPECS/demo.spec"]);
    run(command, &top);
    top.join("RPMS/noarch/demo-agent-1.0-1.noarch.rpm")
}

#[test]
fn rpm_payloads_and_scriptlets_are_read() {
    let Some(_) = tool("rpmbuild") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let payload = text_with(&secret, 30, "token: ");
    // gzip, xz and zstd payloads (w9.gzdio, w6.xzdio, w19.zstdio in rpm's notation).
    for compressor in ["w9.gzdio", "w6.xzdio", "w19.zstdio"] {
        let package = rpm_package(dir.path(), &payload, "echo installed", compressor);
        assert_not_raw(&package, &secret);
        let name = format!("agent-{compressor}.rpm");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&package, out.join(&name)).unwrap();
    }
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    for compressor in ["w9.gzdio", "w6.xzdio", "w19.zstdio"] {
        assert!(
            found
                .iter()
                .any(|c| c.contains(&format!("agent-{compressor}.rpm!"))
                    && c.ends_with("etc/demo/agent.conf")),
            "{compressor}: {found:?}"
        );
    }
    result.assert_no_leak(&secret);

    // A secret in a scriptlet is in the header: found there, named as such.
    let script_secret = random_token(40);
    let post = format!(
        "curl -H 'Authorization: Bearer {}' https://example.invalid/registered",
        String::from_utf8_lossy(&script_secret)
    );
    let package = rpm_package(dir.path(), b"plain\n", &post, "w6.xzdio");
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::copy(&package, scripts.join("agent.rpm")).unwrap();
    assert_found_at(&scripts, &script_secret, "agent.rpm", "agent.rpm!header");
}

/// A squashfs image of `tree` made by mksquashfs with `compressor`.
fn squashfs_image(tree: &Path, out: &Path, compressor: &str, options: &[&str]) {
    let mut command = Command::new("mksquashfs");
    command
        .arg(tree)
        .arg(out)
        .args(["-noappend", "-quiet", "-no-progress", "-comp", compressor])
        .args(options);
    run(command, tree);
}

#[test]
fn squashfs_images_are_read_with_every_compressor() {
    let Some(_) = tool("mksquashfs") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    // lz4 keeps new bytes as literal runs, so the secret straddles the first 4 KiB block
    // boundary: each half is compressed in its own block and the image never holds it whole.
    let tree = dir.path().join("tree");
    let filler = |len: usize| {
        let line = b"ordinary configuration line\n";
        line.iter().copied().cycle().take(len).collect::<Vec<u8>>()
    };
    let mut content = filler(4096 - 20 - 10);
    content.extend_from_slice(b"API_TOKEN=");
    content.extend_from_slice(&secret);
    content.push(b'\n');
    content.extend(filler(3 * 4096 - content.len()));
    write(&tree, "srv/app/config/credentials.env", &content);
    write(&tree, "srv/app/README", "an application\n".repeat(50));
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let compressors = ["gzip", "xz", "zstd", "lz4"];
    for compressor in compressors {
        let image = out.join(format!("root-{compressor}.squashfs"));
        squashfs_image(&tree, &image, compressor, &["-b", "4096"]);
        assert_not_raw(&image, &secret);
    }
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert_eq!(result.code(), 1);
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    for compressor in compressors {
        assert!(
            found.iter().any(|c| c.ends_with(&format!(
                "root-{compressor}.squashfs!srv/app/config/credentials.env"
            ))),
            "{compressor}: {found:?}"
        );
    }
    result.assert_no_leak(&secret);

    // lzo is not built in: the image is an `unsupported` gap, never absent.
    let lzo = dir.path().join("lzo");
    std::fs::create_dir_all(&lzo).unwrap();
    squashfs_image(&tree, &lzo.join("root.squashfs"), "lzo", &["-b", "4096"]);
    assert_not_raw(&lzo.join("root.squashfs"), &secret);
    let result = scan(&secret, &[&lzo]);
    assert_eq!(result.verdict(), "incomplete");
    assert_eq!(result.code(), 3);
    assert!(
        result.gaps().iter().any(|g| g["kind"] == "unsupported"
            && g["reason"].as_str().unwrap_or_default().contains("lzo")),
        "{:?}",
        result.gaps()
    );
}

#[test]
fn an_elf_runtime_with_a_squashfs_appended_is_read() {
    let Some(_) = tool("mksquashfs") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let tree = tree_with_secret(dir.path(), &secret);
    let image = dir.path().join("payload.squashfs");
    squashfs_image(&tree, &image, "zstd", &[]);
    // An AppImage is its runtime (an ELF executable) with the image appended.
    let mut appimage = std::fs::read("/bin/true").unwrap();
    let runtime = appimage.len();
    appimage.extend(std::fs::read(&image).unwrap());
    let out = dir.path().join("out");
    write(&out, "Tool-x86_64.AppImage", &appimage);
    assert_not_raw(&out.join("Tool-x86_64.AppImage"), &secret);
    assert_found_at(
        &out,
        &secret,
        &format!("Tool-x86_64.AppImage!squashfs@{runtime}!"),
        "srv/app/config/credentials.env",
    );
}

#[test]
fn a_python_zipapp_made_by_zipapp_is_read() {
    let Some(mut python) = tool("python3") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("app");
    write(&source, "__main__.py", "print('hi')\n");
    write(&source, "settings.py", text_with(&secret, 8, "TOKEN = '"));
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    python
        .args([
            "-m",
            "zipapp",
            "app",
            "-c",
            "-p",
            "/usr/bin/env python3",
            "-o",
        ])
        .arg(out.join("tool.pyz"));
    run(python, dir.path());
    assert_not_raw(&out.join("tool.pyz"), &secret);
    assert_found_at(&out, &secret, "tool.pyz!zip@", "settings.py");
}

#[test]
fn a_makeself_installer_is_read() {
    let Some(mut makeself) = tool("makeself") else {
        return;
    };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload");
    write(&payload, "install.sh", "#!/bin/sh\necho ok\n");
    write(
        &payload,
        "etc/agent.env",
        text_with(&secret, 5, "AGENT_KEY="),
    );
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    makeself
        .args(["--quiet", "--gzip", "payload"])
        .arg(out.join("agent-installer.run"))
        .args(["agent", "./install.sh"]);
    run(makeself, dir.path());
    assert_not_raw(&out.join("agent-installer.run"), &secret);
    assert_found_at(&out, &secret, "agent-installer.run!gzip@", "etc/agent.env");
}

#[test]
fn debian_packages_are_read_with_xz_and_zstd_data() {
    let Some(_) = tool("dpkg-deb") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for compression in ["xz", "zstd"] {
        let root = dir.path().join(format!("pkg-{compression}"));
        write(
            &root,
            "DEBIAN/control",
            "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@x.invalid>\n\
             Description: demo\n",
        );
        write(
            &root,
            "etc/demo/demo.conf",
            text_with(&secret, 7, "secret="),
        );
        let mut command = Command::new("dpkg-deb");
        command
            .args(["--root-owner-group", "-Z", compression, "--build"])
            .arg(&root)
            .arg(out.join(format!("demo-{compression}.deb")));
        run(command, dir.path());
        assert_not_raw(&out.join(format!("demo-{compression}.deb")), &secret);
    }
    let result = scan(&secret, &[&out]);
    assert_eq!(result.verdict(), "found", "gaps: {:?}", result.gaps());
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let found = chains(&result);
    for compression in ["xz", "zstd"] {
        assert!(
            found
                .iter()
                .any(|c| c.contains(&format!("demo-{compression}.deb!data.tar"))
                    && c.ends_with("etc/demo/demo.conf")),
            "{compression}: {found:?}"
        );
    }
}

#[test]
fn a_jar_inside_a_war_inside_a_tarball_is_read() {
    let Some(_) = tool("jar") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let classes = dir.path().join("lib");
    write(
        &classes,
        "config/application.properties",
        text_with(&secret, 4, "db.password="),
    );
    let mut jar = Command::new("jar");
    jar.args(["cf", "../lib.jar", "-C", "."]).arg(".");
    run(jar, &classes);
    let web = dir.path().join("web");
    write(&web, "index.html", "<html></html>\n");
    std::fs::create_dir_all(web.join("WEB-INF/lib")).unwrap();
    std::fs::copy(dir.path().join("lib.jar"), web.join("WEB-INF/lib/lib.jar")).unwrap();
    let mut war = Command::new("jar");
    war.args(["cf", "../app.war", "-C", "."]).arg(".");
    run(war, &web);
    let mut tar = Command::new("tar");
    tar.args(["czf", "out/deploy.tar.gz", "app.war"]);
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    run(tar, dir.path());
    let out = dir.path().join("out");
    assert_not_raw(&out.join("deploy.tar.gz"), &secret);
    assert_found_at(
        &out,
        &secret,
        "deploy.tar.gz!app.war!WEB-INF/lib/lib.jar!",
        "config/application.properties",
    );
}

#[test]
fn a_launch_script_in_front_of_a_jar_is_read() {
    let Some(_) = tool("jar") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let classes = dir.path().join("boot");
    write(
        &classes,
        "BOOT-INF/classes/application.yml",
        text_with(&secret, 3, "  api-key: "),
    );
    let mut jar = Command::new("jar");
    jar.args(["cf", "../app.jar", "-C", "."]).arg(".");
    run(jar, &classes);
    // Spring Boot's executable jars: a shell launch script, then the jar, run by `java -jar`
    // because zip offsets are taken from the end.
    let mut executable =
        b"#!/bin/bash\n# launch script\nexec java -jar \"$0\" \"$@\"\nexit 0\n".to_vec();
    executable.extend(std::fs::read(dir.path().join("app.jar")).unwrap());
    let out = dir.path().join("out");
    write(&out, "app", &executable);
    assert_not_raw(&out.join("app"), &secret);
    assert_found_at(
        &out,
        &secret,
        "app!zip@",
        "BOOT-INF/classes/application.yml",
    );
}

/// An initramfs as Debian's `update-initramfs` writes it: an uncompressed cpio of CPU
/// microcode, then the compressed cpio of the root filesystem, one after the other.
#[test]
fn an_initramfs_of_concatenated_cpio_archives_is_read_to_the_end() {
    let Some(_) = tool("cpio") else { return };
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "early/kernel/x86/microcode/GenuineIntel.bin",
        "microcode\n".repeat(10),
    );
    let tree = tree_with_secret(dir.path(), &secret);
    let mut early = Command::new("sh");
    early.args([
        "-c",
        "cd early && find . | cpio --quiet -o -H newc > ../initrd.img",
    ]);
    run(early, dir.path());
    let mut main = Command::new("sh");
    main.args([
        "-c",
        &format!(
            "cd {} && find . | cpio --quiet -o -H newc | gzip >> ../initrd.img",
            tree.display()
        ),
    ]);
    run(main, dir.path());
    std::fs::remove_dir_all(&tree).unwrap();
    std::fs::remove_dir_all(dir.path().join("early")).unwrap();
    assert_not_raw(&dir.path().join("initrd.img"), &secret);
    assert_found_at(
        dir.path(),
        &secret,
        "initrd.img!after-trailer@",
        "srv/app/config/credentials.env",
    );
}
