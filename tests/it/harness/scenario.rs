//! Scenario descriptions and their rendering as OpenMetrics text for
//! `promtool tsdb create-blocks-from openmetrics`.
//!
//! Owns: the series kinds a test can describe (counters with piecewise rates,
//! histograms, gauges, `ALERTS`), counter resets, scrape gaps, validation, and
//! the exact sample values. Every sample is computed afresh from the step
//! functions (rate × elapsed seconds, summed per step), never accumulated
//! sample by sample, so values carry no rounding drift and a test can state
//! the answer of a query exactly.
//!
//! Must not: do I/O, start processes or know about HTTP. This file is pure.
//!
//! Conventions: times are unix seconds; intervals are half-open `[from, to)`;
//! samples are taken at `start + k × scrape_interval` for every `k` with the
//! time `<= end` (the end is included, so a query at `end` sees a sample).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

/// Label names to values of one series or one query result.
pub type Labels = BTreeMap<String, String>;

/// 2026-01-01T00:00:00Z: a fixed past instant to anchor scenarios on.
pub const JAN_1_2026: i64 = 1_767_225_600;

/// A value that is constant between change points: `initial` before the first
/// change, then each change's value from its time on (until the next change).
#[derive(Clone, Debug, PartialEq)]
pub struct Steps<T = f64> {
    initial: T,
    changes: Vec<(i64, T)>,
}

impl<T: Clone> Steps<T> {
    /// A constant `initial`, until changed with [`Steps::at`].
    pub fn new(initial: T) -> Self {
        Self {
            initial,
            changes: Vec::new(),
        }
    }

    /// From `at` (unix seconds) on, the value is `value`. Change times must
    /// be strictly increasing (checked when the scenario is rendered).
    pub fn at(mut self, at: i64, value: T) -> Self {
        self.changes.push((at, value));
        self
    }

    /// The value in force at `t`.
    pub fn value_at(&self, t: i64) -> &T {
        self.changes
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(&self.initial, |(_, v)| v)
    }

    /// Pointwise combination of two step functions (change points merged).
    pub fn zip<U: Clone, R: Clone>(&self, other: &Steps<U>, f: impl Fn(&T, &U) -> R) -> Steps<R> {
        let times: BTreeSet<i64> = self
            .changes
            .iter()
            .map(|(t, _)| *t)
            .chain(other.changes.iter().map(|(t, _)| *t))
            .collect();
        Steps {
            initial: f(&self.initial, &other.initial),
            changes: times
                .into_iter()
                .map(|t| (t, f(self.value_at(t), other.value_at(t))))
                .collect(),
        }
    }

    /// ∫ f(value) dt over `[from, to)`, as a sum of one product per step.
    /// Exact whenever each `f(value) × seconds` is (e.g. integral results).
    fn integral(&self, from: i64, to: i64, f: impl Fn(&T) -> f64) -> f64 {
        if to <= from {
            return 0.0;
        }
        let mut total = 0.0;
        let mut piece_start = from;
        let mut current = &self.initial;
        for (at, value) in &self.changes {
            if *at <= from {
                current = value;
                continue;
            }
            if *at >= to {
                break;
            }
            total += f(current) * (at - piece_start) as f64;
            piece_start = *at;
            current = value;
        }
        total + f(current) * (to - piece_start) as f64
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&self.initial).chain(self.changes.iter().map(|(_, v)| v))
    }

    fn is_increasing(&self) -> bool {
        self.changes.windows(2).all(|w| w[0].0 < w[1].0)
    }
}

impl<T> From<T> for Steps<T> {
    fn from(value: T) -> Self {
        Self {
            initial: value,
            changes: Vec::new(),
        }
    }
}

/// A counter (name ending in `_total`) growing at a piecewise-constant rate
/// per second, starting at 0 at the scenario start.
#[derive(Clone, Debug)]
pub struct Counter {
    name: String,
    labels: Labels,
    rate: Steps,
    resets: Vec<i64>,
    gaps: Vec<(i64, i64)>,
}

impl Counter {
    /// `name{labels}` growing by `rate` per second.
    pub fn new(name: &str, labels: &[(&str, &str)], rate: impl Into<Steps>) -> Self {
        Self {
            name: name.to_owned(),
            labels: to_labels(labels),
            rate: rate.into(),
            resets: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// The process restarts at `at`: the counter is 0 at `at` and grows from
    /// there. Increments between the last sample before `at` and `at` are
    /// lost, as with a real crash.
    pub fn reset_at(mut self, at: i64) -> Self {
        self.resets.push(at);
        self
    }

    /// No samples of this series during `[from, to)`; the counter keeps
    /// counting meanwhile (a failed scrape, not a pause).
    pub fn gap(mut self, from: i64, to: i64) -> Self {
        self.gaps.push((from, to));
        self
    }
}

/// A gauge with a piecewise-constant value.
#[derive(Clone, Debug)]
pub struct Gauge {
    name: String,
    labels: Labels,
    value: Steps,
    during: Vec<(i64, i64)>,
    gaps: Vec<(i64, i64)>,
}

impl Gauge {
    /// `name{labels}` with `value` over time.
    pub fn new(name: &str, labels: &[(&str, &str)], value: impl Into<Steps>) -> Self {
        Self {
            name: name.to_owned(),
            labels: to_labels(labels),
            value: value.into(),
            during: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Present only during `[from, to)` (and other `during` intervals);
    /// without any, present over the whole scenario.
    pub fn during(mut self, from: i64, to: i64) -> Self {
        self.during.push((from, to));
        self
    }

    /// No samples during `[from, to)`.
    pub fn gap(mut self, from: i64, to: i64) -> Self {
        self.gaps.push((from, to));
        self
    }
}

/// What a histogram observes while one step is in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Observations {
    /// Observations (requests) per second.
    pub per_second: f64,
    /// For each bucket bound, in the histogram's bound order, the fraction of
    /// observations at or below it (non-decreasing, within `[0, 1]`).
    pub at_or_below: Vec<f64>,
    /// Mean observed value: `_sum` grows by `per_second × mean` per second.
    pub mean: f64,
}

/// A classic histogram: `name_bucket{le=...}` for each bound and `+Inf`,
/// `name_count` and `name_sum`, all starting at 0.
#[derive(Clone, Debug)]
pub struct Histogram {
    name: String,
    labels: Labels,
    bounds: Vec<f64>,
    observations: Steps<Observations>,
    resets: Vec<i64>,
    gaps: Vec<(i64, i64)>,
}

impl Histogram {
    /// `name` with finite, strictly increasing bucket `bounds` (`+Inf` is
    /// added). The `le` label is written like Prometheus's text format
    /// writes it: `0.3`, `1` (not `1.0`), `+Inf`.
    pub fn new(
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        observations: impl Into<Steps<Observations>>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            labels: to_labels(labels),
            bounds: bounds.to_vec(),
            observations: observations.into(),
            resets: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// All series of the histogram restart from 0 at `at`.
    pub fn reset_at(mut self, at: i64) -> Self {
        self.resets.push(at);
        self
    }

    /// No samples during `[from, to)`.
    pub fn gap(mut self, from: i64, to: i64) -> Self {
        self.gaps.push((from, to));
        self
    }
}

/// Why a scenario cannot be rendered.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScenarioError {
    #[error(
        "scenario time range is empty or invalid: start {start}, end {end}, scrape interval {interval}s"
    )]
    TimeRange { start: i64, end: i64, interval: i64 },
    #[error("scenario gap [{from}, {to}) is empty or reversed")]
    Gap { from: i64, to: i64 },
    #[error("series {series}: {reason}")]
    InvalidSeries { series: String, reason: String },
    #[error("series {0} is described twice")]
    DuplicateSeries(String),
}

/// The OpenMetrics text of a scenario, with what promtool should import.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenMetrics {
    /// The text, ending with `# EOF\n`.
    pub text: String,
    /// Series with at least one sample.
    pub series: usize,
    /// Samples over all series.
    pub samples: usize,
}

/// History to backfill: a time range, a scrape interval and series.
#[derive(Clone, Debug)]
pub struct Scenario {
    start: i64,
    end: i64,
    interval: i64,
    counters: Vec<Counter>,
    gauges: Vec<Gauge>,
    histograms: Vec<Histogram>,
    gaps: Vec<(i64, i64)>,
}

impl Scenario {
    /// Samples from `start` to `end` (both unix seconds, `end` included),
    /// every 15 seconds unless [`Scenario::scrape_interval`] says otherwise.
    pub fn new(start: i64, end: i64) -> Self {
        Self {
            start,
            end,
            interval: 15,
            counters: Vec::new(),
            gauges: Vec::new(),
            histograms: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Seconds between samples.
    pub fn scrape_interval(mut self, seconds: i64) -> Self {
        self.interval = seconds;
        self
    }

    /// The first sample time.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The last time covered (a sample falls on it when it is on the grid).
    pub fn end(&self) -> i64 {
        self.end
    }

    /// Adds a counter.
    pub fn counter(mut self, counter: Counter) -> Self {
        self.counters.push(counter);
        self
    }

    /// Adds a gauge.
    pub fn gauge(mut self, gauge: Gauge) -> Self {
        self.gauges.push(gauge);
        self
    }

    /// Adds a histogram.
    pub fn histogram(mut self, histogram: Histogram) -> Self {
        self.histograms.push(histogram);
        self
    }

    /// `service` serving `rps` requests per second, a fraction `error_ratio`
    /// of them failing: `http_requests_total{service, code="200"}` grows at
    /// `rps × (1 − error_ratio)` and `{code="500"}` at `rps × error_ratio`.
    /// Both series exist from the start (the 5xx one at 0 while no errors).
    pub fn traffic(
        self,
        service: &str,
        rps: impl Into<Steps>,
        error_ratio: impl Into<Steps>,
    ) -> Self {
        let (rps, ratio) = (rps.into(), error_ratio.into());
        let ok = rps.zip(&ratio, |r, e| r * (1.0 - e));
        let failed = rps.zip(&ratio, |r, e| r * e);
        self.counter(Counter::new(
            "http_requests_total",
            &[("service", service), ("code", "200")],
            ok,
        ))
        .counter(Counter::new(
            "http_requests_total",
            &[("service", service), ("code", "500")],
            failed,
        ))
    }

    /// `ALERTS{alertname, alertstate="firing", labels…} = 1` during each
    /// firing interval `[from, to)`, absent otherwise. Backfilled data has no
    /// staleness markers, so instant queries still see the last sample for
    /// up to the lookback delta (5m) after an interval ends; its start is exact.
    pub fn alert(self, alertname: &str, labels: &[(&str, &str)], firing: &[(i64, i64)]) -> Self {
        let mut all = vec![("alertname", alertname), ("alertstate", "firing")];
        all.extend_from_slice(labels);
        let gauge = firing
            .iter()
            .fold(Gauge::new("ALERTS", &all, 1.0), |g, (from, to)| {
                g.during(*from, *to)
            });
        self.gauge(gauge)
    }

    /// No samples of any series during `[from, to)` (Prometheus was down or
    /// could not scrape); counters keep counting meanwhile.
    pub fn gap(mut self, from: i64, to: i64) -> Self {
        self.gaps.push((from, to));
        self
    }

    /// The sample times: `start`, `start + interval`, … up to `end`.
    pub fn sample_times(&self) -> impl Iterator<Item = i64> + '_ {
        let step = self.interval.max(1);
        (0..)
            .map(move |k| self.start + k * step)
            .take_while(|t| *t <= self.end)
    }

    /// Validates the scenario and renders it: one `# TYPE` line per metric
    /// family, each family's series together, each series' samples in time
    /// order (promtool silently drops a sample older than the previous one
    /// of its series), timestamps in seconds, and `# EOF` at the end (which
    /// promtool requires).
    pub fn to_openmetrics(&self) -> Result<OpenMetrics, ScenarioError> {
        self.validate()?;
        // family name -> (type, rendered sample lines grouped by series)
        let mut families: BTreeMap<String, (&str, Vec<String>)> = BTreeMap::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let (mut series, mut samples) = (0, 0);
        let times: Vec<i64> = self.sample_times().collect();
        let mut add = |family: &str,
                       kind: &'static str,
                       name: String,
                       labels: &Labels,
                       points: Vec<(i64, f64)>| {
            let id = series_id(&name, labels);
            if !seen.insert(id.clone()) {
                return Err(ScenarioError::DuplicateSeries(id));
            }
            if points.is_empty() {
                return Ok(());
            }
            let entry = families
                .entry(family.to_owned())
                .or_insert((kind, Vec::new()));
            if entry.0 != kind {
                return Err(ScenarioError::InvalidSeries {
                    series: id,
                    reason: format!("metric family {family} is already a {}", entry.0),
                });
            }
            let mut text = String::new();
            for (t, v) in &points {
                let _ = writeln!(text, "{id} {} {t}", format_value(*v));
            }
            entry.1.push(text);
            series += 1;
            samples += points.len();
            Ok(())
        };

        for c in &self.counters {
            let family = c.name.strip_suffix("_total").unwrap_or(&c.name);
            let points = times
                .iter()
                .filter(|t| self.present(**t, &c.gaps, &[]))
                .map(|t| (*t, c.rate.integral(self.base(*t, &c.resets), *t, |r| *r)))
                .collect();
            add(family, "counter", c.name.clone(), &c.labels, points)?;
        }
        for g in &self.gauges {
            let points = times
                .iter()
                .filter(|t| self.present(**t, &g.gaps, &g.during))
                .map(|t| (*t, *g.value.value_at(*t)))
                .collect();
            add(&g.name, "gauge", g.name.clone(), &g.labels, points)?;
        }
        for h in &self.histograms {
            let present: Vec<i64> = times
                .iter()
                .copied()
                .filter(|t| self.present(*t, &h.gaps, &[]))
                .collect();
            let cumulative = |t: i64, f: &dyn Fn(&Observations) -> f64| {
                h.observations.integral(self.base(t, &h.resets), t, f)
            };
            let les = h
                .bounds
                .iter()
                .enumerate()
                .map(|(i, b)| (Some(i), format_value(*b)))
                .chain(std::iter::once((None, "+Inf".to_owned())));
            for (index, le) in les {
                let mut labels = h.labels.clone();
                labels.insert("le".to_owned(), le);
                let points = present
                    .iter()
                    .map(|t| {
                        let v = cumulative(*t, &|o: &Observations| match index {
                            Some(i) => o.per_second * o.at_or_below[i],
                            None => o.per_second,
                        });
                        (*t, v)
                    })
                    .collect();
                add(
                    &h.name,
                    "histogram",
                    format!("{}_bucket", h.name),
                    &labels,
                    points,
                )?;
            }
            let count = present
                .iter()
                .map(|t| (*t, cumulative(*t, &|o: &Observations| o.per_second)))
                .collect();
            add(
                &h.name,
                "histogram",
                format!("{}_count", h.name),
                &h.labels,
                count,
            )?;
            let sum = present
                .iter()
                .map(|t| {
                    (
                        *t,
                        cumulative(*t, &|o: &Observations| o.per_second * o.mean),
                    )
                })
                .collect();
            add(
                &h.name,
                "histogram",
                format!("{}_sum", h.name),
                &h.labels,
                sum,
            )?;
        }

        let mut text = String::new();
        for (family, (kind, blocks)) in &families {
            let _ = writeln!(text, "# TYPE {family} {kind}");
            for block in blocks {
                text.push_str(block);
            }
        }
        text.push_str("# EOF\n");
        Ok(OpenMetrics {
            text,
            series,
            samples,
        })
    }

    /// Whether a series is sampled at `t`.
    fn present(&self, t: i64, gaps: &[(i64, i64)], during: &[(i64, i64)]) -> bool {
        let inside = |(from, to): &(i64, i64)| *from <= t && t < *to;
        !gaps.iter().chain(&self.gaps).any(inside)
            && (during.is_empty() || during.iter().any(inside))
    }

    /// Where a cumulative series at `t` last started from 0.
    fn base(&self, t: i64, resets: &[i64]) -> i64 {
        resets
            .iter()
            .copied()
            .filter(|r| *r <= t)
            .fold(self.start, i64::max)
    }

    fn validate(&self) -> Result<(), ScenarioError> {
        if self.interval <= 0 || self.end < self.start {
            return Err(ScenarioError::TimeRange {
                start: self.start,
                end: self.end,
                interval: self.interval,
            });
        }
        if let Some((from, to)) = self.gaps.iter().find(|(f, t)| f >= t) {
            return Err(ScenarioError::Gap {
                from: *from,
                to: *to,
            });
        }
        for c in &self.counters {
            let check = SeriesCheck::new(&c.name, &c.labels);
            check.names()?;
            if !c.name.ends_with("_total") {
                return check.fail("a counter's name must end in _total (OpenMetrics)");
            }
            check.steps(&c.rate)?;
            check.rates(c.rate.values().copied())?;
            check.intervals(&c.gaps)?;
            check.resets(&c.resets, self.start, self.end)?;
        }
        for g in &self.gauges {
            let check = SeriesCheck::new(&g.name, &g.labels);
            check.names()?;
            check.steps(&g.value)?;
            check.intervals(&g.gaps)?;
            check.intervals(&g.during)?;
        }
        for h in &self.histograms {
            let check = SeriesCheck::new(&h.name, &h.labels);
            check.names()?;
            if h.labels.contains_key("le") {
                return check.fail("the le label is the histogram's own");
            }
            if !h.bounds.iter().all(|b| b.is_finite()) || !h.bounds.windows(2).all(|w| w[0] < w[1])
            {
                return check.fail("bucket bounds must be finite and strictly increasing");
            }
            check.steps(&h.observations)?;
            check.rates(h.observations.values().map(|o| o.per_second))?;
            for o in h.observations.values() {
                let fractions_ok = o.at_or_below.len() == h.bounds.len()
                    && o.at_or_below.iter().all(|f| (0.0..=1.0).contains(f))
                    && o.at_or_below.windows(2).all(|w| w[0] <= w[1]);
                if !fractions_ok {
                    return check.fail(&format!(
                        "at_or_below {:?} must give one non-decreasing fraction in [0, 1] per bound {:?}",
                        o.at_or_below, h.bounds
                    ));
                }
                if !o.mean.is_finite() {
                    return check.fail("the mean must be finite");
                }
            }
            check.intervals(&h.gaps)?;
            check.resets(&h.resets, self.start, self.end)?;
        }
        Ok(())
    }
}

/// Validation of one described series, naming it in every error.
struct SeriesCheck<'a> {
    name: &'a str,
    labels: &'a Labels,
}

impl<'a> SeriesCheck<'a> {
    fn new(name: &'a str, labels: &'a Labels) -> Self {
        Self { name, labels }
    }

    fn fail<T>(&self, reason: &str) -> Result<T, ScenarioError> {
        Err(ScenarioError::InvalidSeries {
            series: series_id(self.name, self.labels),
            reason: reason.to_owned(),
        })
    }

    fn names(&self) -> Result<(), ScenarioError> {
        if !is_name(self.name, true) {
            return self.fail("invalid metric name");
        }
        match self
            .labels
            .keys()
            .find(|k| !is_name(k, false) || k.starts_with("__"))
        {
            Some(bad) => self.fail(&format!("invalid or reserved label name {bad:?}")),
            None => Ok(()),
        }
    }

    fn steps<T: Clone>(&self, steps: &Steps<T>) -> Result<(), ScenarioError> {
        if steps.is_increasing() {
            Ok(())
        } else {
            self.fail("step change times must be strictly increasing")
        }
    }

    fn rates(&self, mut rates: impl Iterator<Item = f64>) -> Result<(), ScenarioError> {
        match rates.find(|r| !(r.is_finite() && *r >= 0.0)) {
            Some(bad) => self.fail(&format!("rate {bad} is not a finite non-negative number")),
            None => Ok(()),
        }
    }

    fn intervals(&self, intervals: &[(i64, i64)]) -> Result<(), ScenarioError> {
        match intervals.iter().find(|(from, to)| from >= to) {
            Some((from, to)) => self.fail(&format!("interval [{from}, {to}) is empty or reversed")),
            None => Ok(()),
        }
    }

    fn resets(&self, resets: &[i64], start: i64, end: i64) -> Result<(), ScenarioError> {
        match resets.iter().find(|r| **r <= start || **r > end) {
            Some(r) => self.fail(&format!("reset at {r} is outside ({start}, {end}]")),
            None => Ok(()),
        }
    }
}

fn to_labels(labels: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, without `:` for labels.
fn is_name(s: &str, colon: bool) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':');
    s.chars()
        .next()
        .is_some_and(|c| ok(c) && !c.is_ascii_digit())
        && s.chars().all(ok)
}

/// `name{k="v",…}` with OpenMetrics escaping, labels sorted.
fn series_id(name: &str, labels: &Labels) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let mut out = format!("{name}{{");
    for (i, (k, v)) in labels.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(out, "{sep}{k}=\"{}\"", Escaped(v));
    }
    out.push('}');
    out
}

struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Shortest text that parses back to the same `f64` (Rust's `Display`),
/// with OpenMetrics spellings for the non-finite values.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}
