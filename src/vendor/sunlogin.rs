//! Sunlogin: not built yet (issue 4). Until it is, jobs routed to it fail with a clear reason.

use super::{BuildCtx, Vendor};
use crate::config::VendorConfig;
use std::sync::Arc;

pub fn build(cfg: &VendorConfig, _ctx: &BuildCtx) -> Arc<dyn Vendor> {
    Arc::new(super::unsupported::Unsupported::new(cfg))
}
