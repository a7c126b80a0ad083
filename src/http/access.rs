//! The request log: one line per HTTP request with method, path, status and duration. Probes,
//! scrapes and webhooks (which have their own outcome line) are logged at debug so the info
//! log stays readable; the query string is never logged (the OAuth callback carries its code
//! there).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Paths whose request line is debug, not info.
fn quiet(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/hooks/")
}

pub async fn log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    if quiet(&path) {
        tracing::debug!(%method, %path, status, ms, "request");
    } else {
        tracing::info!(%method, %path, status, ms, "request");
    }
    resp
}
