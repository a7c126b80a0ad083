//! `GET /oauth/{vendor}/start` and `/callback`: the OAuth 2.0 authorization-code flow for
//! vendors configured with `auth.type = "oauth2"`. Not built yet (issue 4): both answer 404
//! naming the vendor, so an admin is not sent to a half-working flow.

use super::error::ApiError;
use super::AppState;
use axum::extract::{Path, State};

pub async fn start(State(_st): State<AppState>, Path(vendor): Path<String>) -> ApiError {
    ApiError::not_found(format!(
        "vendor {vendor:?} has no OAuth 2.0 flow in this build"
    ))
}

pub async fn callback(State(_st): State<AppState>, Path(vendor): Path<String>) -> ApiError {
    ApiError::not_found(format!(
        "vendor {vendor:?} has no OAuth 2.0 flow in this build"
    ))
}
