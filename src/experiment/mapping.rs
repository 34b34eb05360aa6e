//! From the spec model to the evaluation core's parameters.
//!
//! Owns the translation of a [`spec::VerdictSpec`](crate::spec::VerdictSpec)
//! into an [`eval::Policy`](crate::eval::Policy), of an SLO's objective and
//! period into an [`SloTarget`], and of an indicator's `pass:`/`warning:`
//! strings into [`Criteria`] with the tolerance its statistical comparison
//! uses. Pure: no I/O. Errors are configuration mistakes the loader did not
//! catch (it validates the same things), reported, never panicked on.

use crate::eval::criteria::{Criteria, Criterion, Target, parse_criterion};
use crate::eval::policy::{NoDataPolicy, Policy, RecoveryRule};
use crate::eval::stats::Tolerance;
use crate::eval::window::SloTarget;
use crate::spec::model::{DEFAULT_PERIOD, OnNoData};
use crate::spec::{Indicator, Slo, VerdictSpec};

/// A spec value the evaluation core cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// The objective or period is outside its domain.
    #[error("SLO {slo}: {reason}")]
    Target {
        /// The SLO id.
        slo: String,
        /// What the evaluation core rejected.
        reason: String,
    },
    /// An indicator criterion does not parse.
    #[error("indicator {service}/{indicator}: criterion {criterion:?}: {reason}")]
    Criterion {
        /// The indicator's service.
        service: String,
        /// The indicator's name.
        indicator: String,
        /// The criterion as written.
        criterion: String,
        /// Why it does not parse.
        reason: String,
    },
}

/// The `verdict:` block as an evaluation policy: durations in seconds,
/// the budget as a fraction, the design's defaults where the spec has none.
pub fn policy_from_spec(spec: &VerdictSpec) -> Policy {
    Policy {
        max_budget_consumed: Some(spec.max_budget_consumed),
        max_time_to_recover_seconds: spec.max_time_to_recover.map(|d| d.as_secs_f64()),
        max_peak_burn_rate: spec.max_peak_burn_rate,
        expect_alerts: spec.expect_alerts.clone(),
        max_time_to_detect_seconds: spec.max_time_to_detect.map(|d| d.as_secs_f64()),
        min_events: spec.min_events,
        on_no_data: match spec.on_no_data {
            OnNoData::Inconclusive => NoDataPolicy::Inconclusive,
            OnNoData::Fail => NoDataPolicy::Fail,
            OnNoData::Pass => NoDataPolicy::Pass,
        },
        recovery: RecoveryRule {
            threshold: spec.recovery_threshold,
            within_baseline_percent: None,
            stable_for_seconds: spec.stable_for.as_secs_f64(),
        },
    }
}

/// The SLO's objective (as a fraction) and period (30d when it names none).
pub fn target_from_slo(slo: &Slo) -> Result<SloTarget, MappingError> {
    let period = slo.period_or(DEFAULT_PERIOD).as_secs_f64();
    SloTarget::from_percent(slo.objective, period).map_err(|e| MappingError::Target {
        slo: slo.id.clone(),
        reason: e.to_string(),
    })
}

/// An indicator's `pass:` and `warning:` lists, parsed.
pub fn criteria_from_indicator(service: &str, ind: &Indicator) -> Result<Criteria, MappingError> {
    let parse_lists = |lists: &[Vec<String>]| -> Result<Vec<Vec<Criterion>>, MappingError> {
        lists
            .iter()
            .map(|list| {
                list.iter()
                    .map(|text| {
                        parse_criterion(text).map_err(|e| MappingError::Criterion {
                            service: service.to_owned(),
                            indicator: ind.name.clone(),
                            criterion: text.clone(),
                            reason: e.to_string(),
                        })
                    })
                    .collect()
            })
            .collect()
    };
    Ok(Criteria {
        pass: parse_lists(&ind.pass)?,
        warning: parse_lists(&ind.warning)?,
    })
}

/// How large a shift of an indicator's samples must be to count as
/// significant: the first relative (`+20%` → 20% of the baseline median) or
/// delta (`+0.1` → 0.1) criterion of the `pass:` lists; 0 (any shift) when
/// they only hold absolute criteria.
pub fn tolerance_for(criteria: &Criteria) -> Tolerance {
    criteria
        .pass
        .iter()
        .flatten()
        .find_map(|c| match c.target {
            Target::RelativePercent(p) => Some(Tolerance::Relative(p.abs() / 100.0)),
            Target::Delta(d) => Some(Tolerance::Absolute(d.abs())),
            Target::Absolute(_) => None,
        })
        .unwrap_or(Tolerance::Relative(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::PromDuration;
    use crate::spec::model::Source;

    #[test]
    fn a_full_verdict_block_becomes_the_same_policy_in_seconds_and_fractions() {
        let spec = VerdictSpec {
            max_budget_consumed: 0.02,
            max_time_to_recover: Some(PromDuration::from_secs(45)),
            max_peak_burn_rate: Some(20.0),
            expect_alerts: vec!["A".to_owned()],
            max_time_to_detect: Some(PromDuration::from_secs(300)),
            min_events: 0,
            on_no_data: OnNoData::Fail,
            recovery_threshold: 2.0,
            stable_for: PromDuration::from_secs(30),
            abort_burn_rate: 14.4,
        };
        let policy = policy_from_spec(&spec);
        assert_eq!(policy.max_budget_consumed, Some(0.02));
        assert_eq!(policy.max_time_to_recover_seconds, Some(45.0));
        assert_eq!(policy.max_peak_burn_rate, Some(20.0));
        assert_eq!(policy.expect_alerts, vec!["A".to_owned()]);
        assert_eq!(policy.max_time_to_detect_seconds, Some(300.0));
        assert_eq!(policy.min_events, 0);
        assert_eq!(policy.on_no_data, NoDataPolicy::Fail);
        assert_eq!(policy.recovery.threshold, 2.0);
        assert_eq!(policy.recovery.stable_for_seconds, 30.0);
    }

    #[test]
    fn the_default_verdict_block_is_the_default_policy() {
        assert_eq!(policy_from_spec(&VerdictSpec::default()), Policy::default());
    }

    fn indicator(pass: &[&[&str]], warning: &[&[&str]]) -> Indicator {
        let lists = |l: &[&[&str]]| {
            l.iter()
                .map(|c| c.iter().map(|s| (*s).to_owned()).collect())
                .collect()
        };
        Indicator {
            name: "p99".to_owned(),
            query: "x".to_owned(),
            description: String::new(),
            pass: lists(pass),
            warning: lists(warning),
            source: Source {
                file: "x.yaml".into(),
                line: 1,
                column: 1,
                path: String::new(),
            },
        }
    }

    #[test]
    fn criteria_parse_and_give_the_comparison_its_tolerance() {
        let c = criteria_from_indicator("svc", &indicator(&[&["<0.5", "<=+20%"]], &[&["<=+50%"]]))
            .unwrap_or_default();
        assert_eq!(c.pass[0].len(), 2);
        assert_eq!(c.warning[0][0].to_string(), "<=+50%");
        assert_eq!(tolerance_for(&c), Tolerance::Relative(0.2));
        let delta =
            criteria_from_indicator("svc", &indicator(&[&["<=+0.1"]], &[])).unwrap_or_default();
        assert_eq!(tolerance_for(&delta), Tolerance::Absolute(0.1));
        let absolute =
            criteria_from_indicator("svc", &indicator(&[&["<=2"]], &[])).unwrap_or_default();
        assert_eq!(tolerance_for(&absolute), Tolerance::Relative(0.0));
    }

    #[test]
    fn a_criterion_that_does_not_parse_names_the_indicator() {
        let e = criteria_from_indicator("svc", &indicator(&[&["about 3"]], &[]));
        assert!(
            matches!(&e, Err(MappingError::Criterion { service, indicator, criterion, .. })
                if service == "svc" && indicator == "p99" && criterion == "about 3"),
            "{e:?}"
        );
    }
}
