//! Numbers for humans: percentages, durations and plain numbers in reasons.
//!
//! Owns the rounding rules of every reason verdict writes ("budget consumed
//! 4.1% > max 2%", "time to recover 45s > max 30s"). Values are rounded to a
//! few significant digits, never in the integer part, and trailing zeros are
//! dropped. When a measured value and its threshold would print the same
//! ("5% > max 5%"), the `*_against` functions add digits until they differ.
//! Pure string formatting: no I/O, no locale.

/// Significant digits used by default for percentages (4.1%, 0.42%).
const PERCENT_DIGITS: usize = 2;
/// Significant digits used by default for plain numbers (14.4, 0.0123).
const NUMBER_DIGITS: usize = 3;
/// Most digits the `*_against` functions add to tell two values apart.
const EXTRA_DIGITS: usize = 8;

/// Formats `value` with `digits` significant digits, never rounding the
/// integer part, without trailing zeros: (4.126, 2) → "4.1", (1234.5, 2) → "1235".
fn format_significant(value: f64, digits: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_owned()
        } else if value > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).clamp(0, 15) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".to_owned() } else { text }
}

/// A fraction as a percentage with two significant digits: 0.041 → "4.1%",
/// 0.0042 → "0.42%", 0.05 → "5%", 1.5 → "150%".
pub fn format_percent(fraction: f64) -> String {
    format!("{}%", format_significant(fraction * 100.0, PERCENT_DIGITS))
}

/// A plain number with three significant digits: 14.4, 0.0123, 240, 1234.
pub fn format_number(value: f64) -> String {
    format_significant(value, NUMBER_DIGITS)
}

/// A duration in seconds: below a minute with up to three significant
/// digits ("45s", "7.5s"), above in whole seconds as hours, minutes and
/// seconds ("1m30s", "5m", "1h2m5s").
pub fn format_seconds(seconds: f64) -> String {
    format_seconds_with(seconds, NUMBER_DIGITS)
}

fn format_seconds_with(seconds: f64, digits: usize) -> String {
    if !seconds.is_finite() {
        return format!("{}s", format_significant(seconds, digits));
    }
    if seconds < 0.0 {
        return format!("-{}", format_seconds_with(-seconds, digits));
    }
    let rounded = seconds.round();
    if rounded < 60.0 || digits > NUMBER_DIGITS {
        // Below a minute, or when more precision was asked for to tell two
        // values apart, seconds with decimals read best.
        if rounded < 60.0 {
            return format!("{}s", format_significant(seconds, digits));
        }
        return format!(
            "{}s",
            format_significant(seconds, digits.max(magnitude_digits(seconds)))
        );
    }
    let total = rounded as u64;
    let (hours, minutes, secs) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if secs > 0 || out.is_empty() {
        out.push_str(&format!("{secs}s"));
    }
    out
}

/// Digits of the integer part of `value` (≥ 1), plus one decimal.
fn magnitude_digits(value: f64) -> usize {
    let integer_digits = if value.abs() < 1.0 {
        1
    } else {
        value.abs().log10().floor() as usize + 1
    };
    integer_digits + 1
}

/// Formats a measured value and its threshold, adding digits until the two
/// texts differ (unless the values are equal).
fn format_pair(
    measured: f64,
    threshold: f64,
    start: usize,
    format: impl Fn(f64, usize) -> String,
) -> (String, String) {
    let mut pair = (format(measured, start), format(threshold, start));
    if measured == threshold {
        return pair;
    }
    for digits in start + 1..=start + EXTRA_DIGITS {
        if pair.0 != pair.1 {
            break;
        }
        pair = (format(measured, digits), format(threshold, digits));
    }
    pair
}

/// [`format_percent`] for a measured value and its threshold, precise enough
/// to tell them apart: (0.0504, 0.05) → ("5.04%", "5%").
pub fn format_percent_against(measured: f64, threshold: f64) -> (String, String) {
    format_pair(measured, threshold, PERCENT_DIGITS, |v, d| {
        format!("{}%", format_significant(v * 100.0, d))
    })
}

/// [`format_number`] for a measured value and its threshold, precise enough
/// to tell them apart: (14.41, 14.4) → ("14.41", "14.4").
pub fn format_number_against(measured: f64, threshold: f64) -> (String, String) {
    format_pair(measured, threshold, NUMBER_DIGITS, format_significant)
}

/// [`format_seconds`] for a measured duration and its threshold, precise
/// enough to tell them apart: (60.4, 60.0) → ("60.4s", "60s").
pub fn format_seconds_against(measured: f64, threshold: f64) -> (String, String) {
    format_pair(measured, threshold, NUMBER_DIGITS, format_seconds_with)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_two_significant_digits_and_drop_trailing_zeros() {
        let table = [
            (0.041, "4.1%"),
            (0.0042, "0.42%"),
            (0.05, "5%"),
            (0.02, "2%"),
            (0.009259259259, "0.93%"),
            (0.123, "12%"),
            (1.5, "150%"),
            (12.346, "1235%"),
            (0.0, "0%"),
            (0.00001234, "0.0012%"),
        ];
        for (fraction, expected) in table {
            assert_eq!(format_percent(fraction), expected, "fraction {fraction}");
        }
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        let table = [
            (14.4, "14.4"),
            (200.0, "200"),
            (199.99999999999983, "200"),
            (0.012345, "0.0123"),
            (1234.6, "1235"),
            (-2.5, "-2.5"),
            (-0.0001, "-0.0001"),
            (f64::NAN, "NaN"),
        ];
        for (value, expected) in table {
            assert_eq!(format_number(value), expected, "value {value}");
        }
    }

    #[test]
    fn durations_read_like_prometheus_durations() {
        let table = [
            (45.0, "45s"),
            (7.5, "7.5s"),
            (0.25, "0.25s"),
            (0.0, "0s"),
            (60.0, "1m"),
            (90.0, "1m30s"),
            (300.0, "5m"),
            (3600.0, "1h"),
            (3725.0, "1h2m5s"),
            (86400.0, "24h"),
            (-30.0, "-30s"),
        ];
        for (seconds, expected) in table {
            assert_eq!(format_seconds(seconds), expected, "seconds {seconds}");
        }
    }

    #[test]
    fn a_measured_value_and_its_threshold_never_print_the_same_when_they_differ() {
        assert_eq!(
            format_percent_against(0.041, 0.02),
            ("4.1%".to_owned(), "2%".to_owned())
        );
        assert_eq!(
            format_percent_against(0.0504, 0.05),
            ("5.04%".to_owned(), "5%".to_owned())
        );
        assert_eq!(
            format_percent_against(0.05, 0.05),
            ("5%".to_owned(), "5%".to_owned())
        );
        assert_eq!(
            format_number_against(14.41, 14.4),
            ("14.41".to_owned(), "14.4".to_owned())
        );
        assert_eq!(
            format_seconds_against(45.0, 30.0),
            ("45s".to_owned(), "30s".to_owned())
        );
        assert_eq!(
            format_seconds_against(60.4, 60.0),
            ("60.4s".to_owned(), "60s".to_owned())
        );
        assert_eq!(
            format_seconds_against(330.0, 300.0),
            ("5m30s".to_owned(), "5m".to_owned())
        );
    }
}
