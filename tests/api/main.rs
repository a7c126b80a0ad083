//! Black-box tests: the service on port 0 with its own temporary data directory, against the
//! simulators of the `deskbridge-sim` crate, each test with its own ports. One test binary (zero-to-production
//! style) so the crate is linked once.

mod harness;
mod servicenow;

mod api;
mod clock;
mod crash;
mod degrade;
mod failures;
mod flow;
mod freshservice;
mod hostile;
mod isolation;
mod jira;
mod logging;
mod oauth;
mod operable;
mod replicas;
mod retention;
mod secrets;
mod signatures;
mod soak;
mod sunlogin;
mod tls;
mod webhook;
mod zendesk;
