//! The configuration file (SPEC §3): its types, with serde doing the shape checks.
//!
//! Every struct refuses unknown keys, so a typo in a key is an error rather than a silently
//! ignored setting. `[[itsm]]` and `[[vendor]]` tables are read by kind (`sections.rs`): each
//! adapter owns the type of what its kind takes. Semantic checks (ids unique, rules naming real
//! connections) live in `validate.rs`; reading the file and resolving `${ENV}`/`file:` live in
//! `load.rs`.

pub mod auth;
mod load;
pub(crate) mod secret;
pub mod sections;
mod validate;
mod warnings;

pub use load::{load, load_str, ConfigError};
pub use secret::{Dur, Secret};
pub(crate) use validate::check_url;
pub use warnings::{conditions as rule_conditions, matches_everything};

use crate::ids::{ConnectionId, VendorId};
use crate::itsm::ItsmSettings;
use crate::remote::VendorSettings;
use serde::Deserialize;
use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub worker: WorkerConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// `[[itsm]]`, read by kind (see `sections.rs`), not by this derive.
    #[serde(skip)]
    pub itsm: Vec<ItsmConfig>,
    /// `[[vendor]]`, likewise.
    #[serde(skip)]
    pub vendor: Vec<VendorConfig>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleConfig>,
    /// Where this configuration came from, for reload and for error messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// What is allowed but probably not meant (`check` prints them, `serve` logs them).
    #[serde(skip)]
    pub warnings: Vec<ConfigError>,
}

impl Default for Config {
    /// The built-in default of `deskbridge serve` without a file: listens on 127.0.0.1:8080,
    /// keeps data in `./data`, and has no connections (every webhook is answered 404).
    fn default() -> Self {
        load_str("", "<built-in default>").expect("the empty configuration is valid")
    }
}

impl Config {
    /// Every section at its default, without reading or checking anything (a starting point).
    pub(crate) fn default_unchecked() -> Self {
        Config {
            server: ServerConfig::default(),
            worker: WorkerConfig::default(),
            templates: TemplatesConfig::default(),
            store: StoreConfig::default(),
            retention: RetentionConfig::default(),
            log: LogConfig::default(),
            itsm: vec![],
            vendor: vec![],
            rules: vec![],
            source: None,
            warnings: vec![],
        }
    }

    pub fn connection(&self, id: &str) -> Option<&ItsmConfig> {
        self.itsm.iter().find(|c| c.id.as_str() == id)
    }
    pub fn vendor(&self, id: &str) -> Option<&VendorConfig> {
        self.vendor.iter().find(|v| v.id.as_str() == id)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub admin_token: Option<Secret>,
    pub auditor_token: Option<Secret>,
    pub max_body_bytes: usize,
    /// How long SIGTERM waits for steps in flight before leaving them to be resumed.
    pub shutdown_grace: Dur,
    /// The Ed25519 signing key as PKCS#8 PEM (a secret); default: generated once in data_dir.
    pub audit_key: Option<Secret>,
    /// Public keys (base64) of earlier audit keys, which `verify` still accepts.
    pub audit_keys_previous: Vec<String>,
    /// A request's headers must arrive within this from its first byte (or from the connection's
    /// opening); a client that stalls longer is disconnected.
    pub header_read_timeout: Dur,
    /// A request's body must arrive within this from the end of its headers.
    pub body_read_timeout: Dur,
    /// How long a keep-alive connection may wait for its next request.
    pub keep_alive_timeout: Dur,
    /// Open client connections at most; past it the longest-waiting connection that has no
    /// request being handled is closed to make room.
    pub max_connections: usize,
    /// CAs every outbound HTTPS call trusts besides the system's trust store.
    pub ca_bundle: Option<crate::outbound::CaBundle>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            public_url: None,
            admin_token: None,
            auditor_token: None,
            max_body_bytes: 1024 * 1024,
            shutdown_grace: Dur::secs(8),
            audit_key: None,
            audit_keys_previous: vec![],
            header_read_timeout: Dur::secs(10),
            body_read_timeout: Dur::secs(30),
            keep_alive_timeout: Dur::secs(30),
            max_connections: 1024,
            ca_bundle: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Jobs worked on at once, over all connections.
    pub concurrency: usize,
    /// Jobs worked on at once for one connection, so a slow ticket system cannot take every slot.
    pub per_connection: usize,
    /// How long a worker owns a job before another may take it over.
    pub lease: Dur,
    /// Timeout of one outbound HTTP call.
    pub request_timeout: Dur,
    pub retry: RetryConfig,
    /// How often the dispatcher looks for due jobs when nothing wakes it.
    pub tick: Dur,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 32,
            per_connection: 8,
            lease: Dur::secs(120),
            request_timeout: Dur::secs(30),
            retry: RetryConfig::default(),
            tick: Dur::millis(500),
        }
    }
}

/// How transient failures are retried: exponential backoff, until the time budget of the
/// job's phase runs out (not a count of attempts).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// First backoff; each further attempt doubles it, up to `max`, with ±25 % jitter.
    pub base: Dur,
    pub max: Dur,
    /// While the agent waits for the link (queued, session_created, link_posted): retried
    /// until this long after the phase began; then the job fails with a note on the ticket.
    pub link_budget: Dur,
    /// While waiting for the session's end (from the last successful look), collecting and
    /// attaching (from the end of the session): auditors need the artifacts even after a long
    /// outage.
    pub artifacts_budget: Dur,
    /// Deprecated (the count of attempts before a job failed): still read so that older files
    /// load, ignored, and reported as a warning by `check` and the log.
    pub attempts: Option<u32>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            base: Dur::secs(2),
            max: Dur::secs(300),
            link_budget: Dur::secs(15 * 60),
            artifacts_budget: Dur::secs(72 * 3600),
            attempts: None,
        }
    }
}

/// `[store]`: which backend keeps the jobs (SPEC §3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub kind: crate::store::Kind,
    /// The PostgreSQL URL (a secret: `${DATABASE_URL}` or `file:`); only for `postgres`.
    pub url: Option<Secret>,
    pub max_connections: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: crate::store::Kind::Sled,
            url: None,
            max_connections: 16,
        }
    }
}

/// `[retention]`: how long finished jobs and the stored copies of attached artifacts are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub jobs: Dur,
    pub local_artifacts: Dur,
    /// How often the retention pass runs.
    pub every: Dur,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            jobs: Dur::secs(400 * 86_400),
            local_artifacts: Dur::secs(30 * 86_400),
            every: Dur::secs(3600),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// A directory whose `<name>.j2` files replace the built-in templates of the same name.
    pub dir: Option<PathBuf>,
}

/// `[log]`: how the service logs. `RUST_LOG` and `DESKBRIDGE_LOG_FORMAT` override these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A filter in `RUST_LOG` syntax (`info`, `warn,deskbridge=debug`); default `info`.
    pub level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One line per event, for a terminal or journald.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The `kind` of a connection or a vendor: a name its registry knows (`src/itsm/registry.rs`,
/// `src/remote/registry.rs`), so a new system needs no new variant anywhere outside its folder.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Kind(&'static str);

impl Kind {
    pub const fn new(name: &'static str) -> Self {
        Kind(name)
    }
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// The bare name, as the enum it replaces printed it.
impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// One `[[itsm]]` table: the keys every ticket system takes, and the rest as the adapter's own
/// settings type (auth, inbound, and whatever only that system has).
#[derive(Debug, Clone)]
pub struct ItsmConfig {
    pub id: ConnectionId,
    pub kind: Kind,
    pub base_url: String,
    pub rate_limit: Option<RateLimit>,
    /// CAs this connection's HTTPS trusts besides the system's and `server.ca_bundle`.
    pub ca_bundle: Option<crate::outbound::CaBundle>,
    pub settings: Arc<dyn ItsmSettings>,
}

impl ItsmConfig {
    /// The settings as their own type, when they are of kind `S`.
    pub fn settings<S: ItsmSettings>(&self) -> Option<&S> {
        (self.settings.as_ref() as &dyn Any).downcast_ref()
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Dur,
}

/// One `[[vendor]]` table: the keys every vendor takes, and the rest as the adapter's own
/// settings type (auth, portal, ...).
#[derive(Debug, Clone)]
pub struct VendorConfig {
    pub id: VendorId,
    pub kind: Kind,
    pub base_url: String,
    pub poll: PollConfig,
    pub rate_limit: Option<RateLimit>,
    /// CAs this vendor's HTTPS trusts besides the system's and `server.ca_bundle`.
    pub ca_bundle: Option<crate::outbound::CaBundle>,
    pub settings: Arc<dyn VendorSettings>,
}

impl VendorConfig {
    /// The settings as their own type, when they are of kind `S`.
    pub fn settings<S: VendorSettings>(&self) -> Option<&S> {
        (self.settings.as_ref() as &dyn Any).downcast_ref()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollConfig {
    pub every: Dur,
    pub max_every: Dur,
    pub give_up_after: Dur,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            every: Dur::secs(30),
            max_every: Dur::secs(300),
            give_up_after: Dur::secs(24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Internal,
    Public,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    SessionLog,
    FileTransferLog,
    ChatTranscript,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 3] = [
        ArtifactKind::SessionLog,
        ArtifactKind::FileTransferLog,
        ArtifactKind::ChatTranscript,
    ];
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSpec {
    pub template: String,
    #[serde(default)]
    pub visibility: Visibility,
}

impl NoteSpec {
    fn internal(template: &str) -> Self {
        NoteSpec {
            template: template.into(),
            visibility: Visibility::Internal,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub connection: ConnectionId,
    #[serde(default, rename = "match")]
    pub matches: MatchConfig,
    pub vendor: VendorId,
    #[serde(default)]
    pub vendor_options: VendorOptions,
    #[serde(default = "default_link_note")]
    pub link_note: NoteSpec,
    #[serde(default = "default_instructions_note")]
    pub instructions_note: NoteSpec,
    #[serde(default = "default_collect")]
    pub collect: Vec<ArtifactKind>,
    #[serde(default = "default_summary_note")]
    pub summary_note: NoteSpec,
    #[serde(default = "default_expiry_note")]
    pub expiry_note: NoteSpec,
    #[serde(default = "default_failure_note")]
    pub failure_note: NoteSpec,
    /// Posted when an admin cancels a job whose link may be on the ticket.
    #[serde(default = "default_cancel_note")]
    pub cancel_note: NoteSpec,
}

fn default_link_note() -> NoteSpec {
    NoteSpec::internal("session_link")
}
fn default_instructions_note() -> NoteSpec {
    NoteSpec::internal("session_instructions")
}
fn default_summary_note() -> NoteSpec {
    NoteSpec::internal("session_summary")
}
fn default_expiry_note() -> NoteSpec {
    NoteSpec::internal("session_expired")
}
fn default_failure_note() -> NoteSpec {
    NoteSpec::internal("session_failed")
}
fn default_cancel_note() -> NoteSpec {
    NoteSpec::internal("session_cancelled")
}
fn default_collect() -> Vec<ArtifactKind> {
    ArtifactKind::ALL.to_vec()
}

/// Conditions of a rule; each list is "any of", and every non-empty condition must hold.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchConfig {
    pub queue: Vec<String>,
    pub priority: Vec<String>,
    pub tags_any: Vec<String>,
    pub tags_all: Vec<String>,
    pub category: Vec<String>,
    pub requester_domain: Vec<String>,
    pub project: Vec<String>,
    pub brand: Vec<String>,
    pub workspace: Vec<String>,
    pub service_desk: Vec<String>,
    pub request_type: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorOptions {
    /// Splashtop channel; 0 is the private channel.
    pub channel_id: Option<u64>,
    /// Sunlogin seat account the agent connects from; default the agent's e-mail.
    pub seat: Option<String>,
}
