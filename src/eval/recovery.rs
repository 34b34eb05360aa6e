//! Impact and recovery read from the short-window error-ratio series.
//!
//! Owns the design's definitions of peak burn rate, `Healthy(t)`, time to
//! impact and time to recover (TTR) over `E_r(t)` at step `s` with rolling
//! window `r`. Only samples between the fault start and the end of the
//! observation count: unhealthy samples before the fault are ignored.
//!
//! How discrete samples are read (the decisions the design leaves open):
//!
//! - **Healthy**: `E_r(t) ≤ B × threshold` (default threshold 1.0), or, when
//!   a baseline band is set, `E_r(t) ≤ E_baseline × (1 + percent/100)`; either
//!   is enough.
//! - **A run lasting at least `stable_for`**: consecutive healthy samples
//!   whose last timestamp minus first timestamp is `≥ stable_for` (with a
//!   15s step, 60s takes 5 samples: 0, 15, 30, 45, 60). `stable_for = 0`
//!   accepts a single healthy sample.
//! - **Recovery**: everything after the last unhealthy sample is healthy by
//!   definition, so the run that counts is the tail after it; `t_r` is its
//!   first sample if it lasts `stable_for`. TTR is `t_r − fault_end`, shown
//!   as 0 when the service was stable again before the fault ended (the
//!   signed distance from the fault start is reported as well).
//! - **Missing data**: a NaN, Inf or out-of-range sample is neither healthy
//!   nor unhealthy; two samples more than `2 × s` apart leave a gap (one
//!   missing sample is tolerated), and so do a late first or an early last
//!   sample. Missing data breaks a run. Because it could hide an unhealthy
//!   stretch, every answer is computed twice, once with all missing data
//!   healthy and once with all of it unhealthy: when both agree (missing
//!   data only before the last unhealthy sample, say) the answer stands;
//!   when they differ the result is undetermined (`recovered = None`) and
//!   the reason names the missing data and both possible answers.
//! - **Uncertainty**: `± (s + r)`: the rolling window lags by up to `r`.
//!
//! Pure: series in, numbers out. No I/O, no clock.

use serde::{Deserialize, Serialize};

use super::EvalError;
use super::human::{format_number, format_seconds};
use super::measure::Measure;
use super::series::{Observation, SeriesShape, observe};
use super::timeline::{Timeline, WindowKind};

/// Default `stable_for`: a recovery must hold for 1m.
pub const DEFAULT_STABLE_FOR_SECONDS: f64 = 60.0;
/// Default recovery threshold: healthy while the SLI is within the objective.
pub const DEFAULT_RECOVERY_THRESHOLD: f64 = 1.0;

/// The alternative health criterion: within `percent` % of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineBand {
    /// How far above the baseline error ratio still counts as healthy, in percent.
    pub percent: f64,
    /// The baseline window's error ratio.
    pub baseline_error_ratio: Measure<f64>,
}

/// When a sample of `E_r` counts as healthy.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRule {
    /// Healthy when `E_r ≤ B × threshold` (default 1.0).
    pub threshold: f64,
    /// Also healthy when within this band of the baseline.
    pub within_baseline: Option<BaselineBand>,
}

impl Default for HealthRule {
    fn default() -> Self {
        HealthRule {
            threshold: DEFAULT_RECOVERY_THRESHOLD,
            within_baseline: None,
        }
    }
}

/// Everything the recovery analysis needs besides the series and timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryParams {
    /// `B = 1 − objective`.
    pub error_budget: f64,
    /// Step and rolling window of the series.
    pub shape: SeriesShape,
    /// How long the service must stay healthy to count as recovered.
    pub stable_for_seconds: f64,
    /// What healthy means.
    pub rule: HealthRule,
}

/// Whether the fault visibly hurt the SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// No unhealthy sample and no missing data that could hide one.
    None,
    /// At least one unhealthy sample after the fault started.
    Impacted,
    /// No unhealthy sample seen, but missing data could hide one.
    Unknown,
}

/// Impact and recovery of one SLO.
///
/// `recovered` is `Some(true)` with a time to recover, `Some(false)` when the
/// observation ended before a stable recovery (`reason` says how far it got),
/// or `None` when missing data prevents a decision (`reason` says which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryAnalysis {
    /// Whether the SLO was impacted.
    pub impact: Impact,
    /// First unhealthy sample at or after the fault start, minus the fault start.
    pub time_to_impact_seconds: Option<f64>,
    /// See the type's documentation.
    pub recovered: Option<bool>,
    /// `t_r`: first sample of the stable healthy run after the last unhealthy one.
    pub recovered_at: Option<f64>,
    /// `max(0, t_r − fault_end)`; 0 when there was no impact.
    pub time_to_recover_seconds: Option<f64>,
    /// `t_r − fault_start`; 0 when there was no impact.
    pub time_to_recover_from_fault_start_seconds: Option<f64>,
    /// `s + r`.
    pub uncertainty_seconds: f64,
    /// Why the service did not recover, or why it cannot be decided.
    pub reason: Option<String>,
    /// NaN, Inf or out-of-range samples between fault start and observation end.
    pub missing_samples: usize,
    /// Gaps longer than `2 × s` between fault start and observation end.
    pub gaps: usize,
    /// Remarks that do not change the numbers.
    pub notes: Vec<String>,
}

impl RecoveryAnalysis {
    /// A result that cannot be computed at all (no series, invalid
    /// parameters): impact unknown, recovery undecided, `reason` stated.
    pub fn undetermined(reason: impl Into<String>, uncertainty_seconds: f64) -> Self {
        RecoveryAnalysis {
            impact: Impact::Unknown,
            time_to_impact_seconds: None,
            recovered: None,
            recovered_at: None,
            time_to_recover_seconds: None,
            time_to_recover_from_fault_start_seconds: None,
            uncertainty_seconds,
            reason: Some(reason.into()),
            missing_samples: 0,
            gaps: 0,
            notes: Vec::new(),
        }
    }
}

/// The largest burn rate seen over the experiment window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakBurn {
    /// `max_t E_r(t) / B`, over valid samples only.
    pub burn_rate: Measure<f64>,
    /// When it was first reached.
    pub at: Option<f64>,
    /// Missing samples and gaps: a larger peak could hide in them.
    pub missing_samples: usize,
    /// See `missing_samples`.
    pub gaps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Healthy,
    Unhealthy,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    /// No unhealthy point at all.
    NotImpacted,
    /// The tail after the last unhealthy point starts at `at` and lasts.
    Recovered { at: f64 },
    /// The tail is empty or too short.
    NotRecovered {
        healthy_from: Option<f64>,
        healthy_for: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    first_unhealthy: Option<f64>,
    ending: Ending,
}

fn check_params(params: &RecoveryParams) -> Result<(), EvalError> {
    let checks = [
        (
            "error_budget",
            params.error_budget,
            params.error_budget > 0.0 && params.error_budget < 1.0,
            "a fraction strictly between 0 and 1",
        ),
        (
            "stable_for_seconds",
            params.stable_for_seconds,
            params.stable_for_seconds >= 0.0,
            "a non-negative number of seconds",
        ),
        (
            "recovery_threshold",
            params.rule.threshold,
            params.rule.threshold >= 0.0,
            "a non-negative multiple of the error budget",
        ),
    ];
    for (name, value, ok, expected) in checks {
        if !(value.is_finite() && ok) {
            return Err(EvalError::Parameter {
                name,
                value,
                expected,
            });
        }
    }
    if let Some(band) = &params.rule.within_baseline
        && !(band.percent.is_finite() && band.percent >= 0.0)
    {
        return Err(EvalError::Parameter {
            name: "within_baseline_percent",
            value: band.percent,
            expected: "a non-negative percentage",
        });
    }
    Ok(())
}

fn classify(value: Option<f64>, params: &RecoveryParams) -> Class {
    let Some(e) = value else {
        return Class::Missing;
    };
    if e <= params.error_budget * params.rule.threshold {
        return Class::Healthy;
    }
    match &params.rule.within_baseline {
        None => Class::Unhealthy,
        Some(band) => match band.baseline_error_ratio.get() {
            Some(base) if e <= base * (1.0 + band.percent / 100.0) => Class::Healthy,
            Some(_) => Class::Unhealthy,
            None => Class::Missing,
        },
    }
}

/// Reads the classified points with missing data resolved one way.
fn read(points: &[(f64, f64, Class)], stable_for: f64, missing_is_healthy: bool) -> Reading {
    let healthy = |c: Class| match c {
        Class::Healthy => true,
        Class::Unhealthy => false,
        Class::Missing => missing_is_healthy,
    };
    let first_unhealthy = points.iter().find(|p| !healthy(p.2)).map(|p| p.0);
    let Some(last_bad) = points.iter().rposition(|p| !healthy(p.2)) else {
        return Reading {
            first_unhealthy,
            ending: Ending::NotImpacted,
        };
    };
    let tail = points.get(last_bad + 1..).unwrap_or(&[]);
    let ending = match (tail.first(), tail.last()) {
        (Some(first), Some(last)) if last.1 - first.0 >= stable_for => {
            Ending::Recovered { at: first.0 }
        }
        (Some(first), Some(last)) => Ending::NotRecovered {
            healthy_from: Some(first.0),
            healthy_for: last.1 - first.0,
        },
        _ => Ending::NotRecovered {
            healthy_from: None,
            healthy_for: 0.0,
        },
    };
    Reading {
        first_unhealthy,
        ending,
    }
}

/// `(recovered, TTR from fault end, t_r)` of one reading.
fn summarize(ending: Ending, fault_end: f64) -> (bool, Option<f64>, Option<f64>) {
    match ending {
        Ending::NotImpacted => (true, Some(0.0), None),
        Ending::Recovered { at } => (true, Some((at - fault_end).max(0.0)), Some(at)),
        Ending::NotRecovered { .. } => (false, None, None),
    }
}

/// "45s after the fault ended" / "10s before the fault ended".
fn relative_to_fault_end(t: f64, fault_end: f64) -> String {
    let d = t - fault_end;
    if d >= 0.0 {
        format!("{} after the fault ended", format_seconds(d))
    } else {
        format!("{} before the fault ended", format_seconds(-d))
    }
}

fn describe_ending(ending: Ending, fault_end: f64) -> String {
    match ending {
        Ending::NotImpacted => "no impact".to_owned(),
        Ending::Recovered { at } if at <= fault_end => {
            "recovered before the fault ended".to_owned()
        }
        Ending::Recovered { at } => format!("recovered {}", relative_to_fault_end(at, fault_end)),
        Ending::NotRecovered { .. } => "never recovered".to_owned(),
    }
}

fn not_recovered_reason(ending: Ending, timeline: &Timeline, stable_for: f64) -> String {
    let observation = timeline.observation_seconds();
    let head = if observation > 0.0 {
        format!(
            "never recovered within the {} observation",
            format_seconds(observation)
        )
    } else {
        "never recovered: the observation ended with the fault".to_owned()
    };
    match ending {
        Ending::NotRecovered {
            healthy_from: Some(from),
            healthy_for,
        } => format!(
            "{head} (healthy from {}, but for only {} of the required stable_for {})",
            relative_to_fault_end(from, timeline.fault_end()),
            format_seconds(healthy_for),
            format_seconds(stable_for)
        ),
        _ => format!("{head} (still unhealthy at its last sample)"),
    }
}

fn describe_holes(observation: &Observation, undecidable: usize, rule: &HealthRule) -> String {
    let mut parts = Vec::new();
    if observation.invalid_samples > 0 {
        let first = observation
            .first_invalid
            .as_ref()
            .map(|(_, reason)| format!(" ({reason})"))
            .unwrap_or_default();
        parts.push(format!(
            "{} sample{} without a usable value{first}",
            observation.invalid_samples,
            if observation.invalid_samples == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if observation.gaps > 0 {
        parts.push(format!(
            "{} gap{} in the series",
            observation.gaps,
            if observation.gaps == 1 { "" } else { "s" }
        ));
    }
    if undecidable > 0 {
        let why = rule
            .within_baseline
            .as_ref()
            .and_then(|band| band.baseline_error_ratio.reason())
            .unwrap_or("missing");
        parts.push(format!(
            "{undecidable} sample{} above the objective that the within-baseline criterion cannot judge: baseline error ratio {why}",
            if undecidable == 1 { "" } else { "s" }
        ));
    }
    parts.join(", ")
}

/// Impact, time to impact and time to recover from `E_r` (see the module
/// documentation for how samples, runs and missing data are read).
///
/// Fails only on invalid parameters (a budget outside `(0, 1)`, a negative
/// `stable_for`, threshold or band); data problems are values in the result.
pub fn analyze_recovery(
    series: &[(f64, f64)],
    timeline: &Timeline,
    params: &RecoveryParams,
) -> Result<RecoveryAnalysis, EvalError> {
    check_params(params)?;
    let observation = observe(
        series,
        timeline.window(WindowKind::Experiment),
        &params.shape,
    );
    let points: Vec<(f64, f64, Class)> = observation
        .points
        .iter()
        .map(|p| (p.first, p.last, classify(p.value, params)))
        .collect();
    let undecidable = observation
        .points
        .iter()
        .zip(&points)
        .filter(|(o, p)| o.value.is_some() && p.2 == Class::Missing)
        .count();
    let stable_for = params.stable_for_seconds;
    let optimistic = read(&points, stable_for, true);
    let pessimistic = read(&points, stable_for, false);
    let fault_start = timeline.fault_start();
    let fault_end = timeline.fault_end();
    let mut notes = Vec::new();

    let impact = match (optimistic.first_unhealthy, pessimistic.first_unhealthy) {
        (Some(_), _) => Impact::Impacted,
        (None, Some(_)) => Impact::Unknown,
        (None, None) => Impact::None,
    };
    let time_to_impact_seconds = optimistic.first_unhealthy.map(|t| t - fault_start);
    if let (Some(seen), Some(possible)) = (optimistic.first_unhealthy, pessimistic.first_unhealthy)
        && possible < seen
    {
        notes.push(format!(
            "missing data before the first unhealthy sample could hide an impact up to {} earlier",
            format_seconds(seen - possible)
        ));
    }

    let (opt_recovered, opt_ttr, opt_at) = summarize(optimistic.ending, fault_end);
    let (pes_recovered, pes_ttr, pes_at) = summarize(pessimistic.ending, fault_end);
    let mut analysis = RecoveryAnalysis {
        impact,
        time_to_impact_seconds,
        recovered: None,
        recovered_at: None,
        time_to_recover_seconds: None,
        time_to_recover_from_fault_start_seconds: None,
        uncertainty_seconds: params.shape.uncertainty_seconds(),
        reason: None,
        missing_samples: observation.invalid_samples + undecidable,
        gaps: observation.gaps,
        notes: Vec::new(),
    };
    if opt_recovered == pes_recovered && opt_ttr == pes_ttr {
        analysis.recovered = Some(opt_recovered);
        analysis.time_to_recover_seconds = opt_ttr;
        if optimistic.ending == Ending::NotImpacted && pessimistic.ending == Ending::NotImpacted {
            analysis.time_to_recover_from_fault_start_seconds = Some(0.0);
        } else if opt_at == pes_at {
            analysis.recovered_at = opt_at;
            analysis.time_to_recover_from_fault_start_seconds = opt_at.map(|t| t - fault_start);
        }
        if let Some(at) = analysis.recovered_at
            && at < fault_end
        {
            notes.push(format!(
                "stable again {} before the fault ended: time to recover is reported as 0",
                format_seconds(fault_end - at)
            ));
        }
        if !opt_recovered {
            analysis.reason = Some(not_recovered_reason(
                optimistic.ending,
                timeline,
                stable_for,
            ));
        }
    } else {
        analysis.reason = Some(format!(
            "recovery cannot be decided because of missing data ({}): {} if it was healthy, {} if it was not",
            describe_holes(&observation, undecidable, &params.rule),
            describe_ending(optimistic.ending, fault_end),
            describe_ending(pessimistic.ending, fault_end)
        ));
    }
    analysis.notes = notes;
    Ok(analysis)
}

/// The peak burn rate `max_t E_r(t) / B` between the fault start and the end
/// of the observation, and when it was first reached. Missing samples and
/// gaps are counted: a larger peak could hide in them.
pub fn find_peak_burn(
    series: &[(f64, f64)],
    timeline: &Timeline,
    shape: &SeriesShape,
    error_budget: f64,
) -> PeakBurn {
    let observation = observe(series, timeline.window(WindowKind::Experiment), shape);
    let mut peak: Option<(f64, f64)> = None;
    for point in &observation.points {
        if let Some(v) = point.value
            && peak.is_none_or(|(best, _)| v > best)
        {
            peak = Some((v, point.first));
        }
    }
    let burn_rate = match peak {
        Some((e, _)) if error_budget > 0.0 && error_budget.is_finite() => {
            Measure::Value(e / error_budget)
        }
        Some(_) => Measure::missing(format!(
            "error budget {} is not positive",
            format_number(error_budget)
        )),
        None => Measure::missing(
            "no valid sample of the error-ratio series between the fault start and the end of the observation",
        ),
    };
    PeakBurn {
        burn_rate,
        at: peak.map(|(_, t)| t),
        missing_samples: observation.invalid_samples,
        gaps: observation.gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // All scenarios: 99.9% SLO (B = 0.001, healthy ⇔ E_r ≤ 0.001), step 15s,
    // rolling window 1m; baseline from 0s, fault 300s..420s, observation
    // until 720s (5m); samples every 15s.
    const B: f64 = 0.001;
    const BAD: f64 = 0.2;
    const GOOD: f64 = 0.0005;

    fn timeline() -> Timeline {
        Timeline::new(0.0, 300.0, 420.0, 720.0).unwrap_or_else(|e| panic!("{e}"))
    }

    fn params(stable_for: f64) -> RecoveryParams {
        RecoveryParams {
            error_budget: B,
            shape: SeriesShape::new(15.0, 60.0).unwrap_or_default(),
            stable_for_seconds: stable_for,
            rule: HealthRule::default(),
        }
    }

    /// Samples every 15s from `from` to `to` (inclusive) with `value(t)`.
    fn series(from: u32, to: u32, value: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (from..=to)
            .step_by(15)
            .map(|t| (f64::from(t), value(f64::from(t))))
            .collect()
    }

    /// Unhealthy on `[a, b]`, healthy elsewhere.
    fn bad_between(a: f64, b: f64) -> impl Fn(f64) -> f64 {
        move |t| if (a..=b).contains(&t) { BAD } else { GOOD }
    }

    fn analyze(series: &[(f64, f64)], p: &RecoveryParams, t: &Timeline) -> RecoveryAnalysis {
        analyze_recovery(series, t, p).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_clean_recovery_counts_from_the_first_sample_after_the_last_unhealthy_one() {
        // Unhealthy 315..=480, healthy from 495 on; the tail 495..720 lasts
        // 225s ≥ 60s, so t_r = 495: TTR = 495 − 420 = 75s, 195s from the
        // fault start; impact at 315 − 300 = 15s.
        let r = analyze(
            &series(0, 720, bad_between(315.0, 480.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.impact, Impact::Impacted);
        assert_eq!(r.time_to_impact_seconds, Some(15.0));
        assert_eq!(r.recovered, Some(true));
        assert_eq!(r.recovered_at, Some(495.0));
        assert_eq!(r.time_to_recover_seconds, Some(75.0));
        assert_eq!(r.time_to_recover_from_fault_start_seconds, Some(195.0));
        assert_eq!(r.uncertainty_seconds, 75.0);
        assert_eq!(r.reason, None);
        assert_eq!((r.missing_samples, r.gaps), (0, 0));
    }

    #[test]
    fn a_relapse_moves_the_recovery_to_after_the_last_unhealthy_sample() {
        // Unhealthy 315..=480, healthy 495..=570 (75s, would have counted),
        // unhealthy again 585..=600, healthy from 615: t_r = 615, TTR = 195s.
        let v = |t: f64| {
            if (315.0..=480.0).contains(&t) || (585.0..=600.0).contains(&t) {
                BAD
            } else {
                GOOD
            }
        };
        let r = analyze(&series(0, 720, v), &params(60.0), &timeline());
        assert_eq!(r.recovered_at, Some(615.0));
        assert_eq!(r.time_to_recover_seconds, Some(195.0));
        assert_eq!(r.time_to_recover_from_fault_start_seconds, Some(315.0));
        assert_eq!(r.time_to_impact_seconds, Some(15.0));
    }

    #[test]
    fn a_service_still_unhealthy_at_the_end_never_recovered() {
        let r = analyze(
            &series(0, 720, bad_between(315.0, 720.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.recovered, Some(false));
        assert_eq!(r.time_to_recover_seconds, None);
        assert_eq!(
            r.reason.as_deref(),
            Some("never recovered within the 5m observation (still unhealthy at its last sample)")
        );
    }

    #[test]
    fn a_healthy_tail_shorter_than_stable_for_is_not_a_recovery() {
        // Unhealthy until 690; healthy at 705 and 720 only: 15s < 60s.
        let r = analyze(
            &series(0, 720, bad_between(315.0, 690.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.recovered, Some(false));
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "never recovered within the 5m observation (healthy from 4m45s after the fault ended, but for only 15s of the required stable_for 1m)"
            )
        );
    }

    #[test]
    fn stable_for_is_measured_from_the_first_to_the_last_timestamp_of_the_run() {
        // Unhealthy until 660, healthy 675..=720: 720 − 675 = 45s < 60s.
        let r = analyze(
            &series(0, 720, bad_between(315.0, 660.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.recovered, Some(false));
        // One more sample at 735 (observation to 735): 735 − 675 = 60s ≥ 60s.
        let longer = Timeline::new(0.0, 300.0, 420.0, 735.0).unwrap_or_else(|e| panic!("{e}"));
        let r = analyze(
            &series(0, 735, bad_between(315.0, 660.0)),
            &params(60.0),
            &longer,
        );
        assert_eq!(r.recovered_at, Some(675.0));
        assert_eq!(r.time_to_recover_seconds, Some(255.0));
        // stable_for 0 accepts the single sample at 720 after an unhealthy 705.
        let r = analyze(
            &series(0, 720, bad_between(315.0, 705.0)),
            &params(0.0),
            &timeline(),
        );
        assert_eq!(r.recovered_at, Some(720.0));
        assert_eq!(r.time_to_recover_seconds, Some(300.0));
    }

    #[test]
    fn stable_for_longer_than_the_remaining_observation_means_not_recovered() {
        // Healthy from 495: 225s left, stable_for 10m.
        let r = analyze(
            &series(0, 720, bad_between(315.0, 480.0)),
            &params(600.0),
            &timeline(),
        );
        assert_eq!(r.recovered, Some(false));
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "never recovered within the 5m observation (healthy from 1m15s after the fault ended, but for only 3m45s of the required stable_for 10m)"
            )
        );
    }

    #[test]
    fn no_unhealthy_sample_means_no_impact_and_a_time_to_recover_of_zero() {
        let r = analyze(&series(0, 720, |_| GOOD), &params(60.0), &timeline());
        assert_eq!(r.impact, Impact::None);
        assert_eq!(r.time_to_impact_seconds, None);
        assert_eq!(r.recovered, Some(true));
        assert_eq!(r.time_to_recover_seconds, Some(0.0));
        assert_eq!(r.time_to_recover_from_fault_start_seconds, Some(0.0));
        assert_eq!(r.recovered_at, None);
    }

    #[test]
    fn unhealthy_samples_before_the_fault_do_not_count() {
        let r = analyze(
            &series(0, 720, bad_between(0.0, 240.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.impact, Impact::None);
        assert_eq!(r.time_to_recover_seconds, Some(0.0));
    }

    #[test]
    fn recovering_before_the_fault_ends_reports_zero_and_says_so() {
        // Unhealthy 315..=360, stable from 375 (< fault end 420).
        let r = analyze(
            &series(0, 720, bad_between(315.0, 360.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.recovered_at, Some(375.0));
        assert_eq!(r.time_to_recover_seconds, Some(0.0));
        assert_eq!(r.time_to_recover_from_fault_start_seconds, Some(75.0));
        assert_eq!(
            r.notes,
            vec![
                "stable again 45s before the fault ended: time to recover is reported as 0"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn an_empty_series_cannot_be_decided() {
        let r = analyze(&[], &params(60.0), &timeline());
        assert_eq!(r.impact, Impact::Unknown);
        assert_eq!(r.recovered, None);
        assert_eq!(r.time_to_recover_seconds, None);
        assert_eq!(r.gaps, 1);
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "recovery cannot be decided because of missing data (1 gap in the series): no impact if it was healthy, never recovered if it was not"
            )
        );
    }

    #[test]
    fn a_nan_before_the_last_unhealthy_sample_does_not_change_the_answer() {
        let v = |t: f64| {
            if t == 405.0 {
                f64::NAN
            } else {
                bad_between(315.0, 480.0)(t)
            }
        };
        let r = analyze(&series(0, 720, v), &params(60.0), &timeline());
        assert_eq!(r.recovered, Some(true));
        assert_eq!(r.time_to_recover_seconds, Some(75.0));
        assert_eq!(r.missing_samples, 1);
    }

    #[test]
    fn a_nan_after_the_recovery_could_hide_a_relapse_so_the_answer_is_undetermined() {
        // Optimistic: t_r = 495 (TTR 75s). Pessimistic: the NaN at 600 is the
        // last unhealthy sample, t_r = 615 (TTR 195s).
        let v = |t: f64| {
            if t == 600.0 {
                f64::NAN
            } else {
                bad_between(315.0, 480.0)(t)
            }
        };
        let r = analyze(&series(0, 720, v), &params(60.0), &timeline());
        assert_eq!(r.recovered, None);
        assert_eq!(r.time_to_recover_seconds, None);
        assert_eq!(r.impact, Impact::Impacted);
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "recovery cannot be decided because of missing data (1 sample without a usable value (value is NaN)): recovered 1m15s after the fault ended if it was healthy, recovered 3m15s after the fault ended if it was not"
            )
        );
    }

    #[test]
    fn infinite_and_out_of_range_samples_are_missing_data_too() {
        let v = |t: f64| match t {
            600.0 => f64::INFINITY,
            615.0 => 3.0,
            _ => bad_between(315.0, 480.0)(t),
        };
        let r = analyze(&series(0, 720, v), &params(60.0), &timeline());
        assert_eq!(r.recovered, None);
        assert_eq!(r.missing_samples, 2);
    }

    #[test]
    fn a_gap_after_the_recovery_is_missing_data_but_one_missing_sample_is_not() {
        // Samples 600, 615, 630 missing: 585 → 645 is 60s > 2 steps.
        let gap: Vec<(f64, f64)> = series(0, 720, bad_between(315.0, 480.0))
            .into_iter()
            .filter(|(t, _)| !(600.0..=630.0).contains(t))
            .collect();
        let r = analyze(&gap, &params(60.0), &timeline());
        assert_eq!(r.recovered, None);
        assert_eq!(r.gaps, 1);
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "recovery cannot be decided because of missing data (1 gap in the series): recovered 1m15s after the fault ended if it was healthy, recovered 3m45s after the fault ended if it was not"
            )
        );
        // Only 600 missing: 585 → 615 is 30s = 2 steps, tolerated.
        let hole: Vec<(f64, f64)> = series(0, 720, bad_between(315.0, 480.0))
            .into_iter()
            .filter(|(t, _)| *t != 600.0)
            .collect();
        let r = analyze(&hole, &params(60.0), &timeline());
        assert_eq!(r.recovered, Some(true));
        assert_eq!(r.time_to_recover_seconds, Some(75.0));
    }

    #[test]
    fn a_series_that_stops_early_cannot_prove_the_recovery_held() {
        // Last sample at 600, observation to 720: trailing gap 615..720.
        let r = analyze(
            &series(0, 600, bad_between(315.0, 480.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.recovered, None);
        assert_eq!(r.gaps, 1);
    }

    #[test]
    fn a_fault_at_the_very_start_of_the_series_is_read_like_any_other() {
        // No baseline samples: the series starts at the fault start.
        let r = analyze(
            &series(300, 720, bad_between(315.0, 480.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.time_to_impact_seconds, Some(15.0));
        assert_eq!(r.time_to_recover_seconds, Some(75.0));
        assert!(r.notes.is_empty());
    }

    #[test]
    fn a_series_starting_after_the_fault_start_notes_that_the_impact_may_have_been_earlier() {
        // First sample at 360 (unhealthy): leading gap 300..345.
        let r = analyze(
            &series(360, 720, bad_between(315.0, 480.0)),
            &params(60.0),
            &timeline(),
        );
        assert_eq!(r.impact, Impact::Impacted);
        assert_eq!(r.time_to_impact_seconds, Some(60.0));
        assert_eq!(r.recovered, Some(true));
        assert_eq!(r.time_to_recover_seconds, Some(75.0));
        assert_eq!(
            r.notes,
            vec!["missing data before the first unhealthy sample could hide an impact up to 1m earlier".to_owned()]
        );
    }

    #[test]
    fn a_fault_at_the_very_end_of_the_observation_leaves_no_time_to_recover() {
        let t = Timeline::new(0.0, 300.0, 420.0, 420.0).unwrap_or_else(|e| panic!("{e}"));
        let r = analyze(
            &series(0, 420, bad_between(315.0, 420.0)),
            &params(60.0),
            &t,
        );
        assert_eq!(r.recovered, Some(false));
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "never recovered: the observation ended with the fault (still unhealthy at its last sample)"
            )
        );
    }

    #[test]
    fn the_within_baseline_criterion_accepts_a_return_to_an_already_burning_baseline() {
        // Baseline E = 0.002 (above the objective); after the fault E = 0.0021,
        // within 10% of the baseline (≤ 0.0022), so healthy from 495.
        let v = |t: f64| {
            if (315.0..=480.0).contains(&t) {
                BAD
            } else {
                0.0021
            }
        };
        let s = series(0, 720, v);
        let mut p = params(60.0);
        let plain = analyze(&s, &p, &timeline());
        assert_eq!(plain.recovered, Some(false));
        p.rule.within_baseline = Some(BaselineBand {
            percent: 10.0,
            baseline_error_ratio: Measure::Value(0.002),
        });
        let banded = analyze(&s, &p, &timeline());
        assert_eq!(banded.recovered, Some(true));
        assert_eq!(banded.time_to_recover_seconds, Some(75.0));
        // Without a baseline value, samples above the objective cannot be judged.
        p.rule.within_baseline = Some(BaselineBand {
            percent: 10.0,
            baseline_error_ratio: Measure::missing("no series returned by errors"),
        });
        let unknown = analyze(&s, &p, &timeline());
        assert_eq!(unknown.recovered, None);
        assert!(
            unknown
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("baseline error ratio no series returned by errors")),
            "{:?}",
            unknown.reason
        );
    }

    #[test]
    fn invalid_parameters_are_errors_not_verdicts() {
        let mut p = params(-1.0);
        assert!(matches!(
            analyze_recovery(&[], &timeline(), &p),
            Err(EvalError::Parameter {
                name: "stable_for_seconds",
                ..
            })
        ));
        p.stable_for_seconds = 60.0;
        p.rule.threshold = f64::NAN;
        assert!(matches!(
            analyze_recovery(&[], &timeline(), &p),
            Err(EvalError::Parameter {
                name: "recovery_threshold",
                ..
            })
        ));
    }

    #[test]
    fn the_peak_burn_rate_is_the_largest_valid_sample_after_the_fault_start() {
        // Before the fault 0.9 (ignored); 0.05 at 330, 0.3 at 345 and 360
        // (first reached at 345), NaN at 375: peak 0.3 / 0.001 = 300.
        let v = |t: f64| match t {
            t if t < 300.0 => 0.9,
            330.0 => 0.05,
            345.0 | 360.0 => 0.3,
            375.0 => f64::NAN,
            _ => 0.0,
        };
        let s = series(0, 720, v);
        let shape = SeriesShape::new(15.0, 60.0).unwrap_or_default();
        let peak = find_peak_burn(&s, &timeline(), &shape, B);
        assert!(
            peak.burn_rate
                .get()
                .is_some_and(|b| (b - 300.0).abs() < 1e-9),
            "{peak:?}"
        );
        assert_eq!(peak.at, Some(345.0));
        assert_eq!((peak.missing_samples, peak.gaps), (1, 0));
        let none = find_peak_burn(&[], &timeline(), &shape, B);
        assert!(none.burn_rate.reason().is_some());
        assert_eq!(none.at, None);
    }

    proptest! {
        #[test]
        fn on_complete_data_the_answer_is_always_decided_and_the_recovery_holds_to_the_end(
            values in proptest::collection::vec(prop_oneof![Just(0.0f64), Just(0.0005), Just(0.002), Just(0.5)], 49),
            stable_for in prop_oneof![Just(0.0f64), Just(30.0), Just(60.0), Just(120.0)],
        ) {
            let s: Vec<(f64, f64)> = values.iter().enumerate().map(|(i, v)| (i as f64 * 15.0, *v)).collect();
            let r = analyze(&s, &params(stable_for), &timeline());
            prop_assert!(r.recovered.is_some());
            if let Some(at) = r.recovered_at {
                prop_assert!(s.iter().filter(|(t, _)| *t >= at).all(|(_, v)| *v <= B));
                prop_assert!(720.0 - at >= stable_for);
            }
            if let Some(ttr) = r.time_to_recover_seconds {
                prop_assert!(ttr >= 0.0);
            }
            let impacted = s.iter().any(|(t, v)| *t >= 300.0 && *v > B);
            prop_assert_eq!(r.impact == Impact::Impacted, impacted);
        }
    }
}
