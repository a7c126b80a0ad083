//! What deskbridge writes into a Freshservice note besides the rendered template: the marker
//! on a line of its own, and the multipart form of the private note that carries the files.

use crate::itsm::{ArtifactFile, ItsmError, Result};
use crate::render::escape_html;

/// The core appends the marker after a blank line in plain text, which HTML would run into the
/// note's last line: break it onto a line of its own. The marker itself stays as is, so
/// `find_note` finds it in `body` and in `body_text`.
pub(super) fn marker_on_its_own_line(body: &str, marker: &str) -> String {
    match body
        .strip_suffix(marker)
        .and_then(|b| b.strip_suffix("\n\n"))
    {
        Some(main) => format!("{main}<br>\n<br>\n{marker}"),
        None => body.to_string(),
    }
}

/// The private note that carries the files: HTML naming them, escaped.
pub(super) fn files_form(files: &[ArtifactFile]) -> Result<reqwest::multipart::Form> {
    let names: Vec<String> = files
        .iter()
        .map(|f| format!("<li>{}</li>", escape_html(&f.name)))
        .collect();
    let body = format!(
        "<div>deskbridge attached the remote support session's files:</div><ul>{}</ul>",
        names.concat()
    );
    let mut form = reqwest::multipart::Form::new()
        .text("body", body)
        .text("private", "true");
    for f in files {
        let part = reqwest::multipart::Part::bytes(f.bytes.clone())
            .file_name(f.name.clone())
            .mime_str(&f.content_type)
            .map_err(|e| {
                ItsmError::Contract(format!(
                    "artifact {} has an invalid content type: {e}",
                    f.name
                ))
            })?;
        form = form.part("attachments[]", part);
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_gets_a_line_of_its_own_and_is_kept_verbatim() {
        let m = "[deskbridge:job/1/link]";
        assert_eq!(
            marker_on_its_own_line(&format!("a<br>\nb\n\n{m}"), m),
            format!("a<br>\nb<br>\n<br>\n{m}")
        );
        assert_eq!(marker_on_its_own_line("no marker", m), "no marker");
    }
}
