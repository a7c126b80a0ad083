//! The command line of SPEC §2: `serve`, `demo`, `check`, `rules test`, `verify`.

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
    /// Validate a configuration and print what it defines.
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
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
        /// The audit public key (base64), instead of reading it through the configuration.
        #[arg(long)]
        public_key: Option<String>,
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
fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
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
    let result = match cli.command {
        Command::Serve { config } => serve(config.as_deref()),
        Command::Demo => runtime().and_then(|rt| rt.block_on(crate::demo::run())),
        Command::Check { config } => check(config.as_deref()),
        Command::Rules {
            command:
                RulesCommand::Test {
                    connection,
                    payload,
                    config,
                },
        } => rules_test(config.as_deref(), &connection, &payload),
        Command::Verify {
            config,
            public_key,
            paths,
        } => verify(config.as_deref(), public_key, &paths),
    };
    match result {
        Ok(()) => {
            crate::telemetry::flush(std::time::Duration::from_millis(500));
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::telemetry::last_words(&format!("deskbridge: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn serve(path: Option<&Path>) -> Result<(), String> {
    let cfg = load_config(path)?;
    crate::telemetry::init(&cfg.log, crate::telemetry::Purpose::Serve);
    if cfg.source.is_none() {
        tracing::info!("no {DEFAULT_CONFIG}: running on the built-in default (127.0.0.1:8080, data in ./data, no connections)");
    }
    let listener = std::net::TcpListener::bind(&cfg.server.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.server.listen))?;
    runtime()?.block_on(async move {
        let app = App::build(cfg, listener).map_err(|e| e.to_string())?;
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

fn check(path: Option<&Path>) -> Result<(), String> {
    let cfg = load_config(path)?;
    crate::runtime::load_templates(&cfg).map_err(|e| e.to_string())?;
    let file = cfg
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<built-in default>".into());
    println!("{file}: OK");
    println!(
        "listen {}  data_dir {}",
        cfg.server.listen,
        cfg.server.data_dir.display()
    );
    println!("connections:");
    for c in &cfg.itsm {
        println!(
            "  {:<20} {:<13} {}  (webhook: POST /hooks/{})",
            c.id,
            c.kind.as_str(),
            c.base_url,
            c.id
        );
    }
    println!("vendors:");
    for v in &cfg.vendor {
        println!("  {:<20} {:<13} {}", v.id, v.kind.as_str(), v.base_url);
    }
    println!("rules (first match wins):");
    for (i, r) in cfg.rules.iter().enumerate() {
        println!(
            "  {}. {:?}: {} -> {}  match {}",
            i + 1,
            r.name,
            r.connection,
            r.vendor,
            serde_json::to_string(&r.matches).unwrap_or_default()
        );
    }
    match std::fs::read_to_string(crate::audit::key_path(&cfg.server.data_dir)) {
        Ok(_) => {
            let key = crate::audit::AuditKey::load_or_create(&cfg.server.data_dir)
                .map_err(|e| e.to_string())?;
            println!("audit public key (ed25519): {}", key.public_key());
        }
        Err(_) => println!(
            "audit public key: not generated yet (the first `serve` creates it in {})",
            cfg.server.data_dir.display()
        ),
    }
    Ok(())
}

fn rules_test(path: Option<&Path>, connection: &str, payload: &Path) -> Result<(), String> {
    let cfg = load_config(path)?;
    let body = std::fs::read(payload).map_err(|e| format!("{}: {e}", payload.display()))?;
    let dir = tempfile_dir()?;
    let shared = crate::runtime::Shared {
        store: crate::store::Store::open(&dir).map_err(|e| e.to_string())?,
        metrics: Default::default(),
        audit: std::sync::Arc::new(
            crate::audit::AuditKey::load_or_create(&dir).map_err(|e| e.to_string())?,
        ),
        clock: crate::clock::Clock::system(),
    };
    let rt = crate::runtime::Runtime::build(cfg, &shared).map_err(|e| e.to_string())?;
    let answer = crate::http::rules_test_answer(&rt, connection, &body).map_err(|e| e.message)?;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    );
    Ok(())
}

/// A scratch directory for commands that need a runtime but must not touch the real store.
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("deskbridge-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

fn verify(
    path: Option<&Path>,
    public_key: Option<String>,
    paths: &[PathBuf],
) -> Result<(), String> {
    let key = match public_key {
        Some(k) => k,
        None => {
            let cfg = load_config(path)?;
            crate::audit::AuditKey::load_or_create_readonly(&cfg.server.data_dir)
                .map_err(|e| e.to_string())?
                .public_key()
        }
    };
    let report = crate::artifacts::verify_paths(paths, &key);
    for f in &report.ok_files {
        println!("ok       {f}");
    }
    for p in &report.problems {
        println!("PROBLEM  {p}");
    }
    if report.is_ok() {
        println!("all files match their signed manifest");
        Ok(())
    } else {
        Err(format!("{} problem(s) found", report.problems.len()))
    }
}
