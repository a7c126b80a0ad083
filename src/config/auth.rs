//! The credential shapes several systems share: what `auth = { type = "basic", ... }` and its
//! siblings hold. Which of them a system takes, and how it sends them, is the adapter's: each
//! adapter's `Auth` enum names the ones it takes (see `src/itsm/*/settings.rs`).

use super::Secret;
use serde::Deserialize;

/// `type = "basic"`: a user name and a password (also an inbound scheme).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basic {
    pub username: String,
    pub password: Secret,
}

/// `type = "bearer"`: a token sent as `Authorization: Bearer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bearer {
    pub token: Secret,
}

/// `type = "api_token"`: an account e-mail and its API token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub email: String,
    pub token: Secret,
}

/// `type = "api_key"`: one key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub key: Secret,
}
