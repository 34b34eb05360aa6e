//! One SLO's evaluation: every number and check from its query results.
//!
//! Owns [`SloInput`] (what the caller measured: one error ratio and event
//! count per window, the short-window error-ratio series, alert
//! observations), [`evaluate_slo`], which runs the window, recovery,
//! detection and policy functions over it, and [`SloEvaluation`], the
//! serializable result the JSON output and reports are built from. No I/O:
//! the caller queries Prometheus and passes the results (or their data
//! conditions) in.

use serde::{Deserialize, Serialize};

use super::detection::{
    AlertDetection, AlertInput, BurnAlertWindow, FiredAlert, UnknownAlert, detect_alerts,
    predict_page_alert,
};
use super::measure::Measure;
use super::policy::{
    Check, Outcome, Policy, check_budget_consumed, check_expected_alerts, check_min_events,
    check_peak_burn_rate, check_time_to_detect, check_time_to_recover, worst_of,
};
use super::recovery::{
    BaselineBand, HealthRule, PeakBurn, RecoveryAnalysis, RecoveryParams, analyze_recovery,
    find_peak_burn,
};
use super::series::SeriesShape;
use super::timeline::{Timeline, WindowKind};
use super::window::{SloTarget, WindowMeasurement, WindowStats, compute_window_stats};

/// One value per experiment window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSet<T> {
    /// Before the fault.
    pub baseline: T,
    /// During the fault.
    pub fault: T,
    /// After the fault, until the end of the observation.
    pub recovery: T,
    /// Fault and recovery together.
    pub experiment: T,
}

impl<T> WindowSet<T> {
    fn map<U>(&self, mut f: impl FnMut(WindowKind, &T) -> U) -> WindowSet<U> {
        WindowSet {
            baseline: f(WindowKind::Baseline, &self.baseline),
            fault: f(WindowKind::Fault, &self.fault),
            recovery: f(WindowKind::Recovery, &self.recovery),
            experiment: f(WindowKind::Experiment, &self.experiment),
        }
    }
}

/// Everything measured for one SLO over one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct SloInput {
    /// Objective and period.
    pub target: SloTarget,
    /// Baseline start, fault start and end, observation end.
    pub timeline: Timeline,
    /// Error ratio and total events per window.
    pub windows: WindowSet<WindowMeasurement>,
    /// `E_r(t)` over the experiment, including the baseline before the fault.
    pub error_ratio_series: Measure<Vec<(f64, f64)>>,
    /// Step and rolling window of that series.
    pub series_shape: SeriesShape,
    /// What was observed of the expected alerts.
    pub alerts: Vec<AlertInput>,
    /// The page alert's window pairs, for the predicted time to detect
    /// (usually [`BurnAlertWindow::page_windows`] of the SLO period).
    pub page_alert_windows: Vec<BurnAlertWindow>,
}

/// Average and peak burn rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnRateSummary {
    /// Burn rate over the fault window, `E_fault / B`.
    pub average: Measure<f64>,
    /// `max_t E_r(t) / B` over the experiment (fault + recovery).
    pub peak: Measure<f64>,
    /// When the peak was first reached.
    pub peak_at: Option<f64>,
}

/// Share of the period's budget consumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetSummary {
    /// By the fault window.
    pub fault: Measure<f64>,
    /// By the whole experiment (fault + recovery); the one `max_budget_consumed` judges.
    pub experiment: Measure<f64>,
}

/// Observed and predicted detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionReport {
    /// Alert names from `expect_alerts`.
    pub expected_alerts: Vec<String>,
    /// Those that fired, with when.
    pub fired: Vec<FiredAlert>,
    /// Those that did not fire.
    pub not_fired: Vec<String>,
    /// Those whose state is unknown, with why.
    pub unknown: Vec<UnknownAlert>,
    /// First expected alert firing minus the fault start.
    pub time_to_detect_seconds: Option<f64>,
    /// When the page alert should have fired, minus the fault start.
    pub predicted_time_to_detect_seconds: Option<f64>,
    /// The window pair predicted to fire first.
    pub predicted_window: Option<BurnAlertWindow>,
}

/// Every number and check of one SLO, and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloEvaluation {
    /// Per-window numbers.
    pub windows: WindowSet<WindowStats>,
    /// Average (fault window) and peak burn rate.
    pub burn_rate: BurnRateSummary,
    /// Budget consumed by the fault and by the experiment.
    pub budget_consumed: BudgetSummary,
    /// Impact and recovery.
    pub recovery: RecoveryAnalysis,
    /// Alerts and time to detect.
    pub detection: DetectionReport,
    /// The judged numbers, in policy order.
    pub checks: Vec<Check>,
    /// Worst outcome of the checks.
    pub verdict: Outcome,
    /// The reasons of the checks that have one, in check order.
    pub reasons: Vec<String>,
    /// Assumptions and remarks that did not change the verdict.
    pub notes: Vec<String>,
}

/// Evaluates one SLO: window numbers, burn rates, budget, recovery,
/// detection, the policy's checks and the verdict (worst of the checks).
pub fn evaluate_slo(input: &SloInput, policy: &Policy) -> SloEvaluation {
    let timeline = &input.timeline;
    let target = &input.target;
    let budget = target.error_budget();
    let windows = input
        .windows
        .map(|kind, measured| compute_window_stats(target, kind, timeline.window(kind), measured));
    let mut notes = vec!["budget consumed assumes steady traffic within each window".to_owned()];

    let shape = input.series_shape;
    let (recovery, peak) = match &input.error_ratio_series {
        Measure::Value(series) => {
            let params = RecoveryParams {
                error_budget: budget,
                shape,
                stable_for_seconds: policy.recovery.stable_for_seconds,
                rule: HealthRule {
                    threshold: policy.recovery.threshold,
                    within_baseline: policy.recovery.within_baseline_percent.map(|percent| {
                        BaselineBand {
                            percent,
                            baseline_error_ratio: windows.baseline.error_ratio.clone(),
                        }
                    }),
                },
            };
            let recovery = analyze_recovery(series, timeline, &params).unwrap_or_else(|err| {
                RecoveryAnalysis::undetermined(
                    format!("invalid policy: {err}"),
                    shape.uncertainty_seconds(),
                )
            });
            (recovery, find_peak_burn(series, timeline, &shape, budget))
        }
        Measure::Missing { reason } => (
            RecoveryAnalysis::undetermined(
                format!("error-ratio series unavailable: {reason}"),
                shape.uncertainty_seconds(),
            ),
            PeakBurn {
                burn_rate: Measure::missing(format!("error-ratio series unavailable: {reason}")),
                at: None,
                missing_samples: 0,
                gaps: 0,
            },
        ),
    };
    notes.extend(recovery.notes.iter().cloned());

    let alerts: AlertDetection = detect_alerts(&policy.expect_alerts, &input.alerts, timeline);
    for fired in alerts.fired.iter().filter(|f| f.firing_before_fault) {
        notes.push(format!(
            "alert {} was already firing before the fault started: its detection may not be caused by the fault",
            fired.name
        ));
    }
    let prediction = match &input.error_ratio_series {
        Measure::Value(series) => {
            let p = predict_page_alert(series, &shape, budget, &input.page_alert_windows, timeline);
            notes.extend(p.notes.iter().cloned());
            Some(p)
        }
        Measure::Missing { .. } => None,
    };

    let on_no_data = policy.on_no_data;
    let mut checks = vec![check_min_events(
        &windows.fault.total_events,
        policy.min_events,
        on_no_data,
    )];
    if let Some(max) = policy.max_budget_consumed {
        checks.push(check_budget_consumed(
            &windows.experiment.budget_consumed,
            max,
            on_no_data,
        ));
    }
    if let Some(max) = policy.max_time_to_recover_seconds {
        checks.push(check_time_to_recover(&recovery, max, on_no_data));
    }
    if let Some(max) = policy.max_peak_burn_rate {
        checks.push(check_peak_burn_rate(&peak, max, on_no_data));
    }
    checks.extend(check_expected_alerts(&alerts, recovery.impact, on_no_data));
    if let Some(max) = policy.max_time_to_detect_seconds {
        checks.push(check_time_to_detect(&alerts, max, on_no_data));
    }
    let verdict = worst_of(checks.iter().map(|c| c.outcome));
    let reasons = checks.iter().filter_map(|c| c.reason.clone()).collect();

    SloEvaluation {
        burn_rate: BurnRateSummary {
            average: windows.fault.burn_rate.clone(),
            peak: peak.burn_rate.clone(),
            peak_at: peak.at,
        },
        budget_consumed: BudgetSummary {
            fault: windows.fault.budget_consumed.clone(),
            experiment: windows.experiment.budget_consumed.clone(),
        },
        detection: DetectionReport {
            expected_alerts: alerts.expected_alerts,
            fired: alerts.fired,
            not_fired: alerts.not_fired,
            unknown: alerts.unknown,
            time_to_detect_seconds: alerts.time_to_detect_seconds,
            predicted_time_to_detect_seconds: prediction
                .as_ref()
                .and_then(|p| p.time_to_detect_seconds),
            predicted_window: prediction.as_ref().and_then(|p| p.window),
        },
        windows,
        recovery,
        checks,
        verdict,
        reasons,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::window::DEFAULT_PERIOD_SECONDS;

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= 1e-9 * expected.abs().max(1e-12))
    }

    /// 99.9% over 30d at 10 rps. Baseline 700..1000, fault 1000..1120 at 20%
    /// errors, recovery observed to 1420. E_r (step 15s, r 1m): 0.0002 before
    /// the fault, 0.2 from 1015 to 1120, 0.01 from 1135 to 1180 (still above
    /// B = 0.001), 0.0005 from 1195.
    fn scenario() -> SloInput {
        let series = (700..=1420)
            .step_by(15)
            .map(|t| {
                let v = match t {
                    t if t < 1015 => 0.0002,
                    t if t <= 1120 => 0.2,
                    t if t <= 1180 => 0.01,
                    _ => 0.0005,
                };
                (f64::from(t), v)
            })
            .collect();
        SloInput {
            target: SloTarget::new(0.999, DEFAULT_PERIOD_SECONDS).unwrap_or_else(|e| panic!("{e}")),
            timeline: Timeline::new(700.0, 1000.0, 1120.0, 1420.0)
                .unwrap_or_else(|e| panic!("{e}")),
            windows: WindowSet {
                baseline: WindowMeasurement::measured(0.0002, 3000.0),
                fault: WindowMeasurement::measured(0.2, 1200.0),
                // 30 bad of 3000 in the recovery; 270 bad of 4200 over the experiment.
                recovery: WindowMeasurement::measured(0.01, 3000.0),
                experiment: WindowMeasurement::measured(270.0 / 4200.0, 4200.0),
            },
            error_ratio_series: Measure::Value(series),
            series_shape: SeriesShape::new(15.0, 60.0).unwrap_or_default(),
            alerts: vec![AlertInput::from_series(
                "SLOPageAlert",
                vec![(1090.0, 1.0), (1105.0, 1.0)],
            )],
            page_alert_windows: BurnAlertWindow::page_windows(DEFAULT_PERIOD_SECONDS),
        }
    }

    fn policy() -> Policy {
        Policy {
            max_budget_consumed: Some(0.02),
            max_time_to_recover_seconds: Some(60.0),
            expect_alerts: vec!["SLOPageAlert".to_owned()],
            max_time_to_detect_seconds: Some(120.0),
            ..Policy::default()
        }
    }

    #[test]
    fn a_twenty_percent_fault_is_measured_end_to_end_and_judged_by_the_policy() {
        let e = evaluate_slo(&scenario(), &policy());
        // Fault: burn 200, bad 240, C = 200 × 120 / 2_592_000 = 0.009259…
        assert!(close(e.burn_rate.average.get(), 200.0));
        assert!(close(e.windows.fault.bad_events.get(), 240.0));
        assert!(close(
            e.budget_consumed.fault.get(),
            200.0 * 120.0 / 2_592_000.0
        ));
        // Experiment: 270 bad events of a 0.001 × 10 rps × 2_592_000s = 25_920-event budget.
        assert!(close(e.budget_consumed.experiment.get(), 270.0 / 25_920.0));
        // Peak: 0.2 / 0.001 = 200, first at 1015.
        assert!(close(e.burn_rate.peak.get(), 200.0));
        assert_eq!(e.burn_rate.peak_at, Some(1015.0));
        // Last unhealthy sample 1180, stable from 1195: TTR 75s, 195s from the fault start.
        assert_eq!(e.recovery.time_to_impact_seconds, Some(15.0));
        assert_eq!(e.recovery.time_to_recover_seconds, Some(75.0));
        assert_eq!(
            e.recovery.time_to_recover_from_fault_start_seconds,
            Some(195.0)
        );
        assert_eq!(e.detection.time_to_detect_seconds, Some(90.0));
        // 8 samples at 0.2 are far too few for the 1h (237 samples) or 6h windows.
        assert_eq!(e.detection.predicted_time_to_detect_seconds, None);
        let checks: Vec<(&str, Outcome)> = e
            .checks
            .iter()
            .map(|c| (c.name.as_str(), c.outcome))
            .collect();
        assert_eq!(
            checks,
            vec![
                ("min_events", Outcome::Pass),
                ("max_budget_consumed", Outcome::Warn),
                ("max_time_to_recover", Outcome::Fail),
                ("expect_alerts[SLOPageAlert]", Outcome::Pass),
                ("max_time_to_detect", Outcome::Pass),
            ]
        );
        assert_eq!(e.verdict, Outcome::Fail);
        assert_eq!(
            e.reasons,
            vec![
                "budget consumed 1.04% > 1%, half of max 2%".to_owned(),
                "time to recover 1m15s > max 1m".to_owned(),
            ]
        );
    }

    #[test]
    fn the_json_has_the_documented_shape() {
        let json = serde_json::to_value(evaluate_slo(&scenario(), &policy())).unwrap_or_default();
        for window in ["baseline", "fault", "recovery", "experiment"] {
            for field in ["error_ratio", "sli", "total_events", "bad_events"] {
                assert!(
                    json["windows"][window].get(field).is_some(),
                    "windows.{window}.{field}"
                );
            }
        }
        for (group, fields) in [
            ("burn_rate", &["average", "peak", "peak_at"][..]),
            ("budget_consumed", &["fault", "experiment"][..]),
            (
                "recovery",
                &[
                    "impact",
                    "time_to_impact_seconds",
                    "time_to_recover_seconds",
                    "recovered",
                    "uncertainty_seconds",
                ][..],
            ),
            (
                "detection",
                &[
                    "expected_alerts",
                    "fired",
                    "time_to_detect_seconds",
                    "predicted_time_to_detect_seconds",
                ][..],
            ),
        ] {
            for field in fields {
                assert!(json[group].get(*field).is_some(), "{group}.{field}");
            }
        }
        assert_eq!(json["verdict"], "fail");
        assert_eq!(json["recovery"]["impact"], "impacted");
        assert_eq!(json["recovery"]["recovered"], true);
        assert_eq!(json["recovery"]["uncertainty_seconds"], 75.0);
        assert_eq!(json["windows"]["fault"]["error_ratio"], 0.2);
        assert_eq!(json["detection"]["fired"][0]["name"], "SLOPageAlert");
        assert_eq!(
            json["detection"]["predicted_time_to_detect_seconds"],
            serde_json::Value::Null
        );
        assert_eq!(json["reasons"][1], "time to recover 1m15s > max 1m");
        assert_eq!(json["checks"][0]["outcome"], "pass");
    }

    #[test]
    fn missing_query_results_make_the_checks_inconclusive_with_their_reasons() {
        let mut input = scenario();
        input.windows.experiment.error_ratio = Measure::prometheus_warning("partial data");
        input.error_ratio_series = Measure::query_failed(4, "context deadline exceeded");
        input.alerts.clear();
        let e = evaluate_slo(&input, &policy());
        assert_eq!(e.verdict, Outcome::Inconclusive);
        assert_eq!(e.windows.experiment.error_ratio.get(), None);
        assert_eq!(e.recovery.recovered, None);
        assert_eq!(e.burn_rate.peak.get(), None);
        assert_eq!(
            e.reasons,
            vec![
                "budget consumed unknown: Prometheus warning: partial data".to_owned(),
                "time to recover unknown: error-ratio series unavailable: Prometheus error after 4 attempts: context deadline exceeded".to_owned(),
                "state of expected alert SLOPageAlert unknown: no observations of alert SLOPageAlert were supplied".to_owned(),
                "time to detect unknown: no expected alert seen firing, and the state of SLOPageAlert is unknown".to_owned(),
            ]
        );
        // on_no_data: fail turns every one of them into a fail.
        let strict = Policy {
            on_no_data: crate::eval::NoDataPolicy::Fail,
            ..policy()
        };
        let e = evaluate_slo(&input, &strict);
        assert!(
            e.checks
                .iter()
                .filter(|c| c.name != "min_events")
                .all(|c| c.outcome == Outcome::Fail)
        );
    }

    #[test]
    fn too_little_traffic_is_inconclusive_even_when_everything_else_passes() {
        let mut input = scenario();
        input.windows.fault.total_events = Measure::Value(42.0);
        let lenient = Policy {
            max_time_to_recover_seconds: Some(120.0),
            ..policy()
        };
        let e = evaluate_slo(&input, &lenient);
        assert_eq!(e.verdict, Outcome::Inconclusive);
        assert_eq!(
            e.reasons,
            vec![
                "only 42 events in the fault window < min_events 100".to_owned(),
                "budget consumed 1.04% > 1%, half of max 2%".to_owned(),
            ]
        );
    }

    #[test]
    fn a_clean_run_under_the_default_policy_passes_with_no_reasons() {
        let mut input = scenario();
        input.windows.fault.error_ratio = Measure::Value(0.0005);
        input.windows.experiment.error_ratio = Measure::Value(0.0005);
        input.error_ratio_series = Measure::Value(
            (700..=1420)
                .step_by(15)
                .map(|t| (f64::from(t), 0.0005))
                .collect(),
        );
        let e = evaluate_slo(&input, &Policy::default());
        assert_eq!(e.verdict, Outcome::Pass);
        assert!(e.reasons.is_empty());
        assert_eq!(e.recovery.impact, crate::eval::recovery::Impact::None);
        assert_eq!(e.recovery.time_to_recover_seconds, Some(0.0));
        assert_eq!(e.notes, vec!["budget consumed assumes steady traffic within each window".to_owned(),
            "the series starts 5m before the fault, less than the longest alert window 6h: earlier history is taken to be like the baseline".to_owned()]);
    }
}
