//! verdict's own metrics, served at `/metrics` in the Prometheus text format.
//!
//! Owns: metric names, labels and help texts, one recorder per server (not
//! the process-global one, so several servers in one process — tests — do
//! not mix their numbers), and the gauges read from the database at scrape
//! time (`verdict_scheduler_queue_depth`, `verdict_experiment_running`),
//! which stay right across crashes and replicas. Must not: put unbounded
//! values (ids, paths with ids) into labels of the counters; the running
//! gauge is the one documented exception, bounded by running experiments.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `verdict_http_requests_total` | counter | `method`, `route`, `status` |
//! | `verdict_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `verdict_evaluations_total` | counter | `result` (`ok`, `error`) |
//! | `verdict_evaluation_duration_seconds` | histogram | |
//! | `verdict_verdicts_total` | counter | `outcome` |
//! | `verdict_prometheus_query_errors_total` | counter | `during` (`guard`, `evaluate`, `readyz`) |
//! | `verdict_guard_checks_total` | counter | `decision` (`continue`, `abort`, `error`) |
//! | `verdict_experiments_aborted_total` | counter | `by` (`guardrail`, `api`) |
//! | `verdict_webhook_deliveries_total` | counter | `result` (`delivered`, `failed`) |
//! | `verdict_scheduler_errors_total` | counter | `during` |
//! | `verdict_scheduler_queue_depth` | gauge | |
//! | `verdict_experiment_running` | gauge | `experiment`, `service`, `type` |

use std::fmt::Write as _;
use std::time::Duration;

use metrics::{Key, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::store::RunningExperiment;

const METADATA: Metadata<'static> = Metadata::new("verdict", Level::INFO, Some("verdict::metrics"));

/// Latency buckets in seconds, from a fast API read to a slow evaluation.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The metrics of one server.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Values read from the database when `/metrics` is scraped.
#[derive(Debug, Clone, Default)]
pub struct DbGauges {
    /// Work items due and not leased.
    pub queue_depth: i64,
    /// Experiments whose fault is on.
    pub running: Vec<RunningExperiment>,
}

impl Metrics {
    /// A fresh set of metrics with help texts.
    pub fn new() -> Self {
        // set_buckets only fails on an empty list.
        let builder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics { recorder, handle };
        m.describe_counter(
            "verdict_http_requests_total",
            "HTTP requests served, by route and status.",
        );
        m.describe_histogram(
            "verdict_http_request_duration_seconds",
            Unit::Seconds,
            "Time to answer an HTTP request.",
        );
        m.describe_counter(
            "verdict_evaluations_total",
            "Experiment evaluations run, by result.",
        );
        m.describe_histogram(
            "verdict_evaluation_duration_seconds",
            Unit::Seconds,
            "Time an evaluation took.",
        );
        m.describe_counter("verdict_verdicts_total", "Verdicts stored, by outcome.");
        m.describe_counter(
            "verdict_prometheus_query_errors_total",
            "Prometheus queries that failed after retries, by what was being done.",
        );
        m.describe_counter(
            "verdict_guard_checks_total",
            "Guardrail checks, by decision.",
        );
        m.describe_counter(
            "verdict_experiments_aborted_total",
            "Experiments aborted, by who.",
        );
        m.describe_counter(
            "verdict_webhook_deliveries_total",
            "Abort webhook attempts, by result.",
        );
        m.describe_counter(
            "verdict_scheduler_errors_total",
            "Scheduler database errors.",
        );
        m
    }

    fn describe_counter(&self, name: &'static str, help: &'static str) {
        self.recorder
            .describe_counter(name.into(), None, SharedString::const_str(help));
    }

    fn describe_histogram(&self, name: &'static str, unit: Unit, help: &'static str) {
        self.recorder
            .describe_histogram(name.into(), Some(unit), SharedString::const_str(help));
    }

    fn count(&self, name: &'static str, labels: Vec<Label>) {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
            .increment(1);
    }

    fn observe(&self, name: &'static str, labels: Vec<Label>, value: f64) {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
            .record(value);
    }

    /// One HTTP request: `route` is the matched route template (e.g.
    /// `/api/v1/experiments/{id}`), never the raw path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.count(
            "verdict_http_requests_total",
            vec![
                Label::new("method", method.to_owned()),
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ],
        );
        self.observe(
            "verdict_http_request_duration_seconds",
            vec![
                Label::new("method", method.to_owned()),
                Label::new("route", route.to_owned()),
            ],
            took.as_secs_f64(),
        );
    }

    /// One evaluation (`ok` or `error`) and how long it took.
    pub fn evaluation(&self, result: &'static str, took: Duration) {
        self.count(
            "verdict_evaluations_total",
            vec![Label::from_static_parts("result", result)],
        );
        self.observe(
            "verdict_evaluation_duration_seconds",
            vec![],
            took.as_secs_f64(),
        );
    }

    /// A verdict was stored.
    pub fn verdict(&self, outcome: &'static str) {
        self.count(
            "verdict_verdicts_total",
            vec![Label::from_static_parts("outcome", outcome)],
        );
    }

    /// Prometheus failed while doing `during`.
    pub fn prometheus_error(&self, during: &'static str) {
        self.count(
            "verdict_prometheus_query_errors_total",
            vec![Label::from_static_parts("during", during)],
        );
    }

    /// A guardrail check ended with `decision`.
    pub fn guard_check(&self, decision: &'static str) {
        self.count(
            "verdict_guard_checks_total",
            vec![Label::from_static_parts("decision", decision)],
        );
    }

    /// An experiment was aborted by `by` (`guardrail` or `api`).
    pub fn aborted(&self, by: &'static str) {
        self.count(
            "verdict_experiments_aborted_total",
            vec![Label::from_static_parts("by", by)],
        );
    }

    /// A webhook attempt ended with `result`.
    pub fn webhook(&self, result: &'static str) {
        self.count(
            "verdict_webhook_deliveries_total",
            vec![Label::from_static_parts("result", result)],
        );
    }

    /// A notification delivery attempt ended with `result`: `delivered`,
    /// `failed` (will be retried) or `dead`.
    pub fn delivery_attempt(&self, result: &'static str) {
        self.count(
            "verdict_delivery_attempts_total",
            vec![Label::from_static_parts("result", result)],
        );
    }

    /// The scheduler hit a database error while doing `during`.
    pub fn scheduler_error(&self, during: &'static str) {
        self.count(
            "verdict_scheduler_errors_total",
            vec![Label::from_static_parts("during", during)],
        );
    }

    /// The exposition text: recorded metrics, then the database gauges.
    pub fn render(&self, db: &DbGauges) -> String {
        let mut out = self.render_counters();
        out.push_str(&render_db_gauges(db));
        out
    }

    /// The recorded metrics only (when the database gauges cannot be read).
    pub fn render_counters(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// The gauges read from the database, in the text format.
pub fn render_db_gauges(db: &DbGauges) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP verdict_scheduler_queue_depth Work items due now that no scheduler holds."
    );
    let _ = writeln!(out, "# TYPE verdict_scheduler_queue_depth gauge");
    let _ = writeln!(out, "verdict_scheduler_queue_depth {}", db.queue_depth);
    let _ = writeln!(
        out,
        "# HELP verdict_experiment_running 1 while an experiment's fault is on (experiment = its id)."
    );
    let _ = writeln!(out, "# TYPE verdict_experiment_running gauge");
    for r in &db.running {
        let _ = writeln!(
            out,
            "verdict_experiment_running{{experiment=\"{}\",service=\"{}\",type=\"{}\"}} 1",
            r.id,
            escape(&r.service),
            r.fault_type
        );
    }
    out
}

/// Escapes a label value for the text format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FaultType;
    use uuid::Uuid;

    #[test]
    fn counters_render_with_their_labels_and_help() {
        let m = Metrics::new();
        m.http_request(
            "GET",
            "/api/v1/experiments/{id}",
            200,
            Duration::from_millis(3),
        );
        m.http_request(
            "GET",
            "/api/v1/experiments/{id}",
            200,
            Duration::from_millis(3),
        );
        m.verdict("pass");
        let text = m.render(&DbGauges::default());
        assert!(
            text.contains(
                "verdict_http_requests_total{method=\"GET\",route=\"/api/v1/experiments/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("verdict_verdicts_total{outcome=\"pass\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("# HELP verdict_verdicts_total Verdicts stored, by outcome."),
            "{text}"
        );
        assert!(
            text.contains("verdict_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/experiments/{id}\",le=\"0.005\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn two_servers_do_not_share_numbers() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.verdict("fail");
        assert!(!b.render(&DbGauges::default()).contains("outcome=\"fail\""));
    }

    #[test]
    fn running_experiments_are_one_series_each_with_escaped_labels() {
        let text = render_db_gauges(&DbGauges {
            queue_depth: 3,
            running: vec![RunningExperiment {
                id: Uuid::nil(),
                name: "kill the pod".into(),
                service: "check\"out".into(),
                fault_type: FaultType::PodKill,
            }],
        });
        assert!(text.contains("verdict_scheduler_queue_depth 3\n"), "{text}");
        assert!(
            text.contains(
                "verdict_experiment_running{experiment=\"00000000-0000-0000-0000-000000000000\",service=\"check\\\"out\",type=\"pod-kill\"} 1\n"
            ),
            "{text}"
        );
    }
}
