//! `deskbridge verify`: the accepted keys (the ones given, or the configuration's current and
//! previous audit keys), then every manifest and file checked against them.

use super::{load_config, print, Failure};
use std::path::{Path, PathBuf};

/// The keys `verify` accepts: the ones given, or the configuration's current key and its
/// previous ones. A given key that is not one is a usage error.
fn keys(path: Option<&Path>, given: Vec<String>) -> Result<Vec<String>, Failure> {
    if !given.is_empty() {
        for k in &given {
            crate::audit::parse_public_key(k)
                .map_err(|e| Failure::Usage(format!("--public-key: {e}")))?;
        }
        return Ok(given);
    }
    let cfg = load_config(path)?;
    let current = match &cfg.server.audit_key {
        Some(_) => crate::audit::AuditKey::from_config(&cfg.server),
        None => crate::audit::AuditKey::load_or_create_readonly(&cfg.server.data_dir),
    }
    .map_err(|e| e.to_string())?;
    let mut keys = vec![current.public_key()];
    keys.extend(cfg.server.audit_keys_previous.iter().cloned());
    Ok(keys)
}

pub(super) fn run(
    path: Option<&Path>,
    given: Vec<String>,
    paths: &[PathBuf],
) -> Result<(), Failure> {
    let keys = keys(path, given)?;
    let report = crate::artifacts::verify_paths(paths, &keys);
    let mut out = String::new();
    for s in &report.signed {
        out.push_str(&format!("signed   {s}\n"));
    }
    for f in &report.ok_files {
        out.push_str(&format!("ok       {f}\n"));
    }
    for p in &report.problems {
        out.push_str(&format!("PROBLEM  {p}\n"));
    }
    if report.is_ok() {
        out.push_str("all files match their signed manifest\n");
    }
    print(&out);
    if report.is_ok() {
        Ok(())
    } else {
        Err(format!("{} problem(s) found", report.problems.len()).into())
    }
}
