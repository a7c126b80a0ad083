//! The one test harness: [`TestApp`] (deskbridge in process on a manual clock), [`Child`] (the
//! binary as a child process), [`Api`] (talking to either), [`Config`] (the configuration as
//! typed values), and what every system's tickets must show in the end. Each system's module
//! adds only its simulators, its connection entries and rules, and its own helpers.

pub mod app;
pub mod child;
pub mod client;
pub mod config;
pub mod job;
pub mod splashtop;
pub mod ticket;

pub(crate) use app::system_app;
pub use app::{listener, TestApp};
pub use child::{
    arm, assert_no_secret_in, crash_after_write, crash_inside, kill_when_called, Child,
};
pub use client::{error_of, job_id_of, Api};
pub use config::{
    Auth, Config, Inbound, Itsm, Poll, RateLimit, Retry, Rule, Vendor, VendorAuth, ADMIN_TOKEN,
    AUDITOR_TOKEN, LOST_ANSWER,
};
pub use job::{
    answer_later, assert_retried_after, error_of_job, last_detail, retry_waits, step_errors, steps,
};
pub use splashtop::end_session;
pub use ticket::{
    assert_each_artifact_once, count_with, counts, first_with, found_existing, marker, Attached,
};
