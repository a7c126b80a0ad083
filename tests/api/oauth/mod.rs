//! Splashtop OAuth 2.0 through the service: a ServiceNow simulator, a Splashtop simulator with a
//! registered OAuth app, and deskbridge configured with `auth.type = "oauth2"`; the test plays
//! the admin's browser step by step. (API-token auth is what every other Splashtop test uses.)

mod flow;

use crate::helpers::*;
use deskbridge_sim::{Fault, FaultAction, ServiceNowSim, SessionEnd, SplashtopSim};
use serde_json::Value;
use std::time::Duration;

pub const CLIENT_ID: &str = "deskbridge-client-1";
pub const CLIENT_SECRET: &str = "oauth-client-secret-Zr7$";

pub struct OAuthApp {
    pub base: String,
    pub snow: ServiceNowSim,
    pub splashtop: SplashtopSim,
    /// Never follows redirects: the test plays the browser step by step.
    pub browser: reqwest::Client,
    pub _dir: tempfile::TempDir,
    _running: crate::helpers::Running,
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
    let running = crate::helpers::launch_on(cfg, listener).await;
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
        _running: running,
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
        let sys_id = self.snow.add_incident(deskbridge_sim::SimIncident {
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
