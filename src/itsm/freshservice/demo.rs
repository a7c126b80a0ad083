//! The Freshservice side of the demo: a ticket in the simulator, and the call the Workflow
//! Automator's "Trigger Webhook" action makes for it: the shipped template with its
//! placeholders filled in by the simulator, and the shared secret in `X-Deskbridge-Token`.

use crate::demo::{DemoTicket, ItsmSide, Starting};
use async_trait::async_trait;
use deskbridge_sim::freshservice::SimTicket;
use deskbridge_sim::FreshserviceSim;

const API_KEY: &str = "demo-freshservice-api-key";
const TOKEN: &str = "demo-freshservice-hook-token";

pub struct Side {
    sim: FreshserviceSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn ItsmSide> {
    Box::pin(async {
        Box::new(Side {
            sim: FreshserviceSim::start(API_KEY).await,
        }) as Box<dyn ItsmSide>
    })
}

#[async_trait]
impl ItsmSide for Side {
    fn title(&self) -> &'static str {
        "Freshservice"
    }

    fn config(&self, conn: &str) -> String {
        format!(
            "\n[[itsm]]\nid = \"{conn}\"\nkind = \"freshservice\"\nbase_url = \"{}\"\nauth = {{ type = \"api_key\", key = \"{API_KEY}\" }}\ninbound = {{ type = \"shared_header\", header = \"X-Deskbridge-Token\", secret = \"{TOKEN}\" }}\n",
            self.sim.base_url()
        )
    }

    async fn new_ticket(&self, subject: &str) -> DemoTicket {
        let id = self.sim.add_ticket(SimTicket {
            subject: subject.into(),
            ..SimTicket::default()
        });
        let body = self.sim.workflow_body(id).unwrap_or_default();
        let headers = vec![
            ("content-type".into(), "application/json".into()),
            ("X-Deskbridge-Token".into(), TOKEN.into()),
        ];
        DemoTicket {
            id: id.to_string(),
            headers,
            body: body.into_bytes(),
        }
    }

    fn show(&self, t: &DemoTicket) -> String {
        let id: u64 = t.id.parse().unwrap_or_default();
        let mut out = String::new();
        if let Some(v) = self.sim.ticket(id) {
            out.push_str(&format!("#{id} {}\n", v["subject"].as_str().unwrap_or("")));
        }
        let notes = self.sim.notes(id);
        out.push_str(&format!("conversations ({}):\n", notes.len()));
        for n in notes {
            let kind = if n.private {
                "private note"
            } else {
                "public note"
            };
            out.push_str(&format!(
                "  [{kind}] {}\n",
                n.body_text.replace('\n', "\n      ")
            ));
        }
        let files = self.sim.attachments(id);
        out.push_str(&format!("attachments ({}):\n", files.len()));
        for f in files {
            out.push_str(&format!("  {} ({} bytes)\n", f.name, f.bytes.len()));
        }
        out
    }
}
