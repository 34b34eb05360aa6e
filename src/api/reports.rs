//! `/api/v1/experiments/{id}/report` and `/api/v1/experiments/{id}/charts/…`:
//! the stored verdict of an experiment rendered as HTML, Markdown, JSON or
//! JUnit, and its charts as PNG or SVG at stable URLs.
//!
//! Owns reading a stored verdict back into a [`Report`] and gathering what
//! the renderers show besides it ([`ReportExtras`]: the experiment row, the
//! previous runs of the same experiment name for the trend section, the
//! permalink). Must not: evaluate anything or change the stored verdict;
//! rendering (CPU-bound, charts) runs on the blocking pool.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::AppState;
use super::auth::Viewer;
use super::error::{ApiError, Problem};
use super::extract::{ApiQuery, parse_id};
use crate::report::charts::report_charts;
use crate::report::templates::Templates;
use crate::report::trend::RunSummary;
use crate::report::{ExperimentInfo, Link, Report, ReportExtras};
use crate::store::{ExperimentWithVerdict, Status};

/// The response header of the report route that carries the verdict
/// (`pass`, `warn`, `fail`, `inconclusive`) whatever the format.
pub const OUTCOME_HEADER: &str = "verdict-outcome";
/// How many previous runs the trend section compares with.
pub const TREND_RUNS: i64 = 5;
/// Size of the chart images served by the charts route.
pub const CHART_SIZE: (u32, u32) = crate::report::html::CHART_SIZE;

/// The formats of the report route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The standalone HTML page (charts inline).
    #[default]
    Html,
    /// The Markdown summary.
    Markdown,
    /// The report JSON (the stored verdict, as `verdict evaluate --format json`).
    Json,
    /// JUnit XML.
    Junit,
}

impl From<ReportFormat> for crate::report::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Html => crate::report::Format::Html,
            ReportFormat::Markdown => crate::report::Format::Markdown,
            ReportFormat::Json => crate::report::Format::Json,
            ReportFormat::Junit => crate::report::Format::Junit,
        }
    }
}

impl ReportFormat {
    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Junit => "application/xml",
        }
    }
}

/// Query of the report route.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// `html` (default), `markdown`, `json` or `junit`.
    pub format: Option<ReportFormat>,
}

/// An experiment with its stored verdict read back as a report.
pub struct StoredReport {
    /// The experiment.
    pub experiment: ExperimentWithVerdict,
    /// Its report.
    pub report: Report,
}

/// Why an experiment has no verdict, as a 404 `verdict-not-ready`.
fn not_ready(x: &ExperimentWithVerdict) -> ApiError {
    let e = &x.experiment;
    let id = e.id;
    ApiError::VerdictNotReady(match e.status {
        Status::Aborted => format!(
            "experiment {id} was aborted ({}); it has no verdict",
            e.abort_reason.clone().unwrap_or_default()
        ),
        Status::Error => format!(
            "experiment {id} could not be evaluated: {}",
            e.error.clone().unwrap_or_default()
        ),
        s => format!("experiment {id} is {s}; its report exists once it has been evaluated"),
    })
}

/// Reads experiment `id` and its stored verdict as a [`Report`]: 404
/// `not-found` for an unknown id, 404 `verdict-not-ready` before the
/// verdict is stored.
pub async fn load_report(state: &AppState, id: Uuid) -> Result<StoredReport, ApiError> {
    let experiment = state
        .store
        .get_experiment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no experiment with id {id}")))?;
    let verdict = state
        .store
        .get_verdict(id)
        .await?
        .ok_or_else(|| not_ready(&experiment))?;
    let report: Report = serde_json::from_str(&verdict.body).map_err(|e| {
        ApiError::Internal(format!("the stored verdict of {id} is not a report: {e}"))
    })?;
    Ok(StoredReport { experiment, report })
}

/// `checkout in namespace shop (app=checkout)`.
fn target_text(x: &ExperimentWithVerdict) -> String {
    let e = &x.experiment;
    let mut text = e.service.clone();
    if let Some(ns) = &e.namespace {
        text.push_str(&format!(" in namespace {ns}"));
    }
    if !e.target_labels.0.is_empty() {
        let labels: Vec<String> = e
            .target_labels
            .0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        text.push_str(&format!(" ({})", labels.join(", ")));
    }
    text
}

/// The experiment as the report shows it.
pub fn experiment_info(x: &ExperimentWithVerdict) -> ExperimentInfo {
    let e = &x.experiment;
    ExperimentInfo {
        id: Some(e.id.to_string()),
        name: e.name.clone(),
        kind: Some(e.fault_type.as_str().to_owned()),
        target: Some(target_text(x)),
        description: None,
        links: e
            .links
            .0
            .iter()
            .map(|l| Link {
                title: l.name.clone(),
                url: l.url.clone(),
            })
            .collect(),
    }
}

/// `scheme://host` of the request, from `Host` (and `X-Forwarded-Proto`
/// behind a proxy); `None` without a usable `Host`.
pub fn request_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    Some(format!("{proto}://{host}"))
}

/// What the renderers show besides the report: the experiment, the
/// summaries of the previous [`TREND_RUNS`] runs of the same name (their
/// stored verdicts), the permalink and where the charts are served.
pub async fn report_extras(
    state: &AppState,
    stored: &StoredReport,
    origin: Option<&str>,
) -> Result<ReportExtras, ApiError> {
    let e = &stored.experiment.experiment;
    let mut previous_runs = Vec::new();
    if let Some(fault_start) = e.fault_start {
        let rows = state
            .store
            .list_previous_verdicts(&e.name, e.id, fault_start, TREND_RUNS)
            .await?;
        for row in rows {
            match serde_json::from_str::<Report>(&row.body) {
                Ok(r) => previous_runs.push(RunSummary::from_report(
                    &r,
                    &e.name,
                    Some(row.experiment_id.to_string()),
                )),
                Err(err) => tracing::warn!(
                    experiment = %row.experiment_id,
                    error = %err,
                    "a previous run's stored verdict is not a report; left out of the trend"
                ),
            }
        }
    }
    let origin = origin.unwrap_or("");
    Ok(ReportExtras {
        experiment: Some(experiment_info(&stored.experiment)),
        previous_runs,
        report_url: Some(format!("{origin}/experiments/{}", e.id)),
        chart_base_url: Some(format!("{origin}/api/v1/experiments/{}/charts", e.id)),
    })
}

/// Renders `report` in `format` (on the blocking pool: charts are CPU work).
pub async fn render(
    report: Report,
    extras: ReportExtras,
    format: ReportFormat,
) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Templates::embedded()
            .map_err(Into::into)
            .and_then(|t| crate::report::render_as(&report, &extras, t, format.into()))
            .map_err(|e| ApiError::Internal(format!("rendering a report: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the report renderer stopped: {e}")))?
}

/// The experiment's report in the chosen format.
#[utoipa::path(
    get,
    path = "/api/v1/experiments/{id}/report",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id"), ReportParams),
    responses(
        (status = 200, description = "The report: text/html, text/markdown, application/json (the stored verdict's schema) or application/xml (JUnit)", body = String,
            headers(("verdict-outcome" = String, description = "The verdict: pass, warn, fail or inconclusive"))),
        (status = 400, description = "Invalid id or format", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such experiment (`not-found`), or not evaluated yet (`verdict-not-ready`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn get_report(
    _who: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ReportParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id("an experiment", &id)?;
    let format = p.format.unwrap_or_default();
    let stored = load_report(&state, id).await?;
    let extras = report_extras(&state, &stored, request_origin(&headers).as_deref()).await?;
    let outcome = stored.report.verdict.as_str();
    let body = render(stored.report, extras, format).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (
                header::HeaderName::from_static(OUTCOME_HEADER),
                HeaderValue::from_static(outcome),
            ),
        ],
        body,
    )
        .into_response())
}

/// One chart of the experiment's report, drawn from its stored verdict.
#[utoipa::path(
    get,
    path = "/api/v1/experiments/{id}/charts/{file}",
    tag = "experiments",
    params(
        ("id" = Uuid, Path, description = "Experiment id"),
        ("file" = String, Path, description = "`<chart id>.png` or `<chart id>.svg`; chart ids: `slo-<slo id>`, `burn-rate`, `indicator-<service>-<name>` (as in the report's HTML)"),
    ),
    responses(
        (status = 200, description = "The chart (960×360): image/png or image/svg+xml by the file's suffix", content_type = "image/png"),
        (status = 404, description = "No such experiment or chart, or not evaluated yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn get_chart(
    _who: Viewer,
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id("an experiment", &id)?;
    let (chart_id, png) = if let Some(c) = file.strip_suffix(".png") {
        (c.to_owned(), true)
    } else if let Some(c) = file.strip_suffix(".svg") {
        (c.to_owned(), false)
    } else {
        return Err(ApiError::NotFound(format!(
            "no chart {:?}: chart URLs end in .png or .svg",
            file.chars().take(100).collect::<String>()
        )));
    };
    let stored = load_report(&state, id).await?;
    let (bytes, content_type) = tokio::task::spawn_blocking(move || {
        let chart = report_charts(&stored.report)
            .into_iter()
            .find(|c| c.id == chart_id);
        let Some(chart) = chart else {
            let known: Vec<String> = report_charts(&stored.report)
                .into_iter()
                .map(|c| c.id)
                .collect();
            return Err(ApiError::NotFound(format!(
                "experiment {id} has no chart {:?}; its charts: {}",
                chart_id.chars().take(100).collect::<String>(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let drawn = if png {
            chart.chart.render_png(CHART_SIZE).map(|b| (b, "image/png"))
        } else {
            chart
                .chart
                .render_svg(CHART_SIZE)
                .map(|s| (s.into_bytes(), "image/svg+xml"))
        };
        drawn.map_err(|e| ApiError::Internal(format!("drawing chart {}: {e}", chart.id)))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the chart renderer stopped: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            ),
        ],
        bytes,
    )
        .into_response())
}
