//! The running process guards the secret in its memory: it is not dumpable (so another
//! process of the same user cannot open `/proc/PID/mem` and no core is written), and its
//! core size limit is 0 even when started with `ulimit -c unlimited`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::random_token;

const NOBODY: &str = "65534";

fn is_root() -> bool {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Starts `scour scan --secret-file -` (as nobody when the tests run as root), gives it the
/// secret and keeps standard input open, so it waits with the secret in memory.
fn waiting_scour(cwd: &Path, secret: &[u8]) -> Child {
    let binary = assert_cmd::cargo::cargo_bin("scour");
    let script = format!(
        "ulimit -c unlimited 2>/dev/null; exec {} scan --secret-file - --quiet .",
        binary.display()
    );
    let mut command = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
            "sh",
            "-c",
        ]);
        c.arg(&script);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&script);
        c
    };
    let mut child = command
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scour (setpriv comes with util-linux)");
    let stdin = child.stdin.as_mut().expect("stdin");
    stdin.write_all(secret).expect("write secret");
    stdin.write_all(b"\n").expect("write newline");
    stdin.flush().expect("flush");
    child
}

/// Waits until the shell has exec'ed scour (its command line names the binary).
fn wait_for_exec(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "scour" && limits.contains("Max core file size") {
            // Give main() a moment to run its first lines.
            std::thread::sleep(Duration::from_millis(200));
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("scour did not start");
}

/// Opens `/proc/PID/mem` as the user scour runs as.
fn open_mem_as_same_user(pid: u32) -> bool {
    let path = format!("/proc/{pid}/mem");
    if is_root() {
        Command::new("setpriv")
            .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
            .args(["sh", "-c", &format!("exec 3<{path}")])
            .status()
            .expect("setpriv runs")
            .success()
    } else {
        std::fs::File::open(path).is_ok()
    }
}

#[test]
fn memory_cannot_be_read_by_the_same_user_and_cores_are_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let secret = random_token(32);
    let mut child = waiting_scour(dir.path(), &secret);
    let pid = child.id();
    wait_for_exec(pid);

    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let core_line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core limit line");
    let fields: Vec<&str> = core_line.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core_line}");
    assert!(
        !open_mem_as_same_user(pid),
        "another process of the same user opened /proc/{pid}/mem"
    );

    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(pid as i32, libc::SIGQUIT) };
    let _ = child.wait();
    let cores: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("core"))
        .collect();
    assert!(cores.is_empty(), "a core file was written: {cores:?}");
    if !control_dumps_core() {
        eprintln!(
            "note: this machine writes no core even for an ordinary process (core_pattern or \
             sandbox), so the no-core check above proves nothing here; the core limit and \
             /proc checks still do"
        );
    }
}

/// Whether an ordinary process started the same way leaves a core after SIGQUIT.
fn control_dumps_core() -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let Ok(mut child) = Command::new("sh")
        .args(["-c", "ulimit -c unlimited 2>/dev/null; exec sleep 10"])
        .current_dir(dir.path())
        .spawn()
    else {
        return false;
    };
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
    let _ = child.wait();
    std::fs::read_dir(dir.path())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("core"))
        })
        .unwrap_or(false)
}
