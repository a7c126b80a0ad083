//! Note rendering: minijinja templates from `templates/` (or an admin's override directory),
//! rendered for one ticket system's markup with every value escaped for it.
//!
//! Escaping is done by the formatter, not by the templates: whatever a template prints through
//! `{{ ... }}` is escaped for the target markup unless it was marked safe in code (vendor links,
//! which are the vendor's, not the ticket's). Template text itself is the admin's and is kept.
//! Strict undefined behaviour plus a trial render at load means a typo in a template is a
//! configuration error, not a failed note at 3 a.m.

mod context;
mod markup;

pub use context::{NoteArtifact, NoteContext, NoteSession, NoteTicket, NoteUnavailable};
pub use markup::{escape, escape_html, Markup};

use minijinja::{Environment, UndefinedBehavior, Value};
use std::path::Path;

/// The templates deskbridge ships, by name.
pub const BUILTIN: [(&str, &str); 6] = [
    (
        "session_link",
        include_str!("../../templates/session_link.j2"),
    ),
    (
        "session_instructions",
        include_str!("../../templates/session_instructions.j2"),
    ),
    (
        "session_summary",
        include_str!("../../templates/session_summary.j2"),
    ),
    (
        "session_expired",
        include_str!("../../templates/session_expired.j2"),
    ),
    (
        "session_failed",
        include_str!("../../templates/session_failed.j2"),
    ),
    (
        "session_cancelled",
        include_str!("../../templates/session_cancelled.j2"),
    ),
];

pub const ALL_MARKUPS: [Markup; 5] = [
    Markup::Plain,
    Markup::ServiceNow,
    Markup::JiraWiki,
    Markup::Markdown,
    Markup::Html,
];

#[derive(Debug, Clone, thiserror::Error)]
#[error("template {name}: {reason}")]
pub struct RenderError {
    pub name: String,
    pub reason: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

fn err(name: &str, e: impl std::fmt::Display) -> RenderError {
    RenderError {
        name: name.to_string(),
        reason: e.to_string(),
    }
}

impl Templates {
    /// The built-in templates, with any `<name>.j2` in `dir` added or replacing its namesake;
    /// every template is compiled and trial-rendered for every markup.
    pub fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(false);
        env.set_formatter(|out, state, value| {
            if value.is_safe() || value.is_none() || value.is_undefined() {
                return minijinja::escape_formatter(out, state, value);
            }
            let markup = state
                .lookup("__markup")
                .and_then(|m| m.as_str().and_then(markup_from_str))
                .unwrap_or(Markup::Plain);
            let text = value.to_string();
            out.write_str(&escape(markup, &text)).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        });
        let mut sources: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| err(&dir.display().to_string(), e))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("j2") {
                    continue;
                }
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| err(&path.display().to_string(), e))?;
                sources.retain(|(n, _)| *n != name);
                sources.push((name, text));
            }
        }
        for (name, text) in sources {
            env.add_template_owned(name.clone(), text)
                .map_err(|e| err(&name, e))?;
        }
        let t = Templates { env };
        let names: Vec<String> = t.env.templates().map(|(n, _)| n.to_string()).collect();
        for name in names {
            t.check(&name)?;
        }
        Ok(t)
    }

    pub fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// Render `name` with a sample context in every markup: a template that refers to a value
    /// that does not exist fails here, at load.
    pub fn check(&self, name: &str) -> Result<(), RenderError> {
        for m in ALL_MARKUPS {
            self.render(name, m, &NoteContext::sample())?;
        }
        Ok(())
    }

    pub fn render(
        &self,
        name: &str,
        markup: Markup,
        ctx: &NoteContext,
    ) -> Result<String, RenderError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|_| err(name, "no such template (built-in names: session_link, session_instructions, session_summary, session_expired, session_failed)"))?;
        let ctx = ctx.to_value(markup);
        let out = tmpl.render(ctx).map_err(|e| err(name, describe(&e)))?;
        Ok(match markup {
            // HTML ignores newlines: keep the template's line structure visible.
            Markup::Html => out.trim_end().replace('\n', "<br>\n"),
            _ => out.trim_end().to_string(),
        })
    }
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if let Some(line) = e.line() {
        s.push_str(&format!(" (line {line})"));
    }
    s
}

fn markup_from_str(s: &str) -> Option<Markup> {
    ALL_MARKUPS.into_iter().find(|m| markup_name(*m) == s)
}

pub fn markup_name(m: Markup) -> &'static str {
    match m {
        Markup::Plain => "plain",
        Markup::ServiceNow => "servicenow",
        Markup::JiraWiki => "jira_wiki",
        Markup::Markdown => "markdown",
        Markup::Html => "html",
    }
}

/// A value the formatter prints as is: for vendor links, never for ticket text.
pub fn safe(s: &str) -> Value {
    Value::from_safe_string(s.to_string())
}

#[cfg(test)]
mod tests;
