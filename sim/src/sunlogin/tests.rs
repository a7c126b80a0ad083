//! Tests of the Sunlogin simulator over real HTTP, with a signing helper of their own.

use super::*;
use crate::{Fault, FaultAction};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const KEY: &str = "APPKEY-T1";
const SECRET: &str = "app-secret-T1";
const ACCOUNT: &str = "it@acme.example";
const PASSWORD: &str = "pw-T1";

struct Call<'a> {
    method: &'a str,
    target: String,
    body: Vec<u8>,
    ts: i64,
    nonce: String,
    key: &'a str,
    secret: &'a str,
    bearer: Option<String>,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, target: &str, body: Option<Value>) -> Self {
        Call {
            method,
            target: target.into(),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            ts: now(),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            key: KEY,
            secret: SECRET,
            bearer: None,
        }
    }
    fn bearer(mut self, t: &str) -> Self {
        self.bearer = Some(t.into());
        self
    }
    async fn send(&self, sim: &SunloginSim) -> (u16, Value) {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}",
            self.method,
            self.target,
            self.ts,
            self.nonce,
            hex::encode(Sha256::digest(&self.body))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).unwrap();
        mac.update(text.as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut rb = reqwest::Client::new()
            .request(method, format!("{}{}", sim.base_url(), self.target))
            .header("X-Appkey", self.key)
            .header("X-Timestamp", self.ts.to_string())
            .header("X-Nonce", &self.nonce)
            .header("X-Signature", sig)
            .body(self.body.clone());
        if let Some(t) = &self.bearer {
            rb = rb.bearer_auth(t);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
}

async fn sim() -> SunloginSim {
    SunloginSim::start(KEY, SECRET, ACCOUNT, PASSWORD).await
}

async fn sign_in(sim: &SunloginSim) -> (String, String) {
    let (s, v) = Call::new(
        "POST",
        "/api/v1/auth/authorize",
        Some(json!({"account": ACCOUNT, "password": PASSWORD})),
    )
    .send(sim)
    .await;
    assert_eq!((s, v["code"].as_i64()), (200, Some(0)), "{v}");
    (
        v["data"]["access_token"].as_str().unwrap().into(),
        v["data"]["refresh_token"].as_str().unwrap().into(),
    )
}

fn remote(token: &str, from: i64, to: i64, page: u32) -> Call<'static> {
    Call::new(
        "GET",
        &format!("/api/v1/logs/remote?start_time={from}&end_time={to}&page={page}&page_size=2"),
        None,
    )
    .bearer(token)
}

#[tokio::test]
async fn calls_without_a_valid_signature_timestamp_nonce_or_key_are_refused() {
    let sim = sim().await;
    let body = Some(json!({"account": ACCOUNT, "password": PASSWORD}));
    let wrong_secret = Call {
        secret: "other",
        ..Call::new("POST", "/api/v1/auth/authorize", body.clone())
    };
    assert_eq!(wrong_secret.send(&sim).await.1["code"], 40303);
    let wrong_key = Call {
        key: "OTHER",
        ..Call::new("POST", "/api/v1/auth/authorize", body.clone())
    };
    assert_eq!(wrong_key.send(&sim).await.1["code"], 40300);
    let stale = Call {
        ts: now() - 301,
        ..Call::new("POST", "/api/v1/auth/authorize", body.clone())
    };
    assert_eq!(
        stale.send(&sim).await,
        (
            403,
            json!({"code": 40301, "message": "X-Timestamp is missing or more than 300 s from the server clock", "data": null})
        )
    );
    let short = Call {
        nonce: "abc".into(),
        ..Call::new("POST", "/api/v1/auth/authorize", body.clone())
    };
    assert_eq!(short.send(&sim).await.1["code"], 40302);
    let once = Call::new("POST", "/api/v1/auth/authorize", body.clone());
    assert_eq!(once.send(&sim).await.0, 200);
    assert_eq!(
        once.send(&sim).await.1["code"],
        40304,
        "the same nonce twice is a replay"
    );
    assert_eq!(sim.counts().refused_signature, 5);
    assert_eq!(sim.counts().authorised, 1);
}

#[tokio::test]
async fn the_access_token_is_a_jwt_whose_exp_follows_the_configured_lifetime() {
    let sim = sim().await;
    sim.set_access_ttl(Duration::from_secs(5));
    let (access, _) = sign_in(&sim).await;
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        5
    );
    assert_eq!(claims["sub"], ACCOUNT);
    let (s, v) = Call::new(
        "POST",
        "/api/v1/auth/authorize",
        Some(json!({"account": ACCOUNT, "password": "nope"})),
    )
    .send(&sim)
    .await;
    assert_eq!((s, v["code"].as_i64()), (401, Some(40100)));
}

#[tokio::test]
async fn a_refresh_token_works_once_and_retires_its_access_token() {
    let sim = sim().await;
    let (access, refresh) = sign_in(&sim).await;
    let now = now();
    assert_eq!(remote(&access, now - 10, now, 1).send(&sim).await.0, 200);
    let (s, v) = Call::new(
        "POST",
        "/api/v1/auth/refresh",
        Some(json!({"refresh_token": refresh})),
    )
    .send(&sim)
    .await;
    assert_eq!(s, 200, "{v}");
    let new_access = v["data"]["access_token"].as_str().unwrap().to_string();
    assert_ne!(v["data"]["refresh_token"], refresh.as_str());
    assert_eq!(
        remote(&access, now - 10, now, 1).send(&sim).await.0,
        401,
        "the old pair is dead"
    );
    assert_eq!(
        remote(&new_access, now - 10, now, 1).send(&sim).await.0,
        200
    );
    let (s, v) = Call::new(
        "POST",
        "/api/v1/auth/refresh",
        Some(json!({"refresh_token": refresh})),
    )
    .send(&sim)
    .await;
    assert_eq!((s, v["code"].as_i64()), (401, Some(40102)), "reused");
    assert_eq!(sim.counts().refreshed, 1);
    assert_eq!(sim.counts().refused_refresh, 1);
}

#[tokio::test]
async fn a_revoked_grant_refuses_both_tokens_until_the_account_signs_in_again() {
    let sim = sim().await;
    let (access, refresh) = sign_in(&sim).await;
    sim.revoke_tokens();
    let now = now();
    assert_eq!(remote(&access, now - 10, now, 1).send(&sim).await.0, 401);
    assert_eq!(
        Call::new(
            "POST",
            "/api/v1/auth/refresh",
            Some(json!({"refresh_token": refresh}))
        )
        .send(&sim)
        .await
        .0,
        401
    );
    let (access, _) = sign_in(&sim).await;
    assert_eq!(remote(&access, now - 10, now, 1).send(&sim).await.0, 200);
    sim.set_password("changed");
    assert_eq!(remote(&access, now - 10, now, 1).send(&sim).await.0, 401);
}

#[tokio::test]
async fn remote_logs_are_filtered_by_start_time_and_paged() {
    let sim = sim().await;
    let (access, _) = sign_in(&sim).await;
    let t = now();
    for (i, start) in [t - 1000, t - 50, t - 40, t - 30].into_iter().enumerate() {
        sim.add_remote_log(RemoteLog {
            log_id: format!("L{i}"),
            seat_account: "beth@acme.example".into(),
            device_id: "PC".into(),
            remote_code: "123456789".into(),
            client_ip: "198.51.100.1".into(),
            start_time: start,
            end_time: Some(start + 20),
        });
    }
    let (s, v) = remote(&access, t - 100, t, 1).send(&sim).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["total"], 3, "the row before the window is out");
    assert_eq!(v["data"]["list"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"]["list"][0]["duration"], 20);
    let (_, v) = remote(&access, t - 100, t, 2).send(&sim).await;
    assert_eq!(v["data"]["list"].as_array().unwrap().len(), 1);
    let (s, v) = Call::new("GET", "/api/v1/logs/remote?page=1", None)
        .bearer(&access)
        .send(&sim)
        .await;
    assert_eq!((s, v["code"].as_i64()), (400, Some(40000)));
}

#[tokio::test]
async fn a_played_session_leaves_its_row_its_transfers_and_seat_log_lines() {
    let sim = sim().await;
    let (access, _) = sign_in(&sim).await;
    let id = sim.start_session("beth@acme.example", "JANE-PC", "123 456 789");
    let row = sim
        .remote_logs()
        .into_iter()
        .find(|r| r.log_id == id)
        .unwrap();
    assert_eq!(row.end_time, None);
    assert!(sim.end_session(
        &id,
        &[("diag.zip", 7168, "download"), ("fix.ps1", 512, "upload")]
    ));
    let t = now();
    let (_, v) = Call::new(
        "GET",
        &format!("/api/v1/logs/file_transfer?log_id={id}&page=1&page_size=100"),
        None,
    )
    .bearer(&access)
    .send(&sim)
    .await;
    assert_eq!(v["data"]["total"], 2);
    assert_eq!(v["data"]["list"][0]["file_name"], "diag.zip");
    let (_, v) = Call::new("GET", &format!("/api/v1/seats/logs?seat=beth%40acme.example&start_time={}&end_time={t}&page=1&page_size=100", t - 60), None)
        .bearer(&access)
        .send(&sim)
        .await;
    let events: Vec<&str> = v["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["remote_start", "remote_end"]);
}

#[tokio::test]
async fn injected_faults_answer_in_the_sunlogin_envelope() {
    let sim = sim().await;
    sim.faults()
        .push(Fault::new("/auth/authorize", FaultAction::status(503)));
    let (s, v) = Call::new(
        "POST",
        "/api/v1/auth/authorize",
        Some(json!({"account": ACCOUNT, "password": PASSWORD})),
    )
    .send(&sim)
    .await;
    assert_eq!(
        (s, v),
        (
            503,
            json!({"code": 50300, "message": "service unavailable", "data": null})
        )
    );
}
