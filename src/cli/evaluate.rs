//! `verdict evaluate`: judge an experiment window against SLOs from Prometheus.
//!
//! Wires the library's loop to a terminal: load specs → plan queries →
//! query Prometheus (bounded concurrency, progress on a TTY) → evaluate →
//! render (text, JSON, Markdown, JUnit, HTML) → exit code. Reads the clock once
//! (`now`) for `now-15m` and for "is the window complete". Business rules
//! live in `experiment`, `eval` and `report`.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::exit;
use crate::eval::policy::Outcome;
use crate::experiment::evaluate::ProgressFn;
use crate::experiment::{
    DEFAULT_CONCURRENCY, ExperimentWindow, Resolution, RunOptions, evaluate_plan, parse_time,
    plan_queries,
};
use crate::prom::{PromAuth, PromClient, PromConfig};
use crate::report::templates::Templates;
use crate::report::{self, Report, ReportExtras};
use crate::spec::{self, Indicator, PromDuration, Slo};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for terminals (colour on a TTY unless NO_COLOR is set).
    Text,
    /// The stable JSON report documented in docs/evaluation.md.
    Json,
    /// A Markdown summary for pull requests and CI step summaries.
    Markdown,
    /// JUnit XML: one testsuite per service, one testcase per check.
    Junit,
    /// A standalone HTML page with inline charts (no external assets).
    Html,
}

/// `NAME=VALUE` for an extra HTTP header. Its value never appears in
/// `Debug` output (it may be a credential).
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderArg {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl fmt::Debug for HeaderArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=<redacted>", self.name)
    }
}

fn parse_header(text: &str) -> Result<HeaderArg, String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok(HeaderArg {
            name: name.trim().to_owned(),
            value: value.to_owned(),
        }),
        _ => Err("expected NAME=VALUE, e.g. X-Scope-OrgID=tenant-a".to_owned()),
    }
}

/// How to reach Prometheus: shared by `evaluate` and `run`.
#[derive(Debug, Clone, Args)]
pub struct PrometheusArgs {
    /// Prometheus base URL (or a Thanos/Mimir/Cortex query frontend).
    #[arg(long, value_name = "URL", env = "VERDICT_PROMETHEUS_URL")]
    pub prometheus: String,
    /// File holding a bearer token for Prometheus.
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Extra HTTP header for Prometheus, e.g. X-Scope-OrgID=tenant-a (repeatable).
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    pub headers: Vec<HeaderArg>,
}

impl PrometheusArgs {
    /// The client these flags describe (reads the token file).
    pub fn client(&self) -> Result<PromClient, String> {
        let auth = match &self.bearer_token_file {
            None => None,
            Some(path) => {
                let token = std::fs::read_to_string(path).map_err(|e| {
                    format!("--bearer-token-file {}: cannot read: {e}", path.display())
                })?;
                Some(PromAuth::Bearer(token.trim().to_owned()))
            }
        };
        PromClient::new(PromConfig {
            base_url: self.prometheus.clone(),
            auth,
            headers: self
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            ..PromConfig::default()
        })
        .map_err(|e| format!("--prometheus: {e}"))
    }
}

/// Where the verdict goes: shared by `evaluate` and `run`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Format written to stdout (or to --output).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the --format output to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the Markdown summary to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the HTML report (one standalone file) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Directory of templates overriding the built-in ones, by file name
    /// (summary.md.tera, report.html.tera, …; see docs/reports.md).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Exit 1 on warn (and show warnings as JUnit failures).
    #[arg(long)]
    pub fail_on_warn: bool,
}

/// Judge an experiment window against SLOs, from Prometheus.
#[derive(Debug, Args)]
#[command(
    after_help = "Times: RFC 3339 (2026-01-01T10:00:00Z), Unix seconds, or now-15m / now.\n\
Without --fault-start/--fault-end the fault window is [--from, --to]. The baseline ends at the\n\
fault start and is as long as the fault, at least 5m (or --baseline).\n\
Outputs: --format picks what goes to stdout (or --output FILE); --json, --junit, --markdown and\n\
--html write more files in one run. With $GITHUB_STEP_SUMMARY set, the Markdown summary is appended\n\
to it. --templates DIR overrides the Markdown and HTML templates (see docs/reports.md).\n\
Exit codes: 0 pass or warn (1 with --fail-on-warn), 1 fail, 2 invalid input, 3 inconclusive."
)]
pub struct EvaluateArgs {
    /// SLO spec files or directories (repeatable).
    #[arg(long = "slos", value_name = "PATH", default_value = "slos")]
    pub slos: Vec<PathBuf>,
    #[command(flatten)]
    pub prom: PrometheusArgs,
    /// Start of the experiment.
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End of the experiment: end of the recovery observation.
    #[arg(long, value_name = "TIME")]
    pub to: String,
    /// Start of the fault (default: --from).
    #[arg(long, value_name = "TIME")]
    pub fault_start: Option<String>,
    /// End of the fault (default: --to).
    #[arg(long, value_name = "TIME")]
    pub fault_end: Option<String>,
    /// Length of the baseline before the fault (default: the fault's, at least 5m).
    #[arg(long, value_name = "DURATION")]
    pub baseline: Option<String>,
    /// Only SLOs and indicators of this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Only this SLO id, e.g. checkout-availability (repeatable).
    #[arg(long = "slo", value_name = "ID")]
    pub slo_ids: Vec<String>,
    /// Step of the range queries; make it the scrape interval.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub step: String,
    /// Rolling window r of the error-ratio series E_r(t); at least twice the step.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub rate_window: String,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Queries sent to Prometheus at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(usize))]
    pub concurrency: usize,
}

/// What the command reads from its environment, passed in for tests.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `$GITHUB_STEP_SUMMARY`, when set.
    pub github_step_summary: Option<PathBuf>,
    /// `NO_COLOR` set to a non-empty value.
    pub no_color: bool,
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal (progress is shown).
    pub stderr_tty: bool,
    /// Unix seconds: the single reading of the clock.
    pub now: f64,
}

impl Environment {
    /// From the process: environment variables, terminals and the clock.
    pub fn from_process() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Environment {
            github_step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            // Whole milliseconds: what the report shows is what was used.
            now: (now * 1000.0).floor() / 1000.0,
        }
    }
}

/// Runs `verdict evaluate` in this process; returns the exit code.
pub fn run(args: &EvaluateArgs) -> i32 {
    let env = Environment::from_process();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &env, &mut stdout.lock(), &mut stderr.lock())
}

/// An invalid input, said once on stderr: exit code 2.
struct Invalid(String);

fn duration(flag: &str, text: &str) -> Result<f64, Invalid> {
    PromDuration::parse(text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| Invalid(format!("{flag}: {e}")))
}

fn time(flag: &str, text: &str, now: f64) -> Result<f64, Invalid> {
    parse_time(text, now).map_err(|e| Invalid(format!("{flag}: {e}")))
}

/// SLOs, and indicators with their service.
type Selection = (Vec<Slo>, Vec<(String, Indicator)>);

/// Selected SLOs and indicators (with their service).
fn select(
    set: &spec::SpecSet,
    services: &[String],
    slo_ids: &[String],
) -> Result<Selection, Invalid> {
    let known_services: Vec<&str> = set.services.iter().map(|s| s.name.as_str()).collect();
    for s in services {
        if !known_services.contains(&s.as_str()) {
            return Err(Invalid(format!(
                "--service {s}: no such service in the specs (known: {})",
                known_services.join(", ")
            )));
        }
    }
    for id in slo_ids {
        if !set.slos().any(|s| &s.id == id) {
            let known: Vec<&str> = set.slos().map(|s| s.id.as_str()).collect();
            return Err(Invalid(format!(
                "--slo {id}: no such SLO id in the specs (known: {})",
                known.join(", ")
            )));
        }
    }
    let service_ok = |name: &str| services.is_empty() || services.iter().any(|s| s == name);
    let slos: Vec<Slo> = set
        .slos()
        .filter(|s| service_ok(&s.service))
        .filter(|s| slo_ids.is_empty() || slo_ids.contains(&s.id))
        .cloned()
        .collect();
    // Indicators belong to services: those selected, or those of the selected SLOs.
    let indicators = set
        .services
        .iter()
        .filter(|svc| {
            if slo_ids.is_empty() {
                service_ok(&svc.name)
            } else {
                slos.iter().any(|s| s.service == svc.name)
            }
        })
        .flat_map(|svc| svc.indicators.iter().map(|i| (svc.name.clone(), i.clone())))
        .collect();
    Ok((slos, indicators))
}

fn client(args: &EvaluateArgs) -> Result<PromClient, Invalid> {
    args.prom.client().map_err(Invalid)
}

fn evaluate(args: &EvaluateArgs, env: &Environment) -> Result<Report, Invalid> {
    let now = env.now;
    let from = time("--from", &args.from, now)?;
    let to = time("--to", &args.to, now)?;
    let fault_start = args
        .fault_start
        .as_deref()
        .map(|t| time("--fault-start", t, now))
        .transpose()?;
    let fault_end = args
        .fault_end
        .as_deref()
        .map(|t| time("--fault-end", t, now))
        .transpose()?;
    let baseline = args
        .baseline
        .as_deref()
        .map(|d| duration("--baseline", d))
        .transpose()?;
    let step = duration("--step", &args.step)?;
    let rate_window = duration("--rate-window", &args.rate_window)?;
    if args.concurrency == 0 {
        return Err(Invalid("--concurrency must be at least 1".to_owned()));
    }
    let window = ExperimentWindow::new(from, to, fault_start, fault_end, baseline)
        .map_err(|e| Invalid(e.to_string()))?;
    let resolution = Resolution::new(step, rate_window).map_err(|e| Invalid(e.to_string()))?;

    let set = spec::load_paths(&args.slos).map_err(|errors| {
        let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        Invalid(format!(
            "{}\n{} error{} in the SLO specs",
            lines.join("\n"),
            lines.len(),
            if lines.len() == 1 { "" } else { "s" }
        ))
    })?;
    let (slos, indicators) = select(&set, &args.services, &args.slo_ids)?;
    let plan = plan_queries(&window, &resolution, &slos, &indicators)
        .map_err(|e| Invalid(e.to_string()))?;
    let client = client(args)?;

    let progress: Option<ProgressFn> = env.stderr_tty.then(|| {
        Arc::new(|done: usize, total: usize| {
            let mut err = std::io::stderr();
            let _ = write!(err, "\rquerying Prometheus: {done}/{total}");
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = err.flush();
        }) as ProgressFn
    });
    let options = RunOptions {
        concurrency: args.concurrency,
        now,
        progress,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Invalid(format!("starting the async runtime: {e}")))?;
    Ok(runtime.block_on(evaluate_plan(&client, &plan, &options)))
}

fn render(
    report: &Report,
    format: Format,
    colour: bool,
    fail_on_warn: bool,
    templates: &Templates,
) -> Result<String, Invalid> {
    let extras = ReportExtras::default();
    let text = match format {
        Format::Text => Ok(report::text::render_text(report, colour)),
        Format::Json => report::json::render_json(report),
        Format::Markdown => report::markdown::render_markdown_with(report, &extras, templates),
        Format::Junit => report::junit::render_junit(report, fail_on_warn),
        Format::Html => report::html::render_html_with(report, &extras, templates),
    };
    text.map_err(|e| Invalid(e.to_string()))
}

/// The built-in templates, or those of `--templates DIR` over them.
fn templates(args: &EvaluateArgs) -> Result<Templates, Invalid> {
    match &args.outputs.templates {
        None => Templates::embedded()
            .cloned()
            .map_err(|e| Invalid(e.to_string())),
        Some(dir) => Templates::load_dir(dir).map_err(|e| Invalid(format!("--templates: {e}"))),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Invalid> {
    std::fs::write(path, text).map_err(|e| Invalid(format!("cannot write {}: {e}", path.display())))
}

fn append_file(path: &Path, text: &str) -> Result<(), Invalid> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Invalid(format!(
                "cannot open $GITHUB_STEP_SUMMARY {}: {e}",
                path.display()
            ))
        })?;
    file.write_all(text.as_bytes()).map_err(|e| {
        Invalid(format!(
            "cannot write $GITHUB_STEP_SUMMARY {}: {e}",
            path.display()
        ))
    })
}

fn write_outputs(
    args: &EvaluateArgs,
    env: &Environment,
    report: &Report,
    templates: &Templates,
    out: &mut dyn Write,
) -> Result<(), Invalid> {
    let colour = args.outputs.output.is_none() && env.stdout_tty && !env.no_color;
    let main = render(
        report,
        args.outputs.format,
        colour,
        args.outputs.fail_on_warn,
        templates,
    )?;
    match &args.outputs.output {
        Some(path) => write_file(path, &main)?,
        None => out
            .write_all(main.as_bytes())
            .map_err(|e| Invalid(format!("cannot write to stdout: {e}")))?,
    }
    for (path, format) in [
        (&args.outputs.json, Format::Json),
        (&args.outputs.junit, Format::Junit),
        (&args.outputs.markdown, Format::Markdown),
        (&args.outputs.html, Format::Html),
    ] {
        if let Some(path) = path {
            write_file(
                path,
                &render(report, format, false, args.outputs.fail_on_warn, templates)?,
            )?;
        }
    }
    if let Some(path) = &env.github_step_summary {
        append_file(
            path,
            &render(
                report,
                Format::Markdown,
                false,
                args.outputs.fail_on_warn,
                templates,
            )?,
        )?;
    }
    Ok(())
}

/// The exit code of a verdict.
pub fn exit_code(verdict: Outcome, fail_on_warn: bool) -> i32 {
    match verdict {
        Outcome::Pass => exit::OK,
        Outcome::Warn if fail_on_warn => exit::FAIL,
        Outcome::Warn => exit::OK,
        Outcome::Fail => exit::FAIL,
        Outcome::Inconclusive => exit::INCONCLUSIVE,
    }
}

/// Runs the command with the given environment and streams; returns the exit code.
pub fn run_with(
    args: &EvaluateArgs,
    env: &Environment,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    run_with_checks("verdict evaluate", args, env, Vec::new(), out, err)
}

/// Like [`run_with`], with report-level checks added by the caller (e.g.
/// `verdict run`'s chaos command): they count towards the verdict, the
/// reasons and every output format. `command` prefixes error messages.
pub fn run_with_checks(
    command: &str,
    args: &EvaluateArgs,
    env: &Environment,
    extra: Vec<crate::eval::Check>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    // Templates first: a broken user template stops the run before any query.
    let result = templates(args).and_then(|templates| {
        let mut report = evaluate(args, env)?;
        for check in extra {
            if let (false, Some(reason)) = (check.outcome == Outcome::Pass, &check.reason) {
                report.reasons.insert(0, reason.clone());
            }
            report.verdict = report.verdict.max(check.outcome);
            report.checks.push(check);
        }
        write_outputs(args, env, &report, &templates, out)?;
        Ok(report)
    });
    match result {
        Ok(report) => exit_code(report.verdict, args.outputs.fail_on_warn),
        Err(Invalid(message)) => {
            let _ = writeln!(err, "{command}: {message}");
            exit::INVALID
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_has_its_exit_code() {
        assert_eq!(exit_code(Outcome::Pass, false), 0);
        assert_eq!(exit_code(Outcome::Warn, false), 0);
        assert_eq!(exit_code(Outcome::Warn, true), 1);
        assert_eq!(exit_code(Outcome::Fail, false), 1);
        assert_eq!(exit_code(Outcome::Inconclusive, false), 3);
        assert_eq!(exit_code(Outcome::Inconclusive, true), 3);
    }

    #[test]
    fn header_values_are_parsed_and_never_shown_in_debug_output() {
        let h = parse_header("Authorization=Bearer s3cr3t-token").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.name, "Authorization");
        assert_eq!(h.value, "Bearer s3cr3t-token");
        assert_eq!(format!("{h:?}"), "Authorization=<redacted>");
        assert!(parse_header("no-equals-sign").is_err());
        assert!(parse_header("=value").is_err());
    }
}
