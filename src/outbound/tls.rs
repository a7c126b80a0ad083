//! Which certificate authorities outbound HTTPS trusts: the system's trust store (so an
//! on-premises Jira or ServiceNow behind a corporate CA that IT installed on the host is reached
//! like any public site), plus the CA bundles the configuration names, server-wide
//! (`server.ca_bundle`) and per connection or vendor (`ca_bundle`).
//!
//! The roots bundled with reqwest (Mozilla's) are used only where the system has no trust store
//! at all (a distroless container), so that removing a CA from the host's store removes it
//! from deskbridge too.

use serde::Deserialize;
use std::sync::{Arc, OnceLock};

/// A CA bundle from the configuration: PEM certificates read when the configuration is loaded,
/// so a missing or broken file is refused by `check` and `serve`, naming the key.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct CaBundle {
    /// Where it came from, for messages.
    pub source: String,
    certs: Arc<Vec<reqwest::Certificate>>,
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("source", &self.source)
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl TryFrom<String> for CaBundle {
    type Error = String;

    /// A path to a PEM file, or (written as `file:/path`, which the loader has already read)
    /// the PEM text itself.
    fn try_from(value: String) -> Result<Self, String> {
        let (source, pem) = if value.trim_start().starts_with("-----BEGIN") {
            ("<inline PEM>".to_string(), value.into_bytes())
        } else {
            let pem = std::fs::read(&value)
                .map_err(|e| format!("cannot read the CA bundle {value}: {e}"))?;
            (value, pem)
        };
        CaBundle::from_pem(source, &pem)
    }
}

impl CaBundle {
    pub fn from_pem(source: String, pem: &[u8]) -> Result<Self, String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("{source} is not a PEM certificate bundle: {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "{source} holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")"
            ));
        }
        Ok(CaBundle {
            source,
            certs: Arc::new(certs),
        })
    }
}

/// The extra CAs one upstream trusts beside the system's: the server-wide bundle and its own.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    bundles: Vec<CaBundle>,
}

impl Trust {
    pub fn new(server: Option<&CaBundle>) -> Self {
        Trust {
            bundles: server.into_iter().cloned().collect(),
        }
    }

    /// This trust plus an upstream's own bundle.
    pub fn with(&self, own: Option<&CaBundle>) -> Trust {
        let mut t = self.clone();
        t.bundles.extend(own.cloned());
        t
    }

    /// `builder` trusting the system store and these bundles.
    pub fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let system = system_roots();
        builder = builder.tls_built_in_root_certs(system.is_empty());
        for cert in system
            .iter()
            .chain(self.bundles.iter().flat_map(|b| b.certs.iter()))
        {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder
    }
}

/// The host's trust store, read once per process.
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!(error = %e, "part of the system trust store could not be read");
        }
        let roots: Vec<reqwest::Certificate> = found
            .certs
            .iter()
            .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
            .collect();
        if roots.is_empty() {
            tracing::warn!(
                "no system trust store found; using the CA roots bundled with deskbridge"
            );
        }
        roots
    })
}
