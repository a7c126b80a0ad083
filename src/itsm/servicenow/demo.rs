//! The ServiceNow side of the demo: an incident in the simulator and the UI Action's signed call.

use crate::demo::{DemoTicket, ItsmSide, Starting};
use async_trait::async_trait;
use deskbridge_sim::{ServiceNowSim, SimIncident};

const SECRET: &str = "demo-servicenow-hook-secret";

pub struct Side {
    sim: ServiceNowSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn ItsmSide> {
    Box::pin(async {
        Box::new(Side {
            sim: ServiceNowSim::start("deskbridge", "demo-password").await,
        }) as Box<dyn ItsmSide>
    })
}

#[async_trait]
impl ItsmSide for Side {
    fn title(&self) -> &'static str {
        "ServiceNow"
    }

    fn config(&self, conn: &str) -> String {
        format!(
            "\n[[itsm]]\nid = \"{conn}\"\nkind = \"servicenow\"\nbase_url = \"{}\"\nauth = {{ type = \"basic\", username = \"deskbridge\", password = \"demo-password\" }}\ninbound = {{ type = \"hmac\", secret = \"{SECRET}\" }}\n",
            self.sim.base_url()
        )
    }

    async fn new_ticket(&self, subject: &str) -> DemoTicket {
        let number = format!("INC{:07}", rand::random::<u32>() % 10_000_000);
        let sys_id = self.sim.add_incident(SimIncident {
            number: number.clone(),
            short_description: subject.into(),
            ..SimIncident::default()
        });
        let body = serde_json::json!({
            "event_id": uuid::Uuid::new_v4().to_string(), "table": "incident", "sys_id": sys_id, "number": number,
            "assignment_group": {"value": "", "display_value": "Service Desk"}, "priority": "3", "category": "software",
            "short_description": subject, "caller": {"name": "Jane Doe", "email": "jane@acme.example"},
            "requested_by": {"user_name": "beth.anglin", "email": "beth@acme.example"},
        })
        .to_string()
        .into_bytes();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let mut headers: Vec<(String, String)> =
            deskbridge_sim::servicenow::sign_ui_action(SECRET, &body, now)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        headers.push(("content-type".into(), "application/json".into()));
        DemoTicket {
            id: sys_id,
            headers,
            body,
        }
    }

    fn show(&self, t: &DemoTicket) -> String {
        let mut out = String::new();
        if let Some(rec) = self.sim.incident(&t.id) {
            out.push_str(&format!(
                "{} {}\n",
                rec["number"].as_str().unwrap_or(""),
                rec["short_description"].as_str().unwrap_or("")
            ));
        }
        let journal = self.sim.journal(&t.id);
        out.push_str(&format!("journal ({} entries):\n", journal.len()));
        for e in journal {
            out.push_str(&format!(
                "  [{}] {}\n",
                e.element,
                e.value.replace('\n', "\n      ")
            ));
        }
        let files = self.sim.attachments(&t.id);
        out.push_str(&format!("attachments ({}):\n", files.len()));
        for a in files {
            out.push_str(&format!("  {} ({} bytes)\n", a.file_name, a.bytes.len()));
        }
        out
    }
}
