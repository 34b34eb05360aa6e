//! Times on the command line: RFC 3339, Unix seconds, and `now`-relative.
//!
//! Owns [`parse_time`] (`2026-01-01T10:00:00Z`, `1767261600`,
//! `1767261600.5`, `now`, `now-15m`, `now+30s`) and [`format_time`], the
//! RFC 3339 form reports show. `now` is an argument: the caller reads the
//! clock once per report, so `--from now-15m --to now` describe one instant,
//! never two readings of the clock. No I/O.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::spec::PromDuration;

/// Why a time did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {input:?}: {reason} (expected RFC 3339 like 2026-01-01T10:00:00Z, Unix seconds like 1767261600, or now-15m)"
)]
pub struct TimeError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Earliest accepted time: 1970-01-01. Later than year 9999 is rejected too.
const MAX_UNIX: f64 = 253_402_300_799.0;

/// Parses a time given on the command line into Unix seconds.
///
/// `now` is the evaluation's single reading of the clock (Unix seconds).
/// Durations after `now±` use Prometheus's grammar (`15m`, `1h30m`, `500ms`).
/// Unix seconds may have a fractional part; RFC 3339 needs a time zone.
pub fn parse_time(input: &str, now: f64) -> Result<f64, TimeError> {
    let text = input.trim();
    let err = |reason: &str| TimeError {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    if text.is_empty() {
        return Err(err("empty"));
    }
    if let Some(rest) = text.strip_prefix("now") {
        if rest.is_empty() {
            return Ok(now);
        }
        let (sign, duration) = match rest.split_at(1) {
            ("-", d) => (-1.0, d),
            ("+", d) => (1.0, d),
            _ => {
                return Err(err(
                    "after `now` expect `-` or `+` and a duration, e.g. now-15m",
                ));
            }
        };
        let parsed = PromDuration::parse(duration).map_err(|e| err(&e.to_string()))?;
        return Ok(now + sign * parsed.as_secs_f64());
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let value: f64 = text
            .parse()
            .map_err(|_| err("not a number of Unix seconds"))?;
        if !(0.0..=MAX_UNIX).contains(&value) {
            return Err(err("Unix seconds out of range"));
        }
        return Ok(value);
    }
    let parsed =
        DateTime::parse_from_rfc3339(text).map_err(|e| err(&format!("not RFC 3339: {e}")))?;
    let seconds = parsed.timestamp() as f64 + f64::from(parsed.timestamp_subsec_millis()) / 1000.0;
    if !(0.0..=MAX_UNIX).contains(&seconds) {
        return Err(err("before 1970 or after 9999"));
    }
    Ok(seconds)
}

/// RFC 3339 in UTC, with milliseconds only when the time has them:
/// `2026-01-01T10:00:00Z`, `2026-01-01T10:00:00.500Z`.
pub fn format_time(unix: f64) -> String {
    if !unix.is_finite() {
        return format!("{unix}");
    }
    let millis = (unix * 1000.0).round() as i64;
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        Some(t) if millis % 1000 == 0 => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => format!("{unix}"),
    }
}

/// A PromQL duration for a number of seconds, as short as exact: `623s`
/// for whole seconds, `623500ms` otherwise (rounded to the millisecond,
/// Prometheus's resolution).
pub fn promql_duration(seconds: f64) -> String {
    let millis = (seconds * 1000.0).round().max(0.0) as u64;
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_767_261_600.0; // 2026-01-01T10:00:00Z

    #[test]
    fn every_accepted_form_gives_the_expected_unix_seconds() {
        let table = [
            ("now", NOW),
            ("now-15m", NOW - 900.0),
            ("now+30s", NOW + 30.0),
            ("now-1h30m", NOW - 5400.0),
            ("now-500ms", NOW - 0.5),
            ("1767261600", NOW),
            ("1767261600.25", NOW + 0.25),
            ("2026-01-01T10:00:00Z", NOW),
            ("2026-01-01T11:00:00+01:00", NOW),
            ("2026-01-01T10:00:00.5Z", NOW + 0.5),
            (" 2026-01-01T10:00:00Z ", NOW),
        ];
        for (input, expected) in table {
            assert_eq!(parse_time(input, NOW), Ok(expected), "{input}");
        }
    }

    #[test]
    fn malformed_times_say_what_is_wrong() {
        let table = [
            ("", "empty"),
            ("now-", "invalid duration \"\": empty"),
            ("now*5m", "after `now` expect `-` or `+`"),
            ("now-15 m", "spaces are not allowed"),
            ("yesterday", "not RFC 3339"),
            ("2026-01-01 10:00:00", "not RFC 3339"),
            ("2026-01-01T10:00:00", "not RFC 3339"),
            ("1.2.3", "not a number of Unix seconds"),
            ("99999999999999", "out of range"),
        ];
        for (input, expected) in table {
            let e = parse_time(input, NOW).expect_err(input);
            assert!(e.reason.contains(expected), "{input}: {}", e.reason);
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid time {input:?}"))
            );
        }
    }

    #[test]
    fn times_format_as_rfc3339_with_millis_only_when_needed() {
        assert_eq!(format_time(NOW), "2026-01-01T10:00:00Z");
        assert_eq!(format_time(NOW + 0.5), "2026-01-01T10:00:00.500Z");
    }

    #[test]
    fn window_lengths_render_as_exact_promql_durations() {
        assert_eq!(promql_duration(623.0), "623s");
        assert_eq!(promql_duration(300.0), "300s");
        assert_eq!(promql_duration(623.5), "623500ms");
        assert_eq!(promql_duration(0.0), "0s");
    }
}
