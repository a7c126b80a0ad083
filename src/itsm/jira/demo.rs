//! The Jira Service Management side of the demo: a customer request in the simulator and the
//! "Start remote session" Automation rule's web request (Jira-format issue data, shared-secret
//! header), as a Cloud site would send it.

use crate::demo::{DemoTicket, ItsmSide, Starting};
use async_trait::async_trait;
use deskbridge_sim::{JiraSim, SimIssue};

const EMAIL: &str = "deskbridge@acme.example";
const API_TOKEN: &str = "demo-jira-api-token";
const SECRET: &str = "demo-jira-automation-secret";

pub struct Side {
    sim: JiraSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn ItsmSide> {
    Box::pin(async {
        Box::new(Side {
            sim: JiraSim::start(EMAIL, API_TOKEN).await,
        }) as Box<dyn ItsmSide>
    })
}

#[async_trait]
impl ItsmSide for Side {
    fn title(&self) -> &'static str {
        "Jira Service Management"
    }

    fn config(&self, conn: &str) -> String {
        format!(
            "\n[[itsm]]\nid = \"{conn}\"\nkind = \"jira\"\nbase_url = \"{}\"\nauth = {{ type = \"api_token\", email = \"{EMAIL}\", token = \"{API_TOKEN}\" }}\ninbound = {{ type = \"shared_header\", header = \"X-Deskbridge-Token\", secret = \"{SECRET}\" }}\n",
            self.sim.base_url()
        )
    }

    async fn new_ticket(&self, subject: &str) -> DemoTicket {
        let key = self.sim.add_issue(SimIssue {
            summary: subject.into(),
            labels: vec!["vpn".into()],
            ..SimIssue::default()
        });
        let body = self.sim.automation_body(&key).unwrap_or_default();
        let headers = vec![
            ("content-type".into(), "application/json".into()),
            ("x-deskbridge-token".into(), SECRET.into()),
        ];
        DemoTicket {
            id: key,
            headers,
            body,
        }
    }

    fn show(&self, t: &DemoTicket) -> String {
        let mut out = format!("{} (labels: {})\n", t.id, self.sim.labels(&t.id).join(", "));
        let comments = self.sim.comments(&t.id);
        out.push_str(&format!("comments ({}):\n", comments.len()));
        for c in comments {
            let who = if c.public { "public" } else { "internal" };
            out.push_str(&format!("  [{who}] {}\n", c.body.replace('\n', "\n      ")));
        }
        let files = self.sim.attachments(&t.id);
        out.push_str(&format!("attachments ({}):\n", files.len()));
        for a in files {
            let who = if a.public { "public" } else { "internal" };
            out.push_str(&format!(
                "  {} ({} bytes, {who})\n",
                a.file_name,
                a.bytes.len()
            ));
        }
        out
    }
}
