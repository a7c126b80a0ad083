//! The Splashtop side that every ticket system's tests share (its `[[vendor]]` entry is
//! [`super::Vendor::splashtop`]).

use super::client::Api;
use deskbridge_sim::{SessionEnd, SplashtopSim};

/// The session of job `id` ends at Splashtop with `end`; returns its code.
pub async fn end_session(api: &Api, st: &SplashtopSim, id: &str, end: SessionEnd) -> String {
    let code = api.session_code(id).await;
    assert!(st.end_session(&code, end), "session {code} ended");
    code
}
