//! Extractors whose refusals are the JSON error envelope (SPEC §4), not axum's plain text: a
//! path or query that cannot be read (`POST /hooks/%FF`: not UTF-8) is answered 400 naming the
//! parameter, like every other bad input.

use super::error::ApiError;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// [`Path`] with the envelope on refusal.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathParams(v)),
            Err(e) => Err(path_refusal(e)),
        }
    }
}

/// The parameter at fault, as axum's deserializer names it, and its own sentence.
fn path_refusal(e: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let status = e.status();
    let message = e.body_text();
    let key = match &e {
        PathRejection::FailedToDeserializePathParams(d) => match d.kind() {
            ErrorKind::InvalidUtf8InPathParam { key }
            | ErrorKind::ParseErrorAtKey { key, .. }
            | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
            _ => None,
        },
        _ => None,
    };
    let err = if status == StatusCode::BAD_REQUEST {
        ApiError::bad_request("invalid_path", message)
    } else {
        // Missing path parameters: a routing bug, not the sender's fault.
        ApiError::new(status, "internal", message)
    };
    match key {
        Some(k) => err.with_field("path", k),
        None => err,
    }
}

fn query_refusal(e: QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", e.body_text())
}

/// [`Query`] with the envelope on refusal.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(QueryParams(v)),
            // serde's message names the parameter at fault ("unknown field `x`", "limit: ...").
            Err(e) => Err(query_refusal(e)),
        }
    }
}
