//! Jira Service Management end to end: `spawn_jira_app()` starts a Jira simulator, a Splashtop
//! simulator and deskbridge with two connections to the same site, one per inbound format:
//! `jira` takes the Automation rule's web request (`X-Deskbridge-Token`), `jira-hook` the signed
//! admin webhook (`X-Hub-Signature`).

#![allow(dead_code)]

mod crash;
mod flow;
mod hooks;
mod limits;

use crate::helpers::{wait_for_state, ADMIN_TOKEN, AUDITOR_TOKEN};
use deskbridge_sim::{JiraSim, SimIssue, SimWebhook, SplashtopSim};
use serde_json::Value;

pub const EMAIL: &str = "deskbridge@acme.example";
pub const API_TOKEN: &str = "atl-api-token-4Rt8";
pub const AUTOMATION_SECRET: &str = "automation-secret-8Hn2";
pub const HUB_SECRET: &str = "hub-secret-2Wq6";
pub const SPLASHTOP_TOKEN: &str = "st-token-jira-1";

pub struct JiraApp {
    pub base: String,
    pub jira: JiraSim,
    pub splashtop: SplashtopSim,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub public_key: String,
    _running: crate::helpers::Running,
}

/// The configuration: both connections, Splashtop, and rules on the request type and project.
/// `extra` comes before the default rules, so a rule in it is tried first.
/// `listen` matters only to a child process; `spawn_jira_app` binds its own listener.
pub fn jira_config(
    dir: &std::path::Path,
    listen: &str,
    jira: &str,
    splashtop: &str,
    extra: &str,
) -> String {
    let itsm = |id: &str, inbound: String| {
        format!(
            r#"
[[itsm]]
id = "{id}"
kind = "jira"
base_url = "{jira}"
auth = {{ type = "api_token", email = "{EMAIL}", token = "{API_TOKEN}" }}
inbound = {inbound}
rate_limit = {{ requests = 1000, per = "1s" }}
"#
        )
    };
    let rule = |conn: &str| {
        format!("\n[[rule]]\nname = \"IT help on {conn}\"\nconnection = \"{conn}\"\nmatch = {{ queue = [\"Get IT help\"], project = [\"ITS\", \"PUB\"] }}\nvendor = \"splashtop\"\n")
    };
    format!(
        r#"
[server]
listen = "{listen}"
data_dir = "{data}"
admin_token = "{ADMIN_TOKEN}"
auditor_token = "{AUDITOR_TOKEN}"
max_body_bytes = 65536
shutdown_grace = "2s"

[worker]
tick = "50ms"
request_timeout = "30s"
retry = {{ base = "50ms", max = "500ms", attempts = 4 }}
{a}{b}
[[vendor]]
id = "splashtop"
kind = "splashtop"
base_url = "{splashtop}"
portal_url = "{splashtop}"
auth = {{ type = "bearer", token = "{SPLASHTOP_TOKEN}" }}
poll = {{ every = "50ms", max_every = "200ms", give_up_after = "1h" }}
{extra}{r1}{r2}"#,
        data = dir.join("data").display(),
        a = itsm("jira", format!("{{ type = \"shared_header\", header = \"X-Deskbridge-Token\", secret = \"{AUTOMATION_SECRET}\" }}")),
        b = itsm("jira-hook", format!("{{ type = \"hub_signature\", secret = \"{HUB_SECRET}\" }}")),
        r1 = rule("jira"),
        r2 = rule("jira-hook"),
    )
}

pub async fn spawn_jira_app() -> JiraApp {
    spawn_jira_app_with("").await
}

pub async fn spawn_jira_app_with(extra: &str) -> JiraApp {
    let jira = JiraSim::start(EMAIL, API_TOKEN).await;
    jira.set_webhook_secret(HUB_SECRET);
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskbridge.toml");
    std::fs::write(
        &path,
        jira_config(
            dir.path(),
            "127.0.0.1:0",
            &jira.base_url(),
            &splashtop.base_url(),
            extra,
        ),
    )
    .unwrap();
    let cfg = deskbridge::config::load(&path).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let running = crate::helpers::launch_on(cfg, listener).await;
    let base = running.base.clone();
    let public_key = running.public_key.clone();
    JiraApp {
        base,
        jira,
        splashtop,
        client: reqwest::Client::new(),
        dir,
        public_key,
        _running: running,
    }
}

impl JiraApp {
    /// A new customer request (the contract's example, with `edit` applied); its key.
    pub fn new_issue(&self, edit: impl FnOnce(&mut SimIssue)) -> String {
        let mut s = SimIssue::default();
        edit(&mut s);
        self.jira.add_issue(s)
    }

    /// The agent clicks "Start remote session": the Automation rule's web request.
    pub async fn click(&self, key: &str) -> reqwest::Response {
        let body = self.jira.automation_body(key).unwrap();
        self.post("jira", body, &[("x-deskbridge-token", AUTOMATION_SECRET)])
            .await
    }

    /// An admin webhook as the simulator produced it.
    pub async fn deliver(&self, hook: &SimWebhook) -> reqwest::Response {
        let headers: Vec<(&str, &str)> = hook
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post("jira-hook", hook.body.clone(), &headers).await
    }

    pub async fn post(
        &self,
        conn: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}/hooks/{conn}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    /// Click and return the job id (asserting 202 queued).
    pub async fn start(&self, key: &str) -> String {
        let r = self.click(key).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "queued", "{v}");
        v["job_id"].as_str().unwrap().to_string()
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

    pub async fn jobs(&self) -> Vec<Value> {
        let r = self
            .client
            .get(format!("{}/api/v1/jobs", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.client, &self.base, id, state, secs).await
    }

    pub async fn session_code(&self, id: &str) -> String {
        self.job(id).await["session"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Comments on the issue whose body contains `needle`.
    pub fn comments_with(&self, key: &str, needle: &str) -> usize {
        self.jira
            .comments(key)
            .iter()
            .filter(|c| c.body.contains(needle))
            .count()
    }

    /// How many times each file name is attached.
    pub fn attachment_counts(&self, key: &str) -> std::collections::HashMap<String, usize> {
        let mut m = std::collections::HashMap::new();
        for a in self.jira.attachments(key) {
            *m.entry(a.file_name).or_default() += 1;
        }
        m
    }
}
