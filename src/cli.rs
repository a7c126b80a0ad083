//! The command line of SPEC §2: `serve`, `demo`, `check`, `rules test`, `verify`, and
//! `store export` / `store import` to move a store (sled to PostgreSQL).

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
    /// Move the whole store: export it as JSON lines, import such a file (sled to PostgreSQL).
    Store {
        #[command(subcommand)]
        command: StoreCommand,
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
enum StoreCommand {
    /// Write every job, artifact and stored value of the configured store (stop the service
    /// first when it is sled).
    Export {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where to write; default standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Read an export into the configured store.
    Import {
        #[arg(long)]
        config: Option<PathBuf>,
        /// What to read; default standard input.
        #[arg(long)]
        input: Option<PathBuf>,
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

/// How a command failed: a usage error exits 2 (like clap's own), anything else 1.
#[derive(Debug)]
enum Failure {
    Usage(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Failed(s)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init();
    let result: Result<(), Failure> = match cli.command {
        Command::Serve { config } => serve(config.as_deref()).map_err(Failure::from),
        Command::Demo => runtime()
            .and_then(|rt| rt.block_on(crate::demo::run()))
            .map_err(Failure::from),
        Command::Check { config } => check(config.as_deref()).map_err(Failure::from),
        Command::Store { command } => store_command(command).map_err(Failure::from),
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
        } => verify(config.as_deref(), public_key, &paths),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(e)) => {
            eprintln!("deskbridge: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Usage(e)) => {
            eprintln!("deskbridge: {e}");
            ExitCode::from(2)
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
    if cfg.server.audit_key.is_some() {
        let key = crate::audit::AuditKey::from_config(&cfg.server).map_err(|e| e.to_string())?;
        println!(
            "audit public key (ed25519, server.audit_key): {}",
            key.public_key()
        );
    }
    for k in &cfg.server.audit_keys_previous {
        println!(
            "previous audit key still accepted by verify: {} ({k})",
            crate::audit::key_id(k)
        );
    }
    match std::fs::read_to_string(crate::audit::key_path(&cfg.server.data_dir)) {
        _ if cfg.server.audit_key.is_some() => {}
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

fn store_command(command: StoreCommand) -> Result<(), String> {
    let (config, file, export) = match command {
        StoreCommand::Export { config, output } => (config, output, true),
        StoreCommand::Import { config, input } => (config, input, false),
    };
    let cfg = load_config(config.as_deref())?;
    runtime()?.block_on(async move {
        let store = crate::store::Store::open(&cfg.store, &cfg.server.data_dir)
            .await
            .map_err(|e| e.to_string())?;
        let n = if export {
            crate::store::transfer::export_to(&store, file.as_deref()).await
        } else {
            crate::store::transfer::import_from(&store, file.as_deref()).await
        }?;
        store.flush_blocking().map_err(|e| e.to_string())?;
        eprintln!(
            "{} {} jobs, {} artifacts, {} stored values ({} store)",
            if export { "exported" } else { "imported" },
            n.jobs,
            n.artifacts,
            n.values,
            store.kind()
        );
        Ok(())
    })
}

fn rules_test(path: Option<&Path>, connection: &str, payload: &Path) -> Result<(), String> {
    let cfg = load_config(path)?;
    let body = std::fs::read(payload).map_err(|e| format!("{}: {e}", payload.display()))?;
    let dir = tempfile_dir()?;
    let shared = crate::runtime::Shared {
        store: crate::store::Store::open_sled(&dir).map_err(|e| e.to_string())?,
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

/// The keys `verify` accepts: the ones given, or the configuration's current key and its
/// previous ones. A given key that is not one is a usage error.
fn verify_keys(path: Option<&Path>, given: Vec<String>) -> Result<Vec<String>, Failure> {
    if !given.is_empty() {
        for k in &given {
            crate::audit::parse_public_key(k)
                .map_err(|e| Failure::Usage(format!("--public-key: {e}")))?;
        }
        return Ok(given);
    }
    let cfg = load_config(path)?;
    let current = match &cfg.server.audit_key {
        Some(_) => crate::audit::AuditKey::from_config(&cfg.server),
        None => crate::audit::AuditKey::load_or_create_readonly(&cfg.server.data_dir),
    }
    .map_err(|e| e.to_string())?;
    let mut keys = vec![current.public_key()];
    keys.extend(cfg.server.audit_keys_previous.iter().cloned());
    Ok(keys)
}

fn verify(path: Option<&Path>, public_key: Vec<String>, paths: &[PathBuf]) -> Result<(), Failure> {
    let keys = verify_keys(path, public_key)?;
    let report = crate::artifacts::verify_paths(paths, &keys);
    for s in &report.signed {
        println!("signed   {s}");
    }
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
        Err(format!("{} problem(s) found", report.problems.len()).into())
    }
}
