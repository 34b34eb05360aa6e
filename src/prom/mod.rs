//! Prometheus HTTP API client: instant and range queries, readiness, auth and
//! tenant headers, per-request timeouts, bounded retries with jittered
//! exponential backoff, and decoding of the JSON answers (including NaN/±Inf
//! sample values and warnings). Works against Prometheus and the query
//! frontends that share its API (Thanos, Mimir, Cortex).
//!
//! Knows nothing about SLOs: it returns series, the callers decide what they
//! mean. It must never put a credential into a `Debug` output, a log line or an
//! error message.
//!
//! Layout: `error` (the [`PromError`] enum), `decode` (pure JSON decoding and
//! the result types), `backoff` (retry delays and jitter), and the client here.

mod backoff;
mod decode;
mod error;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

pub use backoff::{BACKOFF_CAP, backoff_delay};
pub use decode::{InstantSample, QueryData, QueryResult, RangeSeries, format_prom_time};
pub use error::PromError;

use backoff::Jitter;
use decode::{ResponseProblem, decode_error_body, decode_query_response};

/// Where Prometheus is and how to talk to it.
///
/// ```
/// use verdict::prom::{PromAuth, PromConfig};
/// let config = PromConfig {
///     base_url: "http://mimir.example:8080/prometheus".to_owned(),
///     auth: Some(PromAuth::Bearer("token".to_owned())),
///     headers: vec![("X-Scope-OrgID".to_owned(), "tenant-a".to_owned())],
///     ..PromConfig::default()
/// };
/// assert_eq!(config.max_retries, 3);
/// ```
#[derive(Clone)]
pub struct PromConfig {
    /// Base URL of the API, e.g. `http://127.0.0.1:9090`, or with a path
    /// prefix such as `http://mimir:8080/prometheus`. A trailing slash is
    /// tolerated. Must not contain credentials (use `auth`), a query or a fragment.
    pub base_url: String,
    /// Time limit of each HTTP request, connection to last body byte. Default 30s.
    pub timeout: Duration,
    /// Retries after the first attempt for retryable failures. Default 3.
    pub max_retries: u32,
    /// Delay before the first retry; doubles each retry, capped at
    /// [`BACKOFF_CAP`] (5s), jittered into `[d/2, d)`. Default 200ms.
    pub backoff_initial: Duration,
    /// Credentials sent on every request.
    pub auth: Option<PromAuth>,
    /// Extra headers sent on every request, e.g. `("X-Scope-OrgID", "tenant-a")`.
    /// A name may repeat. Values of names that look secret (`Authorization`,
    /// names containing `token`, `key`, `secret`, `password`, `auth`, `cookie`)
    /// are redacted in `Debug` output.
    pub headers: Vec<(String, String)>,
}

impl Default for PromConfig {
    fn default() -> Self {
        PromConfig {
            base_url: "http://127.0.0.1:9090".to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_initial: Duration::from_millis(200),
            auth: None,
            headers: Vec::new(),
        }
    }
}

impl fmt::Debug for PromConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff_initial", &self.backoff_initial)
            .field("auth", &self.auth)
            .field("headers", &RedactedHeaders(&self.headers))
            .finish()
    }
}

/// Credentials for Prometheus or a gateway in front of it.
#[derive(Clone, PartialEq, Eq)]
pub enum PromAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// User name (shown in `Debug` output; must not contain `:`).
        username: String,
        /// Password (never shown).
        password: String,
    },
}

impl fmt::Debug for PromAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            PromAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &format_args!("<redacted>"))
                .finish(),
        }
    }
}

/// A Prometheus API client. Cheap to clone (clones share one connection pool).
#[derive(Clone)]
pub struct PromClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Normalised base URL, no trailing slash.
    base: String,
    timeout: Duration,
    max_retries: u32,
    backoff_initial: Duration,
    /// Auth and extra headers, sent on every request; secret values are marked sensitive.
    headers: HeaderMap,
    /// For `Debug`: which auth kind, never the credential.
    auth_kind: Option<&'static str>,
    /// For `Debug`: the configured extra headers.
    extra_headers: Vec<(String, String)>,
    /// Secret strings to scrub from server-provided text that ends up in errors.
    secrets: Vec<String>,
}

impl fmt::Debug for PromClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("PromClient")
            .field("base_url", &i.base)
            .field("timeout", &i.timeout)
            .field("max_retries", &i.max_retries)
            .field("backoff_initial", &i.backoff_initial)
            .field(
                "auth",
                &format_args!("{}", i.auth_kind.map_or("none", |k| k)),
            )
            .field("headers", &RedactedHeaders(&i.extra_headers))
            .finish()
    }
}

/// The query parameters of a request, for error messages.
struct Request<'a> {
    method: Method,
    url: String,
    query: Option<&'a str>,
    form: Vec<(&'static str, String)>,
}

impl Request<'_> {
    fn query_owned(&self) -> Option<String> {
        self.query.map(str::to_owned)
    }
}

impl PromClient {
    /// Builds a client after checking the configuration: the base URL must be
    /// an `http`/`https` URL without credentials, query or fragment; header
    /// names and values must be valid HTTP; the timeout must not be zero.
    ///
    /// Installs rustls' `ring` crypto provider as the process default if no
    /// provider is installed yet (reqwest needs one to build a client).
    pub fn new(config: PromConfig) -> Result<Self, PromError> {
        let base = normalise_base_url(&config.base_url)?;
        if config.timeout.is_zero() {
            return Err(invalid_config("timeout must be greater than zero"));
        }

        let mut headers = HeaderMap::new();
        let mut secrets = Vec::new();
        let auth_kind = match &config.auth {
            None => None,
            Some(PromAuth::Bearer(token)) => {
                if token.is_empty() {
                    return Err(invalid_config("bearer token is empty"));
                }
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    invalid_config(
                        "bearer token contains characters not allowed in an HTTP header (e.g. a newline)",
                    )
                })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
                secrets.push(token.clone());
                Some("bearer")
            }
            Some(PromAuth::Basic { username, password }) => {
                if username.contains(':') {
                    return Err(invalid_config(
                        "basic auth username must not contain ':' (RFC 7617)",
                    ));
                }
                let encoded = base64_encode(format!("{username}:{password}").as_bytes());
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| invalid_config("basic auth header could not be built"))?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
                secrets.push(password.clone());
                secrets.push(encoded);
                Some("basic")
            }
        };

        for (name, value) in &config.headers {
            let header_name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                invalid_config(format!(
                    "header name {name:?} is not a valid HTTP header name"
                ))
            })?;
            if RESERVED_HEADERS.contains(&header_name.as_str()) {
                return Err(invalid_config(format!(
                    "header {name:?} is set by the client itself and cannot be configured"
                )));
            }
            if header_name == AUTHORIZATION && config.auth.is_some() {
                return Err(invalid_config(
                    "both `auth` and an Authorization header are configured; use one",
                ));
            }
            let secret = is_secret_header(header_name.as_str());
            let mut header_value = HeaderValue::from_str(value).map_err(|_| {
                // the value may be a secret: describe it, never echo it
                invalid_config(format!(
                    "value of header {name:?} contains characters not allowed in an HTTP header (e.g. a newline)"
                ))
            })?;
            if secret {
                header_value.set_sensitive(true);
                secrets.push(value.clone());
                // `Bearer xyz` / `Basic xyz`: the credential alone may be echoed too
                if let Some((_, credential)) = value.trim().rsplit_once(' ') {
                    secrets.push(credential.to_owned());
                }
            }
            headers.append(header_name, header_value);
        }
        // Redacting very short strings would mangle messages without protecting anything.
        secrets.retain(|s| s.len() >= 4);
        // Longest first, so a secret containing another is scrubbed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));

        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Another thread may win the race; either way a provider is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("verdict/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .build()
            .map_err(|e| invalid_config(format!("HTTP client could not be built: {e}")))?;

        Ok(PromClient {
            inner: Arc::new(Inner {
                http,
                base,
                timeout: config.timeout,
                max_retries: config.max_retries,
                backoff_initial: config.backoff_initial,
                headers,
                auth_kind,
                extra_headers: config.headers,
                secrets,
            }),
        })
    }

    /// The base URL, normalised (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Evaluates `query` at `at` (unix seconds): `POST /api/v1/query`.
    pub async fn query_instant(&self, query: &str, at: f64) -> Result<QueryResult, PromError> {
        let request = Request {
            method: Method::POST,
            url: self.endpoint("/api/v1/query"),
            query: Some(query),
            form: vec![("query", query.to_owned()), ("time", format_prom_time(at))],
        };
        if !at.is_finite() {
            return Err(invalid_request(
                &request,
                format!("time {at} is not a finite number"),
            ));
        }
        self.execute(&request, decode_query_response).await
    }

    /// Evaluates `query` from `start` to `end` (unix seconds, inclusive) every
    /// `step_seconds`: `POST /api/v1/query_range`.
    pub async fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step_seconds: f64,
    ) -> Result<QueryResult, PromError> {
        let request = Request {
            method: Method::POST,
            url: self.endpoint("/api/v1/query_range"),
            query: Some(query),
            form: vec![
                ("query", query.to_owned()),
                ("start", format_prom_time(start)),
                ("end", format_prom_time(end)),
                ("step", format_prom_time(step_seconds)),
            ],
        };
        for (name, value) in [("start", start), ("end", end), ("step", step_seconds)] {
            if !value.is_finite() {
                return Err(invalid_request(
                    &request,
                    format!("{name} {value} is not a finite number"),
                ));
            }
        }
        if end < start {
            return Err(invalid_request(
                &request,
                format!(
                    "end {} is before start {}",
                    format_prom_time(end),
                    format_prom_time(start)
                ),
            ));
        }
        if step_seconds < 0.001 {
            return Err(invalid_request(
                &request,
                format!("step {step_seconds}s is below the 1ms resolution of the API"),
            ));
        }
        self.execute(&request, decode_query_response).await
    }

    /// Checks readiness: `GET /-/ready` must answer 2xx (Prometheus answers
    /// 503 while it replays its WAL; that is retried like any 5xx).
    pub async fn ready(&self) -> Result<(), PromError> {
        let request = Request {
            method: Method::GET,
            url: self.endpoint("/-/ready"),
            query: None,
            form: Vec::new(),
        };
        self.execute(&request, |status, body| {
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(decode_error_body(body))
            }
        })
        .await
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base)
    }

    /// Sends `request` up to `1 + max_retries` times, retrying what
    /// [`PromError::is_retryable`] allows, and interprets the answer with `decode`.
    async fn execute<T>(
        &self,
        request: &Request<'_>,
        decode: impl Fn(u16, &[u8]) -> Result<T, ResponseProblem>,
    ) -> Result<T, PromError> {
        let max_attempts = self.inner.max_retries.saturating_add(1);
        let mut jitter = Jitter::from_clock();
        let mut attempt = 1u32;
        loop {
            let err = match self.attempt(request).await {
                Ok((status, body)) => match decode(status, &body) {
                    Ok(value) => return Ok(value),
                    Err(problem) => self.problem_error(request, status, problem),
                },
                Err(err) => err,
            }
            .with_attempts(attempt);

            if attempt >= max_attempts || !err.is_retryable() {
                return Err(err);
            }
            let delay = backoff_delay(self.inner.backoff_initial, attempt, jitter.next_unit());
            tracing::warn!(
                url = %request.url,
                attempt,
                max_attempts,
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "Prometheus request failed, retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One HTTP exchange: the status and the whole body, or a transport error.
    async fn attempt(&self, request: &Request<'_>) -> Result<(u16, Vec<u8>), PromError> {
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), &request.url)
            .timeout(self.inner.timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .headers(self.inner.headers.clone());
        if request.method == Method::POST {
            builder = builder.form(&request.form);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| self.transport_error(request, e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(request, e))?;
        Ok((status.as_u16(), body.to_vec()))
    }

    fn transport_error(&self, request: &Request<'_>, err: reqwest::Error) -> PromError {
        let url = request.url.clone();
        let query = request.query_owned();
        if err.is_timeout() {
            return PromError::Timeout {
                url,
                query,
                attempts: 0,
                timeout: self.inner.timeout,
            };
        }
        let is_connect = err.is_connect();
        let is_builder = err.is_builder();
        let reason = self.redact(&error_chain(&err.without_url()));
        if is_builder {
            PromError::InvalidRequest { url, query, reason }
        } else if is_connect {
            PromError::Connect {
                url,
                query,
                attempts: 0,
                reason,
            }
        } else {
            PromError::Transport {
                url,
                query,
                attempts: 0,
                reason,
            }
        }
    }

    fn problem_error(
        &self,
        request: &Request<'_>,
        status: u16,
        problem: ResponseProblem,
    ) -> PromError {
        let url = request.url.clone();
        let query = request.query_owned();
        match problem {
            ResponseProblem::Api { error_type, error } => PromError::Api {
                url,
                query,
                attempts: 0,
                status,
                error_type: self.redact(&error_type),
                error: self.redact(&error),
            },
            ResponseProblem::Http { body_excerpt } => PromError::Http {
                url,
                query,
                attempts: 0,
                status,
                body: self.redact(&body_excerpt),
            },
            ResponseProblem::Decode { reason } => PromError::Decode {
                url,
                query,
                attempts: 0,
                status,
                reason: self.redact(&reason),
            },
        }
    }

    /// Replaces every configured secret in server-provided text.
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.inner.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "<redacted>");
            }
        }
        out
    }
}

/// Headers the client sets itself.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

/// Header names whose values are treated as secrets.
fn is_secret_header(lowercase_name: &str) -> bool {
    ["auth", "token", "key", "secret", "password", "cookie"]
        .iter()
        .any(|word| lowercase_name.contains(word))
}

/// `Debug` for configured headers: names always, values unless secret-looking.
struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if is_secret_header(&name.to_ascii_lowercase()) {
                list.entry(&(name, format_args!("<redacted>")));
            } else {
                list.entry(&(name, value));
            }
        }
        list.finish()
    }
}

fn invalid_config(reason: impl Into<String>) -> PromError {
    PromError::InvalidConfig {
        reason: reason.into(),
    }
}

fn invalid_request(request: &Request<'_>, reason: String) -> PromError {
    PromError::InvalidRequest {
        url: request.url.clone(),
        query: request.query_owned(),
        reason,
    }
}

/// Checks the base URL and returns it without trailing slashes.
fn normalise_base_url(raw: &str) -> Result<String, PromError> {
    let trimmed = raw.trim();
    // Before parsing, a URL with '@' may carry a password: never echo it.
    let shown = if trimmed.contains('@') {
        "(not shown: it contains '@')".to_owned()
    } else {
        format!("{trimmed:?}")
    };
    if !trimmed.contains("://") {
        // `localhost:9090` would parse as scheme "localhost"; say what is missing
        return Err(invalid_config(format!(
            "base_url {shown} must start with http:// or https://"
        )));
    }
    let url = Url::parse(trimmed)
        .map_err(|e| invalid_config(format!("base_url {shown} is not a valid URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(invalid_config(format!(
            "base_url {:?} contains credentials; put them in `auth` instead",
            shown.as_str()
        )));
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid_config(format!(
            "base_url {trimmed:?} must start with http:// or https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid_config(format!("base_url {trimmed:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid_config(format!(
            "base_url {trimmed:?} must not have a query string or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `err: source: source...`, the way the error reads to a person.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    // bounded: error chains are short, but never trust a cycle
    for _ in 0..16 {
        let Some(s) = source else { break };
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), for the Basic auth header.
fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}
