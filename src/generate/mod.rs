//! Generation of Prometheus rules (and `promtool` rule tests) from SLO specs.
//!
//! Owns: turning a loaded [`SpecSet`] into Sloth-compatible rule files —
//! plain Prometheus rule files or prometheus-operator `PrometheusRule`s, one
//! output file per input file, in a deterministic order with a header naming
//! the source — plus `promtool test rules` files that prove each alert fires
//! when the burn-rate math says it should, and the comparison behind
//! `verdict generate rules --check`.
//!
//! Semantics (DESIGN.md, "Generation"): for Sloth input the rules are
//! semantically identical to `sloth generate` (group and rule names, windows,
//! labels, the optimized period SLI, metadata rules, page/ticket alerts with
//! factor = budget% × period / long window, default annotations). Native
//! `verdict/v1` specs add a per-SLO `period` and latency SLIs (turned into
//! `1 − bucket{le}/count`); OpenSLO and Pyrra imports generate like the rest.
//! SLOs without `alerting.name` get a derived name
//! ([`rules::derived_alert_name`]) instead of Sloth's validation error.
//!
//! Must not: do I/O (the CLI reads specs and writes files) or query
//! Prometheus. Everything here is a pure function of its inputs.

pub mod alertmanager;
pub mod dashboards;
pub mod emit;
pub mod gofmt;
pub mod output;
pub mod rule_tests;
pub mod rules;
pub mod synth;
pub mod windows;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use output::{
    Difference, FileKind, GENERATED_MARKER, GeneratedFile, OperatorMeta, OutputFormat,
    OutputOptions, compare, generate_files, generate_stream,
};
pub use rules::{Rule, RuleGroup, SloRules, slo_rules};
pub use windows::{AlertWindows, Window, WindowCatalog};

use crate::spec::PromDuration;
use crate::spec::model::DEFAULT_PERIOD;

/// The version string verdict writes into `sloth_version` and file headers.
pub const GENERATOR_VERSION: &str = concat!("verdict-", env!("CARGO_PKG_VERSION"));

/// How rules are generated (the flags of `verdict generate rules`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOptions {
    /// Period for SLOs that name none (`--period`, default 30d).
    pub default_period: PromDuration,
    /// Alert windows per period: Google's for 30d/28d plus `--windows`.
    pub windows: WindowCatalog,
    /// Labels added to every recording rule (`--extra-label`), last in the merge.
    pub extra_labels: BTreeMap<String, String>,
    /// No alerting rules (`--disable-alerts`).
    pub disable_alerts: bool,
    /// No recording rules, SLI or metadata (`--disable-recordings`); the
    /// alerts then rely on recordings generated elsewhere.
    pub disable_recordings: bool,
    /// Written as `sloth_version` of `sloth_slo_info` and in file headers.
    pub version: String,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            default_period: DEFAULT_PERIOD,
            windows: WindowCatalog::google_defaults(),
            extra_labels: BTreeMap::new(),
            disable_alerts: false,
            disable_recordings: false,
            version: GENERATOR_VERSION.to_string(),
        }
    }
}

/// Why rules could not be generated. Each names the file and field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// An SLO cannot be turned into valid rules.
    #[error("{}:{line}:{column}: {field}{}{message}", .file.display(), if .field.is_empty() { "" } else { ": " })]
    Slo {
        file: PathBuf,
        line: u32,
        column: u32,
        /// Field path such as `slos[0].sli.events.error_query` or `slos[1].period`.
        field: String,
        message: String,
    },
    /// Two input files would be written to the same output file.
    #[error("{}: both {} and {} would be generated into this file; rename one of them", .path.display(), .first.display(), .second.display())]
    OutputClash {
        path: PathBuf,
        first: PathBuf,
        second: PathBuf,
    },
    /// A flag combination that cannot work.
    #[error("{0}")]
    Options(String),
}

/// Every error found while generating; never empty.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct GenerateErrors(pub Vec<GenerateError>);

impl std::fmt::Display for GenerateErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// Architecture invariant: generation is pure (DESIGN.md module map).
    #[test]
    fn the_generator_does_no_io() {
        let sources = [
            ("emit.rs", include_str!("emit.rs")),
            ("gofmt.rs", include_str!("gofmt.rs")),
            ("output.rs", include_str!("output.rs")),
            ("rule_tests.rs", include_str!("rule_tests.rs")),
            ("rules.rs", include_str!("rules.rs")),
            ("synth.rs", include_str!("synth.rs")),
            ("windows.rs", include_str!("windows.rs")),
        ];
        let forbidden: Vec<String> = ["fs", "net", "process", "env"]
            .iter()
            .map(|m| format!("std::{m}"))
            .chain(["tokio", "reqwest", "sqlx"].map(String::from))
            .collect();
        for (file, text) in sources {
            for f in &forbidden {
                assert!(!text.contains(f.as_str()), "src/generate/{file} uses {f}");
            }
        }
    }
}
