//! No secret reaches a log line, a job or the status API: the Sunlogin APP Secret, password and
//! tokens, the Splashtop OAuth client secret, codes and tokens, and the service's own secrets,
//! while every credential path runs (sign-in, renewal, refusal, re-authorisation, OAuth flow).
//!
//! The log is captured at debug level (trace for deskbridge) with a subscriber scoped to this
//! test's thread; `#[tokio::test]` runs the service, the simulators and the test on that thread.
//! The test also checks that the capture saw the credential paths' own log lines, so a capture
//! that silently missed events cannot pass.

use crate::oauth::{spawn_oauth, CLIENT_SECRET};
use crate::servicenow::*;
use crate::sunlogin::{spawn_sunlogin, ACCOUNT, APP_SECRET, LIFE, PASSWORD};
use deskbridge_sim::{Fault, FaultAction, SessionEnd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const NEW_PASSWORD: &str = "owner-changed-it-Pp2%";

#[tokio::test]
async fn secrets_never_appear_in_logs_jobs_or_status_whatever_the_credentials_go_through() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug,deskbridge=trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _scope = tracing::subscriber::set_default(subscriber);
    // With a single dispatcher registered process-wide, tracing-core computes a callsite's
    // interest against the default of whichever thread reaches it first, and another test's
    // thread (no subscriber) would cache "never" for callsites this test must see
    // (tokio-rs/tracing#3611). A second live dispatcher makes it consult every registered one.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    // Sunlogin: sign-in, a renewal, a refused token, a full session, then a dead account.
    let sun = spawn_sunlogin().await;
    sun.sun.set_access_ttl(LIFE);
    let (_, id) = sun.click().await;
    sun.wait_for_state(&id, "waiting_for_end", 10).await;
    sun.sun.set_access_ttl(Duration::from_secs(3600));
    sun.age_the_token();
    sun.until(10, "renewed", |c| c.refreshed >= 1).await;
    sun.sun
        .faults()
        .push(Fault::new("/logs/remote", FaultAction::status(401)));
    sun.until(10, "renewed after a refusal", |c| c.refreshed >= 2)
        .await;
    sun.play_session("JANE-PC", &[("diag.zip", 10, "download")]);
    sun.wait_for_state(&id, "done", 15).await;
    sun.sun.set_password(NEW_PASSWORD);
    let (_, failing) = sun.click().await;
    sun.wait_for_state(&failing, "failed", 15).await;

    // Splashtop OAuth: the browser flow and a job.
    let st = spawn_oauth().await;
    st.authorise().await;
    let sid = st.click().await;
    let job = st.wait_for_state(&sid, "waiting_for_end", 10).await;
    st.splashtop.end_session(
        job["session"]["code"].as_str().unwrap(),
        SessionEnd::sample(1, 1, 1),
    );
    st.wait_for_state(&sid, "done", 15).await;

    let mut secrets: Vec<String> = [
        APP_SECRET,
        PASSWORD,
        NEW_PASSWORD,
        CLIENT_SECRET,
        ADMIN_TOKEN,
        AUDITOR_TOKEN,
        SNOW_PASSWORD,
        HOOK_SECRET,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    secrets.extend(sun.sun.issued_tokens());
    secrets.extend(st.splashtop.oauth_issued());
    assert!(secrets.len() > 12, "tokens were issued: {}", secrets.len());

    let text = log.text();
    for expected in [
        "new Sunlogin token pair stored",
        "re-authorise Sunlogin",
        "new Splashtop OAuth token pair stored",
        ACCOUNT,
    ] {
        assert!(
            text.contains(expected),
            "the capture works and covers the credential paths: {expected:?} missing"
        );
    }
    let mut answers = String::new();
    for path in ["/api/v1/jobs?limit=500", "/api/v1/status"] {
        answers.push_str(&sun.admin_get(path).await.to_string());
        answers.push_str(&st.admin_get(path).await.to_string());
    }
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "a secret ({}…) is in the log",
            &s[..4]
        );
        assert!(
            !answers.contains(s.as_str()),
            "a secret ({}…) is in an API answer",
            &s[..4]
        );
    }
}
