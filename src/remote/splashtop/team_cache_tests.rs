//! The team id Splashtop answers `basic_info` with is cached per credential.

use super::*;
use crate::config::{Dur, VendorOptions};
use deskbridge_sim::SplashtopSim;

fn cfg(base: &str, token: &str) -> (VendorConfig, Settings) {
    let settings = Settings {
        portal_url: Some(base.into()),
        auth: Auth::Bearer(crate::config::auth::Bearer {
            token: Secret::new(token),
        }),
    };
    let cfg = VendorConfig {
        ca_bundle: None,
        id: VendorId::new("st"),
        kind: KIND.kind(),
        base_url: base.into(),
        settings: std::sync::Arc::new(settings.clone()),
        poll: PollConfig {
            every: Dur::millis(50),
            max_every: Dur::millis(50),
            give_up_after: Dur::secs(60),
        },
        rate_limit: None,
    };
    (cfg, settings)
}

fn splashtop(base: &str, token: &str, ctx: &BuildCtx) -> Splashtop {
    let (cfg, settings) = cfg(base, token);
    Splashtop::new(&cfg, &settings, ctx)
}

fn request() -> SessionRequest {
    SessionRequest {
        job: crate::ids::JobId::new(),
        ticket_number: "INC1".into(),
        subject: "x".into(),
        customer_name: "Jane".into(),
        agent_email: None,
        device: None,
        options: VendorOptions::default(),
        requested_at: Millis::now(),
    }
}

#[tokio::test]
async fn the_cached_team_id_belongs_to_the_token_it_was_read_with() {
    let sim = SplashtopSim::start("token-a").await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = BuildCtx {
        trust: Default::default(),
        store: crate::store::Store::open_sled(dir.path()).unwrap(),
        metrics: Default::default(),
        timeout: std::time::Duration::from_secs(5),
        clock: Default::default(),
    };
    let basic_info = || {
        sim.faults()
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/users/basic_info"))
            .count()
    };
    splashtop(&sim.base_url(), "token-a", &ctx)
        .create_session(&request())
        .await
        .unwrap();
    splashtop(&sim.base_url(), "token-a", &ctx)
        .create_session(&request())
        .await
        .unwrap();
    assert_eq!(basic_info(), 1, "the same token reuses the stored team id");
    sim.set_token("token-b");
    splashtop(&sim.base_url(), "token-b", &ctx)
        .create_session(&request())
        .await
        .unwrap();
    assert_eq!(basic_info(), 2, "a new token asks again");
}
