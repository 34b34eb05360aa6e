//! Every error the HTTP API returns, as `application/problem+json`
//! (RFC 9457) with a stable `type` and a human `detail`.
//!
//! Policy (after crates.io's `util/errors.rs`): a client's mistake is a 4xx
//! whose `detail` says what to change; our own failure is a 5xx whose
//! `detail` is generic, and whose cause chain is logged once, here. The
//! `type` values (`/problems/<slug>`) are part of the API: never rename one.
//! Must not: put a secret (tokens, URLs with credentials) in a `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::store::{Role, StoreError};

/// The content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An API error; see [`ApiError::slug`] for the stable `type` of each.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an unknown/revoked bearer token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The token's role is below what the route needs.
    #[error("this needs the {required} role; the token has {have}")]
    Forbidden { required: Role, have: Role },
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is not JSON at all.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not the expected shape (unknown or missing
    /// fields, wrong types).
    #[error("the request body does not match the schema: {0}")]
    InvalidBody(String),
    /// A field has a value outside its domain.
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// A query or path parameter is invalid.
    #[error("{0}")]
    InvalidParameter(String),
    /// The body is not `application/json`.
    #[error("expected Content-Type application/json, got {0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the configured limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The fault window is not a window (end before start, end without start).
    #[error("{0}")]
    InvalidWindow(String),
    /// The SLO selector matches no loaded SLO.
    #[error("{0}")]
    UnknownSloSelector(String),
    /// The command does not apply to the experiment in its current status.
    #[error("{0}")]
    InvalidTransition(String),
    /// The experiment changed while the command was being applied.
    #[error("{0}")]
    Conflict(String),
    /// The Idempotency-Key was used before with a different request.
    #[error(
        "the Idempotency-Key {key:?} was already used for a different request (experiment {existing})"
    )]
    IdempotencyKeyReused { key: String, existing: uuid::Uuid },
    /// The experiment has no verdict yet.
    #[error("{0}")]
    VerdictNotReady(String),
    /// The request took longer than the configured timeout.
    #[error("the request did not complete within {0:?}")]
    Timeout(std::time::Duration),
    /// A dependency (database, Prometheus) is not reachable.
    #[error("{0}")]
    Unavailable(String),
    /// Our fault. The cause is logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// The stable last segment of the problem `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::MalformedJson(_) => "malformed-json",
            ApiError::InvalidBody(_) => "invalid-body",
            ApiError::InvalidField { .. } => "invalid-field",
            ApiError::InvalidParameter(_) => "invalid-parameter",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::InvalidWindow(_) => "invalid-window",
            ApiError::UnknownSloSelector(_) => "unknown-slo-selector",
            ApiError::InvalidTransition(_) => "invalid-transition",
            ApiError::Conflict(_) => "conflict",
            ApiError::IdempotencyKeyReused { .. } => "idempotency-key-reused",
            ApiError::VerdictNotReady(_) => "verdict-not-ready",
            ApiError::Timeout(_) => "request-timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::VerdictNotReady(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::MalformedJson(_) | ApiError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidBody(_)
            | ApiError::InvalidField { .. }
            | ApiError::InvalidWindow(_)
            | ApiError::UnknownSloSelector(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidTransition(_)
            | ApiError::Conflict(_)
            | ApiError::IdempotencyKeyReused { .. } => StatusCode::CONFLICT,
            ApiError::Timeout(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short, fixed summary of the problem type.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden { .. } => "Insufficient role",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed(_) => "Method not allowed",
            ApiError::MalformedJson(_) => "Malformed JSON",
            ApiError::InvalidBody(_) => "Invalid request body",
            ApiError::InvalidField { .. } => "Invalid field",
            ApiError::InvalidParameter(_) => "Invalid parameter",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::InvalidWindow(_) => "Invalid fault window",
            ApiError::UnknownSloSelector(_) => "Unknown SLO selector",
            ApiError::InvalidTransition(_) => "Invalid lifecycle transition",
            ApiError::Conflict(_) => "Concurrent modification",
            ApiError::IdempotencyKeyReused { .. } => "Idempotency key reused",
            ApiError::VerdictNotReady(_) => "Verdict not ready",
            ApiError::Timeout(_) => "Request timeout",
            ApiError::Unavailable(_) => "Dependency unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// The `application/problem+json` document.
    pub fn problem(&self) -> Problem {
        let detail = match self {
            ApiError::Internal(_) => {
                "the server failed to handle the request; the cause is in its log".to_owned()
            }
            other => other.to_string(),
        };
        let field = match self {
            ApiError::InvalidField { field, .. } => Some(field.clone()),
            _ => None,
        };
        Problem {
            problem_type: format!("/problems/{}", self.slug()),
            title: self.title().to_owned(),
            status: self.status().as_u16(),
            detail,
            field,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the problem kind, e.g. `/problems/unknown-slo-selector`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Fixed summary of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, in words a person can act on.
    pub detail: String,
    /// The request field at fault, for `invalid-field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized(_)) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"verdict\""),
            );
        }
        response
    }
}

/// Builds an [`ApiError::InvalidField`].
pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field: field.into(),
        message: message.into(),
    }
}

/// A JSON value as a problem (for tests and docs).
pub fn problem_value(e: &ApiError) -> Value {
    serde_json::to_value(e.problem()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::Internal("password authentication failed for user x".into());
        let p = e.problem();
        assert_eq!(p.problem_type, "/problems/internal");
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("password"));
    }

    #[test]
    fn a_field_error_names_the_field() {
        let v = problem_value(&invalid_field(
            "observe_recovery",
            "invalid duration \"5 min\"",
        ));
        assert_eq!(
            v,
            serde_json::json!({
                "type": "/problems/invalid-field",
                "title": "Invalid field",
                "status": 422,
                "detail": "invalid observe_recovery: invalid duration \"5 min\"",
                "field": "observe_recovery",
            })
        );
    }
}
