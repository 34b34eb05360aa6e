//! The abort webhook: the JSON document POSTed to an experiment's
//! `abort_webhook` when it is aborted, and the HTTP client that sends it.
//!
//! Owns: the payload shape (documented in docs/server.md) and one delivery
//! attempt. Retries, backoff and the delivery state live in the database
//! and `lifecycle`. Must not: put the webhook URL (it may hold a secret) in
//! an error message.

use std::time::Duration;

use serde_json::{Value, json};

use crate::store::ExperimentRow;

/// A webhook attempt that did not get a 2xx answer.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The HTTP client could not be built.
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(String),
    /// The request failed (connection, timeout).
    #[error("request failed: {0}")]
    Request(String),
    /// The receiver answered with a non-2xx status.
    #[error("the receiver answered HTTP {status}")]
    Status { status: u16 },
}

/// Sends webhook requests with a per-request timeout.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    http: reqwest::Client,
}

impl WebhookClient {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, WebhookError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("verdict/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(WebhookClient { http })
    }

    /// POSTs `payload` as JSON to `url`; `Ok` on a 2xx answer.
    pub async fn post(&self, url: &str, payload: &Value) -> Result<(), WebhookError> {
        let response = self
            .http
            .post(url)
            .json(payload)
            .send()
            .await
            .map_err(|e| WebhookError::Request(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(WebhookError::Status {
                status: status.as_u16(),
            })
        }
    }
}

/// The document POSTed when an experiment is aborted.
pub fn abort_payload(row: &ExperimentRow) -> Value {
    json!({
        "kind": "experiment.aborted",
        "experiment": {
            "id": row.id,
            "name": row.name,
            "type": row.fault_type,
            "target": {
                "service": row.service,
                "namespace": row.namespace,
                "labels": row.target_labels.0,
            },
            "routing_labels": row.routing_labels.0,
        },
        "reason": row.abort_reason,
        "fault_start": row.fault_start,
        "aborted_at": row.finished_at,
    })
}
