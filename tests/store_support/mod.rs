//! Real servers for the store tests: moto's S3 server and the CNCF distribution registry,
//! started on free ports of 127.0.0.1 and stopped when the test binary's guard drops.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` (after saying why) when the tool is missing and CI is unset; in CI a missing
/// tool fails the test loudly (`.ci/run` installs it).
pub fn require(tool: &str, install: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing in CI: .ci/run must install it ({install})"
        );
        eprintln!("skipping: {tool} is not installed ({install})");
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within 60 s");
}

/// A listening socket is not yet a serving server: the registry accepts connections
/// before its handlers are ready and resets the first ones, so wait for a real answer.
fn wait_until_serving(port: u16, path: &str, child: &mut Child, what: &str) {
    let agent = ureq::Agent::new_with_defaults();
    let url = format!("http://127.0.0.1:{port}{path}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if agent.get(&url).call().is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer GET {path} within 60 s");
}

/// Runs `request` again after a transport error (a reset connection, a refused one) a
/// few times: a loaded CI machine can drop a connection to a server that is up. HTTP
/// status errors are not retried: they are the server's answer.
pub fn with_retries<T>(what: &str, mut request: impl FnMut() -> Result<T, ureq::Error>) -> T {
    let mut attempt = 0;
    loop {
        match request() {
            Ok(value) => return value,
            Err(ureq::Error::Io(error)) if attempt < 5 => {
                eprintln!("{what}: {error}; retrying");
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200 * attempt));
            }
            Err(error) => panic!("{what}: {error}"),
        }
    }
}

/// moto's S3 server (`pip install 'moto[server]'`), which implements versioning.
pub fn start_moto() -> Option<Server> {
    if !require("moto_server", "pip install 'moto[server]'") {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    wait_for(port, &mut child, "moto_server");
    Some(Server {
        child,
        port,
        _dir: dir,
    })
}

/// The distribution registry (Debian `docker-registry`), storing in a temporary directory.
pub fn start_registry() -> Option<Server> {
    if !require("docker-registry", "apt-get install docker-registry") {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = dir.path().join("config.yml");
    let storage = dir.path().join("storage");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        ),
    )
    .expect("write registry config");
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    wait_for(port, &mut child, "docker-registry");
    wait_until_serving(port, "/v2/", &mut child, "docker-registry");
    Some(Server {
        child,
        port,
        _dir: dir,
    })
}

/// Runs a Python script (with boto3, which moto[server] installs) against the S3 server.
pub fn python(script: &str, env: &[(&str, &str)]) {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .envs(env.iter().copied())
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
