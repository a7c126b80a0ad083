//! The configuration file the tests run deskbridge with, as Rust values written out as TOML:
//! one base (`[server]`, `[worker]`) that each system's tests extend with typed connections,
//! vendors and rules, and change field by field (never by editing the text). The API tests,
//! the crash tests' child process and the command-line tests all write their files with it.
//!
//! Durations are the file's own words ("50ms", "1h"): what an admin writes, and what lets the
//! configuration tests write a bad one. Every field that is `None` or empty is left out, so
//! the file holds only what a test chose.

use serde::Serialize;
use std::path::{Path, PathBuf};

pub const ADMIN_TOKEN: &str = "admin-token-7Kp1";
pub const AUDITOR_TOKEN: &str = "auditor-token-3Lm8";
/// `worker.request_timeout` for a test whose upstream keeps an answer back on purpose: the
/// lost answer turns into a retry after this much real time.
pub const LOST_ANSWER: &str = "1s";

/// Whether `v` would be an empty table, which is then left out. (TOML has no null: a `None`
/// field is left out by the serialiser itself.)
fn empty<T: Serialize>(v: &T) -> bool {
    matches!(toml::Value::try_from(v), Ok(toml::Value::Table(t)) if t.is_empty())
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Config {
    #[serde(skip_serializing_if = "empty")]
    pub server: Server,
    #[serde(skip_serializing_if = "empty")]
    pub worker: Worker,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub itsm: Vec<Itsm>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vendor: Vec<Vendor>,
    #[serde(rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// `[store]`: `kind`, `url`, `max_connections`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<std::collections::BTreeMap<String, toml::Value>>,
    /// `[retention]`: `jobs`, `local_artifacts`, `every`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<std::collections::BTreeMap<String, String>>,
    /// `[log]`: `format` (`text`, `json`) and `level`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Server {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub admin_token: Option<String>,
    pub auditor_token: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub shutdown_grace: Option<String>,
    /// The audit key as a secret reference (`file:...`) or PEM.
    pub audit_key: Option<String>,
    pub header_read_timeout: Option<String>,
    pub body_read_timeout: Option<String>,
    pub keep_alive_timeout: Option<String>,
    pub max_connections: Option<usize>,
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Worker {
    pub tick: Option<String>,
    pub lease: Option<String>,
    pub request_timeout: Option<String>,
    pub concurrency: Option<usize>,
    pub per_connection: Option<usize>,
    pub retry: Option<Retry>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Retry {
    pub base: String,
    pub max: String,
    pub link_budget: Option<String>,
    pub artifacts_budget: Option<String>,
    /// Deprecated: loads, is ignored, and is warned about.
    pub attempts: Option<u32>,
}

impl Retry {
    /// Quick retries with short budgets of real (or moved) time.
    pub fn quick(max: &str, budget: &str) -> Self {
        Retry {
            base: "50ms".into(),
            max: max.into(),
            link_budget: Some(budget.into()),
            artifacts_budget: Some(budget.into()),
            attempts: None,
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct RateLimit {
    pub requests: u32,
    pub per: String,
}

impl RateLimit {
    pub fn per_second(requests: u32) -> Self {
        RateLimit {
            requests,
            per: "1s".into(),
        }
    }
}

/// A ticket-system connection (`[[itsm]]`).
#[derive(Serialize, Clone, Debug)]
pub struct Itsm {
    pub id: String,
    pub kind: String,
    pub base_url: String,
    pub auth: Auth,
    pub inbound: Inbound,
    pub rate_limit: Option<RateLimit>,
    pub account_id: Option<String>,
    pub ca_bundle: Option<PathBuf>,
}

impl Itsm {
    pub fn new(id: &str, kind: &str, base_url: &str, auth: Auth, inbound: Inbound) -> Self {
        Itsm {
            id: id.into(),
            kind: kind.into(),
            base_url: base_url.into(),
            auth,
            inbound,
            rate_limit: None,
            account_id: None,
            ca_bundle: None,
        }
    }
}

/// How deskbridge calls the ticket system.
#[derive(Serialize, Clone, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    Basic { username: String, password: String },
    ApiToken { email: String, token: String },
    ApiKey { key: String },
}

/// How the ticket system's webhook proves itself.
#[derive(Serialize, Clone, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    Hmac { secret: String },
    ZendeskSignature { secret: String },
    HubSignature { secret: String },
    SharedHeader { header: String, secret: String },
    Basic { username: String, password: String },
}

/// A remote-support vendor (`[[vendor]]`).
#[derive(Serialize, Clone, Debug)]
pub struct Vendor {
    pub id: String,
    pub kind: String,
    pub base_url: String,
    pub portal_url: Option<String>,
    pub auth: VendorAuth,
    pub poll: Option<Poll>,
}

impl Vendor {
    pub fn new(id: &str, kind: &str, base_url: &str, auth: VendorAuth) -> Self {
        Vendor {
            id: id.into(),
            kind: kind.into(),
            base_url: base_url.into(),
            portal_url: None,
            auth,
            poll: None,
        }
    }

    /// The Splashtop vendor every ticket system's tests use: `id = "splashtop"`, its portal on
    /// the simulator too, and the tests' fast polling.
    pub fn splashtop(base_url: &str, token: &str) -> Self {
        Vendor {
            portal_url: Some(base_url.into()),
            poll: Some(Poll::fast()),
            ..Vendor::new(
                "splashtop",
                "splashtop",
                base_url,
                VendorAuth::Bearer {
                    token: token.into(),
                },
            )
        }
    }
}

#[derive(Serialize, Clone, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VendorAuth {
    Bearer {
        token: String,
    },
    Oauth2 {
        client_id: String,
        client_secret: String,
        redirect_uri: String,
    },
    Sunlogin {
        app_key: String,
        app_secret: String,
        account: String,
        password: String,
    },
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Poll {
    pub every: Option<String>,
    pub max_every: Option<String>,
    pub give_up_after: Option<String>,
}

impl Poll {
    /// Every 50 ms, backing off to 200 ms, for an hour.
    pub fn fast() -> Self {
        Poll {
            every: Some("50ms".into()),
            max_every: Some("200ms".into()),
            give_up_after: Some("1h".into()),
        }
    }
}

/// A rule (`[[rule]]`): which tickets of a connection get sessions of which vendor.
#[derive(Serialize, Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub connection: String,
    #[serde(rename = "match", skip_serializing_if = "empty")]
    pub matches: Match,
    pub vendor: String,
    pub link_note: Option<Note>,
}

/// Each list is "any of"; an empty one is left out.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Match {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub priority: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub project: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub brand: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requester_domain: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Note {
    pub template: String,
    pub visibility: Option<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Rule {
    /// A rule for every ticket of `connection`, until conditions are added.
    pub fn new(name: &str, connection: &str, vendor: &str) -> Self {
        Rule {
            name: name.into(),
            connection: connection.into(),
            matches: Match::default(),
            vendor: vendor.into(),
            link_note: None,
        }
    }
    pub fn queue(mut self, any_of: &[&str]) -> Self {
        self.matches.queue = strings(any_of);
        self
    }
    pub fn priority(mut self, any_of: &[&str]) -> Self {
        self.matches.priority = strings(any_of);
        self
    }
    pub fn project(mut self, any_of: &[&str]) -> Self {
        self.matches.project = strings(any_of);
        self
    }
    pub fn brand(mut self, any_of: &[&str]) -> Self {
        self.matches.brand = strings(any_of);
        self
    }
    pub fn requester_domain(mut self, any_of: &[&str]) -> Self {
        self.matches.requester_domain = strings(any_of);
        self
    }
    /// The link note on the ticket is public (seen by the customer).
    pub fn public_link(mut self) -> Self {
        self.link_note = Some(Note {
            template: "session_link".into(),
            visibility: Some("public".into()),
        });
        self
    }
}

impl Config {
    /// What every API test starts from: deskbridge on `127.0.0.1:0` with its data in `dir`,
    /// both API tokens, a 50 ms worker tick, quick retries (8 s budgets), and no connection yet.
    pub fn base(dir: &Path) -> Config {
        Config {
            server: Server {
                listen: Some("127.0.0.1:0".into()),
                data_dir: Some(dir.join("data")),
                admin_token: Some(ADMIN_TOKEN.into()),
                auditor_token: Some(AUDITOR_TOKEN.into()),
                max_body_bytes: None,
                shutdown_grace: Some("2s".into()),
                ..Server::default()
            },
            worker: Worker {
                tick: Some("50ms".into()),
                lease: None,
                request_timeout: Some("30s".into()),
                concurrency: None,
                per_connection: None,
                retry: Some(Retry::quick("500ms", "8s")),
            },
            ..Config::default()
        }
    }

    pub fn itsm(mut self, c: Itsm) -> Self {
        self.itsm.push(c);
        self
    }
    pub fn vendor(mut self, v: Vendor) -> Self {
        self.vendor.push(v);
        self
    }
    pub fn rule(mut self, r: Rule) -> Self {
        self.rules.push(r);
        self
    }
    pub fn itsm_mut(&mut self, id: &str) -> &mut Itsm {
        self.itsm
            .iter_mut()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no connection {id:?}"))
    }
    pub fn vendor_mut(&mut self, id: &str) -> &mut Vendor {
        self.vendor
            .iter_mut()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no vendor {id:?}"))
    }
    pub fn rule_mut(&mut self, name: &str) -> &mut Rule {
        self.rules
            .iter_mut()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no rule {name:?}"))
    }

    /// The file's text.
    pub fn toml(&self) -> String {
        toml::to_string(self).expect("a test configuration serialises")
    }

    /// Write the file to `path`; returns the path.
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.toml()).unwrap();
        path.to_path_buf()
    }
}
