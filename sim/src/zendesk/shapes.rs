//! The simulator's records as the Zendesk API shows them (the shapes of
//! `fixtures/zendesk-ticket-create-response.json` and `fixtures/zendesk-upload-response.json`).

use serde_json::{json, Value};

use super::state::{SimComment, SimFile, TicketRec, UserRec};

pub(super) fn ticket(t: &TicketRec, base: &str) -> Value {
    json!({
        "id": t.id,
        "url": format!("{base}/api/v2/tickets/{}.json", t.id),
        "external_id": null,
        "type": t.ticket_type,
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": t.description,
        "priority": t.priority,
        "status": t.status,
        "recipient": null,
        "requester_id": t.requester_id,
        "submitter_id": t.requester_id,
        "assignee_id": t.assignee_id,
        "organization_id": null,
        "group_id": t.group_id,
        "brand_id": t.brand_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "has_incidents": false,
        "is_public": true,
        "due_at": null,
        "tags": t.tags,
        "custom_fields": [],
        "via": {"channel": "web"},
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

pub(super) fn attachment(f: &SimFile, base: &str) -> Value {
    json!({
        "url": format!("{base}/api/v2/attachments/{}.json", f.id),
        "id": f.id,
        "file_name": f.file_name,
        "content_url": format!("{base}/attachments/token/{}/?name={}", f.id, f.file_name),
        "content_type": f.content_type,
        "size": f.bytes.len(),
        "inline": false,
        "deleted": false,
        "thumbnails": [],
    })
}

pub(super) fn comment(c: &SimComment, base: &str) -> Value {
    json!({
        "id": c.id,
        "type": "Comment",
        "author_id": c.author_id,
        "body": c.body,
        "html_body": c.html_body,
        "plain_body": c.plain_body,
        "public": c.public,
        "attachments": c.attachments.iter().map(|a| attachment(a, base)).collect::<Vec<_>>(),
        "via": {"channel": "api"},
        "metadata": {"system": {}},
        "created_at": c.created_at,
    })
}

pub(super) fn user(u: &UserRec, base: &str) -> Value {
    json!({
        "id": u.id,
        "url": format!("{base}/api/v2/users/{}.json", u.id),
        "name": u.name,
        "email": u.email,
        "role": u.role,
        "active": true,
        "verified": true,
        "time_zone": "UTC",
    })
}

/// A group or a brand: both are an id and a name here.
pub(super) fn named(kind: &str, id: u64, name: &str, base: &str) -> Value {
    let mut v = json!({
        "id": id,
        "url": format!("{base}/api/v2/{kind}s/{id}.json"),
        "name": name,
        "deleted": false,
    });
    if kind == "brand" {
        v["active"] = true.into();
        v["subdomain"] = name.to_lowercase().replace(' ', "-").into();
    }
    v
}
