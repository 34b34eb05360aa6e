//! The evaluation report and its output formats.
//!
//! Owns [`Report`], the one result of `verdict evaluate` (the verdict, the
//! window, every SLO's and indicator's numbers, checks and series, every
//! query that was sent), and its renderers: [`json`] (the stable,
//! documented schema of docs/evaluation.md), [`text`] (a table for
//! terminals), [`junit`] (JUnit XML for CI test reports) and, through
//! tera templates ([`templates`], over the view model of [`view`]),
//! [`markdown`] (CI summaries, PR comments), [`html`] (a standalone page
//! with inline charts), [`slack`] (Block Kit JSON) and [`email`] (text and
//! HTML). [`charts`] says which charts a report gets; [`trend`] compares a
//! run with previous runs of the same experiment. See docs/reports.md.
//!
//! Renderers take a report (and optional [`ReportExtras`]) and return
//! text or bytes: they neither query nor send anything, and they do not
//! decide verdicts.

pub mod charts;
pub mod email;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sample;
pub mod slack;
pub mod templates;
pub mod text;
pub mod trend;
pub mod view;

#[cfg(test)]
mod render_tests;

use serde::{Deserialize, Serialize};

use crate::eval::policy::{Check, Outcome};
use crate::eval::slo::{SloEvaluation, WindowSet};

/// Version of the JSON schema; bumped on any incompatible change.
pub const SCHEMA: &str = "verdict.evaluate/v1";

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A template failed to load or render (names the file and line).
    #[error("{0}")]
    Template(#[from] templates::TemplateError),
    /// A chart could not be drawn.
    #[error("drawing a chart: {0}")]
    Chart(#[from] crate::chart::ChartError),
    /// Writing the XML failed.
    #[error("writing the JUnit XML: {0}")]
    Xml(String),
    /// Serializing the JSON failed.
    #[error("writing the JSON report: {0}")]
    Json(String),
}

/// The formats a stored report is rendered in (the report route,
/// `verdict report`, the demo's files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The standalone HTML page, charts inline.
    Html,
    /// The Markdown summary.
    Markdown,
    /// The report JSON, as `verdict evaluate --format json`.
    Json,
    /// JUnit XML (a warn is not a failure).
    Junit,
}

impl Format {
    /// Every format, in the order reports list them.
    pub const ALL: [Format; 4] = [Format::Html, Format::Markdown, Format::Json, Format::Junit];

    /// The name on the command line and in `?format=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Junit => "junit",
        }
    }
}

/// Renders `report` in `format`, with `extras` and `templates` where the
/// format uses them.
pub fn render_as(
    report: &Report,
    extras: &ReportExtras,
    templates: &templates::Templates,
    format: Format,
) -> Result<String, ReportError> {
    match format {
        Format::Html => html::render_html_with(report, extras, templates),
        Format::Markdown => markdown::render_markdown_with(report, extras, templates),
        Format::Json => json::render_json(report),
        Format::Junit => junit::render_junit(report, false),
    }
}

/// What an experiment is, when the caller knows it (the server does; the
/// CLI does not). Rendered at the top of the reports when present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentInfo {
    /// The experiment's id in the server.
    pub id: Option<String>,
    /// Its name; runs with the same name are compared in the trend.
    pub name: String,
    /// pod-kill, network-delay, cpu-stress, memory-stress, custom…
    pub kind: Option<String>,
    /// What was broken, e.g. `checkout in namespace shop (app=checkout)`.
    pub target: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Links to the chaos tool, dashboards, runbooks. Only `http(s)` URLs
    /// become links; anything else is shown as text.
    pub links: Vec<Link>,
}

/// A titled link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// What it points to.
    pub title: String,
    /// Where.
    pub url: String,
}

/// Everything a renderer may show besides the [`Report`] itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportExtras {
    /// The experiment, when known.
    pub experiment: Option<ExperimentInfo>,
    /// Earlier runs of the same experiment, for the trend section (any
    /// order; runs of other experiments and later runs are ignored).
    pub previous_runs: Vec<trend::RunSummary>,
    /// Where the HTML report can be opened (Slack button, email link).
    pub report_url: Option<String>,
    /// Where chart PNGs are served: Slack shows `<base>/<chart id>.png`.
    pub chart_base_url: Option<String>,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// Worst outcome of every check (report, SLOs, indicators).
    pub verdict: Outcome,
    /// Every non-pass reason, prefixed with the SLO or indicator it belongs to.
    pub reasons: Vec<String>,
    /// The single reading of the clock this report used, Unix seconds.
    pub evaluated_at: f64,
    /// The Prometheus base URL queried.
    pub prometheus: String,
    /// The experiment's instants and the range-query resolution.
    pub window: WindowReport,
    /// Checks about the report itself: Prometheus answered, the window is complete.
    pub checks: Vec<Check>,
    /// One entry per evaluated SLO.
    pub slos: Vec<SloReport>,
    /// One entry per evaluated indicator.
    pub indicators: Vec<IndicatorReport>,
    /// Every query sent (or not sent, and why).
    pub queries: Vec<QueryRecord>,
}

/// The experiment's instants, Unix seconds, and the range-query resolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// Experiment start as given.
    pub from: f64,
    /// Experiment end: end of the recovery observation.
    pub to: f64,
    /// Fault start.
    pub fault_start: f64,
    /// Fault end.
    pub fault_end: f64,
    /// Baseline start (the baseline ends at the fault start).
    pub baseline_start: f64,
    /// Step `s` of the range queries.
    pub step_seconds: f64,
    /// Rolling window `r` of `E_r`.
    pub rate_window_seconds: f64,
}

/// A number that could not be measured, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unavailable {
    /// Its JSON path within the SLO, e.g. `windows.fault.error_ratio`.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Which queries one window's numbers came from (ids into `queries`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowQueryIds {
    /// The error ratio's query.
    pub error_ratio: Option<usize>,
    /// The event count's query.
    pub events: Option<usize>,
}

/// Which queries an SLO's numbers came from (ids into `queries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloQueryIds {
    /// Per window.
    pub windows: WindowSet<WindowQueryIds>,
    /// `E_r(t)`.
    pub error_ratio_series: usize,
    /// `ALERTS`, when alerts are expected.
    pub alerts: Option<usize>,
}

/// One SLO's evaluation with its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloReport {
    /// `<service>-<name>`.
    pub id: String,
    /// Its service.
    pub service: String,
    /// Its name.
    pub name: String,
    /// Objective as a fraction (0.999).
    pub objective: f64,
    /// SLO period, seconds.
    pub period_seconds: f64,
    /// Its description from the spec (may be empty).
    pub description: String,
    /// `events`, `good/total`, `raw` or `latency`.
    pub sli: String,
    /// For a latency SLI, the threshold in seconds above which a request
    /// counts as an error.
    pub latency_threshold_seconds: Option<f64>,
    /// Numbers, checks, verdict and reasons (see docs/evaluation.md).
    #[serde(flatten)]
    pub evaluation: SloEvaluation,
    /// Numbers that could not be measured, with the reason.
    pub unavailable: Vec<Unavailable>,
    /// Where each number came from.
    pub queries: SloQueryIds,
    /// `E_r(t)` as `(t, value)` samples over `[baseline_start, to]`, as
    /// Prometheus returned them (NaN serializes as `null`); empty when the
    /// series is unavailable (`recovery.reason` says why). Charts are drawn
    /// from it.
    #[serde(deserialize_with = "nan_series")]
    pub error_ratio_series: Vec<(f64, f64)>,
}

/// How many per-step samples of an indicator fell in each window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleCounts {
    /// In `[baseline_start, fault_start)`.
    pub baseline: usize,
    /// In `[fault_start, fault_end)`.
    pub fault: usize,
}

/// One indicator's evaluation with its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorReport {
    /// Its service.
    pub service: String,
    /// Its name.
    pub name: String,
    /// Its description from the spec.
    pub description: String,
    /// Its check's outcome.
    pub verdict: Outcome,
    /// Mean of the samples in the fault window.
    pub value: crate::eval::Measure<f64>,
    /// Mean of the samples in the baseline window.
    pub baseline: crate::eval::Measure<f64>,
    /// `(value − baseline) / |baseline|`.
    pub change: crate::eval::Measure<f64>,
    /// Samples per window.
    pub samples: SampleCounts,
    /// Mann–Whitney U and Hodges–Lehmann on the per-step samples.
    pub comparison: Option<crate::eval::stats::Comparison>,
    /// What the criteria decided.
    pub criteria: crate::eval::criteria::CriteriaResult,
    /// The judged check, named `indicators[<name>]`.
    pub check: Check,
    /// Why the value or baseline is missing, when it is.
    pub unavailable: Vec<Unavailable>,
    /// Its range query (id into `queries`).
    pub query: usize,
    /// The range query's samples as `(t, value)` over `[baseline_start, to]`;
    /// empty when the query gave no single series. Charts are drawn from it.
    #[serde(deserialize_with = "nan_series")]
    pub series: Vec<(f64, f64)>,
}

/// Reads `(t, value)` samples whose NaN values were serialized as `null`.
fn nan_series<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
    let raw = Vec::<(f64, Option<f64>)>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(t, v)| (t, v.unwrap_or(f64::NAN)))
        .collect())
}

/// What happened to one planned query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// Prometheus answered (possibly with warnings).
    Ok,
    /// Prometheus failed after retries, or could not be reached.
    Failed,
    /// Not sent: the window it covers had not ended at evaluation time.
    Skipped,
}

/// One query of the report: resolved PromQL, time or range, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// Index in `queries`, referenced from SLOs and indicators.
    pub id: usize,
    /// `instant` or `range`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The PromQL sent.
    pub promql: String,
    /// Evaluation time of an instant query, Unix seconds.
    pub time: Option<f64>,
    /// Start of a range query.
    pub start: Option<f64>,
    /// End of a range query.
    pub end: Option<f64>,
    /// Step of a range query, seconds.
    pub step: Option<f64>,
    /// What the verdict used it for.
    pub purposes: Vec<String>,
    /// See [`QueryStatus`].
    pub status: QueryStatus,
    /// The error (failed) or the reason it was not sent (skipped).
    pub error: Option<String>,
    /// Prometheus warnings and infos.
    pub warnings: Vec<String>,
    /// Series in the answer.
    pub series: Option<usize>,
    /// Wall time of the request(s), retries included.
    pub duration_seconds: f64,
}

impl Report {
    /// The query with this id.
    pub fn query(&self, id: usize) -> Option<&QueryRecord> {
        self.queries.get(id).filter(|q| q.id == id)
    }

    /// Checks counted by outcome: (pass, warn, inconclusive, fail), over
    /// the report's, the SLOs' and the indicators' checks.
    pub fn check_counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        let all = self
            .checks
            .iter()
            .chain(self.slos.iter().flat_map(|s| s.evaluation.checks.iter()))
            .chain(self.indicators.iter().map(|i| &i.check));
        for c in all {
            counts[c.outcome as usize] += 1;
        }
        counts
    }
}

impl SloReport {
    /// The queries a check of this SLO judged, by check name: `min_events`
    /// reads the fault window's events, `max_budget_consumed` the
    /// experiment's error ratio, recovery and peak checks `E_r`, alert
    /// checks `ALERTS`.
    pub fn check_queries(&self, check: &str) -> Vec<usize> {
        let q = &self.queries;
        let ids = match check {
            "min_events" => vec![q.windows.fault.events],
            "max_budget_consumed" => vec![q.windows.experiment.error_ratio],
            "max_time_to_recover" | "max_peak_burn_rate" => vec![Some(q.error_ratio_series)],
            "max_time_to_detect" => vec![q.alerts],
            name if name.starts_with("expect_alerts[") => vec![q.alerts],
            _ => Vec::new(),
        };
        ids.into_iter().flatten().collect()
    }
}

/// Collapses whitespace (newlines of multi-line PromQL) for one-line displays.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An objective as written in specs: 0.999 → "99.9%", 0.99 → "99%",
/// 0.99995 → "99.995%" (every digit kept, unlike rounded percentages).
pub fn format_objective(fraction: f64) -> String {
    let percent = (fraction * 100.0 * 1e9).round() / 1e9;
    format!("{percent}%")
}

#[cfg(test)]
mod round_trip_tests {
    use super::sample::{SampleVerdict, sample_report};
    use super::*;

    #[test]
    fn a_serialized_report_reads_back_to_the_same_json() {
        for kind in [
            SampleVerdict::Pass,
            SampleVerdict::Fail,
            SampleVerdict::Inconclusive,
        ] {
            let report = sample_report(kind, 3);
            let stored = json::render_json(&report).expect("json");
            let back: Report = serde_json::from_str(&stored).expect("deserialize");
            let again = json::render_json(&back).expect("json again");
            assert_eq!(again, stored);
            assert_eq!(back.verdict, report.verdict);
            assert_eq!(back.slos.len(), 3);
        }
    }
}
