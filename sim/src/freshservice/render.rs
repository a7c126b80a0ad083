//! The simulator's records as Freshservice's JSON: the ticket as in the shipped "View a Ticket"
//! fixture (plus `workspace_id`, and `tags`/`requester` when `include` asks), groups,
//! requesters, agents and conversations as the v2 API names their fields.

use serde_json::{json, Value};

use super::{FsData, NoteRec, PersonRec, SimFile, TicketRec};

/// The body an admin pastes into the Workflow Automator's "Trigger Webhook" action: read from
/// the integration guide's file (`integrations/freshservice/webhook-body.json`, which
/// `workflow.md` says to paste unchanged), not from the product, so the simulator sends what an
/// installed workflow sends whatever the product expects.
const WORKFLOW_BODY: &str = include_str!("../../../integrations/freshservice/webhook-body.json");

/// Freshservice's timestamp format, UTC.
pub(super) fn now() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    crate::now_utc().format(&fmt).unwrap_or_default()
}

/// "beth.anglin@acme.example" → "Beth Anglin".
pub(super) fn name_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let words: Vec<String> = local
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect();
    words.join(" ")
}

pub(super) fn content_type(name: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => "text/csv",
        "txt" => "text/plain",
        "json" => "application/json",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
    .into()
}

/// An attachment as it appears in a ticket's or conversation's `attachments`.
pub(super) fn file(f: &SimFile, base_url: &str, at: &str) -> Value {
    json!({
        "id": f.id,
        "content_type": f.content_type,
        "size": f.bytes.len(),
        "name": f.name,
        "attachment_url": format!("{base_url}/helpdesk/attachments/{}", f.id),
        "created_at": at,
        "updated_at": at,
    })
}

/// A person under /requesters (`primary_email`) or /agents (`email`).
pub(super) fn person(p: &PersonRec, agent: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "active": true,
        "job_title": null,
        "department_ids": [],
        "location_id": null,
        "time_zone": "Eastern Time (US & Canada)",
        "language": "en",
        "created_at": "2024-01-02T09:00:00Z",
        "updated_at": "2024-01-02T09:00:00Z",
    });
    if agent {
        v["email"] = p.email.clone().into();
        v["occasional"] = false.into();
    } else {
        v["primary_email"] = p.email.clone().into();
        v["secondary_emails"] = json!([]);
    }
    v
}

/// `GET /api/v2/tickets/{id}`'s `ticket`; `tags` only when `include=tags` asked for them.
pub(super) fn ticket(t: &TicketRec, base_url: &str, with_tags: bool) -> Value {
    let desc = format!("<div>{}</div>", super::html::escape(&t.t.subject));
    let files: Vec<Value> = t
        .files
        .iter()
        .map(|f| file(f, base_url, &t.created_at))
        .collect();
    let mut v = json!({
        "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [],
        "fr_escalated": false, "spam": false, "email_config_id": null,
        "group_id": t.group_id,
        "priority": t.t.priority,
        "requester_id": t.requester_id,
        "requested_for_id": t.requester_id,
        "responder_id": t.responder_id,
        "source": 2, "status": 2,
        "subject": t.t.subject,
        "to_emails": null, "sla_policy_id": 1000000029, "department_id": null,
        "id": t.id,
        "type": t.t.ticket_type,
        "due_by": t.created_at, "fr_due_by": t.created_at, "is_escalated": false,
        "description": desc,
        "description_text": t.t.subject,
        "custom_fields": {},
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "urgency": 1, "impact": 1,
        "category": t.t.category, "sub_category": null, "item_category": null,
        "deleted": false,
        "workspace_id": t.t.workspace_id,
        "attachments": files,
    });
    if with_tags {
        v["tags"] = json!(t.t.tags);
    }
    v
}

/// The embedded `requester` of `include=requester`.
pub(super) fn embedded_requester(d: &FsData, t: &TicketRec) -> Value {
    let p = d
        .requesters
        .get(&t.requester_id)
        .or_else(|| d.agents.get(&t.requester_id));
    match p {
        Some(p) => json!({
            "id": p.id,
            "name": format!("{} {}", p.first_name, p.last_name).trim(),
            "email": p.email,
            "mobile": null,
            "phone": null,
        }),
        None => Value::Null,
    }
}

/// A conversation as the list and the note creation answer it.
pub(super) fn conversation(n: &NoteRec, user_id: u64, base_url: &str) -> Value {
    let files: Vec<Value> = n
        .note
        .attachments
        .iter()
        .map(|f| file(f, base_url, &n.created_at))
        .collect();
    json!({
        "id": n.note.id,
        "user_id": user_id,
        "to_emails": [],
        "from_email": null,
        "cc_emails": [],
        "bcc_emails": null,
        "body": n.note.body,
        "body_text": n.note.body_text,
        "ticket_id": n.ticket_id,
        "created_at": n.created_at,
        "updated_at": n.created_at,
        "incoming": n.incoming,
        "private": n.note.private,
        "support_email": null,
        "source": if n.incoming { 0 } else { 2 },
        "attachments": files,
    })
}

/// The shipped webhook template as the Workflow Automator fills it for `t`.
pub(super) fn workflow_body(t: &TicketRec) -> String {
    workflow_body_from(WORKFLOW_BODY, t)
}

/// A webhook body `template` as the Workflow Automator fills it for `t`: each placeholder
/// JSON-escaped, the priority as its label.
pub(super) fn workflow_body_from(template: &str, t: &TicketRec) -> String {
    const LABELS: [&str; 4] = ["Low", "Medium", "High", "Urgent"];
    let priority = LABELS
        .get(usize::from(t.t.priority.max(1)) - 1)
        .copied()
        .unwrap_or("");
    let values = [
        // Freshservice's two id placeholders: the number, and the display id with its prefix.
        ("ticket.id_numeric", t.id.to_string()),
        ("ticket.id", format!("#INC-{}", t.id)),
        ("ticket.subject", t.t.subject.clone()),
        ("ticket.priority", priority.to_string()),
        ("ticket.group_name", t.t.group.clone().unwrap_or_default()),
        (
            "ticket.workspace_id",
            t.t.workspace_id.map(|w| w.to_string()).unwrap_or_default(),
        ),
        ("ticket.requester.name", t.t.requester_name.clone()),
        ("ticket.requester.email", t.t.requester_email.clone()),
        (
            "ticket.agent.email",
            t.t.agent_email.clone().unwrap_or_default(),
        ),
        ("ticket.updated_at", t.updated_at.clone()),
    ];
    let mut body = template.to_string();
    for (placeholder, value) in values {
        let quoted = serde_json::to_string(&value).unwrap_or_default();
        body = body.replace(
            &format!("{{{{{placeholder}}}}}"),
            &quoted[1..quoted.len() - 1],
        );
    }
    body
}
