//! Slack through slack-morphism: `chat.postMessage` with the Block Kit
//! report, a bot token from the environment or a file, a channel per route.

use std::time::Duration;

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::delivery::{DeliveryError, Secret, classify_http, excerpt};

/// Slack's Web API; tests point `api_url` at a local mock (no trailing slash).
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// A Slack receiver.
#[derive(Debug, Clone)]
pub struct SlackReceiver {
    pub name: String,
    pub api_url: String,
    pub token: Secret,
    pub channel: String,
    pub timeout: Duration,
}

/// A rendered Slack message: the notification text (also the fallback for
/// clients without blocks) and the Block Kit blocks as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    pub text: String,
    pub blocks: serde_json::Value,
}

/// Slack API error codes worth retrying.
const RETRYABLE_CODES: [&str; 4] = [
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
];

impl SlackReceiver {
    fn permanent(&self, reason: impl Into<String>) -> DeliveryError {
        DeliveryError::Permanent {
            receiver: self.name.clone(),
            reason: self.token.scrub(&reason.into()),
        }
    }

    /// Posts the message to the receiver's channel.
    pub async fn send(&self, msg: &SlackMessage) -> Result<(), DeliveryError> {
        let blocks: Vec<SlackBlock> = serde_json::from_value(msg.blocks.clone()).map_err(|e| {
            self.permanent(format!(
                "the Slack template produced invalid Block Kit JSON: {e}"
            ))
        })?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| self.permanent(format!("no TLS root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = SlackClient::new(
            SlackClientHyperConnector::with_connector(connector)
                .with_slack_api_url(self.api_url.trim_end_matches('/')),
        );
        let token = SlackApiToken::new(SlackApiTokenValue(self.token.expose().to_string()));
        let session = client.open_session(&token);
        let request = SlackApiChatPostMessageRequest::new(
            SlackChannelId(self.channel.clone()),
            SlackMessageContent::new()
                .with_text(msg.text.clone())
                .with_blocks(blocks),
        );
        let sent = tokio::time::timeout(self.timeout, session.chat_post_message(&request)).await;
        match sent {
            Err(_) => Err(DeliveryError::Retryable {
                receiver: self.name.clone(),
                reason: format!("no answer from Slack within {:?}", self.timeout),
                retry_after: None,
            }),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.classify(e)),
        }
    }

    fn classify(&self, e: SlackClientError) -> DeliveryError {
        let retryable = |reason: String, retry_after: Option<Duration>| DeliveryError::Retryable {
            receiver: self.name.clone(),
            reason: self.token.scrub(&reason),
            retry_after,
        };
        match e {
            SlackClientError::RateLimitError(r) => {
                retryable("Slack rate limit (429)".into(), r.retry_after)
            }
            SlackClientError::ApiError(api) if RETRYABLE_CODES.contains(&api.code.as_str()) => {
                retryable(format!("Slack API error `{}`", api.code), None)
            }
            SlackClientError::ApiError(api) => self.permanent(format!(
                "Slack API error `{}` (channel {})",
                api.code, self.channel
            )),
            SlackClientError::HttpError(h) => {
                let body = h
                    .http_response_body
                    .as_deref()
                    .map(excerpt)
                    .unwrap_or_default();
                match classify_http(
                    &self.name,
                    h.status_code.as_u16(),
                    None,
                    &self.token.scrub(&body),
                ) {
                    Err(err) => err,
                    Ok(()) => self.permanent(format!("unexpected HTTP {}", h.status_code)),
                }
            }
            SlackClientError::ProtocolError(p) => {
                self.permanent(format!("Slack answered something unreadable: {p}"))
            }
            other => retryable(format!("cannot reach Slack: {other}"), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn receiver(api_url: String) -> SlackReceiver {
        SlackReceiver {
            name: "slack-shop".into(),
            api_url,
            token: Secret::new("xoxb-test-token-123"),
            channel: "C0SHOP".into(),
            timeout: Duration::from_secs(5),
        }
    }

    fn message() -> SlackMessage {
        SlackMessage {
            text: "verdict: fail — pod-kill order".into(),
            blocks: json!([
                {"type": "header", "text": {"type": "plain_text", "text": "FAIL: pod-kill order"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*order-availability*: budget consumed 4.1% > max 2%"}}
            ]),
        }
    }

    #[tokio::test]
    async fn posts_the_exact_block_kit_message_with_the_bot_token() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat.postMessage"))
            .and(header("authorization", "Bearer xoxb-test-token-123"))
            .and(body_json(json!({
                "channel": "C0SHOP",
                "text": "verdict: fail — pod-kill order",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "FAIL: pod-kill order"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "*order-availability*: budget consumed 4.1% > max 2%"}}
                ]
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "ok": true, "channel": "C0SHOP", "ts": "1767225600.000100",
                "message": {"text": "verdict: fail — pod-kill order", "ts": "1767225600.000100"}
            })))
            .expect(1)
            .mount(&server)
            .await;
        receiver(format!("{}/api", server.uri()))
            .send(&message())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn api_errors_and_rate_limits_are_classified() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
            )
            .mount(&server)
            .await;
        let err = receiver(format!("{}/api", server.uri()))
            .send(&message())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "slack-shop: Slack API error `channel_not_found` (channel C0SHOP) (not retried)"
        );

        let limited = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "3")
                    .set_body_json(json!({"ok": false, "error": "ratelimited"})),
            )
            .mount(&limited)
            .await;
        let err = receiver(format!("{}/api", limited.uri()))
            .send(&message())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert!(!format!("{err:?}").contains("xoxb-test-token-123"));
    }

    #[tokio::test]
    async fn invalid_blocks_from_a_template_are_a_permanent_error() {
        let mut msg = message();
        msg.blocks = json!({"type": "section"}); // an object, not a list of blocks
        let err = receiver("http://127.0.0.1:1/api".into())
            .send(&msg)
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("invalid Block Kit JSON"), "{err}");
    }
}
