//! Number and string formatting the way Sloth's Go code prints them, so the
//! generated expressions read exactly like Sloth's (`vector(0.9990000000000001)`,
//! `(14.4 * 0.0009999999999999432)`).
//!
//! Owns: Go's `%v`/`%g` float formatting and Prometheus label-set quoting.
//! Must not: round numbers (the shortest representation that round-trips is
//! what both Go and Rust print).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Formats a float like Go's `fmt.Sprint(f)` (`%v`, which is `%g` with the
/// shortest precision; text/template prints numbers this way): the shortest
/// digits that round-trip, in exponent form when the decimal exponent is
/// `< -4` or `>= 6` (`strconv` uses precision 6 for that decision).
///
/// Examples: `14.4`, `0.0009999999999999432`, `30`, `1e-05`, `1.234567e+06`.
pub fn go_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` prints the shortest round-trip digits, as Go does.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Rust's Display is the shortest round-trip decimal, like Go's 'f' -1.
        format!("{x}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Quotes a string like Go's `strconv.Quote` for the printable ASCII and
/// common escapes (what Prometheus's `LabelSet.String()` prints).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Prometheus label filter as Sloth prints it: `{a="1", b="2"}`, sorted by
/// name, `, ` between matchers.
pub fn label_filter(labels: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(64);
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&go_quote(v));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_templates() {
        let cases = [
            (99.9 / 100.0, "0.9990000000000001"),
            ((100.0 - 99.9) / 100.0, "0.0009999999999999432"),
            (14.4, "14.4"),
            (6.0, "6"),
            (30.0, "30"),
            (0.95, "0.95"),
            (5.6000000000000005, "5.6000000000000005"),
            (0.9333333333333333, "0.9333333333333333"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (-2.5, "-2.5"),
        ];
        for (x, want) in cases {
            assert_eq!(go_float(x), want, "{x:e}");
        }
    }

    #[test]
    fn label_values_are_quoted_and_escaped() {
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        let mut m = BTreeMap::new();
        m.insert("sloth_slo", "slo1");
        m.insert("sloth_id", "svc-slo1");
        assert_eq!(
            label_filter(&m),
            r#"{sloth_id="svc-slo1", sloth_slo="slo1"}"#
        );
    }
}
