//! The Sunlogin adapter against the Sunlogin simulator over real HTTP: identity and renewal
//! under concurrency and failure, and the attended flow from "create" to collection.

use super::*;
use crate::config::{Dur, Secret, VendorOptions};
use crate::ids::JobId;
use crate::metrics::Metrics;
use deskbridge_sim::{Fault, FaultAction, SunloginSim};
use std::time::Duration;

const KEY: &str = "APPKEY-A1";
const SECRET: &str = "app-secret-A1-never-logged";
const ACCOUNT: &str = "it@acme.example";
const PASSWORD: &str = "password-A1-never-logged";
const SEAT: &str = "beth@acme.example";

struct Fixture {
    sim: SunloginSim,
    vendor: Arc<Sunlogin>,
    store: Store,
    metrics: Arc<Metrics>,
    _dir: tempfile::TempDir,
}

fn settings(account: &str, password: &str) -> Settings {
    Settings {
        auth: Auth::Sunlogin(Credentials {
            app_key: KEY.into(),
            app_secret: Secret::new(SECRET),
            account: account.into(),
            password: Secret::new(password),
        }),
    }
}

fn config(base: &str, settings: &Settings) -> VendorConfig {
    VendorConfig {
        ca_bundle: None,
        id: VendorId::new("sunlogin-cn"),
        kind: KIND.kind(),
        base_url: base.into(),
        poll: PollConfig {
            every: Dur::millis(50),
            max_every: Dur::millis(200),
            give_up_after: Dur::secs(3600),
        },
        rate_limit: None,
        settings: Arc::new(settings.clone()),
    }
}

async fn fixture_with(timeout: Duration) -> Fixture {
    let sim = SunloginSim::start(KEY, SECRET, ACCOUNT, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sled(dir.path()).unwrap();
    let metrics = Arc::new(Metrics::default());
    let ctx = BuildCtx {
        trust: Default::default(),
        store: store.clone(),
        metrics: metrics.clone(),
        timeout,
        clock: Default::default(),
    };
    let settings = settings(ACCOUNT, PASSWORD);
    let vendor = Arc::new(Sunlogin::new(
        &config(&sim.base_url(), &settings),
        &settings,
        &ctx,
    ));
    Fixture {
        sim,
        vendor,
        store,
        metrics,
        _dir: dir,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Duration::from_secs(10)).await
}

fn request(device: Option<&str>) -> SessionRequest {
    SessionRequest {
        job: JobId::new(),
        ticket_number: "INC0000046".into(),
        subject: "Outlook crashes".into(),
        customer_name: "Jane Doe".into(),
        agent_email: Some(SEAT.into()),
        device: device.map(String::from),
        requested_at: crate::clock::Millis::now(),
        options: VendorOptions::default(),
    }
}

impl Fixture {
    /// A second adapter on the same store, as a configuration reload would build.
    fn rebuilt(&self) -> Sunlogin {
        let ctx = BuildCtx {
            trust: Default::default(),
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            timeout: Duration::from_secs(10),
            clock: Default::default(),
        };
        let settings = settings(ACCOUNT, PASSWORD);
        Sunlogin::new(&config(&self.sim.base_url(), &settings), &settings, &ctx)
    }
    fn renewals(&self) -> String {
        self.metrics
            .render(&Default::default())
            .lines()
            .filter(|l| l.starts_with("deskbridge_token_renewals_total"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[tokio::test]
async fn the_first_session_signs_in_and_stores_the_pair_durably() {
    let f = fixture().await;
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    assert_eq!(s.seat.as_deref(), Some(SEAT));
    assert!(s.end_user_link.is_none() && !f.vendor.gives_link());
    assert_eq!(f.sim.counts().authorised, 1);
    let stored = String::from_utf8(
        f.store
            .kv_get(&format!(
                "sunlogin/sunlogin-cn/tokens/{}",
                crate::remote::identity_tag(ACCOUNT)
            ))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(
        f.sim
            .issued_tokens()
            .iter()
            .all(|t| stored.contains(t.as_str())),
        "the pair, as issued"
    );
    // A rebuilt adapter (a reload) uses the stored pair rather than signing in again.
    f.rebuilt().create_session(&request(None)).await.unwrap();
    assert_eq!(f.sim.counts().authorised, 1);
    assert!(
        f.renewals().contains(r#"via="authorise"} 1"#),
        "{}",
        f.renewals()
    );
}

#[tokio::test]
async fn fifty_calls_that_find_the_token_expiring_cause_exactly_one_renewal() {
    let f = fixture().await;
    f.sim.set_access_ttl(Duration::from_secs(2));
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    f.sim.set_access_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Hold the renewal a while, so every caller arrives while it is in flight.
    f.sim.faults().push(Fault::new(
        "/auth/refresh",
        FaultAction::Delay(Duration::from_millis(300)),
    ));
    let other = Arc::new(f.rebuilt());
    let calls = (0..50).map(|i| {
        let v: Arc<dyn Vendor> = if i % 2 == 0 {
            f.vendor.clone()
        } else {
            other.clone()
        };
        let s = s.clone();
        tokio::spawn(async move { v.session_state(&s).await })
    });
    for c in futures_join(calls).await {
        assert!(matches!(c, SessionState::Open { .. }), "{c:?}");
    }
    let counts = f.sim.counts();
    assert_eq!(
        (counts.refreshed, counts.authorised, counts.refused_access),
        (1, 1, 0),
        "{counts:?}"
    );
    assert!(
        f.renewals().contains(r#"via="refresh"} 1"#),
        "{}",
        f.renewals()
    );
}

async fn futures_join(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Result<SessionState>>>,
) -> Vec<SessionState> {
    let mut out = vec![];
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

#[tokio::test]
async fn a_401_on_a_business_call_renews_once_and_repeats_the_call() {
    let f = fixture().await;
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    f.sim
        .faults()
        .push(Fault::new("/logs/remote", FaultAction::status(401)));
    assert!(matches!(
        f.vendor.session_state(&s).await.unwrap(),
        SessionState::Open { .. }
    ));
    assert_eq!(f.sim.counts().refreshed, 1);
    // Twice refused: the second 401 is the job's error, not a loop.
    f.sim
        .faults()
        .push(Fault::new("/logs/remote", FaultAction::status(401)).times(2));
    let e = f.vendor.session_state(&s).await.unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert_eq!(f.sim.counts().refreshed, 2);
}

#[tokio::test]
async fn a_reused_refresh_token_makes_the_adapter_sign_in_again() {
    let f = fixture().await;
    f.sim.set_access_ttl(Duration::from_secs(1));
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    f.sim.set_access_ttl(Duration::from_secs(3600));
    // Someone else uses the stored RefreshToken first (a second deskbridge with a copy of the data).
    let stored: serde_json::Value = serde_json::from_slice(
        &f.store
            .kv_get(&format!(
                "sunlogin/sunlogin-cn/tokens/{}",
                crate::remote::identity_tag(ACCOUNT)
            ))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let burned = f
        .vendor
        .api
        .call(
            Method::POST,
            assumed::REFRESH_PATH,
            &[],
            Some(&serde_json::json!({"refresh_token": stored["refresh_token"]})),
            None,
        )
        .await;
    assert!(burned.is_ok());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        f.vendor.session_state(&s).await.unwrap(),
        SessionState::Open { .. }
    ));
    let c = f.sim.counts();
    assert_eq!(
        (c.refreshed, c.refused_refresh, c.authorised),
        (1, 1, 2),
        "{c:?}"
    );
}

#[tokio::test]
async fn a_pair_lost_between_issue_and_storage_is_recovered_by_signing_in_again() {
    let f = fixture_with(Duration::from_millis(500)).await;
    f.sim.set_access_ttl(Duration::from_secs(1));
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    f.sim.set_access_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The vendor issues the new pair (burning the old one) but the answer never arrives.
    f.sim
        .faults()
        .push(Fault::new("/auth/refresh", FaultAction::ApplyThenHang));
    let e = f.vendor.session_state(&s).await.unwrap_err();
    assert!(
        matches!(e.retry(), crate::outbound::Retry::Transient { .. }),
        "a step retry will follow: {e}"
    );
    assert!(matches!(
        f.vendor.session_state(&s).await.unwrap(),
        SessionState::Open { .. }
    ));
    let c = f.sim.counts();
    assert_eq!(
        (c.refreshed, c.refused_refresh, c.authorised),
        (1, 1, 2),
        "{c:?}"
    );
}

#[tokio::test]
async fn credentials_that_no_longer_work_fail_with_re_authorise_sunlogin_without_hammering_the_account(
) {
    let f = fixture().await;
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    f.sim.set_password("changed-by-the-owner");
    let e = f.vendor.session_state(&s).await.unwrap_err();
    assert!(matches!(e, VendorError::ReAuthorise(_)), "{e:?}");
    assert!(e.to_string().contains("re-authorise Sunlogin"), "{e}");
    assert_eq!(e.retry(), crate::outbound::Retry::Permanent);
    assert!(!e.to_string().contains(PASSWORD) && !e.to_string().contains(SECRET));
    let again = f.vendor.session_state(&s).await.unwrap_err();
    assert!(again.to_string().contains("re-authorise Sunlogin"));
    assert_eq!(
        f.sim.counts().refused_authorise,
        1,
        "the second job fails fast"
    );
    let st = f.vendor.credentials();
    assert_eq!(st.state, "reauthorise");
    assert!(st.warning.unwrap().contains("re-authorise Sunlogin"));
}

#[tokio::test]
async fn the_seats_session_is_followed_from_connection_to_collection() {
    let f = fixture().await;
    let s = f.vendor.create_session(&request(None)).await.unwrap();
    assert!(
        matches!(f.vendor.session_state(&s).await.unwrap(), SessionState::Open { status } if status.contains("waiting for beth"))
    );
    tokio::time::sleep(Duration::from_millis(1000)).await; // the connection starts a second after the note
    f.sim.add_remote_log(deskbridge_sim::sunlogin::RemoteLog {
        log_id: "other-seat".into(),
        seat_account: "carl@acme.example".into(),
        device_id: "X".into(),
        remote_code: "1".into(),
        client_ip: "198.51.100.9".into(),
        start_time: s.created_at.unix_secs() + 1,
        end_time: Some(s.created_at.unix_secs() + 2),
    });
    let id = f.sim.start_session(SEAT, "JANE-PC", "123456789");
    assert!(
        matches!(f.vendor.session_state(&s).await.unwrap(), SessionState::Open { status } if status.contains("still running"))
    );
    f.sim.end_session(&id, &[("diag.zip", 7168, "download")]);
    let SessionState::Over { session, .. } = f.vendor.session_state(&s).await.unwrap() else {
        panic!("not over")
    };
    assert_eq!(
        (session.id.as_str(), session.code.as_str()),
        (id.as_str(), id.as_str())
    );
    let c = f
        .vendor
        .collect(&session, &ArtifactKind::ALL)
        .await
        .unwrap();
    let Availability::Available(log) = c.session_log else {
        panic!("no session log")
    };
    let sources: Vec<&str> = log.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(sources, ["remote_log", "seat_log", "seat_log"]);
    assert_eq!(log.rows[0][1], id);
    let Availability::Available(files) = c.file_transfers else {
        panic!("no transfers")
    };
    assert_eq!(files.rows[0][1], "diag.zip");
    assert_eq!(c.chat, Availability::NotAvailable(NO_CHAT.into()));
}

#[tokio::test]
async fn a_device_on_the_ticket_and_claims_keep_two_jobs_of_one_seat_apart() {
    let f = fixture().await;
    let a = f
        .vendor
        .create_session(&request(Some("PC-A")))
        .await
        .unwrap();
    // c was clicked a minute before b; neither names a device
    let mut earlier = request(None);
    earlier.requested_at = crate::clock::Millis(earlier.requested_at.0 - 60_000);
    let c = f.vendor.create_session(&earlier).await.unwrap();
    let b = f.vendor.create_session(&request(None)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let first = f.sim.start_session(SEAT, "PC-B", "111");
    let second = f.sim.start_session(SEAT, "PC-A", "222");
    f.sim.end_session(&first, &[]);
    f.sim.end_session(&second, &[]);
    let code = |st: SessionState| match st {
        SessionState::Over { session, .. } => session.code,
        SessionState::Open { status } => format!("open: {status}"),
    };
    assert!(
        code(f.vendor.session_state(&c).await.unwrap()).starts_with("open"),
        "polling first does not let the earlier click take the later click's session"
    );
    assert_eq!(
        code(f.vendor.session_state(&a).await.unwrap()),
        second,
        "the ticket's device decides"
    );
    assert_eq!(code(f.vendor.session_state(&b).await.unwrap()), first);
    assert!(
        code(f.vendor.session_state(&c).await.unwrap()).starts_with("open"),
        "both rows are claimed"
    );
    assert_eq!(
        code(f.vendor.session_state(&b).await.unwrap()),
        first,
        "asking again finds its own claim"
    );
}

#[tokio::test]
async fn a_ticket_without_a_seat_or_an_agent_fails_naming_the_option() {
    let f = fixture().await;
    let mut r = request(None);
    r.agent_email = None;
    let e = f.vendor.create_session(&r).await.unwrap_err();
    assert!(e.to_string().contains("vendor_options.seat"), "{e}");
    r.options.seat = Some("desk-7@acme.example".into());
    assert_eq!(
        f.vendor.create_session(&r).await.unwrap().seat.as_deref(),
        Some("desk-7@acme.example")
    );
}

#[test]
fn debug_output_names_the_vendor_and_never_a_secret() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let d = format!("{:?}", f.vendor);
    assert!(d.contains("sunlogin-cn"), "{d}");
    assert!(!d.contains(SECRET) && !d.contains(PASSWORD), "{d}");
}

#[tokio::test]
async fn a_pair_issued_for_one_account_is_never_used_for_another() {
    let f = fixture().await;
    f.vendor.create_session(&request(None)).await.unwrap();
    // the admin changes the account and reloads; the simulator knows only the first one
    let changed = settings("someone-else@acme.example", PASSWORD);
    let cfg = config(&f.sim.base_url(), &changed);
    let ctx = BuildCtx {
        trust: Default::default(),
        store: f.store.clone(),
        metrics: f.metrics.clone(),
        timeout: Duration::from_secs(10),
        clock: Default::default(),
    };
    let other = Sunlogin::new(&cfg, &changed, &ctx);
    let e = other.create_session(&request(None)).await.unwrap_err();
    assert!(
        e.to_string().contains("re-authorise Sunlogin"),
        "the old account's pair was not reused: {e}"
    );
}
