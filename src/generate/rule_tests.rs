//! `promtool test rules` files proving that each SLO's alerts fire when the
//! burn-rate math says they should, and not before.
//!
//! The scenario per alert: counters the SLO's own selectors select (see
//! `synth`), with no errors until the burn starts at `t0`, then a constant
//! error ratio `e`. A window of length `w` then sees the error ratio
//! `e × min(1, (t − t0) / w)`, so the window pair with factor `f` fires once
//! both windows exceed `f × B`, that is after `p = f × B × long / e` minutes
//! of burn (the short window is full by then). The alert fires at its
//! earliest pair. `e` is 2.5 × the highest threshold that 100% errors can
//! reach, so every pair that can fire does.
//!
//! Margins: Prometheus computes `rate()` over the samples inside the window,
//! and whether the sample exactly `w` ago is inside changed between
//! Prometheus 2 (`[t−w, t]`) and 3 (`(t−w, t]`): the first firing minute is
//! `⌊p⌋ + 1` minutes into the burn in the former and may be one minute
//! earlier in the latter. With 1m samples the tests therefore check "not
//! firing" `⌈p⌉ − 2` minutes into the burn and "firing" `⌈p⌉ + 1` minutes in,
//! which holds for both. Counters start at 1,000,000 so `rate()` never cuts
//! its extrapolation at a zero crossing, which would break the cancellation
//! in `errors / total`.
//!
//! Every check of a file happens at one time `T` after the longest window
//! (each test group places its own `t0`), so `evaluation_interval` is `T`
//! and promtool evaluates the rules only at 0 and `T`, in the order
//! `group_eval_order` gives (recordings before alerts). The alerts have no
//! `for`, so that is exact, and a file runs in a fraction of a second.
//!
//! Owns: the scenario math and the test file layout.
//! Must not: run promtool (tests do) or silently drop an SLO: every SLO
//! or alert without a test is returned with the reason.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

use super::RuleOptions;
use super::emit::write_scalar;
use super::gofmt::go_float;
use super::rules::{AlertPlan, Labels, SloRules};
use super::synth::{self, SeriesPlan};
use super::windows::Window;
use crate::spec::model::{Service, Slo};

/// Total requests per minute in the synthetic traffic.
pub const TOTAL_PER_MINUTE: u64 = 10_000;
/// Where every synthetic counter starts.
pub const COUNTER_START: u64 = 1_000_000;
/// Minutes between the end of the longest window and the burn start.
const LEAD_MINUTES: u64 = 5;
/// The burn is this many times the highest factor that can fire (capped at 100% errors).
const BURN_OVER_FACTOR: f64 = 2.5;

/// An SLO (or one of its alerts) for which no rule test was generated.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedTest {
    pub file: PathBuf,
    pub slo_id: String,
    pub reason: String,
}

impl std::fmt::Display for SkippedTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: no rule test for SLO `{}`: {}",
            self.file.display(),
            self.slo_id,
            self.reason
        )
    }
}

fn minutes(w: crate::spec::PromDuration) -> f64 {
    w.as_millis() as f64 / 60_000.0
}

/// Minutes of burn at error ratio `e` until a window pair fires, or `None`
/// when `e` never exceeds its threshold.
pub fn pair_minutes(window: &Window, factor: f64, budget: f64, e: f64) -> Option<f64> {
    let threshold = factor * budget;
    (e > threshold).then(|| threshold * minutes(window.long) / e)
}

/// Minutes of burn until the alert fires (its earliest pair).
pub fn alert_minutes(a: &AlertPlan, budget: f64, e: f64) -> Option<f64> {
    let q = pair_minutes(&a.quick.0, a.quick.1, budget, e);
    let s = pair_minutes(&a.slow.0, a.slow.1, budget, e);
    match (q, s) {
        (Some(q), Some(s)) => Some(q.min(s)),
        (q, s) => q.or(s),
    }
}

/// The error ratio (errors per `TOTAL_PER_MINUTE`) that makes every pair of
/// the alert that can fire at all fire; `None` if none can, even at 100%.
pub fn burn_errors(a: &AlertPlan, budget: f64) -> Option<u64> {
    let possible: Vec<f64> = [a.quick.1, a.slow.1]
        .into_iter()
        .map(|f| f * budget)
        .filter(|t| *t < 1.0)
        .collect();
    let highest = possible
        .into_iter()
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))?;
    let e = (highest * BURN_OVER_FACTOR).min(1.0);
    // The tolerance keeps 360.00000000000006 at 360.
    let errors = ((e * TOTAL_PER_MINUTE as f64 - 1e-9).ceil() as u64).clamp(1, TOTAL_PER_MINUTE);
    let e = errors as f64 / TOTAL_PER_MINUTE as f64;
    (e > highest || alert_minutes(a, budget, e).is_some()).then_some(errors)
}

/// `⌈p⌉`, ignoring float noise above a whole minute (24.000000000000004 → 24).
fn ceil_minutes(p: f64) -> u64 {
    (p - 1e-9).ceil().max(0.0) as u64
}

/// An alert's state at `d` minutes after the burn start: `Some(true)`
/// firing for sure, `Some(false)` not firing for sure, `None` too close to
/// call within the margins.
pub fn state_at(a: &AlertPlan, budget: f64, e: f64, d: i64) -> Option<bool> {
    let Some(p) = alert_minutes(a, budget, e) else {
        return Some(false);
    };
    let c = ceil_minutes(p) as i64;
    if d <= 0 || d <= c - 2 {
        Some(false)
    } else if d > c {
        Some(true)
    } else {
        None
    }
}

fn template_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\{\{\s*(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
            .expect("static regex")
    })
}

/// Expands `{{$labels.x}}` (and `{{ .Labels.x }}`) the way Prometheus does
/// for alert labels and annotations (a missing label expands to nothing).
/// `None` when the text uses any other template.
pub fn expand(text: &str, series: &Labels) -> Option<String> {
    let out = template_re().replace_all(text, |c: &regex::Captures<'_>| {
        series.get(&c[1]).cloned().unwrap_or_default()
    });
    (!out.contains("{{")).then(|| out.into_owned())
}

struct Scenario<'a> {
    slo: &'a Slo,
    rules: &'a SloRules,
    alert: &'a AlertPlan,
    /// The alerts of the SLO with the same name (page and ticket usually).
    same_name: Vec<&'a AlertPlan>,
    series: Vec<SeriesPlan>,
    errors: u64,
    /// Predicted minutes of burn until the alert fires, and its ceiling.
    predicted: f64,
    ceil: u64,
    /// The longest window of `same_name`, in minutes.
    longest: u64,
}

impl Scenario<'_> {
    fn error_ratio(&self) -> f64 {
        self.errors as f64 / TOTAL_PER_MINUTE as f64
    }
    /// Minutes of burn at the "not yet" and "firing" checks.
    fn quiet_after(&self) -> u64 {
        self.ceil.max(2) - 2
    }
    fn fire_after(&self) -> u64 {
        self.ceil + 1
    }
    /// The earliest evaluation time at which both checks fit after the
    /// longest window.
    fn needs_until(&self) -> u64 {
        self.longest + LEAD_MINUTES + self.fire_after()
    }
}

fn plan_scenario<'a>(
    slo: &'a Slo,
    rules: &'a SloRules,
    alert: &'a AlertPlan,
    others_in_file: &[(&Slo, &SloRules)],
) -> Result<Scenario<'a>, String> {
    let plan = &rules.plan;
    let budget = plan.error_budget;
    let ratio = synth::analyse(&slo.sli)?;
    let Some(errors) = burn_errors(alert, budget) else {
        return Err(format!(
            "the {} alert can never fire: its thresholds ({} and {} × the {}% budget) exceed 100% errors",
            alert.severity.as_str(),
            go_float(alert.quick.1),
            go_float(alert.slow.1),
            pretty(budget * 100.0)
        ));
    };
    let series = synth::plan_series(&ratio, TOTAL_PER_MINUTE, errors)?;
    let e = errors as f64 / TOTAL_PER_MINUTE as f64;
    let predicted = alert_minutes(alert, budget, e)
        .ok_or_else(|| "the burn does not reach the alert's thresholds".to_string())?;
    let same_name: Vec<&AlertPlan> = [&plan.page, &plan.ticket]
        .into_iter()
        .flatten()
        .filter(|a| a.name == alert.name)
        .collect();
    let longest = same_name
        .iter()
        .flat_map(|a| [a.quick.0.long, a.slow.0.long])
        .max()
        .map(minutes)
        .unwrap_or(0.0)
        .ceil() as u64;
    let scenario = Scenario {
        slo,
        rules,
        alert,
        same_name,
        series,
        errors,
        predicted,
        ceil: ceil_minutes(predicted),
        longest,
    };
    for other in &scenario.same_name {
        for d in [scenario.quiet_after(), scenario.fire_after()] {
            if state_at(other, budget, e, d as i64).is_none() {
                return Err(format!(
                    "its page and ticket alerts share the name {} and are predicted to fire within 3 minutes of each other; the test could not tell them apart",
                    alert.name
                ));
            }
        }
    }
    for (other_slo, other_rules) in others_in_file {
        let shares = [&other_rules.plan.page, &other_rules.plan.ticket]
            .into_iter()
            .flatten()
            .any(|a| a.name == alert.name);
        if !shares {
            continue;
        }
        let touches = match synth::analyse(&other_slo.sli) {
            Ok(r) => scenario
                .series
                .iter()
                .any(|s| r.num.matches(&s.labels) || r.den.matches(&s.labels)),
            Err(_) => true,
        };
        if touches {
            return Err(format!(
                "SLO `{}` has an alert with the same name ({}) over the same series, so its alerts would mix into the expectation",
                other_slo.id, alert.name
            ));
        }
    }
    Ok(scenario)
}

/// A number for comments: rounded to 9 decimals (0.09999999999999432 → 0.1).
fn pretty(x: f64) -> String {
    go_float((x * 1e9).round() / 1e9)
}

/// promtool's expanding notation for a counter sampled every minute from 0
/// to `end`, increasing by `before` per minute up to `start` and by `after`
/// from then on.
fn values(s: &SeriesPlan, start: u64, end: u64) -> String {
    let mut v = format!("{COUNTER_START}+{}x{start}", s.before);
    if end > start {
        let next = COUNTER_START + s.before * start + s.after;
        let _ = write!(v, " {next}+{}x{}", s.after, end - start - 1);
    }
    v
}

fn line(out: &mut String, indent: usize, text: &str) {
    for _ in 0..indent {
        out.push(' ');
    }
    out.push_str(text);
    out.push('\n');
}

fn kv(out: &mut String, indent: usize, dash: bool, key: &str, value: &str) {
    for _ in 0..indent {
        out.push(' ');
    }
    if dash {
        out.push_str("- ");
    }
    out.push_str(key);
    out.push_str(": ");
    write_scalar(out, value, indent + if dash { 4 } else { 2 });
    out.push('\n');
}

/// `exp_alerts` for `burn` minutes into the scenario: every alert of the
/// same name predicted to be firing by then, with its labels and annotations
/// as Prometheus expands them.
fn write_expected(out: &mut String, s: &Scenario<'_>, burn: u64) -> Result<(), String> {
    let budget = s.rules.plan.error_budget;
    let firing: Vec<&&AlertPlan> = s
        .same_name
        .iter()
        .filter(|a| state_at(a, budget, s.error_ratio(), burn as i64) == Some(true))
        .collect();
    if firing.is_empty() {
        line(out, 8, "exp_alerts: []");
        return Ok(());
    }
    line(out, 8, "exp_alerts:");
    let series = &s.rules.plan.series_labels;
    for a in firing {
        let mut labels = series.clone();
        for (k, v) in &a.labels {
            let v = expand(v, series).ok_or_else(|| {
                format!("alert label {k} uses a template verdict cannot evaluate")
            })?;
            labels.insert(k.clone(), v);
        }
        line(out, 10, "- exp_labels:");
        for (k, v) in &labels {
            kv(out, 14, false, k, v);
        }
        if !a.annotations.is_empty() {
            line(out, 12, "exp_annotations:");
            for (k, v) in &a.annotations {
                let v = expand(v, series).ok_or_else(|| {
                    format!("annotation {k} uses a template verdict cannot evaluate (only {{{{$labels.name}}}})")
                })?;
                kv(out, 14, false, k, &v);
            }
        }
    }
    Ok(())
}

/// The two test groups of a scenario, both evaluated at `at` (minutes):
/// one whose burn started `quiet_after` minutes earlier (not firing yet),
/// one whose burn started `fire_after` minutes earlier (firing).
fn write_scenario(out: &mut String, s: &Scenario<'_>, at: u64) -> Result<(), String> {
    let budget = s.rules.plan.error_budget;
    let e = s.error_ratio();
    let a = s.alert;
    let q = pair_minutes(&a.quick.0, a.quick.1, budget, e);
    let sl = pair_minutes(&a.slow.0, a.slow.1, budget, e);
    let (pair, pair_min) = match (q, sl) {
        (Some(q), Some(sl)) if sl < q => (&a.slow, sl),
        (Some(q), _) => (&a.quick, q),
        (None, Some(sl)) => (&a.slow, sl),
        (None, None) => (&a.quick, s.predicted),
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "  # {} {} alert {}: {}% errors (burn rate {} over the {}% budget) from t0.",
        s.slo.id,
        a.severity.as_str(),
        a.name,
        pretty(s.errors as f64 * 100.0 / TOTAL_PER_MINUTE as f64),
        pretty(e / budget),
        pretty(budget * 100.0),
    );
    let _ = writeln!(
        t,
        "  # Its {}/{} pair (factor {}) fires after {} x {}% x {}m / {}% = {} minutes of burn;",
        pair.0.short,
        pair.0.long,
        go_float(pair.1),
        go_float(pair.1),
        pretty(budget * 100.0),
        pretty(minutes(pair.0.long)),
        pretty(e * 100.0),
        pretty(pair_min)
    );
    let _ = writeln!(
        t,
        "  # checked at {at}m: not firing {} minutes into the burn, firing {} minutes into it.",
        s.quiet_after(),
        s.fire_after()
    );
    for (burn, what) in [
        (s.quiet_after(), "not yet firing"),
        (s.fire_after(), "firing"),
    ] {
        let start = at - burn;
        kv(
            &mut t,
            2,
            true,
            "name",
            &format!(
                "{} {} alert {} {what} {burn}m into the burn (t0 = {start}m)",
                s.slo.id,
                a.severity.as_str(),
                a.name
            ),
        );
        line(&mut t, 4, "interval: 1m");
        line(&mut t, 4, "input_series:");
        for sp in &s.series {
            kv(&mut t, 6, true, "series", &sp.series());
            kv(&mut t, 8, false, "values", &values(sp, start, at));
        }
        line(&mut t, 4, "alert_rule_test:");
        kv(&mut t, 6, true, "eval_time", &format!("{at}m"));
        kv(&mut t, 8, false, "alertname", &a.name);
        write_expected(&mut t, s, burn)?;
    }
    out.push_str(&t);
    Ok(())
}

/// Renders the rule tests for the services of one file. Returns the file
/// (if any SLO could be tested) and every SLO or alert left out, with why.
///
/// Every test group is checked at the same time `T` (after the longest
/// window of every scenario), so the file sets `evaluation_interval: T`
/// and promtool evaluates the rules only at 0 and `T`: the alerts have no
/// `for`, so their state at `T` depends only on the data, and the tests run
/// in well under a second instead of evaluating days of minutes.
pub fn render_tests(
    source: &Path,
    rules_file: &str,
    rendered: &[(&Service, Vec<SloRules>)],
    opts: &RuleOptions,
) -> (Option<String>, Vec<SkippedTest>) {
    let mut skipped = Vec::new();
    let skip = |slo: &str, reason: String| SkippedTest {
        file: source.to_path_buf(),
        slo_id: slo.to_string(),
        reason,
    };
    let all: Vec<(&Slo, &SloRules)> = rendered
        .iter()
        .flat_map(|(svc, rules)| {
            rules
                .iter()
                .filter_map(|r| svc.slos.iter().find(|s| s.id == r.slo_id).map(|s| (s, r)))
        })
        .collect();
    let mut scenarios = Vec::new();
    for (slo, rules) in &all {
        if opts.disable_recordings {
            skipped.push(skip(
                &slo.id,
                "recording rules are disabled (--disable-recordings), so the alerts have no input"
                    .into(),
            ));
            continue;
        }
        let alerts: Vec<&AlertPlan> = [&rules.plan.page, &rules.plan.ticket]
            .into_iter()
            .flatten()
            .collect();
        if alerts.is_empty() {
            skipped.push(skip(&slo.id, "it has no alerts (disabled)".into()));
            continue;
        }
        let others: Vec<(&Slo, &SloRules)> = all
            .iter()
            .filter(|(s, _)| s.id != slo.id)
            .copied()
            .collect();
        for alert in alerts {
            match plan_scenario(slo, rules, alert, &others) {
                Ok(s) => scenarios.push(s),
                Err(reason) => skipped.push(skip(
                    &slo.id,
                    format!("{} alert: {reason}", alert.severity.as_str()),
                )),
            }
        }
    }
    let Some(at) = scenarios.iter().map(Scenario::needs_until).max() else {
        return (None, skipped);
    };
    let mut body = String::new();
    let mut kept = 0;
    for s in &scenarios {
        let mut t = String::new();
        match write_scenario(&mut t, s, at) {
            Ok(()) => {
                body.push_str(&t);
                kept += 1;
            }
            Err(reason) => skipped.push(skip(
                &s.slo.id,
                format!("{} alert: {reason}", s.alert.severity.as_str()),
            )),
        }
    }
    if kept == 0 {
        return (None, skipped);
    }
    let mut out = String::with_capacity(body.len() + 1024);
    let _ = writeln!(
        out,
        "{} ({}) from {}: promtool rule tests.\n# DO NOT EDIT: change the SLO spec and run `verdict generate rules --with-tests`.",
        super::GENERATED_MARKER,
        opts.version,
        source.display()
    );
    out.push_str(
        "#\n\
         # Each test feeds counters that the SLO's own queries select: no errors until t0,\n\
         # then a constant error ratio e. A window pair (short/long, factor f) fires once the\n\
         # long window holds f x budget x long / e minutes of burn (the short one is full by\n\
         # then). Every test is checked at the same time, after the longest window, with t0\n\
         # placed so the burn has lasted 2 minutes less than the prediction (not firing) or\n\
         # 1 minute more (firing): margins for where rate() windows start, which differs by a\n\
         # sample between Prometheus 2 and 3. Alerts have no `for`, so evaluating the rules\n\
         # only at 0 and at that time is exact. Run: promtool test rules <this file>\n\n",
    );
    let _ = writeln!(
        out,
        "rule_files:\n  - {rules_file}\nevaluation_interval: {at}m"
    );
    // promtool evaluates groups in a random order unless told; recordings
    // must come before the alerts that read them.
    out.push_str("group_eval_order:\n");
    for (_, rules) in rendered {
        for g in rules.iter().flat_map(|r| r.groups.iter()) {
            out.push_str("  - ");
            write_scalar(&mut out, &g.name, 4);
            out.push('\n');
        }
    }
    out.push_str("tests:\n");
    out.push_str(&body);
    (Some(out), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rules::Severity;
    use crate::spec::PromDuration;

    fn page_30d() -> AlertPlan {
        let w = crate::generate::AlertWindows::google(PromDuration::from_secs(30 * 86_400));
        AlertPlan {
            name: "X".into(),
            severity: Severity::Page,
            quick: (w.page_quick, 14.4),
            slow: (w.page_slow, 6.0),
            labels: Labels::new(),
            annotations: Labels::new(),
        }
    }

    #[test]
    fn the_page_alert_fires_when_two_percent_of_the_budget_is_burnt() {
        // 3.6% errors against a 0.1% budget: burn rate 36. The 1h window
        // crosses 14.4 × 0.1% after 1h × 14.4 / 36 = 24 minutes.
        let a = page_30d();
        let t = alert_minutes(&a, 0.001, 0.036).unwrap();
        assert!((t - 24.0).abs() < 1e-9, "{t}");
        assert_eq!(state_at(&a, 0.001, 0.036, 22), Some(false));
        assert_eq!(state_at(&a, 0.001, 0.036, 23), None);
        assert_eq!(state_at(&a, 0.001, 0.036, 25), Some(true));
        assert_eq!(state_at(&a, 0.001, 0.036, 0), Some(false));
    }

    #[test]
    fn the_burn_is_two_and_a_half_times_the_highest_threshold() {
        let a = page_30d();
        // 14.4 × 0.1% × 2.5 = 3.6%.
        assert_eq!(burn_errors(&a, 0.001), Some(360));
        // With a 10% budget only the slow pair (6 × 10% = 60%) can fire: 100% errors.
        assert_eq!(burn_errors(&a, 0.1), Some(10_000));
        let t = alert_minutes(&a, 0.1, 1.0).unwrap();
        assert!((t - 216.0).abs() < 1e-9, "{t}");
        // With a 20% budget neither pair can (14.4 × 20%, 6 × 20% > 100%).
        assert_eq!(burn_errors(&a, 0.2), None);
    }

    #[test]
    fn label_templates_expand_from_the_series_labels() {
        let mut series = Labels::new();
        series.insert("sloth_service".into(), "order".into());
        assert_eq!(
            expand(
                "{{$labels.sloth_service}} / {{ .Labels.sloth_service }} / {{$labels.none}}!",
                &series
            ),
            Some("order / order / !".into())
        );
        assert_eq!(expand("{{ $value }}", &series), None);
    }
}
