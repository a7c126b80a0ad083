//! Zendesk end to end: a Zendesk simulator, a Splashtop simulator and deskbridge on port 0,
//! wired by their own configuration. Webhooks are sent the way Zendesk sends them: the
//! simulator plays the macro and the shipped trigger (or an event subscription) and signs.

#![allow(dead_code)]

mod crash;
mod flow;
mod inbound;
mod integrations;

use crate::helpers::{wait_for_state, ADMIN_TOKEN, AUDITOR_TOKEN, SPLASHTOP_TOKEN};
use deskbridge_sim::zendesk::SimTicket;
use deskbridge_sim::{SplashtopSim, WebhookDelivery, ZendeskSim};
use serde_json::Value;

pub const ZD_EMAIL: &str = "deskbridge@acme.example";
pub const ZD_TOKEN: &str = "zd-api-token-K2v9";
pub const ZD_SECRET: &str = "zd-signing-secret-Ww4";
pub const AGENT: &str = "beth@acme.example";

pub struct ZdApp {
    pub base: String,
    pub zd: ZendeskSim,
    pub splashtop: SplashtopSim,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub public_key: String,
    _running: crate::helpers::Running,
}

/// The configuration: one Zendesk connection checking the simulator's account id, Splashtop,
/// a rule for one group and brand that makes the link note public (the brand is not in the
/// trigger body: decided on the read ticket), and a rule for the Service Desk group.
pub fn zd_config(dir: &std::path::Path, listen: &str, zd: &ZendeskSim, splashtop: &str) -> String {
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
id = "zd"
kind = "zendesk"
base_url = "{zd_url}"
account_id = "{account}"
auth = {{ type = "api_token", email = "{ZD_EMAIL}", token = "{ZD_TOKEN}" }}
inbound = {{ type = "zendesk_signature", secret = "{ZD_SECRET}" }}
rate_limit = {{ requests = 1000, per = "1s" }}

[[vendor]]
id = "splashtop"
kind = "splashtop"
base_url = "{splashtop}"
portal_url = "{splashtop}"
auth = {{ type = "bearer", token = "{SPLASHTOP_TOKEN}" }}
poll = {{ every = "50ms", max_every = "200ms", give_up_after = "1h" }}

[[rule]]
name = "Customer brand: public link"
connection = "zd"
match = {{ queue = ["Customer Care"], brand = ["Customer Portal"] }}
vendor = "splashtop"
link_note = {{ template = "session_link", visibility = "public" }}

[[rule]]
name = "Zendesk service desk"
connection = "zd"
match = {{ queue = ["Service Desk"] }}
vendor = "splashtop"
"#,
        data = dir.join("data").display(),
        zd_url = zd.base_url(),
        account = zd.account_id(),
    )
}

pub async fn spawn_zendesk_app() -> ZdApp {
    let zd = ZendeskSim::start(ZD_EMAIL, ZD_TOKEN).await;
    zd.connect_webhook(ZD_SECRET);
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    splashtop.set_transcripts_enabled(true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskbridge.toml");
    std::fs::write(
        &path,
        zd_config(dir.path(), "127.0.0.1:0", &zd, &splashtop.base_url()),
    )
    .unwrap();
    let running = crate::helpers::launch_on(
        deskbridge::config::load(&path).unwrap(),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await;
    let base = running.base.clone();
    let public_key = running.public_key.clone();
    ZdApp {
        base,
        zd,
        splashtop,
        client: reqwest::Client::new(),
        dir,
        public_key,
        _running: running,
    }
}

impl ZdApp {
    pub fn new_ticket(&self, t: SimTicket) -> u64 {
        self.zd.add_ticket(t)
    }

    /// The agent clicks "Start remote session" on the ticket.
    pub fn click(&self, ticket: u64) -> WebhookDelivery {
        self.zd.click_start_remote_session(ticket, AGENT).unwrap()
    }

    pub async fn deliver(&self, d: &WebhookDelivery) -> reqwest::Response {
        d.send(&self.client, &format!("{}/hooks/zd", self.base))
            .await
            .unwrap()
    }

    /// Click, deliver, and return the job id of the 202.
    pub async fn start(&self, ticket: u64) -> String {
        let r = self.deliver(&self.click(ticket)).await;
        assert_eq!(r.status(), 202);
        r.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        wait_for_state(&self.client, &self.base, id, state, secs).await
    }

    pub async fn jobs(&self) -> Vec<Value> {
        let r = self
            .client
            .get(format!("{}/api/v1/jobs?connection=zd", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["jobs"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn session_code(&self, id: &str) -> String {
        let r = self
            .client
            .get(format!("{}/api/v1/jobs/{id}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["session"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Comments whose body contains `needle`.
    pub fn comments_with(&self, ticket: u64, needle: &str) -> usize {
        self.zd
            .comments(ticket)
            .iter()
            .filter(|c| c.body.contains(needle))
            .count()
    }
}
