//! `/api/v1/deliveries`: the notification outbox as seen by operators —
//! list deliveries by state (viewer) and put dead ones back in the queue
//! (operator). Must not: send anything (the outbox worker does).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::{Operator, Viewer};
use super::error::{ApiError, Problem};
use super::extract::ApiQuery;
use crate::store::{DeliveryRow, utc_now};

/// Query of `GET /api/v1/deliveries`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `dead`; all when absent.
    pub state: Option<String>,
    /// At most this many (1–1000, default 100), newest first.
    pub limit: Option<i64>,
}

/// Lists deliveries, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    tag = "notifications",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Vec<DeliveryRow>),
        (status = 400, description = "Unknown state or bad limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["viewer"]))
)]
pub async fn list_deliveries(
    _who: Viewer,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Vec<DeliveryRow>>, ApiError> {
    if let Some(s) = &q.state
        && !matches!(s.as_str(), "pending" | "delivered" | "dead")
    {
        return Err(ApiError::InvalidParameter(format!(
            "state must be pending, delivered or dead, not {s:?}"
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::InvalidParameter(
            "limit must be between 1 and 1000".to_owned(),
        ));
    }
    let rows = state
        .store
        .list_deliveries(q.state.as_deref(), limit)
        .await?;
    Ok(Json(rows))
}

/// Puts a dead delivery back in the queue; its attempts start over.
#[utoipa::path(
    post,
    path = "/api/v1/deliveries/{id}/retry",
    tag = "notifications",
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "Pending again", body = DeliveryRow),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery is not dead", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn retry_delivery(
    _who: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryRow>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no delivery {id:?}")))?;
    match state.store.retry_delivery(id, utc_now()).await? {
        Some(row) => {
            tracing::info!(delivery = id, receiver = %row.receiver, "dead delivery queued again");
            Ok(Json(row))
        }
        None => match state.store.get_delivery(id).await? {
            None => Err(ApiError::NotFound(format!("no delivery {id}"))),
            Some(row) => Err(ApiError::Conflict(format!(
                "delivery {id} is {}, only dead deliveries can be retried",
                row.state
            ))),
        },
    }
}
