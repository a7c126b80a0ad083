//! The simulator's write side over real HTTP: temporary files (XSRF header, part name, size
//! limit, single use, expiry) and the per-issue write limit.

use super::*;

#[tokio::test]
async fn temporary_files_need_the_xsrf_header_and_the_file_part_and_fit_the_limit() {
    let (sim, _) = seeded().await;
    let path = "/rest/servicedeskapi/servicedesk/1/attachTemporaryFile";
    let form = Form::new().part("file", Part::bytes(b"a,b".to_vec()).file_name("a.csv"));
    let r = call(&sim, reqwest::Method::POST, path)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (403, "XSRF check failed".to_string())
    );
    let form = Form::new().part(
        "attachment",
        Part::bytes(b"a,b".to_vec()).file_name("a.csv"),
    );
    let (s, _) = json_of(
        call(&sim, reqwest::Method::POST, path)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await;
    assert_eq!(s, 400, "the part must be named file");
    sim.set_upload_limit(4);
    let (s, v) = json_of(upload(&sim, "1", &[("big.csv", b"12345")])).await;
    assert_eq!(s, 413);
    assert!(v["errorMessage"]
        .as_str()
        .unwrap()
        .contains("maximum attachment size"));
    let (s, v) = json_of(upload(&sim, "ITS", &[("a.csv", b"1234"), ("b.csv", b"12")])).await;
    assert_eq!(s, 201, "the project key works as service desk id");
    assert_eq!(v["temporaryAttachments"].as_array().unwrap().len(), 2);
    assert_eq!(sim.pending_temporary_files(), 2);
}

#[tokio::test]
async fn temporary_files_become_attachments_once_and_expire() {
    let (sim, key) = seeded().await;
    let (_, v) = json_of(upload(&sim, "1", &[("log.csv", b"a,b\n1,2\n")])).await;
    let temp = v["temporaryAttachments"][0]["temporaryAttachmentId"]
        .as_str()
        .unwrap()
        .to_string();
    let attach = format!("/rest/servicedeskapi/request/{key}/attachment");
    let (s, v) = json_of(
        call(&sim, reqwest::Method::POST, &attach)
            .json(&json!({"temporaryAttachmentIds": [temp], "public": false})),
    )
    .await;
    assert_eq!(s, 201);
    let a = &v["attachments"]["values"][0];
    assert_eq!(a["filename"], "log.csv");
    assert!(
        a.get("id").is_none(),
        "JSM attachment objects carry links, not ids"
    );
    let stored = sim.attachments(&key);
    assert_eq!(
        (stored.len(), stored[0].public, stored[0].bytes.as_slice()),
        (1, false, &b"a,b\n1,2\n"[..])
    );
    assert!(a["_links"]["jiraRest"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/attachment/{}", stored[0].id)));
    let (s, _) = json_of(
        call(&sim, reqwest::Method::POST, &attach)
            .json(&json!({"temporaryAttachmentIds": [temp], "public": false})),
    )
    .await;
    assert_eq!(s, 400, "a temporary file is used once");

    sim.set_temporary_file_ttl(Duration::from_millis(50));
    let (_, v) = json_of(upload(&sim, "1", &[("late.csv", b"x")])).await;
    let temp = v["temporaryAttachments"][0]["temporaryAttachmentId"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (s, v) = json_of(
        call(&sim, reqwest::Method::POST, &attach)
            .json(&json!({"temporaryAttachmentIds": [temp], "public": false})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["errorMessage"].as_str().unwrap().contains("expired"));
    assert_eq!(sim.attachments(&key).len(), 1);
}

#[tokio::test]
async fn writes_to_one_issue_hit_the_per_issue_limit_with_jiras_headers() {
    let (sim, key) = seeded().await;
    let other = sim.add_issue(SimIssue::default());
    sim.set_per_issue_write_limit(1, Duration::from_secs(30));
    let post = |k: &str| {
        call(
            &sim,
            reqwest::Method::POST,
            &format!("/rest/servicedeskapi/request/{k}/comment"),
        )
        .json(&json!({"body": "x", "public": false}))
    };
    assert_eq!(post(&key).send().await.unwrap().status(), 201);
    let r = post(&key).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let h = r.headers();
    assert_eq!(h["ratelimit-reason"], "jira-per-issue-on-write");
    let wait: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&wait), "{wait}");
    let reset = h["x-ratelimit-reset"].to_str().unwrap();
    assert!(
        reset.len() == 17 && reset.ends_with('Z'),
        "yyyy-MM-ddTHH:mmZ: {reset}"
    );
    assert_eq!(
        post(&other).send().await.unwrap().status(),
        201,
        "another issue has its own budget"
    );
}
