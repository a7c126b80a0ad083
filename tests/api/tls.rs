//! Private CAs (issue 9): a ticket system behind a certificate from a CA of the customer's own.
//! The test makes the CA and a certificate for 127.0.0.1 (rcgen), and puts a TLS front
//! (tokio-rustls) before the ServiceNow simulator; deskbridge reaches it only when the CA is in
//! a `ca_bundle`, per connection or server-wide.

use crate::servicenow::*;
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

/// Where a CA bundle goes: on the connection, or server-wide, or nowhere.
#[derive(Clone, Copy, Debug)]
enum Scope {
    Connection,
    Server,
    Nowhere,
}

/// deskbridge whose ServiceNow connection is `https://` behind a TLS front, with the front's CA
/// in a bundle where `scope` says.
async fn spawn_behind_tls(scope: Scope) -> SnowApp {
    let target = Arc::new(std::sync::OnceLock::new());
    let front = tls_front(target.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("acme-ca.pem");
    std::fs::write(&bundle, &front.ca_pem).unwrap();
    let app = spawn_app_with(|c| {
        let snow = c.itsm_mut("snow");
        // The simulator's address is in the configuration: put the TLS front before it.
        target
            .set(snow.base_url.trim_start_matches("http://").to_string())
            .unwrap();
        snow.base_url = front.url.clone();
        match scope {
            Scope::Connection => snow.ca_bundle = Some(bundle.clone()),
            Scope::Server => c.server.ca_bundle = Some(bundle.clone()),
            Scope::Nowhere => {}
        }
    })
    .await;
    // The bundle was read when the configuration was loaded.
    drop(dir);
    app
}

#[tokio::test]
async fn a_ticket_system_behind_a_private_ca_is_reached_with_its_ca_bundle() {
    for scope in [Scope::Connection, Scope::Server] {
        let app = spawn_behind_tls(scope).await;
        let (sys_id, body) = app.new_incident("Service Desk");
        let id = app.start_job(&body).await;
        app.wait_for_state(&id, "waiting_for_end", 20).await;
        assert_eq!(
            notes_with(&app.snow, &sys_id, "deskbridge:job/"),
            1,
            "{scope:?}"
        );
    }
}

#[tokio::test]
async fn without_the_ca_bundle_the_private_ca_is_not_trusted_and_the_job_says_why() {
    let app = spawn_behind_tls(Scope::Nowhere).await;
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
    let load = |edit: &dyn Fn(&mut Config)| {
        let mut c = config(dir.path(), "https://snow.example", "https://st.example");
        edit(&mut c);
        deskbridge::config::load_str(&c.toml(), "t.toml").unwrap_err()
    };
    let e = load(&|c| c.itsm_mut("snow").ca_bundle = Some("/nonexistent/ca.pem".into()));
    assert!(e.to_string().contains("itsm[0].ca_bundle"), "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let e = load(&|c| c.server.ca_bundle = Some(junk.clone()));
    assert!(e.to_string().contains("server.ca_bundle"), "{e}");
    assert!(e.to_string().contains("no certificate"), "{e}");
}
