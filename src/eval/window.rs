//! Per-window numbers: error ratio, SLI, events, burn rate, budget consumed.
//!
//! Owns [`SloTarget`] (objective and SLO period, hence the error budget
//! `B = 1 − objective`) and [`compute_window_stats`], which turns the two
//! measured inputs of a window (its error ratio `E` and its total events)
//! into the numbers of the design's "Definitions": `SLI = 1 − E`,
//! `bad = E × total`, `burn = E / B`, `budget consumed C = (E / B) × (w / P)`
//! for a window of `w` seconds and a period of `P` seconds (a fraction of the
//! period's budget, assuming steady traffic). No I/O, no clock.

use serde::{Deserialize, Serialize};

use super::EvalError;
use super::measure::Measure;
use super::timeline::{Window, WindowKind};

/// The default SLO period: 30 days, in seconds.
pub const DEFAULT_PERIOD_SECONDS: f64 = 30.0 * 86_400.0;

/// How far outside `[0, 1]` an error ratio may stray through floating-point
/// rounding before it is treated as a broken query rather than clamped.
const RATIO_TOLERANCE: f64 = 1e-9;

/// An SLO's objective (a fraction, 0.999 for 99.9%) and period.
///
/// Constructed through [`SloTarget::new`], so `0 < objective < 1` and the
/// period is a positive number of seconds: the error budget is never zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SloTarget {
    objective: f64,
    period_seconds: f64,
}

impl SloTarget {
    /// An objective as a fraction strictly between 0 and 1, and a period in seconds.
    pub fn new(objective: f64, period_seconds: f64) -> Result<Self, EvalError> {
        if !(objective.is_finite() && objective > 0.0 && objective < 1.0) {
            return Err(EvalError::Objective { value: objective });
        }
        if !(period_seconds.is_finite() && period_seconds > 0.0) {
            return Err(EvalError::Period {
                seconds: period_seconds,
            });
        }
        Ok(SloTarget {
            objective,
            period_seconds,
        })
    }

    /// An objective in percent as written in SLO files (99.9), and a period in seconds.
    pub fn from_percent(percent: f64, period_seconds: f64) -> Result<Self, EvalError> {
        Self::new(percent / 100.0, period_seconds)
    }

    /// The objective as a fraction.
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// The error budget `B = 1 − objective` (> 0).
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// The SLO period `P` in seconds.
    pub fn period_seconds(&self) -> f64 {
        self.period_seconds
    }
}

/// Validates an error ratio: NaN and infinities are missing values, values
/// outside `[0, 1]` by more than rounding are missing values that name the
/// likely query mistake, and values within rounding of the range are clamped.
pub fn check_error_ratio(value: f64) -> Measure<f64> {
    match Measure::from_sample(value) {
        Measure::Value(v) if v < -RATIO_TOLERANCE => Measure::missing(format!(
            "error ratio {v} is negative: the error query decreased"
        )),
        Measure::Value(v) if v > 1.0 + RATIO_TOLERANCE => Measure::missing(format!(
            "error ratio {v} is above 1: the error query counts more events than the total query"
        )),
        Measure::Value(v) => Measure::Value(v.clamp(0.0, 1.0)),
        missing => missing,
    }
}

/// Burn rate `E / B`: how many times faster than sustainable the budget burns.
pub fn burn_rate(error_ratio: f64, error_budget: f64) -> f64 {
    error_ratio / error_budget
}

/// Budget consumed by a window of `window_seconds`: `(E / B) × (w / P)`, a
/// fraction of the whole period's budget, assuming steady traffic.
pub fn budget_consumed(
    error_ratio: f64,
    error_budget: f64,
    window_seconds: f64,
    period_seconds: f64,
) -> f64 {
    burn_rate(error_ratio, error_budget) * (window_seconds / period_seconds)
}

/// What was measured for one window: its error ratio and its total events.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMeasurement {
    /// `E` over the window (instant query at the window's end).
    pub error_ratio: Measure<f64>,
    /// `sum(increase(total[w]))` over the window, or `rate × seconds`.
    pub total_events: Measure<f64>,
}

impl WindowMeasurement {
    /// Both inputs measured.
    pub fn measured(error_ratio: f64, total_events: f64) -> Self {
        WindowMeasurement {
            error_ratio: Measure::Value(error_ratio),
            total_events: Measure::Value(total_events),
        }
    }
}

/// The numbers of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Start, unix seconds.
    pub start: f64,
    /// End, unix seconds.
    pub end: f64,
    /// `end − start`.
    pub length_seconds: f64,
    /// `E`, validated to `[0, 1]`.
    pub error_ratio: Measure<f64>,
    /// `1 − E`.
    pub sli: Measure<f64>,
    /// Total events in the window.
    pub total_events: Measure<f64>,
    /// `E × total`.
    pub bad_events: Measure<f64>,
    /// `E / B`.
    pub burn_rate: Measure<f64>,
    /// `(E / B) × (w / P)`.
    pub budget_consumed: Measure<f64>,
}

/// Turns a window's measured inputs into its numbers. An empty window, a
/// NaN, an out-of-range ratio or a negative event count gives missing values
/// (with the reason) wherever that input is needed.
pub fn compute_window_stats(
    target: &SloTarget,
    kind: WindowKind,
    window: Window,
    measured: &WindowMeasurement,
) -> WindowStats {
    let length = window.length_seconds();
    let (error_ratio, total_events) = if length > 0.0 {
        (
            measured.error_ratio.clone().and_then(check_error_ratio),
            measured
                .total_events
                .clone()
                .and_then(Measure::from_sample)
                .and_then(|total| {
                    if total < 0.0 {
                        Measure::missing(format!("total events {total} is negative"))
                    } else {
                        Measure::Value(total)
                    }
                }),
        )
    } else {
        let reason = format!("the {} window is empty", kind.as_str());
        (Measure::missing(reason.clone()), Measure::missing(reason))
    };
    let budget = target.error_budget();
    let bad_events = match (&error_ratio, &total_events) {
        (Measure::Value(e), Measure::Value(total)) => Measure::Value(e * total),
        (Measure::Missing { reason }, _) | (_, Measure::Missing { reason }) => {
            Measure::missing(reason.clone())
        }
    };
    WindowStats {
        start: window.start,
        end: window.end,
        length_seconds: length,
        sli: error_ratio.clone().map(|e| 1.0 - e),
        burn_rate: error_ratio.clone().map(|e| burn_rate(e, budget)),
        budget_consumed: error_ratio
            .clone()
            .map(|e| budget_consumed(e, budget, length, target.period_seconds())),
        error_ratio,
        total_events,
        bad_events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-300)
    }

    fn slo(objective: f64, period: f64) -> SloTarget {
        SloTarget::new(objective, period).unwrap_or_else(|e| panic!("valid target: {e}"))
    }

    #[test]
    fn a_fault_of_20_percent_errors_for_120s_at_10_rps_costs_0_93_percent_of_a_30_day_budget() {
        // 99.9% over 30d: B = 0.001, P = 2_592_000s. 10 rps for 120s = 1200 events.
        // E = 0.2 → SLI 0.8, burn = 0.2 / 0.001 = 200, bad = 0.2 × 1200 = 240,
        // budget consumed = 200 × 120 / 2_592_000 = 0.009259259259…
        let stats = compute_window_stats(
            &slo(0.999, DEFAULT_PERIOD_SECONDS),
            WindowKind::Fault,
            Window {
                start: 1000.0,
                end: 1120.0,
            },
            &WindowMeasurement::measured(0.2, 1200.0),
        );
        assert_eq!(stats.length_seconds, 120.0);
        assert_eq!(stats.error_ratio.get(), Some(0.2));
        assert!(stats.sli.get().is_some_and(|v| close(v, 0.8)));
        assert_eq!(stats.total_events.get(), Some(1200.0));
        assert!(stats.bad_events.get().is_some_and(|v| close(v, 240.0)));
        assert!(
            stats.burn_rate.get().is_some_and(|v| close(v, 200.0)),
            "{:?}",
            stats.burn_rate
        );
        assert!(
            stats
                .budget_consumed
                .get()
                .is_some_and(|v| close(v, 200.0 * 120.0 / 2_592_000.0)),
            "{:?}",
            stats.budget_consumed
        );
        assert!(
            stats
                .budget_consumed
                .get()
                .is_some_and(|v| (v - 0.009_259_259_259).abs() < 1e-12)
        );
    }

    #[test]
    fn burn_rate_and_budget_follow_the_definitions_for_other_periods() {
        // (objective, period, E, window, burn, budget consumed), by hand:
        let table = [
            // 99.9% 28d: B = 0.001, burn = 0.0144/0.001 = 14.4, C = 14.4 × 3600/2_419_200 = 0.0214285714…
            (
                0.999,
                28.0 * 86_400.0,
                0.0144,
                3600.0,
                14.4,
                14.4 * 3600.0 / 2_419_200.0,
            ),
            // 99% 7d: B = 0.01, burn = 0.05/0.01 = 5, C = 5 × 600/604_800 = 0.004960317…
            (
                0.99,
                7.0 * 86_400.0,
                0.05,
                600.0,
                5.0,
                5.0 * 600.0 / 604_800.0,
            ),
            // 99.5% 30d: B = 0.005, E = 0: nothing burns.
            (0.995, DEFAULT_PERIOD_SECONDS, 0.0, 300.0, 0.0, 0.0),
            // 90% 30d: B = 0.1, E = 1 (everything fails): burn 10, C = 10 × 2_592_000/2_592_000 = 10 budgets.
            (
                0.9,
                DEFAULT_PERIOD_SECONDS,
                1.0,
                DEFAULT_PERIOD_SECONDS,
                10.0,
                10.0,
            ),
        ];
        for (objective, period, e, w, burn, consumed) in table {
            let stats = compute_window_stats(
                &slo(objective, period),
                WindowKind::Fault,
                Window { start: 0.0, end: w },
                &WindowMeasurement::measured(e, 100.0),
            );
            let b = stats.burn_rate.get().unwrap_or(f64::NAN);
            let c = stats.budget_consumed.get().unwrap_or(f64::NAN);
            assert!(
                close(b, burn) || (b == 0.0 && burn == 0.0),
                "burn {b} ≠ {burn} for {objective}"
            );
            assert!(
                close(c, consumed) || (c == 0.0 && consumed == 0.0),
                "C {c} ≠ {consumed} for {objective}"
            );
        }
    }

    /// (error ratio, total events, expected reason for E, expected reason for total)
    type Case = (
        Measure<f64>,
        Measure<f64>,
        Option<&'static str>,
        Option<&'static str>,
    );

    #[test]
    fn unusable_inputs_make_the_numbers_that_need_them_missing() {
        let target = slo(0.999, DEFAULT_PERIOD_SECONDS);
        let w = Window {
            start: 0.0,
            end: 60.0,
        };
        let table: [Case; 6] = [
            (
                Measure::Value(f64::NAN),
                Measure::Value(10.0),
                Some("value is NaN"),
                None,
            ),
            (
                Measure::Value(1.5),
                Measure::Value(10.0),
                Some(
                    "error ratio 1.5 is above 1: the error query counts more events than the total query",
                ),
                None,
            ),
            (
                Measure::Value(-0.2),
                Measure::Value(10.0),
                Some("error ratio -0.2 is negative: the error query decreased"),
                None,
            ),
            (
                Measure::Value(0.1),
                Measure::Value(f64::INFINITY),
                None,
                Some("value is +Inf"),
            ),
            (
                Measure::Value(0.1),
                Measure::Value(-3.0),
                None,
                Some("total events -3 is negative"),
            ),
            (
                Measure::missing("no series returned by errors"),
                Measure::missing("no series returned by total"),
                Some("no series returned by errors"),
                Some("no series returned by total"),
            ),
        ];
        for (e, total, e_reason, total_reason) in table {
            let stats = compute_window_stats(
                &target,
                WindowKind::Fault,
                w,
                &WindowMeasurement {
                    error_ratio: e.clone(),
                    total_events: total.clone(),
                },
            );
            assert_eq!(stats.error_ratio.reason(), e_reason, "E {e:?}");
            assert_eq!(stats.sli.reason(), e_reason);
            assert_eq!(stats.burn_rate.reason(), e_reason);
            assert_eq!(stats.budget_consumed.reason(), e_reason);
            assert_eq!(stats.total_events.reason(), total_reason, "total {total:?}");
            // bad events need both; the error ratio's reason comes first.
            assert_eq!(stats.bad_events.reason(), e_reason.or(total_reason));
        }
    }

    #[test]
    fn ratios_a_rounding_error_outside_the_range_are_clamped() {
        assert_eq!(check_error_ratio(1.0 + 1e-12).get(), Some(1.0));
        assert_eq!(check_error_ratio(-1e-12).get(), Some(0.0));
        assert_eq!(check_error_ratio(0.5).get(), Some(0.5));
    }

    #[test]
    fn an_empty_window_has_no_numbers_and_says_which_window() {
        let stats = compute_window_stats(
            &slo(0.999, DEFAULT_PERIOD_SECONDS),
            WindowKind::Recovery,
            Window {
                start: 1120.0,
                end: 1120.0,
            },
            &WindowMeasurement::measured(0.0, 10.0),
        );
        assert_eq!(
            stats.error_ratio.reason(),
            Some("the recovery window is empty")
        );
        assert_eq!(
            stats.total_events.reason(),
            Some("the recovery window is empty")
        );
        assert_eq!(
            stats.budget_consumed.reason(),
            Some("the recovery window is empty")
        );
    }

    #[test]
    fn objectives_and_periods_outside_their_ranges_are_rejected() {
        assert_eq!(
            SloTarget::new(1.0, 60.0),
            Err(EvalError::Objective { value: 1.0 })
        );
        assert_eq!(
            SloTarget::new(0.0, 60.0),
            Err(EvalError::Objective { value: 0.0 })
        );
        assert_eq!(
            SloTarget::new(99.9, 60.0),
            Err(EvalError::Objective { value: 99.9 })
        );
        assert_eq!(
            SloTarget::new(0.999, 0.0),
            Err(EvalError::Period { seconds: 0.0 })
        );
        assert_eq!(
            SloTarget::from_percent(100.0, 60.0),
            Err(EvalError::Objective { value: 1.0 })
        );
        let t = SloTarget::from_percent(99.5, 60.0).map(|t| t.objective());
        assert_eq!(t, Ok(0.995));
    }

    proptest! {
        #[test]
        fn burn_and_budget_are_never_negative_and_budget_grows_with_the_window(
            objective in 0.5f64..0.99999,
            e in 0.0f64..=1.0,
            w in 1.0f64..1e6,
            period in 3600.0f64..1e8,
        ) {
            let b = 1.0 - objective;
            prop_assert!(burn_rate(e, b) >= 0.0);
            let c1 = budget_consumed(e, b, w, period);
            let c2 = budget_consumed(e, b, 2.0 * w, period);
            let c3 = budget_consumed(e, b, 3.0 * w, period);
            prop_assert!(c1 >= 0.0);
            prop_assert!((c2 - 2.0 * c1).abs() <= 1e-12 * c2.abs());
            prop_assert!((c3 - 3.0 * c1).abs() <= 1e-12 * c3.abs());
        }
    }
}
