//! Tests of the Zendesk simulator over real HTTP on 127.0.0.1: it must hold to the contract
//! the adapter is written against, or the adapter's tests prove nothing.

use super::*;
use crate::{Fault, FaultAction};
use base64::Engine;
use std::time::Duration;

const EMAIL: &str = "deskbridge@acme.example";
const TOKEN: &str = "zd-api-token";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn call(sim: &ZendeskSim, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    http()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth(format!("{EMAIL}/token"), Some(TOKEN))
        .header("Accept", "application/json")
}

async fn seeded() -> (ZendeskSim, u64) {
    let sim = ZendeskSim::start(EMAIL, TOKEN).await;
    let id = sim.add_ticket(SimTicket::default());
    (sim, id)
}

async fn put_comment(sim: &ZendeskSim, id: u64, comment: Value) -> reqwest::Response {
    call(sim, reqwest::Method::PUT, &format!("/api/v2/tickets/{id}"))
        .json(&json!({"ticket": {"comment": comment}}))
        .send()
        .await
        .unwrap()
}

async fn upload(sim: &ZendeskSim, name: &str, token: Option<&str>) -> reqwest::Response {
    let mut q = vec![("filename", name)];
    if let Some(t) = token {
        q.push(("token", t));
    }
    call(sim, reqwest::Method::POST, "/api/v2/uploads")
        .query(&q)
        .header("Content-Type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_the_api_token_or_an_allowed_bearer_gets_in() {
    let (sim, id) = seeded().await;
    let url = format!("{}/api/v2/tickets/{id}", sim.base_url());
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "Couldn't authenticate you"
    );
    let wrong = http()
        .get(&url)
        .basic_auth(format!("{EMAIL}/token"), Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let password_style = http()
        .get(&url)
        .basic_auth(EMAIL, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(
        password_style.status(),
        401,
        "the API token only works as {{email}}/token"
    );
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("oauth")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    sim.allow_bearer("oauth");
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("oauth")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_ticket_reads_with_ids_that_lead_to_its_group_brand_and_people() {
    let (sim, id) = seeded().await;
    for path in [
        format!("/api/v2/tickets/{id}"),
        format!("/api/v2/tickets/{id}.json"),
    ] {
        let v: Value = call(&sim, reqwest::Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["ticket"]["id"], id);
    }
    let t = sim.ticket(id).unwrap();
    assert_eq!(t["priority"], "high");
    assert_eq!(t["tags"], json!(["enterprise"]));
    let s = &sim;
    let get = |path: String| async move {
        call(s, reqwest::Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(
        get(format!("/api/v2/groups/{}", t["group_id"])).await["group"]["name"],
        "Service Desk"
    );
    assert_eq!(
        get(format!("/api/v2/brands/{}", t["brand_id"])).await["brand"]["name"],
        "Acme"
    );
    assert_eq!(
        get(format!("/api/v2/users/{}", t["requester_id"])).await["user"]["email"],
        "jane@acme.example"
    );
    assert_eq!(
        get(format!("/api/v2/users/{}", t["assignee_id"])).await["user"]["email"],
        "beth@acme.example"
    );
    let missing = get("/api/v2/tickets/1".into()).await;
    assert_eq!(
        missing,
        json!({"error": "RecordNotFound", "description": "Not found"})
    );
}

#[tokio::test]
async fn comments_are_public_unless_told_and_page_by_next_page_urls() {
    let (sim, id) = seeded().await;
    for i in 0..4 {
        assert_eq!(
            put_comment(
                &sim,
                id,
                json!({"body": format!("note {i}"), "public": false})
            )
            .await
            .status(),
            200
        );
    }
    let r = put_comment(&sim, id, json!({"body": "hello"})).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["audit"]["events"][0]["public"], true,
        "Zendesk's default is a public reply"
    );
    let c = sim.comments(id);
    assert_eq!(c.len(), 6, "the description is the first comment");
    assert!(c[0].public && !c[1].public && c[5].public);

    let mut path = format!("/api/v2/tickets/{id}/comments?per_page=4");
    let mut seen = vec![];
    loop {
        let v: Value = call(&sim, reqwest::Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["count"], 6);
        seen.extend(
            v["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["plain_body"].as_str().unwrap().to_string()),
        );
        match v["next_page"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&sim.base_url()) && next.contains("comments.json?page="),
                    "{next}"
                );
                path = next.trim_start_matches(&sim.base_url()).to_string();
            }
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "The fire is very colorful.",
            "note 0",
            "note 1",
            "note 2",
            "note 3",
            "hello"
        ]
    );
}

#[tokio::test]
async fn files_go_up_under_one_token_and_one_comment_carries_them() {
    let (sim, id) = seeded().await;
    let first: Value = upload(&sim, "a.csv", None).await.json().await.unwrap();
    let token = first["upload"]["token"].as_str().unwrap().to_string();
    assert!(first["upload"]["expires_at"].is_string());
    assert_eq!(first["upload"]["attachment"]["file_name"], "a.csv");
    let r = upload(&sim, "b.csv", Some(&token)).await;
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["upload"]["token"], token.as_str());
    assert_eq!(second["upload"]["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(
        sim.attachments(id).len(),
        0,
        "nothing is on the ticket before a comment carries it"
    );
    assert_eq!(sim.pending_uploads(), 1);

    let r = put_comment(
        &sim,
        id,
        json!({"body": "logs", "public": false, "uploads": [token]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let files = sim.attachments(id);
    assert_eq!(
        files
            .iter()
            .map(|f| f.file_name.as_str())
            .collect::<Vec<_>>(),
        ["a.csv", "b.csv"]
    );
    assert_eq!(files[0].content_type, "text/csv");
    assert_eq!(files[0].bytes, b"a,b\n1,2\n");
    assert_eq!(
        sim.pending_uploads(),
        0,
        "a token is used up by its comment"
    );
    let again = put_comment(&sim, id, json!({"body": "again", "uploads": [token]})).await;
    assert_eq!(again.status(), 422);
}

#[tokio::test]
async fn bad_uploads_and_updates_are_refused_in_zendesks_envelope() {
    let (sim, id) = seeded().await;
    let no_name = call(&sim, reqwest::Method::POST, "/api/v2/uploads")
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(no_name.status(), 400);
    let no_type = call(
        &sim,
        reqwest::Method::POST,
        "/api/v2/uploads?filename=x.txt",
    )
    .body("x")
    .send()
    .await
    .unwrap();
    assert_eq!(no_type.status(), 422);
    assert_eq!(upload(&sim, "x.csv", Some("nope")).await.status(), 422);
    sim.refuse_extension("csv");
    let refused: Value = upload(&sim, "x.csv", None).await.json().await.unwrap();
    assert_eq!(refused["error"], "RecordInvalid");
    assert!(refused["details"]["file"][0]["description"]
        .as_str()
        .unwrap()
        .contains(".csv"));
    let not_json = call(&sim, reqwest::Method::PUT, &format!("/api/v2/tickets/{id}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        not_json.status(),
        400,
        "PUT needs Content-Type: application/json"
    );
    assert_eq!(
        put_comment(&sim, id, json!({"body": " "})).await.status(),
        422
    );
}

#[tokio::test]
async fn a_full_ticket_refuses_further_comments_with_422() {
    let (sim, id) = seeded().await;
    sim.set_comment_limit(2);
    assert_eq!(
        put_comment(&sim, id, json!({"body": "second"}))
            .await
            .status(),
        200
    );
    let r = put_comment(&sim, id, json!({"body": "third"})).await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "RecordInvalid");
    assert!(v["details"]["base"][0]["description"]
        .as_str()
        .unwrap()
        .contains("maximum of 2 comments"));
    assert_eq!(sim.comments(id).len(), 2);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_the_rate_limit_headers() {
    let (sim, id) = seeded().await;
    sim.faults().set_rate_limit(2, Duration::from_secs(60));
    let path = format!("/api/v2/tickets/{id}");
    let ok = call(&sim, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.headers()["x-rate-limit"], "2");
    assert_eq!(ok.headers()["x-rate-limit-remaining"], "1");
    call(&sim, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    let limited = call(&sim, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(limited.headers()["x-rate-limit-remaining"], "0");
    sim.faults().clear();
    let text = "You have exceeded the rate limit for updating a single unique ticket";
    sim.faults().push(Fault::new(
        "/api/v2/tickets/",
        FaultAction::Status {
            status: 429,
            retry_after: None,
            body: Some(text.into()),
        },
    ));
    let plain = call(&sim, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 429);
    assert!(plain.headers().get("retry-after").is_none());
    assert_eq!(plain.text().await.unwrap(), text);
}

mod webhook;
