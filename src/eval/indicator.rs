//! Service indicators: extra signals judged by Keptn-style criteria.
//!
//! Owns [`evaluate_indicator`]: an indicator's value during the experiment
//! and in the baseline, its relative change, an optional statistical
//! comparison of the per-step samples, and its [`Check`] from the
//! `pass:`/`warning:` criteria. Missing values and relative criteria without
//! a usable baseline are decided by `on_no_data` (inconclusive by default),
//! with the reason stated. No I/O.

use serde::{Deserialize, Serialize};

use super::criteria::{Criteria, CriteriaResult, evaluate_criteria};
use super::measure::Measure;
use super::policy::{Check, NoDataPolicy, Outcome, check_without_data};
use super::stats::{Comparison, Tolerance, compare_samples, relative_change};

/// Per-step samples of an indicator, for the statistical comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSamples {
    /// Samples in the baseline window.
    pub baseline: Vec<f64>,
    /// Samples in the fault window.
    pub fault: Vec<f64>,
    /// How large a shift must be to count.
    pub tolerance: Tolerance,
}

/// What was measured for one indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorInput {
    /// The indicator's name from the spec.
    pub name: String,
    /// Its value over the experiment.
    pub value: Measure<f64>,
    /// Its value over the baseline.
    pub baseline: Measure<f64>,
    /// `pass:` and `warning:` criteria.
    pub criteria: Criteria,
    /// Per-step samples, when a statistical comparison is wanted.
    pub samples: Option<IndicatorSamples>,
}

/// An indicator's numbers and check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorEvaluation {
    /// The indicator's name.
    pub name: String,
    /// Its value over the experiment.
    pub value: Measure<f64>,
    /// Its value over the baseline.
    pub baseline: Measure<f64>,
    /// `(value − baseline) / |baseline|`.
    pub relative_change: Measure<f64>,
    /// Mann–Whitney and Hodges–Lehmann on the samples, if given.
    pub comparison: Option<Comparison>,
    /// What the criteria decided, before `on_no_data`.
    pub criteria: CriteriaResult,
    /// The check, named `indicators[<name>]`.
    pub check: Check,
}

/// Judges one indicator.
pub fn evaluate_indicator(input: &IndicatorInput, on_no_data: NoDataPolicy) -> IndicatorEvaluation {
    let relative = match (&input.baseline, &input.value) {
        (Measure::Value(b), Measure::Value(v)) => relative_change(*b, *v),
        (Measure::Missing { reason }, _) => Measure::missing(format!("baseline: {reason}")),
        (_, Measure::Missing { reason }) => Measure::missing(reason.clone()),
    };
    let comparison = input
        .samples
        .as_ref()
        .map(|s| compare_samples(&s.baseline, &s.fault, s.tolerance));
    let result = evaluate_criteria(&input.criteria, &input.value, &input.baseline);
    let name = format!("indicators[{}]", input.name);
    let threshold = result.decided_by.map(|c| c.to_string());
    let check = match result.outcome {
        Outcome::Inconclusive => {
            let reason = result
                .reason
                .clone()
                .unwrap_or_else(|| "no value".to_owned());
            let mut check = check_without_data(&name, &input.name, &reason, on_no_data, threshold);
            check.measured = input.value.get();
            check
        }
        outcome => Check {
            name,
            outcome,
            reason: result
                .reason
                .as_ref()
                .map(|r| format!("{} {r}", input.name)),
            measured: input.value.get(),
            threshold,
        },
    };
    IndicatorEvaluation {
        name: input.name.clone(),
        value: input.value.clone(),
        baseline: input.baseline.clone(),
        relative_change: relative,
        comparison,
        criteria: result,
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::criteria::parse_criterion;

    fn gate(pass: &[&str], warning: &[&str]) -> Criteria {
        let list = |l: &[&str]| {
            l.iter()
                .filter_map(|t| parse_criterion(t).ok())
                .collect::<Vec<_>>()
        };
        Criteria {
            pass: if pass.is_empty() {
                vec![]
            } else {
                vec![list(pass)]
            },
            warning: if warning.is_empty() {
                vec![]
            } else {
                vec![list(warning)]
            },
        }
    }

    fn input(value: Measure<f64>, baseline: Measure<f64>, criteria: Criteria) -> IndicatorInput {
        IndicatorInput {
            name: "p99_latency".to_owned(),
            value,
            baseline,
            criteria,
            samples: None,
        }
    }

    #[test]
    fn an_indicator_above_its_relative_limit_warns_with_the_numbers_in_the_reason() {
        // Baseline p99 0.2s, experiment 0.25s: +25%, beyond <=+20% (0.24), within <=+50% (0.3).
        let e = evaluate_indicator(
            &input(
                Measure::Value(0.25),
                Measure::Value(0.2),
                gate(&["<=+20%"], &["<=+50%"]),
            ),
            NoDataPolicy::Inconclusive,
        );
        assert!(
            e.relative_change
                .get()
                .is_some_and(|r| (r - 0.25).abs() < 1e-12)
        );
        assert_eq!(e.check.name, "indicators[p99_latency]");
        assert_eq!(e.check.outcome, Outcome::Warn);
        assert_eq!(
            e.check.reason.as_deref(),
            Some(
                "p99_latency 0.25 against <=+20% (threshold 0.24): pass criterion not met, warning criteria met"
            )
        );
        assert_eq!(e.check.threshold.as_deref(), Some("<=+20%"));
        assert_eq!(e.check.measured, Some(0.25));
    }

    #[test]
    fn a_relative_criterion_without_a_baseline_is_inconclusive_not_a_pass() {
        let e = evaluate_indicator(
            &input(
                Measure::Value(0.25),
                Measure::no_series("histogram_quantile(0.99, …)"),
                gate(&["<=+20%"], &[]),
            ),
            NoDataPolicy::Inconclusive,
        );
        assert_eq!(e.check.outcome, Outcome::Inconclusive);
        assert_eq!(
            e.check.reason.as_deref(),
            Some(
                "p99_latency unknown: criterion <=+20% needs a baseline value: no series returned by histogram_quantile(0.99, …)"
            )
        );
        assert_eq!(
            e.relative_change.reason(),
            Some("baseline: no series returned by histogram_quantile(0.99, …)")
        );
    }

    #[test]
    fn samples_add_a_statistical_comparison() {
        let mut i = input(Measure::Value(0.3), Measure::Value(0.2), gate(&["<1"], &[]));
        i.samples = Some(IndicatorSamples {
            baseline: vec![0.2; 5],
            fault: vec![0.3; 12],
            tolerance: Tolerance::Absolute(0.01),
        });
        let e = evaluate_indicator(&i, NoDataPolicy::Inconclusive);
        assert_eq!(e.check.outcome, Outcome::Pass);
        assert_eq!(
            e.comparison,
            Some(Comparison::NotComputed {
                reason: "only 5 baseline samples, at least 10 are needed".to_owned(),
                dropped_baseline: 0,
                dropped_fault: 0
            })
        );
    }
}
