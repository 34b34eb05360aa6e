//! Multi-window multi-burn-rate alert windows per SLO period.
//!
//! Owns: Google's default windows (SRE workbook, as Sloth ships them for 30d
//! and 28d), reading Sloth's `AlertWindows` spec for other periods
//! (`--windows`), and the burn-rate factor of a window.
//! Must not: read files (the CLI passes the text) or guess windows for a
//! period nobody described.

use std::collections::BTreeMap;
use std::path::Path;

use crate::spec::PromDuration;
use crate::spec::decode::{self, Decoder, Field, Fields};
use crate::spec::error::{FieldPath, SpecError, SpecErrors};
use crate::spec::yaml::{self, Loc};

/// One window pair: alert when both the short and the long window burn
/// faster than the factor that consumes `error_budget_percent` of the
/// period's budget within the long window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Share of the period's error budget (in percent) the alert tolerates
    /// being consumed within the long window.
    pub error_budget_percent: f64,
    pub short: PromDuration,
    pub long: PromDuration,
}

impl Window {
    /// The burn-rate factor: `budget% × period / long window`, computed in
    /// hours exactly as Sloth does (so 28d page quick is 13.44, not 13.440000000000001).
    pub fn burn_factor(&self, period: PromDuration) -> f64 {
        let hours_required = self.error_budget_percent * go_hours(period) / 100.0;
        hours_required / go_hours(self.long)
    }
}

/// Go's `time.Duration.Hours()`: whole hours plus the remainder in hours.
pub(crate) fn go_hours(d: PromDuration) -> f64 {
    const HOUR_MS: u64 = 3_600_000;
    let ms = d.as_millis();
    let whole = ms / HOUR_MS;
    let rest_ns = (ms % HOUR_MS) as f64 * 1e6;
    whole as f64 + rest_ns / 3.6e12
}

/// The four windows for one SLO period.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertWindows {
    pub period: PromDuration,
    pub page_quick: Window,
    pub page_slow: Window,
    pub ticket_quick: Window,
    pub ticket_slow: Window,
    /// Where these windows came from (`built-in (Google SRE workbook)` or a file).
    pub origin: String,
}

impl AlertWindows {
    /// Google's recommendation, which Sloth uses for 30d and 28d: page on 2%
    /// of the budget in 1h (5m short) or 5% in 6h (30m short); ticket on 10%
    /// in 1d (2h short) or 10% in 3d (6h short).
    pub fn google(period: PromDuration) -> Self {
        let d = |s: u64| PromDuration::from_secs(s);
        const M: u64 = 60;
        const H: u64 = 3600;
        AlertWindows {
            period,
            page_quick: Window {
                error_budget_percent: 2.0,
                short: d(5 * M),
                long: d(H),
            },
            page_slow: Window {
                error_budget_percent: 5.0,
                short: d(30 * M),
                long: d(6 * H),
            },
            ticket_quick: Window {
                error_budget_percent: 10.0,
                short: d(2 * H),
                long: d(24 * H),
            },
            ticket_slow: Window {
                error_budget_percent: 10.0,
                short: d(6 * H),
                long: d(72 * H),
            },
            origin: "built-in (Google SRE workbook)".to_string(),
        }
    }

    /// The distinct windows the SLI must be recorded over, shortest first.
    pub fn recording_windows(&self) -> Vec<PromDuration> {
        let mut all: Vec<PromDuration> = [
            self.page_quick,
            self.page_slow,
            self.ticket_quick,
            self.ticket_slow,
        ]
        .iter()
        .flat_map(|w| [w.short, w.long])
        .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The windows known for each period: the defaults plus `--windows` files.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCatalog {
    by_period: BTreeMap<PromDuration, AlertWindows>,
}

impl Default for WindowCatalog {
    fn default() -> Self {
        Self::google_defaults()
    }
}

impl WindowCatalog {
    /// Google's windows for 30d and 28d, the periods Sloth ships.
    pub fn google_defaults() -> Self {
        let mut by_period = BTreeMap::new();
        for days in [28, 30] {
            let p = PromDuration::from_secs(days * 24 * 3600);
            by_period.insert(p, AlertWindows::google(p));
        }
        WindowCatalog { by_period }
    }

    /// A catalog with no windows at all.
    pub fn empty() -> Self {
        WindowCatalog {
            by_period: BTreeMap::new(),
        }
    }

    /// Adds windows, replacing any for the same period.
    pub fn insert(&mut self, windows: AlertWindows) {
        self.by_period.insert(windows.period, windows);
    }

    pub fn get(&self, period: PromDuration) -> Option<&AlertWindows> {
        self.by_period.get(&period)
    }

    /// The periods with windows, shortest first.
    pub fn periods(&self) -> Vec<PromDuration> {
        self.by_period.keys().copied().collect()
    }
}

/// Reads every `AlertWindows` document of one file. Other documents and
/// invalid fields are errors naming the file, position and field
/// (`spec.page.quick.longWindow`).
pub fn parse_alert_windows(file: &Path, text: &str) -> Result<Vec<AlertWindows>, SpecErrors> {
    let docs = yaml::parse_documents(text).map_err(|e| {
        SpecErrors(vec![SpecError {
            file: file.to_path_buf(),
            loc: e.loc,
            path: String::new(),
            message: format!("invalid YAML: {}", e.message),
        }])
    })?;
    let mut d = Decoder::new(file);
    let mut out: Vec<AlertWindows> = Vec::new();
    let mut seen: BTreeMap<PromDuration, Loc> = BTreeMap::new();
    for doc in &docs {
        let f = Field::new(doc, FieldPath::root());
        if let Some((w, loc)) = decode_windows(&mut d, &f) {
            if let Some(first) = seen.get(&w.period) {
                d.error(
                    loc,
                    &FieldPath::root().key("spec").key("sloPeriod"),
                    format!(
                        "windows for the {} period are already defined at line {}",
                        w.period, first.line
                    ),
                );
            } else {
                seen.insert(w.period, loc);
                out.push(w);
            }
        }
    }
    if docs.is_empty() {
        d.error(
            Loc { line: 1, column: 1 },
            &FieldPath::root(),
            "no AlertWindows document in this file",
        );
    }
    if d.errors.is_empty() {
        Ok(out)
    } else {
        Err(SpecErrors(d.errors))
    }
}

fn decode_windows(d: &mut Decoder, f: &Field<'_>) -> Option<(AlertWindows, Loc)> {
    let mut m = Fields::of(d, f, false)?;
    let api = m.req_str(d, "apiVersion");
    let kind = m.req_str(d, "kind");
    m.ignore("metadata");
    let spec = m.req(d, "spec");
    m.finish(d);
    let mut ok = true;
    if let Some((a, af)) = &api
        && a != "sloth.slok.dev/v1"
    {
        d.at(
            af,
            format!("expected apiVersion \"sloth.slok.dev/v1\", found {a:?}"),
        );
        ok = false;
    }
    if let Some((k, kf)) = &kind
        && k != "AlertWindows"
    {
        d.at(kf, format!("expected kind \"AlertWindows\", found {k:?}"));
        ok = false;
    }
    let spec = spec?;
    let mut s = Fields::of(d, &spec, true)?;
    let period = s.req(d, "slo_period");
    let page = s.req(d, "page");
    let ticket = s.req(d, "ticket");
    s.finish(d);
    let period_field = period?;
    let period = decode::duration(d, &period_field).and_then(|p| {
        if p.is_zero() {
            d.at(&period_field, "sloPeriod must be longer than zero");
            None
        } else {
            Some(p)
        }
    });
    let (page_quick, page_slow) = page.and_then(|p| decode_severity(d, &p, period))?;
    let (ticket_quick, ticket_slow) = ticket.and_then(|t| decode_severity(d, &t, period))?;
    let period = period?;
    if !ok || api.is_none() || kind.is_none() {
        return None;
    }
    Some((
        AlertWindows {
            period,
            page_quick,
            page_slow,
            ticket_quick,
            ticket_slow,
            origin: d.file.display().to_string(),
        },
        period_field.loc(),
    ))
}

fn decode_severity(
    d: &mut Decoder,
    f: &Field<'_>,
    period: Option<PromDuration>,
) -> Option<(Window, Window)> {
    // Sloth's spec uses camelCase keys throughout.
    let mut m = Fields::of(d, f, true)?;
    let quick = m.req(d, "quick");
    let slow = m.req(d, "slow");
    m.finish(d);
    let quick = quick.and_then(|q| decode_window(d, &q, period));
    let slow = slow.and_then(|s| decode_window(d, &s, period));
    Some((quick?, slow?))
}

fn decode_window(d: &mut Decoder, f: &Field<'_>, period: Option<PromDuration>) -> Option<Window> {
    let mut m = Fields::of(d, f, true)?;
    let pct = m.req(d, "error_budget_percent");
    let short = m.req(d, "short_window");
    let long = m.req(d, "long_window");
    m.finish(d);
    let pct = pct.and_then(|pf| {
        let v = decode::number(d, &pf, false)?;
        if v > 0.0 && v <= 100.0 {
            Some(v)
        } else {
            d.at(
                &pf,
                format!("errorBudgetPercent must be in (0, 100], got {v}"),
            );
            None
        }
    });
    let short = positive_window(d, short);
    let long = positive_window(d, long);
    let ((short, _), (long, lf)) = (short?, long?);
    if short >= long {
        d.at(
            &lf,
            format!("longWindow {long} must be longer than shortWindow {short}"),
        );
        return None;
    }
    if let Some(p) = period
        && long > p
    {
        d.at(
            &lf,
            format!("longWindow {long} is longer than sloPeriod {p}"),
        );
        return None;
    }
    Some(Window {
        error_budget_percent: pct?,
        short,
        long,
    })
}

fn positive_window<'n>(
    d: &mut Decoder,
    field: Option<Field<'n>>,
) -> Option<(PromDuration, Field<'n>)> {
    let field = field?;
    let v = decode::duration(d, &field)?;
    if v.is_zero() {
        d.at(&field, "window must be longer than zero");
        return None;
    }
    Some((v, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: u64) -> PromDuration {
        PromDuration::from_secs(n * 86_400)
    }

    #[test]
    fn burn_factors_match_sloth_for_30d_and_28d() {
        let w30 = AlertWindows::google(days(30));
        assert_eq!(w30.page_quick.burn_factor(days(30)), 14.4);
        assert_eq!(w30.page_slow.burn_factor(days(30)), 6.0);
        assert_eq!(w30.ticket_quick.burn_factor(days(30)), 3.0);
        assert_eq!(w30.ticket_slow.burn_factor(days(30)), 1.0);
        let w28 = AlertWindows::google(days(28));
        assert_eq!(w28.page_quick.burn_factor(days(28)), 13.44);
        assert_eq!(w28.page_slow.burn_factor(days(28)), 5.6000000000000005);
        assert_eq!(w28.ticket_quick.burn_factor(days(28)), 2.8000000000000003);
        assert_eq!(w28.ticket_slow.burn_factor(days(28)), 0.9333333333333333);
    }

    #[test]
    fn recording_windows_are_distinct_and_sorted() {
        let w = AlertWindows::google(days(30));
        let names: Vec<String> = w
            .recording_windows()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }

    const SEVEN_DAYS: &str = "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n  page:\n    quick:\n      errorBudgetPercent: 8\n      shortWindow: 5m\n      longWindow: 1h\n    slow:\n      errorBudgetPercent: 12.5\n      shortWindow: 30m\n      longWindow: 6h\n  ticket:\n    quick:\n      errorBudgetPercent: 20\n      shortWindow: 2h\n      longWindow: 1d\n    slow:\n      errorBudgetPercent: 42\n      shortWindow: 6h\n      longWindow: 3d\n";

    #[test]
    fn sloth_alert_windows_specs_are_read() {
        let ws = parse_alert_windows(Path::new("7d.yaml"), SEVEN_DAYS).unwrap();
        assert_eq!(ws.len(), 1);
        let w = &ws[0];
        assert_eq!(w.period, days(7));
        assert_eq!(w.page_slow.error_budget_percent, 12.5);
        assert_eq!(w.ticket_slow.long, days(3));
        // Sloth's 7d fixture: 13.44, 3.5, 1.4000000000000001, 0.98.
        assert_eq!(w.page_quick.burn_factor(days(7)), 13.44);
        assert_eq!(w.page_slow.burn_factor(days(7)), 3.5);
        assert_eq!(w.ticket_quick.burn_factor(days(7)), 1.4000000000000001);
        assert_eq!(w.ticket_slow.burn_factor(days(7)), 0.98);
    }

    #[test]
    fn errors_name_the_file_position_and_field() {
        let bad = SEVEN_DAYS
            .replace("sloPeriod: 7d", "sloPeriod: 7days")
            .replace("longWindow: 6h", "longWindow: 10m");
        let errs = parse_alert_windows(Path::new("w.yaml"), &bad).unwrap_err();
        let msgs: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "w.yaml:4:14: spec.sloPeriod: invalid duration \"7days\": unknown unit (use y, w, d, h, m, s or ms) (expected e.g. 30s, 5m, 1h30m, 28d)",
                "w.yaml:13:19: spec.page.slow.longWindow: longWindow 10m must be longer than shortWindow 30m",
            ]
        );
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        let bad = SEVEN_DAYS
            .replace("kind: AlertWindows", "kind: Windows")
            .replace("errorBudgetPercent: 8", "errorBudgetPercnt: 8");
        let errs = parse_alert_windows(Path::new("w.yaml"), &bad).unwrap_err();
        let msgs: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
        assert!(
            msgs.iter().any(|m| m == "w.yaml:2:7: kind: expected kind \"AlertWindows\", found \"Windows\""),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("w.yaml:7:7: spec.page.quick.errorBudgetPercnt: unknown field `errorBudgetPercnt`, did you mean `errorBudgetPercent`?")),
            "{msgs:?}"
        );
    }

    #[test]
    fn the_catalog_knows_30d_and_28d_by_default_and_takes_more() {
        let mut c = WindowCatalog::google_defaults();
        assert_eq!(c.periods(), [days(28), days(30)]);
        assert!(c.get(days(7)).is_none());
        let ws = parse_alert_windows(Path::new("7d.yaml"), SEVEN_DAYS).unwrap();
        c.insert(ws[0].clone());
        assert_eq!(c.periods(), [days(7), days(28), days(30)]);
    }
}
