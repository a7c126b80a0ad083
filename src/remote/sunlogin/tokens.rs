//! The identity every Sunlogin call carries (用户身份校验): an AccessToken (a JWT whose `exp` is
//! read before each call) and a single-use RefreshToken, kept as one value in the store.
//!
//! - Fresh (before `exp` minus a margin): used as is.
//! - Stale: renewed with 续租授权 by exactly one caller (see `remote::grant`); the new pair is
//!   on disk before anyone uses it.
//! - A business call answered 401: renewed the same way, unless another caller already replaced
//!   the refused token, then the call is retried once (in `mod.rs`).
//! - 续租授权 refused (the grant is gone: password changed, refresh token burned by a renewal
//!   whose answer never arrived): 身份授权 again from the configured account. If that is refused
//!   too, every job needing Sunlogin fails with "re-authorise Sunlogin".

use super::assumed;
use super::client::Api;
use super::jwt;
use crate::clock::{Clock, Millis};
use crate::config::Secret;
use crate::metrics::Metrics;
use crate::remote::grant::{GrantSlot, Loaded};
use crate::remote::{CredentialStatus, Result, VendorError};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// After the account was refused, jobs fail at once for this long instead of each trying to
/// sign in again: fifty jobs retrying a wrong password could get the account locked.
const REFUSED_COOL_DOWN_SECS: i64 = 60;

/// Renew this long before `exp` at most; short-lived tokens renew after three quarters of
/// their life instead, so a renewed token is never born stale.
const MAX_MARGIN_SECS: i64 = 60;

#[derive(Clone, Serialize, Deserialize)]
pub struct Pair {
    access_token: String,
    refresh_token: String,
    /// The AccessToken's `exp` claim; None when it has none (then used until refused).
    exp: Option<i64>,
    /// When deskbridge received the pair (Unix seconds).
    obtained_at: i64,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("exp", &self.exp)
            .field("obtained_at", &self.obtained_at)
            .finish_non_exhaustive()
    }
}

impl Pair {
    fn fresh(&self, now: i64) -> bool {
        match self.exp {
            None => true,
            Some(exp) => {
                let margin = ((exp - self.obtained_at) / 4).clamp(0, MAX_MARGIN_SECS);
                now < exp - margin
            }
        }
    }
    fn access(&self) -> Secret {
        Secret::new(self.access_token.clone())
    }
}

pub struct Tokens {
    api: Arc<Api>,
    vendor: String,
    account: String,
    password: Secret,
    slot: GrantSlot<Pair>,
    metrics: Arc<Metrics>,
    /// Judges `exp`: the service's clock, which a test may move.
    clock: Clock,
    /// The last "re-authorise Sunlogin" failure and when, for `/api/v1/status` and the cool-down;
    /// cleared by a success (a reload builds a new adapter, so fixed credentials apply at once).
    failure: Mutex<Option<(i64, String)>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("vendor", &self.vendor)
            .field("account", &self.account)
            .field("password", &self.password)
            .finish()
    }
}

impl Tokens {
    pub fn new(
        api: Arc<Api>,
        vendor: &str,
        account: String,
        password: Secret,
        store: &crate::store::Store,
        metrics: Arc<Metrics>,
        clock: Clock,
    ) -> Self {
        // Keyed by the account too: a pair issued for another account is never used.
        let key = format!(
            "sunlogin/{vendor}/tokens/{}",
            crate::remote::identity_tag(&account)
        );
        let slot = GrantSlot::new(store, key, api.what.clone());
        metrics.declare_renewals(vendor, &["refresh", "authorise"]);
        Tokens {
            api,
            vendor: vendor.to_string(),
            account,
            password,
            slot,
            metrics,
            clock,
            failure: Mutex::new(None),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_secs()
    }

    /// A fresh AccessToken, renewing (once, whoever asks) when it is about to expire.
    pub async fn bearer(&self) -> Result<Secret> {
        if let Some(p) = self.slot.load().await? {
            if p.value.fresh(self.now()) {
                return Ok(p.value.access());
            }
        }
        let _renewing = self.slot.lock().await?;
        match self.slot.load().await? {
            Some(p) if p.value.fresh(self.now()) => Ok(p.value.access()),
            Some(p) => self.renew(p).await,
            None => self.authorise(None).await,
        }
    }

    /// The test call (`check --online`, the test route): sign in (身份授权) with the configured
    /// account now, whatever is stored, and keep the new pair. An admin asking is a reason to
    /// try again at once, so the cool-down after a refusal does not apply.
    pub async fn sign_in_now(&self) -> Result<()> {
        let _renewing = self.slot.lock().await?;
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let current = self.slot.load().await?;
        self.authorise(current.as_ref()).await.map(|_| ())
    }

    /// The vendor refused `refused` (401): a new token, unless someone already replaced it.
    pub async fn after_refusal(&self, refused: &Secret) -> Result<Secret> {
        let _renewing = self.slot.lock().await?;
        match self.slot.load().await? {
            Some(p) if p.value.access_token != refused.expose() => Ok(p.value.access()),
            Some(p) => self.renew(p).await,
            None => self.authorise(None).await,
        }
    }

    async fn renew(&self, old: Loaded<Pair>) -> Result<Secret> {
        let body = serde_json::json!({ assumed::REFRESH_FIELD: old.value.refresh_token });
        match self
            .api
            .call(Method::POST, assumed::REFRESH_PATH, &[], Some(&body), None)
            .await
        {
            Ok(data) => self.keep(Some(&old), &data, "refresh").await,
            Err(e) if matches!(e.retry(), crate::outbound::Retry::Transient { .. }) => Err(e),
            Err(e) => {
                tracing::warn!(vendor = %self.vendor, error = %e, "the Sunlogin refresh token was refused (the grant is gone); signing in again with the configured account");
                self.authorise(Some(&old)).await
            }
        }
    }

    async fn authorise(&self, old: Option<&Loaded<Pair>>) -> Result<Secret> {
        if let Some((at, msg)) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            if self.now() - at < REFUSED_COOL_DOWN_SECS {
                return Err(VendorError::ReAuthorise(msg));
            }
        }
        let body = serde_json::json!({ assumed::ACCOUNT_FIELD: self.account, assumed::PASSWORD_FIELD: self.password.expose() });
        match self
            .api
            .call(
                Method::POST,
                assumed::AUTHORIZE_PATH,
                &[],
                Some(&body),
                None,
            )
            .await
        {
            Ok(data) => self.keep(old, &data, "authorise").await,
            Err(e) if matches!(e.retry(), crate::outbound::Retry::Transient { .. }) => Err(e),
            Err(e) => {
                let msg = format!(
                    "{}: re-authorise Sunlogin: the account {:?} could not sign in (身份授权): {e}. Check auth.account and auth.password \
                     of vendor {} (and that the 贝锐 project still has the API products), reload, then retry the failed jobs",
                    self.api.what, self.account, self.vendor
                );
                tracing::error!(vendor = %self.vendor, error = %msg, "Sunlogin needs an admin");
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((self.now(), msg.clone()));
                Err(VendorError::ReAuthorise(msg))
            }
        }
    }

    /// Store the pair from a token answer, durably, then hand out its AccessToken.
    async fn keep(
        &self,
        old: Option<&Loaded<Pair>>,
        data: &serde_json::Value,
        via: &'static str,
    ) -> Result<Secret> {
        let field = |k: &str| data[k].as_str().filter(|s| !s.is_empty()).map(String::from);
        let (Some(access_token), Some(refresh_token)) = (
            field(assumed::ACCESS_TOKEN_KEY),
            field(assumed::REFRESH_TOKEN_KEY),
        ) else {
            return Err(VendorError::Contract(format!(
                "{}: the token answer has no access_token or refresh_token",
                self.api.what
            )));
        };
        let exp = jwt::expiry(&access_token);
        if exp.is_none() {
            tracing::warn!(vendor = %self.vendor, "the Sunlogin AccessToken has no readable exp claim; it is used until refused");
        }
        let pair = Pair {
            access_token,
            refresh_token,
            exp,
            obtained_at: self.now(),
        };
        let stored = self.slot.replace(old, pair).await?;
        self.metrics.token_renewal(&self.vendor, via);
        let expires = exp
            .map(|e| Millis::from_unix_secs(e).rfc3339())
            .unwrap_or_else(|| "unknown".into());
        tracing::info!(vendor = %self.vendor, via, access_token_expires_at = %expires, "new Sunlogin token pair stored");
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(stored.value.access())
    }

    pub fn status(&self) -> CredentialStatus {
        let mut st = CredentialStatus::configured("sunlogin");
        if let Some((_, msg)) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            st.state = "reauthorise";
            st.warning = Some(msg);
        }
        match self.slot.last_seen() {
            Some(p) => st.access_token_expires_at = p.exp.map(Millis::from_unix_secs),
            // Nothing for an admin to do: the first job signs in with the configured account.
            None if st.state == "ok" => st.state = "not_signed_in_yet",
            None => {}
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(exp: Option<i64>, obtained_at: i64) -> Pair {
        Pair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            exp,
            obtained_at,
        }
    }

    #[test]
    fn a_token_is_stale_a_minute_before_exp_or_at_three_quarters_of_a_short_life() {
        let p = pair(Some(10_000), 10_000 - 7200);
        assert!(p.fresh(10_000 - 61));
        assert!(!p.fresh(10_000 - 60));
        let short = pair(Some(1_000), 1_000 - 8);
        assert!(short.fresh(1_000 - 3));
        assert!(!short.fresh(1_000 - 2));
        assert!(pair(None, 0).fresh(i64::MAX), "no exp: used until refused");
    }

    #[test]
    fn a_pair_never_shows_its_tokens_in_debug_output() {
        let p = Pair {
            access_token: "ACCESS-SECRET".into(),
            refresh_token: "REFRESH-SECRET".into(),
            exp: Some(1),
            obtained_at: 0,
        };
        let d = format!("{p:?}");
        assert!(
            !d.contains("ACCESS-SECRET") && !d.contains("REFRESH-SECRET"),
            "{d}"
        );
    }
}
