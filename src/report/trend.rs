//! Comparing a run with the previous runs of the same experiment.
//!
//! Owns [`RunSummary`] (the few numbers of a report worth comparing across
//! runs: verdict, and per SLO time to recover, time to detect, budget
//! consumed and peak burn rate; small enough for the server to store next
//! to every run) and [`compare_runs`], which says for each number whether
//! this run regressed, improved or stayed within what the previous runs
//! showed: "TTR 45s, previous 5 runs 12–15s: regressed".
//!
//! Pure: the previous runs are given as data (the server reads them from
//! its store; the CLI has none). Must not read anything or decide verdicts.

use serde::{Deserialize, Serialize};

use super::Report;
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::eval::policy::Outcome;

/// The numbers of one run that are compared across runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The experiment's name: runs are compared with runs of the same name.
    pub experiment: String,
    /// The run's id, when it has one (the server's experiment id).
    pub run: Option<String>,
    /// When the fault started, Unix seconds: orders the runs.
    pub fault_start: f64,
    /// The run's verdict.
    pub verdict: Outcome,
    /// Per SLO.
    pub slos: Vec<SloSummary>,
}

/// The compared numbers of one SLO in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloSummary {
    /// `<service>-<name>`.
    pub id: String,
    /// `Some(false)`: never recovered within the observation.
    pub recovered: Option<bool>,
    /// Time to recover, seconds.
    pub time_to_recover_seconds: Option<f64>,
    /// Time to detect (first expected alert firing), seconds.
    pub time_to_detect_seconds: Option<f64>,
    /// Budget consumed by the experiment, a fraction of the period's budget.
    pub budget_consumed: Option<f64>,
    /// Peak burn rate.
    pub peak_burn_rate: Option<f64>,
}

impl RunSummary {
    /// The summary of `report`, a run of the experiment named `experiment`.
    pub fn from_report(report: &Report, experiment: &str, run: Option<String>) -> RunSummary {
        RunSummary {
            experiment: experiment.to_owned(),
            run,
            fault_start: report.window.fault_start,
            verdict: report.verdict,
            slos: report
                .slos
                .iter()
                .map(|s| {
                    let e = &s.evaluation;
                    SloSummary {
                        id: s.id.clone(),
                        recovered: e.recovery.recovered,
                        time_to_recover_seconds: e.recovery.time_to_recover_seconds,
                        time_to_detect_seconds: e.detection.time_to_detect_seconds,
                        budget_consumed: e.budget_consumed.experiment.get(),
                        peak_burn_rate: e.burn_rate.peak.get(),
                    }
                })
                .collect(),
        }
    }
}

/// A compared number. Lower is better for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Time to recover; "never recovered" counts as worse than any time.
    TimeToRecover,
    /// Time to detect.
    TimeToDetect,
    /// Budget consumed by the experiment.
    BudgetConsumed,
    /// Peak burn rate.
    PeakBurnRate,
}

impl Metric {
    const ALL: [Metric; 4] = [
        Metric::TimeToRecover,
        Metric::TimeToDetect,
        Metric::BudgetConsumed,
        Metric::PeakBurnRate,
    ];

    /// The short name used in sentences: TTR, TTD, budget, peak burn.
    pub fn label(self) -> &'static str {
        match self {
            Metric::TimeToRecover => "TTR",
            Metric::TimeToDetect => "TTD",
            Metric::BudgetConsumed => "budget consumed",
            Metric::PeakBurnRate => "peak burn",
        }
    }

    /// The value in a summary; `+∞` for a TTR that never came.
    fn value(self, s: &SloSummary) -> Option<f64> {
        match self {
            Metric::TimeToRecover => match s.recovered {
                Some(false) => Some(f64::INFINITY),
                _ => s.time_to_recover_seconds,
            },
            Metric::TimeToDetect => s.time_to_detect_seconds,
            Metric::BudgetConsumed => s.budget_consumed,
            Metric::PeakBurnRate => s.peak_burn_rate,
        }
        .filter(|v| !v.is_nan())
    }

    fn format(self, v: f64) -> String {
        if v.is_infinite() {
            return "never recovered".to_owned();
        }
        match self {
            Metric::TimeToRecover | Metric::TimeToDetect => format_seconds(v),
            Metric::BudgetConsumed => format_percent(v),
            Metric::PeakBurnRate => format!("{}×", format_number(v)),
        }
    }

    /// The smallest difference worth a word, in the metric's unit.
    fn floor(self, o: &TrendOptions) -> f64 {
        match self {
            Metric::TimeToRecover | Metric::TimeToDetect => o.min_seconds,
            Metric::BudgetConsumed => o.min_budget,
            Metric::PeakBurnRate => o.min_burn_rate,
        }
    }
}

/// How a number moved against the previous runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Worse than every previous run, by more than the tolerance.
    Regressed,
    /// Better than every previous run, by more than the tolerance.
    Improved,
    /// Within the previous runs' range (widened by the tolerance).
    Unchanged,
    /// No previous run measured it.
    NoHistory,
}

impl Direction {
    /// Lowercase word: regressed, improved, unchanged, no history.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Regressed => "regressed",
            Direction::Improved => "improved",
            Direction::Unchanged => "unchanged",
            Direction::NoHistory => "no history",
        }
    }
}

/// When a change counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendOptions {
    /// How many of the most recent previous runs to compare with.
    pub max_runs: usize,
    /// A value must leave the previous range by this fraction of its bound…
    pub relative: f64,
    /// …and by at least this many seconds (TTR, TTD)…
    pub min_seconds: f64,
    /// …or this share of the budget (budget consumed)…
    pub min_budget: f64,
    /// …or this burn rate (peak burn).
    pub min_burn_rate: f64,
}

impl Default for TrendOptions {
    /// The last 5 runs; a change counts beyond 20% of the previous range's
    /// bound and at least 5s, 0.01% of the budget or a burn rate of 0.5.
    fn default() -> Self {
        TrendOptions {
            max_runs: 5,
            relative: 0.2,
            min_seconds: 5.0,
            min_budget: 0.0001,
            min_burn_rate: 0.5,
        }
    }
}

/// One number of one SLO against the previous runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTrend {
    /// The SLO.
    pub slo: String,
    /// Which number.
    pub metric: Metric,
    /// This run's value (`+∞`: never recovered; serialized as `null`).
    pub current: Option<f64>,
    /// The previous runs' values, most recent first.
    pub previous: Vec<f64>,
    /// How it moved.
    pub direction: Direction,
    /// "TTR 45s, previous 5 runs 12–15s: regressed".
    pub sentence: String,
}

/// This run against the previous runs of the same experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// The experiment's name.
    pub experiment: String,
    /// How many previous runs were compared.
    pub runs: usize,
    /// "verdict fail, previous 5 runs: 4 pass, 1 fail".
    pub verdicts: String,
    /// Per SLO and number, in SLO order; numbers neither run measured are left out.
    pub metrics: Vec<MetricTrend>,
}

impl Trend {
    /// The metrics that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &MetricTrend> {
        self.metrics
            .iter()
            .filter(|m| m.direction == Direction::Regressed)
    }
}

/// Compares `current` with the most recent `options.max_runs` of
/// `previous` that share its experiment name, fault before its own and are
/// not the same run. Returns `None` when there is no such run.
pub fn compare_runs(
    current: &RunSummary,
    previous: &[RunSummary],
    options: &TrendOptions,
) -> Option<Trend> {
    let mut runs: Vec<&RunSummary> = previous
        .iter()
        .filter(|p| p.experiment == current.experiment)
        .filter(|p| p.fault_start < current.fault_start)
        .filter(|p| current.run.is_none() || p.run != current.run)
        .collect();
    runs.sort_by(|a, b| b.fault_start.total_cmp(&a.fault_start));
    runs.truncate(options.max_runs);
    if runs.is_empty() {
        return None;
    }
    let mut metrics = Vec::new();
    for slo in &current.slos {
        for metric in Metric::ALL {
            let now = metric.value(slo);
            let before: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.slos.iter().find(|s| s.id == slo.id))
                .filter_map(|s| metric.value(s))
                .collect();
            if now.is_none() && before.is_empty() {
                continue;
            }
            let direction = direction(metric, now, &before, options);
            metrics.push(MetricTrend {
                slo: slo.id.clone(),
                metric,
                current: now,
                sentence: sentence(metric, now, &before, direction),
                previous: before,
                direction,
            });
        }
    }
    Some(Trend {
        experiment: current.experiment.clone(),
        runs: runs.len(),
        verdicts: verdict_sentence(current.verdict, &runs),
        metrics,
    })
}

fn direction(metric: Metric, now: Option<f64>, before: &[f64], o: &TrendOptions) -> Direction {
    let Some(now) = now else {
        return Direction::NoHistory;
    };
    if before.is_empty() {
        return Direction::NoHistory;
    }
    let lo = before.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = before.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let floor = metric.floor(o);
    if now.is_infinite() || hi.is_infinite() {
        // "Never recovered" against times: only a change of kind counts.
        return match (now.is_infinite(), lo.is_infinite()) {
            (true, false) => Direction::Regressed,
            (false, true) => Direction::Improved,
            _ => Direction::Unchanged,
        };
    }
    if now > hi * (1.0 + o.relative) && now - hi >= floor {
        Direction::Regressed
    } else if now < lo * (1.0 - o.relative) && lo - now >= floor {
        Direction::Improved
    } else {
        Direction::Unchanged
    }
}

/// "12–15s" when both ends share a unit, "45s–1m30s" otherwise.
fn range(metric: Metric, before: &[f64]) -> String {
    let lo = before.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = before.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (a, b) = (metric.format(lo), metric.format(hi));
    if a == b {
        return a;
    }
    let unit = |s: &str| {
        let digits = s.trim_end_matches(|c: char| !c.is_ascii_digit());
        (digits.len(), s[digits.len()..].to_owned())
    };
    let ((la, ua), (_, ub)) = (unit(&a), unit(&b));
    let plain = |s: &str, n: usize| s[..n].chars().all(|c| c.is_ascii_digit() || c == '.');
    if ua == ub && !ua.is_empty() && plain(&a, la) && plain(&b, unit(&b).0) && !hi.is_infinite() {
        format!("{}–{b}", &a[..la])
    } else {
        format!("{a}–{b}")
    }
}

fn sentence(metric: Metric, now: Option<f64>, before: &[f64], direction: Direction) -> String {
    let now_text = now.map_or_else(|| "unknown".to_owned(), |v| metric.format(v));
    if before.is_empty() {
        return format!("{} {now_text}: no previous run measured it", metric.label());
    }
    let runs = if before.len() == 1 {
        "previous run".to_owned()
    } else {
        format!("previous {} runs", before.len())
    };
    let tail = match (now, direction) {
        (None, _) => String::new(),
        (Some(_), d) => format!(": {}", d.as_str()),
    };
    format!(
        "{} {now_text}, {runs} {}{tail}",
        metric.label(),
        range(metric, before)
    )
}

fn verdict_sentence(now: Outcome, runs: &[&RunSummary]) -> String {
    let mut counts = [0usize; 4];
    for r in runs {
        counts[r.verdict as usize] += 1;
    }
    let order = [
        Outcome::Pass,
        Outcome::Warn,
        Outcome::Inconclusive,
        Outcome::Fail,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter(|o| counts[**o as usize] > 0)
        .map(|o| format!("{} {}", counts[*o as usize], o.as_str()))
        .collect();
    let runs_text = if runs.len() == 1 {
        "previous run".to_owned()
    } else {
        format!("previous {} runs", runs.len())
    };
    format!(
        "verdict {}, {runs_text}: {}",
        now.as_str(),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(at: f64, verdict: Outcome, ttr: Option<f64>, recovered: Option<bool>) -> RunSummary {
        RunSummary {
            experiment: "checkout pod-kill".to_owned(),
            run: Some(format!("run-{at}")),
            fault_start: at,
            verdict,
            slos: vec![SloSummary {
                id: "checkout-availability".to_owned(),
                recovered,
                time_to_recover_seconds: ttr,
                time_to_detect_seconds: None,
                budget_consumed: Some(0.002),
                peak_burn_rate: Some(20.0),
            }],
        }
    }

    fn history() -> Vec<RunSummary> {
        [12.0, 15.0, 13.0, 14.0, 12.0]
            .iter()
            .enumerate()
            .map(|(i, ttr)| {
                run(
                    1000.0 * (i + 1) as f64,
                    Outcome::Pass,
                    Some(*ttr),
                    Some(true),
                )
            })
            .collect()
    }

    fn ttr_trend(trend: &Trend) -> &MetricTrend {
        trend
            .metrics
            .iter()
            .find(|m| m.metric == Metric::TimeToRecover)
            .unwrap_or_else(|| panic!("a TTR trend in {trend:?}"))
    }

    #[test]
    fn a_ttr_far_above_every_previous_run_is_a_regression() {
        let now = run(9000.0, Outcome::Fail, Some(45.0), Some(true));
        let trend = compare_runs(&now, &history(), &TrendOptions::default())
            .unwrap_or_else(|| panic!("previous runs exist"));
        let ttr = ttr_trend(&trend);
        assert_eq!(ttr.sentence, "TTR 45s, previous 5 runs 12–15s: regressed");
        assert_eq!(ttr.direction, Direction::Regressed);
        // Most recent first.
        assert_eq!(ttr.previous, vec![12.0, 14.0, 13.0, 15.0, 12.0]);
        assert_eq!(trend.verdicts, "verdict fail, previous 5 runs: 5 pass");
        assert_eq!(trend.regressions().count(), 1);
        // The unchanged budget and burn are reported as such.
        let budget = trend
            .metrics
            .iter()
            .find(|m| m.metric == Metric::BudgetConsumed)
            .unwrap_or_else(|| panic!("budget"));
        assert_eq!(
            budget.sentence,
            "budget consumed 0.2%, previous 5 runs 0.2%: unchanged"
        );
    }

    #[test]
    fn small_moves_within_the_tolerance_are_unchanged_and_big_drops_improve() {
        let opts = TrendOptions::default();
        // 17s is 2s above 15s: under the 5s floor and 20%.
        let near = run(9000.0, Outcome::Pass, Some(17.0), Some(true));
        let t = compare_runs(&near, &history(), &opts).unwrap_or_else(|| panic!("runs"));
        assert_eq!(ttr_trend(&t).direction, Direction::Unchanged);
        // 0s is 12s below 12s: improved.
        let fast = run(9000.0, Outcome::Pass, Some(0.0), Some(true));
        let t = compare_runs(&fast, &history(), &opts).unwrap_or_else(|| panic!("runs"));
        assert_eq!(
            ttr_trend(&t).sentence,
            "TTR 0s, previous 5 runs 12–15s: improved"
        );
    }

    #[test]
    fn never_recovering_after_runs_that_did_is_a_regression() {
        let now = run(9000.0, Outcome::Fail, None, Some(false));
        let t = compare_runs(&now, &history(), &TrendOptions::default())
            .unwrap_or_else(|| panic!("runs"));
        assert_eq!(
            ttr_trend(&t).sentence,
            "TTR never recovered, previous 5 runs 12–15s: regressed"
        );
    }

    #[test]
    fn only_earlier_runs_of_the_same_experiment_count_and_at_most_max_runs() {
        let mut previous = history();
        let mut other = run(500.0, Outcome::Fail, Some(100.0), Some(true));
        other.experiment = "payments latency".to_owned();
        previous.push(other);
        previous.push(run(99_000.0, Outcome::Fail, Some(100.0), Some(true))); // later
        let now = run(9000.0, Outcome::Pass, Some(14.0), Some(true));
        let opts = TrendOptions {
            max_runs: 2,
            ..TrendOptions::default()
        };
        let t = compare_runs(&now, &previous, &opts).unwrap_or_else(|| panic!("runs"));
        assert_eq!(t.runs, 2);
        assert_eq!(ttr_trend(&t).previous, vec![12.0, 14.0]);
        assert_eq!(
            ttr_trend(&t).sentence,
            "TTR 14s, previous 2 runs 12–14s: unchanged"
        );
        // No earlier run: no trend at all.
        let first = run(10.0, Outcome::Pass, Some(14.0), Some(true));
        assert_eq!(compare_runs(&first, &previous, &opts), None);
    }

    #[test]
    fn ranges_across_units_keep_both_units() {
        assert_eq!(range(Metric::TimeToRecover, &[45.0, 90.0]), "45s–1m30s");
        assert_eq!(range(Metric::PeakBurnRate, &[2.0, 14.4]), "2–14.4×");
        assert_eq!(range(Metric::BudgetConsumed, &[0.001, 0.02]), "0.1–2%");
    }
}
