//! deskbridge as a child process (the real binary, `deskbridge serve`), for what only a process
//! shows: SIGKILL inside a step, SIGTERM and SIGHUP. It runs on the system clock.
//!
//! The simulators run in the test process; a fault makes the call of the step under test hang
//! (after applying it, for writes: the worst case, where the upstream committed but deskbridge
//! never heard back), the test waits for that call to arrive, then kills the child. Whatever
//! happens, the ticket must end with each note and each artifact exactly once.

use super::client::Api;
use super::config::Config;
use deskbridge_sim::{Fault, FaultAction, Faults};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// deskbridge running as a child process on a fixed port, logging to a file.
pub struct Child {
    proc: Option<std::process::Child>,
    pub api: Api,
    /// The configuration file, and what was written to it.
    pub config_path: PathBuf,
    pub config: Config,
    pub log: PathBuf,
}

impl std::ops::Deref for Child {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A free loopback port (bound then released; the child binds it next).
pub fn free_port() -> u16 {
    super::app::listener().local_addr().unwrap().port()
}

impl Child {
    /// Start `deskbridge serve` on `cfg`, listening on a free port, its file and log in `dir`.
    pub async fn start(dir: &Path, mut cfg: Config) -> Child {
        let port = free_port();
        cfg.server.listen = Some(format!("127.0.0.1:{port}"));
        let config_path = cfg.write(&dir.join("deskbridge.toml"));
        let mut c = Child {
            proc: None,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            config_path,
            config: cfg,
            log: dir.join("deskbridge.log"),
        };
        c.restart().await;
        c
    }

    /// (Re)start the process on the same configuration and data, and wait until it is ready.
    pub async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let proc = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
            .args(["serve", "--config"])
            .arg(&self.config_path)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.proc = Some(proc);
        for _ in 0..400 {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("deskbridge did not become ready; log:\n{}", self.log_text());
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill().unwrap();
            p.wait().unwrap();
        }
    }

    /// Send `signal` ("TERM", "HUP") to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGTERM, and how long the process took to exit.
    pub fn terminate(&mut self) -> Duration {
        let started = std::time::Instant::now();
        self.signal("TERM");
        let status = self.proc.as_mut().unwrap().wait().unwrap();
        assert!(status.success(), "exit status after SIGTERM: {status}");
        self.proc = None;
        started.elapsed()
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().map(|p| p.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stop the process (SIGTERM) and return its whole log, which must be this run's.
    pub fn final_log(&mut self, job_id: &str) -> String {
        self.terminate();
        let log = self.log_text();
        assert!(log.contains(job_id), "the log is the run's log");
        log
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Arm a fault for the call of the step under test. Arm it *before* (re)starting the child, or
/// the child may make the call before the fault is there.
pub fn arm(faults: &Faults, method: &str, path: &str, action: FaultAction) {
    faults.clear();
    faults.push(Fault::new(path, action).method(method));
}

/// Restart the child with the `method path` call set to hang, and kill it once that call is
/// in flight.
pub async fn crash_inside(child: &mut Child, faults: &Faults, method: &str, path: &str) {
    crash_with(child, faults, method, path, FaultAction::Hang).await;
}

/// Like [`crash_inside`] for a write the upstream applies before its answer hangs: the worst
/// case, where the upstream committed but deskbridge never heard back.
pub async fn crash_after_write(child: &mut Child, faults: &Faults, method: &str, path: &str) {
    crash_with(child, faults, method, path, FaultAction::ApplyThenHang).await;
}

async fn crash_with(
    child: &mut Child,
    faults: &Faults,
    method: &str,
    path: &str,
    action: FaultAction,
) {
    arm(faults, method, path, action);
    child.restart().await;
    kill_when_called(child, faults, method, path).await;
}

/// Wait for the armed call to arrive, give a write a moment to apply, kill, disarm.
pub async fn kill_when_called(child: &mut Child, faults: &Faults, method: &str, path: &str) {
    let hit = faults
        .wait_for_request(method, path, Duration::from_secs(20))
        .await;
    assert!(
        hit.is_some(),
        "{method} {path} never came; log:\n{}",
        child.log_text()
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill();
    faults.clear();
}

/// No secret of `secrets` is in `log`.
pub fn assert_no_secret_in(log: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !log.contains(secret),
            "a secret ({}…) is in the log",
            &secret[..4]
        );
    }
}
