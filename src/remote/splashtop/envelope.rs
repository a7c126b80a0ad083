//! Splashtop's answer envelope `{"result": <int>, "data", "message"}` and its result codes
//! (contracts/splashtop.md, "Envelope and errors"). The `result` code decides, whatever the
//! HTTP status says; without one, the HTTP status does.

use crate::outbound::{classify, Retry, UpstreamError};
use crate::remote::{Result, VendorError};
use serde_json::Value;

pub const OK: i64 = 20200;

pub fn retry_for(result: i64) -> Retry {
    match result {
        40100 | 40101 | 40300 | 41406 => Retry::Auth,
        42900 => Retry::Transient { after: None },
        r if r >= 50000 => Retry::Transient { after: None },
        _ => Retry::Permanent,
    }
}

fn meaning(result: i64) -> &'static str {
    match result {
        40422 => "wrong parameters",
        40403 => "not allowed (psa scope, plan, channel or region)",
        40404 => "not found",
        41406 => "token sent with quotes",
        40100 | 40101 | 40300 => "token invalid or expired",
        _ => "error",
    }
}

pub async fn read(what: &str, resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .text()
        .await
        .map_err(|e| UpstreamError::transient(format!("{what}: the answer was cut off: {e}")))?;
    let v: Option<Value> = serde_json::from_str(&body).ok();
    let result = v.as_ref().and_then(|v| v["result"].as_i64());
    match (result, v) {
        (Some(OK), Some(v)) if status.is_success() => Ok(v["data"].clone()),
        (Some(code), Some(v)) if !(status.as_u16() == 429 || status.is_server_error()) => {
            let msg = v["message"].as_str().unwrap_or_default();
            let mut e = classify(
                what,
                status,
                &headers,
                &format!("result {code} ({}): {msg}", meaning(code)),
            );
            e.retry = retry_for(code);
            if code == 40404 {
                // "Not found" whatever HTTP status carried it, so callers test one thing.
                e.status = Some(404);
            }
            Err(e.into())
        }
        (_, v) => {
            if status.is_success() {
                return Err(VendorError::Contract(format!(
                    "{what} answered {status} without the result envelope"
                )));
            }
            let msg = v
                .as_ref()
                .and_then(|v| v["message"].as_str())
                .map(String::from)
                .unwrap_or_else(|| body.chars().take(300).collect());
            Err(classify(what, status, &headers, &msg).into())
        }
    }
}
