//! The systems as an admin sees them: each connection's and vendor's last call and credentials,
//! job counts and warnings (`/api/v1/status`), and the test call of one system.

use super::{Admin, AdminError};
use crate::ids::{ConnectionId, VendorId};
use crate::metrics::{LastCall, Side};
use crate::outbound::Probe;
use crate::remote::CredentialStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub version: String,
    /// Jobs by state.
    pub jobs: BTreeMap<String, usize>,
    pub connections: Vec<ConnectionStatus>,
    pub vendors: Vec<VendorStatus>,
    /// What needs an admin: credentials about to expire, systems refusing calls.
    pub warnings: Vec<Warning>,
    pub audit_public_key: String,
    /// Which store keeps the jobs: `sled` or `postgres`.
    pub store: String,
    /// This replica's worker id: what a job's `lease.owner` shows while this replica works on it.
    pub replica: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionStatus {
    pub id: ConnectionId,
    pub kind: String,
    /// The outcome of its last call; absent before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_call: Option<LastCall>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VendorStatus {
    pub id: VendorId,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_call: Option<LastCall>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// The connection or vendor it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub message: String,
}

fn failing(last: &Option<LastCall>) -> Option<String> {
    let l = last.as_ref().filter(|l| !l.ok)?;
    Some(format!("{} since {}", l.message, l.since))
}

impl Admin {
    pub async fn status(&self) -> Result<Status, AdminError> {
        let rt = self.current.get();
        let calls = &self.shared.metrics.calls;
        let mut warnings = vec![];
        let connections = rt
            .config
            .itsm
            .iter()
            .map(|c| {
                let last_call = calls.get(Side::Connection, c.id.as_str());
                if let Some(message) = failing(&last_call) {
                    let connection = Some(c.id.to_string());
                    warnings.push(Warning {
                        connection,
                        vendor: None,
                        message,
                    });
                }
                ConnectionStatus {
                    id: c.id.clone(),
                    kind: c.kind.to_string(),
                    last_call,
                }
            })
            .collect();
        let vendors = rt
            .config
            .vendor
            .iter()
            .map(|v| {
                let credentials = rt.vendors.get(&v.id).map(|x| x.credentials());
                let last_call = calls.get(Side::Vendor, v.id.as_str());
                // Credentials that need an admin are named here, in the log and in /metrics,
                // while /readyz stays up: the service still works for everything else.
                let messages = credentials.as_ref().and_then(|c| c.warning.clone());
                for message in messages.into_iter().chain(failing(&last_call)) {
                    let vendor = Some(v.id.to_string());
                    warnings.push(Warning {
                        connection: None,
                        vendor,
                        message,
                    });
                }
                VendorStatus {
                    id: v.id.clone(),
                    kind: v.kind.to_string(),
                    credentials,
                    last_call,
                }
            })
            .collect();
        Ok(Status {
            version: env!("CARGO_PKG_VERSION").into(),
            jobs: self
                .shared
                .store
                .count_by_state()
                .await?
                .into_iter()
                .map(|(s, n)| (s.as_str().to_string(), n))
                .collect(),
            connections,
            vendors,
            warnings,
            audit_public_key: self.shared.audit.public_key(),
            store: self.shared.store.kind().into(),
            replica: self.worker.owner(),
        })
    }

    /// The test call of connection `id` (`check --online` for one system).
    pub async fn test_connection(&self, id: &str) -> Result<Probe, AdminError> {
        let rt = self.current.get();
        let itsm = rt
            .itsm
            .get(&ConnectionId::new(id))
            .ok_or_else(|| AdminError::NotFound(format!("unknown connection {id:?}")))?;
        Ok(itsm.test_connection().await)
    }

    /// The test call of vendor `id`.
    pub async fn test_vendor(&self, id: &str) -> Result<Probe, AdminError> {
        let rt = self.current.get();
        let vendor = rt
            .vendors
            .get(&VendorId::new(id))
            .ok_or_else(|| AdminError::NotFound(format!("unknown vendor {id:?}")))?;
        Ok(vendor.test_connection().await)
    }
}
