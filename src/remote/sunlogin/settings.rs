//! What `[[vendor]]` takes for `kind = "sunlogin"` besides `id`, `base_url`, `poll` and
//! `rate_limit`: the open-platform app's key and secret, and the account deskbridge signs in as
//! (see `integrations/sunlogin/README.md`).

use super::Sunlogin;
use crate::config::{Secret, VendorConfig};
use crate::remote::{BuildCtx, Vendor, VendorSettings};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub auth: Auth,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    Sunlogin(Credentials),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: Secret,
    pub account: String,
    pub password: Secret,
}

impl VendorSettings for Settings {
    fn build(&self, cfg: &VendorConfig, ctx: &BuildCtx) -> Arc<dyn Vendor> {
        Arc::new(Sunlogin::new(cfg, self, ctx))
    }
}
