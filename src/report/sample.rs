//! A synthetic, internally consistent report for previewing templates,
//! testing renderers and benchmarking them.
//!
//! [`sample_report`] runs the real pipeline's pure half — spec loading,
//! query planning and [`crate::experiment::build_report`] — over answers
//! computed from a known scenario (traffic, a fault, a recovery, alerts,
//! indicator levels), so every number in the sample is what verdict would
//! report for that scenario. Must not: query anything or read the clock.

use std::collections::BTreeMap;
use std::time::Duration;

use super::trend::{RunSummary, SloSummary};
use super::{ExperimentInfo, Link, Report, ReportExtras};
use crate::eval::policy::Outcome;
use crate::experiment::plan::{EventSource, Plan, QueryTime};
use crate::experiment::{
    ExperimentWindow, QueryOutcome, ReportContext, Resolution, build_report, plan_queries,
};
use crate::prom::{InstantSample, QueryData, QueryResult, RangeSeries};

/// The fault start of the sample: 2026-03-14T10:00:00Z.
pub const FAULT_START: f64 = 1_773_482_400.0;
/// The fault lasts 3 minutes.
pub const FAULT_SECONDS: f64 = 180.0;
/// Recovery is observed for 12 minutes after the fault.
pub const OBSERVE_SECONDS: f64 = 720.0;

/// Which verdict the sample should reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleVerdict {
    /// Every SLO recovers quickly, the alert fires in time.
    Pass,
    /// checkout-availability recovers too late and burns too much budget.
    Fail,
    /// One SLO has no data at all.
    Inconclusive,
}

/// The SLOs of the sample, in order; `sample_report` takes the first N.
const SLOS: [&str; 4] = [
    r#"  - name: availability
    objective: 99.9
    description: Share of checkout requests answered without a 5xx.
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    verdict:
      max_budget_consumed: 5%
      max_time_to_recover: 2m
      expect_alerts: [CheckoutErrorBudgetBurn]
      max_time_to_detect: 5m
"#,
    r#"  - name: latency
    objective: 99
    description: Checkout requests served within 300ms.
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: '{service="checkout"}'
        threshold: 0.3
    verdict:
      max_time_to_recover: 3m
"#,
    r#"  - name: payments-availability
    objective: 99.95
    description: Payment authorisations that succeed.
    sli:
      events:
        error_query: sum(rate(payments_total{result="error"}[{{.window}}]))
        total_query: sum(rate(payments_total[{{.window}}]))
"#,
    r#"  - name: search-availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(search_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(search_requests_total[{{.window}}]))
"#,
];

const INDICATORS: &str = r#"indicators:
  - name: cpu
    description: CPU cores used by checkout
    query: sum(rate(container_cpu_usage_seconds_total{app="checkout"}[{{.window}}]))
    pass:
      - ["<=+50%"]
    warning:
      - ["<=+100%"]
  - name: restarts
    description: Container restarts
    query: sum(kube_pod_container_status_restarts_total{app="checkout"})
    pass:
      - ["<=+5"]
"#;

/// How one SLO behaves in the scenario: error ratios before, during and
/// after the fault, and how long after the fault end errors linger.
#[derive(Debug, Clone, Copy)]
struct Behaviour {
    rps: f64,
    baseline: f64,
    fault: f64,
    lingering: f64,
    lingering_seconds: f64,
    after: f64,
    /// `None`: no data at all for this SLO.
    present: bool,
}

impl Behaviour {
    /// The true error ratio at `t`.
    fn ratio_at(&self, t: f64) -> f64 {
        let (fs, fe) = (FAULT_START, FAULT_START + FAULT_SECONDS);
        if t < fs {
            self.baseline
        } else if t < fe {
            self.fault
        } else if t < fe + self.lingering_seconds {
            self.lingering
        } else {
            self.after
        }
    }

    /// The mean error ratio over `[a, b]` (steady traffic), to the second.
    fn mean(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return f64::NAN;
        }
        let n = (b - a).round().max(1.0) as usize;
        let step = (b - a) / n as f64;
        (0..n)
            .map(|i| self.ratio_at(a + step * (i as f64 + 0.5)))
            .sum::<f64>()
            / n as f64
    }
}

fn behaviours(kind: SampleVerdict) -> [Behaviour; 4] {
    // 30% errors while pods die; they stop with the fault.
    let base = Behaviour {
        rps: 40.0,
        baseline: 0.0004,
        fault: 0.3,
        lingering: 0.0004,
        lingering_seconds: 0.0,
        after: 0.0004,
        present: true,
    };
    let checkout = match kind {
        // Errors linger 4 minutes at 3%: TTR well above the 2m limit.
        SampleVerdict::Fail => Behaviour {
            fault: 0.35,
            lingering: 0.03,
            lingering_seconds: 240.0,
            ..base
        },
        _ => base,
    };
    let latency = Behaviour {
        rps: 40.0,
        baseline: 0.004,
        fault: 0.09,
        lingering: 0.02,
        lingering_seconds: 45.0,
        after: 0.004,
        present: true,
    };
    let payments = Behaviour {
        rps: 12.0,
        baseline: 0.0,
        fault: 0.0002,
        lingering: 0.0,
        lingering_seconds: 0.0,
        after: 0.0,
        present: true,
    };
    let search = Behaviour {
        rps: 90.0,
        baseline: 0.001,
        fault: 0.02,
        lingering: 0.001,
        lingering_seconds: 0.0,
        after: 0.001,
        present: kind != SampleVerdict::Inconclusive,
    };
    [checkout, latency, payments, search]
}

/// A report of `slos` SLOs (1 to 4, clamped) and two indicators, reaching
/// `kind`. With `Inconclusive`, the fourth SLO (or the only one, if fewer
/// are asked for) has no data.
pub fn sample_report(kind: SampleVerdict, slos: usize) -> Report {
    let n = slos.clamp(1, SLOS.len());
    let mut spec = String::from("version: verdict/v1\nservice: checkout\nslos:\n");
    for s in &SLOS[..n] {
        spec.push_str(s);
    }
    spec.push_str(INDICATORS);
    let mut behaviour: Vec<Behaviour> = behaviours(kind)[..n].to_vec();
    if kind == SampleVerdict::Inconclusive
        && let Some(last) = behaviour.last_mut()
    {
        last.present = false;
    }
    let plan = plan(&spec);
    let outcomes = answers(&plan, &behaviour, kind);
    build_report(
        &plan,
        &outcomes,
        &ReportContext {
            prometheus: "http://prometheus.monitoring:9090".to_owned(),
            now: FAULT_START + FAULT_SECONDS + OBSERVE_SECONDS + 60.0,
        },
    )
}

fn plan(spec: &str) -> Plan {
    // The sample spec is a constant of this module: it always loads.
    let set = crate::spec::load_sources(&[("sample.yaml".into(), spec.to_owned())])
        .unwrap_or_else(|e| panic!("the sample spec is invalid: {e:?}"));
    let slos: Vec<_> = set.slos().cloned().collect();
    let indicators: Vec<_> = set
        .services
        .iter()
        .flat_map(|s| s.indicators.iter().map(|i| (s.name.clone(), i.clone())))
        .collect();
    let window = ExperimentWindow::new(
        FAULT_START - 300.0,
        FAULT_START + FAULT_SECONDS + OBSERVE_SECONDS,
        Some(FAULT_START),
        Some(FAULT_START + FAULT_SECONDS),
        None,
    )
    .unwrap_or_else(|e| panic!("the sample window is invalid: {e}"));
    plan_queries(&window, &Resolution::default(), &slos, &indicators)
        .unwrap_or_else(|e| panic!("the sample plan is invalid: {e}"))
}

enum Role {
    Ratio(usize, f64, f64),
    Rate(usize),
    Increase(usize, f64, f64),
    Series(usize),
    Alerts,
    Indicator(usize),
}

fn vector(v: Option<f64>) -> QueryData {
    QueryData::Vector(
        v.map(|v| InstantSample {
            labels: BTreeMap::new(),
            t: 0.0,
            v,
        })
        .into_iter()
        .collect(),
    )
}

fn answers(plan: &Plan, slos: &[Behaviour], kind: SampleVerdict) -> Vec<QueryOutcome> {
    let mut roles: BTreeMap<usize, Role> = BTreeMap::new();
    for (i, sp) in plan.slos.iter().enumerate() {
        for wq in [
            &sp.windows.baseline,
            &sp.windows.fault,
            &sp.windows.recovery,
            &sp.windows.experiment,
        ] {
            if let Some(id) = wq.error_ratio {
                roles.insert(id, Role::Ratio(i, wq.start, wq.end));
            }
            match wq.events {
                EventSource::Rate(id) => {
                    roles.insert(id, Role::Rate(i));
                }
                EventSource::Increase(id) => {
                    roles.insert(id, Role::Increase(i, wq.start, wq.end));
                }
                EventSource::Unavailable(_) => {}
            }
        }
        roles.insert(sp.error_ratio_series, Role::Series(i));
        if let Some(id) = sp.alerts {
            roles.insert(id, Role::Alerts);
        }
    }
    for (i, ip) in plan.indicators.iter().enumerate() {
        roles.insert(ip.query, Role::Indicator(i));
    }
    let r = plan.resolution.rate_window_seconds;
    let (fs, fe) = (FAULT_START, FAULT_START + FAULT_SECONDS);
    plan.queries
        .iter()
        .map(|q| {
            let grid = |f: &dyn Fn(f64) -> Option<f64>| -> Vec<(f64, f64)> {
                match q.at {
                    QueryTime::Range { start, end, step } => {
                        let n = ((end - start) / step).round() as usize;
                        (0..=n)
                            .map(|k| start + k as f64 * step)
                            .filter_map(|t| f(t).map(|v| (t, v)))
                            .collect()
                    }
                    QueryTime::Instant { .. } => Vec::new(),
                }
            };
            let matrix = |labels: BTreeMap<String, String>, points: Vec<(f64, f64)>| {
                QueryData::Matrix(if points.is_empty() {
                    Vec::new()
                } else {
                    vec![RangeSeries { labels, points }]
                })
            };
            let data = match roles.get(&q.id) {
                Some(Role::Ratio(i, a, b)) => {
                    let s = &slos[*i];
                    vector(s.present.then(|| s.mean(*a, *b)))
                }
                Some(Role::Rate(i)) => {
                    let s = &slos[*i];
                    vector(s.present.then_some(s.rps))
                }
                Some(Role::Increase(i, a, b)) => {
                    let s = &slos[*i];
                    vector(s.present.then_some(s.rps * (b - a)))
                }
                Some(Role::Series(i)) => {
                    let s = slos[*i];
                    matrix(
                        BTreeMap::new(),
                        grid(&|t| s.present.then(|| s.mean(t - r, t))),
                    )
                }
                Some(Role::Alerts) => {
                    // The page alert fires 2m15s into the fault (in time for
                    // the 5m limit) and resolves 3m after the fault ends.
                    let fires = match kind {
                        SampleVerdict::Fail => fs + 255.0,
                        _ => fs + 135.0,
                    };
                    let labels: BTreeMap<String, String> = [
                        ("alertname".to_owned(), "CheckoutErrorBudgetBurn".to_owned()),
                        ("alertstate".to_owned(), "firing".to_owned()),
                        ("severity".to_owned(), "page".to_owned()),
                    ]
                    .into();
                    matrix(
                        labels,
                        grid(&|t| (t >= fires && t < fe + 180.0).then_some(1.0)),
                    )
                }
                Some(Role::Indicator(0)) => matrix(
                    BTreeMap::new(),
                    grid(&|t| {
                        // 0.8 cores, +35% under the fault, a little noise.
                        let wobble = ((t / 15.0).sin()) * 0.03;
                        Some(if t >= fs && t < fe + 30.0 { 1.08 } else { 0.8 } + wobble)
                    }),
                ),
                Some(Role::Indicator(_)) => matrix(
                    BTreeMap::new(),
                    grid(&|t| Some(if t >= fs + 20.0 { 2.0 } else { 0.0 })),
                ),
                None => vector(None),
            };
            QueryOutcome {
                id: q.id,
                result: Ok(QueryResult {
                    data,
                    warnings: Vec::new(),
                }),
                duration: Duration::from_millis(4 + (q.id as u64 * 7) % 23),
            }
        })
        .collect()
}

/// Extras for the sample: the experiment (a pod kill on checkout, with
/// links) and five earlier runs that passed with a TTR of 55s–1m10s.
pub fn sample_extras() -> ReportExtras {
    let previous = [60.0, 55.0, 70.0, 60.0, 65.0]
        .iter()
        .enumerate()
        .map(|(i, ttr)| RunSummary {
            experiment: "checkout pod-kill".to_owned(),
            run: Some(format!("exp-{}", 100 + i)),
            fault_start: FAULT_START - 86_400.0 * (5 - i) as f64,
            verdict: Outcome::Pass,
            slos: vec![SloSummary {
                id: "checkout-availability".to_owned(),
                recovered: Some(true),
                time_to_recover_seconds: Some(*ttr),
                time_to_detect_seconds: Some(120.0 + 15.0 * i as f64),
                budget_consumed: Some(0.019 + 0.001 * i as f64),
                peak_burn_rate: Some(280.0 + 10.0 * i as f64),
            }],
        })
        .collect();
    ReportExtras {
        experiment: Some(ExperimentInfo {
            id: Some("exp-106".to_owned()),
            name: "checkout pod-kill".to_owned(),
            kind: Some("pod-kill".to_owned()),
            target: Some("checkout in namespace shop (app=checkout)".to_owned()),
            description: Some(
                "Kill one of three checkout pods every 30s for 3 minutes.".to_owned(),
            ),
            links: vec![
                Link {
                    title: "Chaos run".to_owned(),
                    url: "https://chaos.example.com/runs/exp-106".to_owned(),
                },
                Link {
                    title: "Dashboard".to_owned(),
                    url: "https://grafana.example.com/d/checkout".to_owned(),
                },
            ],
        }),
        previous_runs: previous,
        report_url: Some("https://verdict.example.com/experiments/exp-106".to_owned()),
        chart_base_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sample_reaches_its_verdict() {
        assert_eq!(sample_report(SampleVerdict::Pass, 4).verdict, Outcome::Pass);
        assert_eq!(sample_report(SampleVerdict::Fail, 4).verdict, Outcome::Fail);
        assert_eq!(
            sample_report(SampleVerdict::Inconclusive, 4).verdict,
            Outcome::Inconclusive
        );
    }
}
