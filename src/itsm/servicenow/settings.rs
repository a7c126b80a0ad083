//! What `[[itsm]]` takes for `kind = "servicenow"` besides `id`, `base_url` and `rate_limit`:
//! basic or bearer credentials for the Table and Attachment APIs, and the signed UI Action call.

use super::{signature, ServiceNow};
use crate::config::auth::{Basic, Bearer};
use crate::config::{ItsmConfig, Secret};
use crate::itsm::{BuildCtx, Itsm, ItsmSettings, Verified, VerifyError};
use serde::Deserialize;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub auth: Auth,
    pub inbound: Inbound,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    Basic(Basic),
    Bearer(Bearer),
}

impl Auth {
    pub(super) fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Basic(b) => rb.basic_auth(&b.username, Some(b.password.expose())),
            Auth::Bearer(b) => rb.bearer_auth(b.token.expose()),
        }
    }
}

/// ServiceNow sends what the shipped UI Action sends: an HMAC-signed call.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Inbound {
    Hmac { secret: Secret },
}

impl Inbound {
    pub fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        now: SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        match self {
            Inbound::Hmac { secret } => signature::verify(secret, headers, body, now),
        }
    }
}

impl ItsmSettings for Settings {
    fn build(&self, cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm> {
        Arc::new(ServiceNow::new(cfg, self, ctx))
    }
}
