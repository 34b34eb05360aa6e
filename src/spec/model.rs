//! The one internal model every spec format is read into.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::duration::PromDuration;
use super::yaml::Loc;

/// The default SLO period when a spec names none (Sloth's default too).
pub const DEFAULT_PERIOD: PromDuration = PromDuration::from_secs(30 * 24 * 3600);

/// Which file format a service came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecFormat {
    /// Sloth `version: prometheus/v1`.
    Sloth,
    /// Sloth's Kubernetes CRD `sloth.slok.dev/v1` `PrometheusServiceLevel`.
    SlothK8s,
    /// verdict's own `version: verdict/v1`, a superset of Sloth's.
    Native,
    /// OpenSLO `openslo/v1`.
    OpenSloV1,
    /// OpenSLO `openslo/v1alpha` (the subset Sloth reads).
    OpenSloV1Alpha,
    /// Pyrra `pyrra.dev/v1alpha1` `ServiceLevelObjective`.
    Pyrra,
}

impl SpecFormat {
    pub fn name(&self) -> &'static str {
        match self {
            SpecFormat::Sloth => "sloth prometheus/v1",
            SpecFormat::SlothK8s => "sloth.slok.dev/v1 PrometheusServiceLevel",
            SpecFormat::Native => "verdict/v1",
            SpecFormat::OpenSloV1 => "openslo/v1",
            SpecFormat::OpenSloV1Alpha => "openslo/v1alpha",
            SpecFormat::Pyrra => "pyrra.dev/v1alpha1",
        }
    }
}

/// Where something was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    /// Field path of the definition (e.g. `slos[1].name`), may be empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
}

impl Source {
    pub fn new(file: &std::path::Path, loc: Loc) -> Self {
        Source {
            file: file.to_path_buf(),
            line: loc.line,
            column: loc.column,
            path: String::new(),
        }
    }
    /// A source that also names the field path of the definition.
    pub fn at(file: &std::path::Path, loc: Loc, path: &super::error::FieldPath) -> Self {
        Source {
            path: path.to_string(),
            ..Source::new(file, loc)
        }
    }
    pub fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            column: self.column,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Kubernetes object metadata for CRD-style inputs (used to name a
/// `PrometheusRule` like Sloth does).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct K8sMeta {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A service and its SLOs, as one spec document describes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub format: SpecFormat,
    pub source: Source,
    /// Labels added to every SLO of the service.
    pub labels: BTreeMap<String, String>,
    pub slos: Vec<Slo>,
    /// Extra signals correlated with an experiment (native format only).
    pub indicators: Vec<Indicator>,
    pub k8s: Option<K8sMeta>,
}

/// One service level objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    /// `<service>-<name>`, unique across everything loaded.
    pub id: String,
    pub service: String,
    pub name: String,
    /// Objective in percent, in (0, 100): 99.9 means 99.9 %.
    pub objective: f64,
    pub description: String,
    /// SLO labels (without the service labels; see `all_labels`).
    pub labels: BTreeMap<String, String>,
    /// The SLO period; `None` means the generator's default (30d unless overridden).
    pub period: Option<PromDuration>,
    pub sli: Sli,
    pub alerting: Alerting,
    pub verdict: VerdictSpec,
    pub source: Source,
}

impl Slo {
    /// The objective as a ratio (0.999 for 99.9).
    pub fn objective_ratio(&self) -> f64 {
        self.objective / 100.0
    }
    /// The error budget `B = 1 − o` as a ratio.
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective_ratio()
    }
    /// The period, falling back to the default.
    pub fn period_or(&self, default: PromDuration) -> PromDuration {
        self.period.unwrap_or(default)
    }
}

/// How the error ratio is measured. Queries keep the `{{.window}}` placeholder.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sli {
    /// error_query / total_query.
    Events {
        error_query: String,
        total_query: String,
    },
    /// 1 − good_query / total_query (OpenSLO good ratios, Pyrra latency).
    GoodTotal {
        good_query: String,
        total_query: String,
    },
    /// A query that returns the error ratio directly.
    Raw { error_ratio_query: String },
    /// Requests slower than `threshold` seconds are errors, from a classic
    /// histogram: `1 − bucket{le=threshold} / count`.
    Latency {
        histogram: String,
        selector: String,
        threshold: f64,
    },
}

/// The placeholder spec queries use for the range of a rate.
pub const WINDOW_PLACEHOLDER: &str = "{{.window}}";

impl Sli {
    /// The error-ratio expression with `{{.window}}` still in place.
    pub fn error_ratio_template(&self) -> String {
        match self {
            Sli::Events {
                error_query,
                total_query,
            } => format!("({})\n/\n({})", error_query.trim(), total_query.trim()),
            Sli::GoodTotal {
                good_query,
                total_query,
            } => format!(
                "1 - (\n({})\n/\n({})\n)",
                good_query.trim(),
                total_query.trim()
            ),
            Sli::Raw { error_ratio_query } => error_ratio_query.trim().to_string(),
            Sli::Latency { .. } => {
                let (good, total) = self.latency_queries().unwrap_or_default();
                format!("1 - (\n({good})\n/\n({total})\n)")
            }
        }
    }

    /// For latency SLIs, the (good, total) queries over the histogram.
    pub fn latency_queries(&self) -> Option<(String, String)> {
        let Sli::Latency {
            histogram,
            selector,
            threshold,
        } = self
        else {
            return None;
        };
        let inner = selector
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim();
        let le = format_le(*threshold);
        let bucket_sel = if inner.is_empty() {
            format!("{{le=\"{le}\"}}")
        } else {
            format!("{{{inner},le=\"{le}\"}}")
        };
        let count_sel = if inner.is_empty() {
            String::new()
        } else {
            format!("{{{inner}}}")
        };
        Some((
            format!("sum(rate({histogram}_bucket{bucket_sel}[{WINDOW_PLACEHOLDER}]))"),
            format!("sum(rate({histogram}_count{count_sel}[{WINDOW_PLACEHOLDER}]))"),
        ))
    }

    /// The queries of this SLI that must render to valid PromQL, by field name.
    pub fn queries(&self) -> Vec<(&'static str, String)> {
        match self {
            Sli::Events {
                error_query,
                total_query,
            } => vec![
                ("error_query", error_query.clone()),
                ("total_query", total_query.clone()),
            ],
            Sli::GoodTotal {
                good_query,
                total_query,
            } => vec![
                ("good_query", good_query.clone()),
                ("total_query", total_query.clone()),
            ],
            Sli::Raw { error_ratio_query } => {
                vec![("error_ratio_query", error_ratio_query.clone())]
            }
            Sli::Latency { .. } => {
                let (good, total) = self.latency_queries().unwrap_or_default();
                vec![("good_query", good), ("total_query", total)]
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Sli::Events { .. } => "events",
            Sli::GoodTotal { .. } => "good/total",
            Sli::Raw { .. } => "raw",
            Sli::Latency { .. } => "latency",
        }
    }
}

/// Formats a histogram bound the way Prometheus client libraries write `le`.
pub fn format_le(x: f64) -> String {
    if x.is_infinite() {
        "+Inf".to_string()
    } else {
        format!("{x}")
    }
}

/// Alerting options (Sloth's `alerting:` block).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Alerting {
    /// Alert name; generated from the SLO when absent.
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub page: AlertSpec,
    pub ticket: AlertSpec,
}

/// Options for one severity of the multi-window multi-burn-rate alerts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertSpec {
    pub disable: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// What to do when a query returns no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnNoData {
    #[default]
    Inconclusive,
    Fail,
    Pass,
}

/// The `verdict:` block: how an experiment is judged against this SLO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictSpec {
    /// Fail above this fraction of the period's budget (warn above half). Default 0.05.
    pub max_budget_consumed: f64,
    pub max_time_to_recover: Option<PromDuration>,
    pub max_peak_burn_rate: Option<f64>,
    pub expect_alerts: Vec<String>,
    pub max_time_to_detect: Option<PromDuration>,
    /// Fewer total events in the fault window → inconclusive. Default 100.
    pub min_events: u64,
    pub on_no_data: OnNoData,
    /// Healthy ⇔ short-window error ratio ≤ budget × this. Default 1.0.
    pub recovery_threshold: f64,
    /// A recovery counts once healthy for this long. Default 1m.
    pub stable_for: PromDuration,
    /// Guardrail: abort a running experiment above this 5m burn rate. Default 14.4.
    pub abort_burn_rate: f64,
}

impl Default for VerdictSpec {
    fn default() -> Self {
        VerdictSpec {
            max_budget_consumed: 0.05,
            max_time_to_recover: None,
            max_peak_burn_rate: None,
            expect_alerts: Vec::new(),
            max_time_to_detect: None,
            min_events: 100,
            on_no_data: OnNoData::Inconclusive,
            recovery_threshold: 1.0,
            stable_for: PromDuration::from_secs(60),
            abort_burn_rate: 14.4,
        }
    }
}

/// An extra signal (latency quantile, restarts, CPU) judged with Keptn-style
/// criteria against the experiment's baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub name: String,
    pub query: String,
    pub description: String,
    /// OR across lists, AND within a list.
    pub pass: Vec<Vec<String>>,
    pub warning: Vec<Vec<String>>,
    pub source: Source,
}
