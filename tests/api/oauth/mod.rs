//! Splashtop OAuth 2.0 through the service: a ServiceNow simulator, a Splashtop simulator with a
//! registered OAuth app, and deskbridge configured with `auth.type = "oauth2"`; the test plays
//! the admin's browser step by step. (API-token auth is what every other Splashtop test uses.)

mod flow;

use crate::servicenow::{self, *};
use deskbridge::clock::{ManualClock, Millis};
use deskbridge_sim::{Fault, FaultAction, ServiceNowSim, SessionEnd, SplashtopSim};
use serde_json::Value;
use std::time::Duration;

pub const CLIENT_ID: &str = "deskbridge-client-1";
pub const CLIENT_SECRET: &str = "oauth-client-secret-Zr7$";

system_app!(OAuthApp {
    snow: ServiceNowSim,
    splashtop: SplashtopSim,
    /// Never follows redirects: the test plays the browser step by step.
    browser: reqwest::Client,
});

/// The ServiceNow tests' configuration with Splashtop authorised through OAuth instead of an
/// API token; the callback is on deskbridge's own port.
pub async fn spawn_oauth() -> OAuthApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start("api-token-not-used").await;
    let listener = listener();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let redirect = format!("{base}/oauth/splashtop/callback");
    splashtop.register_oauth_client(CLIENT_ID, CLIENT_SECRET, &redirect);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = servicenow::config(dir.path(), &snow.base_url(), &splashtop.base_url());
    cfg.vendor_mut("splashtop").auth = VendorAuth::Oauth2 {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: redirect,
    };
    let app = TestApp::start_on(dir, cfg, listener, ManualClock::running(Millis::now())).await;
    assert_eq!(app.base, base);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    OAuthApp {
        app,
        snow,
        splashtop,
        browser,
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

    /// A new incident in the Service Desk queue and its webhook: the job id.
    pub async fn click(&self) -> String {
        servicenow::click(&self.api, &self.snow, "Service Desk")
            .await
            .1
    }
}
