//! `/api/v1`: tokens and roles, listing and filters, ticket history, probes, metrics.

use crate::helpers::*;
use deskbridge_sim::SessionEnd;
use serde_json::Value;

#[tokio::test]
async fn the_api_wants_a_token_and_the_auditor_token_cannot_write() {
    let app = spawn_app().await;
    let url = |p: &str| format!("{}{p}", app.base);
    assert_eq!(
        app.client
            .get(url("/api/v1/jobs"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.client
            .get(url("/api/v1/jobs"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.client
            .get(url("/api/v1/jobs"))
            .bearer_auth(AUDITOR_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/jobs/{id}/retry"),
        format!("/api/v1/jobs/{id}/cancel"),
        "/api/v1/reload".into(),
        "/api/v1/rules/test".into(),
    ] {
        let r = app
            .client
            .post(url(&path))
            .bearer_auth(AUDITOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // the public key is for anyone
    let k: Value = app
        .client
        .get(url("/api/v1/audit/public-key"))
        .send()
        .await
        .unwrap()
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
        let v: Value = app.post_hook(&body).await.json().await.unwrap();
        ids.push(v["job_id"].as_str().unwrap().to_string());
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
    let r = app
        .client
        .get(format!("{}/api/v1/jobs?state=nonsense", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
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
        let v: Value = app
            .post_hook(&hook_body(&sys_id, &number, "Service Desk"))
            .await
            .json()
            .await
            .unwrap();
        let id = v["job_id"].as_str().unwrap().to_string();
        app.wait_for_state(&id, "waiting_for_end", 10).await;
        let code = app.session_code(&id).await;
        app.splashtop
            .end_session(&code, SessionEnd::sample(1, 1, 1));
        app.wait_for_state(&id, "done", 15).await;
    }
    for key in [format!("incident/{sys_id}"), number.clone()] {
        let h = app
            .client
            .get(format!("{}/api/v1/tickets/snow/{key}", app.base))
            .bearer_auth(AUDITOR_TOKEN)
            .send()
            .await
            .unwrap();
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
    let get = |p: &str| app.client.get(format!("{}{p}", app.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let mut ready = false;
    for _ in 0..50 {
        if get("/readyz").await.unwrap().status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ready);
    let (_, body) = app.new_incident("Service Desk");
    let v: Value = app.post_hook(&body).await.json().await.unwrap();
    app.wait_for_state(v["job_id"].as_str().unwrap(), "waiting_for_end", 10)
        .await;
    let text = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        text.contains("deskbridge_webhooks_total{connection=\"snow\",outcome=\"queued\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_jobs{state=\"waiting_for_end\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_outbound_calls_total{target=\"servicenow/snow\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("deskbridge_steps_total{step=\"queued\",outcome=\"ok\"} 1"),
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
        .post(format!("{}/api/v1/rules/test", app.base))
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
        .post(format!("{}/api/v1/rules/test", app.base))
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
    let get = |p: &str| {
        app.client
            .get(format!("{}{p}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    for (path, status, needle) in [
        ("/api/v1/jobs?limit=abc", 400, "limit"),
        ("/api/v1/jobs?colour=red", 400, "colour"),
        ("/api/v1/nothing-here", 404, "no such route"),
        ("/nothing-here", 404, "no such route"),
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{path}: {v}"
        );
    }
    let r = app
        .client
        .delete(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
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
        let _ = app
            .client
            .post(format!("{}/hooks/{name}", app.base))
            .body("{}")
            .send()
            .await
            .unwrap();
    }
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    let first: Value = app.post_hook(&body).await.json().await.unwrap();
    let first = first["job_id"].as_str().unwrap().to_string();
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
