//! Logging: `tracing` to stderr through a writer that never blocks (`writer.rs`), filtered by
//! `RUST_LOG` (else the configuration's `log.level`, else info), as text or JSON
//! (`DESKBRIDGE_LOG_FORMAT`, else `log.format`), coloured only when stderr is a terminal.
//!
//! The crates below deskbridge (sled, hyper, reqwest, rustls ...) speak at warn and above unless
//! `RUST_LOG` names them, so `RUST_LOG=debug` shows deskbridge's own debug lines rather than a
//! flood of store and connection internals. Nothing logs request bodies or credentials.

mod writer;

pub use writer::{dropped as dropped_lines, flush};

use crate::config::{LogConfig, LogFormat};
use std::io::IsTerminal;
use std::sync::OnceLock;
use tracing_subscriber::{fmt, EnvFilter};

/// Crates whose debug output is their own business: quiet unless `RUST_LOG` names them.
const QUIET: &[&str] = &[
    "sled",
    "pagecache",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tower",
    "tower_http",
    "mio",
    "want",
    "tokio_util",
    "minijinja",
];

/// What a command's log is for, which sets its default level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `serve`: the configured level (info by default).
    Serve,
    /// `check`, `rules test`, `verify`: their answer is on stdout; only warnings on stderr.
    Command,
    /// `demo`: its story is on stdout and nothing is interleaved with it.
    Demo,
}

static LINES: OnceLock<writer::Lines> = OnceLock::new();

/// The filter: `RUST_LOG` when set, else `default`; crates in [`QUIET`] at warn unless named.
pub fn filter(rust_log: Option<&str>, default: &str) -> EnvFilter {
    let given = rust_log.map(str::trim).filter(|s| !s.is_empty());
    let mut directives = given.unwrap_or(default).to_string();
    for c in QUIET {
        if !given.is_some_and(|g| g.contains(c)) {
            directives.push_str(&format!(",{c}=warn"));
        }
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The format: `DESKBRIDGE_LOG_FORMAT` when set to a known one, else the configuration's.
pub fn format(env: Option<&str>, configured: LogFormat) -> LogFormat {
    match env.map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if v == "json" => LogFormat::Json,
        Some(v) if v == "text" => LogFormat::Text,
        _ => configured,
    }
}

/// Install the log for `purpose` (once per process; later calls do nothing).
pub fn init(cfg: &LogConfig, purpose: Purpose) {
    let default = match purpose {
        Purpose::Serve => cfg.level.as_deref().unwrap_or("info"),
        Purpose::Command => "warn",
        Purpose::Demo => "off",
    };
    let rust_log = std::env::var("RUST_LOG").ok();
    let env_format = std::env::var("DESKBRIDGE_LOG_FORMAT").ok();
    let lines = LINES
        .get_or_init(|| writer::Lines::start(std::io::stderr()))
        .clone();
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = fmt()
        .with_env_filter(filter(rust_log.as_deref(), default))
        .with_writer(lines)
        .with_ansi(colour)
        .with_target(false);
    let installed = match format(env_format.as_deref(), cfg.format) {
        LogFormat::Json => builder.json().try_init().is_ok(),
        LogFormat::Text => builder.try_init().is_ok(),
    };
    if installed {
        install_panic_hook();
    }
}

/// A panic's report goes through the log too: the default hook writes to stderr directly and
/// would stop the panicking thread on a full pipe.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(at, "panic (a bug in deskbridge): {what}");
    }));
}

/// Say `message` on stderr as the last thing before exiting: through the log's queue when it
/// runs (waiting a moment for it to be written), else directly; never failing or blocking long.
pub fn last_words(message: &str) {
    match LINES.get() {
        Some(lines) => {
            lines.send(format!("{message}\n").into_bytes());
            flush(std::time::Duration::from_secs(1));
        }
        None => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_deskbridge_but_not_the_store_unless_asked() {
        let f = filter(Some("debug"), "info").to_string();
        assert!(f.contains("sled=warn") && f.contains("hyper=warn"), "{f}");
        let f = filter(Some("debug,sled=debug"), "info").to_string();
        assert!(!f.contains("sled=warn"), "{f}");
        let f = filter(None, "info").to_string();
        assert!(
            f.starts_with("info") || f.contains(",info") || f.contains("info"),
            "{f}"
        );
    }

    #[test]
    fn the_environment_format_wins_over_the_configured_one() {
        assert_eq!(format(Some("json"), LogFormat::Text), LogFormat::Json);
        assert_eq!(format(Some("TEXT"), LogFormat::Json), LogFormat::Text);
        assert_eq!(format(None, LogFormat::Json), LogFormat::Json);
        assert_eq!(format(Some("yaml"), LogFormat::Text), LogFormat::Text);
    }
}
