//! The one place HTTP statuses are decided (SPEC §4). Every error answer is
//! `{"error": {"code", "message"[, "field" | "header"]}}`, and its status tells the sender
//! whether sending again can help: 4xx no, 503 yes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The header or body field at fault, when there is one.
    pub field: Option<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
    pub fn with_field(mut self, kind: &'static str, name: impl Into<String>) -> Self {
        self.field = Some((kind, name.into()));
        self
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub fn bad_request(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }
    pub fn unavailable(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "request failed");
        }
        let mut err = serde_json::json!({"code": self.code, "message": self.message});
        if let Some((kind, name)) = self.field {
            err[kind] = name.into();
        }
        let mut resp = (self.status, Json(serde_json::json!({ "error": err }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("5"));
        }
        resp
    }
}

/// Every error answer, as `/openapi.json` describes it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `not_found`, `unauthorized`, `invalid_body`, `conflict` ...
    pub code: String,
    /// For people: what is wrong and, where it helps, what to do.
    pub message: String,
    /// The body or query field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The header at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl From<crate::admin::AdminError> for ApiError {
    fn from(e: crate::admin::AdminError) -> Self {
        use crate::admin::AdminError as E;
        match e {
            E::NotFound(m) => ApiError::not_found(m),
            E::Invalid { field, message } => {
                ApiError::bad_request("invalid_request", message).with_field("field", field)
            }
            E::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            E::Gone(m) => Self::new(StatusCode::GONE, "gone", m),
            E::Store(s) => s.into(),
            E::Internal(m) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            // A job the state machine should never have made: sending again cannot help.
            crate::store::StoreError::Invalid(broken) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                broken.to_string(),
            ),
            e if e.retry_helps() => {
                ApiError::unavailable(format!("the store cannot be used right now: {e}"))
            }
            // A corrupt record: sending again reads the same bytes.
            e => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        }
    }
}
