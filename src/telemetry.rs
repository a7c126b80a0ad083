//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default info), JSON when
//! `DESKBRIDGE_LOG_FORMAT=json`. Nothing logs request bodies or credentials.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sled=warn,hyper=warn,reqwest=warn"));
    let json = std::env::var("DESKBRIDGE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
