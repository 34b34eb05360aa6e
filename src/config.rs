//! Server configuration: a TOML file, `VERDICT_…` environment overrides and
//! command-line flags, merged in that order over defaults that need nothing.
//!
//! Owns: the configuration model, its defaults, parsing (strict: unknown
//! keys are errors), the environment mapping and reading secrets from
//! `*_file` paths. Must not: start anything, connect anywhere, or let a
//! secret reach a `Debug` output, a log line or an error message.
//!
//! ```toml
//! listen = "127.0.0.1:9797"
//! database_url = "sqlite://verdict.db"
//! slos = ["slos"]
//!
//! [prometheus]
//! url = "http://127.0.0.1:9090"
//! bearer_token_file = "/run/secrets/prom-token"
//!
//! [http]
//! body_limit = 1048576
//! request_timeout = "30s"
//! metrics_require_token = false
//!
//! [scheduler]
//! lease = "30s"
//! guard_interval = "15s"
//! ```
//!
//! Every key has an environment variable: `VERDICT_` + the section and key
//! in upper case (`VERDICT_LISTEN`, `VERDICT_PROMETHEUS_URL`,
//! `VERDICT_SCHEDULER_LEASE`); `slos` takes a comma-separated list.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::prom::{PromAuth, PromConfig};
use crate::spec::PromDuration;

/// The port `verdict serve` listens on by default. Chosen outside the ports
/// of the usual Prometheus components (9090–9094 Prometheus, Alertmanager,
/// Pushgateway; 9100 node exporter; 3000 Grafana; 8080 cAdvisor and friends).
pub const DEFAULT_PORT: u16 = 9797;
/// The SQLite database created on first start when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://verdict.db";
/// Where Prometheus is expected when none is configured.
pub const DEFAULT_PROMETHEUS_URL: &str = "http://127.0.0.1:9090";
/// Largest request body accepted by default: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Why the configuration could not be loaded. Messages name the file, key
/// or variable, never a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML or has unknown keys.
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// An environment variable has an unusable value.
    #[error("invalid environment variable {name}: {message}")]
    Env { name: String, message: String },
    /// A secret file could not be read.
    #[error("cannot read the secret file {path} given by {key}: {source}")]
    SecretFile {
        key: String,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value is out of its domain.
    #[error("invalid {key}: {message}")]
    Invalid { key: String, message: String },
}

/// A string that is never shown: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The effective server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server binds. Default `127.0.0.1:9797`.
    pub listen: SocketAddr,
    /// `sqlite://FILE`, `sqlite::memory:` or `postgres://…` (may hold a password).
    pub database_url: Secret,
    /// SLO spec files or directories loaded at start.
    pub slos: Vec<PathBuf>,
    /// Whether `slos` was configured explicitly (a missing default dir is not an error).
    pub slos_explicit: bool,
    /// How to reach Prometheus.
    pub prometheus: PrometheusSettings,
    /// HTTP server limits and auth options.
    pub http: HttpSettings,
    /// The lifecycle scheduler.
    pub scheduler: SchedulerSettings,
    /// Receivers, routes and the delivery outbox.
    pub notifications: NotificationSettings,
}

/// Notification receivers, the route tree and the outbox worker.
#[derive(Clone, Debug)]
pub struct NotificationSettings {
    /// `[receivers.<name>]`, by name.
    pub receivers: BTreeMap<String, crate::notify::outbox::Receiver>,
    /// `[route]`, validated against the receivers; `None`: nothing is routed.
    pub route: Option<crate::notify::route::Route>,
    /// Delivery attempts before a delivery is `dead`. Default 8.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles, with jitter. Default 2s.
    pub backoff: Duration,
    /// Longest delay between attempts. Default 10m.
    pub max_backoff: Duration,
    /// How often the outbox is polled. Default 1s.
    pub poll_interval: Duration,
    /// How long a claimed delivery stays ours. Default 60s.
    pub lease: Duration,
    /// Basic-auth user Alertmanager's `http_config` sends to the webhook.
    pub alertmanager_username: Option<String>,
    /// Its password.
    pub alertmanager_password: Option<Secret>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            receivers: BTreeMap::new(),
            route: None,
            max_attempts: 8,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            alertmanager_username: None,
            alertmanager_password: None,
        }
    }
}

/// How to reach Prometheus (or Thanos, Mimir, Cortex).
#[derive(Clone, Debug)]
pub struct PrometheusSettings {
    /// Base URL. Default `http://127.0.0.1:9090`.
    pub url: String,
    /// Per-request timeout. Default 30s.
    pub timeout: Duration,
    /// `Authorization: Bearer …`.
    pub bearer_token: Option<Secret>,
    /// Basic auth user name (with `password`).
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<Secret>,
    /// `X-Scope-OrgID` tenant for Mimir, Cortex, Thanos.
    pub tenant: Option<String>,
    /// Step of the evaluation's range queries; make it the scrape interval. Default 15s.
    pub step: Duration,
    /// Rolling window of the error-ratio series, at least twice the step. Default 1m.
    pub rate_window: Duration,
}

impl PrometheusSettings {
    /// The Prometheus client configuration these settings describe.
    pub fn client_config(&self) -> PromConfig {
        let auth = match (&self.bearer_token, &self.username, &self.password) {
            (Some(token), _, _) => Some(PromAuth::Bearer(token.expose().to_owned())),
            (None, Some(username), password) => Some(PromAuth::Basic {
                username: username.clone(),
                password: password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        PromConfig {
            base_url: self.url.clone(),
            timeout: self.timeout,
            auth,
            headers: self
                .tenant
                .iter()
                .map(|t| ("X-Scope-OrgID".to_owned(), t.clone()))
                .collect(),
            ..PromConfig::default()
        }
    }
}

/// HTTP server options.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Largest accepted request body in bytes. Default 1 MiB.
    pub body_limit: usize,
    /// Time limit of one request. Default 30s.
    pub request_timeout: Duration,
    /// Whether `/metrics` needs a (viewer) token. Default false.
    pub metrics_require_token: bool,
    /// How long a validated token is remembered. Revocations through this
    /// server apply at once; through another replica, within this time.
    /// Default 5s; 0 disables the cache.
    pub auth_cache_ttl: Duration,
    /// How long `GET /api/v1/experiments/{id}` may serve a remembered
    /// answer. Changes through this server's API apply at once; the
    /// scheduler's and other replicas' changes show within this time.
    /// Default 500ms; 0 disables the cache.
    pub read_cache_ttl: Duration,
}

/// Scheduler options.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// Run the scheduler in this process. Default true.
    pub enabled: bool,
    /// How often the database is polled for due work. Default 1s.
    pub poll_interval: Duration,
    /// How long a claimed work item stays ours without renewal. Default 30s.
    pub lease: Duration,
    /// How often a running experiment's guardrails are checked. Default 15s.
    pub guard_interval: Duration,
    /// Work items processed concurrently. Default 8.
    pub max_in_flight: usize,
    /// Evaluation attempts when Prometheus fails before the experiment
    /// goes to `error`. Default 5.
    pub eval_max_attempts: u32,
    /// Delay before the second evaluation attempt; doubles. Default 5s.
    pub eval_backoff: Duration,
    /// Delivery attempts of the abort webhook. Default 5.
    pub webhook_max_attempts: u32,
    /// Delay before the second webhook attempt; doubles. Default 1s.
    pub webhook_backoff: Duration,
    /// Time limit of one webhook request. Default 10s.
    pub webhook_timeout: Duration,
    /// On shutdown, how long in-flight work may finish before its leases are
    /// released. Default 10s.
    pub shutdown_grace: Duration,
    /// Recovery observation of experiments that name none. Default 5m.
    pub default_observe_recovery: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            database_url: Secret::new(DEFAULT_DATABASE_URL),
            slos: vec![PathBuf::from("slos")],
            slos_explicit: false,
            prometheus: PrometheusSettings {
                url: DEFAULT_PROMETHEUS_URL.to_owned(),
                timeout: Duration::from_secs(30),
                bearer_token: None,
                username: None,
                password: None,
                tenant: None,
                step: Duration::from_secs(15),
                rate_window: Duration::from_secs(60),
            },
            http: HttpSettings {
                body_limit: DEFAULT_BODY_LIMIT,
                request_timeout: Duration::from_secs(30),
                metrics_require_token: false,
                auth_cache_ttl: Duration::from_secs(5),
                read_cache_ttl: Duration::from_millis(500),
            },
            scheduler: SchedulerSettings::default(),
            notifications: NotificationSettings::default(),
        }
    }
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            enabled: true,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            guard_interval: Duration::from_secs(15),
            max_in_flight: 8,
            eval_max_attempts: 5,
            eval_backoff: Duration::from_secs(5),
            webhook_max_attempts: 5,
            webhook_backoff: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            default_observe_recovery: Duration::from_secs(300),
        }
    }
}

/// Values given on the command line; they win over file and environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--database-url`.
    pub database_url: Option<Secret>,
    /// `--listen`.
    pub listen: Option<String>,
}

// ---- raw layers -----------------------------------------------------------

/// One layer (file, environment or flags): everything optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    slos: Option<Vec<PathBuf>>,
    #[serde(default)]
    prometheus: RawPrometheus,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    scheduler: RawScheduler,
    receivers: Option<BTreeMap<String, RawReceiver>>,
    route: Option<crate::notify::route::RouteConfig>,
    #[serde(default)]
    notifications: RawNotifications,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    max_attempts: Option<u64>,
    backoff: Option<String>,
    max_backoff: Option<String>,
    poll_interval: Option<String>,
    lease: Option<String>,
    alertmanager_username: Option<String>,
    alertmanager_password: Option<String>,
    alertmanager_password_file: Option<PathBuf>,
}

/// `[receivers.<name>]`: the fields of every type; `finish` checks which
/// belong to the given `type`.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawReceiver {
    #[serde(rename = "type")]
    kind: String,
    timeout: Option<String>,
    // slack
    api_url: Option<String>,
    token: Option<String>,
    token_file: Option<PathBuf>,
    token_env: Option<String>,
    channel: Option<String>,
    // pagerduty
    base_url: Option<String>,
    routing_key: Option<String>,
    routing_key_file: Option<PathBuf>,
    routing_key_env: Option<String>,
    // email
    host: Option<String>,
    port: Option<u16>,
    security: Option<crate::notify::email::SmtpSecurity>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrometheus {
    url: Option<String>,
    timeout: Option<String>,
    bearer_token: Option<String>,
    bearer_token_file: Option<PathBuf>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    tenant: Option<String>,
    step: Option<String>,
    rate_window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    body_limit: Option<u64>,
    request_timeout: Option<String>,
    metrics_require_token: Option<bool>,
    auth_cache_ttl: Option<String>,
    read_cache_ttl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheduler {
    enabled: Option<bool>,
    poll_interval: Option<String>,
    lease: Option<String>,
    guard_interval: Option<String>,
    max_in_flight: Option<u64>,
    eval_max_attempts: Option<u64>,
    eval_backoff: Option<String>,
    webhook_max_attempts: Option<u64>,
    webhook_backoff: Option<String>,
    webhook_timeout: Option<String>,
    shutdown_grace: Option<String>,
    default_observe_recovery: Option<String>,
}

/// The kind of value a key holds, for reading it from the environment.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
    List,
}

/// Every key, as `(section, key, kind)`; `section` is empty at top level.
const KEYS: &[(&str, &str, Kind)] = &[
    ("", "listen", Kind::Str),
    ("", "database_url", Kind::Str),
    ("", "database_url_file", Kind::Str),
    ("", "slos", Kind::List),
    ("prometheus", "url", Kind::Str),
    ("prometheus", "timeout", Kind::Str),
    ("prometheus", "bearer_token", Kind::Str),
    ("prometheus", "bearer_token_file", Kind::Str),
    ("prometheus", "username", Kind::Str),
    ("prometheus", "password", Kind::Str),
    ("prometheus", "password_file", Kind::Str),
    ("prometheus", "tenant", Kind::Str),
    ("prometheus", "step", Kind::Str),
    ("prometheus", "rate_window", Kind::Str),
    ("http", "body_limit", Kind::Int),
    ("http", "request_timeout", Kind::Str),
    ("http", "metrics_require_token", Kind::Bool),
    ("http", "auth_cache_ttl", Kind::Str),
    ("http", "read_cache_ttl", Kind::Str),
    ("scheduler", "enabled", Kind::Bool),
    ("scheduler", "poll_interval", Kind::Str),
    ("scheduler", "lease", Kind::Str),
    ("scheduler", "guard_interval", Kind::Str),
    ("scheduler", "max_in_flight", Kind::Int),
    ("scheduler", "eval_max_attempts", Kind::Int),
    ("scheduler", "eval_backoff", Kind::Str),
    ("scheduler", "webhook_max_attempts", Kind::Int),
    ("scheduler", "webhook_backoff", Kind::Str),
    ("scheduler", "webhook_timeout", Kind::Str),
    ("scheduler", "shutdown_grace", Kind::Str),
    ("scheduler", "default_observe_recovery", Kind::Str),
    ("notifications", "max_attempts", Kind::Int),
    ("notifications", "backoff", Kind::Str),
    ("notifications", "max_backoff", Kind::Str),
    ("notifications", "poll_interval", Kind::Str),
    ("notifications", "lease", Kind::Str),
    ("notifications", "alertmanager_username", Kind::Str),
    ("notifications", "alertmanager_password", Kind::Str),
    ("notifications", "alertmanager_password_file", Kind::Str),
];

/// The environment variable of a key: `VERDICT_` + section + key, upper case.
pub fn env_name(section: &str, key: &str) -> String {
    if section.is_empty() {
        format!("VERDICT_{}", key.to_uppercase())
    } else {
        format!("VERDICT_{}_{}", section.to_uppercase(), key.to_uppercase())
    }
}

/// Every environment variable the configuration reads.
pub fn env_names() -> Vec<String> {
    KEYS.iter().map(|(s, k, _)| env_name(s, k)).collect()
}

fn is_secret_key(key: &str) -> bool {
    matches!(
        key,
        "bearer_token" | "password" | "database_url" | "alertmanager_password"
    )
}

/// Builds a layer from environment variables, typed per key.
fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Result<RawConfig, ConfigError> {
    let mut root = toml::Table::new();
    for (section, key, kind) in KEYS {
        let name = env_name(section, key);
        let Some(text) = env(&name) else { continue };
        let bad = |what: &str| ConfigError::Env {
            name: name.clone(),
            message: if is_secret_key(key) {
                format!("expected {what}")
            } else {
                format!("expected {what}, got {text:?}")
            },
        };
        let value = match kind {
            Kind::Str => toml::Value::String(text.clone()),
            Kind::Int => toml::Value::Integer(
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| bad("a whole number"))?,
            ),
            Kind::Bool => match text.trim() {
                "true" | "1" | "yes" => toml::Value::Boolean(true),
                "false" | "0" | "no" => toml::Value::Boolean(false),
                _ => return Err(bad("true or false")),
            },
            Kind::List => toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_owned()))
                    .collect(),
            ),
        };
        let table = if section.is_empty() {
            &mut root
        } else {
            match root
                .entry((*section).to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                toml::Value::Table(t) => t,
                _ => continue,
            }
        };
        table.insert((*key).to_owned(), value);
    }
    toml::Value::Table(root)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Env {
            name: "VERDICT_*".to_owned(),
            message: e.message().to_owned(),
        })
}

fn file_layer(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

macro_rules! merge_opt {
    ($dst:expr, $src:expr, [$($field:ident),* $(,)?]) => {
        $( if $src.$field.is_some() { $dst.$field = $src.$field; } )*
    };
}

impl RawConfig {
    /// Later layers win, key by key.
    fn merge(&mut self, other: RawConfig) {
        merge_opt!(self, other, [listen, slos]);
        // A URL and a URL file given in the same or a later layer: the later wins.
        if other.database_url.is_some() {
            self.database_url = other.database_url;
            self.database_url_file = None;
        }
        if other.database_url_file.is_some() {
            self.database_url_file = other.database_url_file;
            self.database_url = None;
        }
        let (p, o) = (&mut self.prometheus, other.prometheus);
        merge_opt!(p, o, [url, timeout, username, tenant, step, rate_window]);
        if o.bearer_token.is_some() {
            p.bearer_token = o.bearer_token;
            p.bearer_token_file = None;
        }
        if o.bearer_token_file.is_some() {
            p.bearer_token_file = o.bearer_token_file;
            p.bearer_token = None;
        }
        if o.password.is_some() {
            p.password = o.password;
            p.password_file = None;
        }
        if o.password_file.is_some() {
            p.password_file = o.password_file;
            p.password = None;
        }
        let (h, o) = (&mut self.http, other.http);
        merge_opt!(
            h,
            o,
            [
                body_limit,
                request_timeout,
                metrics_require_token,
                auth_cache_ttl,
                read_cache_ttl
            ]
        );
        merge_opt!(self, other, [receivers, route]);
        let (n, o) = (&mut self.notifications, other.notifications);
        merge_opt!(
            n,
            o,
            [
                max_attempts,
                backoff,
                max_backoff,
                poll_interval,
                lease,
                alertmanager_username
            ]
        );
        if o.alertmanager_password.is_some() {
            n.alertmanager_password = o.alertmanager_password;
            n.alertmanager_password_file = None;
        }
        if o.alertmanager_password_file.is_some() {
            n.alertmanager_password_file = o.alertmanager_password_file;
            n.alertmanager_password = None;
        }
        let (s, o) = (&mut self.scheduler, other.scheduler);
        merge_opt!(
            s,
            o,
            [
                enabled,
                poll_interval,
                lease,
                guard_interval,
                max_in_flight,
                eval_max_attempts,
                eval_backoff,
                webhook_max_attempts,
                webhook_backoff,
                webhook_timeout,
                shutdown_grace,
                default_observe_recovery,
            ]
        );
    }
}

/// Loads the configuration: defaults, then `file` (if any), then the
/// environment (`env` looks a variable up), then `overrides`.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: Overrides,
) -> Result<Config, ConfigError> {
    let mut raw = RawConfig::default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        raw.merge(file_layer(path, &text)?);
    }
    raw.merge(env_layer(env)?);
    raw.merge(RawConfig {
        listen: overrides.listen,
        database_url: overrides.database_url.map(|s| s.0),
        ..RawConfig::default()
    });
    finish(raw, env)
}

/// Loads with the process environment.
pub fn load_from_process(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
    load(file, &|name| std::env::var(name).ok(), overrides)
}

fn duration(key: &str, text: Option<String>, default: Duration) -> Result<Duration, ConfigError> {
    match text {
        None => Ok(default),
        Some(t) => PromDuration::parse(t.trim())
            .map(|d| d.as_std())
            .map_err(|e| ConfigError::Invalid {
                key: key.to_owned(),
                message: e.to_string(),
            }),
    }
}

fn positive(key: &str, d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Err(ConfigError::Invalid {
            key: key.to_owned(),
            message: "must be greater than zero".to_owned(),
        })
    } else {
        Ok(d)
    }
}

fn count(key: &str, value: Option<u64>, default: u64) -> Result<u64, ConfigError> {
    let v = value.unwrap_or(default);
    if v == 0 {
        return Err(ConfigError::Invalid {
            key: key.to_owned(),
            message: "must be at least 1".to_owned(),
        });
    }
    Ok(v)
}

fn read_secret(key: &str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
        key: key.to_owned(),
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Secret::new(text.trim_end_matches(['\n', '\r']).to_owned()))
}

fn finish(raw: RawConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let d = Config::default();
    let listen = match raw.listen {
        None => d.listen,
        Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
            key: "listen".to_owned(),
            message: format!("{text:?} is not an address like 127.0.0.1:{DEFAULT_PORT}"),
        })?,
    };
    let database_url = match (raw.database_url, raw.database_url_file) {
        (Some(url), _) => Secret::new(url),
        (None, Some(path)) => read_secret("database_url_file", &path)?,
        (None, None) => d.database_url,
    };
    check_database_url(database_url.expose())?;
    let slos_explicit = raw.slos.is_some();
    let slos = raw.slos.unwrap_or(d.slos);

    let p = raw.prometheus;
    let bearer_token = match (p.bearer_token, p.bearer_token_file) {
        (Some(t), _) => Some(Secret::new(t)),
        (None, Some(path)) => Some(read_secret("prometheus.bearer_token_file", &path)?),
        (None, None) => None,
    };
    let password = match (p.password, p.password_file) {
        (Some(t), _) => Some(Secret::new(t)),
        (None, Some(path)) => Some(read_secret("prometheus.password_file", &path)?),
        (None, None) => None,
    };
    if bearer_token.is_some() && p.username.is_some() {
        return Err(ConfigError::Invalid {
            key: "prometheus".to_owned(),
            message: "give either bearer_token or username/password, not both".to_owned(),
        });
    }
    if password.is_some() && p.username.is_none() {
        return Err(ConfigError::Invalid {
            key: "prometheus.password".to_owned(),
            message: "a password needs a username".to_owned(),
        });
    }
    let prometheus = PrometheusSettings {
        url: p.url.unwrap_or(d.prometheus.url),
        timeout: positive(
            "prometheus.timeout",
            duration("prometheus.timeout", p.timeout, d.prometheus.timeout)?,
        )?,
        bearer_token,
        username: p.username,
        password,
        tenant: p.tenant,
        step: positive(
            "prometheus.step",
            duration("prometheus.step", p.step, d.prometheus.step)?,
        )?,
        rate_window: positive(
            "prometheus.rate_window",
            duration(
                "prometheus.rate_window",
                p.rate_window,
                d.prometheus.rate_window,
            )?,
        )?,
    };
    if prometheus.rate_window < prometheus.step * 2 {
        return Err(ConfigError::Invalid {
            key: "prometheus.rate_window".to_owned(),
            message: format!(
                "must be at least twice prometheus.step ({:?}): a rate needs two samples in its window",
                prometheus.step
            ),
        });
    }
    // Let the client check the URL and headers now, with a message that names the key.
    crate::prom::PromClient::new(prometheus.client_config()).map_err(|e| ConfigError::Invalid {
        key: "prometheus".to_owned(),
        message: e.to_string(),
    })?;

    let h = raw.http;
    let body_limit = count("http.body_limit", h.body_limit, d.http.body_limit as u64)?;
    let http = HttpSettings {
        body_limit: usize::try_from(body_limit).map_err(|_| ConfigError::Invalid {
            key: "http.body_limit".to_owned(),
            message: "too large".to_owned(),
        })?,
        request_timeout: positive(
            "http.request_timeout",
            duration(
                "http.request_timeout",
                h.request_timeout,
                d.http.request_timeout,
            )?,
        )?,
        metrics_require_token: h.metrics_require_token.unwrap_or(false),
        auth_cache_ttl: duration(
            "http.auth_cache_ttl",
            h.auth_cache_ttl,
            d.http.auth_cache_ttl,
        )?,
        read_cache_ttl: duration(
            "http.read_cache_ttl",
            h.read_cache_ttl,
            d.http.read_cache_ttl,
        )?,
    };

    let s = raw.scheduler;
    let ds = SchedulerSettings::default();
    let key = |k: &str| format!("scheduler.{k}");
    let scheduler = SchedulerSettings {
        enabled: s.enabled.unwrap_or(true),
        poll_interval: positive(
            &key("poll_interval"),
            duration(&key("poll_interval"), s.poll_interval, ds.poll_interval)?,
        )?,
        lease: positive(&key("lease"), duration(&key("lease"), s.lease, ds.lease)?)?,
        guard_interval: positive(
            &key("guard_interval"),
            duration(&key("guard_interval"), s.guard_interval, ds.guard_interval)?,
        )?,
        max_in_flight: count(
            &key("max_in_flight"),
            s.max_in_flight,
            ds.max_in_flight as u64,
        )? as usize,
        eval_max_attempts: count(
            &key("eval_max_attempts"),
            s.eval_max_attempts,
            u64::from(ds.eval_max_attempts),
        )?
        .min(u64::from(u32::MAX)) as u32,
        eval_backoff: duration(&key("eval_backoff"), s.eval_backoff, ds.eval_backoff)?,
        webhook_max_attempts: count(
            &key("webhook_max_attempts"),
            s.webhook_max_attempts,
            u64::from(ds.webhook_max_attempts),
        )?
        .min(u64::from(u32::MAX)) as u32,
        webhook_backoff: duration(
            &key("webhook_backoff"),
            s.webhook_backoff,
            ds.webhook_backoff,
        )?,
        webhook_timeout: positive(
            &key("webhook_timeout"),
            duration(
                &key("webhook_timeout"),
                s.webhook_timeout,
                ds.webhook_timeout,
            )?,
        )?,
        shutdown_grace: duration(&key("shutdown_grace"), s.shutdown_grace, ds.shutdown_grace)?,
        default_observe_recovery: duration(
            &key("default_observe_recovery"),
            s.default_observe_recovery,
            ds.default_observe_recovery,
        )?,
    };
    if scheduler.lease < scheduler.poll_interval {
        return Err(ConfigError::Invalid {
            key: "scheduler.lease".to_owned(),
            message: "must not be shorter than scheduler.poll_interval".to_owned(),
        });
    }

    let notifications = notifications(
        raw.notifications,
        raw.receivers.unwrap_or_default(),
        raw.route,
        env,
    )?;

    Ok(Config {
        listen,
        database_url,
        slos,
        slos_explicit,
        prometheus,
        http,
        scheduler,
        notifications,
    })
}

/// Accepts `sqlite:…` and `postgres://` / `postgresql://` URLs.
fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            key: "database_url".to_owned(),
            message: format!(
                "expected sqlite://FILE, sqlite::memory: or postgres://…, got a URL starting with {:?}",
                redact_url(url).chars().take(24).collect::<String>()
            ),
        })
    }
}

/// A URL with any password replaced by `***`, for logs and the config endpoint.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

/// The effective configuration as shown to admins (`GET /api/v1/config`):
/// every key, secrets replaced by whether they are set.
pub fn describe(config: &Config) -> BTreeMap<String, serde_json::Value> {
    use serde_json::json;
    let secs = |d: Duration| json!(PromDuration::from_millis(d.as_millis() as u64).to_string());
    let mut out = BTreeMap::new();
    out.insert("listen".into(), json!(config.listen.to_string()));
    out.insert(
        "database_url".into(),
        json!(redact_url(config.database_url.expose())),
    );
    out.insert(
        "slos".into(),
        json!(
            config
                .slos
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        ),
    );
    let p = &config.prometheus;
    out.insert("prometheus.url".into(), json!(p.url));
    out.insert("prometheus.timeout".into(), secs(p.timeout));
    out.insert(
        "prometheus.bearer_token".into(),
        json!(p.bearer_token.as_ref().map(|_| "<set>")),
    );
    out.insert("prometheus.username".into(), json!(p.username));
    out.insert(
        "prometheus.password".into(),
        json!(p.password.as_ref().map(|_| "<set>")),
    );
    out.insert("prometheus.tenant".into(), json!(p.tenant));
    let h = &config.http;
    out.insert("http.body_limit".into(), json!(h.body_limit));
    out.insert("http.request_timeout".into(), secs(h.request_timeout));
    out.insert(
        "http.metrics_require_token".into(),
        json!(h.metrics_require_token),
    );
    out.insert("http.auth_cache_ttl".into(), secs(h.auth_cache_ttl));
    out.insert("http.read_cache_ttl".into(), secs(h.read_cache_ttl));
    let s = &config.scheduler;
    out.insert("scheduler.enabled".into(), json!(s.enabled));
    out.insert("scheduler.poll_interval".into(), secs(s.poll_interval));
    out.insert("scheduler.lease".into(), secs(s.lease));
    out.insert("scheduler.guard_interval".into(), secs(s.guard_interval));
    out.insert("scheduler.max_in_flight".into(), json!(s.max_in_flight));
    out.insert(
        "scheduler.eval_max_attempts".into(),
        json!(s.eval_max_attempts),
    );
    out.insert("scheduler.eval_backoff".into(), secs(s.eval_backoff));
    out.insert(
        "scheduler.webhook_max_attempts".into(),
        json!(s.webhook_max_attempts),
    );
    out.insert("scheduler.webhook_backoff".into(), secs(s.webhook_backoff));
    out.insert("scheduler.webhook_timeout".into(), secs(s.webhook_timeout));
    out.insert("scheduler.shutdown_grace".into(), secs(s.shutdown_grace));
    out.insert(
        "scheduler.default_observe_recovery".into(),
        secs(s.default_observe_recovery),
    );
    out
}

/// One secret of a receiver: inline, from a file, or from a named
/// environment variable (exactly one).
fn receiver_secret(
    key: &str,
    inline: Option<String>,
    file: Option<PathBuf>,
    env_var: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<crate::notify::delivery::Secret>, ConfigError> {
    let given = usize::from(inline.is_some())
        + usize::from(file.is_some())
        + usize::from(env_var.is_some());
    if given > 1 {
        return Err(ConfigError::Invalid {
            key: key.to_owned(),
            message: format!("give one of {key}, {key}_file or {key}_env"),
        });
    }
    let value = match (inline, file, env_var) {
        (Some(v), _, _) => v,
        (_, Some(path), _) => read_secret(&format!("{key}_file"), &path)?.0,
        (_, _, Some(name)) => env(&name).ok_or_else(|| ConfigError::Invalid {
            key: format!("{key}_env"),
            message: format!("the environment variable {name} is not set"),
        })?,
        (None, None, None) => return Ok(None),
    };
    Ok(Some(crate::notify::delivery::Secret::new(value)))
}

fn receiver(
    name: &str,
    r: RawReceiver,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::notify::outbox::Receiver, ConfigError> {
    use crate::notify::outbox::Receiver;
    let key = |k: &str| format!("receivers.{name}.{k}");
    let invalid = |k: &str, message: String| ConfigError::Invalid {
        key: key(k),
        message,
    };
    let timeout = positive(
        &key("timeout"),
        duration(&key("timeout"), r.timeout.clone(), Duration::from_secs(10))?,
    )?;
    // Fields that belong to another type are a mistake worth naming.
    let slack_only = r.api_url.is_some()
        || r.token.is_some()
        || r.token_file.is_some()
        || r.token_env.is_some()
        || r.channel.is_some();
    let pd_only = r.base_url.is_some()
        || r.routing_key.is_some()
        || r.routing_key_file.is_some()
        || r.routing_key_env.is_some();
    let email_only = r.host.is_some()
        || r.port.is_some()
        || r.security.is_some()
        || r.username.is_some()
        || r.password.is_some()
        || r.password_file.is_some()
        || r.password_env.is_some()
        || r.from.is_some()
        || r.to.is_some();
    let foreign = match r.kind.as_str() {
        "slack" => pd_only || email_only,
        "pagerduty" => slack_only || email_only,
        "email" => slack_only || pd_only,
        other => {
            return Err(invalid(
                "type",
                format!("unknown receiver type {other:?}; expected slack, email or pagerduty"),
            ));
        }
    };
    if foreign {
        return Err(invalid(
            "type",
            format!("has fields that do not belong to a {} receiver", r.kind),
        ));
    }
    match r.kind.as_str() {
        "slack" => {
            let token = receiver_secret(&key("token"), r.token, r.token_file, r.token_env, env)?
                .ok_or_else(|| {
                    invalid(
                        "token",
                        "a Slack receiver needs a bot token (token_file or token_env)".into(),
                    )
                })?;
            let channel = r
                .channel
                .ok_or_else(|| invalid("channel", "a Slack receiver needs a channel".into()))?;
            Ok(Receiver::Slack(crate::notify::slack::SlackReceiver {
                name: name.to_owned(),
                api_url: r
                    .api_url
                    .unwrap_or_else(|| crate::notify::slack::DEFAULT_API_URL.to_owned()),
                token,
                channel,
                timeout,
            }))
        }
        "pagerduty" => {
            let routing_key = receiver_secret(
                &key("routing_key"),
                r.routing_key,
                r.routing_key_file,
                r.routing_key_env,
                env,
            )?
            .ok_or_else(|| {
                invalid(
                    "routing_key",
                    "a PagerDuty receiver needs a routing key (routing_key_file or routing_key_env)"
                        .into(),
                )
            })?;
            Ok(Receiver::PagerDuty(crate::notify::pagerduty::PagerDuty {
                name: name.to_owned(),
                base_url: r
                    .base_url
                    .unwrap_or_else(|| crate::notify::pagerduty::DEFAULT_BASE_URL.to_owned()),
                routing_key,
                timeout,
            }))
        }
        _ => {
            let password = receiver_secret(
                &key("password"),
                r.password,
                r.password_file,
                r.password_env,
                env,
            )?;
            if password.is_some() && r.username.is_none() {
                return Err(invalid("password", "a password needs a username".into()));
            }
            let host = r
                .host
                .ok_or_else(|| invalid("host", "an email receiver needs an SMTP host".into()))?;
            let from = r
                .from
                .ok_or_else(|| invalid("from", "an email receiver needs a from address".into()))?;
            let to = r.to.unwrap_or_default();
            if to.is_empty() {
                return Err(invalid(
                    "to",
                    "an email receiver needs at least one recipient".into(),
                ));
            }
            let security = r.security.unwrap_or_default();
            let port = r.port.unwrap_or(match security {
                crate::notify::email::SmtpSecurity::Starttls => 587,
                crate::notify::email::SmtpSecurity::Tls => 465,
                crate::notify::email::SmtpSecurity::None => 25,
            });
            Ok(Receiver::Email(crate::notify::email::EmailReceiver {
                name: name.to_owned(),
                host,
                port,
                security,
                username: r.username,
                password,
                from,
                to,
                timeout,
            }))
        }
    }
}

fn notifications(
    n: RawNotifications,
    raw_receivers: BTreeMap<String, RawReceiver>,
    route: Option<crate::notify::route::RouteConfig>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<NotificationSettings, ConfigError> {
    let d = NotificationSettings::default();
    let key = |k: &str| format!("notifications.{k}");
    let mut receivers = BTreeMap::new();
    for (name, r) in raw_receivers {
        let built = receiver(&name, r, env)?;
        receivers.insert(name, built);
    }
    let route = match route {
        None => None,
        Some(config) => {
            let known: Vec<String> = receivers.keys().cloned().collect();
            let built =
                crate::notify::route::Route::build(&config, Some(&known)).map_err(|errors| {
                    ConfigError::Invalid {
                        key: "route".to_owned(),
                        message: errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; "),
                    }
                })?;
            Some(built)
        }
    };
    let alertmanager_password = match (n.alertmanager_password, n.alertmanager_password_file) {
        (Some(p), _) => Some(Secret::new(p)),
        (None, Some(path)) => Some(read_secret(&key("alertmanager_password_file"), &path)?),
        (None, None) => None,
    };
    if alertmanager_password.is_some() != n.alertmanager_username.is_some() {
        return Err(ConfigError::Invalid {
            key: key("alertmanager_username"),
            message: "give both alertmanager_username and alertmanager_password, or neither"
                .to_owned(),
        });
    }
    Ok(NotificationSettings {
        receivers,
        route,
        max_attempts: count(
            &key("max_attempts"),
            n.max_attempts,
            u64::from(d.max_attempts),
        )?
        .min(u64::from(u32::MAX)) as u32,
        backoff: positive(
            &key("backoff"),
            duration(&key("backoff"), n.backoff, d.backoff)?,
        )?,
        max_backoff: positive(
            &key("max_backoff"),
            duration(&key("max_backoff"), n.max_backoff, d.max_backoff)?,
        )?,
        poll_interval: positive(
            &key("poll_interval"),
            duration(&key("poll_interval"), n.poll_interval, d.poll_interval)?,
        )?,
        lease: positive(&key("lease"), duration(&key("lease"), n.lease, d.lease)?)?,
        alertmanager_username: n.alertmanager_username,
        alertmanager_password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("temp file");
        p
    }

    #[test]
    fn defaults_need_nothing() {
        let c = load(None, &env_of(&[]), Overrides::default()).expect("defaults load");
        assert_eq!(c.listen.to_string(), "127.0.0.1:9797");
        assert_eq!(c.database_url.expose(), "sqlite://verdict.db");
        assert_eq!(c.prometheus.url, "http://127.0.0.1:9090");
        assert_eq!(c.http.body_limit, 1_048_576);
        assert_eq!(c.http.request_timeout, Duration::from_secs(30));
        assert!(!c.http.metrics_require_token);
        assert_eq!(c.scheduler.lease, Duration::from_secs(30));
        assert_eq!(c.scheduler.guard_interval, Duration::from_secs(15));
        assert!(!c.slos_explicit);
    }

    #[test]
    fn file_then_environment_then_flags_win_in_that_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(
            dir.path(),
            "verdict.toml",
            r#"
listen = "127.0.0.1:7000"
database_url = "sqlite://from-file.db"
slos = ["a", "b"]
[prometheus]
url = "http://127.0.0.1:9999"
[scheduler]
lease = "1m"
guard_interval = "5s"
"#,
        );
        let env = env_of(&[
            ("VERDICT_LISTEN", "127.0.0.1:7001"),
            ("VERDICT_SCHEDULER_GUARD_INTERVAL", "10s"),
            ("VERDICT_HTTP_METRICS_REQUIRE_TOKEN", "true"),
            ("VERDICT_SLOS", "x, y"),
        ]);
        let c = load(
            Some(&file),
            &env,
            Overrides {
                database_url: Some(Secret::new("postgres://u:pw@127.0.0.1/db")),
                listen: None,
            },
        )
        .expect("loads");
        assert_eq!(c.listen.to_string(), "127.0.0.1:7001");
        assert_eq!(c.database_url.expose(), "postgres://u:pw@127.0.0.1/db");
        assert_eq!(c.slos, vec![PathBuf::from("x"), PathBuf::from("y")]);
        assert!(c.slos_explicit);
        assert_eq!(c.prometheus.url, "http://127.0.0.1:9999");
        assert_eq!(c.scheduler.lease, Duration::from_secs(60));
        assert_eq!(c.scheduler.guard_interval, Duration::from_secs(10));
        assert!(c.http.metrics_require_token);
    }

    #[test]
    fn secrets_come_from_files_and_never_show_in_debug_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = write(dir.path(), "token", "s3cr3t-token\n");
        let env_token = token.display().to_string();
        let env = env_of(&[
            ("VERDICT_PROMETHEUS_BEARER_TOKEN_FILE", env_token.as_str()),
            (
                "VERDICT_DATABASE_URL",
                "postgres://app:hunter2@127.0.0.1/verdict",
            ),
        ]);
        let c = load(None, &env, Overrides::default()).expect("loads");
        assert_eq!(
            c.prometheus.bearer_token.as_ref().map(Secret::expose),
            Some("s3cr3t-token")
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cr3t-token"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let shown = serde_json::to_string(&describe(&c)).expect("json");
        assert!(
            !shown.contains("s3cr3t-token") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(
            shown.contains("postgres://app:***@127.0.0.1/verdict"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(dir.path(), "v.toml", "[http]\nbody_limt = 5\n");
        let err = load(Some(&file), &env_of(&[]), Overrides::default()).expect_err("typo");
        let msg = err.to_string();
        assert!(msg.contains("body_limt") && msg.contains("v.toml"), "{msg}");

        let err = load(
            None,
            &env_of(&[("VERDICT_SCHEDULER_LEASE", "ten seconds")]),
            Overrides::default(),
        )
        .expect_err("bad duration");
        assert!(
            err.to_string().starts_with("invalid scheduler.lease:"),
            "{err}"
        );

        let err = load(
            None,
            &env_of(&[("VERDICT_HTTP_BODY_LIMIT", "lots")]),
            Overrides::default(),
        )
        .expect_err("bad int");
        assert_eq!(
            err.to_string(),
            "invalid environment variable VERDICT_HTTP_BODY_LIMIT: expected a whole number, got \"lots\""
        );

        let err = load(
            None,
            &env_of(&[("VERDICT_DATABASE_URL", "mysql://root:pw@x/db")]),
            Overrides::default(),
        )
        .expect_err("mysql");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/d?sslmode=disable"),
            "postgres://u:***@h:5432/d?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("sqlite://verdict.db"), "sqlite://verdict.db");
    }

    #[test]
    fn every_key_has_a_distinct_environment_variable() {
        let names = env_names();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.contains(&"VERDICT_PROMETHEUS_BEARER_TOKEN_FILE".to_owned()));
    }

    #[test]
    fn receivers_and_routes_load_with_secrets_from_files_and_env() {
        use crate::notify::outbox::Receiver;
        let dir = tempfile::tempdir().expect("tempdir");
        let key = write(dir.path(), "pd-key", "R0UTING-KEY-1234\n");
        let file = write(
            dir.path(),
            "verdict.toml",
            &format!(
                r#"
[receivers.pd]
type = "pagerduty"
routing_key_file = "{}"
base_url = "http://127.0.0.1:9"

[receivers.chat]
type = "slack"
token_env = "SLACK_BOT_TOKEN"
channel = "C0SHOP"

[receivers.mail]
type = "email"
host = "127.0.0.1"
security = "none"
from = "verdict@example.org"
to = ["sre@example.org"]

[route]
receiver = "chat"
[[route.routes]]
receiver = "pd"
matchers = ['verdict="fail"']
during_experiment = "suppress"

[notifications]
max_attempts = 3
"#,
                key.display()
            ),
        );
        let env = env_of(&[
            ("SLACK_BOT_TOKEN", "xoxb-from-env-777"),
            ("VERDICT_NOTIFICATIONS_ALERTMANAGER_USERNAME", "am"),
            ("VERDICT_NOTIFICATIONS_ALERTMANAGER_PASSWORD", "am-pw-31337"),
        ]);
        let c = load(Some(&file), &env, Overrides::default()).expect("loads");
        let n = &c.notifications;
        assert_eq!(n.max_attempts, 3);
        assert_eq!(n.alertmanager_username.as_deref(), Some("am"));
        assert_eq!(n.receivers.len(), 3);
        match &n.receivers["pd"] {
            Receiver::PagerDuty(pd) => {
                assert_eq!(pd.routing_key.expose(), "R0UTING-KEY-1234");
                assert_eq!(pd.base_url, "http://127.0.0.1:9");
            }
            other => panic!("pd is {other:?}"),
        }
        match &n.receivers["chat"] {
            Receiver::Slack(s) => assert_eq!(s.token.expose(), "xoxb-from-env-777"),
            other => panic!("chat is {other:?}"),
        }
        match &n.receivers["mail"] {
            Receiver::Email(m) => assert_eq!(m.port, 25),
            other => panic!("mail is {other:?}"),
        }
        let route = n.route.as_ref().expect("a route");
        assert_eq!(route.receivers(), vec!["chat".to_owned(), "pd".to_owned()]);
        let debug = format!("{c:?}");
        assert!(!debug.contains("R0UTING-KEY-1234") && !debug.contains("xoxb-from-env-777"));
        assert!(!debug.contains("am-pw-31337"), "{debug}");
        assert_eq!(
            n.alertmanager_password.as_ref().map(Secret::expose),
            Some("am-pw-31337")
        );
    }

    #[test]
    fn invalid_receivers_and_routes_are_config_errors_naming_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                "[receivers.x]\ntype = \"sms\"\n",
                "invalid receivers.x.type: unknown receiver type \"sms\"; expected slack, email or pagerduty",
            ),
            (
                "[receivers.x]\ntype = \"slack\"\nchannel = \"C1\"\n",
                "invalid receivers.x.token: a Slack receiver needs a bot token (token_file or token_env)",
            ),
            (
                "[receivers.x]\ntype = \"slack\"\ntoken_env = \"NOPE\"\nchannel = \"C1\"\n",
                "invalid receivers.x.token_env: the environment variable NOPE is not set",
            ),
            (
                "[receivers.x]\ntype = \"pagerduty\"\nrouting_key = \"k\"\nchannel = \"C1\"\n",
                "invalid receivers.x.type: has fields that do not belong to a pagerduty receiver",
            ),
            (
                "[receivers.x]\ntype = \"pagerduty\"\nrouting_key = \"k\"\n[route]\nreceiver = \"y\"\n",
                "invalid route: route: unknown receiver \"y\"",
            ),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let file = write(dir.path(), &format!("c{i}.toml"), text);
            let err = load(Some(&file), &env_of(&[]), Overrides::default())
                .expect_err(text)
                .to_string();
            assert!(err.starts_with(expected), "{text}: {err}");
        }
    }
}
