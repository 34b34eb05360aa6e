//! The JUnit XML output, for CI test reports (Jenkins, GitLab, GitHub
//! test-report actions).
//!
//! Layout: `<testsuites>` holds one `<testsuite>` named `verdict` for the
//! report's own checks (`prometheus`, `window_complete`) and one per
//! service. Each SLO check is a `<testcase>` with `classname` =
//! `<service>.<slo id>` and `name` = the check (`max_time_to_recover`,
//! `expect_alerts[X]`, …); each indicator is a `<testcase>` with
//! `classname` = `<service>.indicators` and `name` = the indicator.
//!
//! - **fail** → `<failure type="fail" message="<reason>">` whose text shows
//!   the measured value, the criterion and the resolved queries.
//! - **inconclusive** → `<error type="inconclusive" message="<reason>">`, same
//!   text. An error, not `<skipped>`: CI tools show skipped tests as
//!   harmless, and an inconclusive verdict must never look like a pass.
//! - **warn** → a passing testcase with the reason in `<system-out>`, or a
//!   `<failure type="warn">` when the caller asks (`--fail-on-warn`).
//! - **pass** → an empty testcase.
//!
//! Written with quick-xml, so attribute values and text are escaped. No I/O.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Report, ReportError, SloReport, one_line};
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::eval::policy::{Check, Outcome};
use crate::experiment::timeparse::format_time;

type XmlWriter = Writer<Cursor<Vec<u8>>>;

/// One testcase before it is written.
struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
    reason: Option<String>,
    details: String,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

/// The measured value, formatted by what the check measures.
fn measured(check: &Check) -> String {
    let Some(v) = check.measured else {
        return "none".to_owned();
    };
    match check.name.as_str() {
        "max_budget_consumed" => format!("{} ({v})", format_percent(v)),
        "max_time_to_recover" | "max_time_to_detect" => format!("{} ({v}s)", format_seconds(v)),
        "window_complete" => format_time(v),
        name if name.starts_with("expect_alerts[") => {
            format!("fired {} after the fault start", format_seconds(v))
        }
        "max_peak_burn_rate" => format!("{}x ({v})", format_number(v)),
        _ => format!("{} ({v})", format_number(v)),
    }
}

/// The criterion a check applies, in words.
fn criterion(check: &Check) -> String {
    let threshold = check.threshold.as_deref().unwrap_or("");
    match check.name.as_str() {
        "min_events" => format!("min_events: at least {threshold} events in the fault window"),
        "prometheus" => "every query answered".to_owned(),
        "window_complete" => format!("evaluated at or after --to {threshold}"),
        name if name.starts_with("expect_alerts[") => {
            format!("{name}: fires between the fault start and the end of the observation")
        }
        name if name.starts_with("max_") => format!("{name}: at most {threshold}"),
        name => format!("{name} {threshold}"),
    }
}

fn query_lines(report: &Report, ids: &[usize]) -> String {
    ids.iter()
        .filter_map(|id| report.query(*id))
        .map(|q| {
            let when = match (q.time, q.start, q.end, q.step) {
                (Some(t), _, _, _) => format!("at {}", format_time(t)),
                (None, Some(s), Some(e), Some(step)) => format!(
                    "over {} … {} step {}",
                    format_time(s),
                    format_time(e),
                    format_seconds(step)
                ),
                _ => String::new(),
            };
            format!("query: {} {when}\n", one_line(&q.promql))
        })
        .collect()
}

fn slo_cases(report: &Report, slo: &SloReport) -> Vec<Case> {
    slo.evaluation
        .checks
        .iter()
        .map(|c| Case {
            classname: format!("{}.{}", slo.service, slo.id),
            name: c.name.clone(),
            outcome: c.outcome,
            reason: c.reason.clone(),
            details: format!(
                "slo: {} (objective {})\nmeasured: {}\ncriterion: {}\n{}",
                slo.id,
                super::format_objective(slo.objective),
                measured(c),
                criterion(c),
                query_lines(report, &slo.check_queries(&c.name))
            ),
        })
        .collect()
}

fn suites(report: &Report) -> Vec<Suite> {
    let mut suites = vec![Suite {
        name: "verdict".to_owned(),
        cases: report
            .checks
            .iter()
            .map(|c| Case {
                classname: "verdict".to_owned(),
                name: c.name.clone(),
                outcome: c.outcome,
                reason: c.reason.clone(),
                details: format!("measured: {}\ncriterion: {}\n", measured(c), criterion(c)),
            })
            .collect(),
    }];
    let mut services: Vec<&str> = report
        .slos
        .iter()
        .map(|s| s.service.as_str())
        .chain(report.indicators.iter().map(|i| i.service.as_str()))
        .collect();
    services.dedup();
    let mut seen = Vec::new();
    for service in services {
        if seen.contains(&service) {
            continue;
        }
        seen.push(service);
        let mut cases: Vec<Case> = report
            .slos
            .iter()
            .filter(|s| s.service == service)
            .flat_map(|s| slo_cases(report, s))
            .collect();
        cases.extend(
            report
                .indicators
                .iter()
                .filter(|i| i.service == service)
                .map(|i| {
                    let decided = match (i.criteria.decided_by, i.criteria.threshold) {
                        (Some(c), Some(t)) => format!("{c} (threshold {})", format_number(t)),
                        (Some(c), None) => c.to_string(),
                        _ => "pass/warning criteria".to_owned(),
                    };
                    Case {
                        classname: format!("{service}.indicators"),
                        name: i.name.clone(),
                        outcome: i.check.outcome,
                        reason: i.check.reason.clone(),
                        details: format!(
                            "measured: {} (baseline {})\ncriterion: {decided}\n{}",
                            i.value
                                .get()
                                .map_or_else(|| "none".to_owned(), format_number),
                            i.baseline
                                .get()
                                .map_or_else(|| "none".to_owned(), format_number),
                            query_lines(report, &[i.query])
                        ),
                    }
                }),
        );
        suites.push(Suite {
            name: service.to_owned(),
            cases,
        });
    }
    suites
}

fn counts(cases: &[Case], fail_on_warn: bool) -> (usize, usize, usize) {
    let failures = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail || (fail_on_warn && c.outcome == Outcome::Warn))
        .count();
    let errors = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Inconclusive)
        .count();
    (cases.len(), failures, errors)
}

fn xml_err(e: impl std::fmt::Display) -> ReportError {
    ReportError::Xml(e.to_string())
}

fn write_case(w: &mut XmlWriter, case: &Case, fail_on_warn: bool) -> std::io::Result<()> {
    let element = w
        .create_element("testcase")
        .with_attribute(("classname", case.classname.as_str()))
        .with_attribute(("name", case.name.as_str()))
        .with_attribute(("time", "0"));
    let message = case.reason.as_deref().map(one_line).unwrap_or_default();
    let body = |w: &mut XmlWriter, tag: &str, kind: &str| -> std::io::Result<()> {
        w.create_element(tag)
            .with_attribute(("type", kind))
            .with_attribute(("message", message.as_str()))
            .write_text_content(BytesText::new(&case.details))?;
        Ok(())
    };
    match case.outcome {
        Outcome::Pass => {
            element.write_empty()?;
        }
        Outcome::Fail => {
            element.write_inner_content(|w| body(w, "failure", "fail"))?;
        }
        Outcome::Inconclusive => {
            element.write_inner_content(|w| body(w, "error", "inconclusive"))?;
        }
        Outcome::Warn if fail_on_warn => {
            element.write_inner_content(|w| body(w, "failure", "warn"))?;
        }
        Outcome::Warn => {
            element.write_inner_content(|w| {
                w.create_element("system-out")
                    .write_text_content(BytesText::new(&format!(
                        "warn: {message}\n{}",
                        case.details
                    )))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// The report as JUnit XML; `fail_on_warn` turns warnings into failures.
pub fn render_junit(report: &Report, fail_on_warn: bool) -> Result<String, ReportError> {
    let suites = suites(report);
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_err)?;
    let all: Vec<&Case> = suites.iter().flat_map(|s| s.cases.iter()).collect();
    let tests = all.len();
    let failures = all
        .iter()
        .filter(|c| c.outcome == Outcome::Fail || (fail_on_warn && c.outcome == Outcome::Warn))
        .count();
    let errors = all
        .iter()
        .filter(|c| c.outcome == Outcome::Inconclusive)
        .count();
    let timestamp = format_time(report.evaluated_at);
    w.create_element("testsuites")
        .with_attribute(("name", "verdict evaluate"))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("skipped", "0"))
        .with_attribute(("time", "0"))
        .write_inner_content(|w| {
            for suite in &suites {
                let (tests, failures, errors) = counts(&suite.cases, fail_on_warn);
                w.create_element("testsuite")
                    .with_attribute(("name", suite.name.as_str()))
                    .with_attribute(("tests", tests.to_string().as_str()))
                    .with_attribute(("failures", failures.to_string().as_str()))
                    .with_attribute(("errors", errors.to_string().as_str()))
                    .with_attribute(("skipped", "0"))
                    .with_attribute(("time", "0"))
                    .with_attribute(("timestamp", timestamp.as_str()))
                    .write_inner_content(|w| {
                        let win = &report.window;
                        w.create_element("properties").write_inner_content(|w| {
                            for (name, value) in [
                                ("verdict", report.verdict.as_str().to_owned()),
                                ("prometheus", report.prometheus.clone()),
                                ("baseline_start", format_time(win.baseline_start)),
                                ("fault_start", format_time(win.fault_start)),
                                ("fault_end", format_time(win.fault_end)),
                                ("to", format_time(win.to)),
                            ] {
                                w.create_element("property")
                                    .with_attribute(("name", name))
                                    .with_attribute(("value", value.as_str()))
                                    .write_empty()?;
                            }
                            Ok(())
                        })?;
                        for case in &suite.cases {
                            write_case(w, case, fail_on_warn)?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })
        .map_err(xml_err)?;
    let mut text = String::from_utf8(w.into_inner().into_inner()).map_err(xml_err)?;
    text.push('\n');
    Ok(text)
}
