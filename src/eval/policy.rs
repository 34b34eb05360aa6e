//! Outcomes, checks and the `verdict:` block.
//!
//! Owns [`Outcome`] (pass, warn, inconclusive, fail, ordered so the worst
//! wins: fail > inconclusive > warn > pass), [`Check`] (one judged number
//! with its reason), [`Policy`] (the `verdict:` block with the design's
//! defaults) and the `check_*` functions that turn measured numbers into
//! checks. Every non-pass carries a human reason; a check whose input is
//! missing is decided by `on_no_data` (inconclusive by default) and says why,
//! never a silent pass. Pure: no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::EvalError;
use super::detection::AlertDetection;
use super::human::{
    format_number_against, format_percent, format_percent_against, format_seconds,
    format_seconds_against,
};
use super::measure::Measure;
use super::recovery::{
    DEFAULT_RECOVERY_THRESHOLD, DEFAULT_STABLE_FOR_SECONDS, Impact, PeakBurn, RecoveryAnalysis,
};

/// The outcome of a check, an SLO or an experiment.
///
/// Ordered by severity (`Pass < Warn < Inconclusive < Fail`), so the worst of
/// several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Within every limit.
    Pass,
    /// Within the limits but in the warning band.
    Warn,
    /// Cannot be decided: data missing, too few events, window incomplete.
    Inconclusive,
    /// A limit was broken.
    Fail,
}

impl Outcome {
    /// The lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Fail => "fail",
        }
    }

    /// The worse of two outcomes.
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The worst of several outcomes; `Pass` when there are none.
pub fn worst_of(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    outcomes.into_iter().fold(Outcome::Pass, Outcome::worst)
}

/// One judged number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The policy key it checks, e.g. `max_budget_consumed` or `expect_alerts[SLOPageAlert]`.
    pub name: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, for every non-pass (and for a pass granted by `on_no_data: pass`).
    pub reason: Option<String>,
    /// The measured number, when there is one.
    pub measured: Option<f64>,
    /// The limit as written for humans, e.g. "5%" or "30s".
    pub threshold: Option<String>,
}

impl Check {
    fn new(
        name: impl Into<String>,
        outcome: Outcome,
        reason: Option<String>,
        measured: Option<f64>,
        threshold: Option<String>,
    ) -> Check {
        Check {
            name: name.into(),
            outcome,
            reason,
            measured,
            threshold,
        }
    }
}

/// What a check whose input is missing becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoDataPolicy {
    /// Inconclusive (the default).
    #[default]
    Inconclusive,
    /// Fail.
    Fail,
    /// Pass, with the reason still stated.
    Pass,
}

/// A check whose input is missing: decided by `on_no_data`, reason stated.
pub fn check_without_data(
    name: &str,
    subject: &str,
    reason: &str,
    on_no_data: NoDataPolicy,
    threshold: Option<String>,
) -> Check {
    let (outcome, suffix) = match on_no_data {
        NoDataPolicy::Inconclusive => (Outcome::Inconclusive, ""),
        NoDataPolicy::Fail => (Outcome::Fail, " (on_no_data: fail)"),
        NoDataPolicy::Pass => (Outcome::Pass, " (on_no_data: pass)"),
    };
    Check::new(
        name,
        outcome,
        Some(format!("{subject} unknown: {reason}{suffix}")),
        None,
        threshold,
    )
}

/// How recovery is judged (an extension of the `verdict:` block; the
/// design fixes the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryRule {
    /// Healthy while `E_r ≤ B × threshold` (default 1.0).
    pub threshold: f64,
    /// Also healthy within this many percent above the baseline error ratio.
    pub within_baseline_percent: Option<f64>,
    /// How long healthy must last to count as recovered (default 60s).
    pub stable_for_seconds: f64,
}

impl Default for RecoveryRule {
    fn default() -> Self {
        RecoveryRule {
            threshold: DEFAULT_RECOVERY_THRESHOLD,
            within_baseline_percent: None,
            stable_for_seconds: DEFAULT_STABLE_FOR_SECONDS,
        }
    }
}

/// Default `max_budget_consumed`: 5% of the period's budget.
pub const DEFAULT_MAX_BUDGET_CONSUMED: f64 = 0.05;
/// Default `min_events` in the fault window.
pub const DEFAULT_MIN_EVENTS: u64 = 100;

/// The `verdict:` block of an SLO, with durations in seconds and the budget
/// as a fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Fail above this share of the period's budget consumed by the
    /// experiment (fault + recovery); warn above half of it. Default 5%.
    pub max_budget_consumed: Option<f64>,
    /// Fail if the time to recover is larger, or if never recovered.
    pub max_time_to_recover_seconds: Option<f64>,
    /// Fail if the peak burn rate is larger.
    pub max_peak_burn_rate: Option<f64>,
    /// Alerts that must fire during the experiment.
    pub expect_alerts: Vec<String>,
    /// Fail if the first expected alert fired later.
    pub max_time_to_detect_seconds: Option<f64>,
    /// Fewer total events in the fault window: inconclusive. Default 100.
    pub min_events: u64,
    /// What a check without data becomes.
    pub on_no_data: NoDataPolicy,
    /// How recovery is judged.
    pub recovery: RecoveryRule,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_budget_consumed: Some(DEFAULT_MAX_BUDGET_CONSUMED),
            max_time_to_recover_seconds: None,
            max_peak_burn_rate: None,
            expect_alerts: Vec::new(),
            max_time_to_detect_seconds: None,
            min_events: DEFAULT_MIN_EVENTS,
            on_no_data: NoDataPolicy::Inconclusive,
            recovery: RecoveryRule::default(),
        }
    }
}

fn check_limit(name: &'static str, value: f64) -> Result<f64, EvalError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(EvalError::Parameter {
            name,
            value,
            expected: "a finite number ≥ 0",
        })
    }
}

impl Policy {
    /// Checks every limit is a finite number ≥ 0 (for spec validation;
    /// evaluation treats an invalid limit as an inconclusive check).
    pub fn validate(&self) -> Result<(), EvalError> {
        let limits = [
            ("max_budget_consumed", self.max_budget_consumed),
            ("max_time_to_recover", self.max_time_to_recover_seconds),
            ("max_peak_burn_rate", self.max_peak_burn_rate),
            ("max_time_to_detect", self.max_time_to_detect_seconds),
            ("recovery_threshold", Some(self.recovery.threshold)),
            (
                "within_baseline_percent",
                self.recovery.within_baseline_percent,
            ),
            ("stable_for", Some(self.recovery.stable_for_seconds)),
        ];
        for (name, value) in limits {
            if let Some(v) = value {
                check_limit(name, v)?;
            }
        }
        Ok(())
    }
}

fn invalid_limit(name: &str, err: &EvalError) -> Check {
    Check::new(
        name,
        Outcome::Inconclusive,
        Some(format!("invalid policy: {err}")),
        None,
        None,
    )
}

/// `min_events`: fewer total events in the fault window than `min_events`
/// is inconclusive (too little traffic to judge).
pub fn check_min_events(
    fault_events: &Measure<f64>,
    min_events: u64,
    on_no_data: NoDataPolicy,
) -> Check {
    const NAME: &str = "min_events";
    let threshold = Some(min_events.to_string());
    match fault_events {
        Measure::Missing { reason } => check_without_data(
            NAME,
            "events in the fault window",
            reason,
            on_no_data,
            threshold,
        ),
        Measure::Value(total) if *total < min_events as f64 => Check::new(
            NAME,
            Outcome::Inconclusive,
            Some(format!(
                "only {} events in the fault window < min_events {min_events}",
                super::human::format_number(*total)
            )),
            Some(*total),
            threshold,
        ),
        Measure::Value(total) => Check::new(NAME, Outcome::Pass, None, Some(*total), threshold),
    }
}

/// `max_budget_consumed`: fail above the limit, warn above half of it.
pub fn check_budget_consumed(consumed: &Measure<f64>, max: f64, on_no_data: NoDataPolicy) -> Check {
    const NAME: &str = "max_budget_consumed";
    let max = match check_limit(NAME, max) {
        Ok(m) => m,
        Err(err) => return invalid_limit(NAME, &err),
    };
    let threshold = Some(format_percent(max));
    let c = match consumed {
        Measure::Missing { reason } => {
            return check_without_data(NAME, "budget consumed", reason, on_no_data, threshold);
        }
        Measure::Value(c) => *c,
    };
    if c > max {
        let (m, t) = format_percent_against(c, max);
        Check::new(
            NAME,
            Outcome::Fail,
            Some(format!("budget consumed {m} > max {t}")),
            Some(c),
            threshold,
        )
    } else if c > max / 2.0 {
        let (m, half) = format_percent_against(c, max / 2.0);
        Check::new(
            NAME,
            Outcome::Warn,
            Some(format!(
                "budget consumed {m} > {half}, half of max {}",
                format_percent(max)
            )),
            Some(c),
            threshold,
        )
    } else {
        Check::new(NAME, Outcome::Pass, None, Some(c), threshold)
    }
}

/// `max_time_to_recover`: fail if larger or never recovered.
pub fn check_time_to_recover(
    recovery: &RecoveryAnalysis,
    max_seconds: f64,
    on_no_data: NoDataPolicy,
) -> Check {
    const NAME: &str = "max_time_to_recover";
    let max = match check_limit(NAME, max_seconds) {
        Ok(m) => m,
        Err(err) => return invalid_limit(NAME, &err),
    };
    let threshold = Some(format_seconds(max));
    let reason = || {
        recovery
            .reason
            .clone()
            .unwrap_or_else(|| "no recovery result".to_owned())
    };
    match (recovery.recovered, recovery.time_to_recover_seconds) {
        (Some(true), Some(ttr)) if ttr > max => {
            let (m, t) = format_seconds_against(ttr, max);
            Check::new(
                NAME,
                Outcome::Fail,
                Some(format!("time to recover {m} > max {t}")),
                Some(ttr),
                threshold,
            )
        }
        (Some(true), Some(ttr)) => Check::new(NAME, Outcome::Pass, None, Some(ttr), threshold),
        (Some(false), _) => Check::new(NAME, Outcome::Fail, Some(reason()), None, threshold),
        _ => check_without_data(NAME, "time to recover", &reason(), on_no_data, threshold),
    }
}

/// `max_peak_burn_rate`: fail if larger. A peak within the limit with
/// missing samples is undecided: a larger one could hide in them.
pub fn check_peak_burn_rate(peak: &PeakBurn, max: f64, on_no_data: NoDataPolicy) -> Check {
    const NAME: &str = "max_peak_burn_rate";
    let max = match check_limit(NAME, max) {
        Ok(m) => m,
        Err(err) => return invalid_limit(NAME, &err),
    };
    let threshold = Some(format!("{}x", super::human::format_number(max)));
    let value = match &peak.burn_rate {
        Measure::Missing { reason } => {
            return check_without_data(NAME, "peak burn rate", reason, on_no_data, threshold);
        }
        Measure::Value(v) => *v,
    };
    let (m, t) = format_number_against(value, max);
    if value > max {
        Check::new(
            NAME,
            Outcome::Fail,
            Some(format!("peak burn rate {m}x > max {t}x")),
            Some(value),
            threshold,
        )
    } else if peak.missing_samples + peak.gaps > 0 {
        let reason = format!(
            "{m}x ≤ max {t}x over the valid samples, but {} missing sample(s) and {} gap(s) could hide a higher peak",
            peak.missing_samples, peak.gaps
        );
        let mut check = check_without_data(NAME, "peak burn rate", &reason, on_no_data, threshold);
        check.measured = Some(value);
        check
    } else {
        Check::new(NAME, Outcome::Pass, None, Some(value), threshold)
    }
}

/// `expect_alerts`: one check per expected alert; fail if it did not fire.
pub fn check_expected_alerts(
    detection: &AlertDetection,
    impact: Impact,
    on_no_data: NoDataPolicy,
) -> Vec<Check> {
    detection
        .expected_alerts
        .iter()
        .map(|name| {
            let check_name = format!("expect_alerts[{name}]");
            if let Some(fired) = detection.fired.iter().find(|f| &f.name == name) {
                return Check::new(
                    check_name,
                    Outcome::Pass,
                    None,
                    Some(fired.time_to_detect_seconds),
                    None,
                );
            }
            if let Some(unknown) = detection.unknown.iter().find(|u| &u.name == name) {
                return check_without_data(
                    &check_name,
                    &format!("state of expected alert {name}"),
                    &unknown.reason,
                    on_no_data,
                    None,
                );
            }
            let context = if impact == Impact::None {
                " (the SLO showed no impact)"
            } else {
                ""
            };
            Check::new(
                check_name,
                Outcome::Fail,
                Some(format!("expected alert {name} did not fire{context}")),
                None,
                None,
            )
        })
        .collect()
}

/// `max_time_to_detect`: fail if the first expected alert fired later, or none fired.
pub fn check_time_to_detect(
    detection: &AlertDetection,
    max_seconds: f64,
    on_no_data: NoDataPolicy,
) -> Check {
    const NAME: &str = "max_time_to_detect";
    let max = match check_limit(NAME, max_seconds) {
        Ok(m) => m,
        Err(err) => return invalid_limit(NAME, &err),
    };
    let threshold = Some(format_seconds(max));
    if detection.expected_alerts.is_empty() {
        return Check::new(
            NAME,
            Outcome::Inconclusive,
            Some(
                "max_time_to_detect is set but expect_alerts is empty: no alert to time".to_owned(),
            ),
            None,
            threshold,
        );
    }
    let unknown: Vec<&str> = detection.unknown.iter().map(|u| u.name.as_str()).collect();
    match detection.time_to_detect_seconds {
        Some(ttd) if ttd <= max => Check::new(NAME, Outcome::Pass, None, Some(ttd), threshold),
        Some(ttd) => {
            let (m, t) = format_seconds_against(ttd, max);
            let text = format!("time to detect {m} > max {t}");
            if unknown.is_empty() {
                Check::new(NAME, Outcome::Fail, Some(text), Some(ttd), threshold)
            } else {
                let reason = format!(
                    "{text}, but the state of {} is unknown and could be earlier",
                    unknown.join(", ")
                );
                check_without_data(NAME, "time to detect", &reason, on_no_data, threshold)
            }
        }
        None if unknown.is_empty() => Check::new(
            NAME,
            Outcome::Fail,
            Some(format!(
                "no expected alert fired (max time to detect {})",
                format_seconds(max)
            )),
            None,
            threshold,
        ),
        None => check_without_data(
            NAME,
            "time to detect",
            &format!(
                "no expected alert seen firing, and the state of {} is unknown",
                unknown.join(", ")
            ),
            on_no_data,
            threshold,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::detection::{AlertInput, detect_alerts};
    use crate::eval::timeline::Timeline;
    use proptest::prelude::*;

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::Pass),
            Just(Outcome::Warn),
            Just(Outcome::Inconclusive),
            Just(Outcome::Fail)
        ]
    }

    #[test]
    fn the_worst_outcome_wins_in_the_order_fail_inconclusive_warn_pass() {
        use Outcome::*;
        let table = [
            (vec![], Pass),
            (vec![Pass, Pass], Pass),
            (vec![Pass, Warn], Warn),
            (vec![Warn, Inconclusive, Pass], Inconclusive),
            (vec![Inconclusive, Fail, Warn], Fail),
        ];
        for (outcomes, expected) in table {
            assert_eq!(worst_of(outcomes.clone()), expected, "{outcomes:?}");
        }
        assert_eq!(
            serde_json::to_string(&Inconclusive).ok().as_deref(),
            Some("\"inconclusive\"")
        );
        assert_eq!(Warn.to_string(), "warn");
    }

    proptest! {
        #[test]
        fn worst_of_is_commutative_associative_and_monotone(a in outcome(), b in outcome(), c in outcome()) {
            prop_assert_eq!(a.worst(b), b.worst(a));
            prop_assert_eq!(a.worst(b).worst(c), a.worst(b.worst(c)));
            prop_assert!(a.worst(b) >= a && a.worst(b) >= b);
            // Making one input worse never makes the result better.
            if b >= c {
                prop_assert!(a.worst(b) >= a.worst(c));
            }
            prop_assert_eq!(worst_of([a, b, c]), worst_of([c, a, b]));
        }
    }

    #[test]
    fn the_default_policy_is_the_designs() {
        let p = Policy::default();
        assert_eq!(p.max_budget_consumed, Some(0.05));
        assert_eq!(p.max_time_to_recover_seconds, None);
        assert_eq!(p.max_peak_burn_rate, None);
        assert!(p.expect_alerts.is_empty());
        assert_eq!(p.max_time_to_detect_seconds, None);
        assert_eq!(p.min_events, 100);
        assert_eq!(p.on_no_data, NoDataPolicy::Inconclusive);
        assert_eq!(
            p.recovery,
            RecoveryRule {
                threshold: 1.0,
                within_baseline_percent: None,
                stable_for_seconds: 60.0
            }
        );
        assert_eq!(p.validate(), Ok(()));
        let bad = Policy {
            max_time_to_recover_seconds: Some(-5.0),
            ..Policy::default()
        };
        assert_eq!(
            bad.validate().map_err(|e| e.to_string()),
            Err("max_time_to_recover = -5 is invalid: expected a finite number ≥ 0".to_owned())
        );
    }

    #[test]
    fn budget_fails_above_the_limit_and_warns_above_half_of_it() {
        let table = [
            (
                0.041,
                0.02,
                Outcome::Fail,
                Some("budget consumed 4.1% > max 2%"),
            ),
            (
                0.0504,
                0.05,
                Outcome::Fail,
                Some("budget consumed 5.04% > max 5%"),
            ),
            (
                0.012,
                0.02,
                Outcome::Warn,
                Some("budget consumed 1.2% > 1%, half of max 2%"),
            ),
            (0.01, 0.02, Outcome::Pass, None),
            (0.0042, 0.05, Outcome::Pass, None),
        ];
        for (consumed, max, outcome, reason) in table {
            let check =
                check_budget_consumed(&Measure::Value(consumed), max, NoDataPolicy::Inconclusive);
            assert_eq!(
                (check.outcome, check.reason.as_deref()),
                (outcome, reason),
                "{consumed} vs {max}"
            );
            assert_eq!(check.measured, Some(consumed));
            assert_eq!(check.name, "max_budget_consumed");
            assert_eq!(
                check.threshold.as_deref(),
                Some(format_percent(max).as_str())
            );
        }
    }

    #[test]
    fn missing_data_follows_on_no_data_and_always_says_why() {
        let missing = Measure::missing("no series returned by sum(rate(errors[2m]))");
        let table = [
            (
                NoDataPolicy::Inconclusive,
                Outcome::Inconclusive,
                "budget consumed unknown: no series returned by sum(rate(errors[2m]))",
            ),
            (
                NoDataPolicy::Fail,
                Outcome::Fail,
                "budget consumed unknown: no series returned by sum(rate(errors[2m])) (on_no_data: fail)",
            ),
            (
                NoDataPolicy::Pass,
                Outcome::Pass,
                "budget consumed unknown: no series returned by sum(rate(errors[2m])) (on_no_data: pass)",
            ),
        ];
        for (policy, outcome, reason) in table {
            let check = check_budget_consumed(&missing, 0.05, policy);
            assert_eq!(
                (check.outcome, check.reason.as_deref()),
                (outcome, Some(reason))
            );
        }
    }

    #[test]
    fn too_few_events_make_the_check_inconclusive() {
        let c = check_min_events(&Measure::Value(42.0), 100, NoDataPolicy::Fail);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (
                Outcome::Inconclusive,
                Some("only 42 events in the fault window < min_events 100")
            )
        );
        let c = check_min_events(&Measure::Value(100.0), 100, NoDataPolicy::Inconclusive);
        assert_eq!((c.outcome, c.reason), (Outcome::Pass, None));
        let c = check_min_events(
            &Measure::window_not_complete(),
            100,
            NoDataPolicy::Inconclusive,
        );
        assert_eq!(
            c.reason.as_deref(),
            Some("events in the fault window unknown: window not complete")
        );
    }

    fn recovery(
        recovered: Option<bool>,
        ttr: Option<f64>,
        reason: Option<&str>,
    ) -> RecoveryAnalysis {
        RecoveryAnalysis {
            recovered,
            time_to_recover_seconds: ttr,
            reason: reason.map(str::to_owned),
            ..RecoveryAnalysis::undetermined("", 75.0)
        }
    }

    #[test]
    fn time_to_recover_fails_when_slower_than_the_limit_or_never_recovered() {
        let never =
            "never recovered within the 5m observation (still unhealthy at its last sample)";
        let undecided = "recovery cannot be decided because of missing data (1 gap in the series): no impact if it was healthy, never recovered if it was not";
        let table = [
            (
                recovery(Some(true), Some(45.0), None),
                Outcome::Fail,
                Some("time to recover 45s > max 30s".to_owned()),
            ),
            (recovery(Some(true), Some(30.0), None), Outcome::Pass, None),
            (recovery(Some(true), Some(0.0), None), Outcome::Pass, None),
            (
                recovery(Some(false), None, Some(never)),
                Outcome::Fail,
                Some(never.to_owned()),
            ),
            (
                recovery(None, None, Some(undecided)),
                Outcome::Inconclusive,
                Some(format!("time to recover unknown: {undecided}")),
            ),
        ];
        for (r, outcome, reason) in table {
            let check = check_time_to_recover(&r, 30.0, NoDataPolicy::Inconclusive);
            assert_eq!((check.outcome, check.reason), (outcome, reason));
            assert_eq!(check.threshold.as_deref(), Some("30s"));
        }
    }

    #[test]
    fn a_peak_within_the_limit_with_holes_in_the_series_is_not_a_pass() {
        let peak = |burn: f64, missing: usize| PeakBurn {
            burn_rate: Measure::Value(burn),
            at: Some(1.0),
            missing_samples: missing,
            gaps: 0,
        };
        let c = check_peak_burn_rate(&peak(300.0, 1), 14.4, NoDataPolicy::Inconclusive);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (Outcome::Fail, Some("peak burn rate 300x > max 14.4x"))
        );
        let c = check_peak_burn_rate(&peak(3.0, 0), 14.4, NoDataPolicy::Inconclusive);
        assert_eq!(c.outcome, Outcome::Pass);
        let c = check_peak_burn_rate(&peak(3.0, 2), 14.4, NoDataPolicy::Inconclusive);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (
                Outcome::Inconclusive,
                Some(
                    "peak burn rate unknown: 3x ≤ max 14.4x over the valid samples, but 2 missing sample(s) and 0 gap(s) could hide a higher peak"
                )
            )
        );
    }

    #[test]
    fn expected_alerts_pass_when_fired_fail_when_silent_and_are_inconclusive_when_unknown() {
        let t = Timeline::new(700.0, 1000.0, 1120.0, 1420.0).unwrap_or_else(|e| panic!("{e}"));
        let expected: Vec<String> = ["SLOPageAlert", "SLOTicketAlert", "Flaky"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let observed = vec![
            AlertInput::from_series("SLOPageAlert", vec![(1360.0, 1.0)]),
            AlertInput::from_series("SLOTicketAlert", vec![]),
            AlertInput {
                name: "Flaky".to_owned(),
                firing: Measure::query_failed(4, "503 Service Unavailable"),
            },
        ];
        let d = detect_alerts(&expected, &observed, &t);
        let checks = check_expected_alerts(&d, Impact::Impacted, NoDataPolicy::Inconclusive);
        let summary: Vec<(&str, Outcome, Option<&str>)> = checks
            .iter()
            .map(|c| (c.name.as_str(), c.outcome, c.reason.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("expect_alerts[SLOPageAlert]", Outcome::Pass, None),
                (
                    "expect_alerts[SLOTicketAlert]",
                    Outcome::Fail,
                    Some("expected alert SLOTicketAlert did not fire")
                ),
                (
                    "expect_alerts[Flaky]",
                    Outcome::Inconclusive,
                    Some(
                        "state of expected alert Flaky unknown: Prometheus error after 4 attempts: 503 Service Unavailable"
                    )
                ),
            ]
        );
        assert_eq!(checks.first().and_then(|c| c.measured), Some(360.0));
        // Time to detect 6m against a 5m limit; the unknown alert could have been earlier.
        let c = check_time_to_detect(&d, 300.0, NoDataPolicy::Inconclusive);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (
                Outcome::Inconclusive,
                Some(
                    "time to detect unknown: time to detect 6m > max 5m, but the state of Flaky is unknown and could be earlier"
                )
            )
        );
        let known = detect_alerts(&expected[..2], &observed, &t);
        let c = check_time_to_detect(&known, 300.0, NoDataPolicy::Inconclusive);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (Outcome::Fail, Some("time to detect 6m > max 5m"))
        );
        let c = check_time_to_detect(&known, 600.0, NoDataPolicy::Inconclusive);
        assert_eq!((c.outcome, c.measured), (Outcome::Pass, Some(360.0)));
        let silent = detect_alerts(&expected[1..2], &observed, &t);
        let c = check_time_to_detect(&silent, 300.0, NoDataPolicy::Inconclusive);
        assert_eq!(
            (c.outcome, c.reason.as_deref()),
            (
                Outcome::Fail,
                Some("no expected alert fired (max time to detect 5m)")
            )
        );
        let none = detect_alerts(&[], &observed, &t);
        assert_eq!(
            check_time_to_detect(&none, 300.0, NoDataPolicy::Pass).outcome,
            Outcome::Inconclusive
        );
        let quiet = check_expected_alerts(&silent, Impact::None, NoDataPolicy::Inconclusive);
        assert_eq!(
            quiet.first().and_then(|c| c.reason.as_deref()),
            Some("expected alert SLOTicketAlert did not fire (the SLO showed no impact)")
        );
    }

    #[test]
    fn an_invalid_limit_is_an_inconclusive_check_not_a_panic() {
        let c = check_budget_consumed(&Measure::Value(0.01), f64::NAN, NoDataPolicy::Pass);
        assert_eq!(c.outcome, Outcome::Inconclusive);
        assert_eq!(
            c.reason.as_deref(),
            Some(
                "invalid policy: max_budget_consumed = NaN is invalid: expected a finite number ≥ 0"
            )
        );
    }
}
