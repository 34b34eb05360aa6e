//! `verdict report EXPERIMENT --server URL`: fetches an experiment's report
//! from a verdict server (`GET /api/v1/experiments/{id}/report`) and prints
//! it or writes it to a file.
//!
//! Exit codes like `verdict evaluate`: 0 pass or warn, 1 fail, 3
//! inconclusive (from the response's `verdict-outcome` header), 2 for
//! usage and HTTP errors, with the server's problem detail. Must not:
//! render anything itself, or print the token.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::exit;
use crate::api::reports::OUTCOME_HEADER;

/// The formats the server renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Markdown,
    Json,
    Junit,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Junit => "junit",
        }
    }
}

#[derive(Args)]
pub struct ReportArgs {
    /// The experiment's id.
    #[arg(value_name = "EXPERIMENT")]
    pub experiment: String,
    /// The verdict server, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "VERDICT_SERVER")]
    pub server: String,
    /// A viewer token (prefer --token-file or VERDICT_TOKEN: arguments are
    /// visible to other users of the machine).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// A file holding the token.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Give up after this many seconds.
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
}

pub fn run(args: &ReportArgs) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, &mut stdout.lock(), &mut stderr.lock())
}

/// [`run`] writing to the given streams.
pub fn run_with(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match fetch(args) {
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

fn fetch(args: &ReportArgs) -> Result<(String, Vec<u8>), ReportCliError> {
    let id = uuid::Uuid::parse_str(args.experiment.trim()).map_err(|_| {
        ReportCliError::Usage(format!(
            "EXPERIMENT must be an experiment id (a UUID), got {:?}",
            args.experiment.chars().take(64).collect::<String>()
        ))
    })?;
    let token = token(args)?;
    let mut url = reqwest::Url::parse(args.server.trim_end_matches('/'))
        .map_err(|e| ReportCliError::Usage(format!("--server {:?}: {e}", args.server)))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ReportCliError::Usage(format!(
            "--server {:?}: expected an http or https URL",
            args.server
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
