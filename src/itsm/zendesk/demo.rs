//! The Zendesk side of the demo: a ticket in the simulator, and the webhook its "Start remote
//! session" macro and the shipped trigger send, signed with the webhook's secret and carrying
//! the account id the connection checks.

use crate::demo::{DemoTicket, ItsmSide, Starting};
use async_trait::async_trait;
use deskbridge_sim::zendesk::SimTicket;
use deskbridge_sim::ZendeskSim;

const EMAIL: &str = "deskbridge@acme.example";
const TOKEN: &str = "demo-zendesk-api-token";
const SECRET: &str = "demo-zendesk-signing-secret";

pub struct Side {
    sim: ZendeskSim,
}

/// Start the simulator: the registry entry's `demo`.
pub fn start() -> Starting<dyn ItsmSide> {
    Box::pin(async {
        let sim = ZendeskSim::start(EMAIL, TOKEN).await;
        sim.connect_webhook(SECRET);
        Box::new(Side { sim }) as Box<dyn ItsmSide>
    })
}

#[async_trait]
impl ItsmSide for Side {
    fn title(&self) -> &'static str {
        "Zendesk"
    }

    fn config(&self, conn: &str) -> String {
        format!(
            "\n[[itsm]]\nid = \"{conn}\"\nkind = \"zendesk\"\nbase_url = \"{}\"\naccount_id = \"{}\"\n\
             auth = {{ type = \"api_token\", email = \"{EMAIL}\", token = \"{TOKEN}\" }}\n\
             inbound = {{ type = \"zendesk_signature\", secret = \"{SECRET}\" }}\n",
            self.sim.base_url(),
            self.sim.account_id()
        )
    }

    async fn new_ticket(&self, subject: &str) -> DemoTicket {
        let id = self.sim.add_ticket(SimTicket {
            subject: subject.into(),
            ..SimTicket::default()
        });
        let hook = self
            .sim
            .click_start_remote_session(id, "beth@acme.example")
            .expect("the ticket was just created");
        DemoTicket {
            id: id.to_string(),
            headers: hook.headers,
            body: hook.body,
        }
    }

    fn show(&self, t: &DemoTicket) -> String {
        let id: u64 = t.id.parse().unwrap_or_default();
        let mut out = String::new();
        if let Some(ticket) = self.sim.ticket(id) {
            out.push_str(&format!(
                "#{id} {}\n",
                ticket["subject"].as_str().unwrap_or("")
            ));
        }
        let comments = self.sim.comments(id);
        out.push_str(&format!("comments ({}):\n", comments.len()));
        for c in &comments {
            let kind = if c.public { "public" } else { "internal" };
            out.push_str(&format!(
                "  [{kind}] {}\n",
                c.plain_body.replace('\n', "\n      ")
            ));
            for a in &c.attachments {
                out.push_str(&format!(
                    "      + {} ({} bytes)\n",
                    a.file_name,
                    a.bytes.len()
                ));
            }
        }
        out
    }
}
