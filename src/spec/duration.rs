//! Prometheus-style durations (`30d`, `1h30m`, `500ms`), parsed strictly.
//!
//! The same grammar as Prometheus's `model.ParseDuration`: one or more
//! `<integer><unit>` pairs with units in decreasing order, each at most once,
//! units `y w d h m s ms`. No spaces, no fractions, no signs.

use std::fmt;

/// A non-negative span of time with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration {
    millis: u64,
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. 30s, 5m, 1h30m, 28d)")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

impl PromDuration {
    pub const fn from_millis(millis: u64) -> Self {
        PromDuration { millis }
    }
    pub const fn from_secs(secs: u64) -> Self {
        PromDuration {
            millis: secs * 1000,
        }
    }
    pub const fn as_millis(&self) -> u64 {
        self.millis
    }
    pub fn as_secs_f64(&self) -> f64 {
        self.millis as f64 / 1000.0
    }
    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.millis)
    }
    pub fn is_zero(&self) -> bool {
        self.millis == 0
    }

    /// Parses a Prometheus duration. `0` alone is accepted as zero.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        if input.is_empty() {
            return Err(err("empty"));
        }
        if input == "0" {
            return Ok(PromDuration { millis: 0 });
        }
        let bytes = input.as_bytes();
        let mut pos = 0;
        let mut total: u64 = 0;
        // index into UNITS of the smallest unit allowed next
        let mut next_unit = 0;
        while pos < bytes.len() {
            let start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if start == pos {
                return Err(err("expected a number before each unit"));
            }
            if bytes.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
                return Err(err("spaces are not allowed"));
            }
            if bytes.get(pos) == Some(&b'.') {
                return Err(err(
                    "fractions are not allowed; use a smaller unit, e.g. 90m",
                ));
            }
            let number: u64 = input[start..pos]
                .parse()
                .map_err(|_| err("number too large"))?;
            let unit_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_alphabetic() {
                pos += 1;
            }
            let unit = &input[unit_start..pos];
            if unit.is_empty() {
                return Err(err("missing unit (one of y, w, d, h, m, s, ms)"));
            }
            let Some(idx) = UNITS.iter().position(|(u, _)| *u == unit) else {
                return Err(err("unknown unit (use y, w, d, h, m, s or ms)"));
            };
            if idx < next_unit {
                return Err(err("units must appear once each, largest first"));
            }
            next_unit = idx + 1;
            let add = number
                .checked_mul(UNITS[idx].1)
                .ok_or_else(|| err("duration too large"))?;
            total = total
                .checked_add(add)
                .ok_or_else(|| err("duration too large"))?;
        }
        Ok(PromDuration { millis: total })
    }
}

impl fmt::Display for PromDuration {
    /// Formats like Prometheus: largest units first, `28d` as `4w`, `0s` for
    /// zero; years and weeks only when they divide the duration exactly
    /// (`30d`, not `4w2d`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.millis;
        for (unit, size) in UNITS {
            let exact_only = unit == "y" || unit == "w";
            if exact_only && !rest.is_multiple_of(size) {
                continue;
            }
            if rest >= size {
                let n = rest / size;
                rest %= size;
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for PromDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PromDuration::parse(s)
    }
}

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_combinations() {
        let cases = [
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("28d", 28 * 86_400_000),
            ("1w", 7 * 86_400_000),
            ("1y", 365 * 86_400_000),
            ("1m500ms", 60_500),
            ("250ms", 250),
            ("0", 0),
        ];
        for (input, millis) in cases {
            assert_eq!(
                PromDuration::parse(input).unwrap().as_millis(),
                millis,
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_loose_forms() {
        for bad in [
            "", "5", "1.5h", "5 m", "-5m", "5M", "m", "30m1h", "1h1h", "5min", "3x",
        ] {
            assert!(PromDuration::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn formats_like_prometheus() {
        let cases = [
            ("30d", "30d"),
            ("28d", "4w"),
            ("7d", "1w"),
            ("90m", "1h30m"),
            ("24h", "1d"),
            ("0", "0s"),
            ("1500ms", "1s500ms"),
        ];
        for (input, out) in cases {
            assert_eq!(
                PromDuration::parse(input).unwrap().to_string(),
                out,
                "{input}"
            );
        }
    }

    #[test]
    fn error_names_the_input_and_the_reason() {
        let e = PromDuration::parse("1.5h").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid duration \"1.5h\": fractions are not allowed; use a smaller unit, e.g. 90m (expected e.g. 30s, 5m, 1h30m, 28d)"
        );
    }
}
