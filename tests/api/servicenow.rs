//! ServiceNow, the ticket system of most tests: its connection entry and rule, the UI Action's
//! signed webhook, and `spawn_app()`: a ServiceNow simulator, a Splashtop simulator and
//! deskbridge wired to them. The Sunlogin, OAuth and clock tests reuse the ServiceNow side.

pub use crate::harness::*;
use deskbridge::clock::{ManualClock, Millis};
use deskbridge_sim::servicenow::sign_ui_action;
use deskbridge_sim::{ServiceNowSim, SessionEnd, SimIncident, SplashtopSim};
use serde_json::{json, Value};

pub const SNOW_USER: &str = "deskbridge";
pub const SNOW_PASSWORD: &str = "snow-pass-Q7x!";
pub const HOOK_SECRET: &str = "hook-secret-5dF2";
pub const SPLASHTOP_TOKEN: &str = "st-token-9aZ3";
pub const RULE: &str = "Service desk to Splashtop";
/// Where incidents are read and their notes written (PATCH).
pub const INCIDENT: &str = "/api/now/table/incident/";
/// Where files are attached.
pub const ATTACHMENT: &str = "/api/now/attachment/file";

/// A ServiceNow connection to the simulator at `base_url`, whose UI Action signs with
/// [`HOOK_SECRET`].
pub fn connection(id: &str, base_url: &str) -> Itsm {
    Itsm::new(
        id,
        "servicenow",
        base_url,
        Auth::Basic {
            username: SNOW_USER.into(),
            password: SNOW_PASSWORD.into(),
        },
        Inbound::Hmac {
            secret: HOOK_SECRET.into(),
        },
    )
}

/// Connection `snow` (1000 calls a second allowed), Splashtop, and one rule for two queues;
/// bodies up to 4 KiB.
pub fn config(dir: &std::path::Path, snow: &str, splashtop: &str) -> Config {
    let mut c = Config::base(dir)
        .itsm(Itsm {
            rate_limit: Some(RateLimit::per_second(1000)),
            ..connection("snow", snow)
        })
        .vendor(Vendor::splashtop(splashtop, SPLASHTOP_TOKEN))
        .rule(Rule::new(RULE, "snow", "splashtop").queue(&["Service Desk", "Desktop Support"]));
    c.server.max_body_bytes = Some(4096);
    c
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
    Millis::now().unix_secs()
}

/// Post `body` to `/hooks/{conn}`, signed as the UI Action signs it.
pub async fn post_signed(api: &Api, conn: &str, body: &[u8]) -> reqwest::Response {
    let headers = sign_ui_action(HOOK_SECRET, body, now_secs());
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.hook(conn, body.to_vec(), &headers).await
}

/// A new incident in `group` and the webhook body that asks for its session.
pub fn new_incident(snow: &ServiceNowSim, group: &str) -> (String, Value) {
    let n = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
    let sys_id = snow.add_incident(SimIncident {
        number: n.clone(),
        assignment_group: group.into(),
        ..SimIncident::default()
    });
    let body = hook_body(&sys_id, &n, group);
    (sys_id, body)
}

/// A new incident in `group` and its webhook to `snow`, answered 202: its sys_id and job id.
pub async fn click(api: &Api, snow: &ServiceNowSim, group: &str) -> (String, String) {
    let (sys_id, body) = new_incident(snow, group);
    let r = post_signed(api, "snow", body.to_string().as_bytes()).await;
    assert_eq!(r.status(), 202);
    (sys_id, job_id_of(r).await)
}

/// Journal entries of the incident containing `needle`.
pub fn notes_with(snow: &ServiceNowSim, sys_id: &str, needle: &str) -> usize {
    let journal: Vec<String> = snow.journal(sys_id).into_iter().map(|e| e.value).collect();
    count_with(&journal, needle)
}

/// The first journal entry of the incident containing `needle`.
pub fn note_with(snow: &ServiceNowSim, sys_id: &str, needle: &str) -> String {
    let entry = snow
        .journal(sys_id)
        .into_iter()
        .find(|e| e.value.contains(needle));
    entry
        .unwrap_or_else(|| panic!("no note with {needle:?}"))
        .value
}

/// The files on the incident.
pub fn files(snow: &ServiceNowSim, sys_id: &str) -> Vec<Attached> {
    let files = snow.attachments(sys_id).into_iter();
    files.map(Attached::from).collect()
}

/// The names of the files on the incident.
pub fn attachment_names(snow: &ServiceNowSim, sys_id: &str) -> Vec<String> {
    files(snow, sys_id).into_iter().map(|f| f.name).collect()
}

/// The last writes of job `id` on the incident, each killing the child after ServiceNow applied
/// it: the first file stored, then the summary note written. Restarted, the child finishes the
/// job with one note of each kind and nothing else; returns the job.
pub async fn crash_in_the_attaching_writes(
    child: &mut Child,
    snow: &ServiceNowSim,
    sys_id: &str,
    id: &str,
) -> Value {
    crash_after_write(child, snow.faults(), "POST", ATTACHMENT).await;
    assert_eq!(snow.attachments(sys_id).len(), 1);
    crash_after_write(child, snow.faults(), "PATCH", INCIDENT).await;
    child.restart().await;
    let job = child.wait_for_state(id, "done", 20).await;
    let notes = |what: &str| notes_with(snow, sys_id, &marker(id, what));
    assert_eq!(notes("link"), 1, "one link (or instructions) note");
    assert_eq!(notes("summary"), 1, "one summary note");
    let journal = snow.journal(sys_id);
    assert_eq!(journal.len(), 2, "nothing else was written: {journal:#?}");
    job
}

system_app!(SnowApp {
    snow: ServiceNowSim,
    splashtop: SplashtopSim,
});

pub async fn spawn_app() -> SnowApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] on a configuration `edit` changed first.
pub async fn spawn_app_with(edit: impl FnOnce(&mut Config)) -> SnowApp {
    spawn_app_on(ManualClock::running(Millis::now()), edit).await
}

/// [`spawn_app_with`] on a clock of the test's choosing.
pub async fn spawn_app_on(clock: ManualClock, edit: impl FnOnce(&mut Config)) -> SnowApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &snow.base_url(), &splashtop.base_url());
    edit(&mut cfg);
    let app = TestApp::start_on(dir, cfg, listener(), clock).await;
    SnowApp {
        app,
        snow,
        splashtop,
    }
}

impl SnowApp {
    /// A new incident in the simulator and the webhook body that asks for its session.
    pub fn new_incident(&self, group: &str) -> (String, Value) {
        new_incident(&self.snow, group)
    }

    pub async fn post_hook(&self, body: &Value) -> reqwest::Response {
        post_signed(&self.api, "snow", body.to_string().as_bytes()).await
    }

    /// Send the webhook for `body`, expect 202, return the job id.
    pub async fn start_job(&self, body: &Value) -> String {
        let r = self.post_hook(body).await;
        assert_eq!(r.status(), 202);
        job_id_of(r).await
    }

    /// A new incident in `group` and its webhook: the incident's sys_id and the job id.
    pub async fn click(&self, group: &str) -> (String, String) {
        click(&self.api, &self.snow, group).await
    }

    /// [`SnowApp::click`], once the job waits for its session to end.
    pub async fn waiting(&self, group: &str) -> (String, String) {
        let (sys_id, id) = self.click(group).await;
        self.wait_for_state(&id, "waiting_for_end", 10).await;
        (sys_id, id)
    }

    /// The job's Splashtop session ends with `end`; returns its code.
    pub async fn end_session(&self, id: &str, end: SessionEnd) -> String {
        end_session(&self.api, &self.splashtop, id, end).await
    }

    /// The first journal entry of the incident containing `needle`.
    pub fn note_with(&self, sys_id: &str, needle: &str) -> String {
        note_with(&self.snow, sys_id, needle)
    }

    /// The files on the incident, for [`TestApp::assert_artifacts_match`].
    pub fn files(&self, sys_id: &str) -> Vec<Attached> {
        files(&self.snow, sys_id)
    }

    pub fn notes_with(&self, sys_id: &str, needle: &str) -> usize {
        notes_with(&self.snow, sys_id, needle)
    }

    pub fn attachment_names(&self, sys_id: &str) -> Vec<String> {
        attachment_names(&self.snow, sys_id)
    }
}
