//! Zendesk end to end: a Zendesk simulator, a Splashtop simulator and deskbridge on port 0,
//! wired by their own configuration. Webhooks are sent the way Zendesk sends them: the
//! simulator plays the macro and the shipped trigger (or an event subscription) and signs.

mod crash;
mod flow;
mod inbound;
mod integrations;

use crate::harness::*;
use deskbridge_sim::zendesk::{SimComment, SimTicket};
use deskbridge_sim::{SessionEnd, SplashtopSim, WebhookDelivery, ZendeskSim};
use serde_json::Value;

pub const ZD_EMAIL: &str = "deskbridge@acme.example";
pub const ZD_TOKEN: &str = "zd-api-token-K2v9";
pub const ZD_SECRET: &str = "zd-signing-secret-Ww4";
pub const AGENT: &str = "beth@acme.example";
pub const SPLASHTOP_TOKEN: &str = "st-token-9aZ3";

system_app!(ZdApp {
    zd: ZendeskSim,
    splashtop: SplashtopSim,
});

/// The configuration: one Zendesk connection checking the simulator's account id, Splashtop,
/// a rule for one group and brand that makes the link note public (the brand is not in the
/// trigger body: decided on the read ticket), and a rule for the Service Desk group; a
/// two-second request timeout, for the tests of a lost answer.
pub fn config(dir: &std::path::Path, zd: &ZendeskSim, splashtop: &str) -> Config {
    let auth = Auth::ApiToken {
        email: ZD_EMAIL.into(),
        token: ZD_TOKEN.into(),
    };
    let inbound = Inbound::ZendeskSignature {
        secret: ZD_SECRET.into(),
    };
    let zendesk = Itsm {
        rate_limit: Some(RateLimit::per_second(1000)),
        account_id: Some(zd.account_id().to_string()),
        ..Itsm::new("zd", "zendesk", &zd.base_url(), auth, inbound)
    };
    let mut c = Config::base(dir)
        .itsm(zendesk)
        .vendor(Vendor::splashtop(splashtop, SPLASHTOP_TOKEN))
        .rule(
            Rule::new("Customer brand: public link", "zd", "splashtop")
                .queue(&["Customer Care"])
                .brand(&["Customer Portal"])
                .public_link(),
        )
        .rule(Rule::new("Zendesk service desk", "zd", "splashtop").queue(&["Service Desk"]));
    c.worker.request_timeout = Some("2s".into());
    c
}

pub async fn spawn_zendesk_app() -> ZdApp {
    spawn_zendesk_app_with(|_| {}).await
}

/// [`spawn_zendesk_app`] on a configuration `edit` changed first.
pub async fn spawn_zendesk_app_with(edit: impl FnOnce(&mut Config)) -> ZdApp {
    let zd = ZendeskSim::start(ZD_EMAIL, ZD_TOKEN).await;
    zd.connect_webhook(ZD_SECRET);
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    splashtop.set_transcripts_enabled(true);
    let st = splashtop.base_url();
    ZdApp {
        app: TestApp::start(|dir| config(dir, &zd, &st), edit).await,
        zd,
        splashtop,
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
        d.send(&self.client, &self.url("/hooks/zd")).await.unwrap()
    }

    /// Click, deliver, and return the job id of the 202.
    pub async fn start(&self, ticket: u64) -> String {
        let r = self.deliver(&self.click(ticket)).await;
        assert_eq!(r.status(), 202);
        job_id_of(r).await
    }

    /// A new ticket whose job waits for its session to end: the ticket and the job id.
    pub async fn waiting(&self, t: SimTicket) -> (u64, String) {
        let ticket = self.new_ticket(t);
        let id = self.start(ticket).await;
        self.wait_for_state(&id, "waiting_for_end", 10).await;
        (ticket, id)
    }

    /// The job's Splashtop session ends with `end`; returns its code.
    pub async fn end_session(&self, id: &str, end: SessionEnd) -> String {
        end_session(&self.api, &self.splashtop, id, end).await
    }

    /// The first comment on the ticket containing `needle`.
    pub fn comment_with(&self, ticket: u64, needle: &str) -> SimComment {
        let c = self
            .zd
            .comments(ticket)
            .into_iter()
            .find(|c| c.body.contains(needle));
        c.unwrap_or_else(|| panic!("no comment with {needle:?}"))
    }

    /// The files on the ticket, for [`TestApp::assert_artifacts_match`].
    pub fn files(&self, ticket: u64) -> Vec<Attached> {
        let files = self.zd.attachments(ticket).into_iter();
        files.map(Attached::from).collect()
    }

    /// The jobs of the Zendesk connection.
    pub async fn zd_jobs(&self) -> Vec<Value> {
        self.jobs("?connection=zd").await
    }

    /// Comments whose body contains `needle`.
    pub fn comments_with(&self, ticket: u64, needle: &str) -> usize {
        let comments = self.zd.comments(ticket);
        comments.iter().filter(|c| c.body.contains(needle)).count()
    }

    /// The names of the files on the ticket.
    pub fn attachment_names(&self, ticket: u64) -> Vec<String> {
        self.files(ticket).into_iter().map(|f| f.name).collect()
    }
}
