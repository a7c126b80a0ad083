//! Freshservice end to end: `spawn_fs()` starts a Freshservice simulator, a Splashtop simulator
//! and deskbridge with two Freshservice connections on the same account: `fs` (the workflow
//! sends `X-Deskbridge-Token`) and `fs-basic` (the workflow uses basic auth). The workflow's
//! call is the shipped body template as the simulator renders it for a ticket.

mod auth;
mod crash;
mod flow;
mod limits;

use crate::helpers::{wait_for_state, ADMIN_TOKEN, AUDITOR_TOKEN, SPLASHTOP_TOKEN};
use deskbridge_sim::freshservice::SimTicket;
use deskbridge_sim::{FreshserviceSim, SplashtopSim};
use serde_json::Value;

pub const FS_KEY: &str = "fs-key-Vb71";
pub const FS_HEADER: &str = "X-Deskbridge-Token";
pub const FS_TOKEN: &str = "fs-hook-token-8Hd";
pub const FS_BASIC_USER: &str = "freshservice";
pub const FS_BASIC_PASSWORD: &str = "fs-basic-pw-2Qe";

pub struct FsApp {
    pub base: String,
    pub fs: FreshserviceSim,
    pub splashtop: SplashtopSim,
    pub client: reqwest::Client,
    pub public_key: String,
    /// Held so the data directory lives as long as the app.
    _dir: tempfile::TempDir,
    _running: crate::helpers::Running,
}

/// The configuration of both connections; `rules` come before the default rules.
pub fn config(
    dir: &std::path::Path,
    listen: &str,
    fs: &str,
    splashtop: &str,
    rules: &str,
) -> String {
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
request_timeout = "2s"
retry = {{ base = "50ms", max = "500ms", attempts = 4 }}

[[itsm]]
id = "fs"
kind = "freshservice"
base_url = "{fs}"
auth = {{ type = "api_key", key = "{FS_KEY}" }}
inbound = {{ type = "shared_header", header = "{FS_HEADER}", secret = "{FS_TOKEN}" }}

[[itsm]]
id = "fs-basic"
kind = "freshservice"
base_url = "{fs}"
auth = {{ type = "api_key", key = "{FS_KEY}" }}
inbound = {{ type = "basic", username = "{FS_BASIC_USER}", password = "{FS_BASIC_PASSWORD}" }}

[[vendor]]
id = "splashtop"
kind = "splashtop"
base_url = "{splashtop}"
portal_url = "{splashtop}"
auth = {{ type = "bearer", token = "{SPLASHTOP_TOKEN}" }}
poll = {{ every = "50ms", max_every = "200ms", give_up_after = "1h" }}

{rules}

[[rule]]
name = "Freshservice service desk"
connection = "fs"
match = {{ queue = ["Service Desk"] }}
vendor = "splashtop"

[[rule]]
name = "Freshservice via basic auth"
connection = "fs-basic"
vendor = "splashtop"
"#,
        data = dir.join("data").display()
    )
}

pub async fn spawn_fs() -> FsApp {
    spawn_fs_with("").await
}

/// `rules` come before the default rules, so they win.
pub async fn spawn_fs_with(rules: &str) -> FsApp {
    let fs = FreshserviceSim::start(FS_KEY).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskbridge.toml");
    std::fs::write(
        &path,
        config(
            dir.path(),
            "127.0.0.1:0",
            &fs.base_url(),
            &splashtop.base_url(),
            rules,
        ),
    )
    .unwrap();
    let cfg = deskbridge::config::load(&path).unwrap();
    let running =
        crate::helpers::launch_on(cfg, std::net::TcpListener::bind("127.0.0.1:0").unwrap()).await;
    let base = running.base.clone();
    let public_key = running.public_key.clone();
    FsApp {
        base,
        fs,
        splashtop,
        client: reqwest::Client::new(),
        public_key,
        _dir: dir,
        _running: running,
    }
}

impl FsApp {
    /// A ticket in the "Service Desk" group and the body the workflow sends for it.
    pub fn new_ticket(&self, t: SimTicket) -> (u64, String) {
        let id = self.fs.add_ticket(t);
        (id, self.fs.workflow_body(id).unwrap())
    }

    /// The workflow's call with the shared header.
    pub async fn post_hook(&self, body: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/hooks/fs", self.base))
            .header("content-type", "application/json")
            .header(FS_HEADER, FS_TOKEN)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Post the workflow's call and return the job id.
    pub async fn start_job(&self, body: &str) -> String {
        let r = self.post_hook(body).await;
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.client, &self.base, id, state, secs).await
    }

    pub async fn job(&self, id: &str) -> Value {
        let r = self
            .client
            .get(format!("{}/api/v1/jobs/{id}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    pub async fn session_code(&self, id: &str) -> String {
        self.job(id).await["session"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Notes on the ticket whose text contains `needle`.
    pub fn notes_with(&self, ticket: u64, needle: &str) -> usize {
        self.fs
            .notes(ticket)
            .iter()
            .filter(|n| n.body_text.contains(needle))
            .count()
    }

    /// How many times each file name is on the ticket.
    pub fn file_counts(&self, ticket: u64) -> std::collections::HashMap<String, usize> {
        let mut m = std::collections::HashMap::new();
        for f in self.fs.attachments(ticket) {
            *m.entry(f.name).or_default() += 1;
        }
        m
    }
}
