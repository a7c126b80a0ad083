//! The status table of SPEC §4 for `POST /hooks/{connection}`: each bad input gets the status
//! that tells the sender whether to retry, and an error that names the field or header.

use crate::servicenow::*;
use deskbridge_sim::servicenow::sign_ui_action;
use serde_json::Value;

#[tokio::test]
async fn an_unknown_connection_is_404() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Service Desk");
    let (s, e) = error_of(post_signed(&app.api, "nope", body.to_string().as_bytes()).await).await;
    assert_eq!(s, 404);
    assert!(e["message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn a_wrong_missing_or_stale_signature_is_401_naming_the_header() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Service Desk");
    let bytes = body.to_string();
    let url = app.url("/hooks/snow");

    let r = app
        .client
        .post(&url)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    let (s, e) = error_of(r).await;
    assert_eq!(s, 401);
    assert_eq!(e["header"], "x-deskbridge-timestamp");

    let mut req = app.client.post(&url).body(bytes.clone());
    for (k, v) in sign_ui_action("not-the-secret", bytes.as_bytes(), now_secs()) {
        req = req.header(k, v);
    }
    let (s, e) = error_of(req.send().await.unwrap()).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-deskbridge-signature"))
    );

    let mut req = app.client.post(&url).body(bytes.clone());
    for (k, v) in sign_ui_action(HOOK_SECRET, bytes.as_bytes(), now_secs() - 600) {
        req = req.header(k, v);
    }
    let (s, e) = error_of(req.send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert!(e["message"].as_str().unwrap().contains("300 s"), "{e}");
    assert!(
        app.jobs("").await.is_empty(),
        "nothing stored for refused calls"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    let (_, mut body) = app.new_incident("Service Desk");
    body["short_description"] = "x".repeat(5000).into();
    let (s, e) = error_of(app.post_hook(&body).await).await;
    assert_eq!(s, 413);
    assert_eq!(e["code"], "body_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_or_lacks_a_field_is_400_naming_it() {
    let app = spawn_app().await;
    let (s, e) = error_of(post_signed(&app.api, "snow", b"{not json").await).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("not JSON"));

    let (_, mut body) = app.new_incident("Service Desk");
    body.as_object_mut().unwrap().remove("sys_id");
    let (s, e) = error_of(app.post_hook(&body).await).await;
    assert_eq!(s, 400);
    assert_eq!(e["field"], "sys_id");
    assert!(e["message"].as_str().unwrap().contains("`sys_id`"));
}

#[tokio::test]
async fn a_payload_no_rule_can_match_is_ignored_at_once() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Network");
    let r = app.post_hook(&body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ignored");
    assert!(v["reason"].as_str().unwrap().contains("\"Network\""), "{v}");
    assert!(
        app.snow.faults().requests().is_empty(),
        "no call to ServiceNow was needed"
    );
}
