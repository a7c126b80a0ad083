//! Issue 10 items 6 and 7, as an admin meets them on the command line: `check` reports every
//! configuration trap at once with the allowed range, warns of what is allowed but not meant,
//! prints the settings in force; `check --online` says ok or what to fix per system; and the
//! small things (`check | head -1`, `rules test` leaving nothing behind, a data directory that
//! cannot be created, a second instance on the same data directory).

use deskbridge_sim::{ServiceNowSim, SplashtopSim};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn deskbridge(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn systems(snow: &str, splashtop: &str, token: &str) -> String {
    format!(
        r#"
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "{snow}"
auth = {{ type = "basic", username = "deskbridge", password = "snow-pass" }}
inbound = {{ type = "hmac", secret = "s" }}
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "{splashtop}"
auth = {{ type = "bearer", token = "{token}" }}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn check_reports_every_trap_at_once_with_the_allowed_range() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = format!(
        "[server]\nshutdown_grace = \"60s\"\n[worker]\nlease = \"2M\"\nrequest_timeout = \"0s\"\nretry = {{ base = \"2s\", max = \"1s\" }}\n{}",
        systems("https://a.example", "https://b.example", "t")
    )
    .replace("auth = { type = \"bearer\", token = \"t\" }", "auth = { type = \"bearer\", token = \"t\" }\npoll = { give_up_after = \"0s\" }");
    let path = write(tmp.path(), "traps.toml", &cfg);
    let out = deskbridge(&["check", "--config", &path], tmp.path());
    assert!(!out.status.success());
    let msg = text(&out);
    for field in [
        "server.shutdown_grace: 1m is out of range: allowed from 0s to 8s",
        "worker.lease: ",
        "worker.request_timeout: 0s is out of range: allowed from 1s to 10m",
        "worker.retry.max: must be at least worker.retry.base (2s)",
        "vendor[0].poll.give_up_after: 0s is out of range",
    ] {
        assert!(msg.contains(field), "{field} missing in:\n{msg}");
    }
    assert!(
        msg.contains("traps.toml: worker.lease"),
        "the file is named: {msg}"
    );
}

#[test]
fn check_warns_of_what_is_not_meant_and_prints_the_settings_in_force() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{}{}",
        systems(
            "https://a.example",
            "https://b.example",
            "$SPLASHTOP_API_TOKEN"
        ),
        r#"
[[rule]]
name = "Desk"
connection = "snow"
vendor = "st"
match = { queue = ["Service Desk"] }
[[rule]]
name = "Desk P1"
connection = "snow"
vendor = "st"
match = { queue = ["service desk"], priority = ["1"] }
[[rule]]
name = "The rest"
connection = "snow"
vendor = "st"
"#
    );
    let path = write(tmp.path(), "w.toml", &cfg);
    let out = deskbridge(&["check", "--config", &path], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let msg = text(&out);
    for want in [
        "OK, with 3 warning(s)",
        "warning: vendor[0].auth.token: looks like an environment variable",
        "warning: rule[1] (\"Desk P1\").match: never matches: the earlier rule \"Desk\"",
        "warning: rule[2] (\"The rest\").match: has no condition",
        "worker: 32 jobs at once (8 per connection), lease 2m",
        "retry: first after 2s, doubling up to 5m",
        "(polls every 30s up to 5m, gives up after 1day)",
        "1. \"Desk\": snow -> st  when queue any of [\"Service Desk\"]\n",
        "3. \"The rest\": snow -> st  matches every ticket of its connection",
    ] {
        assert!(msg.contains(want), "{want:?} missing in:\n{msg}");
    }
    assert!(
        !msg.contains("tags_any"),
        "only non-empty conditions: {msg}"
    );
}

#[tokio::test]
async fn check_online_says_ok_or_the_answer_and_what_to_fix() {
    let snow = ServiceNowSim::start("deskbridge", "snow-pass").await;
    let splashtop = SplashtopSim::start("right-token").await;
    let tmp = tempfile::tempdir().unwrap();
    let run = |token: &str| {
        let path = write(
            tmp.path(),
            "o.toml",
            &systems(&snow.base_url(), &splashtop.base_url(), token),
        );
        tokio::process::Command::new(env!("CARGO_BIN_EXE_deskbridge"))
            .args(["check", "--online", "--config", &path])
            .current_dir(tmp.path())
            .output()
    };
    let ok = run("right-token").await.unwrap();
    assert!(ok.status.success(), "{}", text(&ok));
    let msg = text(&ok);
    assert!(
        msg.contains("connection snow: ok: read the incident table"),
        "{msg}"
    );
    assert!(msg.contains("vendor st: ok: team"), "{msg}");
    let bad = run("wrong-token").await.unwrap();
    assert!(!bad.status.success());
    let msg = text(&bad);
    assert!(
        msg.contains("vendor st: FAILED: ") && msg.contains("401"),
        "{msg}"
    );
    assert!(msg.contains("To fix: check auth.token"), "{msg}");
    assert!(msg.contains("1 system(s) failed the online check"), "{msg}");
}

#[test]
fn check_into_a_closed_pipe_does_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "p.toml",
        &systems("https://a.example", "https://b.example", "t"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(["check", "--config", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}

#[test]
fn rules_test_leaves_nothing_behind_and_fails_when_no_rule_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let cfg = format!(
        "{}\n[[rule]]\nname = \"Network\"\nconnection = \"snow\"\nvendor = \"st\"\nmatch = {{ queue = [\"Network\"] }}\n",
        systems("https://a.example", "https://b.example", "t")
    );
    let path = write(tmp.path(), "r.toml", &cfg);
    let payload = write(
        tmp.path(),
        "p.json",
        r#"{"event_id":"e","sys_id":"9d385017c611228701d22104cc95c371","number":"INC1","assignment_group":{"display_value":"Service Desk"}}"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args([
            "rules",
            "test",
            "--connection",
            "snow",
            "--payload",
            &payload,
            "--config",
            &path,
        ])
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    assert!(!out.status.success(), "no rule matches: non-zero");
    assert!(text(&out).contains("no rule matches"), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_data_dir_that_cannot_be_created_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let data = file.join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = {:?}\n",
        data.display().to_string()
    );
    let path = write(tmp.path(), "d.toml", &cfg);
    let out = deskbridge(&["serve", "--config", &path], tmp.path());
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("cannot create the data directory")
            && msg.contains(&data.display().to_string()),
        "{msg}"
    );
}

#[tokio::test]
async fn a_second_instance_on_the_same_data_dir_says_another_holds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data").display().to_string();
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (a, b) = (port(), port());
    let first = write(
        tmp.path(),
        "a.toml",
        &format!("[server]\nlisten = \"127.0.0.1:{a}\"\ndata_dir = {data:?}\n"),
    );
    let second = write(
        tmp.path(),
        "b.toml",
        &format!("[server]\nlisten = \"127.0.0.1:{b}\"\ndata_dir = {data:?}\n"),
    );
    let mut running = tokio::process::Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(["serve", "--config", &first])
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..400 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{a}/readyz"))
            .send()
            .await
        {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(["serve", "--config", &second])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let msg = text(&out);
    let pid = running.id().unwrap();
    assert!(
        msg.contains(&format!(
            "another deskbridge (pid {pid}) holds the data directory {data}"
        )),
        "{msg}"
    );
    running.kill().await.unwrap();
}
