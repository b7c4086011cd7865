//! CI logs: GitHub Actions run-log zips and GitLab job traces. Findings point at the job or
//! step file and line, also when colour codes or `\r` redraws split the secret; masked
//! values are not findings.

mod archive_support;
mod common;

use archive_support::*;
use common::{random_token, scan, scan_with_secrets, write};

const STAMP: &str = "2025-04-07T12:57:33.2904078Z ";

fn github_line(text: &[u8]) -> Vec<u8> {
    let mut line = STAMP.as_bytes().to_vec();
    line.extend_from_slice(text);
    line.push(b'\n');
    line
}

/// A run-log download: one file per job and one per step.
fn github_logs(secret: &[u8], masked: &[u8]) -> Vec<u8> {
    let mut job = Vec::new();
    job.extend(github_line(b"##[group]Run actions/checkout@v4"));
    job.extend(github_line(b"with:"));
    job.extend(github_line(b"##[endgroup]"));
    job.extend(github_line(b"\x1b[36;1mnpm ci\x1b[0m"));
    job.extend(github_line(b"added 312 packages in 4s"));
    job.extend(github_line(b"TOKEN=***"));
    // Line 7: the secret split by a colour code.
    let mut split = b"\x1b[33mexport DEPLOY_TOKEN=".to_vec();
    split.extend_from_slice(&secret[..9]);
    split.extend_from_slice(b"\x1b[0m\x1b[1m");
    split.extend_from_slice(&secret[9..]);
    job.extend(github_line(&split));
    job.extend(github_line(b"##[error]Process completed with exit code 1."));

    let mut step = Vec::new();
    step.extend(github_line(b"##[group]Run ./deploy.sh"));
    step.extend(github_line(b"\x1b[36;1m./deploy.sh\x1b[0m"));
    step.extend(github_line(b"##[endgroup]"));
    let mut trace = b"+ curl -H 'Authorization: Bearer ".to_vec();
    trace.extend_from_slice(secret);
    trace.extend_from_slice(b"' https://deploy.example");
    step.extend(github_line(&trace));
    let mut masked_line = b"echo ".to_vec();
    masked_line.extend_from_slice(b"***");
    step.extend(github_line(&masked_line));
    let _ = masked;

    zip(&[
        ("0_build.txt", &job[..]),
        (
            "build/1_Set up job.txt",
            &github_line(b"Current runner version: '2.323.0'")[..],
        ),
        ("build/2_Run deploy.txt", &step[..]),
        (
            "build/3_Post Run actions_checkout@v4.txt",
            &github_line(b"Cleaning up orphan processes")[..],
        ),
    ])
}

#[test]
fn github_actions_log_zip_points_at_job_and_step_lines() {
    let secret = random_token(36);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "downloads/logs_1234567.zip",
        github_logs(&secret, b""),
    );
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    assert_eq!(places.len(), 2, "{places:?}");
    assert!(places[0].0.ends_with("logs_1234567.zip!0_build.txt"));
    assert_eq!(places[0].1, 7);
    assert!(places[1]
        .0
        .ends_with("logs_1234567.zip!build/2_Run deploy.txt"));
    assert_eq!(places[1].1, 4);
    // The split one is reported at its raw column, after the timestamp and colour code.
    let split = result
        .findings()
        .iter()
        .find(|f| f["location"]["line"] == 7)
        .unwrap();
    let expected_column = STAMP.len() + "\x1b[33mexport DEPLOY_TOKEN=".len() + 1;
    assert_eq!(split["location"]["column"], expected_column as u64);
    assert_eq!(split["encoding"], "raw");
    result.assert_no_leak(&secret);
}

/// A GitLab job trace: section markers, colour codes, per-line timestamps.
fn gitlab_trace(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut trace = Vec::new();
    let mut push = |text: &[u8]| {
        trace.extend_from_slice(b"2025-04-07T12:57:33.290407Z 00O ");
        trace.extend_from_slice(text);
        trace.push(b'\n');
    };
    push(b"\x1b[0KRunning with gitlab-runner 17.4.0 (b92ee590)\x1b[0;m");
    push(b"\x1b[0Ksection_start:1712494653:prepare_script\r\x1b[0K\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m");
    push(b"Running on runner-abc-project-1-concurrent-0 via build-host...");
    push(b"\x1b[0Ksection_end:1712494655:prepare_script\r\x1b[0K");
    push(b"\x1b[0Ksection_start:1712494655:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting \"step_script\" stage\x1b[0;m");
    for line in lines {
        push(line);
    }
    push(b"\x1b[0Ksection_end:1712494700:step_script\r\x1b[0K");
    push(b"\x1b[32;1mJob succeeded\x1b[0;m");
    trace
}

#[test]
fn gitlab_trace_split_by_ansi_and_by_a_redraw() {
    let secret = random_token(40);
    let dir = tempfile::tempdir().unwrap();
    let mut by_ansi = b"\x1b[32;1m$ ./release.sh\x1b[0;m key=".to_vec();
    by_ansi.extend_from_slice(&secret[..17]);
    by_ansi.extend_from_slice(b"\x1b[0;33m");
    by_ansi.extend_from_slice(&secret[17..]);
    let mut by_redraw = b"Uploading [=====>    ] ".to_vec();
    by_redraw.extend_from_slice(&secret[..25]);
    by_redraw.extend_from_slice(b"\r");
    by_redraw.extend_from_slice(&secret[25..]);
    let trace = gitlab_trace(&[
        b"\x1b[32;1m$ echo $DEPLOY_TOKEN\x1b[0;m".to_vec(),
        b"[MASKED]".to_vec(),
        by_ansi,
        b"\x1b]8;;https://gitlab.example/job\x07link\x1b]8;;\x07".to_vec(),
        by_redraw,
    ]);
    write(dir.path(), "job-4242.log", &trace);
    write(dir.path(), "artifacts/job-4243.log.gz", gzip(&trace));
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "found");
    assert!(result.gaps().is_empty(), "gaps: {:?}", result.gaps());
    let mut places = result.places();
    places.sort();
    let lines: Vec<u64> = places.iter().map(|(_, l)| *l).collect();
    assert_eq!(lines, [8, 10, 8, 10], "{places:?}");
    assert!(places[0].0.ends_with("artifacts/job-4243.log.gz"));
    assert!(places[2].0.ends_with("job-4242.log"));
    result.assert_no_leak(&secret);
}

#[test]
fn masked_values_are_not_findings() {
    let secret = random_token(32);
    let dir = tempfile::tempdir().unwrap();
    let trace = gitlab_trace(&[
        b"$ echo $TOKEN".to_vec(),
        b"[MASKED]".to_vec(),
        b"Authorization: Bearer [MASKED]".to_vec(),
    ]);
    write(dir.path(), "gitlab.log", trace);
    write(
        dir.path(),
        "github.zip",
        zip(&[("0_job.txt", &github_line(b"TOKEN=***")[..])]),
    );
    let result = scan_with_secrets(&[&secret], &[dir.path()], &[]);
    assert_eq!(result.verdict(), "absent", "{:?}", result.findings());
    assert_eq!(result.code(), 0);
}
