//! The Markdown summary, for pull requests and CI step summaries
//! (`$GITHUB_STEP_SUMMARY`).
//!
//! Rendered with tera from `templates/summary.md.tera` (compiled into the
//! binary) over a view model of preformatted strings built here, so the
//! template only lays things out. No I/O.

use serde::Serialize;

use super::{QueryStatus, Report, ReportError};
use crate::eval::Measure;
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::eval::policy::Outcome;
use crate::experiment::timeparse::format_time;

const TEMPLATE: &str = include_str!("../../templates/summary.md.tera");

#[derive(Serialize)]
struct Counts {
    pass: usize,
    warn: usize,
    inconclusive: usize,
    fail: usize,
}

#[derive(Serialize)]
struct SloRow {
    id: String,
    objective: String,
    icon: &'static str,
    verdict: &'static str,
    error_ratio: String,
    events: String,
    bad: String,
    budget_fault: String,
    budget_experiment: String,
    peak_burn: String,
    ttr: String,
    ttd: String,
}

#[derive(Serialize)]
struct IndicatorRow {
    name: String,
    icon: &'static str,
    verdict: &'static str,
    value: String,
    baseline: String,
    change: String,
    criterion: String,
}

#[derive(Serialize)]
struct ReasonRow {
    icon: &'static str,
    text: String,
}

#[derive(Serialize)]
struct QueryCounts {
    total: usize,
    ok: usize,
    failed: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct View {
    icon: &'static str,
    verdict: String,
    counts: Counts,
    fault_start: String,
    fault_end: String,
    fault_length: String,
    to: String,
    baseline_start: String,
    slos: Vec<SloRow>,
    indicators: Vec<IndicatorRow>,
    reasons: Vec<ReasonRow>,
    notes: Vec<String>,
    queries: QueryCounts,
    prometheus: String,
    step: String,
    rate_window: String,
    uncertainty: String,
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

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn num(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| "—".to_owned(), format_number)
}

fn pct(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| "—".to_owned(), format_percent)
}

fn view(report: &Report) -> View {
    let [pass, warn, inconclusive, fail] = report.check_counts();
    let w = &report.window;
    let slos = report
        .slos
        .iter()
        .map(|s| {
            let e = &s.evaluation;
            SloRow {
                id: cell(&s.id),
                objective: super::format_objective(s.objective),
                icon: icon(e.verdict),
                verdict: e.verdict.as_str(),
                error_ratio: pct(&e.windows.fault.error_ratio),
                events: num(&e.windows.fault.total_events),
                bad: num(&e.windows.fault.bad_events),
                budget_fault: pct(&e.budget_consumed.fault),
                budget_experiment: pct(&e.budget_consumed.experiment),
                peak_burn: e
                    .burn_rate
                    .peak
                    .get()
                    .map_or_else(|| "—".to_owned(), |p| format!("{}×", format_number(p))),
                ttr: match (e.recovery.recovered, e.recovery.time_to_recover_seconds) {
                    (Some(true), Some(t)) => format_seconds(t),
                    (Some(false), _) => "not recovered".to_owned(),
                    _ => "—".to_owned(),
                },
                ttd: e
                    .detection
                    .time_to_detect_seconds
                    .map_or_else(|| "—".to_owned(), format_seconds),
            }
        })
        .collect();
    let indicators = report
        .indicators
        .iter()
        .map(|i| IndicatorRow {
            name: cell(&format!("{}/{}", i.service, i.name)),
            icon: icon(i.verdict),
            verdict: i.verdict.as_str(),
            value: num(&i.value),
            baseline: num(&i.baseline),
            change: i.change.get().map_or_else(
                || "—".to_owned(),
                |c| format!("{}{}", if c >= 0.0 { "+" } else { "" }, format_percent(c)),
            ),
            criterion: cell(
                &i.criteria
                    .decided_by
                    .map_or_else(|| "—".to_owned(), |c| format!("`{c}`")),
            ),
        })
        .collect();
    let mut reasons = Vec::new();
    for c in report.checks.iter().filter(|c| c.outcome != Outcome::Pass) {
        if let Some(r) = &c.reason {
            reasons.push(ReasonRow {
                icon: icon(c.outcome),
                text: r.clone(),
            });
        }
    }
    for s in &report.slos {
        for c in &s.evaluation.checks {
            if let Some(r) = &c.reason {
                reasons.push(ReasonRow {
                    icon: icon(c.outcome),
                    text: format!("`{}` {}: {r}", s.id, c.name),
                });
            }
        }
    }
    for i in &report.indicators {
        if let Some(r) = &i.check.reason {
            reasons.push(ReasonRow {
                icon: icon(i.check.outcome),
                text: format!("`{}/{}`: {r}", i.service, i.name),
            });
        }
    }
    let mut notes: Vec<String> = Vec::new();
    for n in report.slos.iter().flat_map(|s| s.evaluation.notes.iter()) {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    let count = |s: QueryStatus| report.queries.iter().filter(|q| q.status == s).count();
    View {
        icon: icon(report.verdict),
        verdict: report.verdict.as_str().to_uppercase(),
        counts: Counts {
            pass,
            warn,
            inconclusive,
            fail,
        },
        fault_start: format_time(w.fault_start),
        fault_end: format_time(w.fault_end),
        fault_length: format_seconds(w.fault_end - w.fault_start),
        to: format_time(w.to),
        baseline_start: format_time(w.baseline_start),
        slos,
        indicators,
        reasons,
        notes,
        queries: QueryCounts {
            total: report.queries.len(),
            ok: count(QueryStatus::Ok),
            failed: count(QueryStatus::Failed),
            skipped: count(QueryStatus::Skipped),
        },
        prometheus: report.prometheus.clone(),
        step: format_seconds(w.step_seconds),
        rate_window: format_seconds(w.rate_window_seconds),
        uncertainty: format_seconds(w.step_seconds + w.rate_window_seconds),
    }
}

/// The Markdown summary of a report.
pub fn render_markdown(report: &Report) -> Result<String, ReportError> {
    let mut tera = tera::Tera::new();
    tera.add_raw_template("summary.md", TEMPLATE)
        .map_err(|e| ReportError::Template(e.to_string()))?;
    let context = tera::Context::from_serialize(&view(report))
        .map_err(|e| ReportError::Template(e.to_string()))?;
    tera.render("summary.md", &context)
        .map_err(|e| ReportError::Template(e.to_string()))
}
