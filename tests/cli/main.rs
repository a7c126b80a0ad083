//! The command line, run as a user runs it: `verify` catches tampering and names the files,
//! `check` names the file, field and reason (and prints the audit key), `rules test` explains.

#[allow(dead_code)]
#[path = "../api/harness/config.rs"]
mod config_file;

use config_file::{Auth, Config, Inbound, Itsm, Rule, Server, Vendor, VendorAuth};
use deskbridge::audit::AuditKey;
use deskbridge::clock::Millis;
use deskbridge::config::ArtifactKind;
use deskbridge::ids::{ConnectionId, TicketRef};
use deskbridge::job::{Job, NewJob};
use deskbridge::remote::{Availability, ChatLine, Collected, Session, Table};
use std::path::Path;
use std::process::{Command, Output};

mod verify;

/// One ServiceNow connection and one Splashtop vendor, for the tests' rules to point at.
fn connections() -> Config {
    let auth = Auth::Basic {
        username: "u".into(),
        password: "p".into(),
    };
    let inbound = Inbound::Hmac { secret: "s".into() };
    let token = VendorAuth::Bearer { token: "t".into() };
    Config::default()
        .itsm(Itsm::new(
            "snow",
            "servicenow",
            "https://acme.service-now.com",
            auth,
            inbound,
        ))
        .vendor(Vendor::new(
            "st",
            "splashtop",
            "https://webapi.splashtop.com",
            token,
        ))
}

/// A file holding only `[server] data_dir`.
pub fn data_dir_only(data: &Path) -> Config {
    Config {
        server: Server {
            data_dir: Some(data.to_path_buf()),
            ..Server::default()
        },
        ..Config::default()
    }
}

pub fn deskbridge(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Signed artifacts as a finished job leaves them, in `dir`; returns the public key.
pub fn artifacts(data: &Path, dir: &Path) -> String {
    signed_with(&AuditKey::load_or_create(data).unwrap(), dir)
}

/// The artifacts of one session signed with `key`, in `dir`; returns the public key.
pub fn signed_with(key: &AuditKey, dir: &Path) -> String {
    let job = Job::new(
        NewJob {
            connection: ConnectionId::new("snow"),
            ticket: TicketRef::new("incident/abc"),
            ticket_number: Some("INC1".into()),
            event_id: None,
            vendor: None,
            rule: None,
            hint: Default::default(),
        },
        Millis::now(),
    );
    let session = Session {
        id: "s1".into(),
        code: "123456789".into(),
        end_user_link: None,
        technician_link: None,
        seat: None,
        created_at: Millis::now(),
        extra: serde_json::Value::Null,
    };
    let table = |cols: &[&str]| Table {
        columns: cols.iter().map(|s| s.to_string()).collect(),
        rows: vec![cols.iter().map(|c| format!("{c}-1")).collect()],
    };
    let collected = Collected {
        session_log: Availability::Available(table(&["start_time", "end_time"])),
        file_transfers: Availability::Available(table(&["time", "file_name"])),
        chat: Availability::Available(vec![ChatLine {
            time: "10:00".into(),
            author: "Beth".into(),
            message: "hello".into(),
        }]),
    };
    let built = deskbridge::artifacts::build(
        &job,
        &session,
        &collected,
        &ArtifactKind::ALL,
        Default::default(),
        key,
        Millis::now(),
    );
    std::fs::create_dir_all(dir).unwrap();
    for f in &built.files {
        std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
    }
    key.public_key()
}

#[test]
fn check_names_the_file_field_and_reason_and_prints_the_public_key() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[server]\nlisten = \"127.0.0.1:8080\"\n[worker]\nretry = { base = \"2 fortnights\" }\n",
    )
    .unwrap();
    let out = deskbridge(&["check", "--config", bad.to_str().unwrap()], tmp.path());
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("bad.toml: worker.retry.base: invalid duration"),
        "{msg}"
    );

    let data = tmp.path().join("data");
    let key = AuditKey::load_or_create(&data).unwrap().public_key();
    let good = data_dir_only(&data).write(&tmp.path().join("good.toml"));
    let out = deskbridge(&["check", "--config", good.to_str().unwrap()], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("audit public key (ed25519): {key}")));
}

#[test]
fn check_refuses_a_rule_naming_an_unknown_template() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rule = Rule::new("L1", "snow", "st");
    rule.link_note = Some(config_file::Note {
        template: "sesion_link".into(),
        visibility: None,
    });
    let cfg = connections().rule(rule).write(&tmp.path().join("t.toml"));
    let out = deskbridge(&["check", "--config", cfg.to_str().unwrap()], tmp.path());
    assert!(!out.status.success());
    assert!(
        text(&out)
            .contains("rule[0] (\"L1\").link_note.template: unknown template \"sesion_link\""),
        "{}",
        text(&out)
    );
}

#[test]
fn rules_test_shows_the_normalised_ticket_and_why_each_rule_matched_or_not() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = connections()
        .rule(Rule::new("Network only", "snow", "st").queue(&["Network"]))
        .rule(
            Rule::new("Service desk P1-3", "snow", "st")
                .queue(&["Service Desk"])
                .priority(&["1", "2", "3"]),
        )
        .write(&tmp.path().join("r.toml"));
    let payload = tmp.path().join("p.json");
    std::fs::write(&payload, r#"{"event_id":"e","sys_id":"9d385017c611228701d22104cc95c371","number":"INC0000046","assignment_group":{"display_value":"Service Desk"},"priority":"3","caller":{"name":"Jane","email":"jane@acme.example"}}"#).unwrap();
    let out = deskbridge(
        &[
            "rules",
            "test",
            "--connection",
            "snow",
            "--payload",
            payload.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["normalised"]["queue"], "Service Desk");
    assert_eq!(v["on_webhook"]["rule"], "Service desk P1-3");
    assert_eq!(v["on_webhook"]["trace"][0]["outcome"], "not_matched");
    assert!(v["on_webhook"]["trace"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("queue \"Service Desk\" is not one of [\"Network\"]"));
    assert_eq!(v["on_webhook"]["trace"][1]["outcome"], "matched");
}

/// Issue 10 item 2: the demo's story on stdout has no log lines in it, and stderr stays empty.
#[test]
fn the_demo_tells_its_story_without_log_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .arg("demo")
        .env_remove("RUST_LOG")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--- ticket after ---"), "{stdout}");
    assert!(
        !stdout.contains(" INFO ") && !stdout.contains(" WARN "),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
