//! deskbridge in the test's process: built from a [`Config`] written to a temporary directory
//! of its own, on 127.0.0.1:0, on a manual clock the test may move, and stopped when dropped.
//!
//! The clock runs with real time from the start, so the service behaves as it does in
//! production; a test skips a long wait (a `Retry-After`, a token's life, `give_up_after`) by
//! moving it. The clock tests build on a frozen one instead.

use super::client::Api;
use super::config::Config;
use deskbridge::app::App;
use deskbridge::clock::{ManualClock, Millis};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub api: Api,
    pub public_key: String,
    /// Moves the service's clock.
    pub clock: ManualClock,
    /// The configuration the service started on, and its file (a reload reads the file again).
    pub config: Config,
    pub config_path: PathBuf,
    /// Held so the data directory lives as long as the app.
    _dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A system's test app: `pub struct $name` holding deskbridge (`app`, a [`TestApp`], which it
/// derefs to) and the simulators the test drives.
macro_rules! system_app {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        pub struct $name {
            pub app: $crate::harness::TestApp,
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl std::ops::Deref for $name {
            type Target = $crate::harness::TestApp;
            fn deref(&self) -> &Self::Target {
                &self.app
            }
        }
    };
}
pub(crate) use system_app;

/// A loopback listener on a port of its own.
pub fn listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

impl TestApp {
    /// deskbridge on the configuration `config` builds for a new temporary directory, then
    /// `edit` changes; on a running manual clock.
    pub async fn start(
        config: impl FnOnce(&Path) -> Config,
        edit: impl FnOnce(&mut Config),
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        edit(&mut cfg);
        TestApp::start_on(dir, cfg, listener(), ManualClock::running(Millis::now())).await
    }

    /// [`TestApp::start`] on a listener bound beforehand (when the configuration must know the
    /// port) and a clock of the test's choosing.
    pub async fn start_on(
        dir: tempfile::TempDir,
        cfg: Config,
        listener: std::net::TcpListener,
        clock: ManualClock,
    ) -> TestApp {
        let config_path = cfg.write(&dir.path().join("deskbridge.toml"));
        let loaded = deskbridge::config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let app = App::build_with_clock(loaded, listener, clock.clock())
            .await
            .unwrap();
        let (theirs, ours) = (app.clock().now(), clock.now());
        assert!(
            ours >= theirs && ours.since(theirs) < Duration::from_secs(1),
            "the service runs on the test's clock"
        );
        let api = Api::new(format!("http://127.0.0.1:{}", app.port()));
        let public_key = app.public_key();
        let stop = CancellationToken::new();
        let s = stop.clone();
        tokio::spawn(async move {
            app.run_until_stopped(async move { s.cancelled().await })
                .await
                .unwrap();
        });
        TestApp {
            api,
            public_key,
            clock,
            config: cfg,
            config_path,
            _dir: dir,
            stop,
        }
    }

    /// Write `cfg` over the configuration file and have the service reload it.
    pub async fn reload(&self, cfg: &Config) {
        cfg.write(&self.config_path);
        let r = self.admin_post("/api/v1/reload").await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    /// The job reports each file's hash and where it went, they match what the ticket holds,
    /// and the files pass `deskbridge verify`'s check with this service's public key.
    pub fn assert_artifacts_match(&self, job: &serde_json::Value, files: &[super::Attached]) {
        super::ticket::assert_artifacts_match(job, files, &self.public_key);
    }

    /// Move the clock forward to `at` (never back: a running clock may be past it already).
    pub fn move_clock_to(&self, at: Millis) {
        if at > self.clock.now() {
            self.clock.set(at);
        }
    }

    /// Wait until the job has retried after its `nth` error (from 0) containing `needle`, and
    /// move the clock to when it was told to come back, so the test does not wait the
    /// `Retry-After` out in real time. [`super::job::retry_waits`] then reads from the history
    /// how long the job waited on the service's clock.
    pub async fn skip_retry_wait(&self, id: &str, needle: &str, nth: usize) {
        let job = self
            .wait_until(id, &format!("retry {nth} after {needle:?}"), 15, |j| {
                super::job::retry_lines(j, needle).len() > nth
            })
            .await;
        self.move_clock_to(super::job::retry_lines(&job, needle)[nth].1);
    }
}
