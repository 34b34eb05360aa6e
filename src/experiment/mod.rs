//! Experiments: the window under test, query planning, and running the plan.
//!
//! Owns turning "these SLOs and indicators, this experiment window" into
//! the queries a verdict needs ([`plan`]), sending them to Prometheus with
//! bounded concurrency and turning the answers into the evaluation core's
//! inputs and a [`Report`](crate::report::Report) ([`evaluate`]), the
//! mapping from spec to evaluation parameters ([`mapping`]) and the times
//! users write ([`timeparse`]). The loop reads: plan (pure) → query (I/O)
//! → evaluate (pure, [`crate::eval`]) → report.
//!
//! Must not: render anything (that is [`crate::report`]), read the clock
//! (`now` is an argument, read once by the caller), or decide outcomes
//! itself beyond refusing to pass a report whose queries failed or whose
//! window is not complete.

pub mod chaos;
pub mod evaluate;
pub mod guard;
pub mod mapping;
pub mod plan;
pub mod runner;
pub mod timeparse;

pub use evaluate::{
    DEFAULT_CONCURRENCY, QueryFailure, QueryOutcome, ReportContext, RunOptions, build_report,
    evaluate_plan, run_plan,
};
pub use plan::{
    ExperimentWindow, Plan, PlanError, PlannedQuery, QueryTime, Resolution, plan_queries,
};
pub use timeparse::{TimeError, format_time, parse_time};
