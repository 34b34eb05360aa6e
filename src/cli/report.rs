//! `verdict report`: a report in the format you ask for, from one of two
//! sources.
//!
//! - `verdict report EXPERIMENT --server URL` fetches an experiment's report
//!   from a verdict server (`GET /api/v1/experiments/{id}/report`); the
//!   server renders it.
//! - `verdict report --input FILE.json` re-renders a stored JSON report
//!   (`verdict evaluate --format json`, the server's `?format=json`, the
//!   demo's report.json) locally, without Prometheus or a server: CI turns
//!   a JSON artifact into HTML this way, and template authors iterate on
//!   it.
//!
//! Either way it prints the report or writes it to a file. Exit codes like
//! `verdict evaluate`: 0 pass or warn, 1 fail, 3 inconclusive (from the
//! response's `verdict-outcome` header, or the file's `verdict`), 2 for
//! usage, file and HTTP errors, with the server's problem detail or what is
//! wrong with the file. Must not: decide a verdict, or print the token.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::exit;
use crate::api::reports::OUTCOME_HEADER;
use crate::report::templates::Templates;
use crate::report::{self as reports, ExperimentInfo, Report, ReportExtras, SCHEMA};

/// The formats a report comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Markdown,
    Json,
    Junit,
}

impl Format {
    fn as_str(self) -> &'static str {
        reports::Format::from(self).as_str()
    }
}

impl From<Format> for reports::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Html => reports::Format::Html,
            Format::Markdown => reports::Format::Markdown,
            Format::Json => reports::Format::Json,
            Format::Junit => reports::Format::Junit,
        }
    }
}

const EXAMPLES: &str = "\
Examples:
  # From a verdict server (a viewer token in VERDICT_TOKEN):
  verdict report 01a2098d-88af-71e9-9703-971a278dbbba --server http://127.0.0.1:8080 --format html -o report.html

  # From a stored JSON report, no server or Prometheus needed:
  verdict evaluate --slos slos --prometheus http://127.0.0.1:9090 --from ... --json verdict.json
  verdict report --input verdict.json --format html --name \"checkout pod-kill\" -o report.html
  verdict report --input verdict.json --format junit -o junit.xml
  curl -s -H \"Authorization: Bearer $T\" $SERVER/api/v1/experiments/$ID/report?format=json | verdict report --input - --format markdown

Exit codes: 0 pass or warn, 1 fail, 3 inconclusive (the report's verdict), \
2 usage error, unreadable file, not a verdict JSON report, HTTP error.";

#[derive(Args)]
#[command(
    override_usage = "verdict report EXPERIMENT --server URL [OPTIONS]\n       verdict report --input FILE.json [OPTIONS]",
    after_help = EXAMPLES
)]
pub struct ReportArgs {
    /// The experiment's id on the server (not with --input).
    #[arg(
        value_name = "EXPERIMENT",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub experiment: Option<String>,
    /// The verdict server, e.g. http://127.0.0.1:8080 (ignored with --input).
    #[arg(
        long,
        value_name = "URL",
        env = "VERDICT_SERVER",
        required_unless_present = "input"
    )]
    pub server: Option<String>,
    /// A viewer token (prefer --token-file or VERDICT_TOKEN: arguments are
    /// visible to other users of the machine).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// A file holding the token.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Re-render this JSON report instead of asking a server: the output of
    /// `verdict evaluate --format json` (or `--json FILE`), of the server's
    /// `?format=json`, or the demo's report.json; `-` reads stdin. Nothing
    /// is queried, so it works offline and in CI on a stored artifact.
    #[arg(
        long,
        short = 'i',
        value_name = "FILE",
        conflicts_with_all = ["token", "token_file"]
    )]
    pub input: Option<PathBuf>,
    /// With --input: the experiment's name, shown as the report's title
    /// (the JSON does not carry it; without it the title is "Experiment
    /// report").
    #[arg(long, value_name = "NAME", conflicts_with = "experiment")]
    pub name: Option<String>,
    /// With --input: a directory of templates overriding the built-in ones
    /// by file name (report.html.tera, summary.md.tera), as for `verdict
    /// evaluate --templates`.
    #[arg(long, value_name = "DIR", conflicts_with = "experiment")]
    pub templates: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Give up after this many seconds (with --server).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

impl fmt::Debug for ReportArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportArgs")
            .field("experiment", &self.experiment)
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("input", &self.input)
            .field("name", &self.name)
            .field("templates", &self.templates)
            .field("format", &self.format)
            .field("output", &self.output)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why the report could not be fetched (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportCliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The server could not be reached or answered unreadably.
    #[error("{0}")]
    Http(String),
    /// The server answered with an error.
    #[error("the server answered {status}: {detail}")]
    Problem { status: u16, detail: String },
    /// Writing the output failed.
    #[error("writing {path}: {message}")]
    Write { path: String, message: String },
    /// The `--input` file could not be read or is not a report.
    #[error("--input {path}: {message}")]
    Input { path: String, message: String },
    /// The report could not be rendered (a template error names its file
    /// and line).
    #[error("rendering the {format} report: {message}")]
    Render {
        format: &'static str,
        message: String,
    },
}

pub fn run(args: &ReportArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &mut stdout.lock(), &mut stderr.lock())
}

/// [`run`] writing to the given streams.
pub fn run_with(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let produced = match &args.input {
        Some(path) => render_input(args, path),
        None => fetch(args),
    };
    match produced {
        Ok((outcome, body)) => {
            let written = match &args.output {
                Some(path) => std::fs::write(path, &body).map_err(|e| ReportCliError::Write {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }),
                None => out.write_all(&body).map_err(|e| ReportCliError::Write {
                    path: "stdout".to_owned(),
                    message: e.to_string(),
                }),
            };
            if let Err(e) = written {
                let _ = writeln!(err, "verdict report: {e}");
                return exit::INVALID;
            }
            match outcome.as_str() {
                "pass" | "warn" => exit::OK,
                "fail" => exit::FAIL,
                "inconclusive" => exit::INCONCLUSIVE,
                other => {
                    let _ = writeln!(
                        err,
                        "verdict report: the server gave no verdict (header {OUTCOME_HEADER}: {other:?})"
                    );
                    exit::INVALID
                }
            }
        }
        Err(e) => {
            let _ = writeln!(err, "verdict report: {e}");
            exit::INVALID
        }
    }
}

fn token(args: &ReportArgs) -> Result<String, ReportCliError> {
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| ReportCliError::Usage(format!("--token-file {}: {e}", path.display())))?,
        (None, None) => std::env::var("VERDICT_TOKEN").map_err(|_| {
            ReportCliError::Usage(
                "no token: pass --token, --token-file or set VERDICT_TOKEN (a viewer token)"
                    .to_owned(),
            )
        })?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(ReportCliError::Usage("the token is empty".to_owned()));
    }
    Ok(token)
}

/// Reads `path` (`-`: stdin) as a JSON report, checks it is one, and
/// renders it in `args.format`; the outcome is the report's verdict.
fn render_input(
    args: &ReportArgs,
    path: &std::path::Path,
) -> Result<(String, Vec<u8>), ReportCliError> {
    let shown = if path.as_os_str() == "-" {
        "- (stdin)".to_owned()
    } else {
        path.display().to_string()
    };
    let input_error = |message: String| ReportCliError::Input {
        path: shown.clone(),
        message,
    };
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .map_err(|e| input_error(format!("cannot read stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| input_error(format!("cannot read it: {e}")))?
    };
    let report = parse_report(&text).map_err(input_error)?;

    let templates = match &args.templates {
        None => Templates::embedded().cloned().map_err(|e| e.to_string()),
        Some(dir) => Templates::load_dir(dir).map_err(|e| format!("--templates: {e}")),
    }
    .map_err(ReportCliError::Usage)?;
    let extras = ReportExtras {
        experiment: args
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|name| ExperimentInfo {
                name: name.to_owned(),
                ..ExperimentInfo::default()
            }),
        ..ReportExtras::default()
    };
    let rendered =
        reports::render_as(&report, &extras, &templates, args.format.into()).map_err(|e| {
            ReportCliError::Render {
                format: args.format.as_str(),
                message: e.to_string(),
            }
        })?;
    Ok((report.verdict.as_str().to_owned(), rendered.into_bytes()))
}

/// `text` as a [`Report`], or what is wrong with it: not JSON (with line
/// and column), not a verdict report, another schema, or a field that does
/// not fit (with its line and column).
pub fn parse_report(text: &str) -> Result<Report, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err(format!(
            "not a verdict report: expected a JSON object with \"schema\": \"{SCHEMA}\", \
             as written by `verdict evaluate --format json`"
        ));
    };
    match object.get("schema") {
        None => {
            return Err(format!(
                "not a verdict report: it has no \"schema\" field (expected \"{SCHEMA}\", \
                 as written by `verdict evaluate --format json`)"
            ));
        }
        Some(serde_json::Value::String(s)) if s == SCHEMA => {}
        Some(other) => {
            return Err(format!(
                "schema {other} is not supported: this verdict reads \"{SCHEMA}\""
            ));
        }
    }
    serde_json::from_str(text).map_err(|e| format!("not a valid {SCHEMA} report: {e}"))
}

fn fetch(args: &ReportArgs) -> Result<(String, Vec<u8>), ReportCliError> {
    // clap requires both without --input.
    let experiment = args.experiment.as_deref().unwrap_or_default();
    let server = args.server.as_deref().unwrap_or_default();
    let id = uuid::Uuid::parse_str(experiment.trim()).map_err(|_| {
        ReportCliError::Usage(format!(
            "EXPERIMENT must be an experiment id (a UUID), got {:?}",
            experiment.chars().take(64).collect::<String>()
        ))
    })?;
    let token = token(args)?;
    let mut url = reqwest::Url::parse(server.trim_end_matches('/'))
        .map_err(|e| ReportCliError::Usage(format!("--server {server:?}: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ReportCliError::Usage(format!(
            "--server {server:?}: expected an http or https URL"
        )));
    }
    let path = format!(
        "{}/api/v1/experiments/{id}/report",
        url.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url.query_pairs_mut()
        .append_pair("format", args.format.as_str());

    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ReportCliError::Http(format!("starting the async runtime: {e}")))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout.max(1)))
            .build()
            .map_err(|e| ReportCliError::Http(format!("building the HTTP client: {e}")))?;
        let shown = crate::config::redact_url(url.as_str());
        let response = client
            .get(url.clone())
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| ReportCliError::Http(format!("GET {shown}: {}", e.without_url())))?;
        let status = response.status();
        let outcome = response
            .headers()
            .get(OUTCOME_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(|e| ReportCliError::Http(format!("reading the answer of {shown}: {e}")))?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or_else(|| {
                    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
                });
            return Err(ReportCliError::Problem {
                status: status.as_u16(),
                detail,
            });
        }
        Ok((outcome, body.to_vec()))
    })
}
