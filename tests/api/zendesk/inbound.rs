//! `POST /hooks/zd` as Zendesk calls it: signatures, the account check, de-duplication on the
//! invocation id, event subscriptions, and the answers for bodies that ask for nothing.

use super::*;
use std::time::{Duration, SystemTime};

/// `d` with one header replaced (or removed when `value` is None).
fn with_header(d: &WebhookDelivery, name: &str, value: Option<&str>) -> WebhookDelivery {
    let mut d = d.clone();
    d.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        d.headers.push((name.to_string(), v.to_string()));
    }
    d
}

#[tokio::test]
async fn a_wrong_stale_or_missing_signature_is_401_naming_the_header() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let good = app.click(ticket);

    let forged = with_header(
        &good,
        "x-zendesk-webhook-signature",
        Some("EiqWE3SXTPQpPulBV6OSuuGziIishZNc1VwNZYqZrHU="),
    );
    let (s, e) = error_of(app.deliver(&forged).await).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-zendesk-webhook-signature"))
    );

    let stale = app.zd.sign_delivery(
        good.body.clone(),
        SystemTime::now() - Duration::from_secs(600),
    );
    let (s, e) = error_of(app.deliver(&stale).await).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-zendesk-webhook-signature-timestamp"))
    );
    assert!(e["message"].as_str().unwrap().contains("300 s"), "{e}");

    let unsigned = with_header(&good, "x-zendesk-webhook-signature", None);
    let (s, e) = error_of(app.deliver(&unsigned).await).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-zendesk-webhook-signature"))
    );

    let mut tampered = good.clone();
    tampered.body = String::from_utf8(good.body.clone())
        .unwrap()
        .replace("Service Desk", "Service Deck")
        .into_bytes();
    assert_eq!(app.deliver(&tampered).await.status(), 401);
    assert!(
        app.zd_jobs().await.is_empty(),
        "nothing stored for refused calls"
    );
    assert_eq!(
        app.deliver(&good).await.status(),
        202,
        "the genuine delivery still goes through"
    );
}

#[tokio::test]
async fn another_zendesk_account_is_refused_even_when_correctly_signed() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let other = with_header(&app.click(ticket), "x-zendesk-account-id", Some("999999"));
    let (s, e) = error_of(app.deliver(&other).await).await;
    assert_eq!(
        (s, e["code"].as_str(), e["header"].as_str()),
        (401, Some("unauthorized"), Some("x-zendesk-account-id"))
    );
    let missing = with_header(&app.click(ticket), "x-zendesk-account-id", None);
    let (s, e) = error_of(app.deliver(&missing).await).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-zendesk-account-id"))
    );
    assert!(app.zd_jobs().await.is_empty());
}

#[tokio::test]
async fn the_same_invocation_twice_makes_one_job_and_a_second_click_finds_the_open_one() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let d = app.click(ticket);
    let first: Value = app.deliver(&d).await.json().await.unwrap();
    let r = app.deliver(&d).await; // Zendesk retrying the same invocation
    assert_eq!(r.status(), 202);
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        (again["job_id"].clone(), again["duplicate"].clone()),
        (first["job_id"].clone(), true.into())
    );
    let id = first["job_id"].as_str().unwrap();
    app.wait_for_state(id, "waiting_for_end", 10).await;
    let second: Value = app.deliver(&app.click(ticket)).await.json().await.unwrap();
    assert_eq!(
        (second["status"].as_str(), second["job_id"].as_str()),
        (Some("existing"), Some(id))
    );
    assert_eq!(app.zd_jobs().await.len(), 1);
    assert_eq!(app.splashtop.sessions().len(), 1);
    assert_eq!(app.comments_with(ticket, "/link]"), 1);
}

#[tokio::test]
async fn an_event_subscription_adding_the_tag_starts_a_session_and_other_events_are_ignored() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let other = app.zd.tags_changed_event(ticket, &["vip"]).unwrap();
    let r = app.deliver(&other).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ignored");
    let user_event = app.zd.sign_delivery(
        include_bytes!("../../fixtures/zendesk/zendesk-event-user-active-changed.json").to_vec(),
        SystemTime::now(),
    );
    let r = app.deliver(&user_event).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["reason"]
        .as_str()
        .unwrap()
        .contains("user.active_changed"));

    let r = app
        .deliver(
            &app.zd
                .tags_changed_event(ticket, &["remote_session"])
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert_eq!(
        job["rule"], "Zendesk service desk",
        "the group name, decided on the read ticket"
    );
    assert_eq!(app.comments_with(ticket, &marker(&id, "link")), 1);
}

#[tokio::test]
async fn bodies_that_cannot_or_need_not_start_a_session_get_their_answer_at_once() {
    let app = spawn_zendesk_app().await;
    let no_id = app
        .zd
        .sign_delivery(br#"{"subject": "x"}"#.to_vec(), SystemTime::now());
    let (s, e) = error_of(app.deliver(&no_id).await).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("ticket_id")));

    let elsewhere = app.new_ticket(SimTicket {
        group: Some("Network".into()),
        ..SimTicket::default()
    });
    let r = app.deliver(&app.click(elsewhere)).await;
    assert_eq!(r.status(), 200, "no rule matches the Network group");
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ignored");

    // the body says Service Desk, the ticket as read says Network: skipped, with the reason
    let body = String::from_utf8(app.click(elsewhere).body)
        .unwrap()
        .replace("\"Network\"", "\"Service Desk\"");
    let r = app
        .deliver(&app.zd.sign_delivery(body.into_bytes(), SystemTime::now()))
        .await;
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    let job = app.wait_for_state(&id, "skipped", 10).await;
    let last = job["steps"].as_array().unwrap().last().unwrap();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("queue \"Network\""),
        "{last}"
    );
    assert!(app.splashtop.sessions().is_empty());
}

#[tokio::test]
async fn a_ticket_id_past_u64_is_refused_at_the_webhook_naming_the_field() {
    let app = spawn_zendesk_app().await;
    let ticket = app.new_ticket(SimTicket::default());
    let good = app.click(ticket);
    let mut body: Value = serde_json::from_slice(&good.body).unwrap();
    assert_eq!(body["ticket_id"], ticket.to_string());
    body["ticket_id"] = "18446744073709551616".into();
    let past = body.to_string();
    let forged = app.zd.sign_delivery(past.into_bytes(), SystemTime::now());
    let (s, e) = error_of(app.deliver(&forged).await).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("ticket_id")), "{e}");
    assert!(app.zd_jobs().await.is_empty(), "nothing stored");
}
