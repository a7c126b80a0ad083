//! `deskbridge verify`: check downloaded artifacts against their signed manifest. Names each
//! file that is missing or altered, and says when the manifest itself was tampered with.
//!
//! A manifest is trusted when its signature verifies with one of the accepted keys (the
//! current audit key and the previous ones, or the keys given). One that does not is named,
//! with the key that signed it (when its own signature holds) and the keys given; its files
//! are then not vouched for: none of them is reported "ok".

use super::{sha256_hex, signed_bytes, MANIFEST_FORMAT};
use crate::audit::{key_id, verify_signature};
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub manifests: Vec<PathBuf>,
    /// For each trusted manifest: which accepted key signed it.
    pub signed: Vec<String>,
    pub ok_files: Vec<String>,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && !self.manifests.is_empty()
    }
}

/// Verify every manifest among `paths` (files, or directories whose `*-manifest.json` are
/// read) against the accepted `keys` (base64 Ed25519 public keys), looking for the listed
/// files next to each manifest or among `paths`.
pub fn verify_paths(paths: &[PathBuf], keys: &[String]) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut candidates: Vec<PathBuf> = vec![];
    for p in paths {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                candidates.extend(rd.flatten().map(|e| e.path()));
            }
        } else {
            candidates.push(p.clone());
        }
    }
    let manifests: Vec<PathBuf> = candidates
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-manifest.json"))
        })
        .cloned()
        .collect();
    if manifests.is_empty() {
        report
            .problems
            .push("no *-manifest.json among the given paths".into());
    }
    for m in manifests {
        check_manifest(&m, &candidates, keys, &mut report);
        report.manifests.push(m);
    }
    report
}

fn check_manifest(path: &Path, candidates: &[PathBuf], keys: &[String], report: &mut VerifyReport) {
    let shown = path.display().to_string();
    let doc: serde_json::Value = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return report
                .problems
                .push(format!("{shown}: unreadable manifest: {e}"))
        }
    };
    let manifest = &doc["manifest"];
    if manifest["format"] != MANIFEST_FORMAT {
        return report
            .problems
            .push(format!("{shown}: not a {MANIFEST_FORMAT} manifest"));
    }
    if !signature_holds(&shown, &doc, keys, report) {
        report.problems.push(format!(
            "{shown}: its files were not checked: a manifest whose signature fails vouches for none of them"
        ));
        return;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    for a in manifest["artifacts"].as_array().into_iter().flatten() {
        let name = a["name"].as_str().unwrap_or_default();
        let want = a["sha256"].as_str().unwrap_or_default();
        let file = candidates
            .iter()
            .find(|c| c.file_name().and_then(|n| n.to_str()) == Some(name))
            .cloned()
            .unwrap_or_else(|| dir.join(name));
        match std::fs::read(&file) {
            Ok(bytes) if sha256_hex(&bytes) == want => report.ok_files.push(name.to_string()),
            Ok(_) => report.problems.push(format!(
                "{name}: ALTERED: its SHA-256 differs from the manifest"
            )),
            Err(_) => report.problems.push(format!(
                "{name}: MISSING: listed in the manifest but not found"
            )),
        }
    }
    unlisted(path, manifest, candidates, report);
}

/// Whether the manifest was signed by one of `keys`; if not, a problem that says which key
/// signed it (when its signature holds for the key it names) and which were given.
fn signature_holds(
    shown: &str,
    doc: &serde_json::Value,
    keys: &[String],
    report: &mut VerifyReport,
) -> bool {
    let bytes = signed_bytes(&doc["manifest"]);
    let sig = doc["signature"]["value"].as_str().unwrap_or_default();
    if let Some(k) = keys.iter().find(|k| verify_signature(k, &bytes, sig)) {
        report
            .signed
            .push(format!("{shown}: signed by {} ({k})", key_id(k)));
        return true;
    }
    let given = keys
        .iter()
        .map(|k| format!("{} ({k})", key_id(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let named = doc["signature"]["public_key"].as_str().unwrap_or_default();
    report.problems.push(if !named.is_empty() && verify_signature(named, &bytes, sig) {
        format!(
            "{shown}: SIGNED BY ANOTHER KEY: it was signed by {} ({named}), which is not among the keys given: {given}",
            key_id(named)
        )
    } else {
        format!(
            "{shown}: ALTERED: the manifest's signature does not match the key it names ({} ({named})), so it was changed after signing; keys given: {given}",
            key_id(named)
        )
    });
    false
}

/// A `session-<code>-*` file beside the manifest that the manifest does not list was not
/// collected by deskbridge (a forged chat where the manifest says none was available, say).
fn unlisted(
    path: &Path,
    manifest: &serde_json::Value,
    candidates: &[PathBuf],
    report: &mut VerifyReport,
) {
    let Some(code) = manifest["session"]["code"].as_str() else {
        return;
    };
    let prefix = format!("session-{code}-");
    let listed: Vec<&str> = manifest["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    let own = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut names: Vec<String> = candidates
        .iter()
        .filter_map(|c| c.file_name()?.to_str().map(String::from))
        .collect();
    if let Ok(rd) = std::fs::read_dir(path.parent().unwrap_or(Path::new("."))) {
        names.extend(
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().map(String::from)),
        );
    }
    names.sort();
    names.dedup();
    for n in names
        .iter()
        .filter(|n| n.starts_with(&prefix) && n.as_str() != own && !listed.contains(&n.as_str()))
    {
        report.problems.push(format!("{n}: UNLISTED: it claims to belong to session {code} but the signed manifest does not list it"));
    }
}
