//! The simulator's rendering of a Markdown comment `body` into the `html_body` and `plain_body`
//! Zendesk returns beside it. Only what matters for deskbridge's notes is modelled: backslash
//! escapes, `[text](url)` links, paragraphs and line breaks.
//!
//! One deliberate difference: raw HTML in the body is passed through as it is, where Zendesk
//! would sanitise it. A `<script>` that reached the simulator unescaped therefore shows up in
//! `html_body`, so a test can see markup that got past deskbridge's escaping.

const PUNCT: &str = "\\`*_{}[]()#+-.!|~<>\"'&$%,/:;=?@^";

fn html_text(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        c => out.push(c),
    }
}

/// `[text](url)` starting at `chars[i] == '['`: (text, url, index after the `)`).
fn link(chars: &[char], i: usize) -> Option<(String, String, usize)> {
    let mut j = i + 1;
    let mut text = String::new();
    while j < chars.len() && chars[j] != ']' {
        if chars[j] == '\\' && j + 1 < chars.len() {
            j += 1;
        }
        text.push(chars[j]);
        j += 1;
    }
    if chars.get(j + 1) != Some(&'(') {
        return None;
    }
    let close = (j + 2..chars.len()).find(|&k| chars[k] == ')')?;
    Some((text, chars[j + 2..close].iter().collect(), close + 1))
}

/// One line of inline Markdown: to HTML (`html`) or to plain text.
fn inline(line: &str, html: bool) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1).is_some_and(|n| PUNCT.contains(*n)) {
            let lit = chars[i + 1];
            if html {
                html_text(lit, &mut out)
            } else {
                out.push(lit)
            }
            i += 2;
            continue;
        }
        if c == '[' {
            if let Some((text, url, next)) = link(&chars, i) {
                if html {
                    out.push_str(&format!("<a href=\"{url}\" rel=\"noreferrer\">"));
                    text.chars().for_each(|c| html_text(c, &mut out));
                    out.push_str("</a>");
                } else {
                    out.push_str(&text);
                }
                i = next;
                continue;
            }
        }
        match c {
            // raw HTML goes through unsanitised (see the module comment)
            '<' | '>' if html => out.push(c),
            c if html => html_text(c, &mut out),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn paragraphs(md: &str) -> Vec<Vec<&str>> {
    let mut paras: Vec<Vec<&str>> = vec![];
    let mut cur = vec![];
    for line in md.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                paras.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        paras.push(cur);
    }
    paras
}

/// `html_body`: paragraphs in `<p>`, line breaks as `<br>`, inside Zendesk's comment `<div>`.
pub fn to_html(md: &str) -> String {
    let body: String = paragraphs(md)
        .iter()
        .map(|p| {
            format!(
                "<p>{}</p>",
                p.iter()
                    .map(|l| inline(l, true))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )
        })
        .collect();
    format!("<div class=\"zd-comment\" dir=\"auto\">{body}</div>")
}

/// `plain_body`: the text a reader sees, escapes resolved, links reduced to their text.
pub fn to_plain(md: &str) -> String {
    paragraphs(md)
        .iter()
        .map(|p| {
            p.iter()
                .map(|l| inline(l, false))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_markup_is_text_and_unescaped_markup_is_markup() {
        assert_eq!(
            to_html(r"\<script\>x"),
            "<div class=\"zd-comment\" dir=\"auto\"><p>&lt;script&gt;x</p></div>"
        );
        assert!(
            to_html("<script>x").contains("<script>"),
            "raw HTML passes through, to be seen by tests"
        );
        let escaped = to_html(r"\[x\]\(javascript:alert\(1\)\)");
        assert!(!escaped.contains("href"), "{escaped}");
        assert!(to_html("[x](javascript:alert(1)").contains("href=\"javascript:alert(1\""));
        assert_eq!(
            to_plain("a \\*b\\* [site](https://x.example)\n\nnext"),
            "a *b* site\n\nnext"
        );
        assert!(to_html("one\ntwo").contains("<p>one<br>two</p>"));
        assert_eq!(
            to_plain("[deskbridge:job/1/link]"),
            "[deskbridge:job/1/link]",
            "a bracket without a link stays"
        );
    }
}
