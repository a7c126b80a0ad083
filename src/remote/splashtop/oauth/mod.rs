//! Splashtop OAuth 2.0 (contracts/splashtop.md §Authentication): the authorization-code grant
//! an admin runs once through `/oauth/{vendor}/start`, then an access token (24 h) refreshed
//! before it expires with the refresh token (30 days).
//!
//! The pair lives in the store and is renewed one caller at a time, durably before use (see
//! `remote::grant`). The refresh token's own end cannot be pushed back by deskbridge (whether
//! Splashtop rotates it is not documented): when it nears, the status API, the log and the
//! `deskbridge_vendor_refresh_token_expires_in_seconds` metric say so days ahead, so an admin
//! can run the browser flow again in time. The token endpoint itself is assumed (`assumed.rs`).

use super::{assumed, OAuth2};
use crate::clock::{Clock, Millis};
use crate::config::Secret;
use crate::ids::VendorId;
use crate::metrics::Metrics;
use crate::outbound::{read_json, Retry, Target, Upstream};
use crate::remote::grant::{GrantSlot, Loaded};
use crate::remote::{BuildCtx, CredentialStatus, Granted, OAuthFlow, Result, VendorError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// Access token lifetime when the answer gives no `expires_in` [verified: 24 h].
const ACCESS_TTL_SECS: i64 = 24 * 3600;
/// Refresh token lifetime [verified: 30 days], unless the answer says otherwise.
const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// Warn this long before the refresh token ends.
pub const WARN_BEFORE_SECS: i64 = 7 * 24 * 3600;
/// Renew the access token at most this long before it expires (a quarter of a short life).
const MAX_MARGIN_SECS: i64 = 600;
/// The keeper renews ahead by this much more, since it comes by only every few minutes.
const KEEPER_AHEAD_SECS: i64 = 2 * crate::remote::keeper::EVERY.as_secs() as i64;
/// A warning is logged at most this often per vendor.
const WARN_EVERY_SECS: i64 = 3600;
/// Scopes asked for when the configuration names none.
pub const DEFAULT_SCOPE: &str = "users,psa,logs";

#[derive(Clone, Serialize, Deserialize)]
pub struct OAuthPair {
    access_token: String,
    refresh_token: String,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    obtained_at: i64,
}

impl std::fmt::Debug for OAuthPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthPair")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

impl OAuthPair {
    fn fresh(&self, now: i64, ahead: i64) -> bool {
        let margin = ((self.access_expires_at - self.obtained_at) / 4).clamp(0, MAX_MARGIN_SECS);
        now + ahead < self.access_expires_at - margin
    }
}

/// "2 days 23 hours", "5 hours", "12 minutes": how an admin reads a deadline.
fn human(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => plural(m.max(1), "minute"),
        (0, h) => plural(h, "hour"),
        (d, 0) => plural(d, "day"),
        (d, h) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// RFC 6749 error answers: `{"error", "error_description"}`.
fn oauth_error(v: &Value) -> Option<String> {
    let e = v["error"].as_str()?;
    Some(match v["error_description"].as_str() {
        Some(d) => format!("{e}: {d}"),
        None => e.to_string(),
    })
}

pub struct OAuth {
    vendor: String,
    client_id: String,
    client_secret: Secret,
    redirect_uri: String,
    scope: String,
    portal: String,
    up: Upstream,
    slot: GrantSlot<OAuthPair>,
    metrics: Arc<Metrics>,
    /// Judges the tokens' ends: the service's clock, which a test may move.
    clock: Clock,
    /// The refresh token last refused for good and the message, for the status API. It counts
    /// while that token is still the stored one: an authorisation through the callback (another
    /// `OAuth` value, same store) replaces the pair and so clears it.
    failure: Mutex<Option<(String, String)>>,
    last_warned: AtomicI64,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("vendor", &self.vendor)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

impl OAuth {
    /// The OAuth client this flow authorises (not a secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The OAuth side of a Splashtop vendor configured with `auth.type = "oauth2"`.
    pub fn new(id: &VendorId, client: &OAuth2, portal: String, ctx: &BuildCtx) -> OAuth {
        let what = format!("Splashtop {id} OAuth");
        ctx.metrics
            .declare_renewals(id.as_str(), &["authorization_code", "refresh"]);
        OAuth {
            vendor: id.to_string(),
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone(),
            redirect_uri: client.redirect_uri.clone(),
            scope: client.scope.clone().unwrap_or_else(|| DEFAULT_SCOPE.into()),
            up: Upstream::new(
                Target::vendor("splashtop-oauth", id),
                &portal,
                None,
                ctx.timeout,
                ctx.metrics.clone(),
                &ctx.trust,
            ),
            portal,
            slot: GrantSlot::new(&ctx.store, format!("splashtop/{id}/oauth"), what),
            metrics: ctx.metrics.clone(),
            clock: ctx.clock.clone(),
            failure: Mutex::new(None),
            last_warned: AtomicI64::new(0),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_secs()
    }

    fn start_url(&self) -> String {
        format!("/oauth/{}/start", self.vendor)
    }

    /// Where the admin's browser goes to approve deskbridge.
    pub fn authorize_url(&self, state: &str) -> String {
        format!(
            "{}{}?client_id={}&scope={}&response_type=code&state={}&redirect_uri={}",
            self.portal,
            assumed::OAUTH_AUTHORIZE_PATH,
            enc(&self.client_id),
            enc(&self.scope),
            enc(state),
            enc(&self.redirect_uri)
        )
    }

    async fn token_call(&self, form: &[(&str, &str)]) -> Result<Value> {
        let rb = self
            .up
            .client()
            .post(self.up.url(assumed::OAUTH_TOKEN_PATH))
            .header("Accept", "application/json")
            .form(form);
        let resp = self.up.send(rb).await?;
        Ok(read_json(
            &format!("Splashtop {} token endpoint", self.vendor),
            resp,
            oauth_error,
        )
        .await?)
    }

    fn pair_from(&self, v: &Value, old: Option<&OAuthPair>) -> Result<OAuthPair> {
        let access_token = v["access_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        let access_token = access_token.ok_or_else(|| {
            VendorError::Contract(format!(
                "Splashtop {}: the token answer has no access_token",
                self.vendor
            ))
        })?;
        let t = self.now();
        let given_refresh = v["refresh_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from);
        let (refresh_token, refresh_expires_at) = match (given_refresh, old) {
            (Some(r), Some(o)) if r == o.refresh_token => (r, o.refresh_expires_at),
            (Some(r), _) => (r, t + REFRESH_TTL_SECS),
            (None, Some(o)) => (o.refresh_token.clone(), o.refresh_expires_at),
            (None, None) => {
                return Err(VendorError::Contract(format!(
                    "Splashtop {}: the token answer has no refresh_token",
                    self.vendor
                )))
            }
        };
        let refresh_expires_at = v[assumed::OAUTH_REFRESH_EXPIRES_IN_KEY]
            .as_i64()
            .map(|s| t + s)
            .unwrap_or(refresh_expires_at);
        let access_expires_at = t + v["expires_in"].as_i64().unwrap_or(ACCESS_TTL_SECS);
        Ok(OAuthPair {
            access_token,
            refresh_token,
            access_expires_at,
            refresh_expires_at,
            obtained_at: t,
        })
    }

    async fn keep(
        &self,
        old: Option<&Loaded<OAuthPair>>,
        pair: OAuthPair,
        via: &'static str,
    ) -> Result<OAuthPair> {
        let stored = self.slot.replace(old, pair).await?;
        self.metrics.token_renewal(&self.vendor, via);
        let p = &stored.value;
        tracing::info!(vendor = %self.vendor, via, access_token_expires_at = %Millis::from_unix_secs(p.access_expires_at),
            refresh_token_expires_at = %Millis::from_unix_secs(p.refresh_expires_at), "new Splashtop OAuth token pair stored");
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(stored.value)
    }

    /// The callback's half of the flow: trade the code for a pair and store it. The `state`
    /// the authorisation carried goes along: Splashtop uses it to generate the access token.
    pub async fn exchange(&self, code: &str, state: &str) -> Result<OAuthPair> {
        let _renewing = self.slot.lock().await?;
        let current = self.slot.load().await?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            (assumed::OAUTH_STATE_FIELD, state),
            ("redirect_uri", &self.redirect_uri),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ];
        let v = self.token_call(&form).await?;
        let pair = self.pair_from(&v, None)?;
        self.keep(current.as_ref(), pair, "authorization_code")
            .await
    }

    fn not_authorised(&self) -> VendorError {
        VendorError::ReAuthorise(format!(
            "Splashtop {}: not authorised yet: an admin must open {} in a browser",
            self.vendor,
            self.start_url()
        ))
    }

    /// A fresh access token, refreshed (once, whoever asks) when it is about to expire.
    pub async fn bearer(&self) -> Result<Secret> {
        if let Some(p) = self.slot.load().await? {
            if p.value.fresh(self.now(), 0) {
                return Ok(Secret::new(p.value.access_token));
            }
        }
        self.renew_if(|p| !p.fresh(self.now(), 0)).await
    }

    /// Splashtop refused `refused`: a new token, unless someone already replaced it.
    pub async fn after_refusal(&self, refused: &Secret) -> Result<Secret> {
        self.renew_if(|p| p.access_token == refused.expose()).await
    }

    async fn renew_if(&self, stale: impl Fn(&OAuthPair) -> bool) -> Result<Secret> {
        let _renewing = self.slot.lock().await?;
        let Some(old) = self.slot.load().await? else {
            return Err(self.not_authorised());
        };
        if !stale(&old.value) {
            return Ok(Secret::new(old.value.access_token));
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", old.value.refresh_token.as_str()),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ];
        match self.token_call(&form).await {
            Ok(v) => {
                let pair = self.pair_from(&v, Some(&old.value))?;
                Ok(Secret::new(
                    self.keep(Some(&old), pair, "refresh").await?.access_token,
                ))
            }
            Err(e) if matches!(e.retry(), Retry::Transient { .. }) => Err(e),
            Err(e) => {
                let msg = format!("Splashtop {}: the OAuth grant is gone ({e}): an admin must authorise again at {}", self.vendor, self.start_url());
                tracing::error!(vendor = %self.vendor, error = %msg, "Splashtop needs an admin");
                let dead = old.value.refresh_token.clone();
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some((dead, msg.clone()));
                Err(VendorError::ReAuthorise(msg))
            }
        }
    }

    /// From the pair last read or written (the keeper reads it every few minutes).
    pub fn status(&self) -> CredentialStatus {
        let mut st = CredentialStatus::configured("oauth2");
        let pair = match self.slot.last_seen() {
            Some(p) => p,
            None => {
                st.state = "not_authorised";
                st.warning = Some(format!(
                    "not authorised yet: an admin must open {} in a browser",
                    self.start_url()
                ));
                return st;
            }
        };
        st.access_token_expires_at = Some(Millis::from_unix_secs(pair.access_expires_at));
        st.refresh_token_expires_at = Some(Millis::from_unix_secs(pair.refresh_expires_at));
        let left = pair.refresh_expires_at - self.now();
        let at = Millis::from_unix_secs(pair.refresh_expires_at);
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some((_, msg)) = failure.filter(|(dead, _)| *dead == pair.refresh_token) {
            (st.state, st.warning) = ("reauthorise", Some(msg));
        } else if left <= 0 {
            st.state = "refresh_token_expired";
            st.warning = Some(format!("the Splashtop refresh token expired at {at}: Splashtop calls fail until an admin authorises again at {}", self.start_url()));
        } else if left <= WARN_BEFORE_SECS {
            st.state = "refresh_token_expiring";
            st.warning = Some(format!(
                "the Splashtop refresh token expires in {} ({at}): an admin must authorise again at {} before then",
                human(left),
                self.start_url()
            ));
        }
        st
    }

    /// Renew an access token that would expire before the keeper's next visits, then log what
    /// an admin must do (at most hourly).
    pub async fn keep_alive(&self) {
        if let Ok(Some(p)) = self.slot.load().await {
            if !p.value.fresh(self.now(), KEEPER_AHEAD_SECS) {
                if let Err(e) = self
                    .renew_if(|p| !p.fresh(self.now(), KEEPER_AHEAD_SECS))
                    .await
                {
                    tracing::warn!(vendor = %self.vendor, error = %e, "the Splashtop access token could not be renewed ahead of time");
                }
            }
        }
        let st = self.status();
        let Some(warning) = st.warning else { return };
        let last = self.last_warned.load(Ordering::Relaxed);
        if self.now() - last >= WARN_EVERY_SECS {
            self.last_warned.store(self.now(), Ordering::Relaxed);
            tracing::warn!(vendor = %self.vendor, state = st.state, "{warning}");
        }
    }
}

#[async_trait]
impl OAuthFlow for OAuth {
    fn authorize_url(&self, state: &str) -> String {
        OAuth::authorize_url(self, state)
    }
    async fn exchange(&self, code: &str, state: &str) -> Result<Granted> {
        let pair = OAuth::exchange(self, code, state).await?;
        Ok(Granted {
            access_expires_at: pair.access_expires_at,
            refresh_expires_at: pair.refresh_expires_at,
        })
    }
}

#[cfg(test)]
mod tests;
