//! Jira Service Management end to end: `spawn_jira_app()` starts a Jira simulator, a Splashtop
//! simulator and deskbridge with two connections to the same site, one per inbound format:
//! `jira` takes the Automation rule's web request (`X-Deskbridge-Token`), `jira-hook` the signed
//! admin webhook (`X-Hub-Signature`).

mod crash;
mod flow;
mod hooks;
mod limits;

use crate::harness::*;
use deskbridge_sim::{JiraSim, SessionEnd, SimIssue, SimWebhook, SplashtopSim};
use serde_json::Value;

pub const EMAIL: &str = "deskbridge@acme.example";
pub const API_TOKEN: &str = "atl-api-token-4Rt8";
pub const AUTOMATION_SECRET: &str = "automation-secret-8Hn2";
pub const HUB_SECRET: &str = "hub-secret-2Wq6";
pub const SPLASHTOP_TOKEN: &str = "st-token-jira-1";

system_app!(JiraApp {
    jira: JiraSim,
    splashtop: SplashtopSim,
});

/// A connection to the Jira site at `base_url`, taking webhooks proved by `inbound`.
fn connection(id: &str, base_url: &str, inbound: Inbound) -> Itsm {
    let auth = Auth::ApiToken {
        email: EMAIL.into(),
        token: API_TOKEN.into(),
    };
    Itsm {
        rate_limit: Some(RateLimit::per_second(1000)),
        ..Itsm::new(id, "jira", base_url, auth, inbound)
    }
}

/// Both connections, Splashtop, and rules on the request type and project; bodies up to 64 KiB.
pub fn config(dir: &std::path::Path, jira: &str, splashtop: &str) -> Config {
    let automation = Inbound::SharedHeader {
        header: "X-Deskbridge-Token".into(),
        secret: AUTOMATION_SECRET.into(),
    };
    let hub = Inbound::HubSignature {
        secret: HUB_SECRET.into(),
    };
    let rule = |conn: &str| {
        Rule::new(&format!("IT help on {conn}"), conn, "splashtop")
            .queue(&["Get IT help"])
            .project(&["ITS", "PUB"])
    };
    let mut c = Config::base(dir)
        .itsm(connection("jira", jira, automation))
        .itsm(connection("jira-hook", jira, hub))
        .vendor(Vendor::splashtop(splashtop, SPLASHTOP_TOKEN))
        .rule(rule("jira"))
        .rule(rule("jira-hook"));
    c.server.max_body_bytes = Some(65536);
    c
}

pub async fn spawn_jira_app() -> JiraApp {
    spawn_jira_app_with(|_| {}).await
}

/// [`spawn_jira_app`] on a configuration `edit` changed first.
pub async fn spawn_jira_app_with(edit: impl FnOnce(&mut Config)) -> JiraApp {
    let jira = JiraSim::start(EMAIL, API_TOKEN).await;
    jira.set_webhook_secret(HUB_SECRET);
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let (j, st) = (jira.base_url(), splashtop.base_url());
    JiraApp {
        app: TestApp::start(|dir| config(dir, &j, &st), edit).await,
        jira,
        splashtop,
    }
}

impl JiraApp {
    /// A new customer request (the contract's example, with `edit` applied); its key.
    pub fn new_issue(&self, edit: impl FnOnce(&mut SimIssue)) -> String {
        let mut s = SimIssue::default();
        edit(&mut s);
        self.jira.add_issue(s)
    }

    /// A new request (`edit`ed) whose job waits for its session to end: its key and the job id.
    pub async fn waiting(&self, edit: impl FnOnce(&mut SimIssue)) -> (String, String) {
        let key = self.new_issue(edit);
        let id = self.start(&key).await;
        self.wait_for_state(&id, "waiting_for_end", 10).await;
        (key, id)
    }

    /// The job's Splashtop session ends with `end`; returns its code.
    pub async fn end_session(&self, id: &str, end: SessionEnd) -> String {
        end_session(&self.api, &self.splashtop, id, end).await
    }

    /// The admin webhook of Beth adding the `remote-session` label to the request.
    pub fn label_added(&self, key: &str) -> SimWebhook {
        let hook = self
            .jira
            .add_label(key, "remote-session", "Beth Anglin", "beth@acme.example");
        hook.unwrap()
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
        self.hook(conn, body, headers).await
    }

    /// Click and return the job id (asserting 202 queued).
    pub async fn start(&self, key: &str) -> String {
        let r = self.click(key).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "queued", "{v}");
        v["job_id"].as_str().unwrap().to_string()
    }

    /// The body of each comment on the issue, oldest first.
    pub fn comment_texts(&self, key: &str) -> Vec<String> {
        let comments = self.jira.comments(key).into_iter();
        comments.map(|c| c.body).collect()
    }

    /// Comments on the issue whose body contains `needle`.
    pub fn comments_with(&self, key: &str, needle: &str) -> usize {
        count_with(&self.comment_texts(key), needle)
    }

    /// The first comment on the issue containing `needle`.
    pub fn comment_with(&self, key: &str, needle: &str) -> String {
        first_with(self.comment_texts(key), needle)
    }

    /// The files on the issue, for [`TestApp::assert_artifacts_match`] (the remote id is the
    /// Jira attachment id).
    pub fn files(&self, key: &str) -> Vec<Attached> {
        let files = self.jira.attachments(key).into_iter();
        files.map(Attached::from).collect()
    }

    /// The names of the files attached to the issue.
    pub fn attachment_names(&self, key: &str) -> Vec<String> {
        self.files(key).into_iter().map(|f| f.name).collect()
    }
}
