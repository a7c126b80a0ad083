//! The Splashtop side of the demo: the simulator, and ending a session with log rows, file
//! transfers and chat lines as a real session would leave them.

use crate::demo::{Starting, VendorSide};
use async_trait::async_trait;
use deskbridge_sim::{SessionEnd, SplashtopSim};

pub struct Side {
    sim: SplashtopSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn VendorSide> {
    Box::pin(async {
        let sim = SplashtopSim::start("demo-splashtop-token").await;
        sim.set_transcripts_enabled(true);
        Box::new(Side { sim }) as Box<dyn VendorSide>
    })
}

#[async_trait]
impl VendorSide for Side {
    fn title(&self) -> &'static str {
        "Splashtop"
    }

    fn config(&self, id: &str) -> String {
        format!(
            "\n[[vendor]]\nid = \"{id}\"\nkind = \"splashtop\"\nbase_url = \"{}\"\nportal_url = \"{}\"\nauth = {{ type = \"bearer\", token = \"demo-splashtop-token\" }}\npoll = {{ every = \"100ms\", max_every = \"500ms\", give_up_after = \"1h\" }}\n",
            self.sim.base_url(),
            self.sim.portal_url()
        )
    }

    async fn finish_session(&self, job: &crate::job::Job) -> Result<(), String> {
        let code = job
            .session
            .as_ref()
            .map(|s| s.code.clone())
            .ok_or("the job has no session")?;
        self.sim.mark_active(&code);
        if self.sim.end_session(&code, SessionEnd::sample(3, 2, 12)) {
            Ok(())
        } else {
            Err(format!("the simulator has no session {code}"))
        }
    }
}
