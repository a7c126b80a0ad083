//! Sunlogin 向日葵 (Oray 贝锐 open API, contracts/sunlogin.md): attended support without a
//! session API.
//!
//! The management API cannot create a session or an invitation, so "creating" one records who
//! should connect (the seat), from when, and to which device; the worker posts instructions
//! instead of a link. Polling then looks for that seat's session in 查询远程日志列表 and waits
//! for its end; collection takes that row, the seat log of its window (查询坐席日志) and its file
//! transfers (查询文件传输日志). There is no chat-transcript API.
//!
//! Every call is signed (`sign.rs`) and carries the identity from `tokens.rs`; a 401 renews the
//! token once and repeats the call once. Every assumed API fact lives in `assumed.rs`.

mod assumed;
mod client;
mod correlate;
mod demo;
mod jwt;
mod settings;
mod sign;
mod tables;
mod tokens;

pub use settings::{Auth, Credentials, Settings};

use super::registry::Entry;
use super::{
    Availability, BuildCtx, Collected, CredentialStatus, Result, Session, SessionRequest,
    SessionState, Vendor, VendorError,
};
use crate::clock::Millis;
use crate::config::{ArtifactKind, PollConfig, VendorConfig};
use crate::ids::VendorId;
use crate::outbound::{Target, Upstream};
use crate::store::Store;
use async_trait::async_trait;
use client::Api;
use correlate::Watch;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use tracing::instrument;

/// Allowance for the difference between our clock and Sunlogin's.
const CLOCK_SKEW_SECS: i64 = 120;
/// Most pages read from one paged call (100 rows each): a bound, not an expectation.
const MAX_PAGES: usize = 100;
/// The reason the summary note gives for the chat.
pub const NO_CHAT: &str = "from Sunlogin (its open API has no chat transcripts)";

/// `kind = "sunlogin"` in the registry.
pub static KIND: Entry = Entry::of::<Settings>("sunlogin", demo::start);

pub struct Sunlogin {
    id: VendorId,
    api: Arc<Api>,
    tokens: tokens::Tokens,
    poll: PollConfig,
    store: Store,
}

impl std::fmt::Debug for Sunlogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sunlogin")
            .field("id", &self.id)
            .field("api", &self.api)
            .field("tokens", &self.tokens)
            .finish()
    }
}

fn not_asked<T>() -> Availability<T> {
    Availability::NotAvailable("not collected by this rule".into())
}

impl Sunlogin {
    fn new(cfg: &VendorConfig, settings: &Settings, ctx: &BuildCtx) -> Self {
        let Auth::Sunlogin(Credentials {
            app_key,
            app_secret,
            account,
            password,
        }) = &settings.auth;
        let what = format!("Sunlogin {}", cfg.id);
        let up = Upstream::new(
            Target::vendor("sunlogin", &cfg.id),
            &cfg.base_url,
            cfg.rate_limit,
            ctx.timeout,
            ctx.metrics.clone(),
            &ctx.trust,
        );
        let api = Arc::new(Api::new(
            what,
            up,
            sign::Signer::new(app_key.clone(), app_secret.clone()),
        ));
        let tokens = tokens::Tokens::new(
            api.clone(),
            cfg.id.as_str(),
            account.clone(),
            password.clone(),
            &ctx.store,
            ctx.metrics.clone(),
            ctx.clock.clone(),
        );
        Sunlogin {
            id: cfg.id.clone(),
            api,
            tokens,
            poll: cfg.poll.clone(),
            store: ctx.store.clone(),
        }
    }

    /// A business call with the current AccessToken; on 401, one renewal and one more try.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let token = self.tokens.bearer().await?;
        match self
            .api
            .call(Method::GET, path, query, None, Some(&token))
            .await
        {
            Err(e) if client::is_token_refused(&e) => {
                tracing::info!(vendor = %self.id, "Sunlogin refused the AccessToken; renewing it and trying once more");
                let token = self.tokens.after_refusal(&token).await?;
                self.api
                    .call(Method::GET, path, query, None, Some(&token))
                    .await
            }
            other => other,
        }
    }

    /// Every row of a paged call.
    async fn all_rows(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut rows = vec![];
        for page in 1..=MAX_PAGES {
            let mut q = query.to_vec();
            q.push((assumed::PAGE_PARAM, page.to_string()));
            q.push((assumed::PAGE_SIZE_PARAM, assumed::PAGE_SIZE.to_string()));
            let data = self.get(path, &q).await?;
            let batch = data[assumed::LIST_KEY]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // `total` is assumed (as a number or a numeric string); without it, a full page
            // means there may be more.
            let total = correlate::secs(&data[assumed::TOTAL_KEY]).map(|t| t.max(0) as usize);
            let got = batch.len();
            rows.extend(batch);
            let complete = match total {
                Some(t) => rows.len() >= t,
                None => got < assumed::PAGE_SIZE as usize,
            };
            if got == 0 || complete {
                break;
            }
        }
        Ok(rows)
    }

    fn watch(&self, session: &Session) -> Result<Watch> {
        serde_json::from_value(session.extra.clone()).map_err(|e| {
            VendorError::Contract(format!(
                "Sunlogin {}: the job's session record is not a Sunlogin one ({e})",
                self.id
            ))
        })
    }

    /// The store could not be read or written: worth another try later.
    fn claim_error(&self, e: crate::store::StoreError) -> VendorError {
        crate::outbound::UpstreamError::transient(format!(
            "Sunlogin {}: the store cannot record which job a session belongs to: {e}",
            self.id
        ))
        .into()
    }

    fn watch_key(&self, seat: &str, job: &str) -> String {
        format!("{}{job}", self.watch_prefix(seat))
    }

    fn watch_prefix(&self, seat: &str) -> String {
        format!("sunlogin/{}/watch/{}/", self.id, seat.trim().to_lowercase())
    }

    /// The other jobs watching this seat now (registered by `create_session`, removed when
    /// they claim a row or are closed); watches older than `give_up_after` are ignored.
    async fn other_watches(&self, w: &Watch) -> Result<Vec<Watch>> {
        let oldest = Millis::now().unix_secs()
            - self.poll.give_up_after.0.as_secs() as i64
            - CLOCK_SKEW_SECS;
        let all = self
            .store
            .kv_scan(&self.watch_prefix(&w.seat))
            .await
            .map_err(|e| self.claim_error(e))?;
        Ok(all
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice::<Watch>(&v).ok())
            .filter(|o| o.job != w.job && o.since >= oldest)
            .collect())
    }

    fn claim_key(&self, log_id: &str) -> String {
        format!("sunlogin/{}/claimed/{log_id}", self.id)
    }

    /// Whether another job took this row.
    async fn taken_by_other(&self, log_id: &str, job: &str) -> Result<bool> {
        let held = self
            .store
            .kv_get(&self.claim_key(log_id))
            .await
            .map_err(|e| self.claim_error(e))?;
        Ok(held.is_some_and(|h| h != job.as_bytes()))
    }

    /// Take an ended row for `job`; false when another job got it first.
    async fn claim(&self, log_id: &str, job: &str) -> Result<bool> {
        let key = self.claim_key(log_id);
        let won = self
            .store
            .kv_compare_and_swap(&key, None, job.as_bytes())
            .await
            .map_err(|e| self.claim_error(e))?;
        Ok(won || !self.taken_by_other(log_id, job).await?)
    }

    fn over(session: &Session, w: &Watch, row: &Value, end: i64) -> SessionState {
        let id = correlate::log_id(row);
        let mut s = session.clone();
        s.id = id.clone();
        s.code = id.clone();
        s.extra = serde_json::to_value(Watch {
            row: Some(row.clone()),
            ..w.clone()
        })
        .unwrap_or(Value::Null);
        let status = format!(
            "ended (Sunlogin remote log {id}, {})",
            Millis::from_unix_secs(end).rfc3339()
        );
        SessionState::Over { status, session: s }
    }
}

#[async_trait]
impl Vendor for Sunlogin {
    fn id(&self) -> &VendorId {
        &self.id
    }
    async fn test_connection(&self) -> crate::outbound::Probe {
        match self.tokens.sign_in_now().await {
            Ok(()) => crate::outbound::Probe::ok("signed in; a new token pair is stored"),
            // The message already says what to check.
            Err(VendorError::ReAuthorise(message)) => crate::outbound::Probe { ok: false, message },
            Err(e) => e.probe(&assumed::ADVICE),
        }
    }
    fn gives_link(&self) -> bool {
        false
    }
    fn poll(&self) -> &PollConfig {
        &self.poll
    }

    /// Nothing is created at Sunlogin; the identity is checked now, so a dead grant fails the
    /// job before the end user is told to do anything.
    /// Creating a Sunlogin "session" only records locally which seat to watch: nothing at the
    /// vendor can be left behind.
    async fn find_created(&self, _req: &SessionRequest) -> Result<crate::remote::FindCreated> {
        Ok(crate::remote::FindCreated::NotFound)
    }

    #[instrument(skip_all, fields(vendor = %self.id, job_id = %req.job))]
    async fn create_session(&self, req: &SessionRequest) -> Result<Session> {
        let seat = req.options.seat.clone().or_else(|| req.agent_email.clone()).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            VendorError::Contract(format!("Sunlogin {}: no seat to watch: set vendor_options.seat on the rule, or assign the ticket to an agent with an e-mail", self.id))
        })?;
        self.tokens.bearer().await?;
        let now = Millis::now();
        let job = req.job.to_string();
        let watch = Watch {
            job: job.clone(),
            seat: seat.clone(),
            device: req.device.clone().filter(|d| !d.trim().is_empty()),
            // From the click, not from when the worker got here, less an allowance for the two
            // clocks: an agent who connects at once must not start "before the note".
            since: req.requested_at.unix_secs() - CLOCK_SKEW_SECS,
            row: None,
        };
        self.store
            .kv_put(
                &self.watch_key(&watch.seat, &job),
                &serde_json::to_vec(&watch).unwrap_or_default(),
            )
            .await
            .map_err(|e| self.claim_error(e))?;
        Ok(Session {
            code: format!("pending-{}", req.job.short()),
            id: job,
            end_user_link: None,
            technician_link: None,
            seat: Some(seat),
            created_at: now,
            extra: serde_json::to_value(&watch).unwrap_or(Value::Null),
        })
    }

    #[instrument(skip_all, fields(vendor = %self.id, session = %session.code))]
    async fn session_state(&self, session: &Session) -> Result<SessionState> {
        let w = self.watch(session)?;
        let now = Millis::now().unix_secs();
        let q = [
            (assumed::START_PARAM, w.since.to_string()),
            (assumed::END_PARAM, now.to_string()),
        ];
        let rows = self.all_rows(assumed::REMOTE_LOGS_PATH, &q).await?;
        let others = self.other_watches(&w).await?;
        for row in correlate::candidates(&rows, &w) {
            let id = correlate::log_id(row);
            if self.taken_by_other(&id, &w.job).await? || !correlate::belongs_to(row, &w, &others) {
                continue;
            }
            match correlate::ended_at(row) {
                None => {
                    return Ok(SessionState::Open {
                        status: format!("connected (Sunlogin remote log {id}, still running)"),
                    })
                }
                Some(end) => {
                    if !self.claim(&id, &w.job).await? {
                        continue;
                    }
                    let _ = self.store.kv_take(&self.watch_key(&w.seat, &w.job)).await;
                    return Ok(Self::over(session, &w, row, end));
                }
            }
        }
        Ok(SessionState::Open {
            status: format!("waiting for {} to connect", w.seat),
        })
    }

    #[instrument(skip_all, fields(vendor = %self.id, session = %session.code))]
    async fn collect(&self, session: &Session, what: &[ArtifactKind]) -> Result<Collected> {
        let w = self.watch(session)?;
        let row = w.row.clone().ok_or_else(|| {
            VendorError::Contract(format!(
                "Sunlogin {}: the session was never matched to a remote log row",
                self.id
            ))
        })?;
        let log_id = correlate::log_id(&row);
        let session_log = if what.contains(&ArtifactKind::SessionLog) {
            let end = correlate::ended_at(&row).unwrap_or_else(|| Millis::now().unix_secs());
            // The seat's activity during this session only: from the note's time on it could
            // include another ticket's session.
            let start = correlate::secs(&row[assumed::START_TIME]).unwrap_or(w.since);
            let q = [
                (assumed::SEAT_PARAM, w.seat.clone()),
                (assumed::START_PARAM, start.to_string()),
                (assumed::END_PARAM, end.to_string()),
            ];
            let seat_rows = self.all_rows(assumed::SEAT_LOGS_PATH, &q).await?;
            Availability::Available(tables::session_log(&row, &seat_rows))
        } else {
            not_asked()
        };
        let file_transfers = if what.contains(&ArtifactKind::FileTransferLog) {
            let rows = self
                .all_rows(
                    assumed::FILE_TRANSFER_PATH,
                    &[(assumed::LOG_ID_PARAM, log_id)],
                )
                .await?;
            if rows.is_empty() {
                Availability::NotAvailable("no files were transferred in this session".into())
            } else {
                Availability::Available(tables::file_transfers(&rows))
            }
        } else {
            not_asked()
        };
        let chat = if what.contains(&ArtifactKind::ChatTranscript) {
            Availability::NotAvailable(NO_CHAT.into())
        } else {
            not_asked()
        };
        Ok(Collected {
            session_log,
            file_transfers,
            chat,
        })
    }

    /// Sessions are started and ended by the controller; there is nothing to close.
    /// Nothing to close at Sunlogin; the job stops watching the seat.
    async fn close_session(&self, session: &Session) -> Result<()> {
        if let Ok(w) = self.watch(session) {
            let _ = self.store.kv_take(&self.watch_key(&w.seat, &w.job)).await;
        }
        Ok(())
    }

    fn credentials(&self) -> CredentialStatus {
        self.tokens.status()
    }
}

#[cfg(test)]
mod tests;
