//! PagerDuty Events API v2: trigger on a failed or aborted experiment,
//! resolve when it later recovers or is re-run green.

use std::time::Duration;

use serde::Serialize;

use super::delivery::{DeliveryError, Secret, classify_http, excerpt};

/// The public Events API; tests point `base_url` at a local mock.
pub const DEFAULT_BASE_URL: &str = "https://events.pagerduty.com";

/// A PagerDuty receiver.
#[derive(Debug, Clone)]
pub struct PagerDuty {
    /// Receiver name, for messages.
    pub name: String,
    pub base_url: String,
    pub routing_key: Secret,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventAction {
    Trigger,
    Resolve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

/// What verdict reports to PagerDuty (without the routing key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdEvent {
    pub event_action: EventAction,
    /// Stable per experiment and SLO, so a resolve closes the trigger.
    pub dedup_key: String,
    /// Trigger only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<PdPayload>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PdLink>,
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdPayload {
    pub summary: String,
    pub severity: Severity,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub custom_details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdLink {
    pub href: String,
    pub text: String,
}

/// `verdict/<experiment>/<slo>`: the same key for the trigger and its resolve.
pub fn dedup_key(experiment: &str, slo: &str) -> String {
    format!("verdict/{experiment}/{slo}")
}

/// Maps a verdict outcome to a PagerDuty severity.
pub fn severity_for(verdict: &str, aborted: bool) -> Severity {
    match (verdict, aborted) {
        (_, true) => Severity::Critical,
        ("fail", _) => Severity::Error,
        ("inconclusive", _) => Severity::Warning,
        _ => Severity::Info,
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    routing_key: &'a str,
    #[serde(flatten)]
    event: &'a PdEvent,
}

impl PagerDuty {
    /// The JSON body sent for an event (with the routing key: never log it).
    pub fn body(&self, event: &PdEvent) -> serde_json::Value {
        serde_json::to_value(Envelope {
            routing_key: self.routing_key.expose(),
            event,
        })
        .unwrap_or(serde_json::Value::Null)
    }

    /// Sends one event. 202 is success; 429 and 5xx are retryable; any
    /// other status (400: invalid event or routing key) is permanent.
    pub async fn send(&self, http: &reqwest::Client, event: &PdEvent) -> Result<(), DeliveryError> {
        let url = format!("{}/v2/enqueue", self.base_url.trim_end_matches('/'));
        let response = http
            .post(&url)
            .timeout(self.timeout)
            .json(&self.body(event))
            .send()
            .await
            .map_err(|e| DeliveryError::Retryable {
                receiver: self.name.clone(),
                reason: self.routing_key.scrub(&format!("cannot reach {url}: {e}")),
                retry_after: None,
            })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        classify_http(
            &self.name,
            status,
            retry_after.as_deref(),
            &self.routing_key.scrub(&excerpt(&body)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn receiver(base_url: String) -> PagerDuty {
        PagerDuty {
            name: "pagerduty-shop".into(),
            base_url,
            routing_key: Secret::new("R0UT1NGKEY0000000000000000000000"),
            timeout: Duration::from_secs(2),
        }
    }

    fn trigger() -> PdEvent {
        PdEvent {
            event_action: EventAction::Trigger,
            dedup_key: dedup_key("0193-exp", "order-availability"),
            payload: Some(PdPayload {
                summary: "verdict: fail — order-availability: budget consumed 4.1% > max 2%".into(),
                severity: severity_for("fail", false),
                source: "verdict".into(),
                component: Some("order".into()),
                group: Some("shop".into()),
                class: Some("pod-kill".into()),
                custom_details: json!({"budget_consumed": 0.041}),
            }),
            links: vec![PdLink {
                href: "http://127.0.0.1:9797/experiments/0193-exp".into(),
                text: "verdict report".into(),
            }],
            client: "verdict".into(),
            client_url: Some("http://127.0.0.1:9797/experiments/0193-exp".into()),
        }
    }

    #[tokio::test]
    async fn a_trigger_and_its_resolve_send_the_exact_events_v2_payloads() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .and(body_json(json!({
                "routing_key": "R0UT1NGKEY0000000000000000000000",
                "event_action": "trigger",
                "dedup_key": "verdict/0193-exp/order-availability",
                "payload": {
                    "summary": "verdict: fail — order-availability: budget consumed 4.1% > max 2%",
                    "severity": "error",
                    "source": "verdict",
                    "component": "order",
                    "group": "shop",
                    "class": "pod-kill",
                    "custom_details": {"budget_consumed": 0.041}
                },
                "links": [{"href": "http://127.0.0.1:9797/experiments/0193-exp", "text": "verdict report"}],
                "client": "verdict",
                "client_url": "http://127.0.0.1:9797/experiments/0193-exp"
            })))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "success", "message": "Event processed", "dedup_key": "verdict/0193-exp/order-availability"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .and(body_json(json!({
                "routing_key": "R0UT1NGKEY0000000000000000000000",
                "event_action": "resolve",
                "dedup_key": "verdict/0193-exp/order-availability",
                "client": "verdict"
            })))
            .respond_with(ResponseTemplate::new(202))
            .expect(1)
            .mount(&server)
            .await;
        let pd = receiver(server.uri());
        let http = reqwest::Client::new();
        pd.send(&http, &trigger()).await.unwrap();
        let resolve = PdEvent {
            event_action: EventAction::Resolve,
            dedup_key: dedup_key("0193-exp", "order-availability"),
            payload: None,
            links: vec![],
            client: "verdict".into(),
            client_url: None,
        };
        pd.send(&http, &resolve).await.unwrap();
    }

    #[tokio::test]
    async fn rejections_are_classified_and_never_echo_the_routing_key() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_string("invalid routing key R0UT1NGKEY0000000000000000000000"),
            )
            .mount(&server)
            .await;
        let err = receiver(server.uri())
            .send(&reqwest::Client::new(), &trigger())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pagerduty-shop: HTTP 400: invalid routing key <redacted> (not retried)"
        );
        // Nothing listening: retryable, and the key is not in the message.
        let err = receiver("http://127.0.0.1:1".into())
            .send(&reqwest::Client::new(), &trigger())
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(!format!("{err:?}").contains("R0UT1NGKEY"));
    }
}
