//! Prometheus metrics in text exposition format, kept by hand: a few labelled counters and
//! latency sums are all deskbridge needs, and a registry crate would add more than it saves.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// A value read at scrape time: name, labels, value.
pub type Gauge = (&'static str, Vec<(String, String)>, f64);

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), f64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            )
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

impl Metrics {
    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *c.entry((name, labels(pairs))).or_default() += v;
    }

    pub fn webhook(&self, connection: &str, outcome: &str) {
        self.add(
            "deskbridge_webhooks_total",
            &[("connection", connection), ("outcome", outcome)],
            1.0,
        );
    }

    pub fn outbound(&self, target: &str, status: &str, took: Duration) {
        self.add(
            "deskbridge_outbound_calls_total",
            &[("target", target), ("status", status)],
            1.0,
        );
        self.add(
            "deskbridge_outbound_seconds_sum",
            &[("target", target)],
            took.as_secs_f64(),
        );
    }

    pub fn step(&self, step: &str, outcome: &str, took: Duration) {
        self.add(
            "deskbridge_steps_total",
            &[("step", step), ("outcome", outcome)],
            1.0,
        );
        self.add(
            "deskbridge_step_seconds_sum",
            &[("step", step)],
            took.as_secs_f64(),
        );
        self.add("deskbridge_step_seconds_count", &[("step", step)], 1.0);
        if outcome == "retry" {
            self.add("deskbridge_retries_total", &[("step", step)], 1.0);
        }
    }

    /// Render everything, with the gauges the caller reads at scrape time appended.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::new();
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut last = "";
        for ((name, l), v) in c.iter() {
            if *name != last {
                let kind = if name.ends_with("_total") {
                    "counter"
                } else {
                    "untyped"
                };
                let _ = writeln!(out, "# TYPE {name} {kind}");
                last = name;
            }
            let _ = writeln!(out, "{name}{l} {v}");
        }
        let mut last = "";
        for (name, pairs, v) in gauges {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} gauge");
                last = name;
            }
            let p: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let _ = writeln!(out, "{name}{} {v}", labels(&p));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let m = Metrics::default();
        m.webhook("snow", "queued");
        m.webhook("snow", "queued");
        m.webhook("snow", "unauthorized");
        let text = m.render(&[(
            "deskbridge_jobs",
            vec![("state".into(), "done".into())],
            3.0,
        )]);
        assert!(text.contains("# TYPE deskbridge_webhooks_total counter"));
        assert!(
            text.contains("deskbridge_webhooks_total{connection=\"snow\",outcome=\"queued\"} 2")
        );
        assert!(text.contains("deskbridge_jobs{state=\"done\"} 3"));
    }
}
