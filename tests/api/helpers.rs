//! `spawn_app()`: a ServiceNow simulator, a Splashtop simulator and deskbridge on port 0,
//! wired by a configuration file in a fresh temporary directory. Tests talk to all three.

#![allow(dead_code)]

use deskbridge::app::App;
use deskbridge_sim::servicenow::sign_ui_action;
use deskbridge_sim::{ServiceNowSim, SimIncident, SplashtopSim};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const SNOW_USER: &str = "deskbridge";
pub const SNOW_PASSWORD: &str = "snow-pass-Q7x!";
pub const HOOK_SECRET: &str = "hook-secret-5dF2";
pub const SPLASHTOP_TOKEN: &str = "st-token-9aZ3";
pub const ADMIN_TOKEN: &str = "admin-token-7Kp1";
pub const AUDITOR_TOKEN: &str = "auditor-token-3Lm8";

pub struct TestApp {
    pub base: String,
    pub snow: ServiceNowSim,
    pub splashtop: SplashtopSim,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub config_path: std::path::PathBuf,
    pub public_key: String,
    pub worker: std::sync::Arc<deskbridge::worker::Worker>,
    _running: Running,
}

/// deskbridge running in this process on a port of its own; stopped when dropped. Every
/// system's test app holds one.
pub struct Running {
    pub base: String,
    pub public_key: String,
    pub worker: std::sync::Arc<deskbridge::worker::Worker>,
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Build deskbridge from `cfg` on 127.0.0.1:0 and run it (HTTP and worker) in the background.
pub async fn launch(cfg: deskbridge::config::Config) -> Running {
    launch_on(cfg, std::net::TcpListener::bind("127.0.0.1:0").unwrap()).await
}

/// [`launch`] on a listener bound beforehand (when the configuration must know the port).
pub async fn launch_on(
    cfg: deskbridge::config::Config,
    listener: std::net::TcpListener,
) -> Running {
    let app = App::build(cfg, listener).await.unwrap();
    let running = Running {
        base: format!("http://127.0.0.1:{}", app.port()),
        public_key: app.public_key(),
        worker: app.worker(),
        stop: CancellationToken::new(),
    };
    let s = running.stop.clone();
    tokio::spawn(async move {
        app.run_until_stopped(async move { s.cancelled().await })
            .await
            .unwrap();
    });
    running
}

/// The configuration every test starts from; `extra` is appended (more rules, say).
pub fn config_text(
    dir: &std::path::Path,
    listen: &str,
    snow: &str,
    splashtop: &str,
    extra: &str,
) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
data_dir = "{data}"
admin_token = "{ADMIN_TOKEN}"
auditor_token = "{AUDITOR_TOKEN}"
max_body_bytes = 4096
shutdown_grace = "2s"

[worker]
tick = "50ms"
request_timeout = "30s"
retry = {{ base = "50ms", max = "500ms", attempts = 4 }}

[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "{snow}"
auth = {{ type = "basic", username = "{SNOW_USER}", password = "{SNOW_PASSWORD}" }}
inbound = {{ type = "hmac", secret = "{HOOK_SECRET}" }}
rate_limit = {{ requests = 1000, per = "1s" }}

[[vendor]]
id = "splashtop"
kind = "splashtop"
base_url = "{splashtop}"
portal_url = "{splashtop}"
auth = {{ type = "bearer", token = "{SPLASHTOP_TOKEN}" }}
poll = {{ every = "50ms", max_every = "200ms", give_up_after = "1h" }}

{extra}

[[rule]]
name = "Service desk to Splashtop"
connection = "snow"
match = {{ queue = ["Service Desk", "Desktop Support"] }}
vendor = "splashtop"
"#,
        data = dir.join("data").display()
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with("").await
}

pub async fn spawn_app_with(extra: &str) -> TestApp {
    spawn_app_edited(extra, |t| t).await
}

/// Like [`spawn_app_with`], with a last edit of the configuration text.
pub async fn spawn_app_edited(extra: &str, edit: impl FnOnce(String) -> String) -> TestApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let text = edit(config_text(
        dir.path(),
        "127.0.0.1:0",
        &snow.base_url(),
        &splashtop.base_url(),
        extra,
    ));
    let config_path = dir.path().join("deskbridge.toml");
    std::fs::write(&config_path, text).unwrap();
    let running = launch(deskbridge::config::load(&config_path).unwrap()).await;
    TestApp {
        base: running.base.clone(),
        snow,
        splashtop,
        client: reqwest::Client::new(),
        dir,
        config_path,
        public_key: running.public_key.clone(),
        worker: running.worker.clone(),
        _running: running,
    }
}

/// The body the UI Action sends for an incident.
pub fn hook_body(sys_id: &str, number: &str, group: &str) -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "table": "incident",
        "sys_id": sys_id,
        "number": number,
        "assignment_group": {"value": "8a4dde73c6112278017a6a4baf547aa7", "display_value": group},
        "priority": "3",
        "category": "software",
        "short_description": "Outlook crashes",
        "caller": {"name": "Jane Doe", "email": "jane@acme.example"},
        "requested_by": {"user_name": "beth.anglin", "email": "beth@acme.example"}
    })
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Post `body` to `/hooks/{conn}` of `base`, signed as the UI Action signs it.
pub async fn post_signed(
    client: &reqwest::Client,
    base: &str,
    conn: &str,
    body: &[u8],
) -> reqwest::Response {
    let mut req = client
        .post(format!("{base}/hooks/{conn}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in sign_ui_action(HOOK_SECRET, body, now_secs()) {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

impl TestApp {
    /// A new incident in the simulator and the webhook body that asks for its session.
    pub fn new_incident(&self, group: &str) -> (String, Value) {
        let n = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
        let sys_id = self.snow.add_incident(SimIncident {
            number: n.clone(),
            assignment_group: group.into(),
            ..SimIncident::default()
        });
        let body = hook_body(&sys_id, &n, group);
        (sys_id, body)
    }

    pub async fn post_hook(&self, body: &Value) -> reqwest::Response {
        post_signed(
            &self.client,
            &self.base,
            "snow",
            body.to_string().as_bytes(),
        )
        .await
    }

    /// Send the webhook for `body`, expect 202, return the job id.
    pub async fn start_job(&self, body: &Value) -> String {
        let r = self.post_hook(body).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        v["job_id"].as_str().unwrap().to_string()
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

    pub async fn admin_post(&self, path: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.admin_get(&format!("/api/v1/jobs/{id}")).await
    }

    /// Wait until the job is in `state` (panics with the job after `secs`).
    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.client, &self.base, id, state, secs).await
    }

    /// The Splashtop session the job created.
    pub async fn session_code(&self, id: &str) -> String {
        self.job(id).await["session"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn notes_with(&self, sys_id: &str, needle: &str) -> usize {
        self.snow
            .journal(sys_id)
            .iter()
            .filter(|e| e.value.contains(needle))
            .count()
    }
}

pub async fn wait_for_state(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    state: &str,
    secs: u64,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut last = Value::Null;
    while tokio::time::Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("{base}/api/v1/jobs/{id}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
        {
            if let Ok(v) = r.json::<Value>().await {
                if v["state"] == state {
                    return v;
                }
                last = v;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "job {id} did not reach {state} in {secs} s; last seen:\n{}",
        serde_json::to_string_pretty(&last).unwrap()
    );
}
