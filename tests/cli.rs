//! The command line, run as a user runs it: `verify` catches tampering and names the files,
//! `check` names the file, field and reason (and prints the audit key), `rules test` explains.

use deskbridge::audit::AuditKey;
use deskbridge::clock::Millis;
use deskbridge::config::ArtifactKind;
use deskbridge::ids::{ConnectionId, TicketRef};
use deskbridge::job::{Job, NewJob};
use deskbridge::remote::{Availability, ChatLine, Collected, Session, Table};
use std::path::Path;
use std::process::{Command, Output};

/// One ServiceNow connection and one Splashtop vendor, for the tests' rules to point at.
const CONNECTIONS: &str = r#"
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "https://acme.service-now.com"
auth = { type = "basic", username = "u", password = "p" }
inbound = { type = "hmac", secret = "s" }
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "https://webapi.splashtop.com"
auth = { type = "bearer", token = "t" }
"#;

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
    signed_with(&AuditKey::load_or_create(data).unwrap(), dir)
}

/// The artifacts of one session signed with `key`, in `dir`; returns the public key.
fn signed_with(key: &AuditKey, dir: &Path) -> String {
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
    assert!(
        !text(&out).contains("ok       "),
        "a manifest whose signature fails vouches for no file: {}",
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
    let cfg = tmp.path().join("d.toml");
    std::fs::write(
        &cfg,
        format!("[server]\ndata_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();
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
    let good = tmp.path().join("good.toml");
    std::fs::write(
        &good,
        format!("[server]\ndata_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();
    let out = deskbridge(&["check", "--config", good.to_str().unwrap()], tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("audit public key (ed25519): {key}")));
}

#[test]
fn check_refuses_a_rule_naming_an_unknown_template() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("t.toml");
    std::fs::write(
        &cfg,
        format!(
            "{CONNECTIONS}{}",
            r#"
[[rule]]
name = "L1"
connection = "snow"
vendor = "st"
link_note = { template = "sesion_link" }
"#
        ),
    )
    .unwrap();
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
    let cfg = tmp.path().join("r.toml");
    std::fs::write(
        &cfg,
        format!(
            "{CONNECTIONS}{}",
            r#"
[[rule]]
name = "Network only"
connection = "snow"
vendor = "st"
match = { queue = ["Network"] }
[[rule]]
name = "Service desk P1-3"
connection = "snow"
vendor = "st"
match = { queue = ["Service Desk"], priority = ["1", "2", "3"] }
"#
        ),
    )
    .unwrap();
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

#[test]
fn a_malformed_public_key_is_a_usage_error_never_an_altered_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    artifacts(&tmp.path().join("data"), &files);
    for bad in ["not base64!", "AAAA"] {
        let out = deskbridge(
            &["verify", "--public-key", bad, files.to_str().unwrap()],
            tmp.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("--public-key:"), "{}", text(&out));
        assert!(!text(&out).contains("ALTERED"), "{}", text(&out));
    }
}

#[test]
fn a_rotated_key_verifies_old_manifests_through_audit_keys_previous() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (AuditKey::generate(), AuditKey::generate());
    let files = tmp.path().join("files");
    let old_public = signed_with(&old, &files);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(files.join("session-123456789-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["signature"]["key_id"],
        deskbridge::audit::key_id(&old_public),
        "the manifest names its key"
    );
    let pem = tmp.path().join("audit.pem");
    std::fs::write(&pem, new.to_pem()).unwrap();
    let config = |previous: &str| {
        let path = tmp.path().join("d.toml");
        let text = format!(
            "[server]\ndata_dir = {:?}\naudit_key = \"file:{}\"\naudit_keys_previous = [{previous}]\n",
            tmp.path().join("data").display().to_string(),
            pem.display()
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let rotated = config(&format!("{old_public:?}"));
    let out = deskbridge(
        &[
            "verify",
            "--config",
            rotated.to_str().unwrap(),
            files.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "signed by {}",
            deskbridge::audit::key_id(&old_public)
        )),
        "{}",
        text(&out)
    );

    // without the previous key: the mismatch names the signer and the key given, and no file
    // is vouched for
    let forgotten = config("");
    let out = deskbridge(
        &[
            "verify",
            "--config",
            forgotten.to_str().unwrap(),
            files.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let msg = text(&out);
    assert!(
        msg.contains(&format!(
            "SIGNED BY ANOTHER KEY: it was signed by {} ({old_public})",
            deskbridge::audit::key_id(&old_public)
        )),
        "{msg}"
    );
    assert!(msg.contains(&new.public_key()), "{msg}");
    assert!(!msg.contains("ok       "), "{msg}");
    let out = deskbridge(
        &["check", "--config", forgotten.to_str().unwrap()],
        tmp.path(),
    );
    assert!(
        text(&out).contains(&format!("server.audit_key): {}", new.public_key())),
        "{}",
        text(&out)
    );
}

#[test]
fn an_audit_key_that_is_not_a_pkcs8_pem_is_refused_by_check() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("k.toml");
    std::fs::write(
        &cfg,
        "[server]\naudit_key = \"-----BEGIN PRIVATE KEY-----\\nxyz\\n-----END PRIVATE KEY-----\"\n",
    )
    .unwrap();
    let out = deskbridge(&["check", "--config", cfg.to_str().unwrap()], tmp.path());
    assert!(!out.status.success());
    assert!(
        text(&out).contains("server.audit_key: not an Ed25519 private key in PKCS#8 PEM"),
        "{}",
        text(&out)
    );
}
