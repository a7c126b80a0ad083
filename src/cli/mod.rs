//! The command line of SPEC §2: `serve`, `demo`, `check` (`check.rs`), `rules test`,
//! `verify` (`verify.rs`), and `store export` / `store import` (`store.rs`) to move a store
//! (sled to PostgreSQL). What a command prints goes to stdout through [`print`], which a closed
//! pipe (`deskbridge check | head -1`) cannot turn into a panic.

mod check;
mod store;
mod verify;

use crate::app::App;
use crate::config::{self, Config};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "deskbridge",
    version,
    about = "Connects IT service desks to remote-support vendors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the service (HTTP + worker).
    Serve {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run every flow against built-in simulators and print each ticket before and after.
    Demo,
    /// Validate a configuration and print what it defines (every error at once).
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also call every connection and vendor once, read-only, with its credentials.
        #[arg(long)]
        online: bool,
    },
    /// Move the whole store: export it as JSON lines, import such a file (sled to PostgreSQL).
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Rule tools.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Check artifact manifests' signatures and every file's SHA-256.
    Verify {
        #[arg(long, conflicts_with = "public_key")]
        config: Option<PathBuf>,
        /// An audit public key (base64) to accept, instead of the configuration's current and
        /// previous keys; may be given more than once.
        #[arg(long)]
        public_key: Vec<String>,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// Show the normalised ticket a payload becomes and which rule matches, and why.
    Test {
        #[arg(long)]
        connection: String,
        #[arg(long)]
        payload: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

const DEFAULT_CONFIG: &str = "deskbridge.toml";

/// The explicit file, else `deskbridge.toml` if present, else the built-in default.
pub(crate) fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    match explicit {
        Some(p) => config::load(p).map_err(|e| e.to_string()),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            config::load(Path::new(DEFAULT_CONFIG)).map_err(|e| e.to_string())
        }
        None => Ok(Config::default()),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    use crate::telemetry::{init, Purpose};
    let defaults = crate::config::LogConfig::default();
    match &cli.command {
        Command::Serve { .. } => {} // once its configuration is read
        Command::Demo => init(&defaults, Purpose::Demo),
        _ => init(&defaults, Purpose::Command),
    }
    let result: Result<(), Failure> = match cli.command {
        Command::Serve { config } => serve(config.as_deref()).map_err(Failure::from),
        Command::Demo => runtime()
            .and_then(|rt| rt.block_on(crate::demo::run()))
            .map_err(Failure::from),
        Command::Check { config, online } => {
            check::run(config.as_deref(), online).map_err(Failure::from)
        }
        Command::Store { command } => store::run(command).map_err(Failure::from),
        Command::Rules {
            command:
                RulesCommand::Test {
                    connection,
                    payload,
                    config,
                },
        } => rules_test(config.as_deref(), &connection, &payload).map_err(Failure::from),
        Command::Verify {
            config,
            public_key,
            paths,
        } => verify::run(config.as_deref(), public_key, &paths),
    };
    match result {
        Ok(()) => {
            crate::telemetry::flush(std::time::Duration::from_millis(500));
            ExitCode::SUCCESS
        }
        Err(Failure::Failed(e)) => {
            crate::telemetry::last_words(&format!("deskbridge: {e}"));
            ExitCode::FAILURE
        }
        Err(Failure::Usage(e)) => {
            crate::telemetry::last_words(&format!("deskbridge: {e}"));
            ExitCode::from(2)
        }
    }
}

/// How a command failed: a usage error exits 2 (like clap's own), anything else 1.
#[derive(Debug)]
pub(crate) enum Failure {
    Usage(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Failed(s)
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn serve(path: Option<&Path>) -> Result<(), String> {
    let cfg = load_config(path)?;
    crate::telemetry::init(&cfg.log, crate::telemetry::Purpose::Serve);
    for w in &cfg.warnings {
        tracing::warn!(field = %w.field, "configuration: {}", w.reason);
    }
    if cfg.source.is_none() {
        tracing::info!("no {DEFAULT_CONFIG}: running on the built-in default (127.0.0.1:8080, data in ./data, no connections)");
    }
    let listener = std::net::TcpListener::bind(&cfg.server.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.server.listen))?;
    runtime()?.block_on(async move {
        let app = App::build(cfg, listener).await.map_err(|e| e.to_string())?;
        let reload = app.reloader();
        app.run_until_stopped(signals(reload))
            .await
            .map_err(|e| e.to_string())
    })
}

/// Resolves on SIGTERM or Ctrl-C; SIGHUP re-reads the configuration and keeps running.
async fn signals(reload: std::sync::Arc<dyn Fn() -> Result<String, String> + Send + Sync>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = tokio::signal::ctrl_c() => return,
                _ = hup.recv() => match reload() {
                    Ok(msg) => tracing::info!(%msg, "SIGHUP: configuration reloaded"),
                    Err(e) => tracing::error!(error = %e, "SIGHUP: the new configuration was refused; the running one stays"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = reload;
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn rules_test(path: Option<&Path>, connection: &str, payload: &Path) -> Result<(), String> {
    let cfg = load_config(path)?;
    let body = std::fs::read(payload).map_err(|e| format!("{}: {e}", payload.display()))?;
    let scratch = Scratch::new()?;
    let answer = {
        let shared = scratch.shared()?;
        let rt = crate::runtime::Runtime::build(cfg, &shared).map_err(|e| e.to_string())?;
        crate::http::rules_test_answer(&rt, connection, &body).map_err(|e| e.message)?
    };
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    ));
    // A payload no rule takes is what an admin running this wants to know about, in $? too.
    if answer["on_webhook"]["rule"].is_null() {
        return Err(match answer["ignored"].as_str() {
            Some(why) => format!("the payload is ignored: {why}"),
            None => "no rule matches this payload".into(),
        });
    }
    Ok(())
}

/// A scratch directory for commands that need a runtime but must not touch the real store;
/// removed with everything in it (store, key) when dropped, whatever the command's outcome.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new() -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!("deskbridge-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    /// A store, metrics and key of its own (drop it before the scratch directory).
    pub(crate) fn shared(&self) -> Result<crate::runtime::Shared, String> {
        Ok(crate::runtime::Shared {
            store: crate::store::Store::open_sled(&self.0).map_err(|e| e.to_string())?,
            metrics: Default::default(),
            audit: std::sync::Arc::new(
                crate::audit::AuditKey::load_or_create(&self.0).map_err(|e| e.to_string())?,
            ),
            clock: crate::clock::Clock::system(),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Write a command's answer to stdout. A reader that has gone (`| head -1`) ends the output
/// quietly: the rest has nowhere to go, and that is not the command's failure.
pub(crate) fn print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
