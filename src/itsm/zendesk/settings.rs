//! What `[[itsm]]` takes for `kind = "zendesk"` besides `id`, `base_url` and `rate_limit`: an
//! API token or OAuth bearer token, the signed webhook (or a shared header), the tag that asks
//! for a session, and the account whose webhooks alone are accepted.

use super::{signature, Zendesk};
use crate::config::auth::{ApiToken, Bearer};
use crate::config::sections::Refusal;
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
    /// The tag whose addition (event subscription) asks for a session; default `remote_session`.
    #[serde(default)]
    pub trigger_tag: Option<String>,
    /// When set, webhooks whose `x-zendesk-account-id` differs are refused.
    #[serde(default)]
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    ApiToken(ApiToken),
    Bearer(Bearer),
}

impl Auth {
    pub(super) fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            // contract: basic `{email}/token:{api_token}`
            Auth::ApiToken(t) => {
                rb.basic_auth(format!("{}/token", t.email), Some(t.token.expose()))
            }
            Auth::Bearer(b) => rb.bearer_auth(b.token.expose()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Inbound {
    ZendeskSignature { secret: Secret },
    SharedHeader(SharedHeader),
}

impl Inbound {
    pub fn verify<'a>(
        &self,
        headers: &http::HeaderMap,
        body: &'a [u8],
        now: SystemTime,
    ) -> Result<Verified<'a>, VerifyError> {
        match self {
            Inbound::ZendeskSignature { secret } => signature::verify(secret, headers, body, now),
            Inbound::SharedHeader(s) => s.verify(headers, body),
        }
    }
}

impl ItsmSettings for Settings {
    /// Checked against `x-zendesk-account-id` on every webhook: mistyped, it would refuse every
    /// call.
    fn check(&self) -> Result<(), Refusal> {
        match &self.account_id {
            Some(a) if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) => Err(Refusal {
                key: "account_id",
                reason: format!("{a:?} is not a numeric Zendesk account id"),
            }),
            _ => Ok(()),
        }
    }

    fn build(&self, cfg: &ItsmConfig, ctx: &BuildCtx) -> Arc<dyn Itsm> {
        Arc::new(Zendesk::new(cfg, self, ctx))
    }
}
