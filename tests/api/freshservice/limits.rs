//! Freshservice's per-ticket attachment limit (15 MB, all notes and the ticket's own files
//! together): what is already on the ticket counts, a file that does not fit is compressed,
//! one that cannot fit even so is named in the summary note, and a refusal at upload fails the
//! job at once with the limit in its message.

use super::*;
use deskbridge_sim::{ChatLine, Fault, FaultAction, SessionEnd};
use std::io::Read;
use std::time::Duration;

const LIMIT: usize = 15 * 1024 * 1024;
/// What the core keeps free for the manifest (artifacts::MANIFEST_RESERVE).
const RESERVE: usize = 16 * 1024;

fn chat(lines: Vec<String>) -> Vec<ChatLine> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, message)| ChatLine {
            time: format!("2024-05-02T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
            author: "Beth Anglin".into(),
            message,
        })
        .collect()
}

/// A ticket that already carries all but `room` bytes of the limit (plus the manifest's
/// reserve), and a started job on it waiting for the session to end.
async fn nearly_full_ticket(app: &FsApp, room: usize) -> (u64, String) {
    let existing = vec![0u8; LIMIT - RESERVE - room];
    app.waiting(SimTicket {
        attachments: vec![("disk-image.bin".into(), existing)],
        ..SimTicket::default()
    })
    .await
}

async fn end_with_chat(app: &FsApp, id: &str, lines: Vec<String>) {
    app.splashtop.set_transcripts_enabled(true);
    let end = SessionEnd {
        chat: chat(lines),
        ..SessionEnd::sample(2, 1, 0)
    };
    app.end_session(id, end).await;
}

#[tokio::test]
async fn a_transcript_too_big_for_what_is_left_of_15_mb_is_attached_compressed() {
    let app = spawn_fs().await;
    let (ticket, id) = nearly_full_ticket(&app, 40_000).await;
    let lines: Vec<String> = (0..1500)
        .map(|i| format!("line {i}: please close Outlook and open it again"))
        .collect();
    end_with_chat(&app, &id, lines).await;
    let job = app.wait_for_state(&id, "done", 15).await;

    let code = app.session_code(&id).await;
    let files = app.fs.attachments(ticket);
    let gz = files
        .iter()
        .find(|f| f.name == format!("session-{code}-chat.txt.gz"))
        .expect("the compressed transcript");
    assert_eq!(gz.content_type, "application/gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.bytes.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text.lines().count(), 1500, "every line is in it");
    assert!(
        files.iter().all(|f| !f.name.ends_with("chat.txt")),
        "not also uncompressed"
    );
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    assert!(total <= LIMIT, "{total} bytes on the ticket");
    assert!(job["unavailable"].as_array().unwrap().is_empty());
    let summary = app.note_with(ticket, "/summary]");
    assert!(
        summary.contains(&format!("session-{code}-chat.txt.gz")),
        "{}",
        summary
    );
}

#[tokio::test]
async fn a_transcript_that_cannot_fit_even_compressed_is_named_in_the_summary_note() {
    let app = spawn_fs().await;
    let (ticket, id) = nearly_full_ticket(&app, 2_000).await;
    let lines: Vec<String> = (0..400)
        .map(|_| {
            format!(
                "{:016x}{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>(),
                rand::random::<u64>()
            )
        })
        .collect();
    end_with_chat(&app, &id, lines).await;
    let job = app.wait_for_state(&id, "done", 15).await;

    let names = app.file_names(ticket);
    assert!(names.iter().all(|n| !n.contains("chat")), "{names:?}");
    assert_eq!(
        names.len(),
        4,
        "the ticket's own file, the two logs and the manifest: {names:?}"
    );
    let summary = app.note_with(ticket, "/summary]");
    assert!(
        summary.contains("chat transcript: not available:"),
        "{}",
        summary
    );
    assert!(summary.contains("is over the"), "says why: {}", summary);
    assert_eq!(job["unavailable"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_upload_refused_for_the_limit_fails_the_job_at_once_naming_the_limit() {
    let app = spawn_fs().await;
    let (ticket, id) = app.waiting(SimTicket::default()).await;
    // The next note is the upload: hold it while someone fills the ticket in the UI.
    let faults = app.fs.faults();
    faults
        .push(Fault::new("/notes", FaultAction::Delay(Duration::from_millis(800))).method("POST"));
    end_with_chat(&app, &id, vec!["hello".into()]).await;
    faults
        .wait_for_request("POST", "/notes", Duration::from_secs(10))
        .await
        .expect("the upload");
    app.fs
        .add_ticket_attachment(ticket, "dump.bin", vec![0; LIMIT - 100]);

    let job = app.wait_for_state(&id, "failed", 10).await;
    let err = error_of_job(&job);
    assert!(
        err.contains("400") && err.contains("field `attachments`"),
        "{err}"
    );
    assert!(
        err.contains("allows 15 MB of attachments per ticket"),
        "names the limit: {err}"
    );
    let attempts = steps(&job)
        .iter()
        .filter(|s| s["step"] == "attaching" && s["error"].is_string())
        .count();
    assert_eq!(attempts, 1, "permanent: not retried");
    assert_eq!(
        app.fs.attachments(ticket).len(),
        1,
        "only the file someone else attached"
    );
}
