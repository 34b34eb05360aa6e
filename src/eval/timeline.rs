//! The experiment's timeline and its four windows.
//!
//! Owns [`Timeline`] (baseline start, fault start, fault end, end of the
//! recovery observation, all unix seconds) and the windows derived from it:
//! baseline `[baseline_start, fault_start)`, fault `[fault_start, fault_end]`,
//! recovery `[fault_end, observe_end]` and experiment = fault + recovery
//! `[fault_start, observe_end]`. It never reads a clock: every time is an
//! argument, so one report is evaluated at fixed timestamps.

use serde::{Deserialize, Serialize};

use super::EvalError;

/// Which of the experiment's windows a number describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// `[fault_start − baseline, fault_start)`: the same run before the fault.
    Baseline,
    /// `[fault_start, fault_end]`: while the fault was injected.
    Fault,
    /// `[fault_end, observe_end]`: the recovery observation.
    Recovery,
    /// `[fault_start, observe_end]`: fault and recovery together.
    Experiment,
}

impl WindowKind {
    /// The lowercase name used in reasons and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Baseline => "baseline",
            WindowKind::Fault => "fault",
            WindowKind::Recovery => "recovery",
            WindowKind::Experiment => "experiment",
        }
    }
}

/// Shortest default baseline: 5 minutes.
pub const MIN_DEFAULT_BASELINE_SECONDS: f64 = 300.0;

/// The design's default baseline length for a fault of `fault_seconds`: as
/// long as the fault window, at least 5 minutes.
pub fn default_baseline_seconds(fault_seconds: f64) -> f64 {
    fault_seconds.max(MIN_DEFAULT_BASELINE_SECONDS)
}

/// A closed time interval in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start, unix seconds.
    pub start: f64,
    /// End, unix seconds (≥ start).
    pub end: f64,
}

impl Window {
    /// Length in seconds.
    pub fn length_seconds(&self) -> f64 {
        self.end - self.start
    }
}

/// When the baseline started, the fault started and ended, and the recovery
/// observation ended. Constructed only through [`Timeline::new`], so
/// `baseline_start ≤ fault_start < fault_end ≤ observe_end` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    baseline_start: f64,
    fault_start: f64,
    fault_end: f64,
    observe_end: f64,
}

impl Timeline {
    /// Checks the order of the four instants (all finite unix seconds).
    ///
    /// The fault window must have a positive length (an error ratio over 0s
    /// cannot be measured); the baseline and the recovery observation may be
    /// empty, in which case their windows report missing values.
    pub fn new(
        baseline_start: f64,
        fault_start: f64,
        fault_end: f64,
        observe_end: f64,
    ) -> Result<Self, EvalError> {
        let named = [
            ("baseline_start", baseline_start),
            ("fault_start", fault_start),
            ("fault_end", fault_end),
            ("observe_end", observe_end),
        ];
        for (name, value) in named {
            if !value.is_finite() {
                return Err(EvalError::Timeline {
                    reason: format!("{name} = {value} is not a finite unix timestamp"),
                });
            }
        }
        if baseline_start > fault_start {
            return Err(EvalError::Timeline {
                reason: format!(
                    "baseline_start {baseline_start} is after fault_start {fault_start}"
                ),
            });
        }
        if fault_end <= fault_start {
            return Err(EvalError::Timeline {
                reason: format!(
                    "fault_end {fault_end} is not after fault_start {fault_start}: the fault window must have a positive length"
                ),
            });
        }
        if observe_end < fault_end {
            return Err(EvalError::Timeline {
                reason: format!("observe_end {observe_end} is before fault_end {fault_end}"),
            });
        }
        Ok(Timeline {
            baseline_start,
            fault_start,
            fault_end,
            observe_end,
        })
    }

    /// Start of the baseline window.
    pub fn baseline_start(&self) -> f64 {
        self.baseline_start
    }

    /// Start of the fault.
    pub fn fault_start(&self) -> f64 {
        self.fault_start
    }

    /// End of the fault.
    pub fn fault_end(&self) -> f64 {
        self.fault_end
    }

    /// End of the recovery observation.
    pub fn observe_end(&self) -> f64 {
        self.observe_end
    }

    /// Length of the recovery observation, `observe_end − fault_end`.
    pub fn observation_seconds(&self) -> f64 {
        self.observe_end - self.fault_end
    }

    /// The interval of one of the four windows.
    pub fn window(&self, kind: WindowKind) -> Window {
        let (start, end) = match kind {
            WindowKind::Baseline => (self.baseline_start, self.fault_start),
            WindowKind::Fault => (self.fault_start, self.fault_end),
            WindowKind::Recovery => (self.fault_end, self.observe_end),
            WindowKind::Experiment => (self.fault_start, self.observe_end),
        };
        Window { start, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_windows_follow_from_the_four_instants() {
        let t = Timeline::new(700.0, 1000.0, 1120.0, 1420.0).ok();
        let t = t.as_ref();
        let w = |k| t.map(|t| t.window(k));
        assert_eq!(
            w(WindowKind::Baseline),
            Some(Window {
                start: 700.0,
                end: 1000.0
            })
        );
        assert_eq!(
            w(WindowKind::Fault),
            Some(Window {
                start: 1000.0,
                end: 1120.0
            })
        );
        assert_eq!(
            w(WindowKind::Recovery),
            Some(Window {
                start: 1120.0,
                end: 1420.0
            })
        );
        assert_eq!(
            w(WindowKind::Experiment),
            Some(Window {
                start: 1000.0,
                end: 1420.0
            })
        );
        assert_eq!(t.map(|t| t.observation_seconds()), Some(300.0));
    }

    #[test]
    fn instants_out_of_order_are_rejected_with_the_offending_pair_named() {
        let table = [
            (
                (1100.0, 1000.0, 1120.0, 1420.0),
                "baseline_start 1100 is after fault_start 1000",
            ),
            (
                (700.0, 1000.0, 1000.0, 1420.0),
                "fault_end 1000 is not after fault_start 1000",
            ),
            (
                (700.0, 1000.0, 1120.0, 1100.0),
                "observe_end 1100 is before fault_end 1120",
            ),
            (
                (700.0, f64::NAN, 1120.0, 1420.0),
                "fault_start = NaN is not a finite unix timestamp",
            ),
        ];
        for ((b, s, e, o), expected) in table {
            let err = Timeline::new(b, s, e, o).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|m| m.contains(expected)),
                "{err:?} should contain {expected}"
            );
        }
    }

    #[test]
    fn the_default_baseline_is_as_long_as_the_fault_but_at_least_five_minutes() {
        assert_eq!(default_baseline_seconds(120.0), 300.0);
        assert_eq!(default_baseline_seconds(900.0), 900.0);
    }

    #[test]
    fn an_empty_baseline_and_an_empty_recovery_are_allowed() {
        let t = Timeline::new(1000.0, 1000.0, 1120.0, 1120.0);
        assert_eq!(
            t.map(|t| (
                t.window(WindowKind::Baseline).length_seconds(),
                t.observation_seconds()
            )),
            Ok((0.0, 0.0))
        );
    }
}
