//! `/api/v1/experiments`: create, list, get, start, end, abort, verdict.
//!
//! Owns the request and response shapes of experiments, their validation
//! (every field error names the field), resolving the SLO selector against
//! the loaded specs, and idempotent creation. Transitions are decided by
//! `scheduler::lifecycle` and written with the row version they were
//! decided on, so a concurrent change is a 409, never a lost update.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::auth::{Operator, Viewer};
use super::error::{ApiError, Problem, invalid_field};
use super::extract::{ApiJson, ApiQuery, OptionalJson, parse_id};
use crate::scheduler::lifecycle::{self, TransitionError};
use crate::spec::{PromDuration, SpecSet};
use crate::store::{
    ExperimentState, ExperimentWithVerdict, FaultType, Link, ListFilter, NewEvent, NewExperiment,
    SloSelector, Status, StoreError, VerdictOutcome, WebhookState, db_time, utc_now,
};

/// Longest accepted experiment name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest accepted Idempotency-Key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;
/// Default and largest page size of the list.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 500;

/// What the experiment breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The service under test.
    pub service: String,
    /// Kubernetes namespace, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels selecting the target (e.g. `app: checkout`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `POST /api/v1/experiments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExperiment {
    /// A name for people, e.g. `kill one checkout pod`.
    pub name: String,
    /// What the fault hits.
    pub target: Target,
    /// Kind of fault.
    #[serde(rename = "type")]
    pub fault_type: FaultType,
    /// The SLOs to judge it against. Default: every SLO of `target.service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slos: Option<SloSelector>,
    /// Baseline length before the fault (Prometheus duration, e.g. `10m`).
    /// Default: as long as the fault, at least 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// How long recovery is observed after the fault ends. Default from the
    /// server config (`scheduler.default_observe_recovery`, 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observe_recovery: Option<String>,
    /// URL POSTed to when the experiment is aborted (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_webhook: Option<String>,
    /// Labels for notification routing (team, severity, …).
    #[serde(default)]
    pub routing_labels: BTreeMap<String, String>,
    /// Links to the chaos tool's run, dashboards, tickets.
    #[serde(default)]
    pub links: Vec<Link>,
    /// When the fault started, for experiments recorded after the fact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_start: Option<DateTime<Utc>>,
    /// When the fault ended (needs `fault_start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_end: Option<DateTime<Utc>>,
}

/// Body of `start` and `end`: when it happened (default: now).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionAt {
    /// The instant of the transition (RFC 3339); default now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// Body of `abort`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbortRequest {
    /// Why (recorded and sent to the webhook). Default "aborted via the API".
    #[serde(default)]
    pub reason: Option<String>,
}

/// The SLOs an experiment is judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SloSelection {
    /// The selector as given (or defaulted).
    pub selector: SloSelector,
    /// The SLO ids it resolved to at creation.
    pub ids: Vec<String>,
}

/// Delivery of the abort webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookStatus {
    pub state: WebhookState,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// An experiment as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Experiment {
    pub id: Uuid,
    pub name: String,
    pub target: Target,
    #[serde(rename = "type")]
    pub fault_type: FaultType,
    pub slos: SloSelection,
    /// Baseline length, when given.
    pub baseline: Option<String>,
    /// Recovery observation length.
    pub observe_recovery: String,
    /// Scheme, host and port of the abort webhook (path and query hidden:
    /// they may hold a secret).
    pub abort_webhook: Option<String>,
    pub routing_labels: BTreeMap<String, String>,
    pub links: Vec<Link>,
    pub status: Status,
    pub fault_start: Option<DateTime<Utc>>,
    pub fault_end: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it was aborted.
    pub abort_reason: Option<String>,
    /// Why it failed (or the last failed evaluation attempt).
    pub error: Option<String>,
    /// The verdict's outcome, once evaluated.
    pub verdict: Option<VerdictOutcome>,
    /// Abort webhook delivery, when there is one to deliver.
    pub webhook: Option<WebhookStatus>,
}

/// A page of experiments, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExperimentPage {
    pub items: Vec<Experiment>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/experiments`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this target service.
    pub service: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only experiments with this verdict outcome.
    pub verdict: Option<VerdictOutcome>,
    /// Only experiments created at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn seconds_text(s: i64) -> String {
    PromDuration::from_secs(u64::try_from(s).unwrap_or(0)).to_string()
}

/// `scheme://host[:port]` of a URL, nothing more.
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            _ => u.scheme().to_owned(),
        },
        Err(_) => "(invalid URL)".to_owned(),
    }
}

impl From<ExperimentWithVerdict> for Experiment {
    fn from(x: ExperimentWithVerdict) -> Self {
        let e = x.experiment;
        Experiment {
            id: e.id,
            name: e.name,
            target: Target {
                service: e.service,
                namespace: e.namespace,
                labels: e.target_labels.0,
            },
            fault_type: e.fault_type,
            slos: SloSelection {
                selector: e.slo_selector.0,
                ids: e.slo_ids.0,
            },
            baseline: e.baseline_seconds.map(seconds_text),
            observe_recovery: seconds_text(e.observe_seconds),
            webhook: e.abort_webhook.as_ref().map(|_| WebhookStatus {
                state: e.webhook_state,
                attempts: e.webhook_attempts,
                last_error: e.webhook_last_error.clone(),
            }),
            abort_webhook: e.abort_webhook.as_deref().map(origin),
            routing_labels: e.routing_labels.0,
            links: e.links.0,
            status: e.status,
            fault_start: e.fault_start,
            fault_end: e.fault_end,
            created_at: e.created_at,
            updated_at: e.updated_at,
            finished_at: e.finished_at,
            abort_reason: e.abort_reason,
            error: e.error,
            verdict: x.verdict,
        }
    }
}

/// The SLO ids `selector` picks from `specs`, sorted.
pub fn resolve_slos(specs: &SpecSet, selector: &SloSelector) -> Vec<String> {
    let mut ids: Vec<String> = specs
        .services
        .iter()
        .filter(|svc| selector.service.as_ref().is_none_or(|s| *s == svc.name))
        .flat_map(|svc| {
            svc.slos.iter().filter(move |slo| {
                selector
                    .labels
                    .iter()
                    .all(|(k, v)| slo.labels.get(k).or_else(|| svc.labels.get(k)) == Some(v))
            })
        })
        .map(|slo| slo.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn describe_selector(s: &SloSelector) -> String {
    let mut parts = Vec::new();
    if let Some(svc) = &s.service {
        parts.push(format!("service {svc:?}"));
    }
    if !s.labels.is_empty() {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        parts.push(format!("labels {{{}}}", labels.join(", ")));
    }
    parts.join(" and ")
}

fn parse_duration(field: &str, text: &str) -> Result<i64, ApiError> {
    let d = PromDuration::parse(text.trim()).map_err(|e| invalid_field(field, e.to_string()))?;
    i64::try_from(d.as_millis() / 1000)
        .map_err(|_| invalid_field(field, "too long"))
        .and_then(|s| {
            if d.as_millis() % 1000 != 0 {
                Err(invalid_field(field, "must be a whole number of seconds"))
            } else {
                Ok(s)
            }
        })
}

fn check_url(field: &str, url: &str) -> Result<(), ApiError> {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Ok(())
        }
        Ok(_) => Err(invalid_field(
            field,
            "must be an http or https URL with a host",
        )),
        Err(e) => Err(invalid_field(field, format!("not a URL: {e}"))),
    }
}

fn check_labels(field: &str, labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    match labels.keys().find(|k| k.trim().is_empty()) {
        Some(_) => Err(invalid_field(field, "label names must not be empty")),
        None => Ok(()),
    }
}

/// Validates a create request and builds the row to insert.
fn build_experiment(
    state: &AppState,
    req: &CreateExperiment,
    idempotency_key: Option<String>,
    request_hash: String,
) -> Result<NewExperiment, ApiError> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(invalid_field("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(invalid_field(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let service = req.target.service.trim();
    if service.is_empty() {
        return Err(invalid_field("target.service", "must not be empty"));
    }
    check_labels("target.labels", &req.target.labels)?;
    check_labels("routing_labels", &req.routing_labels)?;
    let baseline_seconds = req
        .baseline
        .as_deref()
        .map(|b| parse_duration("baseline", b))
        .transpose()?;
    if baseline_seconds == Some(0) {
        return Err(invalid_field("baseline", "must be longer than 0s"));
    }
    let observe_seconds = match req.observe_recovery.as_deref() {
        Some(o) => parse_duration("observe_recovery", o)?,
        None => i64::try_from(state.config.scheduler.default_observe_recovery.as_secs())
            .unwrap_or(i64::MAX),
    };
    if let Some(url) = &req.abort_webhook {
        check_url("abort_webhook", url)?;
    }
    for (i, link) in req.links.iter().enumerate() {
        if link.name.trim().is_empty() {
            return Err(invalid_field(
                format!("links[{i}].name"),
                "must not be empty",
            ));
        }
        check_url(&format!("links[{i}].url"), &link.url)?;
    }
    let selector = req.slos.clone().unwrap_or_else(|| SloSelector {
        service: Some(service.to_owned()),
        labels: BTreeMap::new(),
    });
    if selector.service.is_none() && selector.labels.is_empty() {
        return Err(invalid_field(
            "slos",
            "the selector must name a service, labels, or both",
        ));
    }
    let slo_ids = resolve_slos(&state.specs, &selector);
    if slo_ids.is_empty() {
        let mut known: Vec<&str> = state
            .specs
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        known.sort();
        known.dedup();
        return Err(ApiError::UnknownSloSelector(format!(
            "no loaded SLO matches {}; services with SLOs: {}",
            describe_selector(&selector),
            if known.is_empty() {
                "none (the server loaded no SLO specs)".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let now = utc_now();
    let state_ = lifecycle::initial_state(
        req.fault_start.map(db_time),
        req.fault_end.map(db_time),
        observe_seconds,
        now,
    )
    .map_err(transition_error)?;
    Ok(NewExperiment {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        service: service.to_owned(),
        namespace: req.target.namespace.clone(),
        target_labels: req.target.labels.clone(),
        fault_type: req.fault_type,
        slo_selector: selector,
        slo_ids,
        baseline_seconds,
        observe_seconds,
        abort_webhook: req.abort_webhook.clone(),
        routing_labels: req.routing_labels.clone(),
        links: req.links.clone(),
        idempotency_key,
        request_hash: Some(request_hash),
        created_at: now,
        state: state_,
    })
}

fn transition_error(e: TransitionError) -> ApiError {
    match e {
        TransitionError::InvalidWindow(m) => ApiError::InvalidWindow(m),
        other @ TransitionError::InvalidState { .. } => {
            ApiError::InvalidTransition(other.to_string())
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .map_err(|_| ApiError::InvalidParameter("the Idempotency-Key header must be text".into()))?
        .trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::InvalidParameter(format!(
            "the Idempotency-Key header must have 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters"
        )));
    }
    Ok(Some(key.to_owned()))
}

fn request_hash(req: &CreateExperiment) -> String {
    // The parsed request re-serialised: the same request in other whitespace
    // or key order has the same hash.
    let canonical = serde_json::to_vec(req).unwrap_or_default();
    super::auth::sha256_hex(&canonical)
}

fn created(x: ExperimentWithVerdict, replayed: bool) -> Response {
    let id = x.experiment.id;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = (status, Json(Experiment::from(x))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/experiments/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn replay(existing: ExperimentWithVerdict, key: &str, hash: &str) -> Result<Response, ApiError> {
    if existing.experiment.request_hash.as_deref() == Some(hash) {
        Ok(created(existing, true))
    } else {
        Err(ApiError::IdempotencyKeyReused {
            key: key.to_owned(),
            existing: existing.experiment.id,
        })
    }
}

/// Creates an experiment.
#[utoipa::path(
    post,
    path = "/api/v1/experiments",
    tag = "experiments",
    request_body = CreateExperiment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a create safely: the same key and body return the first result")),
    responses(
        (status = 201, description = "Created", body = Experiment),
        (status = 200, description = "Replayed for a known Idempotency-Key", body = Experiment),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, window or SLO selector", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn create_experiment(
    _who: Operator,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateExperiment>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&req);
    if let Some(k) = &key
        && let Some(existing) = state.store.get_experiment_by_idempotency_key(k).await?
    {
        return replay(existing, k, &hash);
    }
    let new = build_experiment(&state, &req, key.clone(), hash.clone())?;
    match state.store.insert_experiment(&new).await {
        Ok(row) => {
            state.wake.notify_one();
            Ok(created(
                ExperimentWithVerdict {
                    experiment: row,
                    verdict: None,
                },
                false,
            ))
        }
        Err(StoreError::Duplicate { .. }) => {
            // A concurrent request with the same key won the race.
            let k = key.unwrap_or_default();
            match state.store.get_experiment_by_idempotency_key(&k).await? {
                Some(existing) => replay(existing, &k, &hash),
                None => Err(ApiError::Internal(
                    "idempotency key conflict without a row".into(),
                )),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Lists experiments, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/experiments",
    tag = "experiments",
    params(ListParams),
    responses(
        (status = 200, description = "A page of experiments", body = ExperimentPage),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn list_experiments(
    _who: Viewer,
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ExperimentPage>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidParameter(format!(
            "limit must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    let before = p
        .cursor
        .as_deref()
        .map(|c| {
            Uuid::parse_str(c).map_err(|_| {
                ApiError::InvalidParameter("cursor is not a cursor this API returned".into())
            })
        })
        .transpose()?;
    let mut rows = state
        .store
        .list_experiments(&ListFilter {
            service: p.service,
            status: p.status,
            verdict: p.verdict,
            since: p.since,
            before,
            limit: limit + 1,
        })
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.experiment.id.to_string())
    } else {
        None
    };
    Ok(Json(ExperimentPage {
        items: rows.into_iter().map(Experiment::from).collect(),
        next_cursor,
    }))
}

async fn load(state: &AppState, raw_id: &str) -> Result<ExperimentWithVerdict, ApiError> {
    let id = parse_id("an experiment", raw_id)?;
    state
        .store
        .get_experiment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no experiment with id {id}")))
}

/// Reads one experiment.
#[utoipa::path(
    get,
    path = "/api/v1/experiments/{id}",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id")),
    responses(
        (status = 200, description = "The experiment (possibly up to `http.read_cache_ttl` behind the scheduler)", body = Experiment),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn get_experiment(
    _who: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = parse_id("an experiment", &id)?;
    let json = match state.experiments.get(uuid) {
        Some(json) => json,
        None => {
            let read_at = std::time::Instant::now();
            let exp = Experiment::from(load(&state, &id).await?);
            let json = Bytes::from(
                serde_json::to_vec(&exp).map_err(|e| ApiError::Internal(e.to_string()))?,
            );
            state.experiments.put(uuid, json.clone(), read_at);
            json
        }
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}

/// Applies a transition decided on the row as read, retrying once if the
/// row changed in between (e.g. the scheduler's guard check wrote it).
async fn transition<F>(state: &AppState, raw_id: &str, decide: F) -> Result<Experiment, ApiError>
where
    F: Fn(&ExperimentWithVerdict) -> Result<(ExperimentState, Option<NewEvent>), TransitionError>,
{
    for _ in 0..3 {
        let current = load(state, raw_id).await?;
        let (next, event) = decide(&current).map_err(transition_error)?;
        let row = &current.experiment;
        if let Some(written) = state
            .store
            .commit(row.id, row.version, &next, None, event.as_ref())
            .await?
        {
            state.experiments.forget(row.id);
            state.wake.notify_one();
            return Ok(ExperimentWithVerdict {
                experiment: written,
                verdict: current.verdict,
            }
            .into());
        }
    }
    Err(ApiError::Conflict(
        "the experiment kept changing while the request was applied; try again".into(),
    ))
}

/// Starts the fault (now, or at `at`).
#[utoipa::path(
    post,
    path = "/api/v1/experiments/{id}/start",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id")),
    request_body(content = Option<TransitionAt>, description = "Optional: when the fault started"),
    responses(
        (status = 200, description = "Running (or scheduled for `at`)", body = Experiment),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Start after the given end", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn start_experiment(
    _who: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<TransitionAt>,
) -> Result<Json<Experiment>, ApiError> {
    let now = utc_now();
    let at = body.at.map(db_time).unwrap_or(now);
    transition(&state, &id, |x| {
        lifecycle::start(&x.experiment, at, now).map(|s| (s, None))
    })
    .await
    .map(Json)
}

/// Ends the fault (now, or at `at`); recovery observation begins.
#[utoipa::path(
    post,
    path = "/api/v1/experiments/{id}/end",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id")),
    request_body(content = Option<TransitionAt>, description = "Optional: when the fault ended"),
    responses(
        (status = 200, description = "Recovering", body = Experiment),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "End before start", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn end_experiment(
    _who: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<TransitionAt>,
) -> Result<Json<Experiment>, ApiError> {
    let now = utc_now();
    let at = body.at.map(db_time).unwrap_or(now);
    transition(&state, &id, |x| {
        lifecycle::end(&x.experiment, at, now).map(|s| (s, None))
    })
    .await
    .map(Json)
}

/// Aborts the experiment: calls its abort webhook and records an event.
#[utoipa::path(
    post,
    path = "/api/v1/experiments/{id}/abort",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id")),
    request_body(content = Option<AbortRequest>, description = "Optional: why"),
    responses(
        (status = 200, description = "Aborted", body = Experiment),
        (status = 404, description = "No such experiment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already finished", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn abort_experiment(
    who: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<AbortRequest>,
) -> Result<Json<Experiment>, ApiError> {
    let now = utc_now();
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "aborted via the API".to_owned());
    let by = format!("api:{}", who.0.name);
    let exp = transition(&state, &id, |x| {
        lifecycle::abort(&x.experiment, &reason, &by, now).map(|(s, e)| (s, Some(e)))
    })
    .await?;
    state.metrics.aborted("api");
    Ok(Json(exp))
}

/// The verdict document the evaluation produced, byte for byte.
#[utoipa::path(
    get,
    path = "/api/v1/experiments/{id}/verdict",
    tag = "experiments",
    params(("id" = Uuid, Path, description = "Experiment id")),
    responses(
        (status = 200, description = "The verdict JSON", body = serde_json::Value),
        (status = 404, description = "No such experiment, or not evaluated yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn get_verdict(
    _who: Viewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id("an experiment", &id)?;
    match state.store.get_verdict(id).await? {
        Some(v) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            v.body,
        )
            .into_response()),
        None => match state.store.get_experiment(id).await? {
            None => Err(ApiError::NotFound(format!("no experiment with id {id}"))),
            Some(x) => Err(ApiError::VerdictNotReady(match x.experiment.status {
                Status::Aborted => format!(
                    "experiment {id} was aborted ({}); it has no verdict",
                    x.experiment.abort_reason.unwrap_or_default()
                ),
                Status::Error => format!(
                    "experiment {id} could not be evaluated: {}",
                    x.experiment.error.unwrap_or_default()
                ),
                s => format!(
                    "experiment {id} is {s}; its verdict is stored once it has been evaluated"
                ),
            })),
        },
    }
}
