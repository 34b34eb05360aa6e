//! `verdict run`: a chaos step in CI with a verdict at the end.
//!
//! Checks the baseline has data, runs the chaos command (its runtime is the
//! fault window) with the guardrails checked beside it, stops the command's
//! whole process group on a breach or Ctrl-C, observes recovery, and then
//! evaluates exactly as `verdict evaluate` does, with the same outputs and
//! exit codes. A failing, aborted or interrupted chaos command makes the
//! run fail, and the reports say why.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::evaluate::{self, Environment, EvaluateArgs, OutputArgs, PrometheusArgs};
use super::exit;
use crate::eval::{Check, Outcome};
use crate::experiment::runner::{check_baseline, run_chaos, unix_now};
use crate::spec::{self, PromDuration};

/// Run a chaos command and judge the SLOs around it.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  verdict run --slos slos --prometheus http://prometheus:9090 --observe 5m \\\n    --junit verdict.xml -- ./chaos/pod-killer.sh checkout\n\n\
The fault window is the command's runtime. Exit codes as `verdict evaluate`: 0 pass or warn,\n\
1 fail (also when the command fails or is aborted), 2 invalid input, 3 inconclusive."
)]
pub struct RunArgs {
    /// SLO spec files or directories (repeatable).
    #[arg(long = "slos", value_name = "PATH", default_value = "slos")]
    pub slos: Vec<PathBuf>,
    #[command(flatten)]
    pub prom: PrometheusArgs,
    /// Baseline before the command starts; it must already have data.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub baseline: String,
    /// How long recovery is observed after the command ends.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub observe: String,
    /// How often the guardrails are checked while the command runs.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub guard_interval: String,
    /// Only SLOs and indicators of this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Only this SLO id (repeatable).
    #[arg(long = "slo", value_name = "ID")]
    pub slo_ids: Vec<String>,
    /// Step of the range queries; make it the scrape interval.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub step: String,
    /// Rolling window of the error-ratio series; at least twice the step.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub rate_window: String,
    /// How long to wait after the observation for the last scrape to land.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub settle: String,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Register the experiment with this verdict server instead of
    /// evaluating locally: the server runs the guardrails (an abort there
    /// stops the command) and stores the verdict.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// API token (operator role) for --server.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "VERDICT_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// File holding the API token for --server.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Experiment name on the server (default: the command line).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Fault type recorded on the server.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub fault_type: String,
    /// The chaos command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

struct Invalid(String);

fn duration(flag: &str, text: &str) -> Result<Duration, Invalid> {
    PromDuration::parse(text)
        .map(|d| d.as_std())
        .map_err(|e| Invalid(format!("{flag}: {e}")))
}

pub fn run(args: &RunArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let env = Environment::from_process();
    match run_inner(args, &env, &mut stdout.lock(), &mut stderr.lock()) {
        Ok(code) => code,
        Err(Invalid(message)) => {
            let _ = writeln!(std::io::stderr(), "verdict run: {message}");
            exit::INVALID
        }
    }
}

fn run_inner(
    args: &RunArgs,
    env: &Environment,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, Invalid> {
    if let Some(server) = &args.server {
        return super::run_server::run_on_server(args, server, out, err).map_err(Invalid);
    }
    let baseline = duration("--baseline", &args.baseline)?;
    let observe = duration("--observe", &args.observe)?;
    let guard_interval = duration("--guard-interval", &args.guard_interval)?;
    let settle = duration("--settle", &args.settle)?;
    if guard_interval.is_zero() {
        return Err(Invalid("--guard-interval must be longer than zero".into()));
    }
    let set = spec::load_paths(&args.slos).map_err(|errors| {
        let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        Invalid(format!(
            "{}\n{} error(s) in the SLO specs",
            lines.join("\n"),
            lines.len()
        ))
    })?;
    let slos: Vec<spec::Slo> = set
        .slos()
        .filter(|s| args.services.is_empty() || args.services.contains(&s.service))
        .filter(|s| args.slo_ids.is_empty() || args.slo_ids.contains(&s.id))
        .cloned()
        .collect();
    if slos.is_empty() {
        return Err(Invalid(
            "no SLO selected: check --slos, --service and --slo".into(),
        ));
    }
    let client = args.prom.client().map_err(Invalid)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Invalid(format!("starting the async runtime: {e}")))?;
    let (program, program_args) = args
        .command
        .split_first()
        .ok_or_else(|| Invalid("give the chaos command after `--`".into()))?;
    let command_line = args.command.join(" ");
    let tty = env.stderr_tty;

    // 1. The baseline must have data, or the verdict could only be inconclusive.
    let problems = runtime.block_on(check_baseline(
        &client,
        &slos,
        baseline.as_secs_f64(),
        unix_now(),
    ));
    if !problems.is_empty() {
        let _ = writeln!(
            err,
            "verdict run: the baseline has no usable data, so the command was not run:"
        );
        for p in &problems {
            let _ = writeln!(err, "  {p}");
        }
        return Ok(exit::INCONCLUSIVE);
    }

    // 2. The fault: the command's runtime, guarded.
    let _ = writeln!(
        err,
        "verdict run: running `{command_line}` (guardrails every {})",
        args.guard_interval
    );
    let chaos = runtime
        .block_on(run_chaos(
            &client,
            &slos,
            program,
            program_args,
            guard_interval,
            |elapsed| {
                if tty {
                    let mut e = std::io::stderr();
                    let _ = write!(e, "\rfault running for {elapsed:.0}s, guardrails ok");
                    let _ = e.flush();
                }
            },
        ))
        .map_err(|e| Invalid(e.to_string()))?;
    if tty {
        let _ = write!(err, "\r\x1b[2K");
    }
    let failure = chaos.failure(&command_line);
    match &failure {
        Some(f) => {
            let _ = writeln!(err, "verdict run: {f}");
        }
        None => {
            let _ = writeln!(
                err,
                "verdict run: `{command_line}` finished after {:.0}s",
                chaos.fault_end - chaos.fault_start
            );
        }
    }
    for u in &chaos.unchecked {
        let _ = writeln!(err, "verdict run: guardrail not checked: {u}");
    }

    // 3. Recovery observation, then evaluation over the whole window.
    let to = chaos.fault_end + observe.as_secs_f64();
    let _ = writeln!(err, "verdict run: observing recovery for {}", args.observe);
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + observe + settle;
        while tokio::time::Instant::now() < deadline {
            if tty {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let mut e = std::io::stderr();
                let _ = write!(e, "\rwaiting for recovery: {}s left ", left.as_secs());
                let _ = e.flush();
            }
            tokio::time::sleep(Duration::from_secs(1).min(deadline - tokio::time::Instant::now()))
                .await;
        }
    });
    if tty {
        let _ = write!(err, "\r\x1b[2K");
    }
    drop(runtime);

    let evaluate_args = EvaluateArgs {
        slos: args.slos.clone(),
        prom: args.prom.clone(),
        from: format!("{:.3}", chaos.fault_start),
        to: format!("{to:.3}"),
        fault_start: Some(format!("{:.3}", chaos.fault_start)),
        fault_end: Some(format!("{:.3}", chaos.fault_end)),
        baseline: Some(args.baseline.clone()),
        services: args.services.clone(),
        slo_ids: args.slo_ids.clone(),
        step: args.step.clone(),
        rate_window: args.rate_window.clone(),
        outputs: args.outputs.clone(),
        concurrency: crate::experiment::DEFAULT_CONCURRENCY,
    };
    let chaos_check = Check {
        name: "chaos_command".to_owned(),
        outcome: if failure.is_some() {
            Outcome::Fail
        } else {
            Outcome::Pass
        },
        reason: failure,
        measured: chaos.status.code().map(f64::from),
        threshold: Some("exit status 0, no guardrail breach".to_owned()),
    };
    let mut env = env.clone();
    env.now = unix_now();
    Ok(evaluate::run_with_checks(
        "verdict run",
        &evaluate_args,
        &env,
        vec![chaos_check],
        out,
        err,
    ))
}
