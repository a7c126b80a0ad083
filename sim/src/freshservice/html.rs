//! What Freshservice stores as `body_text` for an HTML `body`: the text a reader sees. The
//! source's whitespace collapses as a browser collapses it, `<br>` and block ends are line
//! breaks, tags are dropped, the common entities decoded. Enough for deskbridge's notes (and
//! for checking that what it escaped stays text). The other way, [`escape`] turns the text the
//! simulator seeds (subjects, replies) into the HTML Freshservice would store for it.

/// `text` as HTML text: the five characters with a meaning in markup or in a quoted attribute
/// become entities, everything else stays as it is.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// The readable text of `html`.
pub(super) fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode(&rest[..open]));
        let Some(close) = rest[open..].find('>') else {
            // An unclosed `<` is text.
            out.push_str(&decode(&rest[open..]));
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or_default();
        if matches!(name, "br" | "p" | "div" | "li" | "tr")
            && (name == "br" || tag.starts_with('/'))
        {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&decode(rest));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    lines.join("\n").trim().to_string()
}

/// Whitespace runs collapsed to one space, then entities decoded.
fn decode(s: &str) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
    let s = format!(
        "{}{collapsed}{}",
        if edge(s.chars().next()) && !collapsed.is_empty() {
            " "
        } else {
            ""
        },
        if edge(s.chars().last()) && !collapsed.is_empty() {
            " "
        } else {
            ""
        }
    );
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after.find(';').filter(|e| *e <= 10);
        let entity = end.map(|e| &after[1..e]);
        let ch = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        });
        match (ch, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_entities_are_decoded_and_breaks_become_lines() {
        let html = "Session for 266: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<br>\nEnd user: open https://x/y?a=1&amp;b=2<br>\n\n[deskbridge:job/1/link]";
        assert_eq!(text_of(html), "Session for 266: <script>alert('x')</script>\nEnd user: open https://x/y?a=1&b=2\n[deskbridge:job/1/link]");
        assert_eq!(text_of("<div>a</div><ul><li>b</li></ul>"), "a\nb");
        assert_eq!(text_of("a & b < c"), "a & b < c");
        assert_eq!(text_of("one<br><br>two  three"), "one\n\ntwo three");
    }

    #[test]
    fn escaped_text_reads_back_as_the_same_text() {
        let text = "<b>\"Tom\" & 'Jerry'</b>";
        assert_eq!(
            escape(text),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(text_of(&escape(text)), text);
    }
}
