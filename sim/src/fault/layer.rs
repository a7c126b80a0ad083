//! The fault layer itself: the axum middleware every simulator installs outermost. It records
//! each request, applies the rate limit and the first matching scripted fault, and otherwise
//! lets the request through to the simulator's own handlers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::{Decision, FaultAction, Faults, SystemErrors};

#[derive(Clone)]
struct FaultLayer {
    faults: Faults,
    errors: Arc<dyn SystemErrors>,
}

/// Wraps `router` (every route and the fallback) in the fault layer. Install it last so that it
/// is outermost: it must see requests before auth and routing.
pub fn install(router: Router, faults: &Faults, errors: impl SystemErrors) -> Router {
    let layer = FaultLayer {
        faults: faults.clone(),
        errors: Arc::new(errors),
    };
    router.layer(from_fn_with_state(layer, fault_middleware))
}

async fn fault_middleware(State(layer): State<FaultLayer>, req: Request, next: Next) -> Response {
    let faults = &layer.faults;
    let halt = faults.halt_token();
    let path = req.uri().path().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    // Counted until the answer is ready, or until hyper drops this future (client gone).
    let _in_flight = faults.enter(&target);
    let idx = faults.record(&req);

    let (mut resp, info) = match faults.decide(idx) {
        Decision::Limited(info) => {
            let mut resp = layer.errors.rate_limited(&info, &path);
            *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            set_header(&mut resp, "retry-after", &info.retry_after_secs.to_string());
            (resp, Some(info))
        }
        Decision::Pass(info) => (next.run(req).await, info),
        Decision::Act(action, info) => match action {
            FaultAction::Status {
                status,
                retry_after,
                body,
            } => {
                let code =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut resp = match body {
                    Some(b) => raw_body(b),
                    None => layer.errors.error(code, &path),
                };
                *resp.status_mut() = code;
                if let Some(ra) = retry_after {
                    set_header(&mut resp, "retry-after", &ra);
                }
                (resp, info)
            }
            FaultAction::Delay(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = halt.cancelled() => return halted_response(),
                }
                (next.run(req).await, info)
            }
            FaultAction::ApplyThenHang => {
                // The effect is committed; the answer is thrown away and the connection is left
                // open until the simulator halts (then it is closed without an answer).
                let _committed = next.run(req).await;
                halt.cancelled().await;
                return halted_response();
            }
            FaultAction::Hang => {
                halt.cancelled().await;
                return halted_response();
            }
        },
    };
    if let Some(info) = &info {
        layer.errors.rate_limit_headers(info, resp.headers_mut());
    }
    faults.set_status(idx, resp.status().as_u16());
    resp
}

/// Produced only after a halt; the socket is already failing, so it never reaches the client.
fn halted_response() -> Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

fn raw_body(body: String) -> Response {
    let ct = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut resp = Response::new(Body::from(body));
    set_header(&mut resp, header::CONTENT_TYPE.as_str(), ct);
    resp
}

fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}
