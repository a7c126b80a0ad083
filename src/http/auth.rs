//! Bearer tokens for `/api/v1`: the admin token may do everything, the auditor token may only
//! read. Without a configured token nobody gets in (no token means no API, not an open one).

use super::error::ApiError;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Auditor,
}

pub async fn require_token(
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let rt = st.current.get();
    let presented = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let server = &rt.config.server;
    let role = if presented.is_empty() {
        None
    } else if server
        .admin_token
        .as_ref()
        .is_some_and(|t| t.matches(presented.as_bytes()))
    {
        Some(Role::Admin)
    } else if server
        .auditor_token
        .as_ref()
        .is_some_and(|t| t.matches(presented.as_bytes()))
    {
        Some(Role::Auditor)
    } else {
        None
    };
    let Some(role) = role else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid admin or auditor token is required (Authorization: Bearer <token>)",
        )
        .with_field("header", "authorization"));
    };
    // Every read is a GET; every other method changes something.
    if role == Role::Auditor && req.method() != Method::GET {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the auditor token is read-only",
        ));
    }
    req.extensions_mut().insert(role);
    Ok(next.run(req).await)
}
