//! Semantic checks that serde cannot express: unique ids, rules that name real connections and
//! vendors, URLs that parse, and every number and duration within its bounds (the message
//! names the allowed range). Run once at load, so a bad file is refused before it can
//! half-start (and a bad reload leaves the running one in place); every error is reported, not
//! only the first. What fits one kind of system is its settings type's business (`sections`),
//! not this file's: nothing here names a system.

use super::{load::ConfigError, Config, Dur, RateLimit};
use std::collections::HashSet;
use std::time::Duration;

/// Errors found so far, each naming its field.
struct Found<'a> {
    file: &'a str,
    errors: Vec<ConfigError>,
}

impl Found<'_> {
    fn err(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(ConfigError::new(self.file, field, reason));
    }

    /// `value` within `min..=max`, else an error giving the range.
    fn within(&mut self, field: &str, value: Dur, min: Duration, max: Duration) {
        if value.0 < min || value.0 > max {
            let h = |d: Duration| humantime::format_duration(d).to_string();
            self.err(
                field,
                format!(
                    "{} is out of range: allowed from {} to {}",
                    h(value.0),
                    h(min),
                    h(max)
                ),
            );
        }
    }

    fn count(&mut self, field: &str, value: u64, min: u64, max: u64) {
        if value < min || value > max {
            self.err(
                field,
                format!("{value} is out of range: allowed from {min} to {max}"),
            );
        }
    }

    fn rate_limit(&mut self, at: &str, rl: &Option<RateLimit>) {
        if let Some(rl) = rl {
            self.count(
                &format!("{at}.rate_limit.requests"),
                rl.requests.into(),
                1,
                1_000_000,
            );
            self.within(&format!("{at}.rate_limit.per"), rl.per, MS * 100, DAY);
        }
    }
}

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

pub(super) fn validate(cfg: &Config, file: &str) -> Result<(), ConfigError> {
    let mut f = Found {
        file,
        errors: vec![],
    };
    server(cfg, &mut f);
    worker(cfg, &mut f);
    systems(cfg, &mut f);
    rules(cfg, &mut f);
    store(cfg, &mut f);
    match ConfigError::all(f.errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn server(cfg: &Config, f: &mut Found) {
    let s = &cfg.server;
    if s.listen.parse::<std::net::SocketAddr>().is_err() {
        let reason = format!("{:?} is not an address like 127.0.0.1:8080", s.listen);
        f.err("server.listen", reason);
    }
    if let Some(u) = &s.public_url {
        if let Err(r) = check_url(u) {
            f.err("server.public_url", r);
        }
    }
    f.count(
        "server.max_body_bytes",
        s.max_body_bytes as u64,
        1024,
        64 << 20,
    );
    // Client connections: a stalled client is dropped within these (issue 9).
    for (field, d) in [
        ("server.header_read_timeout", s.header_read_timeout),
        ("server.body_read_timeout", s.body_read_timeout),
        ("server.keep_alive_timeout", s.keep_alive_timeout),
    ] {
        f.within(field, d, 100 * MS, HOUR);
    }
    f.count(
        "server.max_connections",
        s.max_connections as u64,
        1,
        1_000_000,
    );
    // SIGTERM must end within 10 s (SPEC §5): the grace is what is left after the rest.
    f.within(
        "server.shutdown_grace",
        s.shutdown_grace,
        Duration::ZERO,
        8 * SEC,
    );
    if let Some(level) = &cfg.log.level {
        if tracing_subscriber::EnvFilter::try_new(level).is_err() {
            f.err(
                "log.level",
                format!("{level:?} is not a filter like \"info\" or \"warn,deskbridge=debug\""),
            );
        }
    }
}

fn worker(cfg: &Config, f: &mut Found) {
    let w = &cfg.worker;
    f.count("worker.concurrency", w.concurrency as u64, 1, 4096);
    f.count("worker.per_connection", w.per_connection as u64, 1, 4096);
    f.within("worker.lease", w.lease, SEC, HOUR);
    f.within("worker.request_timeout", w.request_timeout, SEC, 10 * MIN);
    f.within("worker.tick", w.tick, 10 * MS, HOUR);
    f.within("worker.retry.base", w.retry.base, 10 * MS, HOUR);
    f.within("worker.retry.max", w.retry.max, 10 * MS, DAY);
    if w.retry.max < w.retry.base {
        let reason = format!(
            "must be at least worker.retry.base ({:?}), the first wait",
            w.retry.base
        );
        f.err("worker.retry.max", reason);
    }
    f.within("worker.retry.link_budget", w.retry.link_budget, SEC, DAY);
    f.within(
        "worker.retry.artifacts_budget",
        w.retry.artifacts_budget,
        SEC,
        90 * DAY,
    );
}

/// `[store]`, `[retention]` and the audit keys: what several replicas need to agree on.
fn store(cfg: &Config, f: &mut Found) {
    use crate::store::Kind;
    match (cfg.store.kind, &cfg.store.url) {
        (Kind::Postgres, None) => f.err(
            "store.url",
            "kind = \"postgres\" needs the database URL (url = \"${DATABASE_URL}\")",
        ),
        (Kind::Postgres, Some(u)) if u.expose().trim().is_empty() => f.err(
            "store.url",
            "is empty (an unset variable or an empty file?)",
        ),
        (Kind::Sled, Some(_)) => f.err(
            "store.url",
            "only for kind = \"postgres\" (sled keeps its data in server.data_dir)",
        ),
        _ => {}
    }
    if cfg.store.kind == Kind::Postgres && cfg.server.audit_key.is_none() {
        f.err(
            "server.audit_key",
            "is required with [store] kind = \"postgres\": every replica must sign manifests with \
             the same key (a secret holding a PKCS#8 PEM, e.g. file:/run/secrets/deskbridge-audit-key)",
        );
    }
    f.count(
        "store.max_connections",
        cfg.store.max_connections.into(),
        2,
        1000,
    );
    let r = &cfg.retention;
    f.within("retention.jobs", r.jobs, SEC, 100 * 365 * DAY);
    f.within(
        "retention.local_artifacts",
        r.local_artifacts,
        SEC,
        100 * 365 * DAY,
    );
    f.within("retention.every", r.every, 100 * MS, DAY);
    if let Some(k) = &cfg.server.audit_key {
        if let Err(r) = crate::audit::AuditKey::from_pem(k.expose()) {
            f.err("server.audit_key", r);
        }
    }
    for (i, k) in cfg.server.audit_keys_previous.iter().enumerate() {
        if let Err(r) = crate::audit::parse_public_key(k) {
            f.err(format!("server.audit_keys_previous[{i}]"), r);
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

const ID_RULE: &str = "use letters, digits, '-' and '_' only (it is part of a URL)";

fn systems(cfg: &Config, f: &mut Found) {
    let mut seen = HashSet::new();
    for (i, c) in cfg.itsm.iter().enumerate() {
        let at = format!("itsm[{i}]");
        if !valid_id(c.id.as_str()) {
            f.err(format!("{at}.id"), ID_RULE);
        }
        if !seen.insert(c.id.as_str()) {
            f.err(
                format!("{at}.id"),
                format!("connection id {:?} is used twice", c.id.as_str()),
            );
        }
        if let Err(r) = check_url(&c.base_url) {
            f.err(format!("{at}.base_url"), r);
        }
        f.rate_limit(&at, &c.rate_limit);
    }
    let mut seen = HashSet::new();
    for (i, v) in cfg.vendor.iter().enumerate() {
        let at = format!("vendor[{i}]");
        if !valid_id(v.id.as_str()) {
            f.err(format!("{at}.id"), ID_RULE);
        }
        if !seen.insert(v.id.as_str()) {
            f.err(
                format!("{at}.id"),
                format!("vendor id {:?} is used twice", v.id.as_str()),
            );
        }
        if let Err(r) = check_url(&v.base_url) {
            f.err(format!("{at}.base_url"), r);
        }
        let p = &v.poll;
        f.within(&format!("{at}.poll.every"), p.every, 10 * MS, HOUR);
        f.within(&format!("{at}.poll.max_every"), p.max_every, 10 * MS, DAY);
        if p.max_every < p.every {
            let reason = format!("must be at least poll.every ({:?})", p.every);
            f.err(format!("{at}.poll.max_every"), reason);
        }
        f.within(
            &format!("{at}.poll.give_up_after"),
            p.give_up_after,
            100 * MS,
            90 * DAY,
        );
        f.rate_limit(&at, &v.rate_limit);
    }
}

fn rules(cfg: &Config, f: &mut Found) {
    let mut names = HashSet::new();
    for (i, r) in cfg.rules.iter().enumerate() {
        let at = |field: &str| format!("rule[{i}] ({:?}).{field}", r.name);
        if r.name.trim().is_empty() {
            f.err(format!("rule[{i}].name"), "a rule needs a name");
        } else if !names.insert(r.name.as_str()) {
            f.err(at("name"), "two rules have this name");
        }
        if cfg.connection(r.connection.as_str()).is_none() {
            f.err(
                at("connection"),
                format!("unknown connection {:?}", r.connection.as_str()),
            );
        }
        if cfg.vendor(r.vendor.as_str()).is_none() {
            f.err(
                at("vendor"),
                format!("unknown vendor {:?}", r.vendor.as_str()),
            );
        }
        if r.collect.is_empty() {
            f.err(at("collect"), "name at least one artifact to collect");
        }
    }
}

/// An http(s) URL, or why not; also for URLs in a kind's own settings (a vendor's portal).
pub(crate) fn check_url(u: &str) -> Result<(), String> {
    match url::Url::parse(u) {
        Ok(p) if p.scheme() == "http" || p.scheme() == "https" => Ok(()),
        Ok(_) => Err(format!("{u:?} is not an http(s) URL")),
        Err(e) => Err(format!("{u:?} is not a URL: {e}")),
    }
}
