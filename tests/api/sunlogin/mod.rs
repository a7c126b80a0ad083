//! Sunlogin end to end: a ServiceNow simulator, a Sunlogin simulator and deskbridge on port 0,
//! with a worker sized for fifty jobs at once and a one-second request timeout (so a hung
//! answer turns into a retry quickly).

mod crash;
mod flow;
mod tokens;

use crate::helpers::*;
use deskbridge_sim::{ServiceNowSim, SimIncident, SunloginSim};
use serde_json::Value;

pub const APP_KEY: &str = "APPKEY-E2E";
pub const APP_SECRET: &str = "sl-app-secret-Xq9!";
pub const ACCOUNT: &str = "it-admin@acme.example";
pub const PASSWORD: &str = "sl-password-Wm4#";
/// The agent who clicks (the webhook's `requested_by`), hence the seat.
pub const SEAT: &str = "beth@acme.example";
pub const QUEUE: &str = "CN Desk";

pub struct SunApp {
    pub base: String,
    pub snow: ServiceNowSim,
    pub sun: SunloginSim,
    pub client: reqwest::Client,
    pub public_key: String,
    pub _dir: tempfile::TempDir,
    _running: crate::helpers::Running,
}

/// The configuration of these tests; `listen` matters only to a child process (crash tests).
pub fn config(dir: &std::path::Path, listen: &str, snow: &str, sun: &str) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
data_dir = "{data}"
admin_token = "{ADMIN_TOKEN}"
auditor_token = "{AUDITOR_TOKEN}"
shutdown_grace = "2s"

[worker]
tick = "50ms"
request_timeout = "1s"
concurrency = 64
per_connection = 64
retry = {{ base = "50ms", max = "300ms", attempts = 8 }}

[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "{snow}"
auth = {{ type = "basic", username = "{SNOW_USER}", password = "{SNOW_PASSWORD}" }}
inbound = {{ type = "hmac", secret = "{HOOK_SECRET}" }}

[[vendor]]
id = "sunlogin-cn"
kind = "sunlogin"
base_url = "{sun}"
auth = {{ type = "sunlogin", app_key = "{APP_KEY}", app_secret = "{APP_SECRET}", account = "{ACCOUNT}", password = "{PASSWORD}" }}
poll = {{ every = "50ms", max_every = "200ms", give_up_after = "1h" }}

[[rule]]
name = "CN desk to Sunlogin"
connection = "snow"
match = {{ queue = ["{QUEUE}"] }}
vendor = "sunlogin-cn"
"#,
        data = dir.join("data").display()
    )
}

pub async fn spawn_sunlogin() -> SunApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let sun = SunloginSim::start(APP_KEY, APP_SECRET, ACCOUNT, PASSWORD).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = deskbridge::config::load_str(
        &config(dir.path(), "127.0.0.1:0", &snow.base_url(), &sun.base_url()),
        "<sunlogin test>",
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let running = crate::helpers::launch_on(cfg, listener).await;
    let base = running.base.clone();
    let public_key = running.public_key.clone();
    SunApp {
        base,
        snow,
        sun,
        client: reqwest::Client::new(),
        public_key,
        _dir: dir,
        _running: running,
    }
}

impl SunApp {
    /// A new incident in the Sunlogin queue; returns its sys_id and the job id of its webhook.
    pub async fn click(&self) -> (String, String) {
        let n = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
        let sys_id = self.snow.add_incident(SimIncident {
            number: n.clone(),
            assignment_group: QUEUE.into(),
            ..SimIncident::default()
        });
        let body = hook_body(&sys_id, &n, QUEUE);
        let r = post_signed(
            &self.client,
            &self.base,
            "snow",
            body.to_string().as_bytes(),
        )
        .await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        (sys_id, v["job_id"].as_str().unwrap().to_string())
    }

    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.client, &self.base, id, state, secs).await
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// The agent connects (a second after the note, as a person would) and ends the session.
    pub async fn play_session(&self, device: &str, files: &[(&str, u64, &str)]) -> String {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        let id = self.sun.start_session(SEAT, device, "123 456 789");
        assert!(self.sun.end_session(&id, files));
        id
    }

    /// Poll the simulator's counters until `done` holds (panics after `secs`).
    pub async fn until(
        &self,
        secs: u64,
        what: &str,
        done: impl Fn(&deskbridge_sim::sunlogin::TokenCounts) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !done(&self.sun.counts()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: {:?}",
                self.sun.counts()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
