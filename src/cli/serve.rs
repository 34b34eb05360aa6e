//! `verdict serve`: the HTTP API and the lifecycle scheduler in one process.
//!
//! Wires the parts together — configuration, SLO specs, the database (with
//! migrations), the Prometheus client, metrics, the API and the scheduler —
//! and stops them gracefully on SIGTERM/SIGINT: the API stops accepting
//! and finishes requests in flight, the scheduler stops claiming, gives its
//! in-flight work `scheduler.shutdown_grace`, then releases its leases.
//! [`start`] is what tests use to run a server in-process.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::exit;
use crate::api::{self, AppState};
use crate::config::{self, Config, ConfigError, Overrides, Secret};
use crate::metrics::Metrics;
use crate::prom::{PromClient, PromError};
use crate::scheduler::{self, Evaluator, Scheduler};
use crate::spec::{self, SpecErrors, SpecSet};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see docs/server.md). Every key can also be
    /// set with a VERDICT_… environment variable.
    #[arg(long, env = "VERDICT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://FILE (default sqlite://verdict.db, created on
    /// first start) or postgres://USER@HOST/DB. Overrides the config.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Address to listen on (default 127.0.0.1:9797). Overrides the config.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("the SLO specs have errors:\n{0}")]
    Specs(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("invalid Prometheus settings: {0}")]
    Prom(#[from] PromError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Webhook(#[from] scheduler::webhook::WebhookError),
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

impl ServeError {
    /// Exit code: 2 for configuration and spec mistakes, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            ServeError::Config(_) | ServeError::Specs(_) | ServeError::Prom(_) => exit::INVALID,
            _ => exit::FAIL,
        }
    }
}

/// The evaluation engine `verdict serve` uses: the same evaluation as
/// `verdict evaluate`, at the configured step and rate window.
pub fn evaluator(
    settings: &crate::config::PrometheusSettings,
) -> Result<impl FnOnce(&Arc<SpecSet>, &PromClient) -> Arc<dyn Evaluator> + use<>, String> {
    let resolution = crate::experiment::Resolution::new(
        settings.step.as_secs_f64(),
        settings.rate_window.as_secs_f64(),
    )
    .map_err(|e| format!("prometheus.step / prometheus.rate_window: {e}"))?;
    Ok(
        move |specs: &Arc<SpecSet>, prom: &PromClient| -> Arc<dyn Evaluator> {
            Arc::new(scheduler::engine::PromEvaluator::new(
                specs.clone(),
                prom.clone(),
                resolution,
                crate::experiment::DEFAULT_CONCURRENCY,
            ))
        },
    )
}

pub fn run(args: &ServeArgs) -> i32 {
    init_logging();
    let config = match config::load_from_process(
        args.config.as_deref(),
        Overrides {
            database_url: args.database_url.clone().map(Secret::new),
            listen: args.listen.clone(),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("verdict serve: {e}");
            return exit::INVALID;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verdict serve: cannot start the async runtime: {e}");
            return exit::FAIL;
        }
    };
    let make_evaluator = match evaluator(&config.prometheus) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("verdict serve: {e}");
            return exit::INVALID;
        }
    };
    runtime.block_on(async move {
        let server = match start(config, make_evaluator).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("verdict serve: {e}");
                return e.exit_code();
            }
        };
        tracing::info!(addr = %server.addr, "verdict serving; stop with SIGTERM or Ctrl-C");
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests and releasing work");
        match server.shutdown().await {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("verdict serve: {e}");
                e.exit_code()
            }
        }
    })
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if std::env::var("VERDICT_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on Ctrl-C or SIGTERM (also what stops `verdict demo`).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Loads the SLO specs of the configuration. A missing default `slos`
/// directory means no SLOs (nothing to configure for a first start); an
/// explicitly configured path that is missing is an error.
pub fn load_specs(config: &Config) -> Result<SpecSet, ServeError> {
    if !config.slos_explicit && config.slos.iter().all(|p| !p.exists()) {
        tracing::warn!("no SLO specs: ./slos does not exist (set `slos` in the config)");
        return Ok(SpecSet::default());
    }
    spec::load_paths(&config.slos).map_err(|SpecErrors(errors)| {
        ServeError::Specs(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// A server running in this process.
pub struct RunningServer {
    /// Where the API listens (the real port when configured with port 0).
    pub addr: std::net::SocketAddr,
    /// The shared state (store, metrics, …), for tests and embedding.
    pub state: AppState,
    /// The scheduler's lease owner id (`None` when disabled).
    pub scheduler_owner: Option<String>,
    shutdown: watch::Sender<bool>,
    api: JoinHandle<std::io::Result<()>>,
    scheduler: Option<JoinHandle<()>>,
    outbox: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Graceful stop: the API finishes requests in flight, the scheduler
    /// finishes or releases its work.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(true);
        if let Some(s) = self.scheduler {
            let _ = s.await;
        }
        if let Some(o) = self.outbox {
            let _ = o.await;
        }
        let result = match self.api.await {
            Ok(r) => r.map_err(ServeError::Serve),
            Err(e) => Err(ServeError::Serve(std::io::Error::other(e.to_string()))),
        };
        self.state.store.close().await;
        result
    }

    /// Stops at once without any cleanup, like a crash: tasks are dropped
    /// mid-step, leases stay held until they expire.
    pub fn kill(self) {
        self.api.abort();
        if let Some(s) = self.scheduler {
            s.abort();
        }
        if let Some(o) = self.outbox {
            o.abort();
        }
    }
}

/// Starts the API and (if enabled) the scheduler with `config`; the
/// evaluation engine is built by `make_evaluator` from the loaded specs and
/// the Prometheus client.
pub async fn start<F>(config: Config, make_evaluator: F) -> Result<RunningServer, ServeError>
where
    F: FnOnce(&Arc<SpecSet>, &PromClient) -> Arc<dyn Evaluator>,
{
    let specs = Arc::new(load_specs(&config)?);
    let store = Store::connect(config.database_url.expose()).await?;
    let prom = PromClient::new(config.prometheus.client_config())?;
    let evaluator = make_evaluator(&specs, &prom);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen.to_string(),
        source,
    })?;
    let config = Arc::new(config);
    let metrics = Arc::new(Metrics::new());
    let wake = Arc::new(Notify::new());
    let state = AppState::new(
        store.clone(),
        specs.clone(),
        prom,
        metrics.clone(),
        config.clone(),
        wake.clone(),
    );
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let (scheduler, scheduler_owner) = if config.scheduler.enabled {
        let s = Scheduler::new(
            store.clone(),
            evaluator,
            config.scheduler.clone(),
            metrics.clone(),
            wake,
        )?;
        let owner = s.owner().to_owned();
        let rx = shutdown_rx.clone();
        (Some(tokio::spawn(s.run(rx))), Some(owner))
    } else {
        (None, None)
    };

    let outbox = if config.notifications.route.is_some() {
        let owner = format!("outbox-{}", uuid::Uuid::now_v7());
        let o = crate::notify::outbox::Outbox::new(
            store.clone(),
            Arc::new(config.notifications.clone()),
            owner,
        )
        .with_metrics(metrics.clone());
        Some(tokio::spawn(o.run(shutdown_rx.clone())))
    } else {
        None
    };

    let mut rx = shutdown_rx;
    let api = tokio::spawn(api::serve(listener, state.clone(), async move {
        let _ = rx.wait_for(|stop| *stop).await;
    }));
    tracing::info!(
        %addr,
        database = %config::redact_url(config.database_url.expose()),
        prometheus = %config.prometheus.url,
        slos = specs.slos().count(),
        "verdict server started"
    );
    Ok(RunningServer {
        addr,
        state,
        scheduler_owner,
        shutdown: shutdown_tx,
        api,
        scheduler,
        outbox,
    })
}
