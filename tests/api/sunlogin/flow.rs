//! The attended Sunlogin flow end to end: instructions instead of a link, correlation in the
//! remote log, collection of the row, the seat log and the file transfers, no chat.

use super::*;
use std::collections::HashMap;

#[tokio::test]
async fn a_sunlogin_click_ends_with_instructions_the_sessions_logs_and_no_chat_on_the_ticket() {
    let app = spawn_sunlogin().await;
    let (sys_id, id) = app.click().await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert_eq!(job["vendor"], "sunlogin-cn");
    assert_eq!(job["session"]["seat"], SEAT);

    let journal = app.snow.journal(&sys_id);
    assert_eq!(journal.len(), 1, "exactly one instructions note");
    let note = &journal[0].value;
    for needle in [
        "识别码",
        "验证码",
        "向日葵",
        SEAT,
        "starts after this note",
        &marker(&id, "link"),
    ] {
        assert!(
            note.contains(needle),
            "{needle:?} missing from the note:\n{note}"
        );
    }
    assert!(!note.contains("http"), "Sunlogin gives no link: {note}");

    let log_id = app.play_session(
        "JANE-PC",
        &[
            ("outlook-diag.zip", 48_213, "download"),
            ("fix.ps1", 2_048, "upload"),
        ],
    );
    let job = app.wait_for_state(&id, "done", 15).await;
    assert_eq!(
        job["session"]["code"],
        log_id.as_str(),
        "artifacts are named after the Sunlogin log id"
    );

    let attached = files(&app.snow, &sys_id);
    let files: HashMap<String, Vec<u8>> = attached
        .iter()
        .map(|f| (f.name.clone(), f.bytes.clone()))
        .collect();
    let mut names: Vec<&String> = files.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            &format!("session-{log_id}-file-transfers.csv"),
            &format!("session-{log_id}-log.csv"),
            &format!("session-{log_id}-manifest.json")
        ]
    );
    let log = String::from_utf8(files[&format!("session-{log_id}-log.csv")].clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].starts_with("source,log_id,seat_account,device_id,remote_code"),
        "{log}"
    );
    assert!(
        lines[1].starts_with(&format!("remote_log,{log_id},{SEAT},JANE-PC,123 456 789")),
        "{log}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("seat_log,")).count(),
        2,
        "the seat's connect and disconnect: {log}"
    );
    let transfers =
        String::from_utf8(files[&format!("session-{log_id}-file-transfers.csv")].clone()).unwrap();
    assert!(
        transfers.contains("outlook-diag.zip,48213,download")
            && transfers.contains("fix.ps1,2048,upload"),
        "{transfers}"
    );

    let summary = note_with(&app.snow, &sys_id, "/summary]");
    assert!(
        summary.contains("chat transcript: not available from Sunlogin"),
        "{summary}"
    );
    assert_eq!(job["unavailable"][0]["kind"], "chat_transcript");

    app.assert_artifacts_match(&job, &attached);
}

#[tokio::test]
async fn sessions_of_other_seats_or_from_before_the_note_are_not_attached() {
    let app = spawn_sunlogin().await;
    // ten minutes before the click: well outside the allowance for clock skew
    let long_ago = now_secs() - 600;
    let early = app.sun.start_session_at(SEAT, "OLD-PC", "999", long_ago);
    app.sun.end_session(&early, &[("old.txt", 1, "upload")]);
    let (sys_id, id) = app.click().await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let other = app.sun.start_session("carl@acme.example", "CARL-PC", "555");
    app.sun.end_session(&other, &[]);
    // the job looks at the remote log twice more, and takes neither session
    app.wait_for_polls(&app.polls(&[&id]).await, 2).await;
    let job = app.job(&id).await;
    assert_eq!(job["state"], "waiting_for_end", "still waiting: {job}");
    assert!(app.snow.attachments(&sys_id).is_empty());
    let ours = app.play_session("JANE-PC", &[]);
    let job = app.wait_for_state(&id, "done", 15).await;
    assert_eq!(job["session"]["code"], ours.as_str());
    let summary = note_with(&app.snow, &sys_id, "/summary]");
    assert!(
        summary.contains("file-transfer log: not available: no files were transferred"),
        "{summary}"
    );
}
