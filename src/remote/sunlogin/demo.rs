//! The Sunlogin side of the demo: the simulator, and the agent's part of an attended session.
//!
//! Sunlogin has no session API, so after deskbridge posts its instructions the demo plays the
//! agent connecting from the seat the note names, to the end user's device, a moment after the
//! note, moving two files and disconnecting: exactly the remote-log row, file transfers and
//! seat-log lines the real service records, which deskbridge then finds and attaches.

use crate::demo::{Starting, VendorSide};
use async_trait::async_trait;
use deskbridge_sim::SunloginSim;
use std::time::Duration;

const APP_KEY: &str = "demo-appkey";
const APP_SECRET: &str = "demo-sunlogin-app-secret";
const ACCOUNT: &str = "it-admin@acme.example";
const PASSWORD: &str = "demo-sunlogin-password";

pub struct Side {
    sim: SunloginSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn VendorSide> {
    Box::pin(async {
        let sim = SunloginSim::start(APP_KEY, APP_SECRET, ACCOUNT, PASSWORD).await;
        // Short-lived AccessTokens, so the demo also shows a renewal.
        sim.set_access_ttl(Duration::from_secs(2));
        Box::new(Side { sim }) as Box<dyn VendorSide>
    })
}

#[async_trait]
impl VendorSide for Side {
    fn title(&self) -> &'static str {
        "Sunlogin 向日葵"
    }

    fn config(&self, id: &str) -> String {
        format!(
            "\n[[vendor]]\nid = \"{id}\"\nkind = \"sunlogin\"\nbase_url = \"{}\"\nauth = {{ type = \"sunlogin\", app_key = \"{APP_KEY}\", app_secret = \"{APP_SECRET}\", account = \"{ACCOUNT}\", password = \"{PASSWORD}\" }}\npoll = {{ every = \"100ms\", max_every = \"500ms\", give_up_after = \"1h\" }}\n",
            self.sim.base_url()
        )
    }

    async fn finish_session(&self, job: &crate::job::Job) -> Result<(), String> {
        let session = job.session.as_ref().ok_or("the job has no session")?;
        let seat = session
            .seat
            .clone()
            .ok_or("the instructions name no seat")?;
        let device = job
            .ticket_read
            .as_ref()
            .and_then(|t| t.device.clone())
            .unwrap_or_else(|| "JANE-PC".into());
        // The end user reads out the 识别码; the agent connects after the note was posted.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let log_id = self.sim.start_session(&seat, &device, "123 456 789");
        println!("agent {seat} connected to {device} (Sunlogin remote log {log_id})");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let files = [
            ("outlook-diag.zip", 48_213, "download"),
            ("fix-profile.ps1", 2_048, "upload"),
        ];
        if self.sim.end_session(&log_id, &files) {
            Ok(())
        } else {
            Err(format!("the simulator has no remote log {log_id}"))
        }
    }
}
