//! One signed call to the Sunlogin API and its answer envelope.
//!
//! The request is built in full before it is signed (URL with its query, body bytes), and the
//! signature covers exactly what goes on the wire. Answers are `{"code","message","data"}`
//! (assumed): `code == 0` is success; otherwise the HTTP status decides whether retrying can
//! help (401 = the token, 429/5xx = later, anything else = never), and the vendor's `message`
//! is what the admin reads.

use super::{assumed, sign::Signer};
use crate::config::Secret;
use crate::outbound::{classify, Upstream, UpstreamError};
use crate::remote::{Result, VendorError};
use reqwest::Method;
use serde_json::Value;

pub struct Api {
    /// "Sunlogin sunlogin-cn", for messages.
    pub what: String,
    pub up: Upstream,
    signer: Signer,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("what", &self.what)
            .field("upstream", &self.up)
            .field("signer", &self.signer)
            .finish()
    }
}

/// Whether the answer was "the token was refused" (HTTP 401).
pub fn is_token_refused(e: &VendorError) -> bool {
    matches!(e, VendorError::Upstream(UpstreamError { status: Some(s), .. }) if *s == assumed::TOKEN_REFUSED_STATUS)
}

impl Api {
    pub fn new(what: String, up: Upstream, signer: Signer) -> Self {
        Api { what, up, signer }
    }

    /// Call `path` (under the base URL) with `query` and an optional JSON body, signed, with
    /// the AccessToken when given. Returns the envelope's `data`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        bearer: Option<&Secret>,
    ) -> Result<Value> {
        let mut url = reqwest::Url::parse(&self.up.url(path)).map_err(|e| {
            VendorError::Contract(format!(
                "{}: base_url does not make a valid URL with {path}: {e}",
                self.what
            ))
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| VendorError::Contract(e.to_string()))?,
            None => vec![],
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let now = crate::clock::Millis::now().unix_secs();
        let mut rb = self
            .up
            .client()
            .request(method.clone(), url)
            .header("Accept", "application/json");
        for (name, value) in
            self.signer
                .headers(method.as_str(), &target, &bytes, now, &super::sign::nonce())
        {
            rb = rb.header(name, value);
        }
        if let Some(token) = bearer {
            rb = rb.bearer_auth(token.expose());
        }
        if body.is_some() {
            rb = rb.header("Content-Type", "application/json").body(bytes);
        }
        let resp = self.up.send(rb).await?;
        read(&self.what, resp).await
    }
}

/// The envelope: `data` on `code == 0`, the vendor's message otherwise.
async fn read(what: &str, resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp
        .text()
        .await
        .map_err(|e| UpstreamError::transient(format!("{what}: the answer was cut off: {e}")))?;
    let v: Option<Value> = serde_json::from_str(&text).ok();
    let code = v.as_ref().and_then(|v| v[assumed::CODE_KEY].as_i64());
    match (code, &v) {
        (Some(assumed::OK_CODE), Some(v)) if status.is_success() => {
            Ok(v[assumed::DATA_KEY].clone())
        }
        (Some(code), Some(v)) => {
            let msg = v[assumed::MESSAGE_KEY].as_str().unwrap_or_default();
            // HTTP 200 with an error code classifies as permanent: the call itself was refused.
            Err(classify(what, status, &headers, &format!("code {code}: {msg}")).into())
        }
        _ if status.is_success() => Err(VendorError::Contract(format!(
            "{what} answered {status} without the {{\"code\",\"data\"}} envelope"
        ))),
        _ => {
            let msg = v
                .as_ref()
                .and_then(|v| v[assumed::MESSAGE_KEY].as_str())
                .map(String::from)
                .unwrap_or_else(|| text.trim().chars().take(300).collect());
            Err(classify(what, status, &headers, &msg).into())
        }
    }
}
