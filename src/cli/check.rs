//! `deskbridge check [--config FILE] [--online]`: validate a configuration and print what it
//! defines, every error at once (the load reports them all), then the warnings, the worker,
//! poll and retry settings, and each rule's non-empty conditions. `--online` calls every
//! connection and vendor once, read-only, with the configured credentials, and says `ok` or
//! the upstream's answer with what to fix; any failure makes the exit non-zero.

use super::{load_config, print, runtime, Scratch};
use crate::config::{Config, RuleConfig};
use std::fmt::Write;
use std::path::Path;

pub fn run(path: Option<&Path>, online: bool) -> Result<(), String> {
    let cfg = load_config(path)?;
    crate::runtime::load_templates(&cfg).map_err(|e| e.to_string())?;
    print(&describe(&cfg));
    if !online {
        return Ok(());
    }
    let (text, failed) = test_all(&cfg)?;
    print(&text);
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} system(s) failed the online check")),
    }
}

fn h(d: crate::config::Dur) -> String {
    format!("{d:?}")
}

/// What the configuration defines, as `check` prints it.
pub fn describe(cfg: &Config) -> String {
    let mut o = String::new();
    let file = cfg
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<built-in default>".into());
    let _ = match cfg.warnings.len() {
        0 => writeln!(o, "{file}: OK"),
        n => writeln!(o, "{file}: OK, with {n} warning(s)"),
    };
    for w in &cfg.warnings {
        let _ = writeln!(o, "warning: {}: {}", w.field, w.reason);
    }
    let (s, w) = (&cfg.server, &cfg.worker);
    let _ = writeln!(o, "listen {}  data_dir {}", s.listen, s.data_dir.display());
    let _ = writeln!(
        o,
        "worker: {} jobs at once ({} per connection), lease {}, request timeout {}, looks every {}",
        w.concurrency,
        w.per_connection,
        h(w.lease),
        h(w.request_timeout),
        h(w.tick)
    );
    let _ = writeln!(
        o,
        "retry: first after {}, doubling up to {}, until {} in the link phase and {} for the artifacts",
        h(w.retry.base),
        h(w.retry.max),
        h(w.retry.link_budget),
        h(w.retry.artifacts_budget)
    );
    let _ = writeln!(o, "connections:");
    for c in &cfg.itsm {
        let _ = writeln!(
            o,
            "  {:<20} {:<13} {}  (webhook: POST /hooks/{})",
            c.id,
            c.kind.as_str(),
            c.base_url,
            c.id
        );
    }
    let _ = writeln!(o, "vendors:");
    for v in &cfg.vendor {
        let p = &v.poll;
        let _ = writeln!(
            o,
            "  {:<20} {:<13} {}  (polls every {} up to {}, gives up after {})",
            v.id,
            v.kind.as_str(),
            v.base_url,
            h(p.every),
            h(p.max_every),
            h(p.give_up_after)
        );
    }
    let _ = writeln!(o, "rules (first match wins):");
    for (i, r) in cfg.rules.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {}. {:?}: {} -> {}  {}",
            i + 1,
            r.name,
            r.connection,
            r.vendor,
            conditions(r)
        );
    }
    o.push_str(&audit_key(cfg));
    o
}

/// A rule's non-empty conditions, or that it takes every ticket.
fn conditions(r: &RuleConfig) -> String {
    let set: Vec<String> = crate::config::rule_conditions(&r.matches)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| format!("{name} any of {v:?}"))
        .collect();
    if set.is_empty() {
        "matches every ticket of its connection".into()
    } else {
        format!("when {}", set.join(" and "))
    }
}

fn audit_key(cfg: &Config) -> String {
    let dir = &cfg.server.data_dir;
    let mut out = if cfg.server.audit_key.is_some() {
        match crate::audit::AuditKey::from_config(&cfg.server) {
            Ok(key) => format!(
                "audit public key (ed25519, server.audit_key): {}\n",
                key.public_key()
            ),
            Err(e) => format!("audit public key: cannot be read: {e}\n"),
        }
    } else if std::fs::metadata(crate::audit::key_path(dir)).is_ok() {
        match crate::audit::AuditKey::load_or_create_readonly(dir) {
            Ok(key) => format!("audit public key (ed25519): {}\n", key.public_key()),
            Err(e) => format!("audit public key: cannot be read: {e}\n"),
        }
    } else {
        format!(
            "audit public key: not generated yet (the first `serve` creates it in {})\n",
            dir.display()
        )
    };
    for k in &cfg.server.audit_keys_previous {
        let id = crate::audit::key_id(k);
        out.push_str(&format!(
            "previous audit key still accepted by verify: {id} ({k})\n"
        ));
    }
    out
}

/// Call every system once; the report and how many failed. Runs on a scratch store, so the
/// running service's store is not touched (a vendor whose OAuth grant lives there is tested
/// through the running service instead).
fn test_all(cfg: &Config) -> Result<(String, usize), String> {
    let scratch = Scratch::new()?;
    let shared = scratch.shared()?;
    let rt = crate::runtime::Runtime::build(cfg.clone(), &shared).map_err(|e| e.to_string())?;
    let report = runtime()?.block_on(async {
        let mut o = String::from("online:\n");
        let mut failed = 0;
        for c in &cfg.itsm {
            let p = rt.itsm[&c.id].test_connection().await;
            failed += usize::from(!p.ok);
            let _ = writeln!(o, "  connection {}: {}", c.id, word(&p));
        }
        for v in &cfg.vendor {
            let vendor = &rt.vendors[&v.id];
            if vendor.credentials().auth == "oauth2" {
                let _ = writeln!(o, "  vendor {}: skipped: its OAuth grant is kept by the running service; test it there with POST /api/v1/vendors/{}/test", v.id, v.id);
                continue;
            }
            let p = vendor.test_connection().await;
            failed += usize::from(!p.ok);
            let _ = writeln!(o, "  vendor {}: {}", v.id, word(&p));
        }
        (o, failed)
    });
    drop(rt);
    drop(shared);
    Ok(report)
}

fn word(p: &crate::outbound::Probe) -> String {
    if p.ok {
        p.message.clone()
    } else {
        format!("FAILED: {}", p.message)
    }
}
