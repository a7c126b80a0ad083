//! Splashtop OAuth 2.0 through the service: the admin's browser flow and its `state` check,
//! refresh before expiry and after a refusal, and the warnings when the refresh token nears its
//! end. (API-token auth is what every other Splashtop test uses.)

use crate::helpers::*;
use deskbridge::app::App;
use deskbridge::sim::{Fault, FaultAction, ServiceNowSim, SessionEnd, SplashtopSim};
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const CLIENT_ID: &str = "deskbridge-client-1";
pub const CLIENT_SECRET: &str = "oauth-client-secret-Zr7$";

pub struct OAuthApp {
    pub base: String,
    pub snow: ServiceNowSim,
    pub splashtop: SplashtopSim,
    /// Never follows redirects: the test plays the browser step by step.
    pub browser: reqwest::Client,
    pub _dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl Drop for OAuthApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn spawn_oauth() -> OAuthApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start("api-token-not-used").await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let redirect = format!("{base}/oauth/splashtop/callback");
    splashtop.register_oauth_client(CLIENT_ID, CLIENT_SECRET, &redirect);
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), "127.0.0.1:0", &snow.base_url(), &splashtop.base_url(), "").replace(
        "auth = { type = \"bearer\", token = \"st-token-9aZ3\" }",
        &format!("auth = {{ type = \"oauth2\", client_id = \"{CLIENT_ID}\", client_secret = \"{CLIENT_SECRET}\", redirect_uri = \"{redirect}\" }}"),
    );
    assert!(
        text.contains("oauth2"),
        "the helper's vendor block changed: {text}"
    );
    let cfg = deskbridge::config::load_str(&text, "<oauth test>").unwrap();
    let app = App::build(cfg, listener).unwrap();
    let stop = CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        app.run_until_stopped(async move { s.cancelled().await })
            .await
            .unwrap()
    });
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    OAuthApp {
        base,
        snow,
        splashtop,
        browser,
        _dir: dir,
        stop,
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

impl OAuthApp {
    /// The admin opens the start URL; returns where deskbridge sends the browser.
    pub async fn start(&self) -> String {
        let r = self
            .browser
            .get(format!("{}/oauth/splashtop/start", self.base))
            .basic_auth("admin", Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        location(&r)
    }

    /// Splashtop's authorize page approves; returns the callback URL it sends the browser to.
    pub async fn approve(&self, authorize_url: &str) -> String {
        let r = self.browser.get(authorize_url).send().await.unwrap();
        assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
        location(&r)
    }

    /// The whole browser flow.
    pub async fn authorise(&self) -> Value {
        let callback = self.approve(&self.start().await).await;
        let r = self.browser.get(callback).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Value {
        self.browser
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn click(&self) -> String {
        let n = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
        let sys_id = self.snow.add_incident(deskbridge::sim::SimIncident {
            number: n.clone(),
            assignment_group: "Service Desk".into(),
            ..Default::default()
        });
        let body = hook_body(&sys_id, &n, "Service Desk");
        let v: Value = post_signed(
            &self.browser,
            &self.base,
            "snow",
            body.to_string().as_bytes(),
        )
        .await
        .json()
        .await
        .unwrap();
        v["job_id"].as_str().unwrap().to_string()
    }

    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.browser, &self.base, id, state, secs).await
    }
}

fn query(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_admin_authorises_splashtop_in_the_browser_and_jobs_then_use_the_oauth_token() {
    let app = spawn_oauth().await;
    let r = app
        .browser
        .get(format!("{}/oauth/splashtop/start", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "starting needs the admin token");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"),
        "so a browser asks for it"
    );
    let r = app
        .browser
        .get(format!("{}/oauth/splashtop/start", app.base))
        .basic_auth("admin", Some(AUDITOR_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let st = app.get("/api/v1/status").await;
    assert_eq!(
        st["vendors"][0]["credentials"]["state"], "not_authorised",
        "{st}"
    );

    let authorize = app.start().await;
    assert!(
        authorize.starts_with(&format!("{}/oauth2/authorize?", app.splashtop.portal_url())),
        "{authorize}"
    );
    assert_eq!(query(&authorize, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(query(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query(&authorize, "scope").as_deref(),
        Some("users,psa,logs")
    );
    assert_eq!(
        query(&authorize, "redirect_uri"),
        Some(format!("{}/oauth/splashtop/callback", app.base))
    );
    assert_eq!(query(&authorize, "state").unwrap().len(), 64);
    assert!(!authorize.contains(CLIENT_SECRET));

    let callback = app.approve(&authorize).await;
    let v: Value = app
        .browser
        .get(&callback)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "authorised", "{v}");
    assert_eq!(app.splashtop.oauth_counts().codes_exchanged, 1);
    let st = app.get("/api/v1/status").await;
    assert_eq!(st["vendors"][0]["credentials"]["state"], "ok", "{st}");
    assert!(st["warnings"].as_array().unwrap().is_empty());

    let id = app.click().await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let code = job["session"]["code"].as_str().unwrap();
    assert!(app.splashtop.end_session(code, SessionEnd::sample(1, 0, 0)));
    app.wait_for_state(&id, "done", 15).await;
}

#[tokio::test]
async fn an_oauth_callback_with_a_wrong_missing_or_reused_state_is_refused() {
    let app = spawn_oauth().await;
    let id = app.click().await;
    let failed = app.wait_for_state(&id, "failed", 10).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("/oauth/splashtop/start"),
        "{failed}"
    );

    let callback = app.approve(&app.start().await).await;
    let code = query(&callback, "code").unwrap();
    let cb = |q: String| format!("{}/oauth/splashtop/callback?{q}", app.base);
    let r = app
        .browser
        .get(cb(format!("code={code}&state={}", "ab".repeat(32))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_state");
    let r = app
        .browser
        .get(cb(format!("code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "state");
    assert_eq!(
        app.splashtop.oauth_counts().codes_exchanged,
        0,
        "a refused callback never uses the code"
    );

    assert_eq!(
        app.browser.get(&callback).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        app.browser.get(&callback).send().await.unwrap().status(),
        403,
        "a state works once"
    );
    assert_eq!(app.splashtop.oauth_counts().codes_exchanged, 1);
    let r = app
        .browser
        .get(format!("{}/oauth/nosuch/start", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_access_token_is_refreshed_before_it_expires_and_once_when_refused() {
    let app = spawn_oauth().await;
    app.splashtop
        .set_oauth_ttls(Duration::from_secs(3), Duration::from_secs(30 * 86_400));
    app.authorise().await;
    app.splashtop.set_oauth_ttls(
        Duration::from_secs(86_400),
        Duration::from_secs(30 * 86_400),
    );
    let id = app.click().await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.splashtop.oauth_counts().refreshed < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refresh: {:?}",
            app.splashtop.oauth_counts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.splashtop.oauth_counts().refreshed,
        1,
        "refreshed before expiry, once"
    );

    app.splashtop.faults().push(Fault::new(
        "/psa/support_sessions/",
        FaultAction::status(401),
    ));
    while app.splashtop.oauth_counts().refreshed < 2 {
        assert!(
            tokio::time::Instant::now() < deadline + Duration::from_secs(5),
            "a refused token was not renewed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let code = app.get(&format!("/api/v1/jobs/{id}")).await["session"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 0, 0));
    let job = app.wait_for_state(&id, "done", 15).await;
    assert!(
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["error"].is_null()),
        "the refusal cost no step: {job}"
    );
    let metrics = app
        .browser
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"deskbridge_token_renewals_total{vendor="splashtop",via="refresh"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_refresh_token_near_its_end_is_reported_days_ahead_while_readyz_stays_up() {
    let app = spawn_oauth().await;
    app.splashtop
        .set_oauth_ttls(Duration::from_secs(86_400), Duration::from_secs(3 * 86_400));
    app.authorise().await;
    let st = app.get("/api/v1/status").await;
    let cred = &st["vendors"][0]["credentials"];
    assert_eq!(cred["state"], "refresh_token_expiring", "{st}");
    let warning = st["warnings"][0]["message"].as_str().unwrap();
    let days_ahead = warning.contains("refresh token expires in 3 days (")
        || warning.contains("refresh token expires in 2 days 23 hours (");
    assert!(
        days_ahead && warning.contains("/oauth/splashtop/start"),
        "{warning}"
    );
    let metrics = app
        .browser
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                r#"deskbridge_vendor_refresh_token_expires_in_seconds{vendor="splashtop"}"#,
            )
        })
        .expect(&metrics);
    let secs: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (3.0 * 86_400.0 - 60.0..=3.0 * 86_400.0).contains(&secs),
        "{line}"
    );
    assert_eq!(
        app.browser
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_revoked_grant_fails_jobs_with_a_message_asking_for_a_new_authorisation() {
    let app = spawn_oauth().await;
    app.authorise().await;
    app.splashtop.revoke_oauth();
    let id = app.click().await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("authorise again at /oauth/splashtop/start"),
        "{error}"
    );
    let st = app.get("/api/v1/status").await;
    assert_eq!(
        st["vendors"][0]["credentials"]["state"], "reauthorise",
        "{st}"
    );
}
