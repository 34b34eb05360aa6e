//! Running a plan and turning its answers into a report.
//!
//! Owns the two halves of an evaluation after planning:
//!
//! - [`run_plan`] (I/O): sends the plan's queries to Prometheus, at most
//!   `concurrency` at a time, each at its fixed time or range. A query whose
//!   window ends after the evaluation time (`now`) is not sent: its window
//!   is not complete.
//! - [`build_report`] (pure): reads each answer as the number or series
//!   the plan meant it for — exactly one series, finite values — and
//!   otherwise as a missing value whose reason names the query (no series,
//!   several series, NaN, Prometheus warnings, a failed request, an
//!   incomplete window); builds the evaluation core's inputs, runs it per
//!   SLO and indicator, and collects the [`Report`].
//!
//! The verdict is the worst of all checks. Besides the SLOs' and the
//! indicators' checks, two report-level checks make sure a broken
//! evaluation never passes, whatever `on_no_data` says: `prometheus`
//! (every query answered) and `window_complete` (nothing was asked about
//! the future).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::plan::{EventSource, Plan, PlannedQuery, QueryTime, RAW_SLI_NO_EVENTS, SloPlan};
use super::timeparse::format_time;
use crate::eval::detection::{AlertInput, BurnAlertWindow};
use crate::eval::human::format_seconds;
use crate::eval::indicator::{IndicatorInput, IndicatorSamples, evaluate_indicator};
use crate::eval::measure::Measure;
use crate::eval::policy::{Check, NoDataPolicy, Outcome, worst_of};
use crate::eval::slo::{SloEvaluation, SloInput, WindowSet, evaluate_slo};
use crate::eval::window::WindowMeasurement;
use crate::prom::{PromClient, QueryData, QueryResult};
use crate::report::{
    IndicatorReport, QueryRecord, QueryStatus, Report, SCHEMA, SampleCounts, SloQueryIds,
    SloReport, Unavailable, WindowQueryIds, WindowReport, one_line,
};

/// Default number of queries in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Called after each query with (done, total); for progress displays.
pub type ProgressFn = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// How to run a plan.
#[derive(Clone)]
pub struct RunOptions {
    /// Queries in flight at once (at least 1).
    pub concurrency: usize,
    /// The evaluation time: queries looking past it are not sent.
    pub now: f64,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("concurrency", &self.concurrency)
            .field("now", &self.now)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryFailure {
    /// Prometheus failed after retries, or could not be reached.
    Failed {
        /// The client's error message (names the URL, the query and the attempts).
        message: String,
    },
    /// Not sent; the reason says why.
    Skipped {
        /// E.g. "window not complete: …".
        reason: String,
    },
}

/// What came back for one planned query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutcome {
    /// The planned query's id.
    pub id: usize,
    /// The answer, or why there is none.
    pub result: Result<QueryResult, QueryFailure>,
    /// Wall time, retries included (zero when not sent).
    pub duration: Duration,
}

/// Sends the plan's queries, at most `options.concurrency` at a time.
/// Returns one outcome per planned query, in plan order.
pub async fn run_plan(client: &PromClient, plan: &Plan, options: &RunOptions) -> Vec<QueryOutcome> {
    let total = plan.queries.len();
    let mut outcomes: Vec<Option<QueryOutcome>> = vec![None; total];
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut done = 0;
    for query in &plan.queries {
        if query.at.ends_at() > options.now {
            if let Some(slot) = outcomes.get_mut(query.id) {
                *slot = Some(QueryOutcome {
                    id: query.id,
                    result: Err(QueryFailure::Skipped {
                        reason: incomplete_reason(query.at.ends_at(), options.now),
                    }),
                    duration: Duration::ZERO,
                });
            }
            done += 1;
            continue;
        }
        let client = client.clone();
        let semaphore = Arc::clone(&semaphore);
        let query = query.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = semaphore.acquire_owned().await.ok();
            let started = Instant::now();
            let result = send(&client, &query).await;
            QueryOutcome {
                id: query.id,
                result,
                duration: started.elapsed(),
            }
        });
    }
    if let Some(progress) = &options.progress {
        progress(done, total);
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(outcome) = joined
            && let Some(slot) = outcomes.get_mut(outcome.id)
        {
            *slot = Some(outcome);
        }
        done += 1;
        if let Some(progress) = &options.progress {
            progress(done, total);
        }
    }
    outcomes
        .into_iter()
        .enumerate()
        .map(|(id, o)| {
            o.unwrap_or(QueryOutcome {
                id,
                result: Err(QueryFailure::Failed {
                    message: "the query's task ended without an answer".to_owned(),
                }),
                duration: Duration::ZERO,
            })
        })
        .collect()
}

async fn send(client: &PromClient, query: &PlannedQuery) -> Result<QueryResult, QueryFailure> {
    let answer = match query.at {
        QueryTime::Instant { time } => client.query_instant(&query.promql, time).await,
        QueryTime::Range { start, end, step } => {
            client.query_range(&query.promql, start, end, step).await
        }
    };
    // One line: the client quotes multi-line PromQL, reports quote the message.
    answer.map_err(|e| QueryFailure::Failed {
        message: one_line(&e.to_string()),
    })
}

fn incomplete_reason(ends_at: f64, now: f64) -> String {
    format!(
        "window not complete: it ends at {}, {} after the evaluation time {}",
        format_time(ends_at),
        format_seconds(ends_at - now),
        format_time(now)
    )
}

/// Reads query answers as the values the plan meant them for.
struct Answers<'a> {
    plan: &'a Plan,
    outcomes: &'a [QueryOutcome],
}

impl Answers<'_> {
    fn outcome(&self, id: usize) -> Option<&QueryOutcome> {
        self.outcomes.get(id).filter(|o| o.id == id)
    }

    fn label(&self, id: usize) -> String {
        match self.plan.queries.get(id) {
            Some(q) => format!("`{}` {}", one_line(&q.promql), q.at.describe()),
            None => format!("query #{id}"),
        }
    }

    /// The answer, or why it is missing (failure, skip, warnings).
    fn usable(&self, id: usize) -> Result<&QueryData, String> {
        match self.outcome(id).map(|o| &o.result) {
            None => Err(format!("{} has no answer", self.label(id))),
            Some(Err(QueryFailure::Failed { message })) => Err(format!("query failed: {message}")),
            Some(Err(QueryFailure::Skipped { reason })) => {
                Err(format!("{reason} ({})", self.label(id)))
            }
            Some(Ok(result)) if !result.warnings.is_empty() => Err(format!(
                "Prometheus warning: {} ({})",
                result.warnings.join("; "),
                self.label(id)
            )),
            Some(Ok(result)) => Ok(&result.data),
        }
    }

    /// Exactly one finite number.
    fn scalar(&self, id: usize) -> Measure<f64> {
        let data = match self.usable(id) {
            Ok(d) => d,
            Err(reason) => return Measure::missing(reason),
        };
        let value = match data {
            QueryData::Vector(samples) => match samples.as_slice() {
                [one] => one.v,
                [] => return Measure::no_series(&self.label(id)),
                many => return Measure::too_many_series(many.len(), &self.label(id)),
            },
            QueryData::Scalar { v, .. } => *v,
            other => {
                return Measure::missing(format!(
                    "{} returned a {}, expected a vector",
                    self.label(id),
                    other.result_type()
                ));
            }
        };
        Measure::from_sample(value).map_missing(|reason| {
            let hint = if reason == "value is NaN" {
                " (0/0: no events in the window?)"
            } else {
                ""
            };
            format!("{reason}{hint} from {}", self.label(id))
        })
    }

    /// Every series of a range query.
    fn matrix(&self, id: usize) -> Measure<Vec<crate::prom::RangeSeries>> {
        match self.usable(id) {
            Ok(QueryData::Matrix(series)) => Measure::Value(series.clone()),
            Ok(other) => Measure::missing(format!(
                "{} returned a {}, expected a matrix",
                self.label(id),
                other.result_type()
            )),
            Err(reason) => Measure::missing(reason),
        }
    }

    /// Exactly one series of a range query.
    fn series(&self, id: usize) -> Measure<Vec<(f64, f64)>> {
        self.matrix(id).and_then(|mut all| match all.len() {
            1 => Measure::Value(all.remove(0).points),
            0 => Measure::no_series(&self.label(id)),
            n => Measure::too_many_series(n, &self.label(id)),
        })
    }
}

trait MapMissing {
    fn map_missing(self, f: impl FnOnce(String) -> String) -> Self;
}

impl<T> MapMissing for Measure<T> {
    fn map_missing(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Measure::Missing { reason } => Measure::missing(f(reason)),
            value => value,
        }
    }
}

/// What the report says about where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportContext {
    /// The Prometheus base URL.
    pub prometheus: String,
    /// The evaluation time (the single reading of the clock).
    pub now: f64,
}

/// Builds the report from the plan and its answers (pure).
pub fn build_report(plan: &Plan, outcomes: &[QueryOutcome], context: &ReportContext) -> Report {
    let answers = Answers { plan, outcomes };
    let slos: Vec<SloReport> = plan.slos.iter().map(|s| slo_report(&answers, s)).collect();
    let indicators: Vec<IndicatorReport> = plan
        .indicators
        .iter()
        .map(|ind| indicator_report(&answers, plan, ind))
        .collect();
    let queries = query_records(plan, outcomes);
    let checks = report_checks(plan, &queries, context.now);

    let verdict = worst_of(
        checks
            .iter()
            .map(|c| c.outcome)
            .chain(slos.iter().map(|s| s.evaluation.verdict))
            .chain(indicators.iter().map(|i| i.verdict)),
    );
    let mut reasons: Vec<String> = checks.iter().filter_map(|c| c.reason.clone()).collect();
    for s in &slos {
        reasons.extend(
            s.evaluation
                .reasons
                .iter()
                .map(|r| format!("{}: {r}", s.id)),
        );
    }
    for i in &indicators {
        if let Some(r) = &i.check.reason {
            reasons.push(format!("indicator {}/{}: {r}", i.service, i.name));
        }
    }
    let w = &plan.window;
    Report {
        schema: SCHEMA.to_owned(),
        verdict,
        reasons,
        evaluated_at: context.now,
        prometheus: context.prometheus.clone(),
        window: WindowReport {
            from: w.from,
            to: w.to,
            fault_start: w.fault_start,
            fault_end: w.fault_end,
            baseline_start: w.baseline_start,
            step_seconds: plan.resolution.step_seconds,
            rate_window_seconds: plan.resolution.rate_window_seconds,
        },
        checks,
        slos,
        indicators,
        queries,
    }
}

fn slo_report(answers: &Answers<'_>, sp: &SloPlan) -> SloReport {
    let plan = answers.plan;
    let measure_window = |wq: &super::plan::WindowQueries| {
        let length = wq.end - wq.start;
        let error_ratio = match wq.error_ratio {
            Some(id) => answers.scalar(id),
            None => Measure::missing("window is empty"),
        };
        let total_events = match &wq.events {
            EventSource::Rate(id) => answers.scalar(*id).map(|rate| rate * length),
            EventSource::Increase(id) => answers.scalar(*id),
            EventSource::Unavailable(reason) => Measure::missing(reason.clone()),
        };
        WindowMeasurement {
            error_ratio,
            total_events,
        }
    };
    let error_ratio_series = answers.series(sp.error_ratio_series);
    let alerts = match sp.alerts {
        None => Vec::new(),
        Some(id) => alert_inputs(&sp.policy.expect_alerts, answers.matrix(id)),
    };
    let input = SloInput {
        target: sp.target,
        timeline: plan.window.timeline(),
        windows: WindowSet {
            baseline: measure_window(&sp.windows.baseline),
            fault: measure_window(&sp.windows.fault),
            recovery: measure_window(&sp.windows.recovery),
            experiment: measure_window(&sp.windows.experiment),
        },
        error_ratio_series: error_ratio_series.clone(),
        series_shape: plan.resolution.shape(),
        alerts,
        page_alert_windows: BurnAlertWindow::page_windows(sp.target.period_seconds()),
    };
    let mut evaluation = evaluate_slo(&input, &sp.policy);
    if matches!(sp.slo.sli, crate::spec::Sli::Raw { .. }) {
        judge_raw_min_events(&mut evaluation, sp.policy.min_events);
    }
    let ids = |wq: &super::plan::WindowQueries| WindowQueryIds {
        error_ratio: wq.error_ratio,
        events: wq.events.query(),
    };
    SloReport {
        id: sp.slo.id.clone(),
        service: sp.slo.service.clone(),
        name: sp.slo.name.clone(),
        objective: sp.target.objective(),
        period_seconds: sp.target.period_seconds(),
        description: sp.slo.description.clone(),
        sli: sp.slo.sli.kind().to_owned(),
        latency_threshold_seconds: match sp.slo.sli {
            crate::spec::Sli::Latency { threshold, .. } => Some(threshold),
            _ => None,
        },
        unavailable: unavailable_fields(&evaluation),
        evaluation,
        queries: SloQueryIds {
            windows: WindowSet {
                baseline: ids(&sp.windows.baseline),
                fault: ids(&sp.windows.fault),
                recovery: ids(&sp.windows.recovery),
                experiment: ids(&sp.windows.experiment),
            },
            error_ratio_series: sp.error_ratio_series,
            alerts: sp.alerts,
        },
        error_ratio_series: error_ratio_series.value().cloned().unwrap_or_default(),
    }
}

/// A raw SLI has no event count: `min_events: 0` accepts that (pass), any
/// other value makes the check inconclusive with [`RAW_SLI_NO_EVENTS`],
/// whatever `on_no_data` says (it is a spec choice, not missing data).
fn judge_raw_min_events(evaluation: &mut SloEvaluation, min_events: u64) {
    for check in evaluation
        .checks
        .iter_mut()
        .filter(|c| c.name == "min_events")
    {
        if min_events == 0 {
            check.outcome = Outcome::Pass;
            check.reason = None;
        } else {
            check.outcome = Outcome::Inconclusive;
            check.reason = Some(RAW_SLI_NO_EVENTS.to_owned());
        }
    }
    if min_events == 0 {
        evaluation
            .notes
            .push("raw SLI: no event count, accepted by min_events: 0".to_owned());
    }
    evaluation.verdict = worst_of(evaluation.checks.iter().map(|c| c.outcome));
    evaluation.reasons = evaluation
        .checks
        .iter()
        .filter_map(|c| c.reason.clone())
        .collect();
}

/// Splits the `ALERTS` answer by alert name: an expected alert without a
/// series never fired; a failed query leaves every alert's state unknown.
fn alert_inputs(
    expected: &[String],
    answer: Measure<Vec<crate::prom::RangeSeries>>,
) -> Vec<AlertInput> {
    expected
        .iter()
        .map(|name| match &answer {
            Measure::Value(series) => {
                let mut points: Vec<(f64, f64)> = series
                    .iter()
                    .filter(|s| s.labels.get("alertname") == Some(name))
                    .flat_map(|s| s.points.iter().copied())
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                AlertInput::from_series(name.clone(), points)
            }
            Measure::Missing { reason } => AlertInput {
                name: name.clone(),
                firing: Measure::missing(reason.clone()),
            },
        })
        .collect()
}

fn unavailable_fields(e: &SloEvaluation) -> Vec<Unavailable> {
    let mut out = Vec::new();
    let mut note = |field: String, m: &Measure<f64>| {
        if let Some(reason) = m.reason() {
            out.push(Unavailable {
                field,
                reason: reason.to_owned(),
            });
        }
    };
    for (name, w) in [
        ("baseline", &e.windows.baseline),
        ("fault", &e.windows.fault),
        ("recovery", &e.windows.recovery),
        ("experiment", &e.windows.experiment),
    ] {
        note(format!("windows.{name}.error_ratio"), &w.error_ratio);
        note(format!("windows.{name}.total_events"), &w.total_events);
    }
    note("burn_rate.peak".to_owned(), &e.burn_rate.peak);
    out
}

fn mean(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

fn indicator_report(
    answers: &Answers<'_>,
    plan: &Plan,
    ip: &super::plan::IndicatorPlan,
) -> IndicatorReport {
    let w = &plan.window;
    let series = answers.series(ip.query);
    let (baseline_samples, fault_samples): (Vec<f64>, Vec<f64>) = match &series {
        Measure::Value(points) => (
            points
                .iter()
                .filter(|(t, _)| *t >= w.baseline_start && *t < w.fault_start)
                .map(|(_, v)| *v)
                .collect(),
            points
                .iter()
                .filter(|(t, _)| *t >= w.fault_start && *t < w.fault_end)
                .map(|(_, v)| *v)
                .collect(),
        ),
        Measure::Missing { .. } => (Vec::new(), Vec::new()),
    };
    let average = |samples: &[f64], window: &str| match &series {
        Measure::Missing { reason } => Measure::missing(reason.clone()),
        Measure::Value(_) => match mean(samples) {
            Some(m) => Measure::Value(m),
            None => Measure::missing(format!(
                "no finite sample of {} in the {window} window",
                answers.label(ip.query)
            )),
        },
    };
    let value = average(&fault_samples, "fault");
    let baseline = average(&baseline_samples, "baseline");
    let input = IndicatorInput {
        name: ip.indicator.name.clone(),
        value: value.clone(),
        baseline: baseline.clone(),
        criteria: ip.criteria.clone(),
        samples: series.is_value().then(|| IndicatorSamples {
            baseline: baseline_samples.clone(),
            fault: fault_samples.clone(),
            tolerance: super::mapping::tolerance_for(&ip.criteria),
        }),
    };
    let evaluation = evaluate_indicator(&input, NoDataPolicy::Inconclusive);
    let mut unavailable = Vec::new();
    for (field, m) in [("value", &value), ("baseline", &baseline)] {
        if let Some(reason) = m.reason() {
            unavailable.push(Unavailable {
                field: field.to_owned(),
                reason: reason.to_owned(),
            });
        }
    }
    IndicatorReport {
        service: ip.service.clone(),
        name: ip.indicator.name.clone(),
        description: ip.indicator.description.clone(),
        verdict: evaluation.check.outcome,
        value,
        baseline,
        change: evaluation.relative_change.clone(),
        samples: SampleCounts {
            baseline: baseline_samples.len(),
            fault: fault_samples.len(),
        },
        comparison: evaluation.comparison.clone(),
        criteria: evaluation.criteria.clone(),
        check: evaluation.check,
        unavailable,
        query: ip.query,
        series: series.value().cloned().unwrap_or_default(),
    }
}

fn query_records(plan: &Plan, outcomes: &[QueryOutcome]) -> Vec<QueryRecord> {
    plan.queries
        .iter()
        .map(|q| {
            let outcome = outcomes.get(q.id).filter(|o| o.id == q.id);
            let (status, error, warnings, series) = match outcome.map(|o| &o.result) {
                Some(Ok(r)) => {
                    let n = match &r.data {
                        QueryData::Vector(v) => v.len(),
                        QueryData::Matrix(m) => m.len(),
                        QueryData::Scalar { .. } | QueryData::String { .. } => 1,
                    };
                    (QueryStatus::Ok, None, r.warnings.clone(), Some(n))
                }
                Some(Err(QueryFailure::Failed { message })) => {
                    (QueryStatus::Failed, Some(message.clone()), Vec::new(), None)
                }
                Some(Err(QueryFailure::Skipped { reason })) => {
                    (QueryStatus::Skipped, Some(reason.clone()), Vec::new(), None)
                }
                None => (
                    QueryStatus::Failed,
                    Some("no answer recorded".to_owned()),
                    Vec::new(),
                    None,
                ),
            };
            let (kind, time, start, end, step) = match q.at {
                QueryTime::Instant { time } => ("instant", Some(time), None, None, None),
                QueryTime::Range { start, end, step } => {
                    ("range", None, Some(start), Some(end), Some(step))
                }
            };
            QueryRecord {
                id: q.id,
                kind: kind.to_owned(),
                promql: q.promql.clone(),
                time,
                start,
                end,
                step,
                purposes: q.purposes.clone(),
                status,
                error,
                warnings,
                series,
                duration_seconds: outcome.map_or(0.0, |o| o.duration.as_secs_f64()),
            }
        })
        .collect()
}

/// `prometheus`: every query answered; `window_complete`: `to` was not in
/// the future. Either failing makes the report inconclusive whatever the
/// SLOs' `on_no_data` says.
fn report_checks(plan: &Plan, queries: &[QueryRecord], now: f64) -> Vec<Check> {
    let failed: Vec<&QueryRecord> = queries
        .iter()
        .filter(|q| q.status == QueryStatus::Failed)
        .collect();
    let prometheus = match failed.first() {
        None => Check {
            name: "prometheus".to_owned(),
            outcome: Outcome::Pass,
            reason: None,
            measured: Some(queries.len() as f64),
            threshold: None,
        },
        Some(first) => Check {
            name: "prometheus".to_owned(),
            outcome: Outcome::Inconclusive,
            reason: Some(format!(
                "{} of {} queries failed; the first: {}",
                failed.len(),
                queries.len(),
                first.error.as_deref().unwrap_or("unknown error")
            )),
            measured: Some((queries.len() - failed.len()) as f64),
            threshold: Some(queries.len().to_string()),
        },
    };
    let to = plan.window.to;
    let window_complete = if to > now {
        Check {
            name: "window_complete".to_owned(),
            outcome: Outcome::Inconclusive,
            reason: Some(format!(
                "window not complete: --to {} is {} after the evaluation time {}",
                format_time(to),
                format_seconds(to - now),
                format_time(now)
            )),
            measured: Some(now),
            threshold: Some(format_time(to)),
        }
    } else {
        Check {
            name: "window_complete".to_owned(),
            outcome: Outcome::Pass,
            reason: None,
            measured: Some(now),
            threshold: Some(format_time(to)),
        }
    };
    vec![prometheus, window_complete]
}

/// Plans nothing itself: runs `plan` against `client` and builds the report.
pub async fn evaluate_plan(client: &PromClient, plan: &Plan, options: &RunOptions) -> Report {
    let outcomes = run_plan(client, plan, options).await;
    build_report(
        plan,
        &outcomes,
        &ReportContext {
            prometheus: client.base_url().to_owned(),
            now: options.now,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::experiment::plan::{ExperimentWindow, Resolution, plan_queries};
    use crate::prom::{InstantSample, RangeSeries};

    const T: f64 = 1_767_229_200.0;

    const SPEC: &str = r#"version: verdict/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors_total[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))
    verdict:
      expect_alerts: [A, B]
"#;

    fn plan() -> Plan {
        let set = crate::spec::load_sources(&[("s.yaml".into(), SPEC.to_owned())])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let slos: Vec<_> = set.slos().cloned().collect();
        let window = ExperimentWindow::new(T - 300.0, T + 720.0, Some(T), Some(T + 120.0), None)
            .unwrap_or_else(|e| panic!("{e}"));
        plan_queries(&window, &Resolution::default(), &slos, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn vector(v: f64) -> QueryResult {
        QueryResult {
            data: QueryData::Vector(vec![InstantSample {
                labels: BTreeMap::new(),
                t: 0.0,
                v,
            }]),
            warnings: Vec::new(),
        }
    }

    fn series(name: Option<&str>, points: Vec<(f64, f64)>) -> RangeSeries {
        RangeSeries {
            labels: name
                .map(|n| [("alertname".to_owned(), n.to_owned())].into())
                .unwrap_or_default(),
            points,
        }
    }

    /// Answers every query of the plan: error ratios 0.0002, 10 req/s, a
    /// flat E_r, alert A firing from T + 30.
    fn answers(plan: &Plan) -> Vec<QueryOutcome> {
        plan.queries
            .iter()
            .map(|q| {
                let result = match (q.at, q.purposes[0].as_str()) {
                    (QueryTime::Instant { .. }, p) if p.ends_with("events") => vector(10.0),
                    (QueryTime::Instant { .. }, _) => vector(0.0002),
                    (QueryTime::Range { .. }, p) if p.starts_with("expected alerts") => {
                        QueryResult {
                            data: QueryData::Matrix(vec![series(
                                Some("A"),
                                vec![(T + 30.0, 1.0), (T + 45.0, 1.0)],
                            )]),
                            warnings: Vec::new(),
                        }
                    }
                    (QueryTime::Range { start, end, step }, _) => {
                        let n = ((end - start) / step) as usize;
                        let points = (0..=n).map(|k| (start + k as f64 * step, 0.0002)).collect();
                        QueryResult {
                            data: QueryData::Matrix(vec![series(None, points)]),
                            warnings: Vec::new(),
                        }
                    }
                };
                QueryOutcome {
                    id: q.id,
                    result: Ok(result),
                    duration: Duration::from_millis(3),
                }
            })
            .collect()
    }

    fn context() -> ReportContext {
        ReportContext {
            prometheus: "http://127.0.0.1:9090".to_owned(),
            now: T + 3600.0,
        }
    }

    #[test]
    fn answers_become_window_numbers_events_and_alert_detection() {
        let plan = plan();
        let report = build_report(&plan, &answers(&plan), &context());
        let s = &report.slos[0];
        let e = &s.evaluation;
        // Events: 10 req/s × the window's seconds.
        assert_eq!(e.windows.fault.total_events.get(), Some(1200.0));
        assert_eq!(e.windows.experiment.total_events.get(), Some(7200.0));
        assert_eq!(e.windows.fault.error_ratio.get(), Some(0.0002));
        // A fired 30s after the fault start; B has no series: it did not fire.
        assert_eq!(e.detection.time_to_detect_seconds, Some(30.0));
        assert_eq!(e.detection.not_fired, vec!["B".to_owned()]);
        assert_eq!(report.verdict, Outcome::Fail);
        assert_eq!(
            report.reasons,
            vec![
                "checkout-availability: expected alert B did not fire (the SLO showed no impact)"
                    .to_owned()
            ]
        );
        assert!(s.unavailable.is_empty());
        assert_eq!(report.queries.len(), plan.queries.len());
        assert!(report.queries.iter().all(|q| q.status == QueryStatus::Ok));
    }

    #[test]
    fn a_warning_about_partial_data_makes_the_number_missing_with_the_query_named() {
        let plan = plan();
        let mut outcomes = answers(&plan);
        let id = plan.slos[0]
            .windows
            .experiment
            .error_ratio
            .unwrap_or(usize::MAX);
        if let Some(Ok(result)) = outcomes.get_mut(id).map(|o| &mut o.result) {
            result.warnings = vec!["store 10.0.0.1 did not answer: partial response".to_owned()];
        }
        let report = build_report(&plan, &outcomes, &context());
        let s = &report.slos[0];
        let budget = s
            .evaluation
            .checks
            .iter()
            .find(|c| c.name == "max_budget_consumed")
            .cloned()
            .unwrap_or_else(|| panic!("checked"));
        assert_eq!(budget.outcome, Outcome::Inconclusive);
        assert_eq!(
            budget.reason.as_deref(),
            Some(
                "budget consumed unknown: Prometheus warning: store 10.0.0.1 did not answer: partial response (`(sum(rate(errors_total[720s]))) / (sum(rate(requests_total[720s])))` at 2026-01-01T01:12:00Z)"
            )
        );
        assert_eq!(s.unavailable[0].field, "windows.experiment.error_ratio");
        assert_eq!(report.queries[id].warnings.len(), 1);
    }

    #[test]
    fn a_failed_query_makes_the_report_inconclusive_even_when_no_data_would_pass() {
        let mut plan = plan();
        plan.slos[0].policy.on_no_data = NoDataPolicy::Pass;
        let mut outcomes = answers(&plan);
        // Query 0 is the ALERTS query: without it, the alerts' state is unknown.
        outcomes[0].result = Err(QueryFailure::Failed {
            message:
                "Prometheus at http://127.0.0.1:9090 answered HTTP 503 after 4 attempts: overloaded"
                    .to_owned(),
        });
        let report = build_report(&plan, &outcomes, &context());
        assert_eq!(report.checks[0].name, "prometheus");
        assert_eq!(report.checks[0].outcome, Outcome::Inconclusive);
        assert_eq!(
            report.checks[0].reason.as_deref(),
            Some(
                "1 of 10 queries failed; the first: Prometheus at http://127.0.0.1:9090 answered HTTP 503 after 4 attempts: overloaded"
            )
        );
        assert_eq!(report.queries[0].status, QueryStatus::Failed);
        // on_no_data: pass lets the SLO pass with the reason stated...
        assert_eq!(report.slos[0].evaluation.verdict, Outcome::Pass);
        assert_eq!(
            report.slos[0].evaluation.reasons[0],
            "state of expected alert A unknown: query failed: Prometheus at http://127.0.0.1:9090 answered HTTP 503 after 4 attempts: overloaded (on_no_data: pass)"
        );
        // ...but the report, whose queries failed, is inconclusive.
        assert_eq!(report.verdict, Outcome::Inconclusive);
    }

    #[test]
    fn the_text_table_is_coloured_only_when_asked() {
        let plan = plan();
        let report = build_report(&plan, &answers(&plan), &context());
        let plain = crate::report::text::render_text(&report, false);
        let coloured = crate::report::text::render_text(&report, true);
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains("\x1b[31mFAIL\x1b[0m"), "{coloured}");
        // Colour codes do not shift the columns: the visible text is the same.
        let strip = regex::Regex::new("\x1b\\[[0-9;]*m")
            .map(|re| re.replace_all(&coloured, "").into_owned());
        assert_eq!(strip.ok().as_deref(), Some(plain.as_str()));
    }
}

#[cfg(test)]
mod concurrency_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::experiment::plan::{ExperimentWindow, Resolution, plan_queries};
    use crate::prom::PromConfig;

    /// A fake Prometheus on 127.0.0.1 that holds each request 50ms and
    /// records how many were in flight at once.
    async fn counting_server() -> (String, Arc<AtomicUsize>) {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let (current, peak) = (Arc::clone(&in_flight), Arc::clone(&max));
        let handler = move || {
            let (current, peak) = (Arc::clone(&current), Arc::clone(&peak));
            async move {
                let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                current.fetch_sub(1, Ordering::SeqCst);
                (
                    [("content-type", "application/json")],
                    r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
                )
            }
        };
        let app = axum::Router::new()
            .route("/api/v1/query", axum::routing::post(handler.clone()))
            .route("/api/v1/query_range", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let url = listener
            .local_addr()
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, max)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_queries_than_the_limit_are_in_flight_at_once() {
        let (url, max) = counting_server().await;
        let spec = r#"version: prometheus/v1
service: s
slos:
  - name: a
    objective: 99
    sli:
      events:
        error_query: sum(rate(e_total[{{.window}}]))
        total_query: sum(rate(t_total[{{.window}}]))
"#;
        let set = crate::spec::load_sources(&[("s.yaml".into(), spec.to_owned())])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let slos: Vec<_> = set.slos().cloned().collect();
        let window = ExperimentWindow::new(1000.0, 2000.0, Some(1100.0), Some(1200.0), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let plan = plan_queries(&window, &Resolution::default(), &slos, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let client = PromClient::new(PromConfig {
            base_url: url,
            ..PromConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let options = RunOptions {
            concurrency: 2,
            now: 3000.0,
            progress: Some(Arc::new(move |_, _| {
                seen.fetch_add(1, Ordering::SeqCst);
            })),
        };
        let outcomes = run_plan(&client, &plan, &options).await;
        assert_eq!(outcomes.len(), 9);
        assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
        assert_eq!(max.load(Ordering::SeqCst), 2);
        // Once before the first answer, then once per answer.
        assert_eq!(calls.load(Ordering::SeqCst), 1 + 9);
    }
}
