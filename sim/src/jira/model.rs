//! What the Jira simulator stores (issues, service desks, request types, comments, temporary
//! files, attachments) and how each is rendered in Jira's own JSON shapes: the JSM DTOs
//! (`DateDTO`, `UserDTO`, `CommentDTO`, `RequestTypeDTO`, ...) and the platform issue.

use serde_json::{json, Map, Value};
use std::time::Instant;

/// The account deskbridge's credentials belong to; the author of everything it writes.
#[derive(Debug, Clone)]
pub(super) struct Account {
    pub account_id: String,
    pub display_name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub(super) struct Desk {
    pub id: String,
    pub project_id: String,
    pub project_key: String,
    pub project_name: String,
}

#[derive(Debug, Clone)]
pub(super) struct RequestType {
    pub id: String,
    pub name: String,
    pub desk_id: String,
}

#[derive(Debug, Clone)]
pub(super) struct Person {
    pub account_id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub(super) struct Issue {
    pub id: String,
    pub key: String,
    pub desk_id: String,
    pub request_type_id: String,
    pub summary: String,
    pub priority: String,
    pub labels: Vec<String>,
    pub reporter: Person,
    pub assignee: Option<Person>,
    pub status: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Comment {
    pub id: String,
    pub issue_id: String,
    pub body: String,
    pub public: bool,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub(super) struct TempFile {
    pub desk_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: bytes::Bytes,
    pub at: Instant,
}

#[derive(Debug, Clone)]
pub(super) struct Attachment {
    pub id: String,
    pub issue_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: bytes::Bytes,
    pub public: bool,
    pub created_ms: i64,
}

pub(super) fn now_ms() -> i64 {
    (super::super::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn at(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Jira's own timestamp format: `2017-01-30T18:30:41.962+0000`.
pub(super) fn jira_time(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    at(ms).format(&f).unwrap_or_default()
}

/// JSM `DateDTO`.
pub(super) fn date_dto(ms: i64) -> Value {
    let iso =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000");
    let friendly = time::macros::format_description!(
        "[day]/[month repr:short]/[year repr:last_two] [hour repr:12]:[minute] [period]"
    );
    let t = at(ms);
    json!({
        "iso8601": t.format(&iso).unwrap_or_default(),
        "jira": jira_time(ms),
        "friendly": t.format(&friendly).unwrap_or_default(),
        "epochMillis": ms,
    })
}

/// JSM `UserDTO`.
pub(super) fn user_dto(base: &str, account_id: &str, name: &str, email: &str) -> Value {
    json!({
        "accountId": account_id,
        "emailAddress": email,
        "displayName": name,
        "active": true,
        "timeZone": "Etc/UTC",
        "_links": {
            "jiraRest": format!("{base}/rest/api/2/user?accountId={account_id}"),
            "avatarUrls": {"48x48": format!("{base}/secure/useravatar?size=large&ownerId={account_id}")},
            "self": format!("{base}/rest/api/2/user?accountId={account_id}"),
        },
    })
}

/// Platform user (webhook `user`, issue `reporter`/`assignee`).
pub(super) fn platform_user(base: &str, p: &Person) -> Value {
    json!({
        "self": format!("{base}/rest/api/2/user?accountId={}", p.account_id),
        "accountId": p.account_id,
        "emailAddress": p.email,
        "displayName": p.name,
        "active": true,
        "timeZone": "Etc/UTC",
        "accountType": "atlassian",
    })
}

impl Desk {
    pub fn dto(&self, base: &str) -> Value {
        json!({
            "id": self.id, "projectId": self.project_id, "projectName": self.project_name, "projectKey": self.project_key,
            "_links": {"self": format!("{base}/rest/servicedeskapi/servicedesk/{}", self.id)},
        })
    }
}

impl RequestType {
    pub fn dto(&self, base: &str) -> Value {
        json!({
            "_expands": ["field"],
            "id": self.id,
            "_links": {"self": format!("{base}/rest/servicedeskapi/servicedesk/{}/requesttype/{}", self.desk_id, self.id)},
            "name": self.name,
            "description": format!("{} requests", self.name),
            "helpText": "",
            "issueTypeId": "10004",
            "serviceDeskId": self.desk_id,
            "portalId": self.desk_id,
            "groupIds": ["1"],
            "icon": {"id": "10527", "_links": {"iconUrls": {}}},
        })
    }
}

impl Comment {
    pub fn dto(&self, base: &str, author: &Account) -> Value {
        json!({
            "_expands": ["attachment", "renderedBody"],
            "id": self.id,
            "body": self.body,
            "public": self.public,
            "author": user_dto(base, &author.account_id, &author.display_name, &author.email),
            "created": date_dto(self.created_ms),
            "_links": {"self": format!("{base}/rest/servicedeskapi/request/{}/comment/{}", self.issue_id, self.id)},
        })
    }
}

impl Attachment {
    /// Platform `Attachment` (issue `fields.attachment[]`).
    pub fn platform(&self, base: &str, author: &Account) -> Value {
        json!({
            "self": format!("{base}/rest/api/2/attachment/{}", self.id),
            "id": self.id,
            "filename": self.file_name,
            "author": {"accountId": author.account_id, "displayName": author.display_name, "active": true},
            "created": jira_time(self.created_ms),
            "size": self.bytes.len(),
            "mimeType": self.mime_type,
            "content": format!("{base}/rest/api/2/attachment/content/{}", self.id),
        })
    }

    /// JSM `AttachmentDTO`: no `id`, only links.
    pub fn jsm(&self, base: &str, author: &Account) -> Value {
        json!({
            "filename": self.file_name,
            "author": user_dto(base, &author.account_id, &author.display_name, &author.email),
            "created": date_dto(self.created_ms),
            "size": self.bytes.len(),
            "mimeType": self.mime_type,
            "_links": {
                "jiraRest": format!("{base}/rest/api/2/attachment/{}", self.id),
                "content": format!("{base}/servicedesk/customershim/secure/attachment/{}/{}", self.id, self.file_name),
            },
        })
    }
}

/// The platform issue with every field Jira would return; `fields` filters them like the
/// `fields` query parameter (`None` = all).
pub(super) fn issue_json(
    base: &str,
    i: &Issue,
    desk: &Desk,
    attachments: Vec<Value>,
    fields: Option<&[&str]>,
) -> Value {
    let mut all = Map::new();
    all.insert("summary".into(), i.summary.clone().into());
    all.insert(
        "priority".into(),
        json!({"self": format!("{base}/rest/api/2/priority/3"), "name": i.priority, "id": "3"}),
    );
    all.insert("labels".into(), json!(i.labels));
    all.insert("reporter".into(), platform_user(base, &i.reporter));
    all.insert(
        "assignee".into(),
        i.assignee
            .as_ref()
            .map(|a| platform_user(base, a))
            .unwrap_or(Value::Null),
    );
    all.insert(
        "project".into(),
        json!({"self": format!("{base}/rest/api/2/project/{}", desk.project_id), "id": desk.project_id, "key": desk.project_key, "name": desk.project_name, "projectTypeKey": "service_desk"}),
    );
    all.insert(
        "issuetype".into(),
        json!({"id": "10004", "name": "[System] Service request", "subtask": false}),
    );
    all.insert("status".into(), json!({"name": i.status, "id": "10001"}));
    all.insert("created".into(), jira_time(i.created_ms).into());
    all.insert("updated".into(), jira_time(i.created_ms).into());
    all.insert("attachment".into(), Value::Array(attachments));
    let fields: Map<String, Value> = match fields {
        None => all,
        Some(want) => all
            .into_iter()
            .filter(|(k, _)| want.contains(&k.as_str()))
            .collect(),
    };
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": i.id,
        "self": format!("{base}/rest/api/2/issue/{}", i.id),
        "key": i.key,
        "fields": fields,
    })
}
