//! Splashtop OAuth: renewal timing, deadlines, and the keeper against the simulator (renewing
//! ahead of time, and logging a nearing refresh-token end without any token in the line).

use super::*;
use crate::ids::VendorId;
use crate::store::Store;
use deskbridge_sim::SplashtopSim;
use std::time::Duration;

#[test]
fn an_access_token_is_renewed_ten_minutes_before_expiry_or_at_three_quarters_of_a_short_life() {
    let p = OAuthPair {
        access_token: "a".into(),
        refresh_token: "r".into(),
        access_expires_at: 100_000,
        refresh_expires_at: 0,
        obtained_at: 100_000 - 86_400,
    };
    assert!(p.fresh(100_000 - 601, 0));
    assert!(!p.fresh(100_000 - 600, 0));
    assert!(
        !p.fresh(100_000 - 900, KEEPER_AHEAD_SECS),
        "the keeper looks further ahead"
    );
    let short = OAuthPair {
        obtained_at: 100_000 - 8,
        ..p.clone()
    };
    assert!(short.fresh(100_000 - 3, 0) && !short.fresh(100_000 - 2, 0));
    assert!(!format!("{p:?}").contains("\"a\""));
}

#[test]
fn deadlines_read_in_days_and_hours() {
    assert_eq!(human(3 * 86_400), "3 days");
    assert_eq!(human(3 * 86_400 - 1), "2 days 23 hours");
    assert_eq!(human(86_400 + 3600), "1 day 1 hour");
    assert_eq!(human(5 * 3600 + 59), "5 hours");
    assert_eq!(human(30), "1 minute");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRET: &str = "client-secret-K1";

async fn authorised(sim: &SplashtopSim, store: &Store) -> OAuth {
    sim.register_oauth_client("cid", SECRET, "http://127.0.0.1:9/cb");
    let client = OAuth2 {
        client_id: "cid".into(),
        client_secret: Secret::new(SECRET),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        scope: None,
    };
    let ctx = BuildCtx {
        trust: Default::default(),
        store: store.clone(),
        metrics: Arc::new(Metrics::default()),
        timeout: Duration::from_secs(5),
        clock: Default::default(),
    };
    let oauth = OAuth::new(&VendorId::new("st"), &client, sim.portal_url(), &ctx);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(oauth.authorize_url("s1")).send().await.unwrap();
    let back = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    oauth.exchange(&code, "s1").await.unwrap();
    oauth
}

#[tokio::test]
async fn the_keeper_renews_ahead_of_time_and_logs_a_nearing_refresh_deadline_once_an_hour() {
    let sim = SplashtopSim::start("unused").await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sled(dir.path()).unwrap();
    sim.set_oauth_ttls(Duration::from_secs(300), Duration::from_secs(2 * 86_400));
    let oauth = authorised(&sim, &store).await;
    sim.set_oauth_ttls(Duration::from_secs(86_400), Duration::from_secs(2 * 86_400));
    assert!(
        oauth.bearer().await.is_ok(),
        "five minutes left is fresh for a job"
    );
    assert_eq!(sim.oauth_counts().refreshed, 0);

    let log = Captured::default();
    let writer = log.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _scope = tracing::subscriber::set_default(sub);
    // See tests/api/secrets.rs: a second dispatcher keeps other threads from muting callsites.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    oauth.keep_alive().await;
    assert_eq!(
        sim.oauth_counts().refreshed,
        1,
        "renewed before the keeper's next visits"
    );
    oauth.keep_alive().await;
    assert_eq!(
        sim.oauth_counts().refreshed,
        1,
        "a day left now: nothing to do"
    );
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "hourly at most: {text}");
    assert!(
        (warnings[0].contains("refresh token expires in 2 days (")
            || warnings[0].contains("refresh token expires in 1 day 23 hours ("))
            && warnings[0].contains("/oauth/st/start"),
        "{}",
        warnings[0]
    );
    for secret in sim
        .oauth_issued()
        .iter()
        .map(String::as_str)
        .chain([SECRET])
    {
        assert!(!text.contains(secret), "a secret in the log: {text}");
    }
    assert_eq!(oauth.status().state, "refresh_token_expiring");
}
