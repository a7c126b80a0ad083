//! The artifacts of SPEC §6: the session log and file transfers as CSV, the chat as text, and a
//! manifest with each file's size and SHA-256, signed with the audit key.
//!
//! Files are kept once, in the store, before anything is attached: a retry, a restart or
//! another replica attaches the very bytes that were hashed and signed.

mod verify;

pub use verify::{verify_paths, VerifyReport};

use crate::audit::AuditKey;
use crate::clock::Millis;
use crate::config::ArtifactKind;
use crate::ids::JobId;
use crate::itsm::{ArtifactFile, AttachmentLimits};
use crate::job::{ArtifactRecord, Job, Unavailable};
use crate::remote::{Availability, ChatLine, Collected, Session, Table};
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const MANIFEST_FORMAT: &str = "deskbridge-manifest/1";

pub fn label(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::SessionLog => "session log",
        ArtifactKind::FileTransferLog => "file-transfer log",
        ArtifactKind::ChatTranscript => "chat transcript",
    }
}

pub fn file_name(kind: ArtifactKind, code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    match kind {
        ArtifactKind::SessionLog => format!("session-{code}-log.csv"),
        ArtifactKind::FileTransferLog => format!("session-{code}-file-transfers.csv"),
        ArtifactKind::ChatTranscript => format!("session-{code}-chat.txt"),
    }
}

pub fn manifest_name(code: &str) -> String {
    file_name(ArtifactKind::SessionLog, code).replace("-log.csv", "-manifest.json")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".gz") {
        "application/gzip"
    } else if name.ends_with(".csv") {
        "text/csv"
    } else if name.ends_with(".json") {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}

fn csv_bytes(t: &Table) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record(&t.columns);
    for r in &t.rows {
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

fn chat_bytes(lines: &[ChatLine]) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        // One message a line: a message's own line breaks are written as the two characters \n.
        let msg = l.message.replace('\r', "").replace('\n', "\\n");
        out.push_str(&format!("{} {}: {}\n", l.time, l.author, msg));
    }
    out.into_bytes()
}

/// What collection produced: files to attach (manifest last) and what was not available.
#[derive(Debug)]
pub struct Built {
    pub files: Vec<ArtifactFile>,
    pub records: Vec<ArtifactRecord>,
    pub unavailable: Vec<Unavailable>,
}

/// Room kept on the ticket for the manifest, which is written last.
const MANIFEST_RESERVE: u64 = 16 * 1024;

/// Turn what the vendor gave into files and a signed manifest. A file over the ticket system's
/// limits is gzip-compressed; one that still cannot fit is named as not available, with why.
pub fn build(
    job: &Job,
    session: &Session,
    collected: &Collected,
    what: &[ArtifactKind],
    limits: AttachmentLimits,
    key: &AuditKey,
    now: Millis,
) -> Built {
    let mut files = vec![];
    let mut unavailable = vec![];
    let mut budget = limits.per_ticket.map(|t| {
        t.saturating_sub(limits.used_on_ticket)
            .saturating_sub(MANIFEST_RESERVE)
    });
    for kind in ArtifactKind::ALL.into_iter().filter(|k| what.contains(k)) {
        let bytes = match (kind, collected) {
            (ArtifactKind::SessionLog, Collected { session_log: a, .. }) => {
                a.clone().map_avail(|t| csv_bytes(&t))
            }
            (
                ArtifactKind::FileTransferLog,
                Collected {
                    file_transfers: a, ..
                },
            ) => a.clone().map_avail(|t| csv_bytes(&t)),
            (ArtifactKind::ChatTranscript, Collected { chat: a, .. }) => {
                a.clone().map_avail(|c| chat_bytes(&c))
            }
        };
        match bytes {
            Availability::Available(bytes) => {
                let name = file_name(kind, &session.code);
                match fit(
                    ArtifactFile {
                        content_type: content_type(&name).into(),
                        name,
                        bytes,
                    },
                    limits.per_file,
                    budget,
                ) {
                    Ok(f) => {
                        budget = budget.map(|b| b.saturating_sub(f.bytes.len() as u64));
                        files.push(f);
                    }
                    Err(reason) => unavailable.push(Unavailable { kind, reason }),
                }
            }
            Availability::NotAvailable(reason) => unavailable.push(Unavailable { kind, reason }),
        }
    }
    let manifest = manifest_value(job, session, &files, &unavailable, now);
    let signed = sign_manifest(manifest, key);
    let name = manifest_name(&session.code);
    files.push(ArtifactFile {
        content_type: content_type(&name).into(),
        name,
        bytes: signed,
    });
    let records = files
        .iter()
        .map(|f| ArtifactRecord {
            name: f.name.clone(),
            size: f.bytes.len() as u64,
            sha256: sha256_hex(&f.bytes),
            attached: None,
        })
        .collect();
    Built {
        files,
        records,
        unavailable,
    }
}

/// The file as is if it fits, else gzip-compressed if that fits, else why not.
fn fit(
    f: ArtifactFile,
    per_file: Option<u64>,
    budget: Option<u64>,
) -> Result<ArtifactFile, String> {
    let limit = match (per_file, budget) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(limit) = limit else { return Ok(f) };
    if f.bytes.len() as u64 <= limit {
        return Ok(f);
    }
    let original = f.bytes.len();
    let gz = gzip(&f.bytes);
    if gz.len() as u64 <= limit {
        let name = format!("{}.gz", f.name);
        return Ok(ArtifactFile {
            content_type: "application/gzip".into(),
            name,
            bytes: gz,
        });
    }
    Err(format!(
        "{original} bytes ({} compressed) is over the {limit} bytes the ticket system still accepts on this ticket",
        gz.len()
    ))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(vec![], flate2::Compression::best());
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

impl<T> Availability<T> {
    fn map_avail<U>(self, f: impl FnOnce(T) -> U) -> Availability<U> {
        match self {
            Availability::Available(t) => Availability::Available(f(t)),
            Availability::NotAvailable(r) => Availability::NotAvailable(r),
        }
    }
}

fn manifest_value(
    job: &Job,
    session: &Session,
    files: &[ArtifactFile],
    unavailable: &[Unavailable],
    now: Millis,
) -> serde_json::Value {
    serde_json::json!({
        "format": MANIFEST_FORMAT,
        "job_id": job.id,
        "ticket": {"connection": job.connection, "ref": job.ticket, "number": job.ticket_number},
        "session": {"vendor": job.vendor, "id": session.id, "code": session.code},
        "collected_at": now,
        "artifacts": files.iter().map(|f| serde_json::json!({
            "name": f.name, "size": f.bytes.len(), "sha256": sha256_hex(&f.bytes),
        })).collect::<Vec<_>>(),
        "not_available": unavailable.iter().map(|u| serde_json::json!({
            "artifact": label(u.kind), "reason": u.reason,
        })).collect::<Vec<_>>(),
    })
}

/// The bytes a manifest's signature covers: its `manifest` member serialised compactly.
/// Serialising a parsed value again yields the same bytes, so a verifier can recompute them.
pub fn signed_bytes(manifest: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(manifest).unwrap_or_default()
}

fn sign_manifest(manifest: serde_json::Value, key: &AuditKey) -> Vec<u8> {
    let sig = key.sign(&signed_bytes(&manifest));
    let doc = serde_json::json!({
        "manifest": manifest,
        "signature": {
            "algorithm": "ed25519",
            "public_key": key.public_key(),
            "key_id": crate::audit::key_id(&key.public_key()),
            "value": sig,
        },
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Where a build before the store kept artifacts (`<data_dir>/artifacts/<job id>/`); still
/// read, so a job collected by such a build attaches its files after an upgrade.
pub fn legacy_dir(data_dir: &Path, job: &JobId) -> PathBuf {
    data_dir.join("artifacts").join(job.to_string())
}

/// Keep the built files in the store, durably, before anything is attached: every replica can
/// then attach (and an admin download) the very bytes that were hashed and signed.
pub async fn keep(store: &Store, job: &JobId, files: &[ArtifactFile]) -> crate::store::Result<()> {
    for f in files {
        store.put_artifact(job, &f.name, &f.bytes).await?;
    }
    Ok(())
}

/// Why an artifact's bytes cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The job has no artifact of that name.
    #[error("{0}")]
    Unknown(String),
    /// It had one, but the copy is no longer kept (retention) or was removed.
    #[error("{0}")]
    Gone(String),
    /// The copy no longer has the SHA-256 recorded when it was collected.
    #[error("{0}")]
    Damaged(String),
    /// The store cannot be read now; later may work (`retry_helps`).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The bytes of the artifact `rec` of job `job`, exactly as collected and attached (checked
/// against the recorded SHA-256): from the store, or from the folder an older build wrote
/// (`legacy_dir`).
pub async fn read(
    store: &Store,
    data_dir: &Path,
    job: &JobId,
    rec: &ArtifactRecord,
) -> Result<ArtifactFile, ReadError> {
    let name = &rec.name;
    let bytes = match store.get_artifact(job, name).await? {
        Some(b) => b,
        None => match tokio::fs::read(legacy_dir(data_dir, job).join(name)).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ReadError::Gone(format!(
                    "{name} is no longer kept here (copies are deleted after retention.local_artifacts); the copy attached to the ticket remains"
                )))
            }
            Err(e) => return Err(ReadError::Damaged(format!("{name}: {e}"))),
        },
    };
    if sha256_hex(&bytes) != rec.sha256 {
        return Err(ReadError::Damaged(format!(
            "{name} changed since it was collected (its SHA-256 differs from the job's record)"
        )));
    }
    Ok(ArtifactFile {
        content_type: content_type(name).into(),
        name: name.clone(),
        bytes,
    })
}

/// The bytes of artifact `name` of `job`, exactly as attached. The one way the API and the
/// console read an artifact (the attach step reads through [`read`] too).
pub async fn read_artifact(
    store: &Store,
    data_dir: &Path,
    job: &Job,
    name: &str,
) -> Result<ArtifactFile, ReadError> {
    let Some(rec) = job.artifacts.iter().find(|a| a.name == name) else {
        return Err(ReadError::Unknown(format!(
            "job {} has no artifact {name:?}",
            job.id
        )));
    };
    read(store, data_dir, &job.id, rec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: usize) -> ArtifactFile {
        ArtifactFile {
            name: "session-1-log.csv".into(),
            content_type: "text/csv".into(),
            bytes: b"a,b,c\n".repeat(n),
        }
    }

    #[test]
    fn a_file_that_fits_is_kept_as_is_and_one_too_big_is_compressed() {
        assert_eq!(
            fit(file(10), Some(1000), None).unwrap().name,
            "session-1-log.csv"
        );
        let f = fit(file(1000), Some(1000), None).unwrap();
        assert_eq!(f.name, "session-1-log.csv.gz");
        assert_eq!(f.content_type, "application/gzip");
        assert!(f.bytes.len() < 1000);
    }

    #[test]
    fn a_file_that_cannot_fit_even_compressed_says_why() {
        use rand::{RngCore, SeedableRng};
        let mut random = vec![0u8; 5000];
        rand::rngs::StdRng::seed_from_u64(7).fill_bytes(&mut random);
        let f = ArtifactFile {
            name: "x.csv".into(),
            content_type: "text/csv".into(),
            bytes: random,
        };
        let e = fit(f, None, Some(1000)).unwrap_err();
        assert!(e.contains("5000 bytes") && e.contains("1000 bytes"), "{e}");
    }
}
