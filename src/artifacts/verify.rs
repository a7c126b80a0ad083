//! `deskbridge verify`: check downloaded artifacts against their signed manifest. Names each
//! file that is missing or altered, and says when the manifest itself was tampered with.

use super::{sha256_hex, signed_bytes, MANIFEST_FORMAT};
use crate::audit::verify_signature;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub manifests: Vec<PathBuf>,
    pub ok_files: Vec<String>,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && !self.manifests.is_empty()
    }
}

/// Verify every manifest among `paths` (files, or directories whose `*-manifest.json` are
/// read), looking for the listed files next to each manifest or among `paths`.
pub fn verify_paths(paths: &[PathBuf], public_key: &str) -> VerifyReport {
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
        check_manifest(&m, &candidates, public_key, &mut report);
        report.manifests.push(m);
    }
    report
}

fn check_manifest(
    path: &Path,
    candidates: &[PathBuf],
    public_key: &str,
    report: &mut VerifyReport,
) {
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
    let sig = doc["signature"]["value"].as_str().unwrap_or_default();
    if !verify_signature(public_key, &signed_bytes(manifest), sig) {
        report.problems.push(format!(
            "{shown}: ALTERED: the manifest's signature does not match the audit key (the manifest was changed, or signed by another key)"
        ));
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
