//! The Workflow Automator's call in: the shared header and basic auth, each good, wrong and
//! missing; and a body that is not the template, named.

use super::*;
use base64::Engine;

/// The value of an `Authorization` header of `scheme` carrying `user:password`.
fn credentials(scheme: &str, user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("{scheme} {encoded}")
}

/// Post the workflow's call to `conn` with `headers`: the status and the error, if any.
async fn call(app: &FsApp, conn: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    error_of(app.hook(conn, body.to_string(), headers).await).await
}

#[tokio::test]
async fn the_shared_header_is_accepted_when_right_and_refused_naming_it_when_wrong_or_missing() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());

    let (s, e) = call(&app, "fs", &body, &[(FS_HEADER, "not-the-token")]).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("x-deskbridge-token")),
        "{e}"
    );
    let (s, e) = call(&app, "fs", &body, &[]).await;
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

    let r = app.post_hook(&body).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "queued");
}

#[tokio::test]
async fn basic_auth_is_accepted_when_right_and_refused_when_wrong_or_missing() {
    let app = spawn_fs().await;
    let (_, body) = app.new_ticket(SimTicket::default());
    let authorization = |scheme: &str, password: &str| {
        (
            "authorization",
            credentials(scheme, FS_BASIC_USER, password),
        )
    };

    let (name, wrong) = authorization("Basic", "wrong");
    let (s, e) = call(&app, "fs-basic", &body, &[(name, &wrong)]).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("authorization")),
        "{e}"
    );
    let (s, e) = call(&app, "fs-basic", &body, &[(FS_HEADER, FS_TOKEN)]).await;
    assert_eq!(
        (s, e["header"].as_str()),
        (401, Some("authorization")),
        "the other connection's header is no credential"
    );
    let (name, bearer) = authorization("Bearer", FS_BASIC_PASSWORD);
    let (s, _) = call(&app, "fs-basic", &body, &[(name, &bearer)]).await;
    assert_eq!(s, 401);

    let (name, right) = authorization("Basic", FS_BASIC_PASSWORD);
    let r = app.hook("fs-basic", body, &[(name, &right)]).await;
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
