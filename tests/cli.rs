//! The command line, run as a user runs it: `verify` catches tampering and names the files,
//! `check` names the file, field and reason (and prints the audit key), `rules test` explains.

#[allow(dead_code)]
#[path = "api/harness/config.rs"]
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
fn data_dir_only(data: &Path) -> Config {
    Config {
        server: Server {
            data_dir: Some(data.to_path_buf()),
            ..Server::default()
        },
        ..Config::default()
    }
}

fn deskbridge(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(args)
        .current_dir(cwd)
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

/// Signed artifacts as a finished job leaves them, in `dir`; returns the public key.
fn artifacts(data: &Path, dir: &Path) -> String {
    let key = AuditKey::load_or_create(data).unwrap();
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
        &key,
        Millis::now(),
    );
    deskbridge::artifacts::write_all(dir, &built.files).unwrap();
    key.public_key()
}

#[test]
fn verify_passes_untouched_files_and_names_an_altered_or_missing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    let key = artifacts(&tmp.path().join("data"), &files);
    let dir = files.to_str().unwrap();

    let ok = deskbridge(&["verify", "--public-key", &key, dir], tmp.path());
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("all files match"));

    let log = files.join("session-123456789-log.csv");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    std::fs::remove_file(files.join("session-123456789-chat.txt")).unwrap();
    let bad = deskbridge(&["verify", "--public-key", &key, dir], tmp.path());
    assert!(!bad.status.success());
    let out = text(&bad);
    assert!(out.contains("session-123456789-log.csv: ALTERED"), "{out}");
    assert!(out.contains("session-123456789-chat.txt: MISSING"), "{out}");
    assert!(
        out.contains("ok       session-123456789-file-transfers.csv"),
        "{out}"
    );
}

#[test]
fn verify_catches_a_manifest_edited_to_match_an_altered_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    let key = artifacts(&tmp.path().join("data"), &files);
    // the forger changes the chat and rewrites its hash in the manifest
    let chat = files.join("session-123456789-chat.txt");
    std::fs::write(&chat, "10:00 Beth: nothing happened\n").unwrap();
    let manifest_path = files.join("session-123456789-manifest.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for a in doc["manifest"]["artifacts"].as_array_mut().unwrap() {
        if a["name"] == "session-123456789-chat.txt" {
            a["sha256"] = deskbridge::artifacts::sha256_hex(&std::fs::read(&chat).unwrap()).into();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = deskbridge(
        &["verify", "--public-key", &key, files.to_str().unwrap()],
        tmp.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("manifest.json: ALTERED: the manifest's signature does not match"),
        "{}",
        text(&out)
    );

    // and a key that is not the service's refuses an untouched manifest
    let other = AuditKey::load_or_create(&tmp.path().join("other"))
        .unwrap()
        .public_key();
    let out = deskbridge(
        &["verify", "--public-key", &other, files.to_str().unwrap()],
        tmp.path(),
    );
    assert!(!out.status.success());
}

#[test]
fn verify_names_a_file_the_manifest_does_not_list() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    let key = artifacts(&tmp.path().join("data"), &files);
    std::fs::write(
        files.join("session-123456789-chat-2.txt"),
        "10:01 Beth: forged\n",
    )
    .unwrap();
    let out = deskbridge(
        &["verify", "--public-key", &key, files.to_str().unwrap()],
        tmp.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("session-123456789-chat-2.txt: UNLISTED"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_finds_the_key_through_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let files = tmp.path().join("files");
    artifacts(&data, &files);
    let cfg = data_dir_only(&data).write(&tmp.path().join("d.toml"));
    let out = deskbridge(
        &[
            "verify",
            "--config",
            cfg.to_str().unwrap(),
            files.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
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
