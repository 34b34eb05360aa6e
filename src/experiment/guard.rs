//! Guardrails of a running experiment: should it be aborted now?
//!
//! Owns the abort conditions of the design — the budget consumed since the
//! fault started already above the SLO's `max_budget_consumed`, or the 5m
//! burn rate above `abort_burn_rate` (14.4× by default) — as the queries
//! they need ([`guard_queries`], pure), the decision from their answers
//! ([`decide`], pure), and one function doing both against Prometheus
//! ([`check_guardrails`]). Shared by the server's scheduler and
//! `verdict run`.
//!
//! Missing data never aborts an experiment (an abort is an action with
//! consequences) and never counts as "fine" either: the outcome says which
//! SLOs could not be checked and why.

use crate::prom::{PromClient, PromError, QueryData};
use crate::spec::model::{DEFAULT_PERIOD, Slo};
use crate::spec::promql::render_window;

use super::timeparse::promql_duration;

/// The short window of the burn-rate guardrail (the page alert's short window).
pub const BURN_WINDOW_SECONDS: f64 = 300.0;

/// One instant query a guardrail needs.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardQuery {
    pub slo_id: String,
    pub kind: GuardKind,
    pub promql: String,
    pub at: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    /// Error ratio over the last 5 minutes.
    BurnRate,
    /// Error ratio since the fault started.
    BudgetSoFar,
}

/// The answer to a [`GuardQuery`]: a value, or why there is none.
pub type GuardAnswer = Result<f64, String>;

/// What the guardrails decided.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardOutcome {
    /// No abort condition is breached. `unchecked` lists what could not be
    /// checked (missing data) with the reason.
    Continue { unchecked: Vec<String> },
    /// Abort, with every breached condition.
    Abort { reasons: Vec<String> },
}

/// The queries to check `slos` at `now` for a fault that started at `fault_start`.
pub fn guard_queries(slos: &[Slo], fault_start: f64, now: f64) -> Vec<GuardQuery> {
    let mut out = Vec::new();
    for slo in slos {
        let template = slo.sli.error_ratio_template();
        out.push(GuardQuery {
            slo_id: slo.id.clone(),
            kind: GuardKind::BurnRate,
            promql: render_window(&template, &promql_duration(BURN_WINDOW_SECONDS)),
            at: now,
        });
        let since = now - fault_start;
        if since >= 1.0 {
            out.push(GuardQuery {
                slo_id: slo.id.clone(),
                kind: GuardKind::BudgetSoFar,
                promql: render_window(&template, &promql_duration(since.floor())),
                at: now,
            });
        }
    }
    out
}

/// Decides from the answers (same order as the queries).
pub fn decide(
    slos: &[Slo],
    fault_start: f64,
    queries: &[GuardQuery],
    answers: &[GuardAnswer],
) -> GuardOutcome {
    let mut reasons = Vec::new();
    let mut unchecked = Vec::new();
    for (q, a) in queries.iter().zip(answers) {
        let Some(slo) = slos.iter().find(|s| s.id == q.slo_id) else {
            continue;
        };
        let budget = slo.error_budget();
        let e = match a {
            Ok(v) if v.is_finite() && *v >= 0.0 => *v,
            Ok(v) => {
                unchecked.push(format!("{}: {} is {v}", slo.id, describe(q.kind)));
                continue;
            }
            Err(reason) => {
                unchecked.push(format!("{}: {}: {reason}", slo.id, describe(q.kind)));
                continue;
            }
        };
        match q.kind {
            GuardKind::BurnRate => {
                let burn = e / budget;
                if burn > slo.verdict.abort_burn_rate {
                    reasons.push(format!(
                        "{}: 5m burn rate {:.1} above {}",
                        slo.id, burn, slo.verdict.abort_burn_rate
                    ));
                }
            }
            GuardKind::BudgetSoFar => {
                let period = slo.period_or(DEFAULT_PERIOD).as_secs_f64();
                let consumed = (e / budget) * ((q.at - fault_start).floor() / period);
                if consumed > slo.verdict.max_budget_consumed {
                    reasons.push(format!(
                        "{}: budget consumed {} > max {}",
                        slo.id,
                        percent(consumed),
                        percent(slo.verdict.max_budget_consumed)
                    ));
                }
            }
        }
    }
    if reasons.is_empty() {
        GuardOutcome::Continue { unchecked }
    } else {
        GuardOutcome::Abort { reasons }
    }
}

fn describe(kind: GuardKind) -> &'static str {
    match kind {
        GuardKind::BurnRate => "5m error ratio",
        GuardKind::BudgetSoFar => "error ratio since the fault started",
    }
}

fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// Runs the guardrail queries against Prometheus and decides. A query that
/// fails or returns no single finite value leaves its condition unchecked;
/// `Err` only when *every* query failed to reach Prometheus.
pub async fn check_guardrails(
    client: &PromClient,
    slos: &[Slo],
    fault_start: f64,
    now: f64,
) -> Result<GuardOutcome, PromError> {
    let queries = guard_queries(slos, fault_start, now);
    let mut answers = Vec::with_capacity(queries.len());
    let mut last_connection_error = None;
    let mut reached = false;
    for q in &queries {
        match client.query_instant(&q.promql, q.at).await {
            Ok(result) => {
                reached = true;
                answers.push(single_value(&result.data, &result.warnings));
            }
            Err(e) => {
                answers.push(Err(e.to_string()));
                if e.is_retryable() {
                    last_connection_error = Some(e);
                } else {
                    reached = true;
                }
            }
        }
    }
    match (reached, last_connection_error) {
        (false, Some(e)) => Err(e),
        _ => Ok(decide(slos, fault_start, &queries, &answers)),
    }
}

fn single_value(data: &QueryData, warnings: &[String]) -> GuardAnswer {
    if let Some(w) = warnings.first() {
        return Err(format!("Prometheus warning: {w}"));
    }
    match data {
        QueryData::Vector(v) if v.len() == 1 => Ok(v[0].v),
        QueryData::Vector(v) if v.is_empty() => Err("no series returned".into()),
        QueryData::Vector(v) => Err(format!("{} series returned where 1 was expected", v.len())),
        QueryData::Scalar { v, .. } => Ok(*v),
        other => Err(format!("unexpected result type {}", other.result_type())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load_sources;

    fn slos() -> Vec<Slo> {
        let text = r#"version: verdict/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors_total[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))
    verdict:
      max_budget_consumed: 1%
"#;
        let set = load_sources(&[("c.yaml".into(), text.to_string())]).unwrap();
        set.slos().cloned().collect()
    }

    #[test]
    fn queries_cover_the_last_five_minutes_and_the_time_since_the_fault() {
        let q = guard_queries(&slos(), 1000.0, 1623.5);
        assert_eq!(q.len(), 2);
        assert_eq!(
            q[0].promql,
            "(sum(rate(errors_total[300s])))\n/\n(sum(rate(requests_total[300s])))"
        );
        assert_eq!(
            q[1].promql,
            "(sum(rate(errors_total[623s])))\n/\n(sum(rate(requests_total[623s])))"
        );
        assert!(q.iter().all(|q| q.at == 1623.5));
    }

    #[test]
    fn a_burn_above_the_abort_rate_aborts() {
        let s = slos();
        let q = guard_queries(&s, 1000.0, 1300.0);
        // 0.02 / 0.001 = 20 > 14.4; budget so far 20 × 300 / 2_592_000 = 0.23% < 1%
        let out = decide(&s, 1000.0, &q, &[Ok(0.02), Ok(0.02)]);
        assert_eq!(
            out,
            GuardOutcome::Abort {
                reasons: vec!["checkout-availability: 5m burn rate 20.0 above 14.4".into()]
            }
        );
    }

    #[test]
    fn budget_consumed_so_far_above_the_maximum_aborts() {
        let s = slos();
        // 2 hours at 10× burn: 10 × 7200 / 2_592_000 = 2.78% > 1%
        let q = guard_queries(&s, 0.0, 7200.0);
        let out = decide(&s, 0.0, &q, &[Ok(0.005), Ok(0.01)]);
        assert_eq!(
            out,
            GuardOutcome::Abort {
                reasons: vec!["checkout-availability: budget consumed 2.8% > max 1.0%".into()]
            }
        );
    }

    #[test]
    fn within_limits_continues_and_missing_data_is_reported_not_aborted() {
        let s = slos();
        let q = guard_queries(&s, 1000.0, 1300.0);
        assert_eq!(
            decide(&s, 1000.0, &q, &[Ok(0.001), Ok(0.0005)]),
            GuardOutcome::Continue { unchecked: vec![] }
        );
        assert_eq!(
            decide(
                &s,
                1000.0,
                &q,
                &[Err("no series returned".into()), Ok(f64::NAN)]
            ),
            GuardOutcome::Continue {
                unchecked: vec![
                    "checkout-availability: 5m error ratio: no series returned".into(),
                    "checkout-availability: error ratio since the fault started is NaN".into()
                ]
            }
        );
    }
}
