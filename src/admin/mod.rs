//! What an admin or an auditor can do, as plain functions: `/api/v1`'s handlers are thin over
//! these, and the web console calls the same ones (passing the name given at login as the
//! [`Actor`]). Nothing here knows HTTP; [`AdminError`] says what went wrong in terms a handler
//! maps to a status.

mod jobs;
mod systems;

pub use jobs::{BulkRetried, BulkRetry, Skipped};
pub use systems::{ConnectionStatus, Status, VendorStatus, Warning};

use crate::job::Actor;
use crate::runtime::{Current, Shared};
use crate::worker::Worker;
use std::sync::Arc;

/// Why an admin action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such job, connection, vendor or artifact.
    #[error("{0}")]
    NotFound(String),
    /// The request names its target wrongly (`field` is the parameter or body field).
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The job is not in a state that allows it, or changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// What was asked for existed but is no longer kept here.
    #[error("{0}")]
    Gone(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Something that should not be (a file changed on disk).
    #[error("{0}")]
    Internal(String),
}

/// The service as an admin sees it: the configuration in force, the store, the worker.
#[derive(Clone)]
pub struct Admin {
    pub current: Current,
    pub shared: Shared,
    pub worker: Arc<Worker>,
}

impl Admin {
    pub fn new(current: Current, shared: Shared, worker: Arc<Worker>) -> Admin {
        Admin {
            current,
            shared,
            worker,
        }
    }
}

/// Who the API's bearer-token requests act as.
pub fn api_actor() -> Actor {
    Actor::admin()
}
