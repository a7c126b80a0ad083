//! `deskbridge demo`: every ticket system and vendor on one machine. Starts the simulators and
//! deskbridge (port 0, a temporary data directory), then for each ticket system: creates a
//! ticket, sends the webhook its system would send, plays the end user and technician on the
//! vendor side, and prints the ticket before and after. Exits 0 when every flow is done.
//!
//! Each system contributes a "side" in its own folder (`src/itsm/<system>/demo.rs`,
//! `src/remote/<vendor>/demo.rs`), found through the registries: an [`ItsmSide`] knows how to
//! make a ticket in its simulator, what its webhook looks like, and how to show the ticket; a
//! [`VendorSide`] knows how to end a session in its simulator. Every ticket system runs with
//! the first vendor, and every other vendor with the first ticket system.

use crate::app::App;
use crate::ids::JobId;
use crate::itsm::registry::SYSTEMS;
use crate::job::JobState;
use crate::remote::registry::VENDORS;
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A side being started: what a registry entry's `demo` returns.
pub type Starting<D> = Pin<Box<dyn Future<Output = Box<D>> + Send>>;

/// A ticket created in a simulator, and the webhook that asks for its session.
pub struct DemoTicket {
    /// The simulator's id for it.
    pub id: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait ItsmSide: Send + Sync {
    fn title(&self) -> &'static str;
    /// The `[[itsm]]` block for this simulator, with `id = conn`.
    fn config(&self, conn: &str) -> String;
    async fn new_ticket(&self, subject: &str) -> DemoTicket;
    /// The ticket as an agent would see it: notes and attachments.
    fn show(&self, ticket: &DemoTicket) -> String;
}

#[async_trait]
pub trait VendorSide: Send + Sync {
    fn title(&self) -> &'static str;
    /// The `[[vendor]]` block, with `id = id`.
    fn config(&self, id: &str) -> String;
    /// Play the end user and the technician until the session the job created is over.
    async fn finish_session(&self, job: &crate::job::Job) -> Result<(), String>;
}

struct Flow {
    conn: String,
    vendor: usize,
    itsm: Box<dyn ItsmSide>,
}

/// The flows the registries make: each ticket system with the first vendor, then each other
/// vendor with (another instance of) the first ticket system.
async fn flows() -> (Vec<(&'static str, Box<dyn VendorSide>)>, Vec<Flow>) {
    let mut vendors = vec![];
    for v in VENDORS {
        vendors.push((v.name, (v.demo)().await));
    }
    let mut flows = vec![];
    for s in SYSTEMS {
        flows.push(Flow {
            conn: s.name.to_string(),
            vendor: 0,
            itsm: (s.demo)().await,
        });
    }
    if let Some(first) = SYSTEMS.first() {
        for (i, (name, _)) in vendors.iter().enumerate().skip(1) {
            flows.push(Flow {
                conn: format!("{}-{name}", first.name),
                vendor: i,
                itsm: (first.demo)().await,
            });
        }
    }
    (vendors, flows)
}

pub async fn run() -> Result<(), String> {
    let (vendors, flows) = flows().await;
    let dir = std::env::temp_dir().join(format!("deskbridge-demo-{}", uuid::Uuid::new_v4()));
    let mut config = format!(
        "[server]\ndata_dir = {:?}\nadmin_token = \"demo-admin\"\n[worker]\ntick = \"50ms\"\nretry = {{ base = \"100ms\", max = \"1s\", link_budget = \"10s\", artifacts_budget = \"10s\" }}\n",
        dir.join("data").display().to_string()
    );
    for (name, side) in &vendors {
        config.push_str(&side.config(name));
    }
    for f in &flows {
        let vendor = vendors[f.vendor].0;
        config.push_str(&f.itsm.config(&f.conn));
        config.push_str(&format!(
            "\n[[rule]]\nname = \"{} to {vendor}\"\nconnection = \"{}\"\nvendor = \"{vendor}\"\n",
            f.conn, f.conn
        ));
    }
    let cfg = crate::config::load_str(&config, "<demo>").map_err(|e| e.to_string())?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let app = App::build(cfg, listener).await.map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    let stop = tokio_util::sync::CancellationToken::new();
    let s = stop.clone();
    let server = tokio::spawn(app.run_until_stopped(async move { s.cancelled().await }));
    let client = reqwest::Client::new();

    let mut failed = vec![];
    for f in &flows {
        let vendor = vendors[f.vendor].1.as_ref();
        println!("\n=== {} + {} ===", f.itsm.title(), vendor.title());
        match one_flow(f, vendor, &client, &base, &store).await {
            Ok(()) => println!("--> done"),
            Err(e) => {
                println!("--> FAILED: {e}");
                failed.push(f.conn.clone());
            }
        }
    }
    stop.cancel();
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    if failed.is_empty() {
        println!(
            "\nevery flow completed ({} of {})",
            flows.len(),
            flows.len()
        );
        Ok(())
    } else {
        Err(format!(
            "flows that did not complete: {}",
            failed.join(", ")
        ))
    }
}

async fn one_flow(
    f: &Flow,
    vendor: &dyn VendorSide,
    client: &reqwest::Client,
    base: &str,
    store: &crate::store::Store,
) -> Result<(), String> {
    let ticket = f
        .itsm
        .new_ticket("Outlook crashes when opening <attachments> [code]")
        .await;
    println!("--- ticket before ---\n{}", f.itsm.show(&ticket));
    let mut req = client
        .post(format!("{base}/hooks/{}", f.conn))
        .body(ticket.body.clone());
    for (k, v) in &ticket.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    println!("webhook answered {status}: {answer}");
    let id = answer["job_id"]
        .as_str()
        .and_then(JobId::parse)
        .ok_or_else(|| format!("no job id in {answer}"))?;
    let job = wait(store, &id, JobState::WaitingForEnd).await?;
    println!(
        "link note posted; session {}",
        job.session.as_ref().map(|s| s.code.as_str()).unwrap_or("?")
    );
    vendor.finish_session(&job).await?;
    wait(store, &id, JobState::Done).await?;
    println!("--- ticket after ---\n{}", f.itsm.show(&ticket));
    Ok(())
}

async fn wait(
    store: &crate::store::Store,
    id: &JobId,
    state: JobState,
) -> Result<crate::job::Job, String> {
    for _ in 0..400 {
        if let Ok(Some(job)) = store.get(id).await {
            if job.state() == state {
                return Ok(job);
            }
            if job.state().is_terminal() {
                return Err(format!(
                    "job ended {} instead: {}",
                    job.state().as_str(),
                    job.error().unwrap_or_default()
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("job did not reach {} within 20 s", state.as_str()))
}
