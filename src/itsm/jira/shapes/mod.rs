//! Reading Jira's answers: the customer request, the platform issue, comment pages, attachment
//! objects and temporary-file receipts. Pure functions over `serde_json::Value`, so each is held
//! to the shipped fixtures in the tests below.

use super::assumed::ATTACHMENT_ID_LINKS;
use crate::itsm::RemoteAttachment;
use crate::ticket::{Person, Ticket};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn person(v: Option<&Value>) -> Option<Person> {
    let v = v.filter(|v| v.is_object())?;
    let p = Person {
        name: text(v, "displayName"),
        email: text(v, "emailAddress"),
    };
    (p.name.is_some() || p.email.is_some()).then_some(p)
}

/// What the JSM request read says about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RequestFacts {
    pub service_desk_id: String,
    pub request_type_id: String,
    /// From `expand=requestType`; `None` when the server did not expand it.
    pub request_type_name: Option<String>,
    /// From `expand=serviceDesk`.
    pub project_key: Option<String>,
    pub reporter: Option<Person>,
}

/// `GET /rest/servicedeskapi/request/{key}` → its facts, or the name of what is missing.
pub(super) fn request_facts(v: &Value) -> Result<RequestFacts, String> {
    let need = |k: &str| text(v, k).ok_or_else(|| format!("the request answer has no `{k}`"));
    Ok(RequestFacts {
        service_desk_id: need("serviceDeskId")?,
        request_type_id: need("requestTypeId")?,
        request_type_name: v.get("requestType").and_then(|t| text(t, "name")),
        project_key: v.get("serviceDesk").and_then(|d| text(d, "projectKey")),
        reporter: person(v.get("reporter")),
    })
}

/// The normalised ticket from the request facts and the platform issue (`fields` as asked).
pub(super) fn ticket(
    facts: &RequestFacts,
    request_type_name: Option<String>,
    issue: &Value,
) -> Ticket {
    let f = issue.get("fields").cloned().unwrap_or(Value::Null);
    let labels = f.get("labels").and_then(Value::as_array).map(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    });
    Ticket {
        number: text(issue, "key"),
        subject: text(&f, "summary"),
        queue: request_type_name.clone(),
        project: f
            .get("project")
            .and_then(|p| text(p, "key"))
            .or_else(|| facts.project_key.clone()),
        priority: f.get("priority").and_then(|p| text(p, "name")),
        // What the API read says is authoritative: no labels is an empty list, not "unknown".
        tags: Some(labels.unwrap_or_default()),
        requester: facts.reporter.clone().or_else(|| person(f.get("reporter"))),
        agent: person(f.get("assignee")),
        service_desk: Some(facts.service_desk_id.clone()),
        request_type: request_type_name,
        ..Ticket::default()
    }
}

/// A comment body as text: JSM bodies are strings (wiki markup); platform v3 bodies are ADF
/// documents, whose text nodes are joined.
pub(super) fn comment_text(c: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(t)) = o.get("text") {
                    out.push_str(t);
                }
                if let Some(children) = o.get("content") {
                    walk(children, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    match c.get("body") {
        Some(Value::String(s)) => s.clone(),
        Some(doc @ Value::Object(_)) => {
            let mut out = String::new();
            walk(doc, &mut out);
            out
        }
        _ => String::new(),
    }
}

/// One comment page: its comments' texts and whether it is the last.
pub(super) fn comment_page(v: &Value) -> Result<(Vec<String>, bool), String> {
    let values = v
        .get("values")
        .and_then(Value::as_array)
        .ok_or("the comment page has no `values` list")?;
    let last = v
        .get("isLastPage")
        .and_then(Value::as_bool)
        .ok_or("the comment page has no `isLastPage`")?;
    Ok((values.iter().map(comment_text).collect(), last))
}

/// The id in `.../attachment/10000`, `.../attachments/10000` or `.../attachment/10000/name.csv`.
fn id_from_link(link: &str) -> Option<String> {
    let path = link.split(['?', '#']).next()?;
    let mut segments = path.split('/');
    segments.find(|s| *s == "attachment" || *s == "attachments")?;
    let id = segments.next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// A platform `Attachment` (`id`, `filename`, `size`) or a JSM attachment (`filename`, `size`,
/// `_links`); the id comes from the links when the object has none.
pub(super) fn attachment(v: &Value) -> Option<RemoteAttachment> {
    let name = text(v, "filename")?;
    let links = std::iter::once(v.get("self")).chain(
        ATTACHMENT_ID_LINKS
            .iter()
            .map(|k| v.get("_links").and_then(|l| l.get(*k))),
    );
    let id = text(v, "id").or_else(|| {
        links
            .flatten()
            .filter_map(Value::as_str)
            .find_map(id_from_link)
    });
    Some(RemoteAttachment {
        id,
        name,
        size: v.get("size").and_then(Value::as_u64),
    })
}

/// `{"temporaryAttachments": [{"temporaryAttachmentId", "fileName"}]}` → (file name, id).
pub(super) fn temporary_ids(v: &Value) -> Result<Vec<(String, String)>, String> {
    let list = v
        .get("temporaryAttachments")
        .and_then(Value::as_array)
        .ok_or("the upload answer has no `temporaryAttachments` list")?;
    list.iter()
        .map(
            |t| match (text(t, "fileName"), text(t, "temporaryAttachmentId")) {
                (Some(n), Some(id)) => Ok((n, id)),
                _ => Err(format!(
                    "a temporary attachment lacks `fileName` or `temporaryAttachmentId`: {t}"
                )),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests;
