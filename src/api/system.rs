//! Health, readiness, metrics, the effective configuration, the loaded
//! SLOs and the OpenAPI document.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::AppState;
use super::auth::{Admin, Viewer};
use super::error::{ApiError, Problem};
use crate::metrics::DbGauges;
use crate::store::{Role, utc_now};

/// How long `/readyz` waits for each dependency.
pub const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// Body of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Per dependency (`database`, `prometheus`): `ok`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, String>,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses((status = 200, description = "Alive", body = Health)),
    security(())
)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        checks: BTreeMap::new(),
    })
}

/// Readiness: the database and Prometheus answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "system",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "A dependency is unreachable", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let db = tokio::time::timeout(READY_TIMEOUT, state.store.ping());
    let prom = tokio::time::timeout(READY_TIMEOUT, state.prom.ready());
    let (db, prom) = tokio::join!(db, prom);
    let mut failed = Vec::new();
    match db {
        Ok(Ok(())) => {}
        Ok(Err(e)) => failed.push(format!("database: {e}")),
        Err(_) => failed.push(format!("database: no answer within {READY_TIMEOUT:?}")),
    }
    match prom {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            state.metrics.prometheus_error("readyz");
            failed.push(format!("prometheus at {}: {e}", state.prom.base_url()));
        }
        Err(_) => {
            state.metrics.prometheus_error("readyz");
            failed.push(format!(
                "prometheus at {}: no answer within {READY_TIMEOUT:?}",
                state.prom.base_url()
            ));
        }
    }
    if failed.is_empty() {
        Ok(Json(Health {
            status: "ok".to_owned(),
            checks: [("database", "ok"), ("prometheus", "ok")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }))
    } else {
        Err(ApiError::Unavailable(format!(
            "not ready: {}",
            failed.join("; ")
        )))
    }
}

/// verdict's own metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "Token required (when `http.metrics_require_token`)", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = ["viewer"]))
)]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if state.config.http.metrics_require_token {
        super::auth::require(&state, &headers, Role::Viewer).await?;
    }
    // The gauges read from the database are left out (and the failure
    // logged) when it does not answer: the counters still matter then.
    let now = utc_now();
    let (queue_depth, running) =
        match tokio::join!(state.store.count_due(now), state.store.list_running()) {
            (Ok(q), Ok(r)) => (q, r),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "metrics: reading the database gauges failed");
                let text = state.metrics.render_counters();
                return Ok(text_response(text));
            }
        };
    let mut text = state.metrics.render(&DbGauges {
        queue_depth,
        running,
    });
    match state.store.count_deliveries().await {
        Ok(counts) => text.push_str(&crate::notify::outbox::render_delivery_gauges(&counts)),
        Err(e) => tracing::warn!(error = %e, "metrics: counting deliveries failed"),
    }
    Ok(text_response(text))
}

fn text_response(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// One loaded SLO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SloInfo {
    /// `<service>-<name>`.
    pub id: String,
    pub service: String,
    pub name: String,
    /// Objective in percent.
    pub objective: f64,
    /// SLO and service labels (what a selector matches).
    pub labels: BTreeMap<String, String>,
    /// Where it was defined (`file:line:column`).
    pub source: String,
}

/// The SLOs loaded at start, which experiment selectors resolve against.
#[utoipa::path(
    get,
    path = "/api/v1/slos",
    tag = "system",
    responses((status = 200, description = "Loaded SLOs", body = Vec<SloInfo>)),
    security(("bearer" = ["viewer"]))
)]
pub async fn list_slos(_who: Viewer, State(state): State<AppState>) -> Json<Vec<SloInfo>> {
    Json(
        state
            .specs
            .services
            .iter()
            .flat_map(|svc| {
                svc.slos.iter().map(move |slo| {
                    let mut labels = svc.labels.clone();
                    labels.extend(slo.labels.clone());
                    SloInfo {
                        id: slo.id.clone(),
                        service: slo.service.clone(),
                        name: slo.name.clone(),
                        objective: slo.objective,
                        labels,
                        source: slo.source.to_string(),
                    }
                })
            })
            .collect(),
    )
}

/// The effective configuration, secrets replaced by `<set>`.
#[utoipa::path(
    get,
    path = "/api/v1/config",
    tag = "system",
    responses(
        (status = 200, description = "Key → value", body = BTreeMap<String, serde_json::Value>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
pub async fn get_config(
    _who: Admin,
    State(state): State<AppState>,
) -> Json<BTreeMap<String, serde_json::Value>> {
    Json(crate::config::describe(&state.config))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "system",
    responses((status = 200, description = "The OpenAPI document", body = serde_json::Value)),
    security(("bearer" = ["viewer"]))
)]
pub async fn openapi(_who: Viewer) -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi::ApiDoc::openapi())
}
