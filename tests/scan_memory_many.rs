//! A thousand secrets that share a prefix (as `ghp_` tokens or `AKIA` key ids do) are
//! looked for in bounded memory: the matcher's size follows the patterns, not an automaton
//! that explodes on them (it once took 280 MiB and 1.9 s to build for this list).
//! Alone in its own test binary so the children's peak RSS measured here is scour's.

mod common;

#[test]
fn a_thousand_prefixed_secrets_are_matched_in_bounded_memory() {
    let secrets: Vec<Vec<u8>> = (0..1000)
        .map(|_| [b"ghp_".as_slice(), &common::random_token(36)].concat())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let planted = &secrets[617];
    common::write(
        dir.path(),
        "a/config.env",
        [b"TOKEN=", &planted[..], b"\n"].concat(),
    );
    common::write(dir.path(), "b/notes.txt", "nothing here\n".repeat(1000));

    let refs: Vec<&[u8]> = secrets.iter().map(|s| &s[..]).collect();
    let scan = common::scan_with_secrets(&refs, &[dir.path()], &[]);
    assert_eq!(scan.code(), 1);
    let findings = scan.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["encoding"], "raw");

    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let peak_mib = usage.ru_maxrss as f64 / 1024.0;
    assert!(peak_mib < 100.0, "peak RSS {peak_mib:.1} MiB");
}
