//! `/api/v1` beyond jobs: status, the test call of one system, rules test, reload and the audit
//! public key. Thin over [`crate::admin`] and the runtime.

use super::super::error::{ApiError, ErrorBody};
use super::super::extract::PathParams;
use super::super::AppState;
use crate::admin::Status;
use crate::ids::ConnectionId;
use crate::itsm::Inbound;
use crate::outbound::Probe;
use crate::rules::{self, Certainty};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Every connection and vendor with its last call and credentials, job counts, warnings.
#[utoipa::path(get, path = "/status", tag = "system", responses((status = 200, body = Status)))]
pub async fn status(State(st): State<AppState>) -> Result<Json<Status>, ApiError> {
    Ok(Json(st.admin().status().await?))
}

/// The `check --online` call for one connection: `{"ok", "message"}`.
#[utoipa::path(post, path = "/connections/{id}/test", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = Probe), (status = 404, body = ErrorBody)))]
pub async fn test_connection(
    State(st): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Probe>, ApiError> {
    Ok(Json(st.admin().test_connection(&id).await?))
}

/// The `check --online` call for one vendor: `{"ok", "message"}`.
#[utoipa::path(post, path = "/vendors/{id}/test", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = Probe), (status = 404, body = ErrorBody)))]
pub async fn test_vendor(
    State(st): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Probe>, ApiError> {
    Ok(Json(st.admin().test_vendor(&id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesTest {
    connection: String,
    /// A webhook body as the connection's system sends it.
    #[schema(value_type = Object)]
    payload: Value,
}

/// Which rule a payload would get, and why: the same answer as `deskbridge rules test`.
#[utoipa::path(post, path = "/rules/test", tag = "system", request_body = RulesTest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rules_test(
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let t: RulesTest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    let rt = st.current.get();
    let payload = serde_json::to_vec(&t.payload).unwrap_or_default();
    rules_test_answer(&rt, &t.connection, &payload).map(Json)
}

/// Shared by the route and `deskbridge rules test`.
pub fn rules_test_answer(
    rt: &crate::runtime::Runtime,
    connection: &str,
    payload: &[u8],
) -> Result<Value, ApiError> {
    let itsm = rt.itsm.get(&ConnectionId::new(connection)).ok_or_else(|| {
        ApiError::not_found(format!("unknown connection {connection:?}"))
            .with_field("field", "connection")
    })?;
    let inbound = crate::itsm::parse_admin_payload(itsm.as_ref(), payload)
        .map_err(|e| ApiError::bad_request("invalid_payload", e.to_string()))?;
    let req = match inbound {
        Inbound::Ignore(reason) => return Ok(json!({"ignored": reason})),
        Inbound::Request(r) => r,
    };
    let rules = &rt.config.rules;
    let hint = rules::decide(rules, connection, &req.hint, Certainty::Hint);
    let read = rules::decide(rules, connection, &req.hint, Certainty::Authoritative);
    Ok(json!({
        "ticket_ref": req.ticket,
        "normalised": req.hint,
        "on_webhook": {"rule": hint.rule, "trace": hint.trace, "why_none": hint.rule.is_none().then(|| hint.why_none())},
        "if_read_as_is": {"rule": read.rule, "trace": read.trace, "why_none": read.rule.is_none().then(|| read.why_none())},
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// `reloaded`.
    pub status: String,
    /// What the new configuration defines.
    pub message: String,
}

/// Re-read the configuration; a bad one is refused with the reason, the running one stays.
#[utoipa::path(post, path = "/reload", tag = "system",
    responses((status = 200, body = Reloaded), (status = 400, body = ErrorBody)))]
pub async fn reload(State(st): State<AppState>) -> Result<Json<Reloaded>, ApiError> {
    match (st.reload)() {
        Ok(message) => Ok(Json(Reloaded {
            status: "reloaded".into(),
            message,
        })),
        Err(reason) => Err(ApiError::bad_request(
            "invalid_config",
            format!("the new configuration was refused and the running one stays: {reason}"),
        )),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicKey {
    /// `ed25519`.
    pub algorithm: String,
    /// Base64.
    pub public_key: String,
    /// `ed25519:` and the first 16 hex digits of the key's SHA-256, as manifests name it.
    pub key_id: String,
    /// Earlier keys (`server.audit_keys_previous`) that `verify` still accepts.
    pub previous: Vec<PreviousKey>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviousKey {
    pub public_key: String,
    pub key_id: String,
}

/// The Ed25519 public key that signs artifact manifests (no token needed).
#[utoipa::path(get, path = "/audit/public-key", tag = "system", security(()),
    responses((status = 200, body = PublicKey)))]
pub async fn public_key(State(st): State<AppState>) -> Json<PublicKey> {
    let key = st.shared.audit.public_key();
    let rt = st.current.get();
    let previous = rt.config.server.audit_keys_previous.iter();
    Json(PublicKey {
        algorithm: "ed25519".into(),
        key_id: crate::audit::key_id(&key),
        public_key: key,
        previous: previous
            .map(|k| PreviousKey {
                public_key: k.clone(),
                key_id: crate::audit::key_id(k),
            })
            .collect(),
    })
}
