//! The short-window error-ratio series `E_r(t)` and how it was sampled.
//!
//! Owns [`SeriesShape`] (step `s` and rolling rate window `r` of the range
//! query) and the shared reading of a series over the experiment window:
//! samples are put in time order, each value is validated like any error
//! ratio, and missing stretches (gaps longer than `2 × s`, at the start, in
//! the middle or at the end) become explicit missing spans, so recovery,
//! peak and detection all see the same holes. No I/O.

use std::borrow::Cow;

use super::EvalError;
use super::measure::Measure;
use super::timeline::Window;
use super::window::check_error_ratio;

/// Default step `s` of the range query: 15s.
pub const DEFAULT_STEP_SECONDS: f64 = 15.0;
/// Default rolling window `r` of `E_r`: 1m.
pub const DEFAULT_RATE_WINDOW_SECONDS: f64 = 60.0;

/// How the series was sampled: step `s` and rolling window `r`, in seconds.
/// Constructed through [`SeriesShape::new`], so both are positive.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesShape {
    step_seconds: f64,
    rate_window_seconds: f64,
}

impl SeriesShape {
    /// Both must be finite and positive.
    pub fn new(step_seconds: f64, rate_window_seconds: f64) -> Result<Self, EvalError> {
        for (name, value) in [
            ("step_seconds", step_seconds),
            ("rate_window_seconds", rate_window_seconds),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(EvalError::Parameter {
                    name,
                    value,
                    expected: "a positive number of seconds",
                });
            }
        }
        Ok(SeriesShape {
            step_seconds,
            rate_window_seconds,
        })
    }

    /// The step `s`.
    pub fn step_seconds(&self) -> f64 {
        self.step_seconds
    }

    /// The rolling window `r`.
    pub fn rate_window_seconds(&self) -> f64 {
        self.rate_window_seconds
    }

    /// Measurement uncertainty of times read from the series: `± (s + r)`.
    pub fn uncertainty_seconds(&self) -> f64 {
        self.step_seconds + self.rate_window_seconds
    }

    /// Longest distance between two samples that is not a gap: `2 × s`
    /// (one missing sample is tolerated, two or more are a gap).
    pub fn max_gap_seconds(&self) -> f64 {
        2.0 * self.step_seconds
    }
}

impl Default for SeriesShape {
    fn default() -> Self {
        SeriesShape {
            step_seconds: DEFAULT_STEP_SECONDS,
            rate_window_seconds: DEFAULT_RATE_WINDOW_SECONDS,
        }
    }
}

/// The series in time order without non-finite timestamps; borrowed when it
/// already was (the usual case for a Prometheus range query).
pub(crate) fn in_time_order(series: &[(f64, f64)]) -> Cow<'_, [(f64, f64)]> {
    let ordered = series.iter().all(|(t, _)| t.is_finite())
        && series.windows(2).all(|pair| pair[0].0 <= pair[1].0);
    if ordered {
        Cow::Borrowed(series)
    } else {
        let mut owned: Vec<(f64, f64)> = series
            .iter()
            .copied()
            .filter(|(t, _)| t.is_finite())
            .collect();
        owned.sort_by(|a, b| a.0.total_cmp(&b.0));
        Cow::Owned(owned)
    }
}

/// One observed point of the series over a window: a sample (`first == last`)
/// or a missing span (`first < last` or a single missing sample).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Observed {
    /// Time of the point, or of the first missing sample of a span.
    pub first: f64,
    /// Time of the point, or of the last missing sample of a span.
    pub last: f64,
    /// The validated error ratio; `None` for a NaN, Inf or out-of-range
    /// sample and for a gap.
    pub value: Option<f64>,
}

/// The series read over a window, holes made explicit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    pub points: Vec<Observed>,
    /// Samples whose value was NaN, Inf or outside `[0, 1]`.
    pub invalid_samples: usize,
    /// The first invalid sample's time and reason.
    pub first_invalid: Option<(f64, String)>,
    /// Missing spans: gaps longer than `2 × s`, including at the window's
    /// start and end, or the whole window when it has no sample.
    pub gaps: usize,
}

/// Reads `series` (any order) over `window` at `shape`'s step.
pub(crate) fn observe(series: &[(f64, f64)], window: Window, shape: &SeriesShape) -> Observation {
    let ordered = in_time_order(series);
    let start_index = ordered.partition_point(|(t, _)| *t < window.start);
    let end_index = ordered.partition_point(|(t, _)| *t <= window.end);
    let in_window = ordered.get(start_index..end_index).unwrap_or(&[]);
    let step = shape.step_seconds();
    let max_gap = shape.max_gap_seconds();
    let mut observation = Observation {
        points: Vec::with_capacity(in_window.len() + 2),
        invalid_samples: 0,
        first_invalid: None,
        gaps: 0,
    };
    let span = |first: f64, last: f64| Observed {
        first,
        last: last.max(first),
        value: None,
    };
    let (Some(&(first_t, _)), Some(&(last_t, _))) = (in_window.first(), in_window.last()) else {
        observation.points.push(span(window.start, window.end));
        observation.gaps = 1;
        return observation;
    };
    if first_t - window.start > max_gap {
        observation.points.push(span(window.start, first_t - step));
        observation.gaps += 1;
    }
    let mut previous: Option<f64> = None;
    for &(t, raw) in in_window {
        if let Some(p) = previous
            && t - p > max_gap
        {
            observation.points.push(span(p + step, t - step));
            observation.gaps += 1;
        }
        let value = match check_error_ratio(raw) {
            Measure::Value(v) => Some(v),
            Measure::Missing { reason } => {
                observation.invalid_samples += 1;
                if observation.first_invalid.is_none() {
                    observation.first_invalid = Some((t, reason));
                }
                None
            }
        };
        observation.points.push(Observed {
            first: t,
            last: t,
            value,
        });
        previous = Some(t);
    }
    if window.end - last_t > max_gap {
        observation.points.push(span(last_t + step, window.end));
        observation.gaps += 1;
    }
    observation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> SeriesShape {
        SeriesShape::new(15.0, 60.0).unwrap_or_default()
    }

    #[test]
    fn a_step_or_window_that_is_not_positive_is_rejected() {
        assert!(SeriesShape::new(0.0, 60.0).is_err());
        assert!(SeriesShape::new(15.0, f64::NAN).is_err());
        assert_eq!(
            SeriesShape::new(15.0, 60.0).map(|s| s.uncertainty_seconds()),
            Ok(75.0)
        );
    }

    #[test]
    fn gaps_longer_than_two_steps_become_missing_spans_but_one_missing_sample_does_not() {
        // Samples at 0, 15, 45 (one missing: 30s apart = 2 steps, tolerated),
        // 105 (60s after 45: a gap, span 60..90), window ends at 150 (45s after
        // 105: a trailing gap, span 120..150).
        let series = [(0.0, 0.0), (15.0, 0.1), (45.0, 0.0), (105.0, f64::NAN)];
        let o = observe(
            &series,
            Window {
                start: 0.0,
                end: 150.0,
            },
            &shape(),
        );
        let spans: Vec<(f64, f64, Option<f64>)> = o
            .points
            .iter()
            .map(|p| (p.first, p.last, p.value))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0.0, 0.0, Some(0.0)),
                (15.0, 15.0, Some(0.1)),
                (45.0, 45.0, Some(0.0)),
                (60.0, 90.0, None),
                (105.0, 105.0, None),
                (120.0, 150.0, None),
            ]
        );
        assert_eq!(o.gaps, 2);
        assert_eq!(o.invalid_samples, 1);
        assert_eq!(o.first_invalid, Some((105.0, "value is NaN".to_owned())));
    }

    #[test]
    fn samples_outside_the_window_are_ignored_and_disorder_is_repaired() {
        let series = [
            (30.0, 0.3),
            (-15.0, 0.9),
            (15.0, 0.2),
            (0.0, 0.1),
            (45.0, 0.4),
            (f64::NAN, 0.5),
        ];
        let o = observe(
            &series,
            Window {
                start: 0.0,
                end: 30.0,
            },
            &shape(),
        );
        let values: Vec<Option<f64>> = o.points.iter().map(|p| p.value).collect();
        assert_eq!(values, vec![Some(0.1), Some(0.2), Some(0.3)]);
        assert_eq!((o.invalid_samples, o.gaps), (0, 0));
    }

    #[test]
    fn a_window_without_samples_is_one_missing_span() {
        let o = observe(
            &[],
            Window {
                start: 100.0,
                end: 400.0,
            },
            &shape(),
        );
        assert_eq!(
            o.points,
            vec![Observed {
                first: 100.0,
                last: 400.0,
                value: None
            }]
        );
        assert_eq!(o.gaps, 1);
    }

    #[test]
    fn a_late_first_sample_leaves_a_leading_gap() {
        let o = observe(
            &[(100.0, 0.0)],
            Window {
                start: 0.0,
                end: 100.0,
            },
            &shape(),
        );
        assert_eq!(
            o.points[0],
            Observed {
                first: 0.0,
                last: 85.0,
                value: None
            }
        );
        assert_eq!(o.gaps, 1);
    }
}
