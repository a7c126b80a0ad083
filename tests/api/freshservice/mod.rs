//! Freshservice end to end: `spawn_fs()` starts a Freshservice simulator, a Splashtop simulator
//! and deskbridge with two Freshservice connections on the same account: `fs` (the workflow
//! sends `X-Deskbridge-Token`) and `fs-basic` (the workflow uses basic auth). The workflow's
//! call is the shipped body template as the simulator renders it for a ticket.

mod auth;
mod crash;
mod flow;
mod limits;

use crate::harness::*;
use deskbridge_sim::freshservice::SimTicket;
use deskbridge_sim::{FreshserviceSim, SessionEnd, SplashtopSim};
use serde_json::Value;

pub const FS_KEY: &str = "fs-key-Vb71";
pub const FS_HEADER: &str = "X-Deskbridge-Token";
pub const FS_TOKEN: &str = "fs-hook-token-8Hd";
pub const FS_BASIC_USER: &str = "freshservice";
pub const FS_BASIC_PASSWORD: &str = "fs-basic-pw-2Qe";
pub const SPLASHTOP_TOKEN: &str = "st-token-9aZ3";

system_app!(FsApp {
    fs: FreshserviceSim,
    splashtop: SplashtopSim,
});

/// A connection to the Freshservice account at `base_url`, taking the workflow's call as
/// `inbound` proves it.
fn connection(id: &str, base_url: &str, inbound: Inbound) -> Itsm {
    let auth = Auth::ApiKey { key: FS_KEY.into() };
    Itsm::new(id, "freshservice", base_url, auth, inbound)
}

/// Both connections, Splashtop, a rule for the Service Desk group on `fs` and one for every
/// ticket on `fs-basic`; a two-second request timeout, for the tests of a lost answer.
pub fn config(dir: &std::path::Path, fs: &str, splashtop: &str) -> Config {
    let header = Inbound::SharedHeader {
        header: FS_HEADER.into(),
        secret: FS_TOKEN.into(),
    };
    let basic = Inbound::Basic {
        username: FS_BASIC_USER.into(),
        password: FS_BASIC_PASSWORD.into(),
    };
    let mut c = Config::base(dir)
        .itsm(connection("fs", fs, header))
        .itsm(connection("fs-basic", fs, basic))
        .vendor(Vendor::splashtop(splashtop, SPLASHTOP_TOKEN))
        .rule(Rule::new("Freshservice service desk", "fs", "splashtop").queue(&["Service Desk"]))
        .rule(Rule::new(
            "Freshservice via basic auth",
            "fs-basic",
            "splashtop",
        ));
    c.worker.request_timeout = Some("2s".into());
    c
}

pub async fn spawn_fs() -> FsApp {
    spawn_fs_with(|_| {}).await
}

/// [`spawn_fs`] on a configuration `edit` changed first.
pub async fn spawn_fs_with(edit: impl FnOnce(&mut Config)) -> FsApp {
    let fs = FreshserviceSim::start(FS_KEY).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let (f, st) = (fs.base_url(), splashtop.base_url());
    FsApp {
        app: TestApp::start(|dir| config(dir, &f, &st), edit).await,
        fs,
        splashtop,
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
        self.hook("fs", body.to_string(), &[(FS_HEADER, FS_TOKEN)])
            .await
    }

    /// Post the workflow's call and return the job id.
    pub async fn start_job(&self, body: &str) -> String {
        let r = self.post_hook(body).await;
        assert_eq!(r.status(), 202);
        job_id_of(r).await
    }

    /// A new ticket whose job waits for its session to end: the ticket and the job id.
    pub async fn waiting(&self, t: SimTicket) -> (u64, String) {
        let (ticket, body) = self.new_ticket(t);
        let id = self.start_job(&body).await;
        self.wait_for_state(&id, "waiting_for_end", 10).await;
        (ticket, id)
    }

    /// The job's Splashtop session ends with `end`; returns its code.
    pub async fn end_session(&self, id: &str, end: SessionEnd) -> String {
        end_session(&self.api, &self.splashtop, id, end).await
    }

    /// The text of each note on the ticket, oldest first.
    pub fn note_texts(&self, ticket: u64) -> Vec<String> {
        let notes = self.fs.notes(ticket).into_iter();
        notes.map(|n| n.body_text).collect()
    }

    /// The text of the first note on the ticket containing `needle`.
    pub fn note_with(&self, ticket: u64, needle: &str) -> String {
        first_with(self.note_texts(ticket), needle)
    }

    /// Notes on the ticket whose text contains `needle`.
    pub fn notes_with(&self, ticket: u64, needle: &str) -> usize {
        count_with(&self.note_texts(ticket), needle)
    }

    /// The files on the ticket, for [`TestApp::assert_artifacts_match`].
    pub fn files(&self, ticket: u64) -> Vec<Attached> {
        let files = self.fs.attachments(ticket).into_iter();
        files.map(Attached::from).collect()
    }

    /// The names of the files on the ticket.
    pub fn file_names(&self, ticket: u64) -> Vec<String> {
        self.files(ticket).into_iter().map(|f| f.name).collect()
    }
}
