//! The writing side of the Jira adapter and the look-ups that make each write happen once:
//! comments (found again by marker over the paged list), the two-step JSM attachment flow
//! (temporary files, then attach to the request, at once and with the same credentials), and
//! the site's upload limit.

use super::{assumed, shapes, Jira};
use crate::config::Visibility;
use crate::itsm::{ArtifactFile, AttachmentLimits, ItsmError, Note, RemoteAttachment, Result};
use serde_json::{json, Value};

impl Jira {
    /// Walk the request's comments (`start`/`limit`, until `isLastPage`) for `marker`.
    pub(super) async fn find_comment(&self, key: &str, marker: &str) -> Result<bool> {
        let path = format!("{}{key}/comment", assumed::REQUEST);
        let mut start = 0usize;
        for _ in 0..assumed::MAX_COMMENT_PAGES {
            let rb = self.req(reqwest::Method::GET, &path).query(&[
                ("start", start.to_string()),
                ("limit", assumed::COMMENT_PAGE.to_string()),
            ]);
            let (texts, last) =
                shapes::comment_page(&self.call(rb).await?).map_err(|e| self.contract(e))?;
            if texts.iter().any(|t| t.contains(marker)) {
                return Ok(true);
            }
            if last {
                return Ok(false);
            }
            if texts.is_empty() {
                // "not the last page" yet nothing on it: going on could loop forever, and
                // answering "not found" could post a second note.
                return Err(self.contract(format!("the comment list of {key} is empty at start={start} but says more pages follow")));
            }
            start += texts.len();
        }
        Err(self.contract(format!(
            "{key} has more than {} comments; the note marker could not be looked for",
            assumed::MAX_COMMENT_PAGES * assumed::COMMENT_PAGE
        )))
    }

    /// An internal (`public: false`) or public comment; the body is already escaped for wiki
    /// markup and ends with the marker, untouched.
    pub(super) async fn post_comment(&self, key: &str, note: &Note) -> Result<()> {
        let public = matches!(note.visibility, Visibility::Public);
        let rb = self
            .req(
                reqwest::Method::POST,
                &format!("{}{key}/comment", assumed::REQUEST),
            )
            .json(&json!({"body": note.body, "public": public}));
        let v = self.call(rb).await?;
        if v.get("id").is_none() {
            return Err(self.contract(format!("the comment on {key} was answered without an `id`")));
        }
        Ok(())
    }

    /// Upload every file as a temporary file of the service desk (one multipart post, part
    /// `file` each), then attach them all to the request as internal attachments. A failure
    /// in between leaves only temporary files, which Jira expires; the retry uploads again.
    pub(super) async fn attach_files(
        &self,
        key: &str,
        desk: &str,
        files: &[ArtifactFile],
    ) -> Result<Vec<RemoteAttachment>> {
        let ids = self.upload_temporary(desk, files).await?;
        let rb = self
            .req(
                reqwest::Method::POST,
                &format!("{}{key}/attachment", assumed::REQUEST),
            )
            .json(&json!({"temporaryAttachmentIds": ids, "public": false}));
        let v = self.call(rb).await?;
        let attached: Vec<RemoteAttachment> = v
            .pointer("/attachments/values")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(shapes::attachment).collect())
            .unwrap_or_default();
        Ok(files
            .iter()
            .map(|f| {
                let found = attached.iter().find(|a| a.name == f.name);
                RemoteAttachment {
                    id: found.and_then(|a| a.id.clone()),
                    name: f.name.clone(),
                    size: Some(f.bytes.len() as u64),
                }
            })
            .collect())
    }

    /// One multipart post of every file to the service desk; the temporary ids, in file order.
    async fn upload_temporary(&self, desk: &str, files: &[ArtifactFile]) -> Result<Vec<String>> {
        let mut form = reqwest::multipart::Form::new();
        for f in files {
            let part = reqwest::multipart::Part::bytes(f.bytes.clone())
                .file_name(f.name.clone())
                .mime_str(&f.content_type)
                .map_err(|e| {
                    ItsmError::Contract(format!(
                        "artifact {}: content type {:?}: {e}",
                        f.name, f.content_type
                    ))
                })?;
            form = form.part(assumed::FILE_PART, part);
        }
        let (xsrf, no_check) = assumed::XSRF_HEADER;
        let (experimental, opt_in) = assumed::EXPERIMENTAL_HEADER;
        let rb = self
            .req(reqwest::Method::POST, &assumed::temporary_file_path(desk))
            .header(xsrf, no_check)
            .header(experimental, opt_in)
            .multipart(form);
        let receipts =
            shapes::temporary_ids(&self.call(rb).await?).map_err(|e| self.contract(e))?;
        files
            .iter()
            .map(|f| {
                receipts
                    .iter()
                    .find(|(name, _)| *name == f.name)
                    .map(|(_, id)| id.clone())
                    .ok_or_else(|| {
                        self.contract(format!(
                            "the upload answer names no temporary file {}",
                            f.name
                        ))
                    })
            })
            .collect()
    }

    /// `uploadLimit` from the attachment settings (v3, then v2 for Data Center).
    pub(super) async fn upload_limit(&self) -> Result<AttachmentLimits> {
        let mut last = None;
        for path in assumed::ATTACHMENT_META {
            match self.call_raw(self.req(reqwest::Method::GET, path)).await {
                Ok(v) => {
                    if v.get("enabled").and_then(Value::as_bool) == Some(false) {
                        return Err(self.contract("attachments are turned off on this Jira site (Jira settings > System > Attachments); deskbridge cannot attach the session files"));
                    }
                    let per_file = v.get("uploadLimit").and_then(Value::as_u64);
                    return Ok(AttachmentLimits {
                        per_file,
                        ..AttachmentLimits::default()
                    });
                }
                Err(e) if e.status == Some(404) => last = Some(e.message),
                Err(e) => return Err(e.into()),
            }
        }
        // Neither path exists: no known limit. An over-large file then gets Jira's own 413.
        tracing::warn!(
            error = last.unwrap_or_default(),
            "the Jira attachment settings could not be read; attaching without a known size limit"
        );
        Ok(AttachmentLimits::default())
    }
}
