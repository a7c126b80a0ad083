//! Tests of the Freshservice simulator over real HTTP on 127.0.0.1: what a client sees.

use super::*;
use crate::{Fault, FaultAction};
use reqwest::multipart::{Form, Part};
use serde_json::json;
use std::time::Duration;

const KEY: &str = "fs-api-key-Zq9";

async fn seeded() -> (FreshserviceSim, u64) {
    let sim = FreshserviceSim::start(KEY).await;
    let id = sim.add_ticket(SimTicket {
        tags: vec!["remote".into()],
        ..SimTicket::default()
    });
    (sim, id)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn get(sim: &FreshserviceSim, path: &str) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}{path}", sim.base_url()))
        .basic_auth(KEY, Some("X"))
}

fn post(sim: &FreshserviceSim, path: &str) -> reqwest::RequestBuilder {
    http()
        .post(format!("{}{path}", sim.base_url()))
        .basic_auth(KEY, Some("X"))
}

async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

#[tokio::test]
async fn the_api_key_is_the_user_name_and_anything_else_is_refused() {
    let (sim, id) = seeded().await;
    let url = format!("{}/api/v2/tickets/{id}", sim.base_url());
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers().contains_key("x-ratelimit-remaining"),
        "failed calls count too"
    );
    assert_eq!(json(resp).await["code"], "invalid_credentials");
    assert_eq!(
        http()
            .get(&url)
            .basic_auth("other", Some("X"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http()
            .get(&url)
            .basic_auth(KEY, Some("anything"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sim.set_api_key("rotated");
    assert_eq!(
        get(&sim, &format!("/api/v2/tickets/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn a_ticket_reads_like_the_fixture_with_its_group_people_and_tags_on_request() {
    let (sim, id) = seeded().await;
    let resp = get(&sim, &format!("/api/v2/tickets/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-ratelimit-total"], "500");
    assert_eq!(resp.headers()["x-ratelimit-used-currentrequest"], "1");
    let t = json(resp).await["ticket"].clone();
    assert_eq!(t["id"], id);
    assert_eq!(t["priority"], 2);
    assert_eq!(t["workspace_id"], 2);
    assert!(t.get("tags").is_none(), "tags only with include=tags");
    let with = json(
        get(
            &sim,
            &format!("/api/v2/tickets/{id}?include=tags,requester"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(with["ticket"]["tags"], json!(["remote"]));
    assert_eq!(with["ticket"]["requester"]["email"], "jane@acme.example");
    let group = json(
        get(&sim, &format!("/api/v2/groups/{}", t["group_id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(group["group"]["name"], "Service Desk");
    let req = json(
        get(&sim, &format!("/api/v2/requesters/{}", t["requester_id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(req["requester"]["primary_email"], "jane@acme.example");
    assert_eq!(req["requester"]["last_name"], "Doe");
    let agent = json(
        get(&sim, &format!("/api/v2/agents/{}", t["responder_id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(agent["agent"]["email"], "beth.anglin@acme.example");
    assert_eq!(
        get(&sim, &format!("/api/v2/agents/{}", t["requester_id"]))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let bad = get(&sim, &format!("/api/v2/tickets/{id}?include=everything"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let v = json(bad).await;
    assert_eq!(v["description"], "Validation failed");
    assert_eq!(v["errors"][0]["field"], "include");
    assert_eq!(
        get(&sim, "/api/v2/tickets/999999")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_json_note_is_private_by_default_and_keeps_its_html_with_a_text_twin() {
    let (sim, id) = seeded().await;
    let path = format!("/api/v2/tickets/{id}/notes");
    let resp = post(&sim, &path)
        .json(&json!({"body": "a &lt;b&gt;<br>\nc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let c = json(resp).await["conversation"].clone();
    assert_eq!(c["private"], true);
    assert_eq!(c["body_text"], "a <b>\nc");
    let public = post(&sim, &path)
        .json(&json!({"body": "x", "private": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(public).await["conversation"]["private"], false);
    let notes = sim.notes(id);
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].body, "a &lt;b&gt;<br>\nc");

    let blank = post(&sim, &path)
        .json(&json!({"body": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(blank.status(), 400);
    assert_eq!(json(blank).await["errors"][0]["field"], "body");
    let unknown = post(&sim, &path)
        .json(&json!({"body": "x", "colour": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(unknown).await["errors"][0]["code"], "invalid_field");
    let text = post(&sim, &path).body("body=x").send().await.unwrap();
    assert_eq!(text.status(), 415);
}

#[tokio::test]
async fn a_multipart_note_stores_each_attachment_and_the_total_is_capped_per_ticket() {
    let sim = FreshserviceSim::start(KEY).await;
    let id = sim.add_ticket(SimTicket {
        attachments: vec![("screen.png".into(), vec![7; 600])],
        ..SimTicket::default()
    });
    sim.set_attachment_limit(1000);
    let form = Form::new()
        .text("body", "<div>files</div>")
        .text("private", "true")
        .part(
            "attachments[]",
            Part::bytes(vec![1; 100])
                .file_name("a.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
        .part(
            "attachments[]",
            Part::bytes(vec![2; 200])
                .file_name("b.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let resp = post(&sim, &format!("/api/v2/tickets/{id}/notes"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let c = json(resp).await["conversation"].clone();
    assert_eq!(c["attachments"][1]["name"], "b.txt");
    assert_eq!(c["attachments"][1]["size"], 200);
    let names: Vec<String> = sim.attachments(id).into_iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        ["screen.png", "a.csv", "b.txt"],
        "the ticket's own files, then the note's"
    );

    // 900 used of 1000: 101 more bytes is over, whatever note they come on
    let form = Form::new().text("body", "more").part(
        "attachments[]",
        Part::bytes(vec![3; 101]).file_name("c.csv"),
    );
    let resp = post(&sim, &format!("/api/v2/tickets/{id}/notes"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v = json(resp).await;
    assert_eq!(v["errors"][0]["field"], "attachments");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot exceed"),
        "{v}"
    );
    assert_eq!(sim.notes(id).len(), 1, "a refused note is not stored");

    let form = Form::new().text("body", "x").text("colour", "red");
    let resp = post(&sim, &format!("/api/v2/tickets/{id}/notes"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["errors"][0]["field"], "colour");
}

#[tokio::test]
async fn conversations_come_in_pages_with_a_link_to_the_next() {
    let (sim, id) = seeded().await;
    for i in 0..45 {
        sim.add_reply(id, &format!("reply {i}"));
    }
    let path = format!("/api/v2/tickets/{id}/conversations");
    let first = get(&sim, &path).send().await.unwrap();
    let link = first.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=2&per_page=30") && link.ends_with("rel=\"next\""),
        "{link}"
    );
    assert_eq!(
        json(first).await["conversations"].as_array().unwrap().len(),
        30,
        "30 a page by default"
    );
    let last = get(&sim, &format!("{path}?page=2&per_page=30"))
        .send()
        .await
        .unwrap();
    assert!(last.headers().get("link").is_none());
    let v = json(last).await;
    assert_eq!(v["conversations"].as_array().unwrap().len(), 15);
    assert_eq!(v["conversations"][14]["body_text"], "reply 44");
    let too_big = get(&sim, &format!("{path}?per_page=101"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 400);
}

#[tokio::test]
async fn injected_faults_answer_in_freshservices_own_shapes() {
    let (sim, id) = seeded().await;
    let path = format!("/api/v2/tickets/{id}");
    sim.faults()
        .push(Fault::new(&path, FaultAction::status(429)));
    let r = get(&sim, &path).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(json(r).await["errors"][0]["code"], "rate_limit_exceeded");
    sim.faults()
        .push(Fault::new(&path, FaultAction::status(503)));
    let r = get(&sim, &path).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text().await.unwrap().contains("503 Service Unavailable"),
        "a gateway page, not JSON"
    );

    sim.faults().set_rate_limit(2, Duration::from_secs(60));
    assert_eq!(get(&sim, &path).send().await.unwrap().status(), 200);
    let second = get(&sim, &path).send().await.unwrap();
    assert_eq!(second.headers()["x-ratelimit-total"], "2");
    assert_eq!(second.headers()["x-ratelimit-remaining"], "0");
    let refused = get(&sim, &path).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(
        refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn the_shipped_workflow_body_carries_the_numeric_id_and_the_display_id_has_its_prefix() {
    let (sim, id) = seeded().await;
    let body: Value = serde_json::from_str(&sim.workflow_body(id).unwrap()).unwrap();
    assert_eq!(
        body["ticket_id"],
        id.to_string(),
        "{{{{ticket.id_numeric}}}}"
    );
    let updated = body["event_id"].as_str().unwrap();
    assert!(updated.starts_with(&format!("{id}-")), "{updated}");
    let display = render::workflow_body_from(
        "{\"ticket_id\": \"{{ticket.id}}\"}",
        &sim.inner.state.data().tickets[&id],
    );
    assert_eq!(display, format!("{{\"ticket_id\": \"#INC-{id}\"}}"));
}
