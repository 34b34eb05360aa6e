//! The view model every report template renders: the report's numbers as
//! display strings, in the order people read them.
//!
//! Owns [`ReportView`] and [`build_view`]: the verdict and why, the
//! experiment and its window, per SLO the key numbers (SLI before, during
//! and after the fault, budget consumed, peak burn, TTR, TTD against the
//! predicted page alert) with its checks and chart, the indicators, the
//! trend against previous runs, and the queries. Every value is a string
//! formatted here, so templates only lay things out and each format
//! escapes the same text its own way. The fields are documented in
//! docs/reports.md: they are what user templates can use.
//!
//! Pure: no I/O, no drawing (charts arrive already rendered, as sources
//! for `<img src>`), no decisions.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::charts::ChartSubject;
use super::trend::{RunSummary, TrendOptions, compare_runs};
use super::{QueryStatus, Report, ReportExtras, SloReport};
use crate::eval::Measure;
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::eval::policy::{Check, Outcome};
use crate::eval::recovery::Impact;

/// A chart as a template shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartView {
    /// Stable id (`slo-checkout-availability`, `burn-rate`, …).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Text alternative.
    pub alt: String,
    /// What `<img src>` takes: a `data:` URI, a `cid:` reference or a URL.
    pub src: String,
    /// The same chart drawn for narrow screens (phones), or empty.
    pub src_small: String,
    /// Intrinsic width, pixels.
    pub width: u32,
    /// Intrinsic height, pixels.
    pub height: u32,
}

/// A chart already rendered, with the subject it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedChart {
    /// What it shows (decides where the view puts it).
    pub subject: ChartSubject,
    /// The chart as templates see it.
    pub view: ChartView,
}

/// Checks counted by outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    /// Passed checks.
    pub pass: usize,
    /// Warnings.
    pub warn: usize,
    /// Inconclusive checks.
    pub inconclusive: usize,
    /// Failed checks.
    pub fail: usize,
    /// All checks.
    pub total: usize,
}

/// The experiment, when known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentView {
    /// Server id, or empty.
    pub id: String,
    /// Name.
    pub name: String,
    /// Type (pod-kill…), or empty.
    pub kind: String,
    /// Target, or empty.
    pub target: String,
    /// Description, or empty.
    pub description: String,
    /// Links.
    pub links: Vec<LinkView>,
}

/// A link; `url` is empty unless it is `http://` or `https://` (anything
/// else, like `javascript:`, is shown as text only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkView {
    /// Title.
    pub title: String,
    /// A safe URL, or empty.
    pub url: String,
    /// The URL as given, for display.
    pub text: String,
}

/// The experiment's windows as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowView {
    /// Day of the fault start, `2026-01-01`.
    pub date: String,
    /// `2026-01-01T10:05:00Z`.
    pub fault_start: String,
    /// `2026-01-01T10:07:00Z`.
    pub fault_end: String,
    /// `2m`.
    pub fault_length: String,
    /// `10:05:00–10:07:00 UTC`.
    pub fault: String,
    /// `10:00:00–10:05:00 UTC`.
    pub baseline: String,
    /// `5m`.
    pub baseline_length: String,
    /// `2026-01-01T10:00:00Z`.
    pub baseline_start: String,
    /// `10:07:00–10:17:00 UTC`, or empty when the fault lasted to the end.
    pub recovery: String,
    /// `10m`, or empty.
    pub recovery_length: String,
    /// `--from`, RFC 3339.
    pub from: String,
    /// `--to`, RFC 3339.
    pub to: String,
    /// Range-query step, `15s`.
    pub step: String,
    /// Rolling window of `E_r`, `1m`.
    pub rate_window: String,
    /// `± (s + r)`, `1m15s`.
    pub uncertainty: String,
}

/// One reason of a non-pass check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonView {
    /// The check's outcome.
    pub outcome: &'static str,
    /// ✅ ⚠️ ❔ ❌
    pub icon: &'static str,
    /// The SLO id or `service/indicator`; empty for report-level checks.
    pub subject: String,
    /// The check's name, e.g. `max_time_to_recover`.
    pub check: String,
    /// The reason; queries in it are quoted with backticks (use `rich`).
    pub text: String,
}

/// A check as a table row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckView {
    /// Its name.
    pub name: String,
    /// pass, warn, inconclusive, fail.
    pub outcome: &'static str,
    /// ✅ ⚠️ ❔ ❌
    pub icon: &'static str,
    /// The judged number, formatted for its kind, or `—`.
    pub measured: String,
    /// The limit as text, or empty.
    pub threshold: String,
    /// Why, or empty.
    pub reason: String,
}

/// One expected alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// The alert name.
    pub name: String,
    /// `fired`, `not fired` or `unknown`.
    pub state: &'static str,
    /// `after 30s`, `already firing before the fault`, or the reason it is unknown.
    pub detail: String,
}

/// A value per window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerWindow {
    /// Before the fault.
    pub baseline: String,
    /// During the fault.
    pub fault: String,
    /// After the fault.
    pub recovery: String,
    /// Fault and recovery.
    pub experiment: String,
}

/// Per window, whether an SLI was below its objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BelowObjective {
    /// Before the fault.
    pub baseline: bool,
    /// During the fault.
    pub fault: bool,
    /// After the fault.
    pub recovery: bool,
}

/// The outcome of the check judging each key number, or empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyOutcomes {
    /// `max_budget_consumed`.
    pub budget: &'static str,
    /// `max_time_to_recover`.
    pub ttr: &'static str,
    /// `max_time_to_detect` and `expect_alerts[…]` (the worst).
    pub ttd: &'static str,
    /// `max_peak_burn_rate`.
    pub peak_burn: &'static str,
}

/// One SLO: its key numbers, checks and chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloView {
    /// `<service>-<name>`.
    pub id: String,
    /// Service.
    pub service: String,
    /// Name.
    pub name: String,
    /// Description, or empty.
    pub description: String,
    /// `events`, `good/total`, `raw`, `latency`.
    pub sli_kind: String,
    /// What an error is: `errors / requests`, `requests slower than 300ms`.
    pub sli_meaning: String,
    /// `99.9%`.
    pub objective: String,
    /// Error budget, `0.1%`.
    pub budget: String,
    /// SLO period, `30d`.
    pub period: String,
    /// pass, warn, inconclusive, fail.
    pub verdict: &'static str,
    /// ✅ ⚠️ ❔ ❌
    pub icon: &'static str,
    /// SLI per window (`99.95%`), shown with enough digits to compare
    /// with the objective, never rounded up to it.
    pub sli: PerWindow,
    /// Per window, whether the SLI was below the objective (the window
    /// burned budget faster than the SLO allows on average).
    pub sli_below: BelowObjective,
    /// Error ratio per window (`0.05%`).
    pub error_ratio: PerWindow,
    /// Events per window.
    pub events: PerWindow,
    /// Bad events per window.
    pub bad_events: PerWindow,
    /// Budget consumed by the fault window, `0.93%`.
    pub budget_fault: String,
    /// Budget consumed by the experiment (fault + recovery).
    pub budget_experiment: String,
    /// The `max_budget_consumed` limit, or empty.
    pub budget_limit: String,
    /// Burn rate over the fault window, `200×`.
    pub burn_average: String,
    /// Peak burn rate, `200×`.
    pub peak_burn: String,
    /// When the peak was reached, `10:06:00`, or empty.
    pub peak_at: String,
    /// Time to impact: `15s` (after the fault started), `none`, `unknown`.
    pub impact: String,
    /// `1m`, `not recovered`, `undecided`, `—`.
    pub ttr: String,
    /// `± 1m15s, 3m after the fault started`, or why there is no TTR.
    pub ttr_detail: String,
    /// First expected alert firing after the fault start, `30s`; `—` when
    /// no alert is expected; `did not fire`; `unknown`.
    pub ttd: String,
    /// Whether the SLO expects alerts (`expect_alerts`).
    pub alerts_expected: bool,
    /// When the page alert should have fired, `45s (5m/1h at 14.4×)`, or
    /// `not expected to fire`.
    pub ttd_predicted: String,
    /// Just the predicted time, `45s`, or empty when not expected to fire.
    pub ttd_due: String,
    /// One sentence comparing both.
    pub detection: String,
    /// The expected alerts.
    pub alerts: Vec<AlertView>,
    /// Every check.
    pub checks: Vec<CheckView>,
    /// Outcome of the check behind each key number (`fail`, `warn`, …),
    /// or empty when no check judges it.
    pub outcomes: KeyOutcomes,
    /// Reasons of the non-pass checks.
    pub reasons: Vec<String>,
    /// Remarks that did not change the verdict.
    pub notes: Vec<String>,
    /// Its error-ratio chart, when charts were rendered.
    pub chart: Option<ChartView>,
    /// Rows for a compact table (Markdown): fault error ratio, events, bad events.
    pub error_ratio_fault: String,
    /// Fault window events.
    pub events_fault: String,
    /// Fault window bad events.
    pub bad_fault: String,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorView {
    /// `<service>/<name>`.
    pub name: String,
    /// Description, or empty.
    pub description: String,
    /// pass, warn, inconclusive, fail.
    pub verdict: &'static str,
    /// ✅ ⚠️ ❔ ❌
    pub icon: &'static str,
    /// Mean during the fault.
    pub value: String,
    /// Mean during the baseline.
    pub baseline: String,
    /// Relative change, `+10%`.
    pub change: String,
    /// The deciding criterion, `<=+20%`, or `—`.
    pub criterion: String,
    /// The check's reason, or empty.
    pub reason: String,
    /// Mann–Whitney / Hodges–Lehmann, in words.
    pub comparison: String,
    /// `20 baseline / 8 fault`.
    pub samples: String,
    /// Its chart, when charts were rendered.
    pub chart: Option<ChartView>,
}

/// One query sent (or not).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryView {
    /// Its id in the JSON report.
    pub id: usize,
    /// `instant` or `range`.
    pub kind: String,
    /// The PromQL as sent.
    pub promql: String,
    /// `at 10:07:00` or `10:00:00–10:17:00 every 15s`.
    pub when: String,
    /// `ok`, `failed`, `skipped`.
    pub status: &'static str,
    /// The error or skip reason, or empty.
    pub error: String,
    /// What it was for, joined with `; `.
    pub purposes: String,
    /// Series returned, or empty.
    pub series: String,
    /// Wall time, `12ms`.
    pub duration: String,
}

/// Queries counted by status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryCounts {
    /// All.
    pub total: usize,
    /// Answered.
    pub ok: usize,
    /// Failed.
    pub failed: usize,
    /// Not sent.
    pub skipped: usize,
}

/// One line of the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendLine {
    /// The SLO.
    pub slo: String,
    /// TTR, TTD, budget consumed, peak burn.
    pub metric: &'static str,
    /// regressed, improved, unchanged, no history.
    pub direction: &'static str,
    /// ⬆️ (worse), ⬇️ (better), ➖, or empty.
    pub icon: &'static str,
    /// "TTR 45s, previous 5 runs 12–15s: regressed".
    pub sentence: String,
}

/// The comparison with previous runs of the same experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendView {
    /// How many runs were compared.
    pub runs: usize,
    /// "verdict fail, previous 5 runs: 5 pass".
    pub verdicts: String,
    /// How many numbers regressed.
    pub regressions: usize,
    /// Every number measured by this run and a previous one.
    pub lines: Vec<TrendLine>,
}

/// Everything a report template can show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportView {
    /// The JSON schema of the underlying report.
    pub schema: String,
    /// `verdict <version>`.
    pub generator: String,
    /// The experiment's name, or "Experiment report".
    pub title: String,
    /// pass, warn, inconclusive, fail.
    pub verdict: &'static str,
    /// PASS, WARN, INCONCLUSIVE, FAIL.
    pub verdict_upper: String,
    /// ✅ ⚠️ ❔ ❌
    pub icon: &'static str,
    /// One sentence: why this verdict.
    pub headline: String,
    /// One sentence about the whole experiment, for people: the SLOs and
    /// indicators that did not pass with the number that decided it, then
    /// what held. `All 6 SLOs held; inventory/p99-latency rose +1280%
    /// against <=+20% (warning); 5 other indicators within their criteria.`
    pub summary: String,
    /// Checks by outcome.
    pub counts: Counts,
    /// The experiment, when known.
    pub experiment: Option<ExperimentView>,
    /// The windows.
    pub window: WindowView,
    /// Every non-pass reason, worst first.
    pub reasons: Vec<ReasonView>,
    /// Remarks of all SLOs, once each.
    pub notes: Vec<String>,
    /// Per SLO.
    pub slos: Vec<SloView>,
    /// Per indicator.
    pub indicators: Vec<IndicatorView>,
    /// Charts not tied to one SLO or indicator (the burn-rate chart).
    pub charts: Vec<ChartView>,
    /// The comparison with previous runs, when there were any.
    pub trend: Option<TrendView>,
    /// Every query.
    pub queries: Vec<QueryView>,
    /// Queries by status.
    pub query_counts: QueryCounts,
    /// The Prometheus queried.
    pub prometheus: String,
    /// When the evaluation ran, `2026-01-01 11:00:00 UTC`.
    pub evaluated_at: String,
    /// Where the HTML report lives, or empty.
    pub report_url: String,
}

/// The emoji shown for an outcome.
pub fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✅",
        Outcome::Warn => "⚠️",
        Outcome::Inconclusive => "❔",
        Outcome::Fail => "❌",
    }
}

const DASH: &str = "—";

fn num(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| DASH.to_owned(), format_number)
}

fn pct(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| DASH.to_owned(), format_percent)
}

fn factor(v: f64) -> String {
    format!("{}×", format_number(v))
}

/// An SLI as a percentage with one more decimal than the objective has
/// (at least two), truncated so it never rounds up to the objective.
pub fn format_sli(sli: f64, objective: f64) -> String {
    let objective_text = super::format_objective(objective);
    let objective_decimals = objective_text
        .trim_end_matches('%')
        .split_once('.')
        .map_or(0, |(_, d)| d.len());
    let decimals = (objective_decimals + 1).clamp(2, 6) as i32;
    let scale = 10f64.powi(decimals);
    let truncated = ((sli * 100.0) * scale + 1e-7).floor() / scale;
    format!("{truncated:.*}%", decimals as usize)
}

fn sli(m: &Measure<f64>, objective: f64) -> String {
    m.get()
        .map_or_else(|| DASH.to_owned(), |v| format_sli(v, objective))
}

/// `10:05:00` in UTC.
pub fn clock(t: f64) -> String {
    DateTime::<Utc>::from_timestamp(t.floor() as i64, 0)
        .map_or_else(|| format!("{t}"), |d| d.format("%H:%M:%S").to_string())
}

/// `2026-01-01 10:05:00 UTC`.
pub fn human_time(t: f64) -> String {
    DateTime::<Utc>::from_timestamp(t.floor() as i64, 0).map_or_else(
        || format!("{t}"),
        |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn date(t: f64) -> String {
    DateTime::<Utc>::from_timestamp(t.floor() as i64, 0)
        .map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

fn span(a: f64, b: f64) -> String {
    if date(a) == date(b) {
        format!("{}–{} UTC", clock(a), clock(b))
    } else {
        format!("{} – {}", human_time(a), human_time(b))
    }
}

/// A check's measured number, formatted for what the check judges.
fn measured(check: &Check) -> String {
    let Some(v) = check.measured else {
        return DASH.to_owned();
    };
    match check.name.as_str() {
        "max_budget_consumed" => format_percent(v),
        "max_time_to_recover" | "max_time_to_detect" => {
            if v.is_infinite() {
                "never".to_owned()
            } else {
                format_seconds(v)
            }
        }
        "max_peak_burn_rate" => factor(v),
        "window_complete" => human_time(v),
        name if name.starts_with("expect_alerts[") => format_seconds(v),
        _ => format_number(v),
    }
}

fn check_view(c: &Check) -> CheckView {
    CheckView {
        name: c.name.clone(),
        outcome: c.outcome.as_str(),
        icon: icon(c.outcome),
        measured: measured(c),
        threshold: c.threshold.clone().unwrap_or_default(),
        reason: c.reason.clone().unwrap_or_default(),
    }
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url
            .trim()
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
}

/// `url` when it is an `http(s)` URL, with the characters that could end
/// a link in Markdown, Slack or an HTML attribute percent-encoded;
/// otherwise empty.
fn link_url(url: &str) -> String {
    if !safe_url(url) {
        return String::new();
    }
    let mut out = String::new();
    for c in url.trim().chars() {
        match c {
            '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']' | '|' | '`' | '{' | '}' | '\\' | '^' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn per_window(s: &SloReport, f: impl Fn(&crate::eval::window::WindowStats) -> String) -> PerWindow {
    let w = &s.evaluation.windows;
    PerWindow {
        baseline: f(&w.baseline),
        fault: f(&w.fault),
        recovery: f(&w.recovery),
        experiment: f(&w.experiment),
    }
}

fn slo_view(report: &Report, s: &SloReport, chart: Option<ChartView>) -> SloView {
    let e = &s.evaluation;
    let r = &e.recovery;
    let d = &e.detection;
    let uncertainty = format_seconds(r.uncertainty_seconds);
    let impact = match (r.impact, r.time_to_impact_seconds) {
        (Impact::Impacted, Some(t)) => format_seconds(t),
        (Impact::Impacted, None) => "impacted".to_owned(),
        (Impact::None, _) => "none".to_owned(),
        (Impact::Unknown, _) => "unknown".to_owned(),
    };
    let (ttr, ttr_detail) = match (r.recovered, r.time_to_recover_seconds) {
        (Some(true), Some(t)) if r.impact == Impact::None => (
            format_seconds(t),
            "no impact: the SLI stayed within the objective".to_owned(),
        ),
        (Some(true), Some(t)) => (
            format_seconds(t),
            match r.time_to_recover_from_fault_start_seconds {
                Some(from_start) => format!(
                    "± {uncertainty}, {} after the fault started",
                    format_seconds(from_start)
                ),
                None => format!("± {uncertainty}"),
            },
        ),
        (Some(false), _) => (
            "not recovered".to_owned(),
            r.reason.clone().unwrap_or_default(),
        ),
        (None, _) => ("undecided".to_owned(), r.reason.clone().unwrap_or_default()),
        (Some(true), None) => (DASH.to_owned(), r.reason.clone().unwrap_or_default()),
    };
    let ttd = match d.time_to_detect_seconds {
        Some(t) => format_seconds(t),
        None if d.expected_alerts.is_empty() => DASH.to_owned(),
        None if !d.unknown.is_empty() && d.fired.is_empty() => "unknown".to_owned(),
        None => "did not fire".to_owned(),
    };
    let ttd_predicted = match (d.predicted_time_to_detect_seconds, &d.predicted_window) {
        (Some(t), Some(w)) => format!(
            "{} ({}/{} at {})",
            format_seconds(t),
            format_seconds(w.short_seconds),
            format_seconds(w.long_seconds),
            factor(w.factor)
        ),
        (Some(t), None) => format_seconds(t),
        (None, _) => "not expected to fire".to_owned(),
    };
    let detection = match (d.time_to_detect_seconds, d.predicted_time_to_detect_seconds) {
        (Some(t), Some(p)) if t > p + report.window.step_seconds => format!(
            "alerted after {}, later than the {} the page alert predicts",
            format_seconds(t),
            format_seconds(p)
        ),
        (Some(t), Some(p)) => format!(
            "alerted after {} (page alert predicted after {})",
            format_seconds(t),
            format_seconds(p)
        ),
        (Some(t), None) => format!(
            "alerted after {}; the page alert was not expected to fire",
            format_seconds(t)
        ),
        (None, Some(p)) if !d.expected_alerts.is_empty() => format!(
            "no expected alert fired; the page alert should have fired after {}",
            format_seconds(p)
        ),
        (None, Some(p)) => format!(
            "no alert expected; the page alert should have fired after {}",
            format_seconds(p)
        ),
        (None, None) if !d.expected_alerts.is_empty() => {
            "no expected alert fired; the page alert was not expected to fire either".to_owned()
        }
        (None, None) => "no alert expected, and the page alert was not expected to fire".to_owned(),
    };
    let mut alerts: Vec<AlertView> = d
        .fired
        .iter()
        .map(|f| AlertView {
            name: f.name.clone(),
            state: "fired",
            detail: if f.firing_before_fault {
                "already firing before the fault".to_owned()
            } else {
                format!("after {}", format_seconds(f.time_to_detect_seconds))
            },
        })
        .collect();
    alerts.extend(d.not_fired.iter().map(|n| AlertView {
        name: n.clone(),
        state: "not fired",
        detail: String::new(),
    }));
    alerts.extend(d.unknown.iter().map(|u| AlertView {
        name: u.name.clone(),
        state: "unknown",
        detail: u.reason.clone(),
    }));
    let sli_meaning = match (s.sli.as_str(), s.latency_threshold_seconds) {
        (_, Some(t)) => format!(
            "requests slower than {} are errors",
            super::charts::latency_text(t)
        ),
        ("raw", _) => "the raw error-ratio query".to_owned(),
        ("good/total", _) => "1 − good / total events".to_owned(),
        _ => "errors / requests".to_owned(),
    };
    let budget_limit = e
        .checks
        .iter()
        .find(|c| c.name == "max_budget_consumed")
        .and_then(|c| c.threshold.clone())
        .unwrap_or_default();
    SloView {
        id: s.id.clone(),
        service: s.service.clone(),
        name: s.name.clone(),
        description: s.description.trim().to_owned(),
        sli_kind: s.sli.to_owned(),
        sli_meaning,
        objective: super::format_objective(s.objective),
        budget: format_percent(1.0 - s.objective),
        period: period_text(s.period_seconds),
        verdict: e.verdict.as_str(),
        icon: icon(e.verdict),
        sli: per_window(s, |w| sli(&w.sli, s.objective)),
        sli_below: {
            let below =
                |w: &crate::eval::window::WindowStats| w.sli.get().is_some_and(|v| v < s.objective);
            BelowObjective {
                baseline: below(&e.windows.baseline),
                fault: below(&e.windows.fault),
                recovery: below(&e.windows.recovery),
            }
        },
        error_ratio: per_window(s, |w| pct(&w.error_ratio)),
        events: per_window(s, |w| num(&w.total_events)),
        bad_events: per_window(s, |w| num(&w.bad_events)),
        budget_fault: pct(&e.budget_consumed.fault),
        budget_experiment: pct(&e.budget_consumed.experiment),
        budget_limit,
        burn_average: e
            .burn_rate
            .average
            .get()
            .map_or_else(|| DASH.to_owned(), factor),
        peak_burn: e
            .burn_rate
            .peak
            .get()
            .map_or_else(|| DASH.to_owned(), factor),
        peak_at: e.burn_rate.peak_at.map(clock).unwrap_or_default(),
        impact,
        ttr,
        ttr_detail,
        ttd,
        alerts_expected: !d.expected_alerts.is_empty(),
        ttd_predicted,
        ttd_due: d
            .predicted_time_to_detect_seconds
            .map(format_seconds)
            .unwrap_or_default(),
        detection,
        alerts,
        checks: e.checks.iter().map(check_view).collect(),
        outcomes: KeyOutcomes {
            budget: outcome_of(&e.checks, |n| n == "max_budget_consumed"),
            ttr: outcome_of(&e.checks, |n| n == "max_time_to_recover"),
            ttd: outcome_of(&e.checks, |n| {
                n == "max_time_to_detect" || n.starts_with("expect_alerts[")
            }),
            peak_burn: outcome_of(&e.checks, |n| n == "max_peak_burn_rate"),
        },
        reasons: e.reasons.clone(),
        notes: e.notes.clone(),
        chart,
        error_ratio_fault: pct(&e.windows.fault.error_ratio),
        events_fault: num(&e.windows.fault.total_events),
        bad_fault: num(&e.windows.fault.bad_events),
    }
}

/// The worst outcome of the checks whose name matches, or empty.
fn outcome_of(checks: &[Check], name: impl Fn(&str) -> bool) -> &'static str {
    checks
        .iter()
        .filter(|c| name(&c.name))
        .map(|c| c.outcome)
        .max()
        .map_or("", Outcome::as_str)
}

fn period_text(seconds: f64) -> String {
    let days = seconds / 86_400.0;
    if days >= 1.0 && days.fract() == 0.0 {
        format!("{days}d")
    } else {
        format_seconds(seconds)
    }
}

fn comparison_text(c: &Option<crate::eval::stats::Comparison>) -> String {
    use crate::eval::stats::Comparison;
    match c {
        None => String::new(),
        Some(Comparison::NotComputed { reason, .. }) => format!("not compared: {reason}"),
        Some(Comparison::Computed {
            p_value,
            shift,
            significant,
            ..
        }) => {
            let shift = format!(
                "{}{}",
                if *shift >= 0.0 { "+" } else { "" },
                format_number(*shift)
            );
            let p = if *p_value < 0.001 {
                "p < 0.001".to_owned()
            } else {
                format!("p = {}", format_number(*p_value))
            };
            if *significant {
                format!("significant shift {shift} ({p})")
            } else if *p_value < 0.02 {
                format!("shift {shift} ({p}), within tolerance")
            } else {
                format!("no significant shift ({p})")
            }
        }
    }
}

fn headline(report: &Report, counts: &Counts, reasons: &[ReasonView]) -> String {
    let slos = report.slos.len();
    let what = match (slos, report.indicators.len()) {
        (0, 0) => "nothing was evaluated".to_owned(),
        (s, 0) => format!("{s} SLO{}", plural(s)),
        (0, i) => format!("{i} indicator{}", plural(i)),
        (s, i) => format!("{s} SLO{} and {i} indicator{}", plural(s), plural(i)),
    };
    match report.verdict {
        Outcome::Pass => format!("All {} checks passed across {what}.", counts.total),
        _ => {
            let first = reasons.first().map_or_else(String::new, |r| {
                let subject = if r.subject.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", r.subject)
                };
                format!("{subject}{}", r.text)
            });
            let more = reasons.len().saturating_sub(1);
            if more > 0 {
                format!("{first} (and {more} more)")
            } else {
                first
            }
        }
    }
}

/// What a non-pass check of an SLO was about, and its number (`None`
/// when it was not measured): `time to recover`, `5m`.
fn check_phrase(slo: &SloView, c: &CheckView) -> (String, Option<String>) {
    let with = |label: &str, value: &str| {
        let value = (!value.is_empty() && value != DASH).then(|| value.to_owned());
        (label.to_owned(), value)
    };
    match c.name.as_str() {
        "max_time_to_recover" => with("time to recover", &slo.ttr),
        "max_budget_consumed" => with("budget consumed", &slo.budget_experiment),
        "max_peak_burn_rate" => with("peak burn", &slo.peak_burn),
        "max_time_to_detect" => with("time to detect", &slo.ttd),
        "min_events" => with("events", &c.measured),
        name => match name
            .strip_prefix("expect_alerts[")
            .and_then(|n| n.strip_suffix(']'))
        {
            Some(alert) => with(&format!("alert {alert}"), &slo.ttd),
            None => with(name, &c.measured),
        },
    }
}

/// The severity rank of an outcome name: fail first, pass last.
fn severity(outcome: &str) -> u8 {
    match outcome {
        "fail" => 0,
        "inconclusive" => 1,
        "warn" => 2,
        _ => 3,
    }
}

/// [`ReportView::summary`].
fn summary(report: &Report, slos: &[SloView], indicators: &[IndicatorView]) -> String {
    let mut parts: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| {
            c.reason
                .clone()
                .unwrap_or_else(|| format!("{} {}", c.name, c.outcome.as_str()))
        })
        .collect();

    let mut bad_slos: Vec<&SloView> = slos.iter().filter(|s| s.verdict != "pass").collect();
    bad_slos.sort_by_key(|s| severity(s.verdict));
    for s in &bad_slos {
        // Worst outcome first: "failed on time to recover (5m), warned on
        // budget consumed (2.7%)".
        let groups: Vec<String> = [
            ("fail", "failed on"),
            ("inconclusive", "could not be judged on"),
            ("warn", "warned on"),
        ]
        .iter()
        .filter_map(|(outcome, verb)| {
            let phrases: Vec<(String, Option<String>)> = s
                .checks
                .iter()
                .filter(|c| c.outcome == *outcome)
                .map(|c| check_phrase(s, c))
                .collect();
            // `time to recover (5m), budget consumed (2.7%)`; the numbers
            // not measured once at the end: `events and budget consumed
            // (not measured)`.
            let mut what: Vec<String> = phrases
                .iter()
                .filter_map(|(label, value)| value.as_ref().map(|v| format!("{label} ({v})")))
                .collect();
            let unmeasured: Vec<&str> = phrases
                .iter()
                .filter(|(_, value)| value.is_none())
                .map(|(label, _)| label.as_str())
                .collect();
            if !unmeasured.is_empty() {
                what.push(format!("{} (not measured)", unmeasured.join(" and ")));
            }
            (!what.is_empty()).then(|| format!("{verb} {}", what.join(", ")))
        })
        .collect();
        parts.push(if groups.is_empty() {
            format!("{} did not pass", s.id)
        } else {
            format!("{} {}", s.id, groups.join(", "))
        });
    }
    let held = slos.len() - bad_slos.len();
    if held > 0 {
        parts.push(match (bad_slos.is_empty(), held) {
            (true, 1) => "The SLO held".to_owned(),
            (true, n) => format!("All {n} SLOs held"),
            (false, n) => format!("{n} other SLO{} held", plural(n)),
        });
    }

    let mut bad_indicators: Vec<&IndicatorView> =
        indicators.iter().filter(|i| i.verdict != "pass").collect();
    bad_indicators.sort_by_key(|i| severity(i.verdict));
    for i in &bad_indicators {
        let word = match i.verdict {
            "fail" => "fail",
            "warn" => "warning",
            _ => "inconclusive",
        };
        let against = if i.criterion == DASH {
            String::new()
        } else {
            format!(" against {}", i.criterion)
        };
        parts.push(if let Some(fall) = i.change.strip_prefix('-') {
            format!("{} fell {fall}{against} ({word})", i.name)
        } else if i.change != DASH {
            format!("{} rose {}{against} ({word})", i.name, i.change)
        } else if i.value != DASH {
            format!("{} was {}{against} ({word})", i.name, i.value)
        } else {
            format!("{} could not be measured ({word})", i.name)
        });
    }
    let within = indicators.len() - bad_indicators.len();
    if within > 0 {
        parts.push(match (bad_indicators.is_empty(), within) {
            (true, 1) => "the indicator within its criteria".to_owned(),
            (true, 2) => "both indicators within their criteria".to_owned(),
            (true, n) => format!("all {n} indicators within their criteria"),
            (false, n) => format!(
                "{n} other indicator{} within {} criteria",
                plural(n),
                if n == 1 { "its" } else { "their" }
            ),
        });
    }
    if parts.is_empty() {
        return "Nothing was evaluated.".to_owned();
    }
    let mut text = parts.join("; ");
    if ["the indicator", "both ", "all "]
        .iter()
        .any(|start| text.starts_with(start))
    {
        text.replace_range(..1, &text[..1].to_uppercase());
    }
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The view of `report` with its extras and already rendered charts.
pub fn build_view(report: &Report, extras: &ReportExtras, charts: &[RenderedChart]) -> ReportView {
    let [pass, warn, inconclusive, fail] = report.check_counts();
    let counts = Counts {
        pass,
        warn,
        inconclusive,
        fail,
        total: pass + warn + inconclusive + fail,
    };
    let w = &report.window;
    let chart_for = |subject: &ChartSubject| {
        charts
            .iter()
            .find(|c| &c.subject == subject)
            .map(|c| c.view.clone())
    };

    let mut reasons: Vec<ReasonView> = Vec::new();
    let mut push = |subject: String, c: &Check| {
        if let Some(r) = &c.reason
            && c.outcome != Outcome::Pass
        {
            reasons.push(ReasonView {
                outcome: c.outcome.as_str(),
                icon: icon(c.outcome),
                subject,
                check: c.name.clone(),
                text: r.clone(),
            });
        }
    };
    for c in &report.checks {
        push(String::new(), c);
    }
    for s in &report.slos {
        for c in &s.evaluation.checks {
            push(s.id.clone(), c);
        }
    }
    for i in &report.indicators {
        push(format!("{}/{}", i.service, i.name), &i.check);
    }
    // Worst first, stable within an outcome.
    let rank = |o: &str| match o {
        "fail" => 0,
        "inconclusive" => 1,
        "warn" => 2,
        _ => 3,
    };
    reasons.sort_by_key(|r| rank(r.outcome));

    let mut notes: Vec<String> = Vec::new();
    for n in report.slos.iter().flat_map(|s| s.evaluation.notes.iter()) {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }

    let slos: Vec<SloView> = report
        .slos
        .iter()
        .map(|s| slo_view(report, s, chart_for(&ChartSubject::Slo(s.id.clone()))))
        .collect();

    let indicators: Vec<IndicatorView> = report
        .indicators
        .iter()
        .map(|i| {
            let name = format!("{}/{}", i.service, i.name);
            IndicatorView {
                chart: chart_for(&ChartSubject::Indicator(name.clone())),
                name,
                description: i.description.trim().to_owned(),
                verdict: i.verdict.as_str(),
                icon: icon(i.verdict),
                value: num(&i.value),
                baseline: num(&i.baseline),
                change: i.change.get().map_or_else(
                    || DASH.to_owned(),
                    |c| format!("{}{}", if c >= 0.0 { "+" } else { "" }, format_percent(c)),
                ),
                criterion: i
                    .criteria
                    .decided_by
                    .as_ref()
                    .map_or_else(|| DASH.to_owned(), ToString::to_string),
                reason: i.check.reason.clone().unwrap_or_default(),
                comparison: comparison_text(&i.comparison),
                samples: format!(
                    "{} baseline / {} fault",
                    i.samples.baseline, i.samples.fault
                ),
            }
        })
        .collect();

    let queries = report
        .queries
        .iter()
        .map(|q| QueryView {
            id: q.id,
            kind: q.kind.clone(),
            promql: q.promql.trim().to_owned(),
            when: match (q.time, q.start, q.end, q.step) {
                (Some(t), ..) => format!("at {}", clock(t)),
                (None, Some(a), Some(b), Some(s)) => {
                    format!("{}–{} every {}", clock(a), clock(b), format_seconds(s))
                }
                _ => String::new(),
            },
            status: match q.status {
                QueryStatus::Ok => "ok",
                QueryStatus::Failed => "failed",
                QueryStatus::Skipped => "skipped",
            },
            error: q.error.clone().unwrap_or_default(),
            purposes: q.purposes.join("; "),
            series: q.series.map(|n| n.to_string()).unwrap_or_default(),
            duration: super::charts::latency_text(q.duration_seconds),
        })
        .collect();
    let count = |s: QueryStatus| report.queries.iter().filter(|q| q.status == s).count();

    let experiment = extras.experiment.as_ref().map(|x| ExperimentView {
        id: x.id.clone().unwrap_or_default(),
        name: x.name.clone(),
        kind: x.kind.clone().unwrap_or_default(),
        target: x.target.clone().unwrap_or_default(),
        description: x.description.clone().unwrap_or_default(),
        links: x
            .links
            .iter()
            .map(|l| LinkView {
                title: l.title.clone(),
                url: link_url(&l.url),
                text: l.url.clone(),
            })
            .collect(),
    });

    let trend = extras.experiment.as_ref().and_then(|x| {
        let current = RunSummary::from_report(report, &x.name, x.id.clone());
        compare_runs(&current, &extras.previous_runs, &TrendOptions::default()).map(|t| TrendView {
            runs: t.runs,
            verdicts: t.verdicts.clone(),
            regressions: t.regressions().count(),
            lines: t
                .metrics
                .iter()
                .filter(|m| m.direction != super::trend::Direction::NoHistory)
                .map(|m| TrendLine {
                    slo: m.slo.clone(),
                    metric: m.metric.label(),
                    direction: m.direction.as_str(),
                    icon: match m.direction {
                        super::trend::Direction::Regressed => "⬆️",
                        super::trend::Direction::Improved => "⬇️",
                        super::trend::Direction::Unchanged => "➖",
                        super::trend::Direction::NoHistory => "",
                    },
                    sentence: m.sentence.clone(),
                })
                .collect(),
        })
    });

    let headline = headline(report, &counts, &reasons);
    let summary = summary(report, &slos, &indicators);
    ReportView {
        schema: report.schema.clone(),
        generator: format!("verdict {}", env!("CARGO_PKG_VERSION")),
        title: extras
            .experiment
            .as_ref()
            .map(|x| x.name.trim())
            .filter(|n| !n.is_empty())
            .map_or_else(|| "Experiment report".to_owned(), str::to_owned),
        verdict: report.verdict.as_str(),
        verdict_upper: report.verdict.as_str().to_uppercase(),
        icon: icon(report.verdict),
        headline,
        summary,
        counts,
        experiment,
        window: WindowView {
            date: date(w.fault_start),
            fault_start: crate::experiment::format_time(w.fault_start),
            fault_end: crate::experiment::format_time(w.fault_end),
            fault_length: format_seconds(w.fault_end - w.fault_start),
            fault: span(w.fault_start, w.fault_end),
            baseline: span(w.baseline_start, w.fault_start),
            baseline_length: format_seconds(w.fault_start - w.baseline_start),
            baseline_start: crate::experiment::format_time(w.baseline_start),
            recovery: if w.to > w.fault_end {
                span(w.fault_end, w.to)
            } else {
                String::new()
            },
            recovery_length: if w.to > w.fault_end {
                format_seconds(w.to - w.fault_end)
            } else {
                String::new()
            },
            from: crate::experiment::format_time(w.from),
            to: crate::experiment::format_time(w.to),
            step: format_seconds(w.step_seconds),
            rate_window: format_seconds(w.rate_window_seconds),
            uncertainty: format_seconds(w.step_seconds + w.rate_window_seconds),
        },
        reasons,
        notes,
        slos,
        indicators,
        charts: charts
            .iter()
            .filter(|c| c.subject == ChartSubject::BurnRate)
            .map(|c| c.view.clone())
            .collect(),
        trend,
        queries,
        query_counts: QueryCounts {
            total: report.queries.len(),
            ok: count(QueryStatus::Ok),
            failed: count(QueryStatus::Failed),
            skipped: count(QueryStatus::Skipped),
        },
        prometheus: report.prometheus.clone(),
        evaluated_at: human_time(report.evaluated_at),
        report_url: extras
            .report_url
            .as_deref()
            .map(link_url)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slis_keep_the_digits_that_matter_and_never_round_up_to_the_objective() {
        assert_eq!(format_sli(0.9995, 0.999), "99.95%");
        assert_eq!(format_sli(0.99899, 0.999), "99.89%");
        assert_eq!(format_sli(0.8, 0.999), "80.00%");
        assert_eq!(format_sli(1.0, 0.99), "100.00%");
        assert_eq!(format_sli(0.999949, 0.9999), "99.994%");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert!(safe_url("https://chaos.example/run/1"));
        assert!(!safe_url("javascript:alert(1)"));
        assert!(!safe_url("https://x.example/a b"));
        assert!(!safe_url("data:text/html,<script>"));
        assert_eq!(
            link_url("https://x.example/a?q=<b>|(c)"),
            "https://x.example/a?q=%3Cb%3E%7C%28c%29"
        );
        assert_eq!(link_url("javascript:alert(1)"), "");
    }

    #[test]
    fn the_summary_names_what_did_not_pass_with_its_number_then_what_held() {
        use crate::report::sample::{SampleVerdict, sample_report};
        let report = sample_report(SampleVerdict::Pass, 1);
        let view = build_view(&report, &ReportExtras::default(), &[]);
        assert_eq!(
            view.summary,
            "The SLO held; both indicators within their criteria."
        );

        let indicator =
            |name: &str, verdict: &'static str, change: &str, value: &str| IndicatorView {
                name: name.to_owned(),
                verdict,
                change: change.to_owned(),
                value: value.to_owned(),
                criterion: "<=+20%".to_owned(),
                ..view.indicators[0].clone()
            };
        let indicators = [
            indicator("inventory/cpu", "pass", "+1%", "0.3"),
            indicator("inventory/p99", "warn", "+1280%", "0.342"),
            indicator("order/rps", "fail", "-40%", "12"),
            indicator("order/restarts", "fail", DASH, "3"),
            indicator("order/queue", "inconclusive", DASH, DASH),
        ];
        assert_eq!(
            summary(&report, &view.slos, &indicators),
            "The SLO held; order/rps fell 40% against <=+20% (fail); \
             order/restarts was 3 against <=+20% (fail); \
             order/queue could not be measured (inconclusive); \
             inventory/p99 rose +1280% against <=+20% (warning); \
             1 other indicator within its criteria."
        );
    }

    #[test]
    fn periods_read_in_days() {
        assert_eq!(period_text(30.0 * 86_400.0), "30d");
        assert_eq!(period_text(3600.0), "1h");
    }
}
