//! The Freshservice crash test: the real binary, SIGKILLed inside each Freshservice step of a
//! job's life (see `harness::child`), restarted on the same data. The ticket
//! ends with one link note, one note carrying each artifact once, and one summary note, and the
//! log holds none of the connection's secrets.

use super::*;
use deskbridge_sim::{FaultAction, SessionEnd};

#[tokio::test]
async fn a_sigkill_inside_each_freshservice_step_loses_nothing_and_duplicates_nothing() {
    let fs = FreshserviceSim::start(FS_KEY).await;
    let st = SplashtopSim::start(SPLASHTOP_TOKEN).await;
    st.set_transcripts_enabled(true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fs.base_url(), &st.base_url());
    let ticket = fs.add_ticket(SimTicket::default());
    // enough earlier conversation that every look for a note or a file reads two pages
    for i in 0..110 {
        fs.add_reply(ticket, &format!("earlier reply {i}"));
    }
    let f = fs.faults();

    // 1. session_created: the link note was stored, the answer never came
    arm(f, "POST", "/notes", FaultAction::ApplyThenHang);
    let mut child = Child::start(dir.path(), cfg).await;
    let body = fs.workflow_body(ticket).unwrap();
    let r = child.hook("fs", body, &[(FS_HEADER, FS_TOKEN)]).await;
    assert_eq!(r.status(), 202);
    let id = job_id_of(r).await;
    kill_when_called(&mut child, f, "POST", "/notes").await;
    assert_eq!(fs.notes(ticket).iter().filter(|n| n.private).count(), 1);

    // 2. link_posted → waiting_for_end: the restarted child finds the note on page 2
    child.restart().await;
    let job = child.wait_for_state(&id, "waiting_for_end", 15).await;
    let code = job["session"]["code"].as_str().unwrap().to_string();

    // 3. collecting: reading what the ticket already carries hangs
    child.kill();
    assert!(st.end_session(&code, SessionEnd::sample(3, 2, 4)));
    crash_inside(&mut child, f, "GET", "/conversations").await;

    // 4. attaching: the upload hangs before Freshservice stores it...
    crash_inside(&mut child, f, "POST", "/notes").await;
    assert_eq!(fs.attachments(ticket).len(), 0);

    // 5. ...then is stored, and the answer never comes
    crash_after_write(&mut child, f, "POST", "/notes").await;
    assert_eq!(fs.attachments(ticket).len(), 4, "one note, all four files");

    // 6. the summary note is stored, the answer never comes
    crash_after_write(&mut child, f, "POST", "/notes").await;

    child.restart().await;
    let job = child.wait_for_state(&id, "done", 20).await;

    let mine: Vec<_> = fs.notes(ticket).into_iter().filter(|n| n.private).collect();
    let texts: Vec<&str> = mine.iter().map(|n| n.body_text.as_str()).collect();
    assert_eq!(count_with(&texts, &marker(&id, "link")), 1, "one link note");
    assert_eq!(
        count_with(&texts, &marker(&id, "summary")),
        1,
        "one summary note"
    );
    assert_eq!(mine.len(), 3, "link, files, summary and nothing else");
    let names: Vec<String> = fs.attachments(ticket).into_iter().map(|a| a.name).collect();
    assert_each_artifact_once(names, &code);
    assert_eq!(
        found_existing(&job),
        4,
        "the files stored before the crash were found, not uploaded again"
    );

    let log = child.final_log(&id);
    assert_no_secret_in(&log, &[FS_KEY, FS_TOKEN, FS_BASIC_PASSWORD]);
}
