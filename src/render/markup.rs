//! Escaping for each ticket system's note markup: whatever comes from a ticket (a subject, a
//! requester's name) must come out as inert text, never as markup that opens a link, a code
//! block or a script.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Markup {
    /// Plain text.
    Plain,
    /// ServiceNow journal fields: plain text, but `[code]...[/code]` switches to HTML.
    ServiceNow,
    /// Jira wiki markup (JSM comment bodies).
    JiraWiki,
    /// Zendesk comment `body` (Markdown).
    Markdown,
    /// Freshservice note `body` (HTML).
    Html,
}

/// Zero-width space: breaks a markup token without changing what a reader sees.
const ZWSP: char = '\u{200B}';

pub fn escape(m: Markup, s: &str) -> String {
    match m {
        Markup::Plain => s.to_string(),
        Markup::ServiceNow => escape_servicenow(s),
        Markup::Html => escape_html(s),
        Markup::JiraWiki => escape_chars(s, "\\[]{}|*_-+^~?!#"),
        Markup::Markdown => escape_chars(s, "\\`*_{}[]()<>#+-.!|~"),
    }
}

/// `[code]` (any case) would switch the journal to HTML: break every `[` that opens a
/// `code` tag, so `[code]` and `[/code]` come out as text.
fn escape_servicenow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let lower = s.to_ascii_lowercase();
    for (i, c) in s.char_indices() {
        out.push(c);
        if c == '[' {
            let rest = &lower[i + 1..];
            if rest.starts_with("code") || rest.starts_with("/code") {
                out.push(ZWSP);
            }
        }
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn escape_chars(s: &str, special: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ticket_text_comes_out_inert_in_every_markup() {
        let cases: &[(Markup, &str, &str)] = &[
            (
                Markup::ServiceNow,
                "[code]<script>x</script>[/code]",
                "[\u{200B}code]<script>x</script>[\u{200B}/code]",
            ),
            (Markup::ServiceNow, "[CODE]", "[\u{200B}CODE]"),
            (Markup::ServiceNow, "plain [text]", "plain [text]"),
            (
                Markup::Html,
                "<script>alert('x')</script>",
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
            ),
            (Markup::Html, "a & \"b\"", "a &amp; &quot;b&quot;"),
            (
                Markup::JiraWiki,
                "[link|javascript:alert(1)]",
                "\\[link\\|javascript:alert(1)\\]",
            ),
            (Markup::JiraWiki, "{code}x{code}", "\\{code\\}x\\{code\\}"),
            (
                Markup::Markdown,
                "[x](javascript:alert(1))",
                "\\[x\\]\\(javascript:alert\\(1\\)\\)",
            ),
            (Markup::Markdown, "<script>", "\\<script\\>"),
            (Markup::Plain, "<b>", "<b>"),
        ];
        for (m, input, want) in cases {
            assert_eq!(escape(*m, input), *want, "{m:?} {input:?}");
        }
    }
}
