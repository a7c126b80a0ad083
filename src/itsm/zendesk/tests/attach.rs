//! The upload flow (one token, one internal comment) and the attachment list it is checked
//! against after a crash.

use super::*;

#[tokio::test]
async fn files_are_uploaded_under_one_token_and_attached_by_one_internal_comment() {
    let (sim, zd, t) = setup().await;
    let files = [
        file("session-1-log.csv", "a\n"),
        file("session-1-chat.txt", "hi\n"),
        file("session-1-manifest.json", "{}"),
    ];
    let done = zd.attach(&t, &files).await.unwrap();
    let posts: Vec<_> = sim
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/uploads")
        .collect();
    assert_eq!(posts.len(), 3);
    assert!(
        !posts[0].query.as_deref().unwrap().contains("token="),
        "the first upload opens the token"
    );
    let token = posts[1]
        .query
        .as_deref()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        posts[2]
            .query
            .as_deref()
            .unwrap()
            .ends_with(&format!("token={token}")),
        "the others reuse it"
    );
    assert_eq!(
        count(&sim, "PUT", "/api/v2/tickets/"),
        1,
        "one comment carries every file"
    );
    let id: u64 = t.as_str().parse().unwrap();
    let c = sim.comments(id).pop().unwrap();
    assert!(!c.public, "artifacts go in an internal comment");
    assert!(
        c.body.contains("session\\-1\\-log\\.csv"),
        "names are escaped like any text: {}",
        c.body
    );
    let names: Vec<_> = c.attachments.iter().map(|a| a.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "session-1-log.csv",
            "session-1-chat.txt",
            "session-1-manifest.json"
        ]
    );
    for (d, a) in done.iter().zip(&c.attachments) {
        assert_eq!(d.id.as_deref(), Some(a.id.to_string().as_str()));
    }
    assert_eq!(sim.pending_uploads(), 0);
    let listed = zd.list_attachments(&t).await.unwrap();
    assert_eq!(
        listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        names
    );
    assert_eq!(listed[0].size, Some(2));
    assert!(zd.attach(&t, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn attachments_are_listed_from_every_page_of_comments() {
    let (sim, zd, t) = setup().await;
    zd.attach(&t, &[file("early.csv", "1")]).await.unwrap();
    for i in 0..150 {
        sim.add_comment(t.as_str().parse().unwrap(), &format!("c{i}"), false);
    }
    zd.attach(&t, &[file("late.csv", "2")]).await.unwrap();
    let names: Vec<String> = zd
        .list_attachments(&t)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["early.csv", "late.csv"]);
}

#[test]
fn both_documented_upload_answers_give_the_attachment_id() {
    let now: Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/zendesk/zendesk-upload-response.json"
    ))
    .unwrap();
    assert_eq!(
        attachment_id(&now["upload"], "order_issue.png").as_deref(),
        Some("1503194928902")
    );
    let legacy: Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/zendesk/zendesk-upload-response-legacy-docs.json"
    ))
    .unwrap();
    assert_eq!(legacy["upload"]["token"], "6bk3gql82em5nmf");
    assert_eq!(
        attachment_id(&legacy["upload"], "crash.log").as_deref(),
        Some("498483")
    );
    assert_eq!(attachment_id(&legacy["upload"], "other.log"), None);
}
