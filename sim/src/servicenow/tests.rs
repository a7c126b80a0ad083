//! Tests of the ServiceNow simulator over real HTTP on 127.0.0.1.

use super::*;
use crate::{Fault, FaultAction};
use std::time::Duration;

const USER: &str = "deskbridge.int";
const PASS: &str = "s3cret";

async fn seeded() -> (ServiceNowSim, String) {
    let sim = ServiceNowSim::start(USER, PASS).await;
    let id = sim.add_incident(SimIncident::default());
    (sim, id)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn get(sim: &ServiceNowSim, path: &str) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}{path}", sim.base_url()))
        .basic_auth(USER, Some(PASS))
}

async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

async fn note(sim: &ServiceNowSim, id: &str, body: Value) -> reqwest::Response {
    http()
        .patch(format!("{}/api/now/table/incident/{id}", sim.base_url()))
        .basic_auth(USER, Some(PASS))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn auth_is_required_and_password_can_change() {
    let (sim, id) = seeded().await;
    let url = format!("{}/api/now/table/incident/{id}", sim.base_url());
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let v = json(resp).await;
    assert_eq!(v["error"]["message"], "User Not Authenticated");
    assert_eq!(v["error"]["detail"], "Required to provide Auth information");
    assert_eq!(v["status"], "failure");
    let wrong = http().get(&url).basic_auth(USER, Some("nope")).send().await;
    assert_eq!(wrong.unwrap().status(), 401);
    sim.set_password("rotated");
    assert_eq!(
        get(&sim, &format!("/api/now/table/incident/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let ok = http()
        .get(&url)
        .basic_auth(USER, Some("rotated"))
        .send()
        .await;
    assert_eq!(ok.unwrap().status(), 200);
}

#[tokio::test]
async fn reads_record_in_each_display_mode() {
    let (sim, id) = seeded().await;
    let group = sim.group_sys_id("Service Desk").unwrap();
    let v = json(
        get(&sim, &format!("/api/now/table/incident/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let r = &v["result"];
    assert_eq!(r["number"], "INC0000046");
    assert_eq!(r["sys_id"], id.as_str());
    assert_eq!(r["priority"], "3");
    assert_eq!(r["sys_class_name"], "incident");
    assert_eq!(r["assignment_group"]["value"], group.as_str());
    let link = format!("{}/api/now/table/sys_user_group/{group}", sim.base_url());
    assert_eq!(r["assignment_group"]["link"], link.as_str());
    assert_eq!(r["sys_domain"]["value"], "global");

    let path = format!(
        "/api/now/table/incident/{id}?sysparm_display_value=all&sysparm_fields=number,assignment_group,priority,caller_id,caller_id.email,assigned_to.email,nonexistent"
    );
    let v = json(get(&sim, &path).send().await.unwrap()).await;
    let r = &v["result"];
    assert_eq!(
        r["number"],
        json!({"display_value": "INC0000046", "value": "INC0000046"})
    );
    assert_eq!(r["assignment_group"]["display_value"], "Service Desk");
    assert_eq!(r["assignment_group"]["value"], group.as_str());
    assert_eq!(r["priority"]["display_value"], "3 - Moderate");
    assert_eq!(r["caller_id"]["display_value"], "Jane Doe");
    assert_eq!(r["caller_id.email"]["value"], "jane@acme.example");
    assert_eq!(r["assigned_to.email"]["value"], "beth.anglin@acme.example");
    assert!(r.get("short_description").is_none());
    assert!(r.get("nonexistent").is_none());

    let path = format!(
        "/api/now/table/incident/{id}?sysparm_display_value=true&sysparm_exclude_reference_link=true&sysparm_fields=assignment_group,caller_id.email"
    );
    let v = json(get(&sim, &path).send().await.unwrap()).await;
    assert_eq!(
        v["result"],
        json!({"assignment_group": "Service Desk", "caller_id.email": "jane@acme.example"})
    );
}

#[tokio::test]
async fn missing_record_unknown_table_and_uri() {
    let (sim, _id) = seeded().await;
    let resp = get(&sim, "/api/now/table/incident/0123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let v = json(resp).await;
    assert_eq!(v["error"]["message"], "No Record found");
    assert_eq!(
        get(&sim, "/api/now/table/u_nope/1")
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let resp = get(&sim, "/api/now/nothing").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["status"], "failure");
}

#[tokio::test]
async fn patch_appends_journal_and_returns_record() {
    let (sim, id) = seeded().await;
    let resp = note(
        &sim,
        &id,
        json!({"work_notes": "[deskbridge:job/1/link] link"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let v = json(resp).await;
    assert_eq!(v["result"]["sys_id"], id.as_str());
    assert_eq!(v["result"]["sys_mod_count"], "1");
    note(&sim, &id, json!({"comments": "visible", "state": "2"})).await;
    let j = sim.journal(&id);
    assert_eq!(j.len(), 2);
    assert_eq!(
        (j[0].element.as_str(), j[0].value.as_str()),
        ("work_notes", "[deskbridge:job/1/link] link")
    );
    assert_eq!(j[1].element, "comments");
    assert_eq!(j[1].created_on.len(), 19);
    assert_eq!(sim.incident(&id).unwrap()["state"], "2");

    let bad = http()
        .patch(format!("{}/api/now/table/incident/{id}", sim.base_url()))
        .basic_auth(USER, Some(PASS))
        .body("work_notes=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(json(bad).await["status"], "failure");
    assert_eq!(
        note(&sim, "ffff", json!({"work_notes": "x"}))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn journal_query_filters_and_pages() {
    let (sim, id) = seeded().await;
    let other = sim.add_incident(SimIncident::default());
    for i in 0..25 {
        note(
            &sim,
            &id,
            json!({"work_notes": format!("[deskbridge:job/{i}/x] n")}),
        )
        .await;
    }
    note(
        &sim,
        &id,
        json!({"comments": "[deskbridge:job/3/x] public"}),
    )
    .await;
    note(
        &sim,
        &other,
        json!({"work_notes": "[deskbridge:job/3/x] other"}),
    )
    .await;

    let q = |query: String, extra: &str| {
        get(&sim, &format!("/api/now/table/sys_journal_field?{extra}"))
            .query(&[("sysparm_query", query)])
    };
    let v = json(
        q(format!("element_id={id}^valueLIKE[deskbridge:job/3/x]"), "")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 2);
    let v = json(
        q(
            format!("element_id={id}^valueLIKE[deskbridge:job/3/x]^element=work_notes"),
            "",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["result"][0]["element_id"], id.as_str());

    let mut seen = 0;
    let mut next = Some(format!("{}/api/now/table/sys_journal_field?sysparm_query=element_id%3D{id}%5Eelement%3Dwork_notes&sysparm_limit=10", sim.base_url()));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = http()
            .get(&url)
            .basic_auth(USER, Some(PASS))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-total-count"], "25");
        let link = resp.headers()["link"].to_str().unwrap().to_string();
        assert!(link.contains("rel=\"first\"") && link.contains("rel=\"last\""));
        next = link
            .split(',')
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| {
                l.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            });
        seen += json(resp).await["result"].as_array().unwrap().len();
        pages += 1;
    }
    assert_eq!((pages, seen), (3, 25));
}

async fn upload(sim: &ServiceNowSim, id: &str, name: &str, ct: Option<&str>) -> reqwest::Response {
    let mut req = http()
        .post(format!("{}/api/now/attachment/file", sim.base_url()))
        .query(&[
            ("table_name", "incident"),
            ("table_sys_id", id),
            ("file_name", name),
        ])
        .basic_auth(USER, Some(PASS))
        .body("session log\n");
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn attachments_upload_list_download() {
    let (sim, id) = seeded().await;
    let resp = upload(&sim, &id, "session-log.csv", Some("text/csv")).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let v = json(resp).await;
    let r = &v["result"];
    assert_eq!(r["size_bytes"], "12");
    assert_eq!(r["table_name"], "incident");
    assert_eq!(r["table_sys_id"], id.as_str());
    assert_eq!(r["content_type"], "text/csv");
    let att = r["sys_id"].as_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("{}/api/now/attachment/{att}", sim.base_url())
    );
    upload(&sim, &id, "chat.txt", Some("text/plain")).await;

    let v = json(
        get(&sim, "/api/now/attachment")
            .query(&[(
                "sysparm_query",
                format!("table_sys_id={id}^file_name=session-log.csv"),
            )])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    let resp = get(&sim, "/api/now/attachment")
        .query(&[
            ("sysparm_query", format!("table_sys_id={id}")),
            ("sysparm_limit", "1".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-total-count"], "2");
    assert!(resp.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));

    let file = get(&sim, &format!("/api/now/attachment/{att}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "text/csv");
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"session log\n");
    let stored = sim.attachments(&id);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].file_name, "session-log.csv");
}

#[tokio::test]
async fn attachment_errors() {
    let (sim, id) = seeded().await;
    assert_eq!(upload(&sim, &id, "a.csv", None).await.status(), 400);
    assert_eq!(
        upload(&sim, "0000", "a.csv", Some("text/csv"))
            .await
            .status(),
        404
    );
    sim.refuse_extension(".log");
    let resp = upload(&sim, &id, "session.LOG", Some("text/plain")).await;
    assert_eq!(resp.status(), 400);
    let v = json(resp).await;
    assert!(v["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    assert!(sim.attachments(&id).is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_like_servicenow() {
    let (sim, id) = seeded().await;
    sim.faults().set_rate_limit(1, Duration::from_secs(60));
    let path = format!("/api/now/table/incident/{id}");
    let ok = get(&sim, &path).send().await.unwrap();
    assert_eq!(ok.headers()["x-ratelimit-limit"], "1");
    let resp = get(&sim, &path).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let h = resp.headers().clone();
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > crate::unix_secs(std::time::SystemTime::now()));
    assert!(h.contains_key("x-ratelimit-rule"));
    let v = json(resp).await;
    assert_eq!(
        v,
        json!({"error": {"message": "Rate limit exceeded", "detail": "Rate limit of 1 requests per hour for Table API exceeded"}, "status": "failure"})
    );
}

#[tokio::test]
async fn injected_faults_use_the_envelope() {
    let (sim, id) = seeded().await;
    sim.faults()
        .push(Fault::new("/api/now/table/", FaultAction::status(503)));
    let resp = note(&sim, &id, json!({"work_notes": "x"})).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(json(resp).await["status"], "failure");
    sim.faults()
        .push(Fault::new("/api/now/table/", FaultAction::status(429)));
    let resp = note(&sim, &id, json!({"work_notes": "x"})).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("x-ratelimit-reset"));
    assert!(sim.journal(&id).is_empty());
}

#[tokio::test]
async fn apply_then_hang_commits_the_upload() {
    let (sim, id) = seeded().await;
    sim.faults()
        .push(Fault::new("/api/now/attachment/file", FaultAction::ApplyThenHang).method("POST"));
    let s2 = sim.clone();
    let id2 = id.clone();
    let call = tokio::spawn(async move { upload(&s2, &id2, "log.csv", Some("text/csv")).await });
    let seen = sim
        .faults()
        .wait_for_request("POST", "file_name=log.csv", Duration::from_secs(3))
        .await
        .expect("upload arrives");
    assert_eq!(seen.path, "/api/now/attachment/file");
    // The effect lands although the client never gets an answer.
    for _ in 0..50 {
        if !sim.attachments(&id).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.attachments(&id).len(), 1);
    assert_eq!(sim.faults().requests().last().unwrap().status, None);
    assert!(!call.is_finished(), "no answer was sent");
    call.abort();
}
