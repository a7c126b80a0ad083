//! What `[[itsm]]` takes for `kind = "jira"` besides `id`, `base_url` and `rate_limit`: Cloud
//! (`api_token`) or Data Center (`bearer`, `basic`) credentials, an Automation rule's shared
//! header or a signed admin webhook, and the label that asks for a session.

use super::{signature, Jira};
use crate::config::auth::{ApiToken, Basic, Bearer};
use crate::config::{ItsmConfig, Secret};
use crate::itsm::verify::SharedHeader;
use crate::itsm::{BuildCtx, Itsm, ItsmSettings, Verified, VerifyError};
use serde::Deserialize;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub auth: Auth,
    pub inbound: Inbound,
    /// The label whose addition (admin webhook) asks for a session; default `remote-session`.
    #[serde(default)]
    pub trigger_label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    ApiToken(ApiToken),
    Bearer(Bearer),
    Basic(Basic),
}

impl Auth {
    pub(super) fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::ApiToken(t) => rb.basic_auth(&t.email, Some(t.token.expose())),
            Auth::Basic(b) => rb.basic_auth(&b.username, Some(b.password.expose())),
            Auth::Bearer(b) => rb.bearer_auth(b.token.expose()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Inbound {
    /// An Automation rule's "Send web request" with a secret header.
    SharedHeader(SharedHeader),
    /// An admin webhook with a secret.
    HubSignature { secret: Secret },
}

impl Inbound {
    pub fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        now: SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        match self {
            Inbound::SharedHeader(s) => s.verify(headers, body),
            Inbound::HubSignature { secret } => signature::verify(secret, headers, body, now),
        }
    }
}

impl ItsmSettings for Settings {
    fn build(&self, cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm> {
        Arc::new(Jira::new(cfg, self, ctx))
    }
}
