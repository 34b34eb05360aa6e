//! What a delivery attempt can end in, shared by every receiver, and the
//! secret type receivers hold credentials in.

use std::fmt;
use std::time::Duration;

/// A credential (token, password, routing key). `Debug` and `Display`
/// never show it; use [`Secret::expose`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret value, for the request that needs it. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Removes every occurrence of the secret from `text` (for errors that
    /// echo what a server answered).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            text.to_string()
        } else {
            text.replace(&self.0, "<redacted>")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    /// Connection errors, timeouts, 5xx, 429: try again later (after
    /// `retry_after` when the receiver said so).
    #[error("{receiver}: {reason} (will retry)")]
    Retryable {
        receiver: String,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Any other rejection (4xx, invalid payload, bad credentials): retrying
    /// the same message cannot succeed.
    #[error("{receiver}: {reason} (not retried)")]
    Permanent { receiver: String, reason: String },
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Retryable { .. })
    }
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::Retryable { retry_after, .. } => *retry_after,
            DeliveryError::Permanent { .. } => None,
        }
    }
}

/// Classifies an HTTP answer: 2xx ok, 429 and 5xx retryable (with the
/// `Retry-After` seconds, when given), any other status permanent.
pub fn classify_http(
    receiver: &str,
    status: u16,
    retry_after_header: Option<&str>,
    body_excerpt: &str,
) -> Result<(), DeliveryError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let reason = if body_excerpt.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body_excerpt}")
    };
    if status == 429 || status >= 500 {
        let retry_after = retry_after_header
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Err(DeliveryError::Retryable {
            receiver: receiver.to_string(),
            reason,
            retry_after,
        })
    } else {
        Err(DeliveryError::Permanent {
            receiver: receiver.to_string(),
            reason,
        })
    }
}

/// At most 300 characters of a response body, on one line.
pub fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        one_line.chars().take(300).collect::<String>() + "…"
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("xoxb-123456");
        assert_eq!(format!("{s:?} {s}"), "Secret(<redacted>) <redacted>");
        assert_eq!(
            s.scrub("token xoxb-123456 rejected"),
            "token <redacted> rejected"
        );
    }

    #[test]
    fn http_statuses_are_classified() {
        assert_eq!(classify_http("pd", 202, None, ""), Ok(()));
        let e = classify_http("pd", 429, Some("7"), "slow down").unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(
            classify_http("pd", 503, None, "")
                .unwrap_err()
                .is_retryable()
        );
        let e = classify_http("pd", 400, None, "bad routing key").unwrap_err();
        assert_eq!(
            e,
            DeliveryError::Permanent {
                receiver: "pd".into(),
                reason: "HTTP 400: bad routing key".into()
            }
        );
    }
}
