//! Tests of the fault layer on a minimal router, independent of any simulated system.

use super::*;
use crate::Bound;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use std::sync::atomic::{AtomicU32, Ordering};

struct TestErrors;

impl SystemErrors for TestErrors {
    fn error(&self, status: StatusCode, path: &str) -> Response {
        Json(serde_json::json!({"err": status.as_u16(), "path": path})).into_response()
    }
    fn rate_limited(&self, info: &RateLimitInfo, _path: &str) -> Response {
        Json(serde_json::json!({"limited": info.limit})).into_response()
    }
    fn rate_limit_headers(&self, info: &RateLimitInfo, headers: &mut HeaderMap) {
        headers.insert("x-limit", HeaderValue::from(info.limit));
    }
}

/// A server whose only route counts how often it was applied.
async fn start() -> (crate::Server, Faults, Arc<AtomicU32>, String) {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/thing",
        post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let faults = Faults::new();
    let bound = Bound::loopback().await;
    let url = format!("{}/thing", bound.base_url());
    let server = bound.serve(install(router, &faults, TestErrors), faults.halt_token());
    (server, faults, hits, url)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// For hung requests: gives up quickly, as a product's HTTP timeout would.
fn impatient() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap()
}

#[tokio::test]
async fn passes_through_and_records() {
    let (_s, faults, hits, url) = start().await;
    let resp = client().post(format!("{url}?a=1")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let log = faults.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/thing");
    assert_eq!(log[0].query.as_deref(), Some("a=1"));
    assert_eq!(log[0].status, Some(200));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn status_fault_uses_system_envelope_then_expires() {
    let (_s, faults, hits, url) = start().await;
    faults.push(Fault {
        method: Some("post".into()),
        path_contains: "/thing".into(),
        action: FaultAction::Status {
            status: 503,
            retry_after: Some("7".into()),
            body: None,
        },
        times: 2,
    });
    for _ in 0..2 {
        let resp = client().post(&url).send().await.unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "7");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["err"], 503);
    }
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "faulted requests are not applied"
    );
}

#[tokio::test]
async fn custom_body_and_method_filter() {
    let (_s, faults, _hits, url) = start().await;
    faults.push(Fault::new("/thing", FaultAction::status(500)).method("GET"));
    // POST does not match the GET-only fault.
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
    faults.clear();
    faults.push(Fault::new(
        "thing",
        FaultAction::Status {
            status: 502,
            retry_after: None,
            body: Some("bad gateway".into()),
        },
    ));
    let resp = client().post(&url).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.text().await.unwrap(), "bad gateway");
}

#[tokio::test]
async fn delay_then_handles() {
    let (_s, faults, hits, url) = start().await;
    faults.push(Fault::new(
        "/thing",
        FaultAction::Delay(Duration::from_millis(150)),
    ));
    let t = Instant::now();
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hang_never_answers_nor_applies() {
    let (_s, faults, hits, url) = start().await;
    faults.push(Fault::new("/thing", FaultAction::Hang));
    let err = impatient().post(&url).send().await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!(faults.requests()[0].status, None);
}

#[tokio::test]
async fn apply_then_hang_applies_but_never_answers() {
    let (_s, faults, hits, url) = start().await;
    faults.push(Fault::new("/thing", FaultAction::ApplyThenHang));
    let err = impatient().post(&url).send().await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(faults.requests()[0].status, None);
}

#[tokio::test]
async fn shutdown_drops_hung_connection_without_answer() {
    let (server, faults, _hits, url) = start().await;
    faults.push(Fault::new("/thing", FaultAction::Hang));
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let call = tokio::spawn(async move { c.post(&url).send().await });
    faults
        .wait_for_request("POST", "/thing", Duration::from_secs(2))
        .await
        .expect("request arrives");
    server.shutdown();
    let res = call.await.unwrap();
    let err = res.expect_err("no answer is ever sent");
    assert!(!err.is_timeout(), "connection closed promptly: {err}");
}

#[tokio::test]
async fn rate_limit_refuses_with_retry_after_and_headers() {
    let (_s, faults, hits, url) = start().await;
    faults.set_rate_limit(2, Duration::from_secs(30));
    for _ in 0..2 {
        let resp = client().post(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-limit"], "2");
    }
    let resp = client().post(&url).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let ra: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&ra));
    assert_eq!(resp.headers()["x-limit"], "2");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["limited"], 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    faults.clear();
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn rate_limit_window_resets() {
    let (_s, faults, _hits, url) = start().await;
    faults.set_rate_limit(1, Duration::from_secs(1));
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
    assert_eq!(client().post(&url).send().await.unwrap().status(), 429);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn wait_for_request_sees_arrival_before_answer() {
    let (_s, faults, _hits, url) = start().await;
    faults.push(Fault::new(
        "/thing",
        FaultAction::Delay(Duration::from_millis(300)),
    ));
    let c = client();
    let call = tokio::spawn(async move { c.post(format!("{url}?job=1")).send().await });
    let seen = faults
        .wait_for_request("POST", "job=1", Duration::from_secs(2))
        .await
        .expect("arrives");
    assert_eq!(seen.status, None, "observed while still in flight");
    assert_eq!(call.await.unwrap().unwrap().status(), 200);
    // Already returned once and since answered: a second wait does not see it again.
    let again = faults
        .wait_for_request("POST", "job=1", Duration::from_millis(100))
        .await;
    assert!(again.is_none());
}

#[tokio::test]
async fn wait_for_request_skips_requests_answered_before_the_wait() {
    let (_s, faults, _hits, url) = start().await;
    client().post(&url).send().await.unwrap();
    // Slow the second request down so it is in flight whenever the wait starts.
    faults.push(Fault::new(
        "second",
        FaultAction::Delay(Duration::from_millis(300)),
    ));
    let c = client();
    let call = tokio::spawn(async move { c.post(format!("{url}?second")).send().await });
    let got = faults
        .wait_for_request("", "/thing", Duration::from_secs(2))
        .await
        .expect("second request");
    assert_eq!(got.query.as_deref(), Some("second"));
    assert_eq!(call.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn random_faults_fail_about_their_share_and_scripted_faults_still_come_first() {
    let (_s, faults, _hits, url) = start().await;
    faults.set_random_faults(
        0.3,
        vec![FaultAction::status(503), FaultAction::status(500)],
    );
    let mut failed = 0;
    for _ in 0..200 {
        if client().post(&url).send().await.unwrap().status() != 200 {
            failed += 1;
        }
    }
    assert!((30..=90).contains(&failed), "{failed} of 200");
    faults.push(Fault::new("/thing", FaultAction::status(418)).times(1));
    assert_eq!(client().post(&url).send().await.unwrap().status(), 418);
    faults.clear();
    for _ in 0..20 {
        assert_eq!(client().post(&url).send().await.unwrap().status(), 200);
    }
}
