//! Reading a job as the API returns it: its history, its errors, and how long it waited before
//! a retry on the service's clock; and the upstream answers that make it wait.

use deskbridge::clock::Millis;
use deskbridge_sim::{FaultAction, Faults};
use serde_json::Value;
use std::time::Duration;

/// The job's history lines.
pub fn steps(job: &Value) -> &[Value] {
    job["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The errors in the job's history, oldest first.
pub fn step_errors(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["error"].as_str())
        .collect()
}

/// The detail of the job's last history line (why it was skipped, say).
pub fn last_detail(job: &Value) -> &str {
    let last = steps(job).last().expect("a history");
    last["detail"].as_str().unwrap_or_default()
}

/// The job's error, which a failed job has.
pub fn error_of_job(job: &Value) -> &str {
    job["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {job:#}"))
}

/// An answer `status` asking to come back after `retry_after` (seconds or an HTTP date).
pub fn answer_later(status: u16, retry_after: &str) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after: Some(retry_after.into()),
        body: None,
    }
}

/// The history lines that failed with `needle` in their error, and when each was told to come
/// back (the worker records "retry at <time>").
pub(crate) fn retry_lines(job: &Value, needle: &str) -> Vec<(usize, Millis)> {
    steps(job)
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let due = s["detail"].as_str()?.strip_prefix("retry at ")?;
            let due = Millis::parse_rfc3339(due).expect("an RFC 3339 retry time");
            s["error"].as_str()?.contains(needle).then_some((i, due))
        })
        .collect()
}

fn at(step: &Value) -> Millis {
    Millis::parse_rfc3339(step["at"].as_str().unwrap()).unwrap()
}

/// How long the job waited on the service's clock after each error containing `needle`: from
/// that error to the next history line. Also checks that no retry came before the time the job
/// was told to come back.
pub fn retry_waits(job: &Value, needle: &str) -> Vec<Duration> {
    let steps = steps(job);
    retry_lines(job, needle)
        .into_iter()
        .map(|(i, due)| {
            let next = steps.get(i + 1).expect("a step after the retry");
            assert!(at(next) >= due, "retried before its time: {job:#}");
            at(next).since(at(&steps[i]))
        })
        .collect()
}

/// The first `method` call to a path containing `path` was answered `status`, the call was made
/// again, and the job waited at least `at_least` on the service's clock in between (what the
/// upstream's `Retry-After` asked).
pub fn assert_retried_after(
    faults: &Faults,
    (method, path): (&str, &str),
    status: u16,
    job: &Value,
    at_least: Duration,
) {
    let calls: Vec<_> = faults
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains(path))
        .collect();
    assert_eq!(calls[0].status, Some(status), "{method} {path}");
    assert!(calls.len() > 1, "{method} {path} was not made again");
    let waited = retry_waits(job, &status.to_string())[0];
    assert!(
        waited >= at_least,
        "Retry-After honoured on the service's clock: waited {waited:?}, asked {at_least:?}"
    );
}
