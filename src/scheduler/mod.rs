//! The lifecycle driver: a task in the server that claims due experiments
//! from the database with row leases and moves them along
//! `scheduled → running → recovering → evaluating → completed` (or
//! `aborted`, `error`), checking guardrails, storing verdicts exactly once
//! and delivering abort webhooks.
//!
//! Owns: the [`Evaluator`] seam (the guardrail check and the evaluation are
//! called through it, so the engine is pluggable and tests can use a small
//! deterministic one), claiming and renewing leases, retries, and graceful
//! shutdown (stop claiming, let in-flight work finish for a grace period,
//! then release what is left). Must not: hold state outside the database —
//! after a crash, another scheduler (or this one restarted) resumes from the
//! rows alone — or decide transitions itself (that is [`lifecycle`]).
//!
//! Exactly once: every write states the row version it read
//! ([`Store::commit`]); a claim bumps the version, so a worker whose lease
//! expired and was taken over writes nothing, and the primary key of
//! `verdicts` refuses a second verdict in any case.

pub mod engine;
pub mod lifecycle;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::config::SchedulerSettings;
use crate::eval::Outcome;
use crate::metrics::Metrics;
use crate::store::{ExperimentRow, NewEvent, NewVerdict, Store, StoreError, utc_now};

pub use lifecycle::{EvalWindow, Step, TransitionError};

/// A boxed, sendable future (what [`Evaluator`] methods return, so the
/// trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The verdict an evaluation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVerdict {
    /// The overall outcome (worst of the checks).
    pub outcome: Outcome,
    /// The evaluation's JSON document, stored and served byte for byte.
    pub body: String,
}

/// What a guardrail check decided for a running experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardDecision {
    /// Within the abort conditions: keep going.
    Continue,
    /// An abort condition is breached: stop the experiment, saying why
    /// (e.g. `checkout-availability: 5m burn rate 20.0 above 14.4`).
    Abort { reason: String },
}

/// Why a guard check or an evaluation could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct EvalFailure {
    /// What failed, for the experiment's `error` field and the logs.
    pub reason: String,
    /// Whether trying again later may succeed.
    pub kind: FailureKind,
}

/// The class of an [`EvalFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Prometheus failed after its retries (unreachable, 5xx, timeout):
    /// retried with backoff, counted in `verdict_prometheus_query_errors_total`.
    Prometheus,
    /// The experiment cannot be evaluated (e.g. its SLOs are no longer
    /// loaded): goes to `error` at once.
    Permanent,
}

impl EvalFailure {
    /// A Prometheus failure (retryable).
    pub fn prometheus(reason: impl Into<String>) -> Self {
        EvalFailure {
            reason: reason.into(),
            kind: FailureKind::Prometheus,
        }
    }
    /// A failure that retrying cannot fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        EvalFailure {
            reason: reason.into(),
            kind: FailureKind::Permanent,
        }
    }
}

/// The evaluation engine as the scheduler sees it.
///
/// `guard` runs every guard interval while an experiment is `running`, with
/// `now` in unix seconds; `evaluate` runs once the recovery observation is
/// over, with the experiment's window. Both may be called again for the
/// same experiment after a crash or a lost lease (only one result is ever
/// stored), so they must not have side effects beyond querying.
pub trait Evaluator: Send + Sync {
    /// Computes the verdict of an experiment over `window`.
    fn evaluate<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>>;

    /// Checks the abort conditions of a running experiment at `now`.
    fn guard<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>>;
}

/// The scheduler of one server process.
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    evaluator: Arc<dyn Evaluator>,
    settings: SchedulerSettings,
    metrics: Arc<Metrics>,
    webhooks: webhook::WebhookClient,
    owner: String,
    wake: Arc<Notify>,
}

impl Scheduler {
    /// A scheduler claiming work as `owner` (unique per process). `wake` is
    /// notified by the API after it changes an experiment, so work is
    /// picked up without waiting for the next poll.
    pub fn new(
        store: Store,
        evaluator: Arc<dyn Evaluator>,
        settings: SchedulerSettings,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Result<Self, webhook::WebhookError> {
        let webhooks = webhook::WebhookClient::new(settings.webhook_timeout)?;
        Ok(Scheduler {
            inner: Arc::new(Inner {
                store,
                evaluator,
                settings,
                metrics,
                webhooks,
                owner: new_owner_id(),
                wake,
            }),
        })
    }

    /// The lease owner id of this scheduler.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Runs until `shutdown` turns true: claims due work, processes it
    /// concurrently (at most `max_in_flight`), then drains: in-flight work
    /// gets `shutdown_grace` to finish, the rest is cancelled and its leases
    /// released so another replica can take it at once.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let inner = self.inner;
        let mut tasks: JoinSet<()> = JoinSet::new();
        tracing::info!(owner = %inner.owner, "scheduler started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let capacity = inner.settings.max_in_flight.saturating_sub(tasks.len());
            let mut claimed_full = false;
            if capacity > 0 {
                let now = utc_now();
                let until = now + lifecycle::delta(inner.settings.lease);
                match inner
                    .store
                    .claim_due(&inner.owner, now, until, capacity as i64)
                    .await
                {
                    Ok(rows) => {
                        claimed_full = rows.len() == capacity;
                        for row in rows {
                            let inner = inner.clone();
                            tasks.spawn(async move { inner.process(row).await });
                        }
                    }
                    Err(e) => {
                        inner.metrics.scheduler_error("claim");
                        tracing::warn!(error = %e, "claiming due work failed");
                    }
                }
            }
            if claimed_full {
                // More may be due: reap finished tasks and claim again.
                while tasks.try_join_next().is_some() {}
                if tasks.len() >= inner.settings.max_in_flight {
                    tokio::select! {
                        _ = shutdown.changed() => {}
                        _ = tasks.join_next() => {}
                    }
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = inner.wake.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = tokio::time::sleep(inner.settings.poll_interval) => {}
            }
        }
        inner.drain(tasks).await;
    }
}

impl Inner {
    async fn drain(&self, mut tasks: JoinSet<()>) {
        let deadline = Instant::now() + self.settings.shutdown_grace;
        while !tasks.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if tokio::time::timeout(left, tasks.join_next()).await.is_err() {
                break;
            }
        }
        let cancelled = tasks.len();
        tasks.shutdown().await;
        match self.store.release_all_leases(&self.owner).await {
            Ok(released) => tracing::info!(
                owner = %self.owner,
                cancelled,
                released,
                "scheduler stopped"
            ),
            Err(e) => tracing::warn!(error = %e, "releasing leases on shutdown failed"),
        }
    }

    /// One step for one claimed row, with the lease renewed while it runs.
    async fn process(self: Arc<Self>, row: ExperimentRow) {
        let id = row.id;
        let claimed_version = row.version;
        let work = self.step(row);
        let renew = self.renew_until_lost(id, claimed_version);
        let result = tokio::select! {
            r = work => r,
            lost = renew => Err(lost),
        };
        match result {
            Ok(true) => self.wake.notify_one(),
            Ok(false) => {}
            Err(e) => {
                self.metrics.scheduler_error("step");
                tracing::warn!(experiment = %id, error = %e, "scheduler step failed");
                // Hand the row back so it is retried after the next poll
                // (if the lease is still ours).
                let _ = self
                    .store
                    .release_lease(id, claimed_version, &self.owner)
                    .await;
            }
        }
    }

    /// Renews the lease every third of its length; returns when it is lost.
    async fn renew_until_lost(&self, id: Uuid, version: i64) -> StoreError {
        let every = self.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let until = utc_now() + lifecycle::delta(self.settings.lease);
            match self
                .store
                .renew_lease(id, version, &self.owner, until)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return StoreError::Duplicate {
                        what: "a newer claim or change of this experiment (lease lost)",
                    };
                }
                Err(e) => return e,
            }
        }
    }

    /// Runs the planned step. `Ok(true)` when the row moved on and more
    /// work may be due at once.
    async fn step(&self, row: ExperimentRow) -> Result<bool, StoreError> {
        let now = utc_now();
        match lifecycle::plan(&row, now) {
            Step::Advance(state) => {
                let moved = state.status != row.status;
                let written = self
                    .store
                    .commit(row.id, row.version, &state, None, None)
                    .await?;
                Ok(moved && written.is_some())
            }
            Step::Guard => self.guard(row).await,
            Step::Evaluate(window) => self.evaluate(row, window).await,
            Step::DeliverWebhook => self.deliver_webhook(row).await,
        }
    }

    async fn guard(&self, row: ExperimentRow) -> Result<bool, StoreError> {
        let now = utc_now();
        let at = now.timestamp_micros() as f64 / 1e6;
        match self.evaluator.guard(&row, at).await {
            Ok(GuardDecision::Continue) => {
                self.metrics.guard_check("continue");
                let state = lifecycle::after_guard(&row, self.settings.guard_interval, now);
                self.store
                    .commit(row.id, row.version, &state, None, None)
                    .await?;
                Ok(false)
            }
            Ok(GuardDecision::Abort { reason }) => {
                self.metrics.guard_check("abort");
                let Ok((state, event)) = lifecycle::abort(&row, &reason, "guardrail", now) else {
                    return Ok(false);
                };
                let written = self
                    .store
                    .commit(row.id, row.version, &state, None, Some(&event))
                    .await?;
                if written.is_some() {
                    self.metrics.aborted("guardrail");
                    tracing::warn!(experiment = %row.id, %reason, "guardrail breached: experiment aborted");
                }
                Ok(written.is_some())
            }
            Err(failure) => {
                self.metrics.guard_check("error");
                if failure.kind == FailureKind::Prometheus {
                    self.metrics.prometheus_error("guard");
                }
                tracing::warn!(experiment = %row.id, error = %failure, "guardrail check failed; retrying next interval");
                let state = lifecycle::after_guard(&row, self.settings.guard_interval, now);
                self.store
                    .commit(row.id, row.version, &state, None, None)
                    .await?;
                Ok(false)
            }
        }
    }

    async fn evaluate(&self, row: ExperimentRow, window: EvalWindow) -> Result<bool, StoreError> {
        let began = Instant::now();
        let result = self.evaluator.evaluate(&row, window).await;
        let elapsed = began.elapsed();
        let now = utc_now();
        let result = result.and_then(|v| {
            serde_json::from_str::<serde::de::IgnoredAny>(&v.body)
                .map(|_| v)
                .map_err(|e| {
                    EvalFailure::permanent(format!("the evaluator returned invalid JSON: {e}"))
                })
        });
        match result {
            Ok(verdict) => {
                let new = NewVerdict {
                    outcome: verdict.outcome.into(),
                    body: verdict.body,
                };
                let (state, event) = lifecycle::completed(&row, &new, now);
                let written = self
                    .store
                    .commit(row.id, row.version, &state, Some(&new), Some(&event))
                    .await?;
                self.metrics.evaluation("ok", elapsed);
                if written.is_some() {
                    self.metrics.verdict(new.outcome.as_str());
                    tracing::info!(experiment = %row.id, verdict = %new.outcome, "verdict stored");
                } else {
                    tracing::info!(experiment = %row.id, "evaluation discarded: the experiment changed meanwhile");
                }
                Ok(false)
            }
            Err(failure) => {
                self.metrics.evaluation("error", elapsed);
                let retryable = failure.kind == FailureKind::Prometheus;
                if retryable {
                    self.metrics.prometheus_error("evaluate");
                }
                let (state, event): (_, Option<NewEvent>) = lifecycle::evaluation_failed(
                    &row,
                    &failure.reason,
                    retryable,
                    self.settings.eval_max_attempts,
                    self.settings.eval_backoff,
                    now,
                );
                tracing::warn!(experiment = %row.id, error = %failure, attempts = state.eval_attempts, "evaluation failed");
                self.store
                    .commit(row.id, row.version, &state, None, event.as_ref())
                    .await?;
                Ok(false)
            }
        }
    }

    async fn deliver_webhook(&self, row: ExperimentRow) -> Result<bool, StoreError> {
        let Some(url) = row.abort_webhook.clone() else {
            let mut state = row.state();
            state.webhook_state = crate::store::WebhookState::None;
            state.due_at = None;
            self.store
                .commit(row.id, row.version, &state, None, None)
                .await?;
            return Ok(false);
        };
        let payload = webhook::abort_payload(&row);
        let result = self.webhooks.post(&url, &payload).await;
        self.metrics.webhook(if result.is_ok() {
            "delivered"
        } else {
            "failed"
        });
        if let Err(e) = &result {
            tracing::warn!(experiment = %row.id, error = %e, attempt = row.webhook_attempts + 1, "abort webhook failed");
        }
        let state = lifecycle::webhook_attempted(
            &row,
            result.map_err(|e| e.to_string()),
            self.settings.webhook_max_attempts,
            self.settings.webhook_backoff,
            utc_now(),
        );
        self.store
            .commit(row.id, row.version, &state, None, None)
            .await?;
        Ok(false)
    }
}

/// `verdict-<pid>-<random>`: distinct per process and per restart.
fn new_owner_id() -> String {
    let random = Uuid::new_v4().simple().to_string();
    format!("verdict-{}-{}", std::process::id(), &random[..12])
}

/// How long to wait for a scheduler to stop after shutdown was signalled,
/// beyond its grace period (releasing leases).
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
