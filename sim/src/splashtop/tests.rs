//! Tests of the Splashtop simulator over real HTTP on 127.0.0.1.

use super::*;
use crate::{Fault, FaultAction};
use std::time::Duration;

const TOKEN: &str = "st-token-123";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn api(sim: &SplashtopSim, path: &str) -> String {
    format!("{}/api/open/v1{path}", sim.base_url())
}

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.bearer_auth(TOKEN).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn create(sim: &SplashtopSim, body: Value) -> (u16, Value) {
    let url = api(
        sim,
        &format!("/teams/{}/psa/support_sessions", sim.team_id()),
    );
    call(http().post(url).json(&body)).await
}

async fn new_session(sim: &SplashtopSim) -> Value {
    let body = json!({"channel_id": 0, "customer_name": "Jane Doe", "customer_issue": "Outlook crashes (INC0000046)"});
    let (status, v) = create(sim, body).await;
    assert_eq!((status, v["result"].as_u64()), (200, Some(20200)));
    v["data"]["support_session"].clone()
}

#[tokio::test]
async fn token_is_checked() {
    let sim = SplashtopSim::start(TOKEN).await;
    let url = api(&sim, "/users/basic_info");
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({"result": 40100, "message": "invalid token", "data": null})
    );
    let resp = http().get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http()
        .get(&url)
        .bearer_auth(format!("\"{TOKEN}\""))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["result"], 41406);
    sim.set_token("rotated");
    assert_eq!(call(http().get(&url)).await.0, 401);
    let resp = http()
        .get(&url)
        .bearer_auth("rotated")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn basic_info_and_channels() {
    let sim = SplashtopSim::start(TOKEN).await;
    let (status, v) = call(http().get(api(&sim, "/users/basic_info"))).await;
    assert_eq!(status, 200);
    assert_eq!(v["result"], 20200);
    assert_eq!(v["data"]["scopes"]["psa"]["team_id"], sim.team_id());
    assert!(v["data"]["scopes"].get("users").is_some());
    let url = api(
        &sim,
        &format!("/teams/{}/psa/channel_list?mode=psa", sim.team_id()),
    );
    let (_, v) = call(http().get(url)).await;
    assert_eq!(v["data"]["private"]["id"], 0);
    assert_eq!(v["data"]["channels"][0]["default"], true);
    let (status, v) = call(http().get(api(&sim, "/teams/1/psa/channel_list?mode=psa"))).await;
    assert_eq!((status, v["result"].as_u64()), (404, Some(40404)));
}

#[tokio::test]
async fn creates_session_with_contract_shape() {
    let sim = SplashtopSim::start(TOKEN).await;
    let s = new_session(&sim).await;
    let code = s["code"].as_str().unwrap();
    assert_eq!(code.len(), 9);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    let link = format!("{}/service_desk/psa/{code}", sim.portal_url());
    assert_eq!(s["support_portal_link"], link.as_str());
    assert_eq!(s["status"], "waiting");
    assert_eq!(s["channel_id"], 0);
    assert_eq!(s["name"], "Jane Doe");
    assert!(s["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(s["assignee_email"].as_str().unwrap().contains('@'));
    for k in [
        "server_name",
        "server_os",
        "associated_at",
        "online_since",
        "connected_since",
    ] {
        assert!(s[k].is_null(), "{k}");
    }
    assert_eq!(http().get(&link).send().await.unwrap().status(), 200);
    let listed = sim.sessions();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].customer_issue, "Outlook crashes (INC0000046)");
}

#[tokio::test]
async fn create_rejects_bad_input() {
    let sim = SplashtopSim::start(TOKEN).await;
    let long = "x".repeat(65);
    let (status, v) = create(
        &sim,
        json!({"channel_id": 0, "customer_name": long, "customer_issue": ""}),
    )
    .await;
    assert_eq!((status, v["result"].as_u64()), (400, Some(40422)));
    let ok64 = "é".repeat(64);
    assert_eq!(
        create(&sim, json!({"channel_id": 0, "customer_name": ok64}))
            .await
            .0,
        200
    );
    let (_, v) = create(&sim, json!({"channel_id": 0})).await;
    assert_eq!(v["result"], 40422);
    let (status, v) = create(&sim, json!({"channel_id": 77, "customer_name": "A"})).await;
    assert_eq!((status, v["result"].as_u64()), (403, Some(40403)));
}

#[tokio::test]
async fn session_lifecycle() {
    let sim = SplashtopSim::start(TOKEN).await;
    let s = new_session(&sim).await;
    let (id, code) = (s["id"].as_str().unwrap(), s["code"].as_str().unwrap());
    let url = api(
        &sim,
        &format!("/teams/{}/psa/support_sessions/{id}", sim.team_id()),
    );
    assert!(sim.mark_active(code));
    let (_, v) = call(http().get(&url)).await;
    assert_eq!(v["data"]["support_session"]["status"], "active");
    assert!(v["data"]["support_session"]["connected_since"].is_string());
    assert!(sim.end_session(code, SessionEnd::sample(1, 1, 1)));
    let (_, v) = call(http().get(&url)).await;
    assert_eq!(v["data"]["support_session"]["status"], "closed");
    let (status, v) = call(
        http()
            .put(format!("{url}/action"))
            .json(&json!({"kind": "close"})),
    )
    .await;
    assert_eq!((status, v["result"].as_u64()), (200, Some(20200)));
    let (status, _) = call(
        http()
            .put(format!("{url}/action"))
            .json(&json!({"kind": "delete"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(http().get(&url)).await;
    assert_eq!((status, v["result"].as_u64()), (404, Some(40404)));
    assert_eq!(sim.sessions()[0].status, "deleted");

    let s = new_session(&sim).await;
    assert!(sim.expire_session(s["code"].as_str().unwrap()));
    let url = api(
        &sim,
        &format!(
            "/teams/{}/psa/support_sessions/{}",
            sim.team_id(),
            s["id"].as_str().unwrap()
        ),
    );
    let (_, v) = call(http().get(&url)).await;
    assert_eq!(v["data"]["support_session"]["status"], "expired");
    let (status, v) = call(
        http()
            .put(format!("{url}/action"))
            .json(&json!({"kind": "close"})),
    )
    .await;
    assert_eq!((status, v["result"].as_u64()), (404, Some(40404)));
    assert!(!sim.end_session("000000000", SessionEnd::default()));
}

#[tokio::test]
async fn logs_page_and_respect_transcript_setting() {
    let sim = SplashtopSim::start(TOKEN).await;
    let s = new_session(&sim).await;
    let id = s["id"].as_str().unwrap().to_string();
    sim.end_session(s["code"].as_str().unwrap(), SessionEnd::sample(3, 5, 250));
    let logs = |kind: &str, extra: &str| {
        api(
            &sim,
            &format!(
                "/teams/{}/logs/{kind}?support_session_id={id}{extra}",
                sim.team_id()
            ),
        )
    };
    let mut lines = Vec::new();
    for page in 1..=3 {
        let (status, v) = call(http().get(logs(
            "chat_transcripts",
            &format!("&page={page}&per_page=100"),
        )))
        .await;
        assert_eq!(status, 200);
        assert_eq!(v["data"]["total"], 250);
        assert_eq!(v["data"]["page"], page);
        lines.extend(v["data"]["logs"].as_array().unwrap().clone());
    }
    assert_eq!(lines.len(), 250);
    assert!(lines[249]["message"].as_str().unwrap().ends_with("(#250)"));
    let (_, v) = call(http().get(logs("chat_transcripts", "&per_page=500"))).await;
    assert_eq!(v["data"]["per_page"], 100);
    let (_, v) = call(http().get(logs("sessions", ""))).await;
    let row = &v["data"]["logs"][0];
    assert_eq!(v["data"]["total"], 3);
    assert!(row["type"].is_string() && row["duration_sec"].is_u64());
    let (_, v) = call(http().get(logs("file_transfers", "&page=2&per_page=2"))).await;
    assert_eq!(v["data"]["logs"].as_array().unwrap().len(), 2);
    assert_eq!(
        call(http().get(logs("sessions", "&page=0"))).await.1["result"],
        40422
    );

    sim.set_transcripts_enabled(false);
    let (_, v) = call(http().get(logs("chat_transcripts", ""))).await;
    assert_eq!(v["data"]["total"], 0);
    assert!(v["data"]["logs"].as_array().unwrap().is_empty());

    let bad = api(
        &sim,
        &format!(
            "/teams/{}/logs/sessions?support_session_id=nope",
            sim.team_id()
        ),
    );
    let (status, v) = call(http().get(bad)).await;
    assert_eq!((status, v["result"].as_u64()), (404, Some(40404)));
}

#[tokio::test]
async fn rate_limit_and_injected_faults() {
    let sim = SplashtopSim::start(TOKEN).await;
    sim.faults().set_rate_limit(1, Duration::from_secs(60));
    let url = api(&sim, "/users/basic_info");
    assert_eq!(call(http().get(&url)).await.0, 200);
    let resp = http().get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({"result": 42900, "message": "too many requests", "data": null})
    );
    sim.faults().clear();

    sim.faults()
        .push(Fault::new("/psa/support_sessions", FaultAction::status(503)).method("POST"));
    let (status, v) = create(&sim, json!({"channel_id": 0, "customer_name": "A"})).await;
    assert_eq!((status, v["result"].as_u64()), (503, Some(50300)));
    assert!(sim.sessions().is_empty());
}

#[tokio::test]
async fn hang_and_wait_for_request() {
    let sim = SplashtopSim::start(TOKEN).await;
    sim.faults()
        .push(Fault::new("/psa/support_sessions", FaultAction::Hang));
    let s2 = sim.clone();
    let pending =
        tokio::spawn(
            async move { create(&s2, json!({"channel_id": 0, "customer_name": "A"})).await },
        );
    let seen = sim
        .faults()
        .wait_for_request("POST", "support_sessions", Duration::from_secs(3))
        .await
        .expect("arrives");
    assert_eq!(seen.status, None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished());
    assert!(sim.sessions().is_empty(), "Hang does not apply");
    pending.abort();
}
