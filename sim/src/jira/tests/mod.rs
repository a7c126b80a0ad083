//! Tests of the Jira simulator over real HTTP on 127.0.0.1: it must hold product code to the
//! contract (auth, XSRF, multipart part name, expiry, limits, envelopes, paging).

use super::*;
use crate::signature::Refusal;
use crate::{Fault, FaultAction};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::Duration;

const EMAIL: &str = "deskbridge@acme.example";
const TOKEN: &str = "atl-token-1";

pub(super) async fn seeded() -> (JiraSim, String) {
    let sim = JiraSim::start(EMAIL, TOKEN).await;
    let key = sim.add_issue(SimIssue::default());
    (sim, key)
}

pub(super) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub(super) fn call(sim: &JiraSim, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    http()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth(EMAIL, Some(TOKEN))
}

pub(super) async fn json_of(r: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = r.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

pub(super) fn upload(
    sim: &JiraSim,
    desk: &str,
    files: &[(&str, &[u8])],
) -> reqwest::RequestBuilder {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part(
            "file",
            Part::bytes(bytes.to_vec())
                .file_name(name.to_string())
                .mime_str("text/csv")
                .unwrap(),
        );
    }
    call(
        sim,
        reqwest::Method::POST,
        &format!("/rest/servicedeskapi/servicedesk/{desk}/attachTemporaryFile"),
    )
    .header("X-Atlassian-Token", "no-check")
    .multipart(form)
}

mod writes;

#[tokio::test]
async fn credentials_are_checked_and_a_401_is_plain_text() {
    let (sim, key) = seeded().await;
    let url = format!("{}/rest/servicedeskapi/request/{key}", sim.base_url());
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        "Client must be authenticated to access this resource."
    );
    assert_eq!(
        http()
            .get(&url)
            .basic_auth(EMAIL, Some("wrong"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("pat-1")
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "no PAT configured"
    );
    sim.set_personal_access_token("pat-1");
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("pat-1")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        call(
            &sim,
            reqwest::Method::GET,
            &format!("/rest/servicedeskapi/request/{key}")
        )
        .send()
        .await
        .unwrap()
        .status(),
        200
    );
}

#[tokio::test]
async fn the_request_read_expands_request_type_and_service_desk_on_demand() {
    let (sim, key) = seeded().await;
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/servicedeskapi/request/{key}"),
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["issueKey"], key.as_str());
    assert_eq!(
        (v["serviceDeskId"].as_str(), v["requestTypeId"].as_str()),
        (Some("1"), Some("10"))
    );
    assert!(v.get("requestType").is_none());
    let (_, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/servicedeskapi/request/{key}?expand=requestType,serviceDesk"),
    ))
    .await;
    assert_eq!(v["requestType"]["name"], "Get IT help");
    assert_eq!(v["serviceDesk"]["projectKey"], "ITS");
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/servicedeskapi/servicedesk/1/requesttype/10",
    ))
    .await;
    assert_eq!((s, v["name"].as_str()), (200, Some("Get IT help")));
    sim.set_expand_supported(false);
    let (_, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/servicedeskapi/request/{key}?expand=requestType"),
    ))
    .await;
    assert!(v.get("requestType").is_none());
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/servicedeskapi/request/ITS-999",
    ))
    .await;
    assert_eq!(s, 404);
    assert!(v["errorMessage"]
        .as_str()
        .unwrap()
        .contains("could not be found"));
}

#[tokio::test]
async fn comments_are_validated_and_listed_in_pages() {
    let (sim, key) = seeded().await;
    let path = format!("/rest/servicedeskapi/request/{key}/comment");
    let (s, v) =
        json_of(call(&sim, reqwest::Method::POST, &path).json(&json!({"body": "x"}))).await;
    assert_eq!(s, 400, "public is required");
    assert!(v["errorMessage"].as_str().unwrap().contains("public"));
    for n in 0..7 {
        let (s, v) = json_of(
            call(&sim, reqwest::Method::POST, &path)
                .json(&json!({"body": format!("note {n}"), "public": n == 6})),
        )
        .await;
        assert_eq!(s, 201);
        assert_eq!(v["public"], n == 6);
    }
    let (_, page) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("{path}?start=0&limit=5"),
    ))
    .await;
    assert_eq!(
        (page["size"].as_u64(), page["isLastPage"].as_bool()),
        (Some(5), Some(false))
    );
    let (_, page) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("{path}?start=5&limit=5"),
    ))
    .await;
    assert_eq!(
        (page["size"].as_u64(), page["isLastPage"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(page["values"][1]["body"], "note 6");
    let (_, page) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("{path}?internal=false"),
    ))
    .await;
    assert_eq!(page["size"], 1, "only the public one");
    assert_eq!(sim.comments(&key).len(), 7);
}

#[tokio::test]
async fn the_platform_issue_lists_attachments_and_the_settings_depend_on_the_edition() {
    let (sim, key) = seeded().await;
    let (_, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/api/2/issue/{key}?fields=attachment"),
    ))
    .await;
    assert_eq!(v["fields"].as_object().unwrap().len(), 1);
    assert_eq!(v["fields"]["attachment"], json!([]));
    let (_, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/api/2/issue/{key}?fields=summary,labels,priority"),
    ))
    .await;
    assert_eq!(
        (
            v["fields"]["summary"].as_str(),
            v["fields"]["priority"]["name"].as_str()
        ),
        (Some("Outlook crashes"), Some("Medium"))
    );
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/api/3/attachment/meta",
    ))
    .await;
    assert_eq!(
        (s, v["uploadLimit"].as_u64()),
        (200, Some(10 * 1024 * 1024))
    );
    sim.set_data_center(true);
    let (s, _) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/api/3/attachment/meta",
    ))
    .await;
    assert_eq!(s, 404);
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/api/2/attachment/meta",
    ))
    .await;
    assert_eq!((s, v["enabled"].as_bool()), (200, Some(true)));
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        "/rest/api/2/issue/ITS-404",
    ))
    .await;
    assert_eq!(s, 404);
    assert_eq!(
        v["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
}

#[tokio::test]
async fn injected_faults_use_the_envelope_of_the_api_they_hit() {
    let (sim, key) = seeded().await;
    sim.faults().push(Fault::new(
        "/rest/servicedeskapi/",
        FaultAction::status(503),
    ));
    sim.faults()
        .push(Fault::new("/rest/api/2/", FaultAction::status(403)));
    sim.faults()
        .push(Fault::new("/comment", FaultAction::status(429)));
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/servicedeskapi/request/{key}"),
    ))
    .await;
    assert_eq!(
        (s, v["errorMessage"].as_str()),
        (503, Some("Service Unavailable"))
    );
    let (s, v) = json_of(call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/api/2/issue/{key}"),
    ))
    .await;
    assert_eq!(
        (s, v["errorMessages"][0].as_str()),
        (403, Some("Forbidden"))
    );
    let r = call(
        &sim,
        reqwest::Method::GET,
        &format!("/rest/servicedeskapi/request/{key}/comment"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.headers()["ratelimit-reason"], "jira-burst-based");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    sim.faults().set_rate_limit(1, Duration::from_secs(5));
    call(&sim, reqwest::Method::GET, "/rest/api/3/attachment/meta")
        .send()
        .await
        .unwrap();
    let r = call(&sim, reqwest::Method::GET, "/rest/api/3/attachment/meta")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(
        r.headers().contains_key("retry-after") && r.headers().contains_key("x-ratelimit-reset")
    );
}

#[test]
fn the_hub_signature_matches_a_known_answer_computed_outside_this_code() {
    // python3: "sha256=" + hmac.new(b"hub", body, sha256).hexdigest()
    let body = br#"{"event_id":"e1","sys_id":"abc"}"#;
    let want = "sha256=4e0dd2c0a47d88e7a967a1c60939ab7808ac9a5e337b57eb27aac50f8df8c222";
    assert_eq!(hub_signature("hub", body), want);
    assert_eq!(verify_hub_signature("hub", want, body), Ok(()));
    let mut changed = body.to_vec();
    changed[3] ^= 1;
    assert_eq!(
        verify_hub_signature("hub", want, &changed),
        Err(Refusal::Mismatch(HUB_SIGNATURE_HEADER))
    );
    assert_eq!(
        verify_hub_signature("hub", want.trim_start_matches("sha256="), body),
        Err(Refusal::Malformed(HUB_SIGNATURE_HEADER))
    );
}

#[tokio::test]
async fn webhooks_are_signed_as_jira_signs_them() {
    let (sim, key) = seeded().await;
    sim.set_webhook_secret("hook-secret");
    let hook = sim
        .add_label(&key, "remote-session", "Beth Anglin", "beth@acme.example")
        .unwrap();
    assert_eq!(sim.labels(&key), vec!["remote-session".to_string()]);
    let v: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(v["webhookEvent"], "jira:issue_updated");
    assert_eq!(v["changelog"]["items"][0]["toString"], "remote-session");
    assert!(hook.header("x-atlassian-webhook-identifier").is_some());
    let sig = hook.header("x-hub-signature").unwrap();
    assert_eq!(verify_hub_signature("hook-secret", sig, &hook.body), Ok(()));
    assert_eq!(
        verify_hub_signature("other", sig, &hook.body),
        Err(Refusal::Mismatch(HUB_SIGNATURE_HEADER))
    );
    let auto: Value = serde_json::from_slice(&sim.automation_body(&key).unwrap()).unwrap();
    assert_eq!(auto["issue"]["key"], key.as_str());
    assert!(auto.get("webhookEvent").is_none());
    assert!(hook
        .clone()
        .without_identifier()
        .header("x-atlassian-webhook-identifier")
        .is_none());
}
