//! Measured values and data conditions.
//!
//! Owns [`Measure`], the value-or-reason type every evaluation input and
//! output uses: a query that returned no series, a NaN, a partial response or
//! a failed request is a *value* (`Missing { reason }`) that flows into the
//! checks and makes them inconclusive, never an error and never a pass.
//! It must not do I/O: the reasons are built from text the caller supplies.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A measured value, or the reason it could not be measured.
///
/// Serializes as the bare value, or as `null` when missing (the reason is
/// reported separately, next to the check it made inconclusive), so the JSON
/// output keeps one type per field.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure<T> {
    /// The value was measured.
    Value(T),
    /// No usable value; `reason` says why, in words a user can act on.
    Missing {
        /// Why the value is missing, e.g. "no series returned by `sum(rate(x[5m]))`".
        reason: String,
    },
}

impl<T> Measure<T> {
    /// A missing value with the given reason.
    pub fn missing(reason: impl Into<String>) -> Self {
        Measure::Missing {
            reason: reason.into(),
        }
    }

    /// The value, if measured.
    pub fn value(&self) -> Option<&T> {
        match self {
            Measure::Value(v) => Some(v),
            Measure::Missing { .. } => None,
        }
    }

    /// The reason, if missing.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Measure::Value(_) => None,
            Measure::Missing { reason } => Some(reason),
        }
    }

    /// Whether the value was measured.
    pub fn is_value(&self) -> bool {
        matches!(self, Measure::Value(_))
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> Measure<&T> {
        match self {
            Measure::Value(v) => Measure::Value(v),
            Measure::Missing { reason } => Measure::Missing {
                reason: reason.clone(),
            },
        }
    }

    /// Transforms the value, keeping the reason when missing.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Measure<U> {
        match self {
            Measure::Value(v) => Measure::Value(f(v)),
            Measure::Missing { reason } => Measure::Missing { reason },
        }
    }

    /// Chains a computation that may itself find the value unusable.
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Measure<U>) -> Measure<U> {
        match self {
            Measure::Value(v) => f(v),
            Measure::Missing { reason } => Measure::Missing { reason },
        }
    }

    /// "no series returned by `query`": Prometheus answered with an empty result.
    pub fn no_series(query: &str) -> Self {
        Self::missing(format!("no series returned by {query}"))
    }

    /// "`count` series returned where 1 was expected" by `query`.
    pub fn too_many_series(count: usize, query: &str) -> Self {
        Self::missing(format!(
            "{count} series returned where 1 was expected by {query}"
        ))
    }

    /// Prometheus answered but warned about the data (e.g. partial response).
    pub fn prometheus_warning(warning: &str) -> Self {
        Self::missing(format!("Prometheus warning: {warning}"))
    }

    /// The query kept failing after retries.
    pub fn query_failed(attempts: u32, error: &str) -> Self {
        Self::missing(format!(
            "Prometheus error after {attempts} attempts: {error}"
        ))
    }

    /// The window the value describes has not ended yet at evaluation time.
    pub fn window_not_complete() -> Self {
        Self::missing("window not complete")
    }
}

impl Measure<f64> {
    /// Wraps a sample, turning NaN and infinities into a missing value.
    pub fn from_sample(value: f64) -> Self {
        if value.is_nan() {
            Self::missing("value is NaN")
        } else if value == f64::INFINITY {
            Self::missing("value is +Inf")
        } else if value == f64::NEG_INFINITY {
            Self::missing("value is -Inf")
        } else {
            Measure::Value(value)
        }
    }

    /// The value, if measured.
    pub fn get(&self) -> Option<f64> {
        self.value().copied()
    }
}

impl<T: Serialize> Serialize for Measure<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Measure::Value(v) => v.serialize(serializer),
            Measure::Missing { .. } => serializer.serialize_none(),
        }
    }
}

/// Reads back what [`Serialize`] wrote: a value, or `null` for a missing
/// one (whose reason was not serialized: the report lists it in
/// `unavailable` or a check's reason).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Measure<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Measure::Value(v),
            None => Measure::missing("not measured (read back from a stored report)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_that_are_not_numbers_become_missing_values_with_a_reason() {
        let table = [
            (f64::NAN, Some("value is NaN")),
            (f64::INFINITY, Some("value is +Inf")),
            (f64::NEG_INFINITY, Some("value is -Inf")),
            (0.25, None),
        ];
        for (sample, reason) in table {
            let m = Measure::from_sample(sample);
            assert_eq!(m.reason(), reason, "sample {sample}");
            if reason.is_none() {
                assert_eq!(m.get(), Some(sample));
            }
        }
    }

    #[test]
    fn standard_data_conditions_read_as_sentences() {
        let q = "sum(rate(http_requests_total[5m]))";
        assert_eq!(
            Measure::<f64>::no_series(q).reason(),
            Some("no series returned by sum(rate(http_requests_total[5m]))")
        );
        assert_eq!(
            Measure::<f64>::too_many_series(2, q).reason(),
            Some("2 series returned where 1 was expected by sum(rate(http_requests_total[5m]))")
        );
        assert_eq!(
            Measure::<f64>::prometheus_warning("partial data").reason(),
            Some("Prometheus warning: partial data")
        );
        assert_eq!(
            Measure::<f64>::query_failed(4, "connection refused").reason(),
            Some("Prometheus error after 4 attempts: connection refused")
        );
        assert_eq!(
            Measure::<f64>::window_not_complete().reason(),
            Some("window not complete")
        );
    }

    #[test]
    fn a_measure_serializes_as_its_value_or_null() {
        let v: Measure<f64> = Measure::Value(0.5);
        let m: Measure<f64> = Measure::missing("value is NaN");
        assert_eq!(serde_json::to_string(&v).ok().as_deref(), Some("0.5"));
        assert_eq!(serde_json::to_string(&m).ok().as_deref(), Some("null"));
    }

    #[test]
    fn map_and_and_then_keep_the_first_reason() {
        let m: Measure<f64> = Measure::missing("no series returned by up");
        assert_eq!(
            m.clone().map(|x| x * 2.0).reason(),
            Some("no series returned by up")
        );
        assert_eq!(
            Measure::Value(2.0)
                .and_then(|x: f64| if x > 1.0 {
                    Measure::missing("too big")
                } else {
                    Measure::Value(x)
                })
                .reason(),
            Some("too big")
        );
        assert_eq!(Measure::Value(2.0).map(|x| x * 2.0).get(), Some(4.0));
    }
}
