//! Query planning: for one experiment window and a set of SLOs and
//! indicators, the minimal set of instant and range queries at fixed
//! timestamps that the verdict needs.
//!
//! Owns [`ExperimentWindow`] (from, to, fault start and end, baseline
//! start: Unix seconds, validated), [`Resolution`] (step `s` and rolling
//! window `r` of the range queries), [`PlannedQuery`] (resolved PromQL with
//! its time or range and step) and [`plan_queries`], which lists, per SLO:
//!
//! - for each window `[a, b]` (baseline, fault, recovery, experiment), the
//!   error ratio: the error-ratio template with `{{.window}}` = `b − a` in
//!   seconds (e.g. `623s`), instant query at `b`;
//! - for each window, its events: the SLI's total query likewise (a
//!   per-second rate, multiplied by the window's seconds), or for a latency
//!   SLI `sum(increase(<histogram>_count{…}[w]))`, built here; a `raw` SLI
//!   has no event count;
//! - `E_r(t)`: the error-ratio template with window `r`, range query over
//!   `[baseline_start, to]` at step `s`;
//!
//! one range query of `ALERTS{alertstate="firing",alertname=~"A|B|…"}` over
//! the same range for every alert any SLO expects, and one range query per
//! indicator. Identical (query, time) pairs are planned once and shared, so
//! nothing is asked twice. No I/O: running the plan is
//! [`evaluate`](super::evaluate)'s job.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::mapping::{self, MappingError};
use super::timeparse::{format_time, promql_duration};
use crate::eval::criteria::Criteria;
use crate::eval::policy::Policy;
use crate::eval::series::SeriesShape;
use crate::eval::slo::WindowSet;
use crate::eval::timeline::{Timeline, WindowKind, default_baseline_seconds};
use crate::eval::window::SloTarget;
use crate::spec::promql::render_window;
use crate::spec::{Indicator, Sli, Slo};

/// Most points Prometheus returns per series of a range query (its
/// `query_range` limit is 11,000).
pub const MAX_POINTS_PER_SERIES: f64 = 11_000.0;

/// The reason a `raw` SLI reports no events, and the `min_events` check's
/// reason for it.
pub const RAW_SLI_NO_EVENTS: &str = "raw SLI has no event count; set min_events: 0 to accept";

/// Why a plan cannot be made: invalid flags or specs (exit code 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The times do not describe an experiment.
    #[error("invalid experiment window: {0}")]
    Window(String),
    /// Step or rate window unusable.
    #[error("invalid resolution: {0}")]
    Resolution(String),
    /// A range query would exceed Prometheus's limit of points per series.
    #[error(
        "a range query over {seconds}s at step {step}s needs {points} points per series, more than Prometheus's limit of 11000: use --step {suggested}s or more"
    )]
    TooManyPoints {
        /// Length of the range.
        seconds: f64,
        /// The step asked for.
        step: f64,
        /// Points that would be needed.
        points: f64,
        /// Smallest whole-second step that fits.
        suggested: f64,
    },
    /// A spec value the evaluation core cannot use.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// Nothing to evaluate.
    #[error("nothing to evaluate: {0}")]
    Empty(String),
}

/// The experiment's instants, Unix seconds. Constructed through
/// [`ExperimentWindow::new`], so `from ≤ fault_start < fault_end ≤ to` and
/// `baseline_start ≤ fault_start` hold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExperimentWindow {
    /// Start of the experiment as given.
    pub from: f64,
    /// End of the experiment (end of the recovery observation).
    pub to: f64,
    /// Fault start (`from` unless given).
    pub fault_start: f64,
    /// Fault end (`to` unless given).
    pub fault_end: f64,
    /// Start of the baseline, which ends at the fault start.
    pub baseline_start: f64,
}

impl ExperimentWindow {
    /// Builds the window. Without a fault start or end the fault covers
    /// `[from, to]`; without `baseline_seconds` the baseline is as long as
    /// the fault, at least 5m (it may begin before `from`).
    pub fn new(
        from: f64,
        to: f64,
        fault_start: Option<f64>,
        fault_end: Option<f64>,
        baseline_seconds: Option<f64>,
    ) -> Result<Self, PlanError> {
        let fault_start = fault_start.unwrap_or(from);
        let fault_end = fault_end.unwrap_or(to);
        let show = format_time;
        if !(from.is_finite() && to.is_finite()) {
            return Err(PlanError::Window("times must be finite".to_owned()));
        }
        if from >= to {
            return Err(PlanError::Window(format!(
                "--from {} is not before --to {}",
                show(from),
                show(to)
            )));
        }
        if fault_start < from || fault_start >= to {
            return Err(PlanError::Window(format!(
                "--fault-start {} is outside [--from {}, --to {})",
                show(fault_start),
                show(from),
                show(to)
            )));
        }
        if fault_end <= fault_start || fault_end > to {
            return Err(PlanError::Window(format!(
                "--fault-end {} must be after the fault start {} and not after --to {}",
                show(fault_end),
                show(fault_start),
                show(to)
            )));
        }
        let baseline = match baseline_seconds {
            Some(b) if !(b.is_finite() && b >= 0.0) => {
                return Err(PlanError::Window(format!("baseline {b}s is negative")));
            }
            Some(b) => b,
            None => default_baseline_seconds(fault_end - fault_start),
        };
        Ok(ExperimentWindow {
            from,
            to,
            fault_start,
            fault_end,
            baseline_start: fault_start - baseline,
        })
    }

    /// The evaluation core's timeline: baseline start, fault, observation end `to`.
    pub fn timeline(&self) -> Timeline {
        // The constructor checked the order Timeline::new checks again.
        Timeline::new(
            self.baseline_start,
            self.fault_start,
            self.fault_end,
            self.to,
        )
        .unwrap_or_else(|_| unreachable_timeline(self))
    }
}

/// A timeline that cannot fail: only reached if the invariants above were broken.
fn unreachable_timeline(w: &ExperimentWindow) -> Timeline {
    let start = w.fault_start.min(w.fault_end);
    Timeline::new(start, start, start + 1.0, start + 1.0).unwrap_or_else(|_| {
        Timeline::new(0.0, 0.0, 1.0, 1.0).unwrap_or_else(|_| unreachable_timeline(w))
    })
}

/// Step `s` and rolling window `r` of the range queries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Resolution {
    /// Step `s`, seconds.
    pub step_seconds: f64,
    /// Rolling window `r` of `E_r`, seconds.
    pub rate_window_seconds: f64,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution {
            step_seconds: crate::eval::series::DEFAULT_STEP_SECONDS,
            rate_window_seconds: crate::eval::series::DEFAULT_RATE_WINDOW_SECONDS,
        }
    }
}

impl Resolution {
    /// `s > 0` and `r ≥ 2 × s`: a rate needs two samples in its window, and
    /// the step is meant to be the scrape interval.
    pub fn new(step_seconds: f64, rate_window_seconds: f64) -> Result<Self, PlanError> {
        if !(step_seconds.is_finite() && step_seconds >= 0.001) {
            return Err(PlanError::Resolution(format!(
                "--step {step_seconds}s must be at least 1ms"
            )));
        }
        if !(rate_window_seconds.is_finite() && rate_window_seconds >= 2.0 * step_seconds) {
            return Err(PlanError::Resolution(format!(
                "--rate-window {}s must be at least twice the step {}s (a rate needs two samples in its window)",
                rate_window_seconds, step_seconds
            )));
        }
        Ok(Resolution {
            step_seconds,
            rate_window_seconds,
        })
    }

    /// The evaluation core's description of the series.
    pub fn shape(&self) -> SeriesShape {
        SeriesShape::new(self.step_seconds, self.rate_window_seconds).unwrap_or_default()
    }
}

/// When a query is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueryTime {
    /// `/api/v1/query` at `time`.
    Instant {
        /// Unix seconds.
        time: f64,
    },
    /// `/api/v1/query_range` from `start` to `end` every `step` seconds.
    Range {
        /// Unix seconds.
        start: f64,
        /// Unix seconds.
        end: f64,
        /// Seconds.
        step: f64,
    },
}

impl QueryTime {
    /// The last instant the query looks at.
    pub fn ends_at(&self) -> f64 {
        match self {
            QueryTime::Instant { time } => *time,
            QueryTime::Range { end, .. } => *end,
        }
    }

    fn key(&self) -> String {
        match self {
            QueryTime::Instant { time } => format!("@{time:.3}"),
            QueryTime::Range { start, end, step } => format!("{start:.3}:{end:.3}:{step:.3}"),
        }
    }

    /// `at 2026-…Z` or `over 2026-…Z … 2026-…Z step 15s`, for messages.
    pub fn describe(&self) -> String {
        match self {
            QueryTime::Instant { time } => format!("at {}", format_time(*time)),
            QueryTime::Range { start, end, step } => format!(
                "over {} … {} step {}",
                format_time(*start),
                format_time(*end),
                promql_duration(*step)
            ),
        }
    }
}

/// One query of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedQuery {
    /// Index in [`Plan::queries`].
    pub id: usize,
    /// The PromQL sent, placeholders resolved.
    pub promql: String,
    /// When it is evaluated.
    #[serde(flatten)]
    pub at: QueryTime,
    /// What the verdict uses it for, e.g. `checkout-availability: fault error ratio`.
    pub purposes: Vec<String>,
}

/// Where a window's event count comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum EventSource {
    /// A per-second rate (the SLI's total query): events = value × window seconds.
    Rate(usize),
    /// An increase over the window (built for latency SLIs): events = value.
    Increase(usize),
    /// None; the reason is reported as the missing value's reason.
    Unavailable(String),
}

impl EventSource {
    /// The query it reads, if any.
    pub fn query(&self) -> Option<usize> {
        match self {
            EventSource::Rate(id) | EventSource::Increase(id) => Some(*id),
            EventSource::Unavailable(_) => None,
        }
    }
}

/// The queries of one window of one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowQueries {
    /// Start and end, Unix seconds.
    pub start: f64,
    /// End; the instant queries are evaluated here.
    pub end: f64,
    /// The error ratio over the window; `None` when the window is empty.
    pub error_ratio: Option<usize>,
    /// Its events.
    pub events: EventSource,
}

/// Everything planned for one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct SloPlan {
    /// The SLO as loaded.
    pub slo: Slo,
    /// Objective and period.
    pub target: SloTarget,
    /// Its `verdict:` block.
    pub policy: Policy,
    /// Per-window queries.
    pub windows: WindowSet<WindowQueries>,
    /// `E_r(t)` over `[baseline_start, to]`.
    pub error_ratio_series: usize,
    /// The shared `ALERTS` query, when the SLO expects alerts.
    pub alerts: Option<usize>,
}

/// Everything planned for one indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorPlan {
    /// The service it belongs to.
    pub service: String,
    /// The indicator as loaded.
    pub indicator: Indicator,
    /// Its criteria, parsed.
    pub criteria: Criteria,
    /// Its range query over `[baseline_start, to]`.
    pub query: usize,
}

/// The queries of one evaluation and what each result is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The experiment's instants.
    pub window: ExperimentWindow,
    /// Step and rolling window.
    pub resolution: Resolution,
    /// Every query, each distinct (PromQL, time) once.
    pub queries: Vec<PlannedQuery>,
    /// Per SLO, in the order given.
    pub slos: Vec<SloPlan>,
    /// Per indicator, in the order given.
    pub indicators: Vec<IndicatorPlan>,
}

/// Collects queries, sharing identical ones.
#[derive(Default)]
struct Builder {
    queries: Vec<PlannedQuery>,
    index: HashMap<(String, String), usize>,
}

impl Builder {
    fn add(&mut self, promql: String, at: QueryTime, purpose: String) -> usize {
        let key = (promql.clone(), at.key());
        if let Some(&id) = self.index.get(&key) {
            if let Some(q) = self.queries.get_mut(id)
                && !q.purposes.contains(&purpose)
            {
                q.purposes.push(purpose);
            }
            return id;
        }
        let id = self.queries.len();
        self.queries.push(PlannedQuery {
            id,
            promql,
            at,
            purposes: vec![purpose],
        });
        self.index.insert(key, id);
        id
    }
}

/// The total-events expression of a latency SLI over `[{{.window}}]`:
/// `sum(increase(<histogram>_count{…}[w]))`.
fn latency_increase_template(sli: &Sli) -> Option<String> {
    let (_, total) = sli.latency_queries()?;
    total
        .strip_prefix("sum(rate(")
        .map(|rest| format!("sum(increase({rest}"))
}

fn check_points(seconds: f64, step: f64) -> Result<(), PlanError> {
    let points = (seconds / step).floor() + 1.0;
    if points > MAX_POINTS_PER_SERIES {
        return Err(PlanError::TooManyPoints {
            seconds,
            step,
            points,
            suggested: (seconds / (MAX_POINTS_PER_SERIES - 1.0)).ceil(),
        });
    }
    Ok(())
}

/// Plans the queries for `slos` and `indicators` (each with its service)
/// over `window` at `resolution`.
pub fn plan_queries(
    window: &ExperimentWindow,
    resolution: &Resolution,
    slos: &[Slo],
    indicators: &[(String, Indicator)],
) -> Result<Plan, PlanError> {
    if slos.is_empty() && indicators.is_empty() {
        return Err(PlanError::Empty("no SLO or indicator selected".to_owned()));
    }
    let timeline = window.timeline();
    let range = QueryTime::Range {
        start: window.baseline_start,
        end: window.to,
        step: resolution.step_seconds,
    };
    check_points(window.to - window.baseline_start, resolution.step_seconds)?;
    let rate_window = promql_duration(resolution.rate_window_seconds);
    let mut b = Builder::default();

    // One ALERTS query for every expected alert of every SLO.
    let alert_names: BTreeSet<&str> = slos
        .iter()
        .flat_map(|s| s.verdict.expect_alerts.iter().map(String::as_str))
        .collect();
    let alerts = if alert_names.is_empty() {
        None
    } else {
        let pattern: Vec<String> = alert_names.iter().map(|n| regex::escape(n)).collect();
        let promql = format!(
            "ALERTS{{alertstate=\"firing\",alertname=~\"{}\"}}",
            pattern.join("|").replace('\\', "\\\\")
        );
        Some(b.add(
            promql,
            range,
            format!(
                "expected alerts {}",
                alert_names.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        ))
    };

    let mut slo_plans = Vec::with_capacity(slos.len());
    for slo in slos {
        let target = mapping::target_from_slo(slo)?;
        let template = slo.sli.error_ratio_template();
        let mut window_queries = |kind: WindowKind| {
            let w = timeline.window(kind);
            let length = w.length_seconds();
            let name = kind.as_str();
            if length <= 0.0 {
                let reason = format!("the {name} window is empty");
                return WindowQueries {
                    start: w.start,
                    end: w.end,
                    error_ratio: None,
                    events: EventSource::Unavailable(reason),
                };
            }
            let range = promql_duration(length);
            let at = QueryTime::Instant { time: w.end };
            let error_ratio = b.add(
                render_window(&template, &range),
                at,
                format!("{}: {name} error ratio", slo.id),
            );
            let events_purpose = format!("{}: {name} events", slo.id);
            let events = match &slo.sli {
                Sli::Events { total_query, .. } | Sli::GoodTotal { total_query, .. } => {
                    EventSource::Rate(b.add(
                        render_window(total_query.trim(), &range),
                        at,
                        events_purpose,
                    ))
                }
                Sli::Latency { .. } => match latency_increase_template(&slo.sli) {
                    Some(t) => {
                        EventSource::Increase(b.add(render_window(&t, &range), at, events_purpose))
                    }
                    None => {
                        let (_, total) = slo.sli.latency_queries().unwrap_or_default();
                        EventSource::Rate(b.add(render_window(&total, &range), at, events_purpose))
                    }
                },
                Sli::Raw { .. } => EventSource::Unavailable(RAW_SLI_NO_EVENTS.to_owned()),
            };
            WindowQueries {
                start: w.start,
                end: w.end,
                error_ratio: Some(error_ratio),
                events,
            }
        };
        let windows = WindowSet {
            baseline: window_queries(WindowKind::Baseline),
            fault: window_queries(WindowKind::Fault),
            recovery: window_queries(WindowKind::Recovery),
            experiment: window_queries(WindowKind::Experiment),
        };
        let error_ratio_series = b.add(
            render_window(&template, &rate_window),
            range,
            format!("{}: error ratio over {rate_window} (E_r)", slo.id),
        );
        let alerts = if slo.verdict.expect_alerts.is_empty() {
            None
        } else {
            alerts
        };
        slo_plans.push(SloPlan {
            slo: slo.clone(),
            target,
            policy: mapping::policy_from_spec(&slo.verdict),
            windows,
            error_ratio_series,
            alerts,
        });
    }

    let mut indicator_plans = Vec::with_capacity(indicators.len());
    for (service, ind) in indicators {
        let criteria = mapping::criteria_from_indicator(service, ind)?;
        let query = b.add(
            render_window(ind.query.trim(), &rate_window),
            range,
            format!("indicator {service}/{}", ind.name),
        );
        indicator_plans.push(IndicatorPlan {
            service: service.clone(),
            indicator: ind.clone(),
            criteria,
            query,
        });
    }

    Ok(Plan {
        window: *window,
        resolution: *resolution,
        queries: b.queries,
        slos: slo_plans,
        indicators: indicator_plans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load_sources;

    const T: f64 = 1_767_229_200.0;

    fn load(text: &str) -> (Vec<Slo>, Vec<(String, Indicator)>) {
        let set = load_sources(&[("slos.yaml".into(), text.to_owned())])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let slos = set.slos().cloned().collect();
        let indicators = set
            .services
            .iter()
            .flat_map(|s| s.indicators.iter().map(|i| (s.name.clone(), i.clone())))
            .collect();
        (slos, indicators)
    }

    const SPEC: &str = r#"version: verdict/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    verdict:
      expect_alerts: [CheckoutPage, "Checkout.Ticket"]
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: '{service="checkout"}'
        threshold: 0.3
    verdict:
      expect_alerts: [CheckoutPage]
  - name: raw
    objective: 99
    sli:
      raw:
        error_ratio_query: max_over_time(checkout:error_ratio[{{.window}}])
indicators:
  - name: cpu
    query: avg(container_cpu_usage)
    pass:
      - ["<=+20%"]
"#;

    fn window() -> ExperimentWindow {
        ExperimentWindow::new(T - 300.0, T + 720.0, Some(T), Some(T + 120.0), None)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn each_window_is_one_instant_query_at_its_end_with_its_length_in_seconds() {
        let (slos, indicators) = load(SPEC);
        let plan = plan_queries(&window(), &Resolution::default(), &slos, &indicators)
            .unwrap_or_else(|e| panic!("{e}"));
        let q = |id: Option<usize>| id.and_then(|i| plan.queries.get(i)).cloned();
        let avail = &plan.slos[0];
        let fault = q(avail.windows.fault.error_ratio).unwrap_or_else(|| panic!("planned"));
        assert_eq!(
            fault.promql,
            "(sum(rate(http_requests_total{code=~\"5..\"}[120s])))\n/\n(sum(rate(http_requests_total[120s])))"
        );
        assert_eq!(fault.at, QueryTime::Instant { time: T + 120.0 });
        let baseline = q(avail.windows.baseline.error_ratio).unwrap_or_else(|| panic!("planned"));
        assert!(baseline.promql.contains("[300s]"), "{}", baseline.promql);
        assert_eq!(baseline.at, QueryTime::Instant { time: T });
        let recovery =
            q(avail.windows.recovery.events.query()).unwrap_or_else(|| panic!("planned"));
        assert_eq!(recovery.promql, "sum(rate(http_requests_total[600s]))");
        assert_eq!(recovery.at, QueryTime::Instant { time: T + 720.0 });
        assert!(matches!(
            avail.windows.experiment.events,
            EventSource::Rate(_)
        ));

        // The latency SLI's events are an increase of the histogram's count.
        let latency = &plan.slos[1];
        let events = q(latency.windows.fault.events.query()).unwrap_or_else(|| panic!("planned"));
        assert_eq!(
            events.promql,
            "sum(increase(http_request_duration_seconds_count{service=\"checkout\"}[120s]))"
        );
        assert!(matches!(
            latency.windows.fault.events,
            EventSource::Increase(_)
        ));
        // The raw SLI has none.
        assert_eq!(
            plan.slos[2].windows.fault.events,
            EventSource::Unavailable(RAW_SLI_NO_EVENTS.to_owned())
        );
    }

    #[test]
    fn range_queries_cover_the_baseline_to_the_end_and_alerts_are_asked_once() {
        let (slos, indicators) = load(SPEC);
        let plan = plan_queries(&window(), &Resolution::default(), &slos, &indicators)
            .unwrap_or_else(|e| panic!("{e}"));
        let range = QueryTime::Range {
            start: T - 300.0,
            end: T + 720.0,
            step: 15.0,
        };
        let series = &plan.queries[plan.slos[0].error_ratio_series];
        assert_eq!(series.at, range);
        assert!(series.promql.contains("[60s]"));
        let alerts = plan.slos[0].alerts.unwrap_or(usize::MAX);
        assert_eq!(plan.slos[1].alerts, Some(alerts));
        assert_eq!(plan.slos[2].alerts, None);
        assert_eq!(
            plan.queries[alerts].promql,
            r#"ALERTS{alertstate="firing",alertname=~"Checkout\\.Ticket|CheckoutPage"}"#
        );
        assert!(promql_parser::parser::parse(&plan.queries[alerts].promql).is_ok());
        assert_eq!(plan.queries[alerts].at, range);
        let ind = &plan.queries[plan.indicators[0].query];
        assert_eq!(ind.promql, "avg(container_cpu_usage)");
        assert_eq!(ind.purposes, vec!["indicator checkout/cpu".to_owned()]);
        // 1 alerts query; per events/latency SLO 4 ratios + 4 event counts +
        // E_r; raw: 4 ratios + E_r; 1 indicator.
        assert_eq!(plan.queries.len(), 1 + 9 + 9 + 5 + 1);
        let distinct: BTreeSet<(String, String)> = plan
            .queries
            .iter()
            .map(|q| (q.promql.clone(), q.at.key()))
            .collect();
        assert_eq!(distinct.len(), plan.queries.len());
    }

    #[test]
    fn the_same_query_at_the_same_time_is_planned_once_with_both_purposes() {
        let (slos, _) = load(SPEC);
        let twice = vec![slos[0].clone(), {
            let mut other = slos[0].clone();
            other.id = "checkout-availability-copy".to_owned();
            other
        }];
        let plan = plan_queries(&window(), &Resolution::default(), &twice, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.queries.len(), 1 + 9);
        assert_eq!(
            plan.queries[plan.slos[1].error_ratio_series].purposes,
            vec![
                "checkout-availability: error ratio over 60s (E_r)".to_owned(),
                "checkout-availability-copy: error ratio over 60s (E_r)".to_owned()
            ]
        );
    }

    #[test]
    fn a_fault_until_the_end_leaves_the_recovery_window_unplanned() {
        let (slos, _) = load(SPEC);
        let w =
            ExperimentWindow::new(T, T + 600.0, None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (w.fault_start, w.fault_end, w.baseline_start),
            (T, T + 600.0, T - 600.0)
        );
        let plan = plan_queries(&w, &Resolution::default(), &slos[..1], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.slos[0].windows.recovery.error_ratio, None);
        assert_eq!(
            plan.slos[0].windows.recovery.events,
            EventSource::Unavailable("the recovery window is empty".to_owned())
        );
    }

    #[test]
    fn windows_and_resolutions_that_make_no_sense_are_rejected() {
        let e = |r: Result<ExperimentWindow, PlanError>| {
            r.err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(e(ExperimentWindow::new(T, T, None, None, None)).contains("is not before --to"));
        assert!(
            e(ExperimentWindow::new(
                T,
                T + 60.0,
                Some(T - 1.0),
                None,
                None
            ))
            .contains("--fault-start")
        );
        assert!(
            e(ExperimentWindow::new(
                T,
                T + 60.0,
                None,
                Some(T + 61.0),
                None
            ))
            .contains("--fault-end")
        );
        assert!(
            e(ExperimentWindow::new(
                T,
                T + 60.0,
                Some(T + 30.0),
                Some(T + 30.0),
                None
            ))
            .contains("--fault-end")
        );
        let baseline = ExperimentWindow::new(T, T + 60.0, None, None, Some(900.0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(baseline.baseline_start, T - 900.0);
        assert!(Resolution::new(15.0, 20.0).is_err());
        assert!(Resolution::new(0.0, 60.0).is_err());
        assert!(Resolution::new(15.0, 30.0).is_ok());
        let (slos, _) = load(SPEC);
        let long = ExperimentWindow::new(T, T + 2.0 * 86_400.0, None, Some(T + 600.0), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let err = plan_queries(&long, &Resolution::default(), &slos, &[]).err();
        assert!(
            matches!(err, Some(PlanError::TooManyPoints { suggested, .. }) if suggested == 16.0),
            "{err:?}"
        );
    }
}
