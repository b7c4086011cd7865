//! Executables and shared libraries are not opaque for their linker tables: a library that
//! exports tens of thousands of symbols has a GNU hash table as random as ciphertext (as
//! `cc1` and `node` do), which is interpreted content, while a random blob embedded in its
//! `.rodata` is still an `opaque` gap.

mod common;

use std::path::Path;
use std::process::Command;

use common::{random_token, scan};

/// Links a shared library exporting `symbols` functions, with `blob` (if any) in
/// `.rodata`, from generated assembly (much faster to build than C).
fn shared_library(dir: &Path, symbols: usize, blob: Option<&[u8]>) -> std::path::PathBuf {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut assembly = String::from(".section .note.GNU-stack,\"\",@progbits\n.text\n");
    for _ in 0..symbols {
        let name: String = (0..12)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'a' + (state % 26) as u8)
            })
            .collect();
        assembly.push_str(&format!(
            ".globl f_{name}\n.type f_{name},@function\nf_{name}: ret\n"
        ));
    }
    if let Some(blob) = blob {
        std::fs::write(dir.join("blob.bin"), blob).unwrap();
        assembly.push_str(".section .rodata\nblob: .incbin \"blob.bin\"\n");
    }
    std::fs::write(dir.join("lib.s"), assembly).unwrap();
    let library = dir.join("out/libmany.so");
    std::fs::create_dir_all(library.parent().unwrap()).unwrap();
    let status = Command::new("gcc")
        .current_dir(dir)
        .args(["-shared", "-o"])
        .arg(&library)
        .arg("lib.s")
        .status()
        .expect("run gcc");
    assert!(status.success());
    library
}

#[test]
fn a_large_gnu_hash_table_is_not_opaque() {
    if !common::have_tool("gcc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let library = shared_library(dir.path(), 30_000, None);
    let scan = scan(&random_token(32), &[library.parent().unwrap()]);
    assert_eq!(scan.verdict(), "absent", "{:?}", scan.gaps());
}

#[test]
fn a_random_blob_in_a_library_is_still_opaque() {
    if !common::have_tool("gcc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..256 << 10).map(|_| rand::random::<u8>()).collect();
    let library = shared_library(dir.path(), 100, Some(&blob));
    let scan = scan(&random_token(32), &[library.parent().unwrap()]);
    assert_eq!(scan.verdict(), "incomplete");
    let gaps = scan.gaps();
    assert!(gaps.iter().any(|gap| gap["kind"] == "opaque"), "{gaps:?}");
}
