//! The one error type of the Prometheus client.
//!
//! Every variant that comes from a request names the endpoint URL (never with
//! credentials: `PromClient::new` refuses a base URL with a user-info part) and
//! the PromQL query, and every variant that was attempted says how many times.
//! Text that came from the server (error messages, body excerpts) has the
//! client's secrets redacted before it is stored here.

use std::time::Duration;

/// Longest PromQL query text shown in an error message; longer ones are cut.
const MAX_QUERY_IN_MESSAGE: usize = 1000;

/// What went wrong talking to Prometheus (or a Thanos/Mimir/Cortex query frontend).
///
/// Callers that only need "try again later or give up" use
/// [`PromError::is_retryable`]; the client has already retried those
/// `1 + max_retries` times when it returns one.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// The client configuration is unusable (bad base URL, bad header, zero timeout...).
    #[error("invalid Prometheus client configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, without any secret value.
        reason: String,
    },

    /// The caller asked for something that cannot be sent (a NaN timestamp, a
    /// zero step, an end before the start). Nothing was sent.
    #[error("invalid request to {url}{}: {reason}", for_query(.query))]
    InvalidRequest {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// What is wrong with the request.
        reason: String,
    },

    /// No TCP/TLS connection could be made (refused, DNS failure, unreachable).
    #[error("could not connect to Prometheus at {url}{} after {}: {reason}", for_query(.query), attempts_text(.attempts))]
    Connect {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// The transport error of the last attempt.
        reason: String,
    },

    /// No complete answer arrived within the per-request timeout.
    #[error("Prometheus at {url} did not answer within {timeout:?}{} after {}", for_query(.query), attempts_text(.attempts))]
    Timeout {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// The per-request timeout that expired.
        timeout: Duration,
    },

    /// The connection broke after it was made (reset, closed mid-response).
    #[error("request to Prometheus at {url}{} failed after {}: {reason}", for_query(.query), attempts_text(.attempts))]
    Transport {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// The transport error of the last attempt.
        reason: String,
    },

    /// A non-2xx answer without a Prometheus error body (a proxy, a load
    /// balancer, a server that is not ready).
    #[error("Prometheus at {url} answered HTTP {status}{} after {}: {body}", for_query(.query), attempts_text(.attempts))]
    Http {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// HTTP status code of the last answer.
        status: u16,
        /// The start of the response body (at most 512 bytes), secrets redacted.
        body: String,
    },

    /// Prometheus answered `"status": "error"`: 400 `bad_data` for a query
    /// that does not parse, 422 `execution` for one that fails to run, 503
    /// `timeout`/`unavailable`, and so on.
    #[error("Prometheus at {url} rejected the request{} with HTTP {status} after {}: {error_type}: {error}", for_query(.query), attempts_text(.attempts))]
    Api {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// HTTP status code of the last answer.
        status: u16,
        /// Prometheus `errorType`, e.g. `bad_data`, `execution`, `timeout`.
        error_type: String,
        /// Prometheus `error` message, secrets redacted.
        error: String,
    },

    /// The answer was not what the Prometheus HTTP API documents (not JSON, an
    /// unknown result type, a sample value that is not a number, a native
    /// histogram sample).
    #[error("unexpected answer from Prometheus at {url}{} (HTTP {status}) after {}: {reason}", for_query(.query), attempts_text(.attempts))]
    Decode {
        /// Endpoint URL.
        url: String,
        /// The PromQL query, if the endpoint takes one.
        query: Option<String>,
        /// How many requests were tried.
        attempts: u32,
        /// HTTP status code of the answer.
        status: u16,
        /// What did not match, with the position where known.
        reason: String,
    },
}

impl PromError {
    /// True when trying the same request again later may succeed: connection
    /// errors, timeouts, broken connections and 5xx answers. False for 4xx
    /// answers (a bad query stays bad), undecodable answers and bad input.
    pub fn is_retryable(&self) -> bool {
        match self {
            PromError::Connect { .. } | PromError::Timeout { .. } | PromError::Transport { .. } => {
                true
            }
            PromError::Http { status, .. } | PromError::Api { status, .. } => *status >= 500,
            PromError::InvalidConfig { .. }
            | PromError::InvalidRequest { .. }
            | PromError::Decode { .. } => false,
        }
    }

    /// How many requests were sent (0 when the error happened before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            PromError::InvalidConfig { .. } | PromError::InvalidRequest { .. } => 0,
            PromError::Connect { attempts, .. }
            | PromError::Timeout { attempts, .. }
            | PromError::Transport { attempts, .. }
            | PromError::Http { attempts, .. }
            | PromError::Api { attempts, .. }
            | PromError::Decode { attempts, .. } => *attempts,
        }
    }

    /// The same error with its attempt count replaced (the retry loop learns
    /// the count after the error is built).
    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            PromError::InvalidConfig { .. } | PromError::InvalidRequest { .. } => {}
            PromError::Connect { attempts, .. }
            | PromError::Timeout { attempts, .. }
            | PromError::Transport { attempts, .. }
            | PromError::Http { attempts, .. }
            | PromError::Api { attempts, .. }
            | PromError::Decode { attempts, .. } => *attempts = n,
        }
        self
    }
}

/// ` for query `...`` or nothing, for endpoints without a query.
fn for_query(query: &Option<String>) -> String {
    match query {
        None => String::new(),
        Some(q) => {
            let shown = truncate_chars(q, MAX_QUERY_IN_MESSAGE);
            format!(" for query `{shown}`")
        }
    }
}

fn attempts_text(attempts: &u32) -> String {
    if *attempts == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{attempts} attempts")
    }
}

/// The first `max` characters of `s`, with `…` when something was cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}
