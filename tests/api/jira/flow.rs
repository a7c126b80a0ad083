//! The whole Jira flow against the simulators: the button → session → internal link comment →
//! session ends → artifacts attached once through temporary files → summary comment; public
//! notes when a rule says so; hostile ticket text inert; rules decided on the read.

use super::*;
use deskbridge_sim::SessionEnd;

#[tokio::test]
async fn a_click_in_jira_ends_with_the_link_and_every_artifact_on_the_issue_once() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|_| {});
    let id = app.start(&key).await;

    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let session = &app.splashtop.sessions()[0];
    assert_eq!(job["session"]["code"], session.code.as_str());
    assert_eq!(
        session.customer_name, "Jane Doe",
        "the reporter, read from JSM"
    );
    assert!(
        session.customer_issue.contains(&key),
        "{}",
        session.customer_issue
    );
    let comments = app.jira.comments(&key);
    assert_eq!(comments.len(), 1, "exactly one link comment");
    assert!(!comments[0].public, "internal by default");
    assert!(
        comments[0].body.contains(&session.support_portal_link),
        "the vendor's link exactly: {}",
        comments[0].body
    );
    assert!(
        comments[0].body.ends_with(&marker(&id, "link")),
        "{}",
        comments[0].body
    );
    let read = &job["ticket_read"];
    assert_eq!(
        (
            read["queue"].as_str(),
            read["project"].as_str(),
            read["service_desk"].as_str()
        ),
        (Some("Get IT help"), Some("ITS"), Some("1")),
        "{read}"
    );

    app.splashtop.set_transcripts_enabled(true);
    assert!(app
        .splashtop
        .end_session(&session.code, SessionEnd::sample(3, 2, 120)));
    let job = app.wait_for_state(&id, "done", 15).await;

    assert_each_artifact_once(app.attachment_names(&key), &session.code);
    assert_eq!(
        app.jira.pending_temporary_files(),
        0,
        "every temporary file was attached"
    );

    for a in app.jira.attachments(&key) {
        assert!(!a.public, "{} is internal", a.file_name);
    }
    app.assert_artifacts_match(&job, &app.files(&key));
    assert_eq!(app.comments_with(&key, &marker(&id, "summary")), 1);
    assert_eq!(app.jira.comments(&key).len(), 2);
}

#[tokio::test]
async fn the_link_comment_is_public_when_the_rule_says_so() {
    let rule = Rule::new("Customer-facing desk", "jira", "splashtop")
        .project(&["PUB"])
        .public_link();
    let app = spawn_jira_app_with(|c| c.rules.insert(0, rule)).await;
    let (key, _) = app.waiting(|s| s.project_key = "PUB".into()).await;
    let comments = app.jira.comments(&key);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].public, "the rule asked for a public link note");
}

/// Every `[`, `]`, `{`, `}`, `|`, `!` in `s` is escaped with a backslash.
fn all_escaped(s: &str) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if "[]{}|!".contains(*c) && (i == 0 || chars[i - 1] != '\\') {
            let from = i.saturating_sub(20);
            return Err(format!(
                "unescaped {c:?} at {i}: …{}…",
                chars[from..(i + 5).min(chars.len())]
                    .iter()
                    .collect::<String>()
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn hostile_ticket_text_comes_out_inert_in_the_stored_comment() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|s| {
        s.summary = "<script>alert(1)</script> [link|javascript:alert(1)] {code}x{code} !http://evil.example/p.png! {html}<b>x</b>{html}".into();
        s.reporter_name = "Jane [evil|javascript:alert(2)]".into();
    });
    let id = app.start(&key).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let body = app.jira.comments(&key).remove(0).body;
    let marker = marker(&id, "link");
    assert!(
        body.ends_with(&marker),
        "the marker is appended verbatim: {body}"
    );
    let text = body.trim_end_matches(&marker);
    all_escaped(text).unwrap();
    assert!(text.contains(r"\[link\|javascript:alert(1)\]"), "{text}");
    assert!(text.contains(r"\{code\}x\{code\}"), "{text}");
    assert!(
        text.contains(r"\{html\}<b>x</b>\{html\}"),
        "the html macro cannot open: {text}"
    );
    assert!(
        text.contains(r"Jane \[evil\|javascript:alert(2)\]"),
        "{text}"
    );
    assert!(
        text.contains("<script>alert(1)</script>"),
        "wiki markup shows HTML as text; nothing to strip: {text}"
    );
    // the escaped note is still found by its marker: a second pass posts nothing
    assert_eq!(app.comments_with(&key, &marker), 1);
}

#[tokio::test]
async fn a_request_type_no_rule_wants_is_skipped_when_read() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|s| s.request_type = "Onboarding".into());
    // the Automation body cannot say the request type: the click is accepted…
    let id = app.start(&key).await;
    // …and the read decides
    let job = app.wait_for_state(&id, "skipped", 10).await;
    let last = job["steps"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("queue \"Onboarding\" is not one of"),
        "{last}"
    );
    assert!(app.splashtop.sessions().is_empty());
    assert!(app.jira.comments(&key).is_empty());
}

#[tokio::test]
async fn a_project_no_rule_wants_is_ignored_without_calling_jira() {
    let app = spawn_jira_app().await;
    let key = app.new_issue(|s| s.project_key = "HR".into());
    let r = app.click(&key).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ignored");
    assert!(
        v["reason"].as_str().unwrap().contains("project \"HR\""),
        "{v}"
    );
    assert!(
        app.jira.faults().requests().is_empty(),
        "no call to Jira was needed"
    );
}

#[tokio::test]
async fn a_second_click_while_the_session_is_open_returns_the_open_job() {
    let app = spawn_jira_app().await;
    let (key, id) = app.waiting(|_| {}).await;
    let v: Value = app.click(&key).await.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["job_id"].as_str()),
        (Some("existing"), Some(id.as_str()))
    );
    assert_eq!(app.splashtop.sessions().len(), 1);
    assert_eq!(app.jira.comments(&key).len(), 1);
}
