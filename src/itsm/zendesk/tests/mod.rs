//! The adapter against the Zendesk simulator over real HTTP: reads, notes, the upload flow,
//! the comment reads that make writes idempotent, and every error class.

use super::*;
use crate::metrics::Metrics;
use crate::outbound::Retry;
use deskbridge_sim::zendesk::SimTicket;
use deskbridge_sim::{Fault, FaultAction, ZendeskSim};
use std::sync::Arc;
use std::time::Duration;

const EMAIL: &str = "deskbridge@acme.example";
const TOKEN: &str = "zd-token-Secret-77";

async fn setup() -> (ZendeskSim, Zendesk, TicketRef) {
    let sim = ZendeskSim::start(EMAIL, TOKEN).await;
    let id = sim.add_ticket(SimTicket::default());
    (sim.clone(), adapter(&sim), TicketRef::new(id.to_string()))
}

fn adapter(sim: &ZendeskSim) -> Zendesk {
    built(
        sim,
        &format!("{{ type = \"api_token\", email = \"{EMAIL}\", token = \"{TOKEN}\" }}"),
    )
}

/// A Zendesk adapter read from configuration text, with `auth` as given.
fn built(sim: &ZendeskSim, auth: &str) -> Zendesk {
    let cfg = crate::config::load_str(
        &format!(
            "[[itsm]]\nid = \"zd\"\nkind = \"zendesk\"\nbase_url = \"{}\"\nauth = {auth}\n\
             inbound = {{ type = \"zendesk_signature\", secret = \"s\" }}\n",
            sim.base_url()
        ),
        "test.toml",
    )
    .unwrap();
    let conn = &cfg.itsm[0];
    Zendesk::new(
        conn,
        conn.settings::<Settings>().unwrap(),
        &BuildCtx {
            trust: Default::default(),
            metrics: Arc::new(Metrics::default()),
            timeout: Duration::from_secs(5),
        },
    )
}

fn count(sim: &ZendeskSim, method: &str, path: &str) -> usize {
    sim.faults()
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.contains(path))
        .count()
}

fn upstream(e: ItsmError) -> crate::outbound::UpstreamError {
    match e {
        ItsmError::Upstream(u) => u,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

fn note(body: &str, visibility: Visibility) -> Note {
    Note {
        body: body.into(),
        visibility,
        marker: String::new(),
    }
}

#[tokio::test]
async fn the_ticket_is_read_with_names_for_its_ids_and_the_names_are_cached() {
    let (sim, zd, t) = setup().await;
    let ticket = zd
        .read_ticket(&t, crate::ticket::Wants::all())
        .await
        .unwrap();
    assert_eq!(ticket.number.as_deref(), Some(t.as_str()));
    assert_eq!(
        ticket.subject.as_deref(),
        Some("Help, my printer is on fire!")
    );
    assert_eq!(ticket.queue.as_deref(), Some("Service Desk"));
    assert_eq!(ticket.brand.as_deref(), Some("Acme"));
    assert_eq!(ticket.priority.as_deref(), Some("high"));
    assert_eq!(ticket.category.as_deref(), Some("incident"));
    assert_eq!(ticket.tags, Some(vec!["enterprise".to_string()]));
    assert_eq!(ticket.requester_name(), Some("Jane Doe"));
    assert_eq!(ticket.requester_email(), Some("jane@acme.example"));
    assert_eq!(ticket.agent_email(), Some("beth@acme.example"));
    zd.read_ticket(&t, crate::ticket::Wants::all())
        .await
        .unwrap();
    assert_eq!(
        count(&sim, "GET", "/api/v2/tickets/"),
        2,
        "the ticket itself is read every time"
    );
    assert_eq!(
        count(&sim, "GET", "/api/v2/groups/"),
        1,
        "the group name comes from the cache"
    );
    assert_eq!(
        count(&sim, "GET", "/api/v2/users/"),
        2,
        "requester and assignee, once each"
    );
}

#[tokio::test]
async fn the_docs_ticket_normalises_and_a_deleted_person_only_leaves_a_blank() {
    let (sim, zd, _) = setup().await;
    let fixture =
        include_str!("../../../../tests/fixtures/zendesk/zendesk-ticket-create-response.json");
    let ok = |body: &str| FaultAction::Status {
        status: 200,
        retry_after: None,
        body: Some(body.into()),
    };
    sim.faults()
        .push(Fault::new("/api/v2/tickets/35436", ok(fixture)));
    sim.faults().push(Fault::new(
        "/api/v2/groups/98738",
        ok(r#"{"group": {"id": 98738, "name": "Printers"}}"#),
    ));
    // requester 20978392 and assignee 235323 are not in the simulator: 404s
    let ticket = zd
        .read_ticket(&TicketRef::new("35436"), crate::ticket::Wants::all())
        .await
        .unwrap();
    assert_eq!(ticket.queue.as_deref(), Some("Printers"));
    assert_eq!(
        ticket.tags,
        Some(vec!["enterprise".to_string(), "other_tag".to_string()])
    );
    assert_eq!(ticket.category.as_deref(), Some("incident"));
    assert_eq!(
        (ticket.requester, ticket.agent, ticket.brand),
        (None, None, None)
    );
    // a group that cannot be read fails the read: rules match on it
    sim.faults().push(Fault::new(
        "/api/v2/tickets/35436",
        ok(&fixture.replace("98738", "1234")),
    ));
    let e = upstream(
        zd.read_ticket(&TicketRef::new("35436"), crate::ticket::Wants::all())
            .await
            .unwrap_err(),
    );
    assert_eq!((e.status, e.retry), (Some(404), Retry::Permanent));
    assert!(e.message.contains("RecordNotFound"), "{}", e.message);
}

#[tokio::test]
async fn notes_are_internal_unless_the_rule_says_public() {
    let (sim, zd, t) = setup().await;
    zd.post_note(&t, &note("internal one", Visibility::Internal))
        .await
        .unwrap();
    zd.post_note(&t, &note("public one", Visibility::Public))
        .await
        .unwrap();
    let c = sim.comments(t.as_str().parse().unwrap());
    assert_eq!((c[1].body.as_str(), c[1].public), ("internal one", false));
    assert_eq!((c[2].body.as_str(), c[2].public), ("public one", true));
}

#[tokio::test]
async fn a_note_is_found_by_its_marker_on_any_page_of_comments() {
    let (sim, zd, t) = setup().await;
    let id: u64 = t.as_str().parse().unwrap();
    for i in 0..230 {
        sim.add_comment(id, &format!("chatter {i}"), i % 2 == 0);
    }
    let marker = "[deskbridge:job/0190d6c2-aaaa-7bbb-8ccc-1234567890ab/link]";
    assert!(!zd.find_note(&t, marker).await.unwrap());
    assert_eq!(
        count(&sim, "GET", "/comments"),
        3,
        "231 comments are three pages of 100"
    );
    zd.post_note(
        &t,
        &note(
            &format!("Session link: \\<x\\>\n\n{marker}"),
            Visibility::Internal,
        ),
    )
    .await
    .unwrap();
    assert!(zd.find_note(&t, marker).await.unwrap());
    assert!(!zd
        .find_note(
            &t,
            "[deskbridge:job/0190d6c2-aaaa-7bbb-8ccc-1234567890ab/summary]"
        )
        .await
        .unwrap());
}

#[test]
fn the_marker_is_found_in_whichever_text_zendesk_kept_it() {
    let m = "[deskbridge:job/1/link]";
    assert!(has_marker(&json!({"body": format!("x\n\n{m}")}), m));
    assert!(has_marker(
        &json!({"body": "rendered away", "plain_body": format!("x {m}")}),
        m
    ));
    assert!(has_marker(&json!({"html_body": format!("<p>{m}</p>")}), m));
    assert!(!has_marker(
        &json!({"body": "[deskbridge:job/1/summary]"}),
        m
    ));
}

fn file(name: &str, body: &str) -> ArtifactFile {
    ArtifactFile {
        name: name.into(),
        content_type: "text/csv".into(),
        bytes: body.as_bytes().to_vec(),
    }
}

mod attach;
mod errors;
