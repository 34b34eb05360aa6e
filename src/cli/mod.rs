//! Command-line interface: clap commands, exit codes, output. Business rules
//! live in the library modules; this only wires them to a terminal.

pub mod check;
pub mod demo;
pub mod evaluate;
pub mod generate;
pub mod report;
pub mod routes;
pub mod run;
pub mod run_server;
pub mod serve;
pub mod token;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes shared by every command.
pub mod exit {
    /// Pass (or warn without `--fail-on-warn`); or the command succeeded.
    pub const OK: i32 = 0;
    /// A verdict failed, or `--check` found a difference.
    pub const FAIL: i32 = 1;
    /// Usage error or invalid input (specs, flags).
    pub const INVALID: i32 = 2;
    /// The verdict is inconclusive.
    pub const INCONCLUSIVE: i32 = 3;
}

/// verdict turns Prometheus metrics into reliability verdicts: did a chaos
/// experiment stay inside its SLOs, how much error budget did it cost, how
/// fast did the service recover, did the alerts fire?
#[derive(Debug, Parser)]
#[command(name = "verdict", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 pass (or success), 1 fail, 2 invalid input or usage, 3 inconclusive.\n\
Docs: README.md and docs/ in the repository."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate SLO spec files (Sloth, verdict/v1, OpenSLO, Pyrra) and print what they define.
    ///
    /// Every error is reported with file:line:column and the field path
    /// (e.g. `slos[2].sli.events.error_query`). Exit code 0 when all files
    /// are valid, 2 otherwise.
    Check(check::CheckArgs),
    /// Generate Prometheus rules (and promtool rule tests) from SLO specs.
    ///
    /// `verdict generate rules --slos slos --out rules [--with-tests] [--check]`:
    /// Sloth-compatible recording rules and multi-window multi-burn-rate
    /// alerts, as plain rule files or PrometheusRule objects. Exit code 0 ok,
    /// 1 when `--check` finds the files out of date, 2 on invalid input.
    Generate(generate::GenerateArgs),
    /// Test notification routing: which receivers a label set reaches.
    Routes(routes::RoutesArgs),
    /// Judge an experiment window against SLOs, from Prometheus.
    ///
    /// Queries every SLO's error ratio, events, short-window error-ratio
    /// series and expected alerts, and every indicator, at fixed times; prints
    /// the verdict, budget consumed, time to recover and detect. Exit code 0
    /// pass (or warn), 1 fail, 2 invalid input, 3 inconclusive.
    Evaluate(Box<evaluate::EvaluateArgs>),
    /// Run a chaos command with guardrails and judge the SLOs around it (for CI).
    ///
    /// `verdict run --slos slos --prometheus URL --observe 5m -- ./chaos/pod-killer.sh`:
    /// checks the baseline has data, runs the command (its runtime is the
    /// fault), kills its process group on a guardrail breach, observes
    /// recovery and evaluates like `verdict evaluate`.
    Run(Box<run::RunArgs>),
    /// Fetch an experiment's report from a verdict server, or re-render a stored JSON report.
    ///
    /// `verdict report ID --server URL [--format html|markdown|json|junit] [--output FILE]`
    /// with a viewer token from --token, --token-file or VERDICT_TOKEN; or
    /// `verdict report --input verdict.json --format html -o report.html`,
    /// offline. Exit code 0 pass (or warn), 1 fail, 3 inconclusive, 2 usage,
    /// file or HTTP error.
    Report(Box<report::ReportArgs>),
    /// Run the whole story on this machine: a demo shop, Prometheus, Alertmanager, verdict, a chaos experiment.
    ///
    /// Starts a shop of three services (two pods each, balancers, steady
    /// load), a real Prometheus with the rules generated from slos/, a real
    /// Alertmanager and verdict's server; registers an experiment through the
    /// API, injects a fault, prints progress and the verdict, and writes the
    /// reports to ./verdict-demo/. About three minutes (`--quick`: 1.5).
    Demo(Box<demo::DemoArgs>),
    /// Run the HTTP API and the experiment scheduler (SQLite by default, Postgres for several replicas).
    Serve(serve::ServeArgs),
    /// Create, list and revoke API tokens (stored hashed).
    Token(token::TokenArgs),
}

/// Default location of SLO specs.
pub fn default_slos_dir() -> PathBuf {
    PathBuf::from("slos")
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Routes(args) => routes::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Token(args) => token::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
