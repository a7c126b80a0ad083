//! `deskbridge verify`: tampering is caught and named, a rotated key still verifies old
//! manifests, and a mistake in the command is a usage error, never a verdict on the files.

use super::{artifacts, data_dir_only, deskbridge, signed_with, text};
use deskbridge::audit::AuditKey;

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
