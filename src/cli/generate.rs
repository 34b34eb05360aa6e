//! `verdict generate rules`: Sloth-compatible Prometheus rules (and
//! promtool rule tests) from SLO specs, written to a directory, printed, or
//! checked for drift with `--check`.
//!
//! Owns: flags, reading specs and `--windows`, writing and comparing files,
//! exit codes (0 ok, 1 `--check` found differences, 2 invalid input).
//! Must not: build rules itself; that is `crate::generate`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::exit;
use crate::generate::{
    self, AlertWindows, Difference, GENERATED_MARKER, GeneratedFile, OperatorMeta, OutputFormat,
    OutputOptions, RuleOptions, WindowCatalog,
};
use crate::spec::error::{SpecError, SpecErrors};
use crate::spec::yaml::Loc;
use crate::spec::{self, PromDuration};

/// Generate files from SLO specs.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: GenerateCommand,
}

/// What to generate.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Prometheus recording and multi-window multi-burn-rate alerting rules,
    /// semantically identical to Sloth's for Sloth specs.
    ///
    /// One rules file per spec file (`slos/order.yaml` → `OUT/order.rules.yml`),
    /// and with `--with-tests` a `promtool test rules` file beside it
    /// (`order.test.yml`) proving each alert fires when the burn-rate math
    /// predicts. Exit codes: 0 ok, 1 `--check` found differences, 2 invalid
    /// input.
    Rules(RulesArgs),
    /// Grafana dashboards: one per service and an overview of all SLOs.
    ///
    /// Per SLO: SLI vs objective, error budget remaining, burn rate against
    /// the page/ticket thresholds, budget burned over time, alert conditions
    /// and state, latency quantiles for latency SLIs; chaos experiments as
    /// annotations. Files are `OUT/verdict-overview.json` and
    /// `OUT/verdict-svc-<service>.json`, for Grafana's file provisioning
    /// (deploy/grafana/). Exit codes: 0 ok, 1 `--check` found differences,
    /// 2 invalid input.
    Dashboards(DashboardsArgs),
    /// Alertmanager routing: page alerts to PagerDuty, ticket alerts to
    /// Slack, a copy of every alert to verdict's webhook.
    ///
    /// A whole alertmanager.yml, or with `layout: route` in `--config` (or
    /// `--layout route`) a route subtree and receivers to merge into yours.
    /// Secrets are referenced by file (`routing_key_file`, `api_url_file`),
    /// never written out. Exit codes: 0 ok, 1 `--check` found a difference,
    /// 2 invalid input.
    Alertmanager(AlertmanagerArgs),
}

/// Output layout of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Plain rule files (`groups:`), as Prometheus and promtool read them.
    Prometheus,
    /// A prometheus-operator `PrometheusRule` per service.
    PrometheusOperator,
}

/// Flags of `verdict generate rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// SLO spec files or directories (searched recursively for *.yaml and *.yml). Repeatable.
    #[arg(long, default_value = "slos")]
    pub slos: Vec<PathBuf>,
    /// Directory to write the rule files to, or `-` for standard output (one
    /// YAML document per service, like `sloth generate`).
    #[arg(long, default_value = "-")]
    pub out: String,
    /// SLO period for specs that set none (Sloth's `--default-slo-period`).
    /// verdict knows alert windows for 30d and 28d; other periods need `--windows`.
    #[arg(long, default_value = "30d", value_parser = parse_duration)]
    pub period: PromDuration,
    /// Sloth `AlertWindows` spec file, or a directory of them, for periods
    /// other than 30d and 28d (or to replace those). See Sloth's
    /// `examples/windows/7d.yaml`.
    #[arg(long)]
    pub windows: Option<PathBuf>,
    /// Label added to every recording rule, as `name=value`. Repeatable.
    #[arg(short = 'l', long = "extra-label", value_parser = parse_label)]
    pub extra_labels: Vec<(String, String)>,
    /// Generate no alerting rules.
    #[arg(long)]
    pub disable_alerts: bool,
    /// Generate no recording rules (SLI and metadata); alerts then rely on
    /// recordings from elsewhere.
    #[arg(long)]
    pub disable_recordings: bool,
    /// Output layout. Default: `prometheus-operator` for Kubernetes inputs
    /// (Sloth's PrometheusServiceLevel, Pyrra), `prometheus` otherwise.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// `metadata.name` of generated PrometheusRules (default: the input's name, or the service).
    #[arg(long)]
    pub rule_name: Option<String>,
    /// `metadata.namespace` of generated PrometheusRules (default: the input's namespace).
    #[arg(long)]
    pub rule_namespace: Option<String>,
    /// Label on generated PrometheusRules, as `name=value`. Repeatable.
    #[arg(long = "rule-label", value_parser = parse_k8s_label)]
    pub rule_labels: Vec<(String, String)>,
    /// Also write `promtool test rules` files (`*.test.yml`) next to the rules.
    #[arg(long)]
    pub with_tests: bool,
    /// Do not write: exit 1 and show what differs when the files in `--out`
    /// are not what would be generated.
    #[arg(long)]
    pub check: bool,
}

fn parse_duration(s: &str) -> Result<PromDuration, String> {
    let d = PromDuration::parse(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("the period must be longer than zero".into());
    }
    Ok(d)
}

fn split_kv(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected name=value, found {s:?}"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = split_kv(s)?;
    if !spec::decode::is_label_name(&k) {
        return Err(format!(
            "invalid label name {k:?}: must match [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    Ok((k, v))
}

fn parse_k8s_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = split_kv(s)?;
    if k.is_empty() {
        return Err(format!("empty label name in {s:?}"));
    }
    Ok((k, v))
}

/// Runs the command on the process's stdout and stderr.
pub fn run(args: &GenerateArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &mut stdout.lock(), &mut stderr.lock())
}

/// Runs the command writing to the given streams; returns the exit code.
pub fn run_with(args: &GenerateArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match &args.what {
        GenerateCommand::Rules(r) => run_rules(r, out, err),
        GenerateCommand::Dashboards(d) => run_dashboards(d, out, err),
        GenerateCommand::Alertmanager(a) => run_alertmanager(a, out, err),
    }
}

/// The generator options the flags describe, reading `--windows`.
pub fn options(args: &RulesArgs) -> Result<(RuleOptions, OutputOptions), Vec<String>> {
    let mut windows = WindowCatalog::google_defaults();
    if let Some(path) = &args.windows {
        match load_windows(path) {
            Ok(ws) => ws.into_iter().for_each(|w| windows.insert(w)),
            Err(e) => return Err(e.0.iter().map(|e| format!("--windows: {e}")).collect()),
        }
    }
    let rule_opts = RuleOptions {
        default_period: args.period,
        windows,
        extra_labels: args.extra_labels.iter().cloned().collect(),
        disable_alerts: args.disable_alerts,
        disable_recordings: args.disable_recordings,
        version: generate::GENERATOR_VERSION.to_string(),
    };
    let out_opts = OutputOptions {
        format: args.format.map(|f| match f {
            FormatArg::Prometheus => OutputFormat::Prometheus,
            FormatArg::PrometheusOperator => OutputFormat::PrometheusOperator,
        }),
        operator: OperatorMeta {
            name: args.rule_name.clone(),
            namespace: args.rule_namespace.clone(),
            labels: args.rule_labels.iter().cloned().collect(),
        },
        with_tests: args.with_tests,
    };
    Ok((rule_opts, out_opts))
}

fn run_rules(args: &RulesArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let to_stdout = args.out == "-";
    if to_stdout && (args.check || args.with_tests) {
        let _ = writeln!(
            err,
            "{} needs --out DIR (rule files and their tests are compared or written as files)",
            if args.check {
                "--check"
            } else {
                "--with-tests"
            }
        );
        return exit::INVALID;
    }
    let set = match spec::load_paths(&args.slos) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors.0 {
                let _ = writeln!(err, "{e}");
            }
            let _ = writeln!(
                err,
                "{} error{} in the SLO specs; nothing generated",
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            return exit::INVALID;
        }
    };
    let (rule_opts, out_opts) = match options(args) {
        Ok(o) => o,
        Err(msgs) => {
            for m in msgs {
                let _ = writeln!(err, "{m}");
            }
            return exit::INVALID;
        }
    };
    if to_stdout {
        return match generate::generate_stream(&set, &rule_opts, &out_opts) {
            Ok(text) => {
                let _ = out.write_all(text.as_bytes());
                exit::OK
            }
            Err(errors) => report_errors(&errors, err),
        };
    }
    let generated = match generate::generate_files(&set, &args.slos, &rule_opts, &out_opts) {
        Ok(g) => g,
        Err(errors) => return report_errors(&errors, err),
    };
    for s in &generated.skipped_tests {
        let _ = writeln!(err, "skipped: {s}");
    }
    let dir = PathBuf::from(&args.out);
    let existing = match read_generated(&dir) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "{}: cannot read: {e}", dir.display());
            return exit::INVALID;
        }
    };
    let differences = generate::compare(&generated.files, &existing);
    if args.check {
        if differences.is_empty() {
            let _ = writeln!(
                out,
                "{}: up to date ({} file{})",
                dir.display(),
                generated.files.len(),
                if generated.files.len() == 1 { "" } else { "s" }
            );
            return exit::OK;
        }
        for d in &differences {
            let _ = writeln!(err, "{d}");
        }
        let _ = writeln!(
            err,
            "{}: {} file{} out of date; run `verdict generate rules --slos {} --out {}{}`",
            dir.display(),
            differences.len(),
            if differences.len() == 1 {
                " is"
            } else {
                "s are"
            },
            args.slos
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" --slos "),
            dir.display(),
            if args.with_tests { " --with-tests" } else { "" }
        );
        return exit::FAIL;
    }
    match write_files(&dir, &generated.files, &differences) {
        Ok((written, removed)) => {
            let _ = writeln!(
                out,
                "{}: {} file{} generated ({} changed{}) from {} spec file{}",
                dir.display(),
                generated.files.len(),
                if generated.files.len() == 1 { "" } else { "s" },
                written,
                if removed > 0 {
                    format!(", {removed} stale removed")
                } else {
                    String::new()
                },
                set.files.len(),
                if set.files.len() == 1 { "" } else { "s" }
            );
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(err, "{e}");
            exit::INVALID
        }
    }
}

/// Reads `--windows`: a file, or a directory whose `*.yaml`/`*.yml` files
/// (recursively, sorted) each hold `AlertWindows` documents.
pub fn load_windows(path: &Path) -> Result<Vec<AlertWindows>, SpecErrors> {
    let files: Vec<PathBuf> = crate::spec::find_files(&[path.to_path_buf()])?;
    let mut all = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<PromDuration, String> = BTreeMap::new();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(SpecError {
                    file: f.clone(),
                    loc: Loc::default(),
                    path: String::new(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match generate::windows::parse_alert_windows(f, &text) {
            Ok(ws) => {
                for w in ws {
                    if let Some(first) = seen.get(&w.period) {
                        errors.push(SpecError {
                            file: f.clone(),
                            loc: Loc::default(),
                            path: "spec.sloPeriod".into(),
                            message: format!(
                                "windows for the {} period are already defined in {first}",
                                w.period
                            ),
                        });
                    } else {
                        seen.insert(w.period, f.display().to_string());
                        all.push(w);
                    }
                }
            }
            Err(SpecErrors(es)) => errors.extend(es),
        }
    }
    if files.is_empty() {
        errors.push(SpecError {
            file: path.to_path_buf(),
            loc: Loc::default(),
            path: String::new(),
            message: "no *.yaml or *.yml files with AlertWindows here".into(),
        });
    }
    if errors.is_empty() {
        Ok(all)
    } else {
        Err(SpecErrors(errors))
    }
}

fn report_errors(errors: &generate::GenerateErrors, err: &mut dyn Write) -> i32 {
    for e in &errors.0 {
        let _ = writeln!(err, "{e}");
    }
    let _ = writeln!(
        err,
        "{} error{}; nothing generated",
        errors.0.len(),
        if errors.0.len() == 1 { "" } else { "s" }
    );
    exit::INVALID
}

/// The files under `dir` that verdict generated (they start with the
/// marker), by path relative to `dir`. A missing directory holds none.
pub fn read_generated(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, String>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.map_err(std::io::Error::other)?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "yml" && ext != "yaml" {
            continue;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => continue,
            Err(e) => return Err(e),
        };
        if text.starts_with(GENERATED_MARKER) {
            let rel = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
            out.insert(rel, text);
        }
    }
    Ok(out)
}

/// Writes changed and missing files and removes stale generated ones.
/// Returns (files written, files removed).
fn write_files(
    dir: &Path,
    files: &[GeneratedFile],
    differences: &[Difference],
) -> Result<(usize, usize), String> {
    let mut written = 0;
    let mut removed = 0;
    for d in differences {
        match d {
            Difference::Missing(rel) | Difference::Changed { path: rel, .. } => {
                let Some(f) = files.iter().find(|f| &f.path == rel) else {
                    continue;
                };
                let path = dir.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: cannot create: {e}", parent.display()))?;
                }
                std::fs::write(&path, &f.contents)
                    .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
                written += 1;
            }
            Difference::Stale(rel) => {
                let path = dir.join(rel);
                std::fs::remove_file(&path)
                    .map_err(|e| format!("{}: cannot remove stale file: {e}", path.display()))?;
                removed += 1;
            }
        }
    }
    Ok((written, removed))
}

// ---------------------------------------------------------------------------
// `verdict generate dashboards`

/// Flags of `verdict generate dashboards`.
#[derive(Debug, Args)]
pub struct DashboardsArgs {
    /// SLO spec files or directories (searched recursively for *.yaml and *.yml). Repeatable.
    #[arg(long, default_value = "slos")]
    pub slos: Vec<PathBuf>,
    /// Directory to write the dashboard JSON files to (Grafana's dashboard
    /// provider reads it; see deploy/grafana/).
    #[arg(long, default_value = "deploy/grafana/dashboards")]
    pub out: PathBuf,
    /// SLO period for specs that set none, as for `generate rules`.
    #[arg(long, default_value = "30d", value_parser = parse_duration)]
    pub period: PromDuration,
    /// Sloth `AlertWindows` specs for periods other than 30d and 28d, as for
    /// `generate rules` (the dashboards draw the same thresholds).
    #[arg(long)]
    pub windows: Option<PathBuf>,
    /// Default of the dashboards' `verdict_url` variable: the verdict server
    /// whose experiment list the SLO panels link to.
    #[arg(long, default_value = generate::dashboards::DEFAULT_VERDICT_URL)]
    pub verdict_url: String,
    /// Do not write: exit 1 and show what differs when the files in `--out`
    /// are not what would be generated.
    #[arg(long)]
    pub check: bool,
}

/// The dashboard options the flags describe, reading `--windows`.
pub fn dashboard_options(
    args: &DashboardsArgs,
) -> Result<generate::dashboards::DashboardOptions, Vec<String>> {
    let mut windows = WindowCatalog::google_defaults();
    if let Some(path) = &args.windows {
        match load_windows(path) {
            Ok(ws) => ws.into_iter().for_each(|w| windows.insert(w)),
            Err(e) => return Err(e.0.iter().map(|e| format!("--windows: {e}")).collect()),
        }
    }
    let url = args.verdict_url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(vec![format!(
            "--verdict-url {:?} must be an http:// or https:// URL",
            args.verdict_url
        )]);
    }
    Ok(generate::dashboards::DashboardOptions {
        rules: RuleOptions {
            default_period: args.period,
            windows,
            ..RuleOptions::default()
        },
        verdict_url: url.to_string(),
    })
}

fn run_dashboards(args: &DashboardsArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let set = match spec::load_paths(&args.slos) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors.0 {
                let _ = writeln!(err, "{e}");
            }
            let _ = writeln!(
                err,
                "{} error{} in the SLO specs; nothing generated",
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            return exit::INVALID;
        }
    };
    let opts = match dashboard_options(args) {
        Ok(o) => o,
        Err(msgs) => {
            for m in msgs {
                let _ = writeln!(err, "{m}");
            }
            return exit::INVALID;
        }
    };
    let dashboards = match generate::dashboards::generate_dashboards(&set, &opts) {
        Ok(d) => d,
        Err(errors) => return report_errors(&errors, err),
    };
    let dir = &args.out;
    let existing = match read_generated_dashboards(dir) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(err, "{}: cannot read: {e}", dir.display());
            return exit::INVALID;
        }
    };
    let differences = generate::dashboards::compare(&dashboards, &existing);
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if args.check {
        if differences.is_empty() {
            let _ = writeln!(
                out,
                "{}: up to date ({} dashboard{})",
                dir.display(),
                dashboards.len(),
                plural(dashboards.len())
            );
            return exit::OK;
        }
        for d in &differences {
            let _ = writeln!(err, "{d}");
        }
        let _ = writeln!(
            err,
            "{}: {} file{} out of date; run `verdict generate dashboards --slos {} --out {}`",
            dir.display(),
            differences.len(),
            plural(differences.len()),
            args.slos
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" --slos "),
            dir.display()
        );
        return exit::FAIL;
    }
    let mut written = 0;
    let mut removed = 0;
    for d in &differences {
        let result = match d {
            Difference::Missing(rel) | Difference::Changed { path: rel, .. } => {
                let Some(dash) = dashboards.iter().find(|x| &x.path == rel) else {
                    continue;
                };
                let path = dir.join(rel);
                written += 1;
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("{}: cannot create: {e}", dir.display()))
                    .and_then(|()| {
                        std::fs::write(&path, dash.contents())
                            .map_err(|e| format!("{}: cannot write: {e}", path.display()))
                    })
            }
            Difference::Stale(rel) => {
                let path = dir.join(rel);
                removed += 1;
                std::fs::remove_file(&path)
                    .map_err(|e| format!("{}: cannot remove stale file: {e}", path.display()))
            }
        };
        if let Err(e) = result {
            let _ = writeln!(err, "{e}");
            return exit::INVALID;
        }
    }
    let _ = writeln!(
        out,
        "{}: {} dashboard{} generated ({} changed{}) from {} spec file{}",
        dir.display(),
        dashboards.len(),
        plural(dashboards.len()),
        written,
        if removed > 0 {
            format!(", {removed} stale removed")
        } else {
            String::new()
        },
        set.files.len(),
        plural(set.files.len())
    );
    exit::OK
}

/// The dashboards under `dir` (not recursive) that verdict generated, by
/// file name. A missing directory holds none.
pub fn read_generated_dashboards(dir: &Path) -> std::io::Result<BTreeMap<PathBuf, String>> {
    let mut found = BTreeMap::new();
    if !dir.exists() {
        return Ok(found);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
            continue;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => continue,
            Err(e) => return Err(e),
        };
        if generate::dashboards::is_generated(&text) {
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            found.insert(rel, text);
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------
// `verdict generate alertmanager`

/// `--layout` of `verdict generate alertmanager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// A whole alertmanager.yml.
    Config,
    /// A route subtree and its receivers, to merge into an existing configuration.
    Route,
}

/// Flags of `verdict generate alertmanager`.
#[derive(Debug, Args)]
pub struct AlertmanagerArgs {
    /// A YAML file setting receivers' URLs, secret files, the Slack channel,
    /// grouping and timings (see docs/dashboards.md); defaults otherwise.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// File to write, or `-` for standard output.
    #[arg(long, default_value = "-")]
    pub out: String,
    /// Overrides the `layout` of `--config`.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Do not write: exit 1 when `--out` is not what would be generated.
    #[arg(long)]
    pub check: bool,
}

fn run_alertmanager(args: &AlertmanagerArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    use generate::alertmanager::{AlertmanagerOptions, Layout, parse_config, render};
    let mut opts = match &args.config {
        None => AlertmanagerOptions::default(),
        Some(path) => {
            let parsed = std::fs::read_to_string(path)
                .map_err(|e| vec![format!("{}: cannot read: {e}", path.display())])
                .and_then(|text| {
                    parse_config(path, &text)
                        .map_err(|e| e.0.iter().map(|e| e.to_string()).collect())
                });
            match parsed {
                Ok(o) => o,
                Err(msgs) => {
                    for m in msgs {
                        let _ = writeln!(err, "{m}");
                    }
                    return exit::INVALID;
                }
            }
        }
    };
    if let Some(l) = args.layout {
        opts.layout = match l {
            LayoutArg::Config => Layout::Config,
            LayoutArg::Route => Layout::Route,
        };
    }
    let text = render(&opts, generate::GENERATOR_VERSION);
    if args.out == "-" {
        if args.check {
            let _ = writeln!(err, "--check needs --out FILE");
            return exit::INVALID;
        }
        let _ = out.write_all(text.as_bytes());
        return exit::OK;
    }
    let path = PathBuf::from(&args.out);
    if args.check {
        return match std::fs::read_to_string(&path) {
            Ok(old) if old == text => {
                let _ = writeln!(out, "{}: up to date", path.display());
                exit::OK
            }
            Ok(old) => {
                let _ = writeln!(
                    err,
                    "changed: {}\n{}",
                    path.display(),
                    generate::output::diff_summary(&old, &text)
                );
                exit::FAIL
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = writeln!(err, "missing: {}", path.display());
                exit::FAIL
            }
            Err(e) => {
                let _ = writeln!(err, "{}: cannot read: {e}", path.display());
                exit::INVALID
            }
        };
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        let _ = writeln!(err, "{}: cannot create: {e}", parent.display());
        return exit::INVALID;
    }
    match std::fs::write(&path, &text) {
        Ok(()) => {
            let _ = writeln!(
                out,
                "{}: Alertmanager configuration generated",
                path.display()
            );
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(err, "{}: cannot write: {e}", path.display());
            exit::INVALID
        }
    }
}
