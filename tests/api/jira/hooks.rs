//! Jira's two inbound formats at `POST /hooks/{connection}`: the signed admin webhook
//! (`X-Hub-Signature`, label added, delivery de-duplication, other events and deskbridge's own
//! comments ignored) and the Automation web request (`X-Deskbridge-Token`). Jira signs no
//! timestamp, so there is no stale case; a replay is a duplicate delivery instead.

use super::*;

const STATUS_CHANGE: &str =
    include_str!("../../fixtures/jira/jira-webhook-issue-updated-status.json");

#[tokio::test]
async fn adding_the_label_starts_a_session_and_a_redelivery_is_the_same_job() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let hook = app.label_added(&key);
    let r = app.deliver(&hook).await;
    assert_eq!(r.status(), 202);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "queued");
    let id = first["job_id"].as_str().unwrap();

    // Jira retries a delivery with the same X-Atlassian-Webhook-Identifier
    let again: Value = app.deliver(&hook).await.json().await.unwrap();
    assert_eq!(
        (again["job_id"].as_str(), again["duplicate"].as_bool()),
        (Some(id), Some(true))
    );
    let job = app.wait_for_state(id, "waiting_for_end", 10).await;
    // the delivery id is what the signature covers: the issue key and the body's timestamp
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(job["event_id"], format!("{key}@{}", body["timestamp"]));

    // a captured delivery resent under a fresh identifier header is still the same delivery
    let mut forged = hook.clone();
    for h in forged
        .headers
        .iter_mut()
        .filter(|(k, _)| k.eq_ignore_ascii_case("x-atlassian-webhook-identifier"))
    {
        h.1 = "forged-identifier".into();
    }
    let replay: Value = app.deliver(&forged).await.json().await.unwrap();
    assert_eq!(replay["job_id"].as_str(), Some(id));
    assert_eq!(
        job["hint"]["agent"]["email"], "beth@acme.example",
        "the user who added the label"
    );
    assert_eq!(app.jobs("").await.len(), 1);
    assert_eq!(app.splashtop.sessions().len(), 1);
    assert_eq!(app.jira.comments(&key).len(), 1);
}

#[tokio::test]
async fn without_a_delivery_identifier_the_issue_key_and_timestamp_deduplicate() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let hook = app.label_added(&key).without_identifier();
    let a: Value = app.deliver(&hook).await.json().await.unwrap();
    let b: Value = app.deliver(&hook).await.json().await.unwrap();
    assert_eq!(a["job_id"], b["job_id"]);
    assert_eq!(b["duplicate"], true);
    let ts = serde_json::from_slice::<Value>(&hook.body).unwrap()["timestamp"].to_string();
    assert_eq!(
        app.job(a["job_id"].as_str().unwrap()).await["event_id"],
        format!("{key}@{ts}")
    );
}

#[tokio::test]
async fn a_wrong_missing_or_malformed_hub_signature_is_401_and_stores_nothing() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let hook = app.label_added(&key);
    let body = hook.body.clone();
    let wrong = deskbridge_sim::jira::hub_signature("not-the-secret", &body);
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("x-hub-signature", wrong)], "does not match"),
        (vec![], "is missing"),
        (
            vec![(
                "x-hub-signature-256",
                hook.header("x-hub-signature").unwrap().to_string(),
            )],
            "is missing",
        ),
        (
            vec![(
                "x-hub-signature",
                hook.header("x-hub-signature")
                    .unwrap()
                    .trim_start_matches("sha256=")
                    .to_string(),
            )],
            "sha256=",
        ),
        (vec![("x-hub-signature", "sha256=zz".into())], "not hex"),
    ];
    for (headers, says) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, e) = error_of(app.post("jira-hook", body.clone(), &h).await).await;
        assert_eq!(s, 401, "{headers:?}");
        assert_eq!(e["header"], "x-hub-signature");
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    // a changed body breaks a good signature
    let mut tampered = body.clone();
    let at = tampered.len() - 2;
    tampered[at] = b' ';
    let sig = hook.header("x-hub-signature").unwrap();
    let (s, _) = error_of(
        app.post("jira-hook", tampered, &[("x-hub-signature", sig)])
            .await,
    )
    .await;
    assert_eq!(s, 401);
    // the good one goes through
    assert_eq!(
        app.post("jira-hook", body, &[("x-hub-signature", sig)])
            .await
            .status(),
        202
    );
    assert_eq!(
        app.jobs("").await.len(),
        1,
        "nothing stored for the refused calls"
    );
}

#[tokio::test]
async fn the_automation_token_is_required_and_checked() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let body = app.jira.automation_body(&key).unwrap();
    let (s, e) = error_of(app.post("jira", body.clone(), &[]).await).await;
    assert_eq!((s, e["header"].as_str()), (401, Some("x-deskbridge-token")));
    assert!(e["message"].as_str().unwrap().contains("missing"));
    let (s, e) = error_of(
        app.post("jira", body.clone(), &[("X-Deskbridge-Token", "guess")])
            .await,
    )
    .await;
    assert_eq!((s, e["header"].as_str()), (401, Some("x-deskbridge-token")));
    // a signed admin webhook is not the automation credential
    let hook = app.label_added(&key);
    let (s, _) = error_of(
        app.post(
            "jira",
            hook.body.clone(),
            &[("x-hub-signature", hook.header("x-hub-signature").unwrap())],
        )
        .await,
    )
    .await;
    assert_eq!(s, 401);
    assert!(app.jobs("").await.is_empty());
    assert_eq!(app.click(&key).await.status(), 202);
}

#[tokio::test]
async fn the_shipped_status_change_webhook_is_ignored_without_calling_jira() {
    let app = spawn_jira_app().await;
    // the fixture as Jira would send it today (its 2017 timestamp is outside the replay window)
    let mut fixture: Value = serde_json::from_str(STATUS_CHANGE).unwrap();
    fixture["timestamp"] = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64)
        .into();
    let body = serde_json::to_vec(&fixture).unwrap();
    let sig = deskbridge_sim::jira::hub_signature(HUB_SECRET, &body);
    let r = app
        .post("jira-hook", body, &[("x-hub-signature", &sig)])
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ignored");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("does not add the label \"remote-session\""),
        "{v}"
    );
    assert!(app.jira.faults().requests().is_empty());
}

#[tokio::test]
async fn deskbridges_own_comment_coming_back_is_answered_ignored() {
    let app = spawn_jira_app().await;
    let (key, _) = app.waiting(|_| {}).await;
    let link = app.jira.comments(&key).remove(0);
    let hook = app.jira.comment_webhook(&key, &link.id).unwrap();
    let r = app.deliver(&hook).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ignored");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("deskbridge wrote itself"),
        "{v}"
    );
    assert_eq!(app.jobs("").await.len(), 1);
    assert_eq!(app.splashtop.sessions().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_no_jira_issue_is_400_naming_the_field() {
    let app = spawn_jira_app().await;
    let h = [("x-deskbridge-token", AUTOMATION_SECRET)];
    let (s, e) = error_of(
        app.post("jira", br#"{"issue": {"fields": {}}}"#.to_vec(), &h)
            .await,
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("issue.key")));
    let (s, e) = error_of(
        app.post("jira", br#"{"issue": {"key": "DROP TABLE"}}"#.to_vec(), &h)
            .await,
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("issue.key")));
    let (s, _) = error_of(app.post("jira", b"issue=ITS-1".to_vec(), &h).await).await;
    assert_eq!(s, 400);
}
