//! `/api/v1`: tokens and roles, listing and filters, ticket history, probes, metrics.

use crate::servicenow::*;
use deskbridge_sim::SessionEnd;
use serde_json::Value;

#[tokio::test]
async fn the_api_wants_a_token_and_the_auditor_token_cannot_write() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/jobs").await.status(), 401);
    assert_eq!(app.get_as("wrong", "/api/v1/jobs").await.status(), 401);
    assert_eq!(app.auditor_get("/api/v1/jobs").await.status(), 200);
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/jobs/{id}/retry"),
        format!("/api/v1/jobs/{id}/cancel"),
        "/api/v1/reload".into(),
        "/api/v1/rules/test".into(),
    ] {
        let r = app
            .client
            .post(app.url(&path))
            .bearer_auth(AUDITOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // the public key is for anyone
    let k: Value = app
        .get("/api/v1/audit/public-key")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(k["public_key"], app.public_key.as_str());
}

#[tokio::test]
async fn jobs_list_newest_first_with_filters_and_a_cursor() {
    let app = spawn_app().await;
    let mut ids = vec![];
    for _ in 0..3 {
        let (_, body) = app.new_incident("Service Desk");
        ids.push(job_id_of(app.post_hook(&body).await).await);
    }
    let page = app.admin_get("/api/v1/jobs?limit=2").await;
    let got: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let next = page["next"].as_str().unwrap();
    let page2 = app
        .admin_get(&format!("/api/v1/jobs?limit=2&cursor={next}"))
        .await;
    assert_eq!(page2["jobs"][0]["id"], ids[0].as_str());
    assert!(page2["next"].is_null());
    let r = app.get_as(ADMIN_TOKEN, "/api/v1/jobs?state=nonsense").await;
    assert_eq!(r.status(), 400);
    for id in &ids {
        app.wait_for_state(id, "waiting_for_end", 10).await;
    }
    let waiting = app
        .admin_get("/api/v1/jobs?state=waiting_for_end&connection=snow")
        .await;
    assert_eq!(waiting["jobs"].as_array().unwrap().len(), 3);
    let none = app.admin_get("/api/v1/jobs?state=done").await;
    assert!(none["jobs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_tickets_history_lists_every_session_with_its_artifacts() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    let number = body["number"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let id = app
            .start_job(&hook_body(&sys_id, &number, "Service Desk"))
            .await;
        app.wait_for_state(&id, "waiting_for_end", 10).await;
        app.end_session(&id, SessionEnd::sample(1, 1, 1)).await;
        app.wait_for_state(&id, "done", 15).await;
    }
    for key in [format!("incident/{sys_id}"), number.clone()] {
        let h = app
            .auditor_get(&format!("/api/v1/tickets/snow/{key}"))
            .await;
        assert_eq!(h.status(), 200, "{key}");
        let h: Value = h.json().await.unwrap();
        assert_eq!(h["sessions"].as_array().unwrap().len(), 2, "{key}");
        assert_eq!(h["attachments"].as_array().unwrap().len(), 8, "{key}");
        assert!(h["attachments"][0]["sha256"].as_str().unwrap().len() == 64);
    }
}

#[tokio::test]
async fn probes_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ready);
    let (_, body) = app.new_incident("Service Desk");
    let id = job_id_of(app.post_hook(&body).await).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let text = app.metrics().await;
    assert!(
        text.contains("deskbridge_webhooks_total{connection=\"snow\",outcome=\"queued\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_jobs{state=\"waiting_for_end\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_outbound_calls_total{status=\"200\",target=\"servicenow/snow\"}"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_steps_total{outcome=\"ok\",step=\"queued\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_bad_reload_is_refused_and_the_running_configuration_stays() {
    let app = spawn_app().await;
    std::fs::write(&app.config_path, "[server]\nlisten = 12\n").unwrap();
    let r = app.admin_post("/api/v1/reload").await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server.listen"),
        "{e}"
    );
    let (_, body) = app.new_incident("Service Desk");
    assert_eq!(
        app.post_hook(&body).await.status(),
        202,
        "still running on the old configuration"
    );
}

#[tokio::test]
async fn the_rules_test_route_explains_the_decision_like_the_command() {
    let app = spawn_app().await;
    let (_, body) = app.new_incident("Network");
    let r = app
        .client
        .post(app.url("/api/v1/rules/test"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"connection": "snow", "payload": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["normalised"]["queue"], "Network");
    assert!(v["on_webhook"]["rule"].is_null());
    assert!(
        v["on_webhook"]["why_none"]
            .as_str()
            .unwrap()
            .contains("queue \"Network\" is not one of"),
        "{v}"
    );
    let r = app
        .client
        .post(app.url("/api/v1/rules/test"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"connection": "nope", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn every_api_error_is_json_naming_what_is_wrong() {
    let app = spawn_app().await;
    for (path, status, needle) in [
        ("/api/v1/jobs?limit=abc", 400, "limit"),
        ("/api/v1/jobs?colour=red", 400, "colour"),
        ("/api/v1/nothing-here", 404, "no such route"),
        ("/nothing-here", 404, "no such route"),
    ] {
        let r = app.get_as(ADMIN_TOKEN, path).await;
        assert_eq!(r.status(), status, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{path}: {v}"
        );
    }
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn webhooks_to_unknown_connections_share_one_metrics_label() {
    let app = spawn_app().await;
    for name in ["a1", "b2", "c3"] {
        app.hook(name, "{}", &[]).await;
    }
    let text = app.metrics().await;
    assert!(
        text.contains("deskbridge_webhooks_total{connection=\"unknown\",outcome=\"not_found\"} 3"),
        "{text}"
    );
    assert!(!text.contains("\"a1\""));
}

#[tokio::test]
async fn an_admin_retry_is_refused_while_another_job_holds_the_ticket() {
    let app = spawn_app().await;
    let (sys_id, body) = app.new_incident("Service Desk");
    app.snow.set_password("rotated");
    let first = job_id_of(app.post_hook(&body).await).await;
    app.wait_for_state(&first, "failed", 10).await;
    app.snow.set_password(SNOW_PASSWORD);
    // the agent clicks again: a new job holds the ticket
    let second: Value = app
        .post_hook(&hook_body(&sys_id, "INC1", "Service Desk"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["status"], "queued");
    let second = second["job_id"].as_str().unwrap().to_string();
    app.wait_for_state(&second, "waiting_for_end", 10).await;
    let r = app.admin_post(&format!("/api/v1/jobs/{first}/retry")).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"].as_str().unwrap().contains(&second),
        "{e}"
    );
}
