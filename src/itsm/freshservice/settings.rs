//! What `[[itsm]]` takes for `kind = "freshservice"` besides `id`, `base_url` and `rate_limit`:
//! the API key, and how the Workflow Automator's "Trigger Webhook" call authenticates (a
//! shared header or HTTP Basic; Freshservice signs nothing).

use super::Freshservice;
use crate::config::auth::{ApiKey, Basic};
use crate::config::ItsmConfig;
use crate::itsm::verify::{verify_basic, SharedHeader};
use crate::itsm::{BuildCtx, Itsm, ItsmSettings, Verified, VerifyError};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub auth: Auth,
    pub inbound: Inbound,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// Sent as HTTP Basic, the key as the user name and `X` as the password.
    ApiKey(ApiKey),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    SharedHeader(SharedHeader),
    Basic(Basic),
}

impl Inbound {
    pub fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
    ) -> Result<Verified<'a>, VerifyError> {
        match self {
            Inbound::SharedHeader(s) => s.verify(headers, body),
            Inbound::Basic(b) => verify_basic(b, headers, body),
        }
    }
}

impl ItsmSettings for Settings {
    fn build(&self, cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm> {
        Arc::new(Freshservice::new(cfg, self, ctx))
    }
}
