//! Time to detect: when the expected alerts fired, and when the page alert
//! should have fired.
//!
//! Owns two answers. **Observed**: for each expected alert, the first time at
//! or after the fault start (and not after the end of the observation) that
//! it was firing, from `ALERTS{alertstate="firing",alertname=X}` samples
//! (value 1 while firing) or from Alertmanager webhook firing times; time to
//! detect is the earliest of them minus the fault start. **Predicted**: the
//! first time the multi-window multi-burn-rate page alert condition holds on
//! the observed error ratio.
//!
//! The prediction approximates each alert window's error ratio from the
//! short-window series `E_r` (step `s`, rolling window `r`): the ratio over
//! `[t − L, t]` is the plain average of the `E_r` samples whose own windows
//! lie inside it (sample times in `[t − L + r, t]`), which is exact for
//! steady traffic (the true ratio is the traffic-weighted average). NaN
//! samples (no traffic: 0/0) and gaps weigh nothing. History before the first
//! sample of the series is taken to be like the baseline (the average of the
//! samples before the fault, or error-free when there are none, noted). The
//! alert fires when, for any window pair, both windows' ratios exceed
//! `factor × B`, evaluated at each sample time; the rule's `for:` clause and
//! Prometheus's evaluation interval are ignored. No I/O, no clock.

use serde::{Deserialize, Serialize};

use super::human::format_seconds;
use super::measure::Measure;
use super::series::{SeriesShape, in_time_order};
use super::timeline::Timeline;
use super::window::check_error_ratio;

/// What was observed of one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInput {
    /// The alert's name (`alertname`).
    pub name: String,
    /// `(time, value)` samples while firing (value 1), or why they are unknown.
    /// An empty list means the alert never fired (Prometheus returns no
    /// `ALERTS` series for an alert that is not firing).
    pub firing: Measure<Vec<(f64, f64)>>,
}

impl AlertInput {
    /// From `ALERTS{alertstate="firing",alertname=X}` range-query samples.
    pub fn from_series(name: impl Into<String>, samples: Vec<(f64, f64)>) -> Self {
        AlertInput {
            name: name.into(),
            firing: Measure::Value(samples),
        }
    }

    /// From the firing times of Alertmanager webhook notifications.
    pub fn from_webhook(name: impl Into<String>, firing_times: &[f64]) -> Self {
        AlertInput {
            name: name.into(),
            firing: Measure::Value(firing_times.iter().map(|t| (*t, 1.0)).collect()),
        }
    }
}

/// An expected alert that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredAlert {
    /// The alert's name.
    pub name: String,
    /// First time at or after the fault start it was seen firing.
    pub first_firing_at: f64,
    /// `first_firing_at − fault_start`.
    pub time_to_detect_seconds: f64,
    /// It was already firing in the baseline: its detection may not be
    /// caused by the fault.
    pub firing_before_fault: bool,
}

/// An expected alert whose state could not be observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownAlert {
    /// The alert's name.
    pub name: String,
    /// Why its state is unknown.
    pub reason: String,
}

/// Which expected alerts fired, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertDetection {
    /// The expected alert names, without duplicates, in the order given.
    pub expected_alerts: Vec<String>,
    /// Those that fired between the fault start and the end of the observation.
    pub fired: Vec<FiredAlert>,
    /// Those that did not fire.
    pub not_fired: Vec<String>,
    /// Those whose state is unknown.
    pub unknown: Vec<UnknownAlert>,
    /// Earliest `time_to_detect_seconds` of `fired`. When some alerts are
    /// unknown it is an upper bound: an unknown one may have fired earlier.
    pub time_to_detect_seconds: Option<f64>,
}

/// Which expected alerts fired during the experiment and the time to detect.
///
/// Several inputs with the same name are merged: the alert fired if any
/// shows it firing; otherwise it did not fire if any input was measured;
/// otherwise its state is unknown.
pub fn detect_alerts(
    expected: &[String],
    observed: &[AlertInput],
    timeline: &Timeline,
) -> AlertDetection {
    let mut names: Vec<String> = Vec::new();
    for name in expected {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let (fault_start, observe_end) = (timeline.fault_start(), timeline.observe_end());
    let firing = |v: f64| v.is_finite() && v > 0.0;
    let mut detection = AlertDetection {
        expected_alerts: names.clone(),
        fired: Vec::new(),
        not_fired: Vec::new(),
        unknown: Vec::new(),
        time_to_detect_seconds: None,
    };
    for name in names {
        let inputs: Vec<&AlertInput> = observed.iter().filter(|a| a.name == name).collect();
        let samples = inputs.iter().filter_map(|a| a.firing.value()).flatten();
        let first = samples
            .clone()
            .filter(|(t, v)| firing(*v) && *t >= fault_start && *t <= observe_end)
            .map(|(t, _)| *t)
            .min_by(f64::total_cmp);
        let before = samples
            .clone()
            .any(|(t, v)| firing(*v) && *t >= timeline.baseline_start() && *t < fault_start);
        match first {
            Some(at) => detection.fired.push(FiredAlert {
                name,
                first_firing_at: at,
                time_to_detect_seconds: at - fault_start,
                firing_before_fault: before,
            }),
            None if inputs.iter().any(|a| a.firing.is_value()) => detection.not_fired.push(name),
            None => {
                let reason = inputs
                    .iter()
                    .find_map(|a| a.firing.reason())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("no observations of alert {name} were supplied"));
                detection.unknown.push(UnknownAlert { name, reason });
            }
        }
    }
    detection.time_to_detect_seconds = detection
        .fired
        .iter()
        .map(|f| f.time_to_detect_seconds)
        .min_by(f64::total_cmp);
    detection
}

/// One window pair of a multi-window multi-burn-rate alert: it fires when
/// the error ratio over both windows exceeds `factor × B`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnAlertWindow {
    /// Short window, seconds (5m for the fast page alert).
    pub short_seconds: f64,
    /// Long window, seconds (1h for the fast page alert).
    pub long_seconds: f64,
    /// Burn-rate factor (14.4 for the fast page alert on a 30d period).
    pub factor: f64,
}

impl BurnAlertWindow {
    /// The page alert windows for an SLO period (Google SRE workbook,
    /// as Sloth generates them): 2% of the budget in 1h (short window 5m)
    /// or 5% in 6h (short 30m); `factor = budget share × period / long
    /// window`, so 14.4 and 6 for 30d, 13.44 and 5.6 for 28d.
    pub fn page_windows(period_seconds: f64) -> Vec<BurnAlertWindow> {
        [(300.0, 3600.0, 0.02), (1800.0, 21_600.0, 0.05)]
            .into_iter()
            .map(|(short_seconds, long_seconds, share)| BurnAlertWindow {
                short_seconds,
                long_seconds,
                factor: share * period_seconds / long_seconds,
            })
            .collect()
    }
}

/// When the page alert should have fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagePrediction {
    /// First sample time at or after the fault start where the condition holds.
    pub first_firing_at: Option<f64>,
    /// `first_firing_at − fault_start`.
    pub time_to_detect_seconds: Option<f64>,
    /// The window pair that fired first.
    pub window: Option<BurnAlertWindow>,
    /// Assumptions that shaped this prediction.
    pub notes: Vec<String>,
}

/// Valid samples in time order with prefix sums, for window averages.
struct Averager {
    times: Vec<f64>,
    prefix: Vec<f64>,
    series_start: f64,
    fill: f64,
    step: f64,
    rate_window: f64,
}

impl Averager {
    /// Average of the samples in `[t − (length − r), t]`, the positions
    /// before the series start counted at the baseline level.
    fn average(&self, t: f64, length: f64) -> Option<f64> {
        let epsilon = self.step * 1e-6;
        let low = t - (length - self.rate_window).max(0.0);
        let i0 = self.times.partition_point(|x| *x < low - epsilon);
        let i1 = self.times.partition_point(|x| *x <= t + epsilon);
        let known = i1.saturating_sub(i0);
        let sum = match (self.prefix.get(i1), self.prefix.get(i0)) {
            (Some(a), Some(b)) if i1 > i0 => a - b,
            _ => 0.0,
        };
        let before = if self.series_start > low + epsilon {
            ((self.series_start - low) / self.step - 1e-9)
                .ceil()
                .max(0.0)
        } else {
            0.0
        };
        let count = known as f64 + before;
        (count > 0.0).then(|| (sum + before * self.fill) / count)
    }
}

/// The first time the page alert condition would hold (see the module
/// documentation for the approximation), or `None` if never during the
/// experiment.
pub fn predict_page_alert(
    series: &[(f64, f64)],
    shape: &SeriesShape,
    error_budget: f64,
    windows: &[BurnAlertWindow],
    timeline: &Timeline,
) -> PagePrediction {
    let mut prediction = PagePrediction {
        first_firing_at: None,
        time_to_detect_seconds: None,
        window: None,
        notes: Vec::new(),
    };
    let ordered = in_time_order(series);
    let Some(&(series_start, _)) = ordered.first() else {
        prediction
            .notes
            .push("no samples of the error-ratio series: no prediction".to_owned());
        return prediction;
    };
    let fault_start = timeline.fault_start();
    let mut times = Vec::with_capacity(ordered.len());
    let mut prefix = Vec::with_capacity(ordered.len() + 1);
    prefix.push(0.0);
    let (mut baseline_sum, mut baseline_count) = (0.0, 0usize);
    for &(t, raw) in ordered.iter() {
        if let Measure::Value(v) = check_error_ratio(raw) {
            times.push(t);
            let last = prefix.last().copied().unwrap_or(0.0);
            prefix.push(last + v);
            if t < fault_start {
                baseline_sum += v;
                baseline_count += 1;
            }
        }
    }
    let fill = if baseline_count > 0 {
        baseline_sum / baseline_count as f64
    } else {
        prediction.notes.push(
            "no valid samples before the fault: history before the series is taken as error-free"
                .to_owned(),
        );
        0.0
    };
    let longest = windows
        .iter()
        .map(|w| w.long_seconds.max(w.short_seconds))
        .fold(0.0, f64::max);
    if series_start > fault_start - longest + shape.rate_window_seconds() {
        prediction.notes.push(format!(
            "the series starts {} before the fault, less than the longest alert window {}: earlier history is taken to be like the baseline",
            format_seconds((fault_start - series_start).max(0.0)),
            format_seconds(longest)
        ));
    }
    let averager = Averager {
        times,
        prefix,
        series_start,
        fill,
        step: shape.step_seconds(),
        rate_window: shape.rate_window_seconds(),
    };
    let limit = |w: &BurnAlertWindow| w.factor * error_budget;
    let candidates = ordered
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t >= fault_start && *t <= timeline.observe_end());
    for t in candidates {
        let fired = windows.iter().find(|w| {
            let above = |length: f64| averager.average(t, length).is_some_and(|e| e > limit(w));
            above(w.long_seconds) && above(w.short_seconds)
        });
        if let Some(w) = fired {
            prediction.first_firing_at = Some(t);
            prediction.time_to_detect_seconds = Some(t - fault_start);
            prediction.window = Some(*w);
            break;
        }
    }
    prediction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(
        baseline_start: f64,
        fault_start: f64,
        fault_end: f64,
        observe_end: f64,
    ) -> Timeline {
        Timeline::new(baseline_start, fault_start, fault_end, observe_end)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_earliest_expected_alert_firing_after_the_fault_start_sets_the_time_to_detect() {
        // Fault at 1000..1120, observed until 1420.
        let t = timeline(700.0, 1000.0, 1120.0, 1420.0);
        let observed = vec![
            AlertInput::from_series("SLOPageAlert", vec![(1100.0, 1.0), (1115.0, 1.0)]),
            AlertInput::from_webhook("LatencyHigh", &[1065.0]),
            AlertInput::from_series("SLOTicketAlert", vec![]),
            AlertInput {
                name: "PodRestarts".to_owned(),
                firing: Measure::query_failed(4, "timeout"),
            },
        ];
        let d = detect_alerts(
            &names(&[
                "SLOPageAlert",
                "LatencyHigh",
                "SLOTicketAlert",
                "PodRestarts",
                "Absent",
                "SLOPageAlert",
            ]),
            &observed,
            &t,
        );
        assert_eq!(
            d.expected_alerts,
            names(&[
                "SLOPageAlert",
                "LatencyHigh",
                "SLOTicketAlert",
                "PodRestarts",
                "Absent"
            ])
        );
        assert_eq!(
            d.fired,
            vec![
                FiredAlert {
                    name: "SLOPageAlert".to_owned(),
                    first_firing_at: 1100.0,
                    time_to_detect_seconds: 100.0,
                    firing_before_fault: false
                },
                FiredAlert {
                    name: "LatencyHigh".to_owned(),
                    first_firing_at: 1065.0,
                    time_to_detect_seconds: 65.0,
                    firing_before_fault: false
                },
            ]
        );
        assert_eq!(d.not_fired, names(&["SLOTicketAlert"]));
        assert_eq!(
            d.unknown,
            vec![
                UnknownAlert {
                    name: "PodRestarts".to_owned(),
                    reason: "Prometheus error after 4 attempts: timeout".to_owned()
                },
                UnknownAlert {
                    name: "Absent".to_owned(),
                    reason: "no observations of alert Absent were supplied".to_owned()
                },
            ]
        );
        assert_eq!(d.time_to_detect_seconds, Some(65.0));
    }

    #[test]
    fn firing_outside_the_experiment_does_not_count_and_firing_before_is_flagged() {
        let t = timeline(700.0, 1000.0, 1120.0, 1420.0);
        let observed = vec![
            // Firing since the baseline: detected at the fault start, flagged.
            AlertInput::from_series("Old", vec![(985.0, 1.0), (1000.0, 1.0)]),
            // Only after the observation ended.
            AlertInput::from_series("Late", vec![(1435.0, 1.0)]),
            // A sample with value 0 is not firing.
            AlertInput::from_series("Zero", vec![(1050.0, 0.0)]),
            // Merged sources: one failed, the webhook saw it.
            AlertInput {
                name: "Merged".to_owned(),
                firing: Measure::missing("no series returned by ALERTS"),
            },
            AlertInput::from_webhook("Merged", &[1200.0]),
        ];
        let d = detect_alerts(&names(&["Old", "Late", "Zero", "Merged"]), &observed, &t);
        assert_eq!(d.fired.len(), 2);
        assert_eq!(
            d.fired.first(),
            Some(&FiredAlert {
                name: "Old".to_owned(),
                first_firing_at: 1000.0,
                time_to_detect_seconds: 0.0,
                firing_before_fault: true
            })
        );
        assert_eq!(
            d.fired.get(1).map(|f| f.time_to_detect_seconds),
            Some(200.0)
        );
        assert_eq!(d.not_fired, names(&["Late", "Zero"]));
        assert_eq!(d.time_to_detect_seconds, Some(0.0));
    }

    #[test]
    fn no_expected_alerts_means_nothing_to_detect() {
        let d = detect_alerts(&[], &[], &timeline(0.0, 300.0, 420.0, 720.0));
        assert_eq!(d.time_to_detect_seconds, None);
        assert!(d.fired.is_empty() && d.not_fired.is_empty() && d.unknown.is_empty());
    }

    #[test]
    fn page_windows_scale_the_factor_with_the_period() {
        // factor = share × period / long: 0.02 × 720h / 1h = 14.4, 0.05 × 720h / 6h = 6;
        // 28d: 0.02 × 672 = 13.44, 0.05 × 112 = 5.6; 7d: 3.36, 1.4.
        let table = [(30.0, 14.4, 6.0), (28.0, 13.44, 5.6), (7.0, 3.36, 1.4)];
        for (days, fast, slow) in table {
            let w = BurnAlertWindow::page_windows(days * 86_400.0);
            let factors: Vec<f64> = w.iter().map(|w| w.factor).collect();
            assert_eq!(factors.len(), 2);
            assert!(
                (factors[0] - fast).abs() < 1e-12 && (factors[1] - slow).abs() < 1e-12,
                "{days}d: {factors:?}"
            );
            assert_eq!((w[0].short_seconds, w[0].long_seconds), (300.0, 3600.0));
            assert_eq!((w[1].short_seconds, w[1].long_seconds), (1800.0, 21_600.0));
        }
    }

    /// E_r every 15s from `from` to 7200: `baseline` before 3615, 0.02 from 3615.
    fn burn(from: u32, baseline: f64) -> Vec<(f64, f64)> {
        (from..=7200)
            .step_by(15)
            .map(|t| (f64::from(t), if t >= 3615 { 0.02 } else { baseline }))
            .collect()
    }

    fn shape() -> SeriesShape {
        SeriesShape::new(15.0, 60.0).unwrap_or_default()
    }

    #[test]
    fn the_fast_page_alert_fires_when_the_hour_average_crosses_14_4_times_the_budget() {
        // B = 0.001, limit 14.4 × 0.001 = 0.0144. With r = 1m the 1h window
        // averages the 237 samples in [t − 3540, t]; k samples at 0.02 give
        // 0.02k/237 > 0.0144 ⇔ k ≥ 171, i.e. t = 3600 + 171 × 15 = 6165.
        // The 5m window (17 samples) is above from k = 13. The slow pair
        // (6h at 6×) would need k ≥ 432: later.
        let t = timeline(0.0, 3600.0, 4200.0, 7200.0);
        let p = predict_page_alert(
            &burn(0, 0.0),
            &shape(),
            0.001,
            &BurnAlertWindow::page_windows(30.0 * 86_400.0),
            &t,
        );
        assert_eq!(p.first_firing_at, Some(6165.0));
        assert_eq!(p.time_to_detect_seconds, Some(2565.0));
        assert_eq!(p.window.map(|w| w.long_seconds), Some(3600.0));
        // 28d: limit 0.01344 → 0.02k/237 > 0.01344 ⇔ k ≥ 160 → t = 6000.
        let p = predict_page_alert(
            &burn(0, 0.0),
            &shape(),
            0.001,
            &BurnAlertWindow::page_windows(28.0 * 86_400.0),
            &t,
        );
        assert_eq!(p.first_firing_at, Some(6000.0));
    }

    #[test]
    fn history_before_the_series_is_taken_at_the_baseline_level() {
        let t = timeline(3300.0, 3600.0, 4200.0, 7200.0);
        let windows = BurnAlertWindow::page_windows(30.0 * 86_400.0);
        // A zero baseline from 3300 gives the same answer as zero history from 0.
        let p = predict_page_alert(&burn(3300, 0.0), &shape(), 0.001, &windows, &t);
        assert_eq!(p.first_firing_at, Some(6165.0));
        assert_eq!(
            p.notes,
            vec!["the series starts 5m before the fault, less than the longest alert window 6h: earlier history is taken to be like the baseline".to_owned()]
        );
        // A baseline at 0.005 (5× burn, below both factors). Fast pair, 1h:
        // (0.02k + 0.005(237 − k))/237 > 0.0144 ⇔ k ≥ 149 (t = 5835). Slow
        // pair, 6h (1437 positions): (0.02k + 0.005(1437 − k))/1437 > 0.006
        // ⇔ 0.015k > 1.437 ⇔ k ≥ 96; 30m (117 positions) needs k ≥ 8. So
        // the slow pair fires first, at t = 3600 + 96 × 15 = 5040.
        let p = predict_page_alert(&burn(3300, 0.005), &shape(), 0.001, &windows, &t);
        assert_eq!(p.first_firing_at, Some(5040.0));
        assert_eq!(p.time_to_detect_seconds, Some(1440.0));
        assert_eq!(p.window.map(|w| w.long_seconds), Some(21_600.0));
    }

    #[test]
    fn a_burn_below_every_factor_predicts_no_alert() {
        let t = timeline(0.0, 3600.0, 4200.0, 7200.0);
        let s: Vec<(f64, f64)> = burn(0, 0.0)
            .into_iter()
            .map(|(t, v)| (t, v / 2.0))
            .collect();
        let p = predict_page_alert(
            &s,
            &shape(),
            0.001,
            &BurnAlertWindow::page_windows(30.0 * 86_400.0),
            &t,
        );
        assert_eq!(p.first_firing_at, None);
        assert_eq!(p.time_to_detect_seconds, None);
        let p = predict_page_alert(
            &[],
            &shape(),
            0.001,
            &BurnAlertWindow::page_windows(30.0 * 86_400.0),
            &t,
        );
        assert_eq!(
            p.notes,
            vec!["no samples of the error-ratio series: no prediction".to_owned()]
        );
    }

    #[test]
    fn nan_samples_weigh_nothing_in_the_window_averages() {
        // Every other fault sample NaN (no traffic): the averages only see the
        // 0.02 samples, so the 1h window needs twice as long. Samples at
        // 3615 + 30j are 0.02, those at 3630 + 30j NaN. At t = 3600 + 15k the
        // window holds 237 positions, ⌈k/2⌉ at 0.02 and ⌊k/2⌋ NaN:
        // 0.02⌈k/2⌉/(237 − ⌊k/2⌋) > 0.0144 first at k = 199:
        // k = 199: 0.02 × 100 / (237 − 99) = 0.014493 > 0.0144; k = 198: 0.02 × 99 / 138 = 0.014348.
        let t = timeline(0.0, 3600.0, 4200.0, 7200.0);
        let s: Vec<(f64, f64)> = burn(0, 0.0)
            .into_iter()
            .map(|(t, v)| {
                if t >= 3630.0 && (t - 3630.0) % 30.0 == 0.0 {
                    (t, f64::NAN)
                } else {
                    (t, v)
                }
            })
            .collect();
        let p = predict_page_alert(
            &s,
            &shape(),
            0.001,
            &BurnAlertWindow::page_windows(30.0 * 86_400.0),
            &t,
        );
        assert_eq!(p.first_firing_at, Some(3600.0 + 199.0 * 15.0));
    }
}
