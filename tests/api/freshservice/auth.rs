//! The Workflow Automator's call in: the shared header and basic auth, each good, wrong and
//! missing; and a body that is not the template, named.

use super::*;
use base64::Engine;

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json::<Value>().await.unwrap()["error"].clone())
}

fn hook(app: &FsApp, conn: &str, body: &str) -> reqwest::RequestBuilder {
    app.client
        .post(format!("{}/hooks/{conn}", app.base))
        .header("content-type", "application/json")
        .body(body.to_string())
}

#[tokio::test]
async fn the_shared_header_is_accepted_when_right_and_refused_naming_it_when_wrong_or_missing() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());

    let (s, e) = error_of(
        hook(&app, "fs", &body)
            .header(FS_HEADER, "not-the-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-deskbridge-token")),
        "{e}"
    );
    let (s, e) = error_of(hook(&app, "fs", &body).send().await.unwrap()).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-deskbridge-token")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("missing"), "{e}");
    assert!(
        app.fs.faults().requests().is_empty(),
        "a refused call reaches nothing"
    );

    let r = hook(&app, "fs", &body)
        .header(FS_HEADER, FS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "queued");
}

#[tokio::test]
async fn basic_auth_is_accepted_when_right_and_refused_when_wrong_or_missing() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());

    let r = hook(&app, "fs-basic", &body)
        .basic_auth(FS_BASIC_USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    let (s, e) = error_of(r).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("authorization")),
        "{e}"
    );
    let r = hook(&app, "fs-basic", &body)
        .header(FS_HEADER, FS_TOKEN)
        .send()
        .await
        .unwrap();
    let (s, e) = error_of(r).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("authorization")),
        "the other connection's header is no credential"
    );
    let bearer = base64::engine::general_purpose::STANDARD
        .encode(format!("{FS_BASIC_USER}:{FS_BASIC_PASSWORD}"));
    let r = hook(&app, "fs-basic", &body)
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = hook(&app, "fs-basic", &body)
        .basic_auth(FS_BASIC_USER, Some(FS_BASIC_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn a_body_that_is_not_the_template_is_400_naming_the_field() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());
    let mut v: Value = serde_json::from_str(&body).unwrap();
    v.as_object_mut().unwrap().remove("ticket_id");
    let (s, e) = error_of(app.post_hook(&v.to_string()).await).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("ticket_id")), "{e}");

    v["ticket_id"] = "{{ticket.id}}".into();
    let (s, e) = error_of(app.post_hook(&v.to_string()).await).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("ticket_id")), "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("placeholder"),
        "{e}"
    );

    let (s, _) = error_of(
        app.post_hook("{\"ticket_id\": \"12\", \"subject\": \"unterminated")
            .await,
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_ticket_whose_hint_matches_no_rule_is_ignored_without_calling_freshservice() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket {
        group: Some("Network".into()),
        ..SimTicket::default()
    });
    let r = app.post_hook(&body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ignored");
    assert!(v["reason"].as_str().unwrap().contains("\"Network\""), "{v}");
    assert!(app.fs.faults().requests().is_empty());
}
