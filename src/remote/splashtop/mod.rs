//! Splashtop Open API (contracts/splashtop.md): attended-support (PSA) sessions.
//!
//! The team id comes from `basic_info` once and is cached (memory and store). A session is
//! over when its status is closed, expired or deleted. Log routes are assumed (see
//! `assumed.rs`) and paged; a chat route with no rows means transcript saving is off.

mod assumed;
mod demo;
mod envelope;
pub mod oauth;
mod settings;

pub use settings::{Auth, OAuth2, Settings};

use super::registry::Entry;
use super::{
    Availability, BuildCtx, ChatLine, Collected, CredentialStatus, OAuthFlow, Result, Session,
    SessionRequest, SessionState, Table, Vendor, VendorError,
};
use crate::clock::Millis;
use crate::config::{ArtifactKind, PollConfig, Secret, VendorConfig};
use crate::ids::VendorId;
use crate::outbound::{Retry, Target, Upstream, UpstreamError};
use crate::store::Store;
use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Mutex;
use tracing::instrument;

/// `customer_name` limit (result 40422 past it).
const CUSTOMER_NAME_MAX: usize = 64;
const OVER: [&str; 3] = ["closed", "expired", "deleted"];

/// `kind = "splashtop"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("splashtop", demo::start);

pub struct Splashtop {
    id: VendorId,
    up: Upstream,
    portal: String,
    auth: Credential,
    poll: PollConfig,
    store: Store,
    team: Mutex<Option<u64>>,
}

/// Where the bearer token comes from: the configuration (an API token), or the OAuth grant
/// in the store.
enum Credential {
    Token(Secret),
    OAuth(Box<oauth::OAuth>),
}

impl Credential {
    async fn bearer(&self) -> Result<Secret> {
        match self {
            Credential::Token(t) => Ok(t.clone()),
            Credential::OAuth(o) => o.bearer().await,
        }
    }
}

impl std::fmt::Debug for Splashtop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splashtop")
            .field("id", &self.id)
            .field("upstream", &self.up)
            .finish()
    }
}

fn not_asked<T>() -> Availability<T> {
    Availability::NotAvailable("not collected by this rule".into())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Splashtop {
    pub fn new(cfg: &VendorConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        let auth = match &settings.auth {
            Auth::Bearer(b) => Credential::Token(b.token.clone()),
            Auth::Oauth2(client) => Credential::OAuth(Box::new(oauth::OAuth::new(
                &cfg.id,
                client,
                settings.portal(),
                ctx,
            ))),
        };
        Splashtop {
            id: cfg.id.clone(),
            up: Upstream::new(
                Target::vendor("splashtop", &cfg.id),
                &format!("{}/api/open/v1", cfg.base_url.trim_end_matches('/')),
                cfg.rate_limit,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            portal: settings.portal(),
            auth,
            poll: cfg.poll.clone(),
            store: ctx.store.clone(),
            team: Mutex::new(None),
        }
    }

    /// One call with the current bearer token. With OAuth, a token Splashtop refuses is renewed
    /// once and the call repeated once; an API token refused is the admin's to replace.
    async fn call(&self, rb: reqwest::RequestBuilder) -> Result<Value> {
        let again = rb.try_clone();
        let token = self.auth.bearer().await?;
        match (self.send(rb, &token).await, &self.auth, again) {
            (Err(e), Credential::OAuth(o), Some(again)) if e.retry() == Retry::Auth => {
                tracing::info!(vendor = %self.id, "Splashtop refused the OAuth access token; renewing it and trying once more");
                let token = o.after_refusal(&token).await?;
                self.send(again, &token).await
            }
            (res, _, _) => res,
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder, token: &Secret) -> Result<Value> {
        let rb = rb
            .bearer_auth(token.expose())
            .header("Accept", "application/json");
        let resp = self.up.send(rb).await?;
        envelope::read(&format!("Splashtop {}", self.id), resp).await
    }

    fn path(&self, team: u64, rest: &str) -> String {
        self.up.url(&format!("/teams/{team}/{rest}"))
    }

    /// The team id, from memory, the store, or `basic_info` (then kept in both).
    async fn team_id(&self) -> Result<u64> {
        let mut cached = self.team.lock().await;
        if let Some(t) = *cached {
            return Ok(t);
        }
        // Keyed by the credential: a token (or OAuth client) of another team finds nothing
        // cached and asks basic_info again.
        let who = match &self.auth {
            Credential::Token(t) => crate::remote::identity_tag(t.expose()),
            Credential::OAuth(o) => crate::remote::identity_tag(o.client_id()),
        };
        let key = format!("splashtop/{}/team_id/{who}", self.id);
        let stored = self
            .store
            .kv_get(&key)
            .await
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok()?.parse().ok());
        let team = match stored {
            Some(t) => t,
            None => {
                let data = self
                    .call(self.up.client().get(self.up.url("/users/basic_info")))
                    .await?;
                let t = data["scopes"]["psa"]["team_id"].as_u64().ok_or_else(|| {
                    VendorError::Contract(format!(
                        "Splashtop {}: basic_info has no scopes.psa.team_id: the API token needs the psa scope", self.id
                    ))
                })?;
                let _ = self.store.kv_put(&key, t.to_string().as_bytes()).await;
                t
            }
        };
        *cached = Some(team);
        Ok(team)
    }

    fn session_from(&self, data: &Value, fallback_created: Millis) -> Result<Session> {
        let s = &data["support_session"];
        let code = text(&s["code"]);
        let id = text(&s["id"]);
        if code.is_empty() || id.is_empty() {
            return Err(VendorError::Contract(format!(
                "Splashtop {}: the session answer has no id or code",
                self.id
            )));
        }
        let link = s["support_portal_link"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("{}/service_desk/psa/{code}", self.portal));
        Ok(Session {
            technician_link: Some(format!(
                "st-business://com.splashtop.business/?sos={code}&category=40"
            )),
            end_user_link: Some(link),
            seat: s["assignee_email"].as_str().map(String::from),
            created_at: fallback_created,
            extra: serde_json::json!({"status": s["status"]}),
            id,
            code,
        })
    }

    /// Every row of a paged log route for the session.
    async fn all_rows(&self, team: u64, route: &str, session: &Session) -> Result<Vec<Value>> {
        let mut rows = vec![];
        for page in 1.. {
            let rb = self.up.client().get(self.path(team, route)).query(&[
                (assumed::SESSION_PARAM, session.id.clone()),
                ("page", page.to_string()),
                ("per_page", assumed::PER_PAGE.to_string()),
            ]);
            let data = self.call(rb).await?;
            let batch = data[assumed::ROWS_KEY]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // `total` is an assumed field: without it, a full page means there may be more.
            let total = data[assumed::TOTAL_KEY].as_u64().map(|t| t as usize);
            let got = batch.len();
            rows.extend(batch);
            let complete = match total {
                Some(t) => rows.len() >= t,
                None => got < assumed::PER_PAGE,
            };
            if got == 0 || complete || page > 10_000 {
                break;
            }
        }
        Ok(rows)
    }

    fn table(fields: &[&str], rows: &[Value]) -> Table {
        Table {
            columns: fields.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| fields.iter().map(|f| text(&r[*f])).collect())
                .collect(),
        }
    }
}

#[async_trait]
impl Vendor for Splashtop {
    fn id(&self) -> &VendorId {
        &self.id
    }
    async fn test_connection(&self) -> crate::outbound::Probe {
        use crate::outbound::Probe;
        let data = match self
            .call(self.up.client().get(self.up.url("/users/basic_info")))
            .await
        {
            Ok(data) => data,
            Err(e) => return e.probe(&assumed::ADVICE),
        };
        let scopes: Vec<&str> = data["scopes"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        match data["scopes"][assumed::NEEDED_SCOPE]["team_id"].as_u64() {
            Some(team) => Probe::ok(format!("team {team}, scopes {}", scopes.join(", "))),
            None => Probe::failed(
                format!(
                    "Splashtop {}: the token has scopes [{}] but not {}",
                    self.id,
                    scopes.join(", "),
                    assumed::NEEDED_SCOPE
                ),
                assumed::ADVICE.forbidden,
            ),
        }
    }
    fn gives_link(&self) -> bool {
        true
    }
    fn poll(&self) -> &PollConfig {
        &self.poll
    }

    #[instrument(skip_all, fields(vendor = %self.id, job_id = %req.job))]
    async fn create_session(&self, req: &SessionRequest) -> Result<Session> {
        let team = self.team_id().await?;
        let body = serde_json::json!({
            "channel_id": req.options.channel_id.unwrap_or(0),
            "customer_name": truncate(&req.customer_name, CUSTOMER_NAME_MAX),
            // The job id lets an admin trace a session orphaned by a crash during this call.
            "customer_issue": format!("{} [deskbridge {}]", truncate(&format!("{}: {}", req.ticket_number, req.subject), 440), req.job),
        });
        let data = self
            .call(
                self.up
                    .client()
                    .post(self.path(team, "psa/support_sessions"))
                    .json(&body),
            )
            .await?;
        self.session_from(&data, Millis::now())
    }

    #[instrument(skip_all, fields(vendor = %self.id, session = %session.code))]
    async fn session_state(&self, session: &Session) -> Result<SessionState> {
        let team = self.team_id().await?;
        let answer = self
            .call(
                self.up
                    .client()
                    .get(self.path(team, &format!("psa/support_sessions/{}", session.id))),
            )
            .await;
        let status = match answer {
            Ok(data) => data["support_session"]["status"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            // 40404: the session is gone (expired or deleted under the channel's policy):
            // that is over, and what it left behind can still be collected.
            Err(VendorError::Upstream(UpstreamError {
                status: Some(404), ..
            })) => "deleted".to_string(),
            Err(e) => return Err(e),
        };
        if OVER.contains(&status.as_str()) {
            let mut s = session.clone();
            s.extra = serde_json::json!({"status": status});
            Ok(SessionState::Over { status, session: s })
        } else {
            Ok(SessionState::Open { status })
        }
    }

    #[instrument(skip_all, fields(vendor = %self.id, session = %session.code))]
    async fn collect(&self, session: &Session, what: &[ArtifactKind]) -> Result<Collected> {
        let team = self.team_id().await?;
        let session_log = if what.contains(&ArtifactKind::SessionLog) {
            let rows = self
                .all_rows(team, assumed::SESSION_LOG_PATH, session)
                .await?;
            if rows.is_empty() {
                Availability::NotAvailable(
                    "Splashtop has no log rows for this session (it may never have been connected)"
                        .into(),
                )
            } else {
                Availability::Available(Self::table(&assumed::SESSION_LOG_FIELDS, &rows))
            }
        } else {
            not_asked()
        };
        let file_transfers = if what.contains(&ArtifactKind::FileTransferLog) {
            let rows = self
                .all_rows(team, assumed::FILE_TRANSFER_PATH, session)
                .await?;
            if rows.is_empty() {
                Availability::NotAvailable("no files were transferred in this session".into())
            } else {
                Availability::Available(Self::table(&assumed::FILE_TRANSFER_FIELDS, &rows))
            }
        } else {
            not_asked()
        };
        let chat = if what.contains(&ArtifactKind::ChatTranscript) {
            let rows = self.all_rows(team, assumed::CHAT_PATH, session).await?;
            if rows.is_empty() {
                Availability::NotAvailable("Splashtop saved no chat transcript (transcript saving is off for the team, or nobody chatted)".into())
            } else {
                let [t, a, m] = assumed::CHAT_FIELDS;
                Availability::Available(
                    rows.iter()
                        .map(|r| ChatLine {
                            time: text(&r[t]),
                            author: text(&r[a]),
                            message: text(&r[m]),
                        })
                        .collect(),
                )
            }
        } else {
            not_asked()
        };
        Ok(Collected {
            session_log,
            file_transfers,
            chat,
        })
    }

    #[instrument(skip_all, fields(vendor = %self.id, session = %session.code))]
    async fn close_session(&self, session: &Session) -> Result<()> {
        let team = self.team_id().await?;
        let rb = self
            .up
            .client()
            .put(self.path(team, &format!("psa/support_sessions/{}/action", session.id)))
            .json(&serde_json::json!({"kind": "close"}));
        match self.call(rb).await {
            Ok(_) => Ok(()),
            // already gone is what we wanted
            Err(VendorError::Upstream(UpstreamError {
                status: Some(404), ..
            })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn credentials(&self) -> CredentialStatus {
        match &self.auth {
            Credential::OAuth(o) => o.status(),
            Credential::Token(_) => CredentialStatus::configured("api_token"),
        }
    }

    async fn keep_credentials_alive(&self) {
        if let Credential::OAuth(o) = &self.auth {
            o.keep_alive().await;
        }
    }

    fn oauth(&self) -> Option<&dyn OAuthFlow> {
        match &self.auth {
            Credential::OAuth(o) => Some(o.as_ref()),
            Credential::Token(_) => None,
        }
    }
}

#[cfg(test)]
mod team_cache_tests;
