//! The simulated ServiceNow record model: typed fields (plain, choice, reference) and their JSON
//! rendering under `sysparm_display_value` (`false` | `true` | `all`),
//! `sysparm_exclude_reference_link` and `sysparm_fields` (with dot-walking such as
//! `caller_id.email`), as the Table API answers them. Journal rows and attachment metadata are
//! records too, so every list route filters, pages and renders the same way.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::SimIncident;

/// Which representation of each field the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DisplayMode {
    /// `sysparm_display_value=false` (the default): database values.
    Value,
    /// `sysparm_display_value=true`: display values.
    Display,
    /// `sysparm_display_value=all`: `{"display_value", "value"}` for every field.
    All,
}

impl DisplayMode {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            Some("true") => DisplayMode::Display,
            Some("all") => DisplayMode::All,
            _ => DisplayMode::Value,
        }
    }
}

/// Everything that shapes how a record is rendered.
pub(super) struct Render<'a> {
    pub mode: DisplayMode,
    pub exclude_links: bool,
    /// `sysparm_fields`; `None` renders every field.
    pub fields: Option<Vec<String>>,
    pub base_url: &'a str,
}

#[derive(Debug, Clone)]
pub(super) enum Field {
    Plain(String),
    Choice {
        value: String,
        display: String,
    },
    /// `None` is an empty reference (rendered as `""`, as ServiceNow does).
    Ref(Option<RefTo>),
}

/// A reference to a row of another table, with the attributes dot-walking can reach.
#[derive(Debug, Clone)]
pub(super) struct RefTo {
    pub table: String,
    pub sys_id: String,
    pub display: String,
    pub attrs: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub table: String,
    pub sys_id: String,
    pub fields: BTreeMap<String, Field>,
}

impl Record {
    /// A record whose fields are all plain strings (journal rows, attachment metadata).
    pub(super) fn plain(table: &str, pairs: &[(&str, String)]) -> Self {
        let fields: BTreeMap<String, Field> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Field::Plain(v.clone())))
            .collect();
        let sys_id = match fields.get("sys_id") {
            Some(Field::Plain(s)) => s.clone(),
            _ => String::new(),
        };
        Record {
            table: table.to_string(),
            sys_id,
            fields,
        }
    }

    /// The field, following one level of dot-walking through a reference.
    pub(super) fn field(&self, name: &str) -> Option<Field> {
        if let Some(f) = self.fields.get(name) {
            return Some(f.clone());
        }
        let (base, attr) = name.split_once('.')?;
        match self.fields.get(base)? {
            Field::Ref(None) => Some(Field::Plain(String::new())),
            Field::Ref(Some(r)) if attr == "sys_id" => Some(Field::Plain(r.sys_id.clone())),
            Field::Ref(Some(r)) => r
                .attrs
                .iter()
                .find(|(k, _)| k == attr)
                .map(|(_, v)| Field::Plain(v.clone())),
            _ => None,
        }
    }

    /// Database value of a field (what encoded queries compare against).
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        self.field(name).map(|f| match f {
            Field::Plain(s) => s,
            Field::Choice { value, .. } => value,
            Field::Ref(r) => r.map(|r| r.sys_id).unwrap_or_default(),
        })
    }

    pub(super) fn plain_value(&self, name: &str) -> String {
        self.raw(name).unwrap_or_default()
    }

    /// Sets a plain or choice field (PATCH); references and unknown fields are left alone, as
    /// ServiceNow silently ignores fields it cannot write.
    pub(super) fn set(&mut self, name: &str, value: String) {
        match self.fields.get_mut(name) {
            Some(Field::Plain(s)) => *s = value,
            Some(Field::Choice { value: v, display }) => {
                *display = choice_display(name, &value);
                *v = value;
            }
            _ => {}
        }
    }

    pub(super) fn render(&self, r: &Render) -> Value {
        let mut out = Map::new();
        match &r.fields {
            Some(names) => {
                for name in names {
                    if let Some(f) = self.field(name) {
                        out.insert(name.clone(), render_field(&f, r));
                    }
                }
            }
            None => {
                for (name, f) in &self.fields {
                    out.insert(name.clone(), render_field(f, r));
                }
            }
        }
        Value::Object(out)
    }
}

fn render_field(f: &Field, r: &Render) -> Value {
    let pair = |display: &str, value: &str| json!({"display_value": display, "value": value});
    match (f, r.mode) {
        (Field::Plain(s), DisplayMode::All) => pair(s, s),
        (Field::Plain(s), _) => json!(s),
        (Field::Choice { value, display }, DisplayMode::All) => pair(display, value),
        (Field::Choice { display, .. }, DisplayMode::Display) => json!(display),
        (Field::Choice { value, .. }, DisplayMode::Value) => json!(value),
        (Field::Ref(None), DisplayMode::All) => pair("", ""),
        (Field::Ref(None), _) => json!(""),
        (Field::Ref(Some(to)), mode) => {
            let link = format!("{}/api/now/table/{}/{}", r.base_url, to.table, to.sys_id);
            let mut m = Map::new();
            match mode {
                DisplayMode::Value if r.exclude_links => return json!(to.sys_id),
                DisplayMode::Display if r.exclude_links => return json!(to.display),
                DisplayMode::Value => {
                    m.insert("value".into(), json!(to.sys_id));
                }
                DisplayMode::Display => {
                    m.insert("display_value".into(), json!(to.display));
                }
                DisplayMode::All => {
                    m.insert("display_value".into(), json!(to.display));
                    m.insert("value".into(), json!(to.sys_id));
                }
            }
            if !r.exclude_links {
                m.insert("link".into(), json!(link));
            }
            Value::Object(m)
        }
    }
}

/// Display labels of the out-of-box choice lists the simulator uses.
pub(super) fn choice_display(field: &str, value: &str) -> String {
    let label = match (field, value) {
        ("priority", "1") => "1 - Critical",
        ("priority", "2") => "2 - High",
        ("priority", "3") => "3 - Moderate",
        ("priority", "4") => "4 - Low",
        ("priority", "5") => "5 - Planning",
        ("impact" | "urgency", "1") => "1 - High",
        ("impact" | "urgency", "2") => "2 - Medium",
        ("impact" | "urgency", "3") => "3 - Low",
        ("state" | "incident_state", "1") => "New",
        ("state" | "incident_state", "2") => "In Progress",
        ("state" | "incident_state", "3") => "On Hold",
        ("state" | "incident_state", "6") => "Resolved",
        ("state" | "incident_state", "7") => "Closed",
        ("state" | "incident_state", "8") => "Canceled",
        ("category", "inquiry") => "Inquiry / Help",
        ("contact_type", "self-service") => "Self-service",
        ("sys_class_name", "sc_task") => "Catalog Task",
        ("sys_class_name", "sc_req_item") => "Requested Item",
        ("sys_class_name", "change_request") => "Change Request",
        _ => return capitalize(value),
    };
    label.to_string()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A `sys_user` reference with the attributes tests dot-walk to (`caller_id.email`, ...).
pub(super) fn user_ref(sys_id: &str, name: &str, email: &str) -> RefTo {
    let user_name = email.split('@').next().unwrap_or_default().to_string();
    RefTo {
        table: "sys_user".into(),
        sys_id: sys_id.into(),
        display: name.into(),
        attrs: vec![
            ("name".into(), name.into()),
            ("email".into(), email.into()),
            ("user_name".into(), user_name),
        ],
    }
}

/// "beth.anglin@acme.example" -> "Beth Anglin": assignees are given by e-mail only.
pub(super) fn name_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    local
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ids the simulator invented for the incident's related rows.
pub(super) struct Related {
    pub group_sys_id: String,
    pub caller_sys_id: String,
    pub assignee_sys_id: Option<String>,
}

/// The incident as the Table API stores it, modelled on the documented GET example.
pub(super) fn incident_record(inc: &SimIncident, sys_id: &str, rel: &Related, now: &str) -> Record {
    let plain = |s: &str| Field::Plain(s.to_string());
    let choice = |field: &str, v: &str| Field::Choice {
        value: v.to_string(),
        display: choice_display(field, v),
    };
    // Priority is derived from impact x urgency in ServiceNow; pick a consistent pair.
    let (impact, urgency) = match inc.priority.as_str() {
        "1" => ("1", "1"),
        "2" => ("1", "2"),
        "3" => ("2", "2"),
        "4" => ("2", "3"),
        _ => ("3", "3"),
    };
    let caller = user_ref(&rel.caller_sys_id, &inc.caller_name, &inc.caller_email);
    let assignee = rel.assignee_sys_id.as_ref().map(|id| {
        user_ref(
            id,
            &name_from_email(&inc.assigned_to_email),
            &inc.assigned_to_email,
        )
    });
    let group = RefTo {
        table: "sys_user_group".into(),
        sys_id: rel.group_sys_id.clone(),
        display: inc.assignment_group.clone(),
        attrs: vec![("name".into(), inc.assignment_group.clone())],
    };
    let domain = RefTo {
        table: "sys_user_group".into(),
        sys_id: "global".into(),
        display: "global".into(),
        attrs: vec![("name".into(), "global".into())],
    };
    let fields: BTreeMap<String, Field> = [
        ("number", plain(&inc.number)),
        ("sys_id", plain(sys_id)),
        ("short_description", plain(&inc.short_description)),
        ("description", plain("")),
        ("priority", choice("priority", &inc.priority)),
        ("impact", choice("impact", impact)),
        ("urgency", choice("urgency", urgency)),
        ("category", choice("category", &inc.category)),
        ("subcategory", plain("")),
        ("assignment_group", Field::Ref(Some(group))),
        ("caller_id", Field::Ref(Some(caller.clone()))),
        ("opened_by", Field::Ref(Some(caller))),
        ("assigned_to", Field::Ref(assignee)),
        ("sys_class_name", choice("sys_class_name", &inc.table)),
        ("sys_domain", Field::Ref(Some(domain))),
        ("sys_domain_path", plain("/")),
        ("state", choice("state", "1")),
        ("incident_state", choice("incident_state", "1")),
        ("active", plain("true")),
        ("contact_type", choice("contact_type", "phone")),
        ("opened_at", plain(now)),
        ("sys_created_on", plain(now)),
        ("sys_created_by", plain("admin")),
        ("sys_updated_on", plain(now)),
        ("sys_updated_by", plain("admin")),
        ("sys_mod_count", plain("0")),
        ("sys_tags", plain("")),
        ("close_notes", plain("")),
        ("work_notes", plain("")),
        ("comments", plain("")),
        ("comments_and_work_notes", plain("")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Record {
        table: inc.table.clone(),
        sys_id: sys_id.to_string(),
        fields,
    }
}
