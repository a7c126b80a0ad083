//! What a finished job must leave on a ticket, whichever system holds it: each artifact once,
//! each note once by its marker, and files whose bytes match the job's signed record.

use serde_json::Value;
use std::collections::HashMap;

/// The marker deskbridge ends its `what` note of job `id` with ("link", "summary", ...).
pub fn marker(id: &str, what: &str) -> String {
    format!("[deskbridge:job/{id}/{what}]")
}

/// How many of `texts` contain `needle`.
pub fn count_with<S: AsRef<str>>(texts: &[S], needle: &str) -> usize {
    texts.iter().filter(|t| t.as_ref().contains(needle)).count()
}

/// The first of `texts` containing `needle` (panics naming it when there is none).
pub fn first_with(texts: Vec<String>, needle: &str) -> String {
    let found = texts.into_iter().find(|t| t.contains(needle));
    found.unwrap_or_else(|| panic!("nothing with {needle:?}"))
}

/// How many times each name occurs.
pub fn counts(names: impl IntoIterator<Item = String>) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for n in names {
        *m.entry(n).or_default() += 1;
    }
    m
}

/// The ticket holds each of the four artifacts of session `code` exactly once, and nothing else.
pub fn assert_each_artifact_once(mut names: Vec<String>, code: &str) {
    names.sort();
    let mut want: Vec<String> = ["chat.txt", "file-transfers.csv", "log.csv", "manifest.json"]
        .iter()
        .map(|s| format!("session-{code}-{s}"))
        .collect();
    want.sort();
    assert_eq!(names, want, "each artifact exactly once");
}

/// How many of the job's artifacts were found already on the ticket (attached before a crash
/// or a lost answer).
pub fn found_existing(job: &Value) -> usize {
    let artifacts = job["artifacts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    artifacts
        .iter()
        .filter(|a| a["attached"]["found_existing"] == true)
        .count()
}

/// A file as the ticket system holds it.
pub struct Attached {
    pub name: String,
    pub bytes: Vec<u8>,
    /// The system's id for it.
    pub remote_id: String,
}

impl From<deskbridge_sim::SimAttachment> for Attached {
    fn from(a: deskbridge_sim::SimAttachment) -> Self {
        let (name, bytes, remote_id) = (a.file_name, a.bytes, a.sys_id);
        Attached {
            name,
            bytes,
            remote_id,
        }
    }
}

impl From<deskbridge_sim::SimJiraAttachment> for Attached {
    fn from(a: deskbridge_sim::SimJiraAttachment) -> Self {
        let (name, bytes, remote_id) = (a.file_name, a.bytes, a.id);
        Attached {
            name,
            bytes,
            remote_id,
        }
    }
}

impl From<deskbridge_sim::zendesk::SimFile> for Attached {
    fn from(f: deskbridge_sim::zendesk::SimFile) -> Self {
        let (name, bytes, remote_id) = (f.file_name, f.bytes, f.id.to_string());
        Attached {
            name,
            bytes,
            remote_id,
        }
    }
}

impl From<deskbridge_sim::freshservice::SimFile> for Attached {
    fn from(f: deskbridge_sim::freshservice::SimFile) -> Self {
        let (name, bytes, remote_id) = (f.name, f.bytes, f.id.to_string());
        Attached {
            name,
            bytes,
            remote_id,
        }
    }
}

/// The job reports each file's hash and where it went, they match what the ticket holds, and
/// the files as downloaded pass `deskbridge verify`'s check with the service's public key.
pub fn assert_artifacts_match(job: &Value, files: &[Attached], public_key: &str) {
    let dl = tempfile::tempdir().unwrap();
    let records = job["artifacts"].as_array().unwrap();
    for f in files {
        let rec = records
            .iter()
            .find(|r| r["name"] == f.name.as_str())
            .unwrap_or_else(|| panic!("{} is not in the job's record", f.name));
        assert_eq!(rec["sha256"], deskbridge::artifacts::sha256_hex(&f.bytes));
        assert_eq!(rec["attached"]["remote_id"], f.remote_id.as_str());
        std::fs::write(dl.path().join(&f.name), &f.bytes).unwrap();
    }
    let keys = [public_key.to_string()];
    let report = deskbridge::artifacts::verify_paths(&[dl.path().to_path_buf()], &keys);
    assert!(report.is_ok(), "{:?}", report.problems);
}
