//! Several replicas on one PostgreSQL database (SPEC §5), proven with the real binary: two
//! `deskbridge serve` processes share one throw-away database (started by the test) and the
//! ServiceNow and Splashtop simulators.
//!
//! - Webhooks go to either replica, repeated deliveries and second clicks to the other one:
//!   every ticket gets one job, one link note and each artifact once.
//! - One job is followed through its life while the replica running each step is SIGKILLed
//!   inside that step's call (the call is slowed down so it is in flight when the kill comes);
//!   the other replica takes the job over when the lease lapses, and the killed one comes back.
//! - Throughout, the simulators count concurrent calls about each ticket and each session: a
//!   step run on two replicas at once would show as two.
//!
//! These need the PostgreSQL server binaries, hence `#[ignore]` (see the README).

use crate::servicenow::*;
use deskbridge::store::postgres::scratch::Scratch;
use deskbridge_sim::{Fault, FaultAction, Faults, ServiceNowSim, SessionEnd, SplashtopSim};
use serde_json::Value;
use std::time::Duration;

/// How long a slowed call takes: shorter than a lease, so it lands before anyone takes over.
const SLOW: Duration = Duration::from_millis(400);

struct Cluster {
    snow: ServiceNowSim,
    st: SplashtopSim,
    reps: Vec<Child>,
    /// Each replica's worker id (a job's `lease.owner`), refreshed after a restart.
    ids: Vec<u64>,
    _dirs: Vec<tempfile::TempDir>,
    _pg: Scratch,
}

/// The ServiceNow and Splashtop configuration on the PostgreSQL database at `url`, signing with
/// the key in the file `key`, with short leases so that a killed replica's job is taken over
/// within a couple of seconds.
fn replica_config(dir: &std::path::Path, snow: &str, st: &str, url: &str, key: &str) -> Config {
    let mut cfg = config(dir, snow, st);
    cfg.server.audit_key = Some(format!("file:{key}"));
    cfg.worker.lease = Some("1500ms".into());
    let store = [
        ("kind", toml::Value::from("postgres")),
        ("url", toml::Value::from(url)),
        ("max_connections", toml::Value::from(8)),
    ];
    cfg.store = Some(store.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    cfg
}

impl Cluster {
    async fn start() -> Cluster {
        let pg = Scratch::start().unwrap_or_else(|e| panic!("{e}"));
        let url = pg.database().await.unwrap();
        let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
        let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
        let shared = tempfile::tempdir().unwrap();
        let key = shared.path().join("audit-key.pem");
        std::fs::write(&key, deskbridge::audit::AuditKey::generate().to_pem()).unwrap();
        let mut dirs = vec![shared];
        let mut reps = vec![];
        for _ in 0..2 {
            let dir = tempfile::tempdir().unwrap();
            let key = key.to_str().unwrap();
            let cfg = replica_config(dir.path(), &snow.base_url(), &st.base_url(), &url, key);
            reps.push(Child::start(dir.path(), cfg).await);
            dirs.push(dir);
        }
        let mut c = Cluster {
            snow,
            st,
            reps,
            ids: vec![0, 0],
            _dirs: dirs,
            _pg: pg,
        };
        for i in 0..2 {
            c.ids[i] = c.replica_id(i).await;
        }
        c
    }

    async fn replica_id(&self, i: usize) -> u64 {
        let v = self.reps[i].admin_get("/api/v1/status").await;
        assert_eq!(v["store"], "postgres");
        v["replica"].as_u64().expect("the status names the replica")
    }

    fn incident(&self, number: &str) -> String {
        let sys_id = self.snow.add_incident(deskbridge_sim::SimIncident {
            number: number.into(),
            ..Default::default()
        });
        self.snow.faults().track_in_flight(&sys_id);
        sys_id
    }

    async fn hook(&self, i: usize, body: &Value) -> Value {
        let r = post_signed(&self.reps[i], "snow", body.to_string().as_bytes()).await;
        assert_eq!(r.status(), 202, "replica {i}");
        r.json().await.unwrap()
    }

    async fn job(&self, id: &str) -> Value {
        for _ in 0..200 {
            for r in &self.reps {
                let url = r.url(&format!("/api/v1/jobs/{id}"));
                if let Ok(resp) = r.client.get(url).bearer_auth(ADMIN_TOKEN).send().await {
                    if let Ok(v) = resp.json::<Value>().await {
                        return v;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no replica answers");
    }

    /// Which replica holds the job's lease now.
    async fn holder(&self, id: &str) -> usize {
        for _ in 0..200 {
            let owner = self.job(id).await["lease"]["owner"].as_u64();
            if let Some(i) = owner.and_then(|o| self.ids.iter().position(|r| *r == o)) {
                return i;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "job {id} is held by no live replica: {}",
            self.job(id).await
        );
    }

    async fn wait_for(&self, id: &str, state: &str, secs: u64) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let j = self.job(id).await;
            if j["state"] == state {
                return j;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} did not reach {state}: {j:#}\nlogs:\n{}\n{}",
                self.reps[0].log_text(),
                self.reps[1].log_text()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Wait until the slowed-down `method path` call is in flight, SIGKILL the replica running
    /// the job's step, arm the next step's slow call (`next`), and start the killed replica
    /// again while the other one goes on.
    async fn kill_inside(
        &mut self,
        (faults, method, path): (&Faults, &str, &str),
        job: &str,
        next: Option<(&Faults, &str, &str)>,
    ) -> usize {
        let hit = faults
            .wait_for_request(method, path, Duration::from_secs(30))
            .await;
        assert!(hit.is_some(), "{method} {path} never came");
        let i = self.holder(job).await;
        self.reps[i].kill();
        faults.clear();
        if let Some((f, m, p)) = next {
            arm(f, m, p);
        }
        self.reps[i].restart().await;
        self.ids[i] = self.replica_id(i).await;
        i
    }

    fn notes(&self, sys_id: &str, job: &str, what: &str) -> usize {
        let marker = format!("[deskbridge:job/{job}/{what}]");
        self.snow
            .journal(sys_id)
            .iter()
            .filter(|e| e.value.contains(&marker))
            .count()
    }

    fn attachment_names(&self, sys_id: &str) -> Vec<String> {
        self.snow
            .attachments(sys_id)
            .into_iter()
            .map(|a| a.file_name)
            .collect()
    }

    fn assert_never_concurrent(&self) {
        for (faults, what) in [
            (self.snow.faults(), "ticket"),
            (self.st.faults(), "session"),
        ] {
            let maxima = faults.in_flight_maxima();
            assert!(
                what == "session" || !maxima.is_empty(),
                "tickets are tracked"
            );
            for (subject, max) in maxima {
                assert_eq!(max, 1, "calls at once about {what} {subject}");
            }
        }
    }
}

fn arm(faults: &Faults, method: &str, path: &str) {
    faults.clear();
    faults.push(Fault::new(path, FaultAction::Delay(SLOW)).method(method));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; run: cargo test -- --ignored"]
async fn two_replicas_share_webhooks_and_jobs_and_each_ticket_gets_one_of_everything() {
    let c = Cluster::start().await;
    let mut jobs = vec![];
    for n in 0..6 {
        let number = format!("INC00770{n:02}");
        let sys_id = c.incident(&number);
        let body = hook_body(&sys_id, &number, "Service Desk");
        let first = c.hook(n % 2, &body).await;
        // the same delivery again, and a second click, each on the other replica
        let again = c.hook((n + 1) % 2, &body).await;
        assert_eq!(again["job_id"], first["job_id"], "a repeated delivery");
        let click = c
            .hook((n + 1) % 2, &hook_body(&sys_id, &number, "Service Desk"))
            .await;
        assert_eq!(
            (click["job_id"].clone(), click["status"].clone()),
            (first["job_id"].clone(), "existing".into())
        );
        jobs.push((sys_id, first["job_id"].as_str().unwrap().to_string()));
    }
    for (_, id) in &jobs {
        let j = c.wait_for(id, "waiting_for_end", 30).await;
        let code = j["session"]["code"].as_str().unwrap().to_string();
        assert!(c.st.end_session(&code, SessionEnd::sample(2, 1, 2)));
    }
    for (sys_id, id) in &jobs {
        let j = c.wait_for(id, "done", 30).await;
        assert_eq!(c.notes(sys_id, id, "link"), 1, "one link note on {sys_id}");
        assert_eq!(
            c.notes(sys_id, id, "summary"),
            1,
            "one summary note on {sys_id}"
        );
        assert_each_artifact_once(
            c.attachment_names(sys_id),
            j["session"]["code"].as_str().unwrap(),
        );
    }
    assert_eq!(c.st.sessions().len(), jobs.len(), "one session per ticket");
    c.assert_never_concurrent();

    // every replica signs with the one key from server.audit_key, and says so
    let mut keys = vec![];
    for r in &c.reps {
        let k: Value = r
            .get("/api/v1/audit/public-key")
            .await
            .json()
            .await
            .unwrap();
        keys.push(k["public_key"].as_str().unwrap().to_string());
    }
    assert_eq!(keys[0], keys[1]);
    let dl = tempfile::tempdir().unwrap();
    for (sys_id, _) in &jobs {
        for a in c.snow.attachments(sys_id) {
            std::fs::write(dl.path().join(&a.file_name), &a.bytes).unwrap();
        }
    }
    let report = deskbridge::artifacts::verify_paths(&[dl.path().to_path_buf()], &keys[..1]);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.manifests.len(), jobs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; run: cargo test -- --ignored"]
async fn a_sigkill_of_the_replica_inside_each_step_leaves_the_job_to_the_other_and_loses_nothing() {
    let mut c = Cluster::start().await;
    let sys_id = c.incident("INC0077100");
    let (snow, st) = (c.snow.faults().clone(), c.st.faults().clone());
    let ticket_path = format!("/api/now/table/incident/{sys_id}");

    // One job at a time here: every vendor call is about it.
    st.track_in_flight("psa/support_sessions");
    st.track_in_flight("logs/");
    let create = (&st, "POST", "psa/support_sessions");
    let link = (&snow, "PATCH", ticket_path.as_str());
    let poll = (&st, "GET", "psa/support_sessions/");
    let collect = (&st, "GET", "logs/sessions");
    let upload = (&snow, "POST", "/api/now/attachment/file");
    let summary = (&snow, "PATCH", ticket_path.as_str());

    // 1. queued: creating the vendor session
    arm(create.0, create.1, create.2);
    let id = c
        .hook(0, &hook_body(&sys_id, "INC0077100", "Service Desk"))
        .await["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut killed = vec![c.kill_inside(create, &id, Some(link)).await];
    // 2. session_created: writing the link note
    killed.push(c.kill_inside(link, &id, Some(poll)).await);
    // 3. waiting_for_end: a poll of the session
    killed.push(c.kill_inside(poll, &id, Some(collect)).await);
    // 4. collecting: reading the session log, once the session is over
    let code = c.job(&id).await["session"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(c.st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    killed.push(c.kill_inside(collect, &id, Some(upload)).await);
    // 5. attaching: uploading the first file
    killed.push(c.kill_inside(upload, &id, Some(summary)).await);
    // 6. still attaching: writing the summary note
    killed.push(c.kill_inside(summary, &id, None).await);

    let job = c.wait_for(&id, "done", 30).await;
    assert_eq!(c.notes(&sys_id, &id, "link"), 1, "one link note");
    assert_eq!(c.notes(&sys_id, &id, "summary"), 1, "one summary note");
    assert_eq!(c.snow.journal(&sys_id).len(), 2, "nothing else was written");
    assert_each_artifact_once(c.attachment_names(&sys_id), &code);
    assert_eq!(job["session"]["code"], code.as_str());
    c.assert_never_concurrent();
    // the history shows the lost leases' steps taken over, not a failure
    assert!(job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["step"] != "failed"));
    eprintln!("replicas killed, step by step: {killed:?}");
}
