//! `POST /api/v1/alerts/alertmanager`: Alertmanager's webhook (payload
//! version 4). Alerts are stored with an `alert.firing`/`alert.resolved`
//! event each (routed by the outbox); an alert whose `service` or
//! `namespace` label matches a running or recovering experiment's target is
//! marked with that experiment.
//!
//! Auth: a bearer token with the operator role, or the basic-auth user and
//! password configured for Alertmanager's `http_config`
//! (`notifications.alertmanager_username/_password`). Must not: deliver
//! anything itself, or store anything from a request it rejects.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::auth::require;
use super::error::{ApiError, Problem};
use crate::store::{ActiveExperiment, NewAlert, Role, utc_now};

/// Largest webhook body accepted (Alertmanager batches are small).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Alertmanager's webhook payload (version 4); fields verdict does not use
/// are ignored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AlertmanagerPayload {
    /// Must be `"4"`.
    pub version: String,
    #[serde(default, rename = "groupKey")]
    pub group_key: String,
    pub alerts: Vec<AlertmanagerAlert>,
}

/// One alert of the payload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    /// Alertmanager sends `0001-01-01T00:00:00Z` for "not ended".
    #[serde(default, rename = "endsAt")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub fingerprint: String,
}

/// What was stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertsReceived {
    /// Alerts stored.
    pub stored: usize,
    /// Of which explained by a running experiment.
    pub during_experiment: usize,
}

/// Receives an Alertmanager webhook.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/alertmanager",
    tag = "notifications",
    request_body = AlertmanagerPayload,
    responses(
        (status = 200, description = "Stored", body = AlertsReceived),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong credentials", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a version 4 payload", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["operator"]))
)]
pub async fn receive_alertmanager(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AlertsReceived>, ApiError> {
    authorize(&state, &headers).await?;
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::MalformedJson(format!("cannot read the body: {}", e.body_text()))
        }
    })?;
    if body.len() > BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    match headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(ct) if ct.split(';').next().unwrap_or("").trim() == "application/json" => {}
        Some(ct) => return Err(ApiError::UnsupportedMediaType(ct.to_owned())),
        None => return Err(ApiError::UnsupportedMediaType("no Content-Type".to_owned())),
    }
    let payload: AlertmanagerPayload = serde_json::from_slice(&body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::InvalidBody(e.to_string()),
            _ => ApiError::MalformedJson(e.to_string()),
        }
    })?;
    if payload.version != "4" {
        return Err(ApiError::InvalidBody(format!(
            "Alertmanager webhook payload version {:?} is not supported; expected \"4\"",
            payload.version
        )));
    }
    for (i, a) in payload.alerts.iter().enumerate() {
        if a.status != "firing" && a.status != "resolved" {
            return Err(ApiError::InvalidBody(format!(
                "alerts[{i}].status must be firing or resolved, not {:?}",
                a.status
            )));
        }
    }
    let active = state.store.active_experiments().await?;
    let alerts: Vec<NewAlert> = payload
        .alerts
        .into_iter()
        .map(|a| to_new_alert(a, &active))
        .collect();
    let during = alerts.iter().filter(|a| a.experiment_id.is_some()).count();
    state.store.insert_alerts(&alerts, utc_now()).await?;
    tracing::info!(
        stored = alerts.len(),
        during_experiment = during,
        group = %payload.group_key,
        "Alertmanager alerts received"
    );
    Ok(Json(AlertsReceived {
        stored: alerts.len(),
        during_experiment: during,
    }))
}

/// The experiment whose target the alert's labels name: `service` (or
/// `sloth_service`, which every generated SLO alert carries) equal to its
/// service, or `namespace` equal to its namespace.
pub fn explaining_experiment<'a>(
    labels: &BTreeMap<String, String>,
    active: &'a [ActiveExperiment],
) -> Option<&'a ActiveExperiment> {
    active.iter().find(|e| {
        labels.get("service") == Some(&e.service)
            || labels.get("sloth_service") == Some(&e.service)
            || (e.namespace.is_some() && labels.get("namespace") == e.namespace.as_ref())
    })
}

fn to_new_alert(a: AlertmanagerAlert, active: &[ActiveExperiment]) -> NewAlert {
    let experiment = explaining_experiment(&a.labels, active);
    let ends_at = a.ends_at.filter(|t| t.year() > 1);
    let fingerprint = if a.fingerprint.is_empty() {
        // Alertmanager always sends one; senders that do not get a stable
        // stand-in from the labels.
        a.labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        a.fingerprint
    };
    let event_payload = json!({
        "fingerprint": fingerprint,
        "status": a.status,
        "labels": a.labels,
        "annotations": a.annotations,
        "starts_at": a.starts_at,
        "ends_at": ends_at,
        "experiment": experiment.map(|e| e.name.clone()),
        "experiment_id": experiment.map(|e| e.id),
    });
    NewAlert {
        fingerprint,
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        starts_at: a.starts_at,
        ends_at,
        experiment_id: experiment.map(|e| e.id),
        event_payload,
    }
}

/// Bearer (operator) or the configured basic-auth pair.
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let Some(encoded) = basic else {
        return require(state, headers, Role::Operator).await.map(|_| ());
    };
    let n = &state.config.notifications;
    let (Some(user), Some(password)) = (&n.alertmanager_username, &n.alertmanager_password) else {
        return Err(ApiError::Unauthorized(
            "basic auth is not configured for the Alertmanager webhook",
        ));
    };
    let decoded = decode_base64(encoded.trim())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(ApiError::Unauthorized("malformed basic credentials"))?;
    let (u, p) = decoded
        .split_once(':')
        .ok_or(ApiError::Unauthorized("malformed basic credentials"))?;
    if constant_eq(u.as_bytes(), user.as_bytes())
        & constant_eq(p.as_bytes(), password.expose().as_bytes())
    {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("wrong user or password"))
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 with padding (RFC 4648); `None` when invalid.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(decode_base64("Zm9vYmE=").unwrap(), b"fooba");
        assert_eq!(decode_base64("YW06czNjcjN0").unwrap(), b"am:s3cr3t");
        assert_eq!(decode_base64("Zm9"), None);
        assert_eq!(decode_base64("Zm9v!mFy"), None);
    }

    #[test]
    fn an_alert_belongs_to_the_experiment_whose_target_it_names() {
        let active = vec![ActiveExperiment {
            id: uuid::Uuid::nil(),
            name: "kill-checkout".into(),
            service: "checkout".into(),
            namespace: Some("shop".into()),
        }];
        let l = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            explaining_experiment(&l(&[("service", "checkout")]), &active).map(|e| e.name.as_str()),
            Some("kill-checkout")
        );
        assert_eq!(
            explaining_experiment(&l(&[("namespace", "shop"), ("service", "cart")]), &active)
                .map(|e| e.name.as_str()),
            Some("kill-checkout")
        );
        assert_eq!(
            explaining_experiment(&l(&[("sloth_service", "checkout")]), &active)
                .map(|e| e.name.as_str()),
            Some("kill-checkout")
        );
        assert!(explaining_experiment(&l(&[("service", "cart")]), &active).is_none());
        assert!(explaining_experiment(&l(&[("sloth_service", "cart")]), &active).is_none());
    }
}
