//! Freshservice: not built yet (issue 3). Until it is, its connections refuse webhooks with a clear
//! reason rather than accepting work they cannot do.

use super::{BuildCtx, Itsm};
use crate::config::{ItsmConfig, ItsmKind};
use std::sync::Arc;

pub fn build(cfg: &ItsmConfig, _ctx: &BuildCtx) -> Arc<dyn Itsm> {
    Arc::new(super::unsupported::Unsupported::new(
        cfg,
        ItsmKind::Freshservice,
    ))
}
