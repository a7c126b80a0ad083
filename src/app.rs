//! Building and running the service from a configuration: open the store, load the audit key,
//! build the runtime, start the worker, serve HTTP on a listener the caller bound (port 0 in
//! tests), and stop cleanly.

use crate::audit::AuditKey;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::runtime::{Current, Runtime, Shared};
use crate::store::Store;
use crate::worker::Worker;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::info;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Build(#[from] crate::runtime::BuildError),
    #[error("cannot serve HTTP: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot create the data directory {path} (server.data_dir): {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another deskbridge{holder} holds the data directory {path}: stop it first, or give this one a server.data_dir of its own")]
    Held { path: String, holder: String },
}

/// The data directory's lock: one deskbridge per directory (its store is single-writer). An
/// advisory lock on `deskbridge.lock`, holding the pid for the message a second one gets; the
/// kernel drops it when the process ends, however it ends.
pub struct DataDirLock(#[allow(dead_code)] std::fs::File);

impl DataDirLock {
    pub fn acquire(dir: &std::path::Path) -> Result<DataDirLock, AppError> {
        use fs2::FileExt;
        use std::io::{Read, Seek, Write};
        let path = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|source| AppError::DataDir {
            path: path.clone(),
            source,
        })?;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("deskbridge.lock"))
            .map_err(|source| AppError::DataDir {
                path: path.clone(),
                source,
            })?;
        if f.try_lock_exclusive().is_err() {
            let mut pid = String::new();
            let _ = f.read_to_string(&mut pid);
            let holder = match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            };
            return Err(AppError::Held { path, holder });
        }
        let _ = f.set_len(0);
        let _ = f.rewind();
        let _ = write!(f, "{}", std::process::id());
        Ok(DataDirLock(f))
    }
}

pub struct App {
    listener: tokio::net::TcpListener,
    state: AppState,
    /// Held until the service has stopped.
    _lock: DataDirLock,
}

impl App {
    /// Build everything on the system clock; nothing runs until [`App::run_until_stopped`].
    pub async fn build(config: Config, listener: std::net::TcpListener) -> Result<App, AppError> {
        App::build_with_clock(config, listener, Clock::system()).await
    }

    /// [`App::build`] on a given clock: tests pass a [`crate::clock::ManualClock`]'s clock and
    /// move time themselves (a job's due, poll, expiry and backoff times, and leases, follow it).
    pub async fn build_with_clock(
        config: Config,
        listener: std::net::TcpListener,
        clock: Clock,
    ) -> Result<App, AppError> {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let lock = DataDirLock::acquire(&config.server.data_dir)?;
        let store = Store::open(&config.store, &config.server.data_dir).await?;
        let audit = Arc::new(AuditKey::from_config(&config.server)?);
        let shared = Shared {
            store,
            metrics: Arc::new(Metrics::default()),
            audit,
            clock,
        };
        let current = Current::new(Runtime::build(config, &shared)?);
        let worker = Worker::new(current.clone(), shared.clone());
        let reload = {
            let (current, shared) = (current.clone(), shared.clone());
            Arc::new(move || reload(&current, &shared))
                as Arc<dyn Fn() -> Result<String, String> + Send + Sync>
        };
        let state = AppState {
            current,
            shared,
            worker,
            accepting: Arc::new(AtomicBool::new(true)),
            reload,
        };
        Ok(App {
            listener,
            state,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn worker(&self) -> Arc<Worker> {
        self.state.worker.clone()
    }

    pub fn store(&self) -> Store {
        self.state.shared.store.clone()
    }

    /// The clock job timing runs on.
    pub fn clock(&self) -> Clock {
        self.state.shared.clock.clone()
    }

    pub fn public_key(&self) -> String {
        self.state.shared.audit.public_key()
    }

    /// Re-read the configuration file (SIGHUP does this).
    pub fn reloader(&self) -> Arc<dyn Fn() -> Result<String, String> + Send + Sync> {
        self.state.reload.clone()
    }

    /// Serve and work until `shutdown` resolves; then stop taking webhooks, give steps in flight
    /// the configured grace, flush the store and return (SPEC: within 10 s).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let App {
            listener,
            state,
            _lock,
        } = self;
        let grace = state
            .current
            .get()
            .config
            .server
            .shutdown_grace
            .0
            .min(Duration::from_secs(8));
        let stop = CancellationToken::new();
        let worker = tokio::spawn(state.worker.clone().run(stop.clone(), grace));
        let current = state.current.clone();
        let vendors = move || current.get().vendors.values().cloned().collect();
        tokio::spawn(crate::remote::keeper::run(
            vendors,
            stop.clone(),
            crate::remote::keeper::EVERY,
        ));
        tokio::spawn(crate::retention::run(
            state.current.clone(),
            state.shared.clone(),
            stop.clone(),
        ));
        let accepting = state.accepting.clone();
        let store = state.shared.store.clone();
        info!(addr = %listener.local_addr()?, "deskbridge is listening");
        let stop_http = stop.clone();
        let limits = http::serve::Limits::from(&state.current.get().config.server);
        let server = http::serve::serve(listener, http::router(state), limits, async move {
            shutdown.await;
            info!("shutting down: no new webhooks; finishing steps in flight");
            accepting.store(false, Ordering::Relaxed);
            stop_http.cancel();
        });
        let server = tokio::spawn(server);
        stop.cancelled().await;
        // Open keep-alive connections must not hold the exit past the deadline.
        let _ = tokio::time::timeout(grace, worker).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
        store.flush_blocking()?;
        info!("stopped");
        Ok(())
    }
}

fn reload(current: &Current, shared: &Shared) -> Result<String, String> {
    let old = current.get();
    let Some(path) = old.config.source.clone() else {
        return Err("running on the built-in default: there is no file to re-read".into());
    };
    let cfg = crate::config::load(&path).map_err(|e| e.to_string())?;
    if cfg.server.listen != old.config.server.listen
        || cfg.server.data_dir != old.config.server.data_dir
        || cfg.server.audit_key != old.config.server.audit_key
        || cfg.store.kind != old.config.store.kind
        || cfg.store.url != old.config.store.url
    {
        return Err(
            "server.listen, server.data_dir, server.audit_key and [store] cannot change without a restart"
                .into(),
        );
    }
    let rt = Runtime::build(cfg, shared).map_err(|e| e.to_string())?;
    let msg = format!(
        "{} connections, {} vendors, {} rules",
        rt.config.itsm.len(),
        rt.config.vendor.len(),
        rt.config.rules.len()
    );
    current.replace(rt);
    info!(%msg, "configuration reloaded");
    Ok(msg)
}
