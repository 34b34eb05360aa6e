//! The evaluation core: pure functions from series to numbers and outcomes.
//!
//! Owns the design's "Definitions" and "Verdict policy": SLI, error budget,
//! burn rate and budget consumed per window ([`window`]), impact and time to
//! recover ([`recovery`]), time to detect and the predicted page alert
//! ([`detection`]), baseline comparison ([`stats`]), Keptn-style criteria
//! ([`criteria`], [`indicator`]) and the checks and verdict ([`policy`]),
//! combined per SLO by [`slo::evaluate_slo`].
//!
//! Architecture invariant: this module does no I/O. No tokio, reqwest, sqlx,
//! tera, files, network, environment or clock reads: times are arguments
//! (unix seconds as `f64`), series are `&[(f64, f64)]` sorted by time, and
//! data conditions (no series, NaN, partial data, too few samples) are
//! values ([`measure::Measure`]), never errors. Errors ([`EvalError`]) are
//! reserved for invalid parameters, which validated constructors reject.

pub mod criteria;
pub mod detection;
pub mod human;
pub mod indicator;
pub mod measure;
pub mod policy;
pub mod recovery;
pub mod series;
pub mod slo;
pub mod stats;
pub mod timeline;
pub mod window;

pub use criteria::{Criteria, Criterion, CriterionError, parse_criterion};
pub use measure::Measure;
pub use policy::{Check, NoDataPolicy, Outcome, Policy, worst_of};
pub use slo::{SloEvaluation, SloInput, evaluate_slo};

/// An evaluation parameter outside its domain (a configuration mistake, not
/// a data condition).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The objective is not a fraction strictly between 0 and 1.
    #[error("objective {value} is not a fraction strictly between 0 and 1 (write 0.999 for 99.9%)")]
    Objective {
        /// The rejected objective.
        value: f64,
    },
    /// The SLO period is not a positive duration.
    #[error("SLO period {seconds}s is not a positive number of seconds")]
    Period {
        /// The rejected period.
        seconds: f64,
    },
    /// The experiment's instants are not in order.
    #[error("invalid experiment timeline: {reason}")]
    Timeline {
        /// Which instants are out of order.
        reason: String,
    },
    /// Another parameter is outside its domain.
    #[error("{name} = {value} is invalid: expected {expected}")]
    Parameter {
        /// The parameter's name as written in specs and policies.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What would have been accepted.
        expected: &'static str,
    },
}

#[cfg(test)]
mod tests {
    /// Every file of this module, read at compile time (no I/O at run time).
    const SOURCES: [(&str, &str); 13] = [
        ("mod.rs", include_str!("mod.rs")),
        ("criteria.rs", include_str!("criteria.rs")),
        ("detection.rs", include_str!("detection.rs")),
        ("human.rs", include_str!("human.rs")),
        ("indicator.rs", include_str!("indicator.rs")),
        ("measure.rs", include_str!("measure.rs")),
        ("policy.rs", include_str!("policy.rs")),
        ("recovery.rs", include_str!("recovery.rs")),
        ("series.rs", include_str!("series.rs")),
        ("slo.rs", include_str!("slo.rs")),
        ("stats.rs", include_str!("stats.rs")),
        ("timeline.rs", include_str!("timeline.rs")),
        ("window.rs", include_str!("window.rs")),
    ];

    #[test]
    fn the_evaluation_core_does_no_io_and_reads_no_clock() {
        let forbidden = [
            "tokio::",
            "reqwest::",
            "sqlx::",
            "tera::",
            "plotters::",
            "lettre::",
            "std::fs",
            "std::net",
            "std::env",
            "std::io",
            "std::process",
            "std::thread",
            "SystemTime",
            "Instant::",
            "::now(",
            "println!",
            "print!(",
            "eprint",
            "File::",
            "dbg!",
        ];
        for (file, text) in SOURCES {
            // Only the code: the test sections may name what they forbid.
            let code = text.split("#[cfg(test)]").next().unwrap_or(text);
            for pattern in forbidden {
                assert!(
                    !code.contains(pattern),
                    "src/eval/{file} uses {pattern}: the evaluation core must stay pure"
                );
            }
        }
    }
}
