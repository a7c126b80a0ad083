//! The crash test for Zendesk's own flow (see `harness::child`): the real binary
//! is SIGKILLed while each Zendesk write is in flight, after Zendesk applied it, and restarted
//! on the same data. The ticket must end with one link note, one comment carrying each file
//! once, and one summary note; an upload orphaned by a crash is simply left to expire.

use super::*;
use deskbridge_sim::{FaultAction, SessionEnd};

const PUT: &str = "PUT";
const TICKETS: &str = "/api/v2/tickets/";
const UPLOADS: &str = "/api/v2/uploads";

#[tokio::test]
async fn a_sigkill_inside_each_zendesk_write_loses_nothing_and_duplicates_nothing() {
    let zd = ZendeskSim::start(ZD_EMAIL, ZD_TOKEN).await;
    zd.connect_webhook(ZD_SECRET);
    let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    st.set_transcripts_enabled(true);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Child::start(dir.path(), config(dir.path(), &zd, &st.base_url())).await;
    let ticket = zd.add_ticket(SimTicket::default());
    let links = || {
        zd.comments(ticket)
            .iter()
            .filter(|c| c.body.contains("/link]"))
            .count()
    };

    // 1. the link note is on the ticket, the answer never came
    arm(zd.faults(), PUT, TICKETS, FaultAction::ApplyThenHang);
    let d = zd.click_start_remote_session(ticket, AGENT).unwrap();
    let r = d
        .send(&child.client, &child.url("/hooks/zd"))
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    kill_when_called(&mut child, zd.faults(), PUT, TICKETS).await;
    assert_eq!(links(), 1);

    // the restarted service finds the note by its marker instead of writing it again
    child.restart().await;
    child.wait_for_state(&id, "waiting_for_end", 15).await;
    assert_eq!(links(), 1, "one link note after the restart");

    // 2. the first upload is stored, the answer never came: the upload is orphaned
    arm(zd.faults(), "POST", UPLOADS, FaultAction::ApplyThenHang);
    let code = st.sessions().last().unwrap().code.clone();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    kill_when_called(&mut child, zd.faults(), "POST", UPLOADS).await;
    assert_eq!(zd.pending_uploads(), 1);
    assert!(
        zd.attachments(ticket).is_empty(),
        "an upload is not an attachment"
    );

    // 3. the comment carrying the uploads is applied, the answer never came
    arm(zd.faults(), PUT, TICKETS, FaultAction::ApplyThenHang);
    child.restart().await;
    kill_when_called(&mut child, zd.faults(), PUT, TICKETS).await;
    assert_eq!(zd.attachments(ticket).len(), 4);

    // 4. the summary note is applied, the answer never came
    arm(zd.faults(), PUT, TICKETS, FaultAction::ApplyThenHang);
    child.restart().await;
    kill_when_called(&mut child, zd.faults(), PUT, TICKETS).await;

    child.restart().await;
    let job = child.wait_for_state(&id, "done", 20).await;

    let comments = zd.comments(ticket);
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        count_with(&bodies, &marker(&id, "link")),
        1,
        "one link note"
    );
    assert_eq!(
        count_with(&bodies, &marker(&id, "summary")),
        1,
        "one summary note"
    );
    let carriers = comments
        .iter()
        .filter(|c| !c.attachments.is_empty())
        .count();
    assert_eq!(carriers, 1, "one comment carries the files");
    assert_eq!(
        comments.len(),
        4,
        "description, link, files, summary: {comments:#?}"
    );
    let names: Vec<String> = zd
        .attachments(ticket)
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    assert_each_artifact_once(names, &code);
    assert_eq!(
        found_existing(&job),
        4,
        "the files attached before the crash were found, not uploaded again"
    );
    assert_eq!(
        zd.pending_uploads(),
        1,
        "only the orphan of crash 2, which Zendesk deletes after 60 minutes"
    );
}
