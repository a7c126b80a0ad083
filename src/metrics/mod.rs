//! Prometheus metrics (SPEC §4 `/metrics`), through the `prometheus` crate: it writes the text
//! exposition (0.0.4) that `promtool check metrics` accepts, with HELP and TYPE for every
//! family, histograms, and the process collector. Every family deskbridge has is declared here
//! once, with its help text; the counters a configuration implies (webhook outcomes per
//! connection, step outcomes, calls per target) are created at zero when the configuration is
//! built, so a rate() over them works from the first scrape.
//!
//! The outcome of every system's last call is kept here too ([`calls`]), because every call
//! passes through [`crate::outbound::Upstream`], which holds this and outlives no reload.

mod calls;

pub use calls::{Answer, LastCall, LastCalls, Side};

use crate::job::JobState;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Outcomes a webhook can have: the labels of `deskbridge_webhooks_total`.
pub const WEBHOOK_OUTCOMES: &[&str] = &[
    "queued",
    "duplicate",
    "existing",
    "ignored",
    "unauthorized",
    "invalid_body",
    "body_too_large",
    "body_unreadable",
    "unavailable",
];

/// Outcomes of one step: the labels of `deskbridge_steps_total`.
pub const STEP_OUTCOMES: &[&str] = &["ok", "wait", "retry", "failed"];

/// Seconds: from a quick API call to a slow upload.
const CALL_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Seconds: a step is one or a few calls.
const STEP_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// What a scrape reads at scrape time: job counts, the store's size, credentials, and the
/// systems of the configuration in force.
#[derive(Debug, Default)]
pub struct Scrape {
    pub jobs: Vec<(JobState, usize)>,
    pub store_bytes: u64,
    /// Vendor id and seconds until its OAuth refresh token expires.
    pub refresh_expires_in: Vec<(String, f64)>,
    pub connections: Vec<String>,
    pub vendors: Vec<String>,
}

pub struct Metrics {
    registry: Registry,
    webhooks: IntCounterVec,
    outbound_calls: IntCounterVec,
    outbound_seconds: HistogramVec,
    steps: IntCounterVec,
    step_seconds: HistogramVec,
    retries: IntCounterVec,
    transitions: IntCounterVec,
    renewals: IntCounterVec,
    jobs: IntGaugeVec,
    store_bytes: IntGauge,
    refresh_expires: GaugeVec,
    connection_up: IntGaugeVec,
    vendor_up: IntGaugeVec,
    log_dropped: IntCounter,
    /// Counters named by their users ([`Metrics::add`]), created at first use.
    extra: Mutex<HashMap<&'static str, IntCounterVec>>,
    /// Every system's last call.
    pub calls: LastCalls,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

fn histogram(r: &Registry, name: &str, help: &str, label: &str, b: &[f64]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(b.to_vec());
    let h = HistogramVec::new(opts, &[label]).expect("a valid histogram");
    r.register(Box::new(h.clone())).expect("registered once");
    h
}

impl Default for Metrics {
    fn default() -> Self {
        let r = Registry::new();
        let one = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("a valid gauge");
            r.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let build = gauge(
            &r,
            "deskbridge_build_info",
            "The running build: always 1, with the version as a label.",
            &["version"],
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let log_dropped = IntCounter::new(
            "deskbridge_log_lines_dropped_total",
            "Log lines dropped because stderr could not take them (closed, full or slow).",
        )
        .expect("a valid counter");
        r.register(Box::new(log_dropped.clone()))
            .expect("registered once");
        #[cfg(target_os = "linux")]
        {
            let p = prometheus::process_collector::ProcessCollector::for_self();
            let _ = r.register(Box::new(p));
        }
        let refresh_expires = GaugeVec::new(
            Opts::new(
                "deskbridge_vendor_refresh_token_expires_in_seconds",
                "Seconds until a vendor's OAuth refresh token expires (alert well before 0).",
            ),
            &["vendor"],
        )
        .expect("a valid gauge");
        r.register(Box::new(refresh_expires.clone()))
            .expect("registered once");
        let m = Metrics {
            webhooks: counter(&r, "deskbridge_webhooks_total", "Webhooks received, by connection and outcome.", &["connection", "outcome"]),
            outbound_calls: counter(&r, "deskbridge_outbound_calls_total", "Calls to ticket systems and vendors, by target and HTTP status (or timeout, error).", &["target", "status"]),
            outbound_seconds: histogram(&r, "deskbridge_outbound_call_duration_seconds", "Duration of calls to ticket systems and vendors, by target.", "target", CALL_BUCKETS),
            steps: counter(&r, "deskbridge_steps_total", "Job steps run, by step and outcome (ok, wait, retry, failed).", &["step", "outcome"]),
            step_seconds: histogram(&r, "deskbridge_step_duration_seconds", "Duration of job steps, by step.", "step", STEP_BUCKETS),
            retries: counter(&r, "deskbridge_retries_total", "Transient step failures that will be retried, by step.", &["step"]),
            transitions: counter(&r, "deskbridge_job_transitions_total", "Job state changes, by the state entered.", &["state"]),
            renewals: counter(&r, "deskbridge_token_renewals_total", "Vendor tokens obtained, by vendor and how (refresh, authorise, code).", &["vendor", "via"]),
            jobs: gauge(&r, "deskbridge_jobs", "Jobs in the store, by state.", &["state"]),
            store_bytes: one("deskbridge_store_size_bytes", "Size of the job store on disk."),
            refresh_expires,
            connection_up: gauge(&r, "deskbridge_connection_up", "1 when a connection's last call was answered as working, 0 when refused, limited, failing or unreachable.", &["connection"]),
            vendor_up: gauge(&r, "deskbridge_vendor_up", "1 when a vendor's last call was answered as working, 0 when refused, limited, failing or unreachable.", &["vendor"]),
            log_dropped,
            extra: Mutex::new(HashMap::new()),
            calls: LastCalls::default(),
            registry: r,
        };
        m.declare_steps();
        m
    }
}

impl Metrics {
    /// The series a connection implies, at zero: its webhook outcomes.
    pub fn declare_connection(&self, connection: &str) {
        for outcome in WEBHOOK_OUTCOMES {
            self.webhooks.with_label_values(&[connection, outcome]);
        }
    }

    /// Every step's outcomes and duration, and every state's transitions, at zero.
    fn declare_steps(&self) {
        for state in JobState::ALL.iter().filter(|s| !s.is_terminal()) {
            self.step_seconds.with_label_values(&[state.as_str()]);
            self.retries.with_label_values(&[state.as_str()]);
            for outcome in STEP_OUTCOMES {
                self.steps.with_label_values(&[state.as_str(), outcome]);
            }
        }
        for state in JobState::ALL {
            self.transitions.with_label_values(&[state.as_str()]);
        }
    }

    /// An outbound target's duration series, at zero.
    pub fn declare_target(&self, target: &str) {
        self.outbound_seconds.with_label_values(&[target]);
    }

    /// A vendor's token renewals `via` each way it renews, at zero.
    pub fn declare_renewals(&self, vendor: &str, vias: &[&str]) {
        for via in vias {
            self.renewals.with_label_values(&[vendor, via]);
        }
    }

    pub fn webhook(&self, connection: &str, outcome: &str) {
        self.webhooks
            .with_label_values(&[connection, outcome])
            .inc();
    }

    /// One call to `target` (`servicenow/snow-prod`) and how it ended.
    pub fn outbound(&self, target: &str, status: &str, took: Duration) {
        self.outbound_calls
            .with_label_values(&[target, status])
            .inc();
        self.outbound_seconds
            .with_label_values(&[target])
            .observe(took.as_secs_f64());
    }

    pub fn step(&self, step: &str, outcome: &str, took: Duration) {
        self.steps.with_label_values(&[step, outcome]).inc();
        self.step_seconds
            .with_label_values(&[step])
            .observe(took.as_secs_f64());
        if outcome == "retry" {
            self.retries.with_label_values(&[step]).inc();
        }
    }

    /// A job entered `state`.
    pub fn transition(&self, state: JobState) {
        self.transitions.with_label_values(&[state.as_str()]).inc();
    }

    pub fn token_renewal(&self, vendor: &str, via: &str) {
        self.renewals.with_label_values(&[vendor, via]).inc();
    }

    /// A counter no family above covers, created at its first use with `name` as its help:
    /// prefer a named family with real help text.
    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        let mut extra = self.extra.lock().unwrap_or_else(|p| p.into_inner());
        let c = extra.entry(name).or_insert_with(|| {
            let labels: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
            counter(&self.registry, name, name, &labels)
        });
        let values: Vec<&str> = pairs.iter().map(|(_, v)| *v).collect();
        if let Ok(c) = c.get_metric_with_label_values(&values) {
            c.inc_by(v.max(0.0) as u64);
        }
    }

    /// The text exposition, with what is read at scrape time set first.
    pub fn render(&self, s: &Scrape) -> String {
        self.jobs.reset();
        for (state, n) in &s.jobs {
            self.jobs
                .with_label_values(&[state.as_str()])
                .set(*n as i64);
        }
        self.store_bytes.set(s.store_bytes as i64);
        self.refresh_expires.reset();
        for (vendor, left) in &s.refresh_expires_in {
            self.refresh_expires.with_label_values(&[vendor]).set(*left);
        }
        for (gauge, side, ids) in [
            (&self.connection_up, Side::Connection, &s.connections),
            (&self.vendor_up, Side::Vendor, &s.vendors),
        ] {
            gauge.reset();
            for id in ids {
                if let Some(last) = self.calls.get(side, id) {
                    gauge.with_label_values(&[id]).set(last.ok as i64);
                }
            }
        }
        let dropped = crate::telemetry::dropped_lines();
        self.log_dropped
            .inc_by(dropped.saturating_sub(self.log_dropped.get()));
        let mut out = vec![];
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_and_type_and_declared_counters_start_at_zero() {
        let m = Metrics::default();
        m.declare_connection("snow");
        m.webhook("snow", "queued");
        m.webhook("snow", "queued");
        let text = m.render(&Scrape {
            jobs: vec![(JobState::Done, 3)],
            ..Scrape::default()
        });
        assert!(text.contains("# TYPE deskbridge_webhooks_total counter"));
        assert!(text.contains("# HELP deskbridge_webhooks_total "));
        assert!(
            text.contains("deskbridge_webhooks_total{connection=\"snow\",outcome=\"queued\"} 2")
        );
        assert!(
            text.contains(
                "deskbridge_webhooks_total{connection=\"snow\",outcome=\"unauthorized\"} 0"
            ),
            "declared outcomes are there before they happen"
        );
        assert!(text.contains("deskbridge_jobs{state=\"done\"} 3"));
        assert!(text.contains("# TYPE deskbridge_step_duration_seconds histogram"));
        assert!(text.contains("deskbridge_build_info{version="));
    }

    #[test]
    fn a_connection_is_up_or_down_by_its_last_call_and_absent_before_one() {
        let m = Metrics::default();
        let scrape = Scrape {
            connections: vec!["snow".into(), "jira".into()],
            ..Scrape::default()
        };
        m.calls.record(
            Side::Connection,
            "snow",
            Answer::Status(401),
            crate::clock::Millis::now(),
        );
        let text = m.render(&scrape);
        assert!(text.contains("deskbridge_connection_up{connection=\"snow\"} 0"));
        assert!(!text.contains("connection=\"jira\"}"), "{text}");
    }
}
