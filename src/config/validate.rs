//! Semantic checks that serde cannot express: unique ids, rules that name real connections and
//! vendors, URLs that parse. Run once at load, so a bad file is refused before it can
//! half-start (and a bad reload leaves the running one in place). What fits one kind of system
//! (its auth types, its own keys) is its settings type's business (`sections.rs`), not this
//! file's: nothing here names a system.

use super::{load::ConfigError, Config};
use std::collections::HashSet;

pub(super) fn validate(cfg: &Config, file: &str) -> Result<(), ConfigError> {
    let err = |field: String, reason: String| Err(ConfigError::new(file, field, reason));

    if cfg.server.listen.parse::<std::net::SocketAddr>().is_err() {
        return err(
            "server.listen".into(),
            format!(
                "{:?} is not an address like 127.0.0.1:8080",
                cfg.server.listen
            ),
        );
    }
    if let Some(u) = &cfg.server.public_url {
        check_url(u).or_else(|r| err("server.public_url".into(), r))?;
    }
    if cfg.server.max_body_bytes == 0 {
        return err(
            "server.max_body_bytes".into(),
            "must be greater than 0".into(),
        );
    }
    if cfg.worker.concurrency == 0 || cfg.worker.per_connection == 0 {
        return err(
            "worker".into(),
            "concurrency and per_connection must be at least 1".into(),
        );
    }
    if cfg.worker.retry.attempts == 0 {
        return err("worker.retry.attempts".into(), "must be at least 1".into());
    }

    let mut seen = HashSet::new();
    for (i, c) in cfg.itsm.iter().enumerate() {
        let at = |f: &str| format!("itsm[{i}].{f}");
        if !valid_id(c.id.as_str()) {
            return err(
                at("id"),
                "use letters, digits, '-' and '_' only (it is part of a URL)".into(),
            );
        }
        if !seen.insert(c.id.as_str().to_string()) {
            return err(
                at("id"),
                format!("connection id {:?} is used twice", c.id.as_str()),
            );
        }
        check_url(&c.base_url).or_else(|r| err(at("base_url"), r))?;
        if let Some(rl) = &c.rate_limit {
            if rl.requests == 0 || rl.per.0.is_zero() {
                return err(
                    at("rate_limit"),
                    "requests and per must be greater than 0".into(),
                );
            }
        }
    }

    let mut seen = HashSet::new();
    for (i, v) in cfg.vendor.iter().enumerate() {
        let at = |f: &str| format!("vendor[{i}].{f}");
        if !valid_id(v.id.as_str()) {
            return err(
                at("id"),
                "use letters, digits, '-' and '_' only (it is part of a URL)".into(),
            );
        }
        if !seen.insert(v.id.as_str().to_string()) {
            return err(
                at("id"),
                format!("vendor id {:?} is used twice", v.id.as_str()),
            );
        }
        check_url(&v.base_url).or_else(|r| err(at("base_url"), r))?;
        if v.poll.every.0.is_zero() || v.poll.max_every < v.poll.every {
            return err(
                at("poll"),
                "every must be > 0 and max_every >= every".into(),
            );
        }
    }

    let mut names = HashSet::new();
    for (i, r) in cfg.rules.iter().enumerate() {
        let at = |f: &str| format!("rule[{i}] ({:?}).{f}", r.name);
        if r.name.trim().is_empty() {
            return err(format!("rule[{i}].name"), "a rule needs a name".into());
        }
        if !names.insert(r.name.clone()) {
            return err(at("name"), "two rules have this name".into());
        }
        if cfg.connection(r.connection.as_str()).is_none() {
            return err(
                at("connection"),
                format!("unknown connection {:?}", r.connection.as_str()),
            );
        }
        if cfg.vendor(r.vendor.as_str()).is_none() {
            return err(
                at("vendor"),
                format!("unknown vendor {:?}", r.vendor.as_str()),
            );
        }
        if r.collect.is_empty() {
            return err(
                at("collect"),
                "name at least one artifact to collect".into(),
            );
        }
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An http(s) URL, or why not; also for URLs in a kind's own settings (a vendor's portal).
pub(crate) fn check_url(u: &str) -> Result<(), String> {
    match url::Url::parse(u) {
        Ok(p) if p.scheme() == "http" || p.scheme() == "https" => Ok(()),
        Ok(_) => Err(format!("{u:?} is not an http(s) URL")),
        Err(e) => Err(format!("{u:?} is not a URL: {e}")),
    }
}
