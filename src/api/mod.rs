//! The HTTP API (axum): every route in [`router`], the shared [`AppState`],
//! and the middleware every request passes (metrics, timeout, body limit).
//!
//! Owns: routing, authentication (`auth`), request parsing (`extract`),
//! problem+json errors (`error`), the OpenAPI document (`openapi`), and the
//! handlers (`experiments`, `reports`, `tokens`, `system`) and the HTML
//! pages (`pages`). Must not: write SQL (it
//! calls `store`), decide lifecycle transitions (it calls
//! `scheduler::lifecycle`), or evaluate anything.
//!
//! | route | role |
//! |---|---|
//! | `GET /healthz`, `GET /readyz` | open |
//! | `GET /metrics` | open, or viewer with `http.metrics_require_token` |
//! | `GET /api/v1/openapi.json`, `GET /api/v1/slos` | viewer |
//! | `GET /api/v1/experiments[/{id}[/verdict]]` | viewer |
//! | `GET /api/v1/experiments/{id}/report`, `…/charts/{chart}.png|svg` | viewer |
//! | `GET /experiments[/{id}]` (HTML pages, see `pages`) | viewer (token once as `?token=`, then a cookie) |
//! | `POST /api/v1/experiments[/{id}/start|end|abort]` | operator |
//! | `/api/v1/tokens[/{id}]`, `GET /api/v1/config` | admin |

pub mod alerts;
pub mod auth;
pub mod cache;
pub mod deliveries;
pub mod error;
pub mod experiments;
pub mod extract;
pub mod openapi;
pub mod pages;
pub mod reports;
pub mod system;
pub mod tokens;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::prom::PromClient;
use crate::spec::SpecSet;
use crate::store::Store;
use error::ApiError;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

/// The contents of [`AppState`].
pub struct AppInner {
    pub store: Store,
    /// SLO specs loaded at start; selectors resolve against them.
    pub specs: Arc<SpecSet>,
    pub prom: PromClient,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    /// Notified after a change that may make work due (wakes the scheduler).
    pub wake: Arc<Notify>,
    pub tokens: auth::TokenCache,
    /// Recently read experiments (see `cache`).
    pub experiments: cache::ExperimentCache,
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    /// Bundles the server's parts.
    pub fn new(
        store: Store,
        specs: Arc<SpecSet>,
        prom: PromClient,
        metrics: Arc<Metrics>,
        config: Arc<Config>,
        wake: Arc<Notify>,
    ) -> Self {
        let tokens = auth::TokenCache::new(config.http.auth_cache_ttl);
        let experiments = cache::ExperimentCache::new(config.http.read_cache_ttl);
        AppState(Arc::new(AppInner {
            store,
            specs,
            prom,
            metrics,
            config,
            wake,
            tokens,
            experiments,
        }))
    }
}

/// Every route, with its middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .route("/api/v1/openapi.json", get(system::openapi))
        .route("/api/v1/config", get(system::get_config))
        .route("/api/v1/slos", get(system::list_slos))
        .route(
            "/api/v1/experiments",
            get(experiments::list_experiments).post(experiments::create_experiment),
        )
        .route("/api/v1/experiments/{id}", get(experiments::get_experiment))
        .route(
            "/api/v1/experiments/{id}/start",
            post(experiments::start_experiment),
        )
        .route(
            "/api/v1/experiments/{id}/end",
            post(experiments::end_experiment),
        )
        .route(
            "/api/v1/experiments/{id}/abort",
            post(experiments::abort_experiment),
        )
        .route(
            "/api/v1/experiments/{id}/verdict",
            get(experiments::get_verdict),
        )
        .route("/api/v1/experiments/{id}/report", get(reports::get_report))
        .route(
            "/api/v1/experiments/{id}/charts/{file}",
            get(reports::get_chart),
        )
        .route("/experiments", get(pages::list_page))
        .route("/experiments/{id}", get(pages::report_page))
        .route(
            "/api/v1/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/api/v1/tokens/{id}", delete(tokens::revoke_token))
        .route("/api/v1/deliveries", get(deliveries::list_deliveries))
        .route(
            "/api/v1/deliveries/{id}/retry",
            post(deliveries::retry_delivery),
        )
        .route(
            "/api/v1/alerts/alertmanager",
            post(alerts::receive_alertmanager).layer(DefaultBodyLimit::max(alerts::BODY_LIMIT + 1)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.http.body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not accept {method}", uri.path()))
}

/// Ends requests that take longer than `http.request_timeout` with a 503.
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.http.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit).into_response(),
    }
}

/// Counts requests by method, matched route template and status.
async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let response = next.run(req).await;
    state.metrics.http_request(
        method.as_str(),
        route.as_deref().unwrap_or("(unmatched)"),
        response.status().as_u16(),
        began.elapsed(),
    );
    response
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
