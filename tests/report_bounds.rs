//! A report grows with the places a secret is in, not with how often it repeats there or
//! how long a name is: a million hits in one log and a tar.gz of 1 MiB member names give
//! small reports in every format, in bounded memory. Alone in its own test binary so the
//! children's peak RSS measured here is scour's.

mod common;

use std::io::Write;
use std::path::Path;

/// Runs `scour scan` over `path` with `format`, returning the report bytes and the exit code.
fn report(secret: &[u8], path: &Path, format: &str) -> (Vec<u8>, i32) {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secrets");
    std::fs::write(&secret_file, [secret, b"\n"].concat()).unwrap();
    let out = dir.path().join("report");
    let output = common::scour()
        .arg("scan")
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--format", format, "--output"])
        .arg(&out)
        .arg(path)
        .output()
        .unwrap();
    (
        std::fs::read(&out).unwrap_or_default(),
        output.status.code().unwrap_or(-1),
    )
}

fn children_peak_rss_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss as f64 / 1024.0
}

#[test]
fn a_million_hits_in_one_log_give_a_small_report_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let secret = common::random_token(32);
    let hits = 1_000_000u64;
    let mut log = Vec::with_capacity((secret.len() + 8) * hits as usize);
    for _ in 0..hits {
        log.extend_from_slice(b"> ");
        log.extend_from_slice(&secret);
        log.push(b'\n');
    }
    common::write(dir.path(), "ci.log", &log);
    for format in ["json", "text", "sarif"] {
        let (bytes, code) = report(&secret, dir.path(), format);
        assert_eq!(code, 1, "{format}: found");
        assert!(
            bytes.len() < 256 << 10,
            "{format} report is {} bytes",
            bytes.len()
        );
        common::assert_no_window(&bytes, &secret, format);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("999900"),
            "{format} report does not count the rest"
        );
        if format == "json" {
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let findings = json["findings"].as_array().unwrap();
            assert_eq!(findings.len(), 100);
            assert_eq!(findings[99]["more"].as_u64(), Some(hits - 100));
            assert!(findings[..99].iter().all(|f| f.get("more").is_none()));
            assert_eq!(
                json["summary"]["findings_not_listed"].as_u64(),
                Some(hits - 100)
            );
            // The listed ones are the first hundred, in order.
            assert_eq!(findings[99]["location"]["line"].as_u64(), Some(100));
        }
    }
    let peak = children_peak_rss_mib();
    eprintln!("a million hits: peak RSS of scour {peak:.0} MiB");
    assert!(peak < 512.0, "peak RSS {peak:.0} MiB");
}

/// Names of 1 MiB and a few bytes: GNU long-name records that size used to be refused as
/// damage (the cap was exactly 1 MiB), so nothing was scanned.
#[test]
fn huge_member_names_are_cut_in_reports_and_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let secret = common::random_token(32);
    let members = 48;
    let file = std::fs::File::create(dir.path().join("names.tar.gz")).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let body = [b"KEY=".as_slice(), &secret, b"\n"].concat();
    for n in 0..members {
        let name = format!("{}/{n}.env", "d".repeat(1 << 20));
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, &name, body.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    for format in ["json", "text", "sarif"] {
        let (bytes, code) = report(&secret, dir.path(), format);
        assert_eq!(code, 1, "{format}: found");
        assert!(
            bytes.len() < 1 << 20,
            "{format} report is {} bytes",
            bytes.len()
        );
        common::assert_no_window(&bytes, &secret, format);
        if format == "json" {
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let findings = json["findings"].as_array().unwrap();
            assert_eq!(findings.len(), members);
            let names: std::collections::BTreeSet<&str> = findings
                .iter()
                .map(|f| f["location"]["chain"][1].as_str().unwrap())
                .collect();
            assert_eq!(names.len(), members, "cut names stay distinct");
            assert!(names
                .iter()
                .all(|n| n.len() < 1200 && n.contains("bytes in all")));
        }
    }
    let peak = children_peak_rss_mib();
    eprintln!("1 MiB member names: peak RSS of scour {peak:.0} MiB");
    assert!(peak < 512.0, "peak RSS {peak:.0} MiB");
}
