//! Keptn-style criteria for indicators: grammar, parsing, evaluation.
//!
//! Owns the criterion grammar of the design's "Verdict policy":
//!
//! ```text
//! criterion := op number            absolute:              <0.5   >=100
//!            | op sign number "%"   relative to baseline:  <=+20% >-5%
//!            | op sign number       delta from baseline:   <=+50  >=-2
//! op        := "<" | "<=" | ">" | ">=" | "=" | "==" | "!="
//! sign      := "+" | "-"
//! number    := digits ["." digits] | "." digits, optional exponent e±digits
//! ```
//!
//! Spaces are allowed around the criterion and after the operator. `=` and
//! `==` are the same operator (printed `==`). A sign always means "relative
//! to the baseline", so an absolute threshold is never negative (the signals
//! verdict judges are not), and a percentage needs a sign (`<10%` is
//! rejected as ambiguous). Equality is exact. A relative criterion compares
//! against `baseline + |baseline| × N/100` and a delta against
//! `baseline + N`; either without a finite baseline (or, for `%`, with a
//! zero baseline) is **inconclusive**, never a silent pass (unlike Keptn).
//!
//! `pass:` and `warning:` are lists of criteria lists: AND inside a list, OR
//! across lists. Pass lists satisfied → pass; otherwise warning lists
//! satisfied → warn; otherwise fail. No `pass:` lists → pass; no `warning:`
//! lists → no warn band. No I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::human::format_number;
use super::measure::Measure;
use super::policy::Outcome;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==` (also written `=`)
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// The operator as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// `value op threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Eq => value == threshold,
            Op::Ne => value != threshold,
        }
    }
}

/// What a criterion compares against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A fixed threshold (never negative).
    Absolute(f64),
    /// Signed percent of the baseline: `+20` in `<=+20%`.
    RelativePercent(f64),
    /// Signed difference from the baseline: `+50` in `<=+50`.
    Delta(f64),
}

/// One criterion, e.g. `<=+20%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criterion {
    /// The operator.
    pub op: Op,
    /// The threshold or its relation to the baseline.
    pub target: Target,
}

/// A criterion that does not follow the grammar. Columns count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriterionError {
    /// Nothing but spaces.
    #[error(
        "empty criterion: expected an operator (<, <=, >, >=, ==, =, !=) and a number, e.g. <0.5 or <=+10%"
    )]
    Empty,
    /// Something other than what the grammar allows at `column`.
    #[error("invalid criterion {input:?} at column {column}: expected {expected}, found {found}")]
    Unexpected {
        /// The whole criterion.
        input: String,
        /// 1-based character column.
        column: usize,
        /// What the grammar allows there.
        expected: &'static str,
        /// What is there (`'x'` or `end of criterion`).
        found: String,
    },
    /// A percentage without a sign.
    #[error(
        "invalid criterion {input:?} at column {column}: a percentage is relative to the baseline and needs a sign, e.g. <=+10% or >=-5%"
    )]
    UnsignedPercent {
        /// The whole criterion.
        input: String,
        /// 1-based column of the number.
        column: usize,
    },
    /// A number too large for a 64-bit float.
    #[error("invalid criterion {input:?} at column {column}: number {number} is out of range")]
    OutOfRange {
        /// The whole criterion.
        input: String,
        /// 1-based column of the number.
        column: usize,
        /// The number as written.
        number: String,
    },
}

struct Cursor<'a> {
    input: &'a str,
    chars: Vec<(usize, char)>,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|(_, c)| *c)
    }

    fn byte_offset(&self) -> usize {
        self.chars
            .get(self.at)
            .map_or(self.input.len(), |(b, _)| *b)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    fn unexpected(&self, expected: &'static str) -> CriterionError {
        CriterionError::Unexpected {
            input: self.input.to_owned(),
            column: self.at + 1,
            expected,
            found: self
                .peek()
                .map_or_else(|| "end of criterion".to_owned(), |c| format!("{c:?}")),
        }
    }
}

/// Parses a criterion (see the module documentation for the grammar).
pub fn parse_criterion(text: &str) -> Result<Criterion, CriterionError> {
    let mut cur = Cursor {
        input: text,
        chars: text.char_indices().collect(),
        at: 0,
    };
    cur.skip_spaces();
    if cur.peek().is_none() {
        return Err(CriterionError::Empty);
    }
    const OPERATOR: &str = "an operator (<, <=, >, >=, ==, =, !=)";
    let op = if cur.eat('<') {
        if cur.eat('=') { Op::Le } else { Op::Lt }
    } else if cur.eat('>') {
        if cur.eat('=') { Op::Ge } else { Op::Gt }
    } else if cur.eat('=') {
        cur.eat('=');
        Op::Eq
    } else if cur.eat('!') {
        if !cur.eat('=') {
            return Err(cur.unexpected("'=' after '!'"));
        }
        Op::Ne
    } else {
        return Err(cur.unexpected(OPERATOR));
    };
    cur.skip_spaces();
    let sign = if cur.eat('+') {
        Some(1.0)
    } else if cur.eat('-') {
        Some(-1.0)
    } else {
        None
    };
    let number_column = cur.at + 1;
    let number_start = cur.byte_offset();
    let integer_digits = cur.eat_digits();
    let mut fraction_digits = 0;
    if cur.eat('.') {
        fraction_digits = cur.eat_digits();
    }
    if integer_digits + fraction_digits == 0 {
        return Err(cur.unexpected(if sign.is_some() {
            "a number after the sign"
        } else {
            "a number, optionally signed (+/-) to be relative to the baseline"
        }));
    }
    if cur.peek().is_some_and(|c| c == 'e' || c == 'E') {
        cur.at += 1;
        if !cur.eat('+') {
            cur.eat('-');
        }
        if cur.eat_digits() == 0 {
            return Err(cur.unexpected("the digits of the exponent"));
        }
    }
    let number_text = &text[number_start..cur.byte_offset()];
    let magnitude: f64 = number_text
        .parse()
        .map_err(|_| CriterionError::OutOfRange {
            input: text.to_owned(),
            column: number_column,
            number: number_text.to_owned(),
        })?;
    if !magnitude.is_finite() {
        return Err(CriterionError::OutOfRange {
            input: text.to_owned(),
            column: number_column,
            number: number_text.to_owned(),
        });
    }
    let percent = cur.eat('%');
    cur.skip_spaces();
    if cur.peek().is_some() {
        return Err(cur.unexpected(if percent {
            "end of criterion"
        } else {
            "'%' or end of criterion"
        }));
    }
    let target = match (sign, percent) {
        (None, false) => Target::Absolute(magnitude),
        (None, true) => {
            return Err(CriterionError::UnsignedPercent {
                input: text.to_owned(),
                column: number_column,
            });
        }
        (Some(s), true) => Target::RelativePercent(s * magnitude),
        (Some(s), false) => Target::Delta(s * magnitude),
    };
    Ok(Criterion { op, target })
}

impl FromStr for Criterion {
    type Err = CriterionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_criterion(s)
    }
}

fn signed(value: f64) -> String {
    if value.is_sign_negative() {
        format!("-{}", -value)
    } else {
        format!("+{value}")
    }
}

impl fmt::Display for Criterion {
    /// Canonical text that parses back to the same criterion (`=` prints as `==`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.op.as_str();
        match self.target {
            Target::Absolute(v) => write!(f, "{op}{v}"),
            Target::RelativePercent(p) => write!(f, "{op}{}%", signed(p)),
            Target::Delta(d) => write!(f, "{op}{}", signed(d)),
        }
    }
}

impl Serialize for Criterion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Criterion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_criterion(&text).map_err(serde::de::Error::custom)
    }
}

/// The outcome of one criterion on one value.
#[derive(Debug, Clone, PartialEq)]
pub enum CriterionResult {
    /// `value op threshold` holds.
    Met {
        /// The threshold compared against.
        threshold: f64,
    },
    /// It does not hold.
    NotMet {
        /// The threshold compared against.
        threshold: f64,
    },
    /// No threshold: the baseline it is relative to is missing or zero.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Criterion {
    /// The threshold this criterion compares against, given the baseline.
    pub fn threshold(&self, baseline: &Measure<f64>) -> Measure<f64> {
        let needs_baseline = |baseline: &Measure<f64>| match baseline {
            Measure::Value(b) if b.is_finite() => Ok(*b),
            Measure::Value(b) => Err(format!(
                "criterion {self} needs a baseline value, but it is {b}"
            )),
            Measure::Missing { reason } => {
                Err(format!("criterion {self} needs a baseline value: {reason}"))
            }
        };
        match self.target {
            Target::Absolute(v) => Measure::Value(v),
            Target::Delta(d) => match needs_baseline(baseline) {
                Ok(b) => Measure::Value(b + d),
                Err(reason) => Measure::missing(reason),
            },
            Target::RelativePercent(p) => match needs_baseline(baseline) {
                Ok(0.0) => Measure::missing(format!(
                    "criterion {self} is relative to the baseline, which is 0"
                )),
                Ok(b) => Measure::Value(b + b.abs() * p / 100.0),
                Err(reason) => Measure::missing(reason),
            },
        }
    }

    /// Whether `value` meets this criterion, given the baseline.
    pub fn evaluate(&self, value: f64, baseline: &Measure<f64>) -> CriterionResult {
        match self.threshold(baseline) {
            Measure::Value(threshold) if self.op.holds(value, threshold) => {
                CriterionResult::Met { threshold }
            }
            Measure::Value(threshold) => CriterionResult::NotMet { threshold },
            Measure::Missing { reason } => CriterionResult::Unknown { reason },
        }
    }
}

/// `pass:` and `warning:` criteria of an indicator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// Lists of criteria: all of one list must hold (AND), any list will do (OR).
    #[serde(default)]
    pub pass: Vec<Vec<Criterion>>,
    /// Same shape; consulted only when `pass` fails.
    #[serde(default)]
    pub warning: Vec<Vec<Criterion>>,
}

/// The verdict of an indicator's criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriteriaResult {
    /// pass, warn, fail or inconclusive.
    pub outcome: Outcome,
    /// The criterion that decided it (the satisfied or failed one).
    pub decided_by: Option<Criterion>,
    /// The threshold that criterion compared against.
    pub threshold: Option<f64>,
    /// Why, for anything but a plain pass.
    pub reason: Option<String>,
}

/// Three-valued result of a criteria list or of lists of them.
#[derive(Debug, Clone, PartialEq)]
enum Tri {
    True(Option<(Criterion, f64)>),
    False(Criterion, f64),
    Unknown(Criterion, String),
}

/// AND over one list: false if any is not met, else unknown if any is unknown.
fn all_of(list: &[Criterion], value: f64, baseline: &Measure<f64>) -> Tri {
    let mut unknown = None;
    for c in list {
        match c.evaluate(value, baseline) {
            CriterionResult::NotMet { threshold } => return Tri::False(*c, threshold),
            CriterionResult::Unknown { reason } => {
                unknown.get_or_insert((*c, reason));
            }
            CriterionResult::Met { .. } => {}
        }
    }
    match unknown {
        Some((c, reason)) => Tri::Unknown(c, reason),
        None => Tri::True(list.first().and_then(|c| match c.threshold(baseline) {
            Measure::Value(t) => Some((*c, t)),
            Measure::Missing { .. } => None,
        })),
    }
}

/// OR over lists: true if any holds, else unknown if any is unknown, else
/// false (reporting the first list's failed criterion).
fn any_of(lists: &[Vec<Criterion>], value: f64, baseline: &Measure<f64>) -> Tri {
    let mut first_false = None;
    let mut unknown = None;
    for list in lists {
        match all_of(list, value, baseline) {
            Tri::True(decided) => return Tri::True(decided),
            f @ Tri::False(..) => {
                first_false.get_or_insert(f);
            }
            u @ Tri::Unknown(..) => {
                unknown.get_or_insert(u);
            }
        }
    }
    unknown.or(first_false).unwrap_or(Tri::True(None))
}

fn describe(value: f64, c: &Criterion, threshold: f64) -> String {
    match c.target {
        Target::Absolute(_) => format!("{} against {c}", format_number(value)),
        _ => format!(
            "{} against {c} (threshold {})",
            format_number(value),
            format_number(threshold)
        ),
    }
}

/// Evaluates an indicator's criteria on its value (see the module documentation).
pub fn evaluate_criteria(
    criteria: &Criteria,
    value: &Measure<f64>,
    baseline: &Measure<f64>,
) -> CriteriaResult {
    let v = match value {
        Measure::Value(v) if v.is_finite() => *v,
        Measure::Value(v) => {
            return CriteriaResult {
                outcome: Outcome::Inconclusive,
                decided_by: None,
                threshold: None,
                reason: Some(format!("value is {v}")),
            };
        }
        Measure::Missing { reason } => {
            return CriteriaResult {
                outcome: Outcome::Inconclusive,
                decided_by: None,
                threshold: None,
                reason: Some(reason.clone()),
            };
        }
    };
    let inconclusive = |c: Criterion, reason: String| CriteriaResult {
        outcome: Outcome::Inconclusive,
        decided_by: Some(c),
        threshold: None,
        reason: Some(reason),
    };
    let (failed, failed_threshold) = match any_of(&criteria.pass, v, baseline) {
        Tri::True(decided) => {
            return CriteriaResult {
                outcome: Outcome::Pass,
                decided_by: decided.map(|(c, _)| c),
                threshold: decided.map(|(_, t)| t),
                reason: None,
            };
        }
        Tri::Unknown(c, reason) => return inconclusive(c, reason),
        Tri::False(c, t) => (c, t),
    };
    let failed_text = describe(v, &failed, failed_threshold);
    if criteria.warning.is_empty() {
        return CriteriaResult {
            outcome: Outcome::Fail,
            decided_by: Some(failed),
            threshold: Some(failed_threshold),
            reason: Some(format!("{failed_text}: pass criterion not met")),
        };
    }
    match any_of(&criteria.warning, v, baseline) {
        Tri::True(_) => CriteriaResult {
            outcome: Outcome::Warn,
            decided_by: Some(failed),
            threshold: Some(failed_threshold),
            reason: Some(format!(
                "{failed_text}: pass criterion not met, warning criteria met"
            )),
        },
        Tri::Unknown(c, reason) => inconclusive(
            c,
            format!("{failed_text}: pass criterion not met, and {reason}"),
        ),
        Tri::False(c, t) => CriteriaResult {
            outcome: Outcome::Fail,
            decided_by: Some(failed),
            threshold: Some(failed_threshold),
            reason: Some(format!(
                "{failed_text}: pass criterion not met, nor warning criterion {c}{}",
                match c.target {
                    Target::Absolute(_) => String::new(),
                    _ => format!(" (threshold {})", format_number(t)),
                }
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(text: &str) -> Criterion {
        parse_criterion(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn criteria_parse_into_operator_and_target() {
        let table = [
            ("<0.5", Op::Lt, Target::Absolute(0.5)),
            (">=100", Op::Ge, Target::Absolute(100.0)),
            ("<=+20%", Op::Le, Target::RelativePercent(20.0)),
            (">-5%", Op::Gt, Target::RelativePercent(-5.0)),
            ("<=+50", Op::Le, Target::Delta(50.0)),
            (">=-2.5", Op::Ge, Target::Delta(-2.5)),
            ("=0", Op::Eq, Target::Absolute(0.0)),
            ("==3", Op::Eq, Target::Absolute(3.0)),
            ("!=1", Op::Ne, Target::Absolute(1.0)),
            ("  < 0.5  ", Op::Lt, Target::Absolute(0.5)),
            ("<.5", Op::Lt, Target::Absolute(0.5)),
            ("<5.", Op::Lt, Target::Absolute(5.0)),
            ("<1e3", Op::Lt, Target::Absolute(1000.0)),
            ("<=+1.5E-1%", Op::Le, Target::RelativePercent(0.15)),
        ];
        for (text, op, target) in table {
            assert_eq!(
                parse_criterion(text),
                Ok(Criterion { op, target }),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let table = [
            (
                "",
                "empty criterion: expected an operator (<, <=, >, >=, ==, =, !=) and a number, e.g. <0.5 or <=+10%",
            ),
            (
                "0.5",
                "invalid criterion \"0.5\" at column 1: expected an operator (<, <=, >, >=, ==, =, !=), found '0'",
            ),
            (
                "<",
                "invalid criterion \"<\" at column 2: expected a number, optionally signed (+/-) to be relative to the baseline, found end of criterion",
            ),
            (
                "<=x",
                "invalid criterion \"<=x\" at column 3: expected a number, optionally signed (+/-) to be relative to the baseline, found 'x'",
            ),
            (
                "<=+",
                "invalid criterion \"<=+\" at column 4: expected a number after the sign, found end of criterion",
            ),
            (
                "!5",
                "invalid criterion \"!5\" at column 2: expected '=' after '!', found '5'",
            ),
            (
                "<5ms",
                "invalid criterion \"<5ms\" at column 3: expected '%' or end of criterion, found 'm'",
            ),
            (
                "<+5%%",
                "invalid criterion \"<+5%%\" at column 5: expected end of criterion, found '%'",
            ),
            (
                "<10%",
                "invalid criterion \"<10%\" at column 2: a percentage is relative to the baseline and needs a sign, e.g. <=+10% or >=-5%",
            ),
            (
                "<1e",
                "invalid criterion \"<1e\" at column 4: expected the digits of the exponent, found end of criterion",
            ),
            (
                "<1e999",
                "invalid criterion \"<1e999\" at column 2: number 1e999 is out of range",
            ),
            (
                "=<1",
                "invalid criterion \"=<1\" at column 2: expected a number, optionally signed (+/-) to be relative to the baseline, found '<'",
            ),
            (
                "<= + 5",
                "invalid criterion \"<= + 5\" at column 5: expected a number after the sign, found ' '",
            ),
        ];
        for (text, message) in table {
            assert_eq!(
                parse_criterion(text).map_err(|e| e.to_string()),
                Err(message.to_owned()),
                "{text}"
            );
        }
    }

    #[test]
    fn display_prints_a_canonical_form_that_parses_back() {
        let table = [
            ("=5", "==5"),
            ("< 0.5", "<0.5"),
            ("<=+20%", "<=+20%"),
            (">=-2.5", ">=-2.5"),
            ("<1e3", "<1000"),
            ("!=-0", "!=-0"),
        ];
        for (text, canonical) in table {
            assert_eq!(c(text).to_string(), canonical);
            assert_eq!(c(canonical), c(text));
        }
    }

    #[test]
    fn criteria_deserialize_through_the_parser() {
        let parsed: Result<Criteria, _> =
            serde_json::from_str(r#"{"pass": [["<=+10%", "<600"]], "warning": [["<=800"]]}"#);
        assert_eq!(
            parsed.ok(),
            Some(Criteria {
                pass: vec![vec![c("<=+10%"), c("<600")]],
                warning: vec![vec![c("<=800")]]
            })
        );
        let bad: Result<Criteria, _> = serde_json::from_str(r#"{"pass": [["<10%"]]}"#);
        assert!(bad.is_err_and(|e| e.to_string().contains("needs a sign")));
        let typo: Result<Criteria, _> = serde_json::from_str(r#"{"warn": [["<1"]]}"#);
        assert!(typo.is_err_and(|e| e.to_string().contains("unknown field `warn`")));
    }

    #[test]
    fn relative_and_delta_thresholds_are_computed_from_the_baseline() {
        let base = Measure::Value(100.0);
        let table = [
            ("<=+20%", 120.0, Some(true), 120.0),
            ("<=+20%", 121.0, Some(false), 120.0),
            (">=-10%", 90.0, Some(true), 90.0),
            ("<=+50", 150.0, Some(true), 150.0),
            ("<-5", 96.0, Some(false), 95.0),
            ("<0.5", 0.4, Some(true), 0.5),
        ];
        for (text, value, met, threshold) in table {
            let result = c(text).evaluate(value, &base);
            let expected = match met {
                Some(true) => CriterionResult::Met { threshold },
                _ => CriterionResult::NotMet { threshold },
            };
            assert_eq!(result, expected, "{text} on {value}");
        }
        // Negative baseline: +20% still means "above": −10 + 10 × 0.2 = −8.
        assert_eq!(
            c("<=+20%").evaluate(-8.0, &Measure::Value(-10.0)),
            CriterionResult::Met { threshold: -8.0 }
        );
    }

    #[test]
    fn a_relative_criterion_without_a_usable_baseline_is_unknown_never_met() {
        let table = [
            (
                "<=+20%",
                Measure::missing("no series returned by q"),
                "criterion <=+20% needs a baseline value: no series returned by q",
            ),
            (
                "<=+20%",
                Measure::Value(0.0),
                "criterion <=+20% is relative to the baseline, which is 0",
            ),
            (
                "<=+5",
                Measure::Value(f64::NAN),
                "criterion <=+5 needs a baseline value, but it is NaN",
            ),
        ];
        for (text, baseline, reason) in table {
            assert_eq!(
                c(text).evaluate(1.0, &baseline),
                CriterionResult::Unknown {
                    reason: reason.to_owned()
                }
            );
        }
        // A delta from a zero baseline is fine.
        assert_eq!(
            c("<=+5").evaluate(1.0, &Measure::Value(0.0)),
            CriterionResult::Met { threshold: 5.0 }
        );
    }

    fn criteria(pass: &[&[&str]], warning: &[&[&str]]) -> Criteria {
        let lists = |l: &[&[&str]]| {
            l.iter()
                .map(|list| list.iter().map(|t| c(t)).collect())
                .collect()
        };
        Criteria {
            pass: lists(pass),
            warning: lists(warning),
        }
    }

    #[test]
    fn pass_and_warning_lists_combine_and_inside_or_across() {
        // p99 latency in seconds, baseline 0.2.
        let base = Measure::Value(0.2);
        let gate = criteria(&[&["<0.5", "<=+50%"], &["<0.25"]], &[&["<1"]]);
        let table = [
            // 0.29: <0.5 and ≤ 0.3 → first list holds.
            (0.29, Outcome::Pass, Some("<0.5"), None),
            // 0.31: first list fails on <=+50% (0.3), second on <0.25; warning <1 holds.
            (
                0.31,
                Outcome::Warn,
                Some("<=+50%"),
                Some(
                    "0.31 against <=+50% (threshold 0.3): pass criterion not met, warning criteria met",
                ),
            ),
            // 1.2: warning fails too.
            (
                1.2,
                Outcome::Fail,
                Some("<0.5"),
                Some("1.2 against <0.5: pass criterion not met, nor warning criterion <1"),
            ),
        ];
        for (value, outcome, decided, reason) in table {
            let r = evaluate_criteria(&gate, &Measure::Value(value), &base);
            assert_eq!(r.outcome, outcome, "{value}");
            assert_eq!(
                r.decided_by.map(|c| c.to_string()).as_deref(),
                decided,
                "{value}"
            );
            assert_eq!(r.reason.as_deref(), reason, "{value}");
        }
    }

    #[test]
    fn without_warning_lists_a_failed_pass_is_a_fail_and_without_pass_lists_anything_passes() {
        let r = evaluate_criteria(
            &criteria(&[&["<0.5"]], &[]),
            &Measure::Value(0.7),
            &Measure::Value(0.2),
        );
        assert_eq!(
            (r.outcome, r.reason.as_deref()),
            (
                Outcome::Fail,
                Some("0.7 against <0.5: pass criterion not met")
            )
        );
        let r = evaluate_criteria(
            &Criteria::default(),
            &Measure::Value(1e9),
            &Measure::missing("none"),
        );
        assert_eq!(
            (r.outcome, r.decided_by, r.reason),
            (Outcome::Pass, None, None)
        );
    }

    #[test]
    fn unknowns_make_the_result_inconclusive_unless_another_list_decides() {
        let no_base = Measure::missing("no series returned by q");
        // Only a relative list: inconclusive.
        let r = evaluate_criteria(
            &criteria(&[&["<=+10%"]], &[]),
            &Measure::Value(1.0),
            &no_base,
        );
        assert_eq!(r.outcome, Outcome::Inconclusive);
        assert_eq!(
            r.reason.as_deref(),
            Some("criterion <=+10% needs a baseline value: no series returned by q")
        );
        // An absolute list that holds decides the OR.
        let r = evaluate_criteria(
            &criteria(&[&["<=+10%"], &["<2"]], &[]),
            &Measure::Value(1.0),
            &no_base,
        );
        assert_eq!(r.outcome, Outcome::Pass);
        // An absolute criterion that fails decides the AND.
        let r = evaluate_criteria(
            &criteria(&[&["<=+10%", "<0.5"]], &[]),
            &Measure::Value(1.0),
            &no_base,
        );
        assert_eq!(r.outcome, Outcome::Fail);
        // A missing or NaN value is inconclusive whatever the criteria.
        let r = evaluate_criteria(
            &Criteria::default(),
            &Measure::missing("value is NaN"),
            &Measure::Value(1.0),
        );
        assert_eq!(
            (r.outcome, r.reason.as_deref()),
            (Outcome::Inconclusive, Some("value is NaN"))
        );
        let r = evaluate_criteria(
            &Criteria::default(),
            &Measure::Value(f64::NAN),
            &Measure::Value(1.0),
        );
        assert_eq!(r.outcome, Outcome::Inconclusive);
        // Pass fails, warning relative without baseline: inconclusive, not fail.
        let r = evaluate_criteria(
            &criteria(&[&["<0.5"]], &[&["<=+10%"]]),
            &Measure::Value(1.0),
            &no_base,
        );
        assert_eq!(r.outcome, Outcome::Inconclusive);
    }

    fn arb_criterion() -> impl Strategy<Value = Criterion> {
        let op = prop_oneof![
            Just(Op::Lt),
            Just(Op::Le),
            Just(Op::Gt),
            Just(Op::Ge),
            Just(Op::Eq),
            Just(Op::Ne)
        ];
        let magnitude = prop_oneof![0.0f64..1e6, (0u32..1000).prop_map(f64::from), 1e-9f64..1e-3];
        let target = (magnitude, 0u8..3, any::<bool>()).prop_map(|(m, kind, negative)| {
            let s = if negative { -m } else { m };
            match kind {
                0 => Target::Absolute(m),
                1 => Target::RelativePercent(s),
                _ => Target::Delta(s),
            }
        });
        (op, target).prop_map(|(op, target)| Criterion { op, target })
    }

    proptest! {
        #[test]
        fn every_criterion_round_trips_through_its_text(criterion in arb_criterion()) {
            prop_assert_eq!(parse_criterion(&criterion.to_string()), Ok(criterion));
        }
    }
}
