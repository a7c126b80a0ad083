//! deskbridge connects IT service desks to remote-support vendors.
//!
//! A helpdesk agent clicks "Start remote session" on a ticket; the ticket system sends a
//! webhook; deskbridge creates an attended-support session with the vendor, writes the link
//! back onto the ticket, waits for the session to end, then attaches the session log, the
//! file-transfer log and the chat transcript, with a signed manifest, to the same ticket. Every
//! step is a durable job in the store (sled, or PostgreSQL for several replicas), so crashes, restarts, duplicate webhooks and outages on either
//! side lose nothing and duplicate nothing.
//!
//! # Layout
//! - [`cli`] the commands of SPEC §2; [`app`] builds the service from a [`config::Config`] on a
//!   pre-bound listener and runs it until shutdown.
//! - [`http`] webhooks in, the admin/auditor API out; [`itsm`] the ticket-system seam and
//!   [`remote`] the remote-support vendor seam: one folder per system, each listed once in its
//!   side's registry (`itsm::registry`, `remote::registry`); [`config`] reads each `[[itsm]]`
//!   and `[[vendor]]` table into its kind's own settings type.
//! - [`worker`] runs jobs step by step; [`job`] is the pure state machine; [`store`] is the only
//!   module that touches sled or PostgreSQL; [`retention`] deletes what has aged out.
//! - [`rules`] and [`render`] are pure: which rule a ticket gets, what a note says.
//! - [`artifacts`] builds the CSV/text files and the signed manifest; [`audit`] holds the key.
//! - [`outbound`] is the HTTP client shared by adapters: rate limits, Retry-After, error classes.
//!
//! The simulators of every ticket system and vendor, used by the tests and `demo`, are a crate of
//! their own (`sim/`, `deskbridge_sim`) that imports nothing from this one: they implement each
//! contract again (signatures, payloads, limits), so a mistake shared by product and simulator
//! cannot hide.

#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod artifacts;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod ids;
pub mod itsm;
pub mod job;
pub mod metrics;
pub mod outbound;
pub mod remote;
pub mod render;
pub mod retention;
pub mod rules;
pub mod runtime;
pub mod store;
pub mod telemetry;
pub mod ticket;
pub mod worker;
