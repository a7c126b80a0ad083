//! The adapter against the Jira simulator over real HTTP: the authoritative read, notes found
//! again by marker across comment pages, the two-step attachment flow, limits, and Jira's
//! errors turned into retry decisions and readable messages.

use super::*;
use crate::config::{Secret, Visibility};
use crate::outbound::Retry;
use deskbridge_sim::{Fault, FaultAction, JiraSim, SimIssue};
use std::time::Duration;

const EMAIL: &str = "deskbridge@acme.example";
const TOKEN: &str = "atl-token-Zq9";

fn jira(sim: &JiraSim, auth: Auth) -> Jira {
    let settings = Settings {
        auth,
        inbound: InboundScheme::SharedHeader(crate::itsm::verify::SharedHeader {
            header: "X-Deskbridge-Token".into(),
            secret: Secret::new("x"),
        }),
        trigger_label: None,
    };
    let cfg = ItsmConfig {
        ca_bundle: None,
        id: ConnectionId::new("jira-test"),
        kind: KIND.kind(),
        base_url: sim.base_url(),
        rate_limit: None,
        settings: std::sync::Arc::new(settings.clone()),
    };
    Jira::new(
        &cfg,
        &settings,
        &BuildCtx {
            trust: Default::default(),
            metrics: Default::default(),
            timeout: Duration::from_secs(5),
        },
    )
}

fn cloud() -> Auth {
    Auth::ApiToken(crate::config::auth::ApiToken {
        email: EMAIL.into(),
        token: Secret::new(TOKEN),
    })
}

async fn setup() -> (JiraSim, Jira, TicketRef) {
    let sim = JiraSim::start(EMAIL, TOKEN).await;
    let key = sim.add_issue(SimIssue {
        labels: vec!["vpn".into()],
        ..SimIssue::default()
    });
    let j = jira(&sim, cloud());
    (sim, j, TicketRef::new(key))
}

fn note(body: &str, marker: &str, visibility: Visibility) -> Note {
    Note {
        body: format!("{body}\n\n{marker}"),
        visibility,
        marker: marker.into(),
    }
}

fn file(name: &str, bytes: &[u8]) -> ArtifactFile {
    ArtifactFile {
        name: name.into(),
        content_type: crate::artifacts::content_type(name).into(),
        bytes: bytes.to_vec(),
    }
}

#[tokio::test]
async fn the_ticket_is_read_with_request_type_project_priority_labels_and_people() {
    let (sim, j, t) = setup().await;
    let got = j
        .read_ticket(&t, crate::ticket::Wants::all())
        .await
        .unwrap();
    assert_eq!(got.number.as_deref(), Some(t.as_str()));
    assert_eq!(got.queue.as_deref(), Some("Get IT help"));
    assert_eq!(got.request_type.as_deref(), Some("Get IT help"));
    assert_eq!(got.service_desk.as_deref(), Some("1"));
    assert_eq!(got.project.as_deref(), Some("ITS"));
    assert_eq!(got.priority.as_deref(), Some("Medium"));
    assert_eq!(got.tags, Some(vec!["vpn".to_string()]));
    assert_eq!(got.requester_email(), Some("jane@acme.example"));
    assert_eq!(got.agent_email(), Some("beth@acme.example"));
    let reads: Vec<String> = sim
        .faults()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(reads.len(), 2, "request (expanded) + issue: {reads:?}");

    // a server that does not expand: the request type is read on its own
    sim.set_expand_supported(false);
    assert_eq!(
        j.read_ticket(&t, crate::ticket::Wants::all())
            .await
            .unwrap()
            .queue
            .as_deref(),
        Some("Get IT help")
    );
    assert!(sim
        .faults()
        .requests()
        .iter()
        .any(|r| r.path == "/rest/servicedeskapi/servicedesk/1/requesttype/10"));
}

#[tokio::test]
async fn a_note_is_internal_unless_public_and_found_again_across_comment_pages() {
    let (sim, j, t) = setup().await;
    for n in 0..120 {
        j.post_note(
            &t,
            &note(
                &format!("filler {n}"),
                &format!("[m/{n}]"),
                Visibility::Internal,
            ),
        )
        .await
        .unwrap();
    }
    j.post_note(
        &t,
        &note("the link", "[deskbridge:job/abc/link]", Visibility::Public),
    )
    .await
    .unwrap();
    let stored = sim.comments(t.as_str());
    assert!(!stored[0].public && stored[120].public);
    assert!(
        stored[120].body.ends_with("[deskbridge:job/abc/link]"),
        "the marker is kept verbatim"
    );
    assert!(
        j.find_note(&t, "[deskbridge:job/abc/link]").await.unwrap(),
        "found on the third page"
    );
    assert!(!j
        .find_note(&t, "[deskbridge:job/abc/summary]")
        .await
        .unwrap());
    let pages = sim
        .faults()
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/comment"))
        .count();
    assert_eq!(pages, 6, "two walks of three pages of 50");
}

#[tokio::test]
async fn files_go_through_temporary_files_and_are_listed_by_name() {
    let (sim, j, t) = setup().await;
    let files = [
        file("session-1-log.csv", b"a,b\n1,2\n"),
        file("session-1-manifest.json", b"{}"),
    ];
    let done = j.attach(&t, &files).await.unwrap();
    let stored = sim.attachments(t.as_str());
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|a| !a.public), "attachments are internal");
    assert_eq!(stored[0].bytes, b"a,b\n1,2\n");
    assert_eq!(stored[1].mime_type, "application/json");
    assert_eq!(
        done[0].id.as_deref(),
        Some(stored[0].id.as_str()),
        "ids read from the attachment links"
    );
    assert_eq!(done[1].name, "session-1-manifest.json");
    assert_eq!(sim.pending_temporary_files(), 0);
    let listed = j.list_attachments(&t).await.unwrap();
    assert_eq!(
        listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["session-1-log.csv", "session-1-manifest.json"]
    );
    assert_eq!(listed[0].size, Some(8));
    let uploads: Vec<_> = sim
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/attachTemporaryFile"))
        .collect();
    assert_eq!(uploads.len(), 1, "one multipart post for every file");
}

#[tokio::test]
async fn the_size_limit_comes_from_the_settings_and_a_413_is_permanent() {
    let (sim, j, t) = setup().await;
    sim.set_upload_limit(1000);
    assert_eq!(j.attachment_limits(&t).await.unwrap().per_file, Some(1000));
    let e = j
        .attach(&t, &[file("big.csv", &[b'x'; 1001])])
        .await
        .unwrap_err();
    assert_eq!(e.retry(), Retry::Permanent);
    assert!(
        e.to_string().contains("413") && e.to_string().contains("maximum attachment size"),
        "{e}"
    );
    assert!(sim.attachments(t.as_str()).is_empty());

    sim.set_data_center(true);
    assert_eq!(
        j.attachment_limits(&t).await.unwrap().per_file,
        Some(1000),
        "v2 on Data Center"
    );
    sim.set_attachments_enabled(false);
    let e = j.attachment_limits(&t).await.unwrap_err();
    assert!(e.to_string().contains("attachments are turned off"), "{e}");
}

#[tokio::test]
async fn jiras_errors_become_readable_messages_with_the_right_retry() {
    let (sim, j, _) = setup().await;
    let e = j
        .read_ticket(&TicketRef::new("ITS-999"), crate::ticket::Wants::all())
        .await
        .unwrap_err();
    assert_eq!(e.retry(), Retry::Permanent);
    assert!(
        e.to_string().contains("404") && e.to_string().contains("could not be found"),
        "{e}"
    );
    sim.faults().push(Fault::new(
        "/rest/api/2/issue",
        FaultAction::Status {
            status: 400,
            retry_after: None,
            body: Some(
                r#"{"errorMessages":[],"errors":{"fields":"Field 'bogus' does not exist."}}"#
                    .into(),
            ),
        },
    ));
    let e = j
        .list_attachments(&TicketRef::new("ITS-1"))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("fields: Field 'bogus' does not exist."),
        "{e}"
    );
    sim.faults().push(Fault::new(
        "/comment",
        FaultAction::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>Bad gateway</html>".into()),
        },
    ));
    let e = j
        .find_note(&TicketRef::new("ITS-1"), "m")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("<html>Bad gateway</html>")
            && e.retry() == (Retry::Transient { after: None }),
        "{e}"
    );

    sim.set_api_token("rotated");
    let e = j
        .read_ticket(&TicketRef::new("ITS-1"), crate::ticket::Wants::all())
        .await
        .unwrap_err();
    assert_eq!(e.retry(), Retry::Auth);
    assert!(
        e.to_string().contains("Client must be authenticated"),
        "plain text kept: {e}"
    );
}

#[tokio::test]
async fn a_429_carries_the_wait_and_the_limit_that_hit() {
    let (sim, j, t) = setup().await;
    sim.set_per_issue_write_limit(1, Duration::from_secs(20));
    j.post_note(&t, &note("one", "[a]", Visibility::Internal))
        .await
        .unwrap();
    let e = j
        .post_note(&t, &note("two", "[b]", Visibility::Internal))
        .await
        .unwrap_err();
    let Retry::Transient { after: Some(after) } = e.retry() else {
        panic!("{e:?}")
    };
    assert!(
        after >= Duration::from_secs(19) && after <= Duration::from_secs(20),
        "{after:?}"
    );
    assert!(
        e.to_string().contains("limit jira-per-issue-on-write"),
        "{e}"
    );
    sim.faults().push(Fault::new(
        "/rest/servicedeskapi/request/",
        FaultAction::Status {
            status: 503,
            retry_after: Some("3".into()),
            body: None,
        },
    ));
    let e = j
        .read_ticket(&t, crate::ticket::Wants::all())
        .await
        .unwrap_err();
    assert_eq!(
        e.retry(),
        Retry::Transient {
            after: Some(Duration::from_secs(3))
        }
    );
}

#[tokio::test]
async fn data_center_takes_a_bearer_token() {
    let (sim, _, t) = setup().await;
    sim.set_personal_access_token("dc-pat-1");
    sim.set_data_center(true);
    let j = jira(
        &sim,
        Auth::Bearer(crate::config::auth::Bearer {
            token: Secret::new("dc-pat-1"),
        }),
    );
    assert_eq!(
        j.read_ticket(&t, crate::ticket::Wants::all())
            .await
            .unwrap()
            .queue
            .as_deref(),
        Some("Get IT help")
    );
    j.attach(&t, &[file("a.csv", b"1")]).await.unwrap();
    assert_eq!(sim.attachments(t.as_str()).len(), 1);
}

#[tokio::test]
async fn a_ticket_reference_that_is_not_an_issue_key_never_reaches_a_url() {
    let (sim, j, _) = setup().await;
    let e = j
        .read_ticket(
            &TicketRef::new("../../rest/api/2/myself"),
            crate::ticket::Wants::all(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a Jira issue key"));
    assert!(sim.faults().requests().is_empty());
    let dbg = format!("{j:?}");
    assert!(!dbg.contains(TOKEN) && !dbg.contains(EMAIL), "{dbg}");
}
