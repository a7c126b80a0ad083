//! Private CAs (issue 9): a ticket system behind a certificate from a CA of the customer's own.
//! The test makes the CA and a certificate for 127.0.0.1 (rcgen), and puts a TLS front
//! (tokio-rustls) before the ServiceNow simulator; deskbridge reaches it only when the CA is in
//! a `ca_bundle`, per connection or server-wide.

use crate::helpers::*;
use std::sync::Arc;
use tokio_rustls::rustls;

/// A TLS front on a loopback port that forwards every connection to `target` in clear.
struct TlsFront {
    url: String,
    ca_pem: String,
}

fn certificates() -> (String, rustls::ServerConfig) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(vec![]).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Acme Corp Internal CA (test)");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec![]).unwrap();
    leaf_params.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .unwrap();
    (ca.pem(), config)
}

/// `target` is set once the simulator behind it has its port.
async fn tls_front(target: Arc<std::sync::OnceLock<String>>) -> TlsFront {
    let (ca_pem, config) = certificates();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, target) = (acceptor.clone(), target.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Some(target) = target.get() else { return };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    TlsFront { url, ca_pem }
}

/// deskbridge whose ServiceNow connection is `https://` behind a TLS front; `edit` gets the
/// configuration text and the path of a file holding the front's CA.
async fn spawn_behind_tls(edit: impl FnOnce(String, &str) -> String) -> TestApp {
    let target = Arc::new(std::sync::OnceLock::new());
    let front = tls_front(target.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("acme-ca.pem");
    std::fs::write(&bundle, &front.ca_pem).unwrap();
    let app = spawn_app_edited("", |text| {
        // The simulator's address is in the text: put the TLS front before it.
        let snow = text
            .lines()
            .find(|l| l.starts_with("base_url = \"http://127.0.0.1:"))
            .and_then(|l| l.split('"').nth(1))
            .unwrap()
            .to_string();
        target
            .set(snow.trim_start_matches("http://").to_string())
            .unwrap();
        let text = text.replacen(
            &format!("base_url = \"{snow}\""),
            &format!("base_url = \"{}\"", front.url),
            1,
        );
        edit(text, &bundle.display().to_string())
    })
    .await;
    // The bundle was read when the configuration was loaded.
    drop(dir);
    app
}

#[tokio::test]
async fn a_ticket_system_behind_a_private_ca_is_reached_with_its_ca_bundle() {
    for scope in ["connection", "server"] {
        let app = spawn_behind_tls(|text, bundle| match scope {
            "connection" => text.replacen(
                "kind = \"servicenow\"",
                &format!("kind = \"servicenow\"\nca_bundle = \"{bundle}\""),
                1,
            ),
            _ => text.replacen(
                "shutdown_grace = \"2s\"",
                &format!("shutdown_grace = \"2s\"\nca_bundle = \"{bundle}\""),
                1,
            ),
        })
        .await;
        let (sys_id, body) = app.new_incident("Service Desk");
        let id = app.start_job(&body).await;
        app.wait_for_state(&id, "waiting_for_end", 20).await;
        assert_eq!(app.notes_with(&sys_id, "deskbridge:job/"), 1, "{scope}");
    }
}

#[tokio::test]
async fn without_the_ca_bundle_the_private_ca_is_not_trusted_and_the_job_says_why() {
    let app = spawn_behind_tls(|text, _| text).await;
    let (_, body) = app.new_incident("Service Desk");
    let id = app.start_job(&body).await;
    let mut last = serde_json::Value::Null;
    for _ in 0..200 {
        last = app.job(&id).await;
        let errors: Vec<String> = last["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["error"].as_str().map(String::from))
            .collect();
        if let Some(e) = errors.first() {
            assert!(e.to_lowercase().contains("certificate"), "{e}");
            assert_eq!(last["session"], serde_json::Value::Null);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no failure recorded: {last:#}");
}

#[test]
fn a_ca_bundle_that_cannot_be_read_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        dir.path(),
        "127.0.0.1:0",
        "https://snow.example",
        "https://st.example",
        "",
    );
    let missing = text.replacen(
        "kind = \"servicenow\"",
        "kind = \"servicenow\"\nca_bundle = \"/nonexistent/ca.pem\"",
        1,
    );
    let e = deskbridge::config::load_str(&missing, "t.toml").unwrap_err();
    assert_eq!(e.field, "itsm[0].ca_bundle", "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let bad = text.replacen(
        "shutdown_grace = \"2s\"",
        &format!(
            "shutdown_grace = \"2s\"\nca_bundle = \"{}\"",
            junk.display()
        ),
        1,
    );
    let e = deskbridge::config::load_str(&bad, "t.toml").unwrap_err();
    assert_eq!(e.field, "server.ca_bundle", "{e}");
    assert!(e.reason.contains("no certificate"), "{e}");
}
