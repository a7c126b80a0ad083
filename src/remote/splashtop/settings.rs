//! What `[[vendor]]` takes for `kind = "splashtop"` besides `id`, `base_url`, `poll` and
//! `rate_limit`: an API token or an OAuth client, and the portal technicians and the OAuth flow
//! use.

use super::Splashtop;
use crate::config::auth::Bearer;
use crate::config::sections::Refusal;
use crate::config::{check_url, Secret, VendorConfig};
use crate::remote::{BuildCtx, Vendor, VendorSettings};
use serde::Deserialize;
use std::sync::Arc;

/// Where the portal is unless `portal_url` says otherwise.
const DEFAULT_PORTAL: &str = "https://my.splashtop.com";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub portal_url: Option<String>,
    pub auth: Auth,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// An API token from the Splashtop console.
    Bearer(Bearer),
    /// An OAuth client; an admin authorises it once at `/oauth/{vendor}/start`.
    Oauth2(OAuth2),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: Option<String>,
}

impl Settings {
    /// The portal's URL without a trailing slash.
    pub fn portal(&self) -> String {
        self.portal_url
            .as_deref()
            .unwrap_or(DEFAULT_PORTAL)
            .trim_end_matches('/')
            .to_string()
    }
}

impl VendorSettings for Settings {
    fn check(&self) -> Result<(), Refusal> {
        match &self.portal_url {
            Some(p) => check_url(p).map_err(|reason| Refusal {
                key: "portal_url",
                reason,
            }),
            None => Ok(()),
        }
    }

    fn build(&self, cfg: &VendorConfig, ctx: &BuildCtx) -> Arc<dyn Vendor> {
        Arc::new(Splashtop::new(cfg, self, ctx))
    }
}
