//! Peak memory stays bounded whatever the file size: a 1 GiB sparse file with the secret in
//! its last bytes is scanned (found, at the right offset) in well under 100 MiB.
//! Alone in its own test binary so the children's peak RSS measured here is scour's.

mod common;

use std::io::{Seek, SeekFrom, Write};

#[test]
fn one_gib_sparse_file_is_scanned_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.img");
    let secret = common::random_token(32);
    let size: u64 = 1 << 30;
    let mut file = std::fs::File::create(&path).unwrap();
    file.set_len(size).unwrap();
    file.seek(SeekFrom::Start(size - secret.len() as u64))
        .unwrap();
    file.write_all(&secret).unwrap();
    drop(file);

    let scan = common::scan(&secret, &[dir.path()]);
    assert_eq!(scan.code(), 1);
    let findings = scan.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0]["location"]["offset"].as_u64().unwrap(),
        size - secret.len() as u64
    );
    assert_eq!(
        scan.report["summary"]["bytes_scanned"].as_u64().unwrap(),
        size
    );

    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let peak_mib = usage.ru_maxrss as f64 / 1024.0;
    assert!(peak_mib < 100.0, "peak RSS {peak_mib:.1} MiB");
}
