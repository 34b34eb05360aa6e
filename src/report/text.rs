//! The text output: a table for terminals.
//!
//! One line per SLO and per indicator with the numbers people look at
//! first, the reasons of every non-pass check, and a line about the
//! queries. Colour (ANSI) only when the caller asks for it: the CLI does so
//! on a TTY unless `NO_COLOR` is set. No I/O here.

use std::fmt::Write as _;

use super::{QueryStatus, Report};
use crate::eval::Measure;
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::eval::policy::Outcome;
use crate::experiment::timeparse::format_time;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

fn outcome_colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "\x1b[32m",
        Outcome::Warn => "\x1b[33m",
        Outcome::Inconclusive => "\x1b[35m",
        Outcome::Fail => "\x1b[31m",
    }
}

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

/// A cell: the visible text and, optionally, its colour code.
struct Cell {
    text: String,
    colour: Option<&'static str>,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, colour: None }
    }
}

fn table(out: &mut String, style: &Style, header: &[&str], rows: Vec<Vec<Cell>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.text.chars().count());
            }
        }
    }
    let line = |cells: Vec<(String, Option<&'static str>)>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, colour)) in cells.into_iter().enumerate() {
            let pad = widths.get(i).copied().unwrap_or(0) - cell.chars().count();
            let shown = match colour {
                Some(code) => style.paint(code, &cell),
                None => cell,
            };
            text.push_str(&shown);
            if i != last {
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        text
    };
    let head = line(
        header
            .iter()
            .map(|h| ((*h).to_owned(), Some(BOLD)))
            .collect(),
    );
    let _ = writeln!(out, "{head}");
    for row in rows {
        let cells = row.into_iter().map(|c| (c.text, c.colour)).collect();
        let _ = writeln!(out, "{}", line(cells));
    }
}

fn number(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| "-".to_owned(), format_number)
}

fn percent(m: &Measure<f64>) -> String {
    m.get().map_or_else(|| "-".to_owned(), format_percent)
}

fn outcome_cell(o: Outcome) -> Cell {
    Cell {
        text: o.as_str().to_owned(),
        colour: Some(outcome_colour(o)),
    }
}

/// The report as a text table; `colour` adds ANSI colours.
pub fn render_text(report: &Report, colour: bool) -> String {
    let style = Style { colour };
    let mut out = String::new();
    let [pass, warn, inconclusive, fail] = report.check_counts();
    let verdict = style.paint(
        outcome_colour(report.verdict),
        &report.verdict.as_str().to_uppercase(),
    );
    let _ = writeln!(
        out,
        "{} {verdict}  ({fail} fail, {inconclusive} inconclusive, {warn} warn, {pass} pass)",
        style.paint(BOLD, "verdict:")
    );
    let w = &report.window;
    let _ = writeln!(
        out,
        "fault {} … {} ({}), observed until {}, baseline from {}",
        format_time(w.fault_start),
        format_time(w.fault_end),
        format_seconds(w.fault_end - w.fault_start),
        format_time(w.to),
        format_time(w.baseline_start)
    );

    if !report.slos.is_empty() {
        out.push('\n');
        let rows = report
            .slos
            .iter()
            .map(|s| {
                let e = &s.evaluation;
                let ttr = match (e.recovery.recovered, e.recovery.time_to_recover_seconds) {
                    (Some(true), Some(t)) => format!(
                        "{} ±{}",
                        format_seconds(t),
                        format_seconds(e.recovery.uncertainty_seconds)
                    ),
                    (Some(false), _) => "never".to_owned(),
                    _ => "-".to_owned(),
                };
                let ttd = e
                    .detection
                    .time_to_detect_seconds
                    .map_or_else(|| "-".to_owned(), format_seconds);
                vec![
                    Cell::from(s.id.clone()),
                    Cell::from(super::format_objective(s.objective)),
                    outcome_cell(e.verdict),
                    Cell::from(percent(&e.windows.fault.error_ratio)),
                    Cell::from(number(&e.windows.fault.total_events)),
                    Cell::from(number(&e.windows.fault.bad_events)),
                    Cell::from(percent(&e.budget_consumed.experiment)),
                    Cell::from(
                        e.burn_rate
                            .peak
                            .get()
                            .map_or_else(|| "-".to_owned(), |p| format!("{}x", format_number(p))),
                    ),
                    Cell::from(ttr),
                    Cell::from(ttd),
                ]
            })
            .collect();
        table(
            &mut out,
            &style,
            &[
                "SLO",
                "OBJECTIVE",
                "VERDICT",
                "ERRORS",
                "EVENTS",
                "BAD",
                "BUDGET",
                "PEAK BURN",
                "TTR",
                "TTD",
            ],
            rows,
        );
        let _ = writeln!(
            out,
            "(errors, events, bad: fault window; budget: share of the period's budget consumed by fault + recovery)"
        );
    }

    if !report.indicators.is_empty() {
        out.push('\n');
        let rows = report
            .indicators
            .iter()
            .map(|i| {
                vec![
                    Cell::from(format!("{}/{}", i.service, i.name)),
                    outcome_cell(i.verdict),
                    Cell::from(number(&i.value)),
                    Cell::from(number(&i.baseline)),
                    Cell::from(i.change.get().map_or_else(
                        || "-".to_owned(),
                        |c| format!("{}{}", if c >= 0.0 { "+" } else { "" }, format_percent(c)),
                    )),
                    Cell::from(
                        i.criteria
                            .decided_by
                            .map_or_else(|| "-".to_owned(), |c| c.to_string()),
                    ),
                ]
            })
            .collect();
        table(
            &mut out,
            &style,
            &[
                "INDICATOR",
                "VERDICT",
                "VALUE",
                "BASELINE",
                "CHANGE",
                "CRITERION",
            ],
            rows,
        );
    }

    let mut non_pass: Vec<(Outcome, String)> = Vec::new();
    for c in &report.checks {
        if let (Some(r), true) = (&c.reason, c.outcome != Outcome::Pass) {
            non_pass.push((c.outcome, r.clone()));
        }
    }
    for s in &report.slos {
        for c in &s.evaluation.checks {
            if let Some(r) = &c.reason {
                non_pass.push((c.outcome, format!("{} {}: {r}", s.id, c.name)));
            }
        }
    }
    for i in &report.indicators {
        if let Some(r) = &i.check.reason {
            non_pass.push((i.check.outcome, format!("{}/{}: {r}", i.service, i.name)));
        }
    }
    if !non_pass.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", style.paint(BOLD, "Reasons:"));
        for (o, r) in non_pass {
            let padded = format!("{:<12}", o.as_str());
            let _ = writeln!(out, "  {} {r}", style.paint(outcome_colour(o), &padded));
        }
    }

    let count = |s: QueryStatus| report.queries.iter().filter(|q| q.status == s).count();
    let slowest = report
        .queries
        .iter()
        .map(|q| q.duration_seconds)
        .fold(0.0, f64::max);
    out.push('\n');
    let _ = writeln!(
        out,
        "queries: {} planned, {} ok, {} failed, {} skipped; slowest {}",
        report.queries.len(),
        count(QueryStatus::Ok),
        count(QueryStatus::Failed),
        count(QueryStatus::Skipped),
        format_seconds(slowest)
    );
    out
}
