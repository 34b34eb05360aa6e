//! Storage: the sqlx pool (SQLite by default, Postgres for several
//! replicas), the embedded migrations, and one function per query.
//!
//! Owns: connecting, migrating, every SQL statement, and the claiming of due
//! work with row leases (Postgres: `FOR UPDATE SKIP LOCKED`; SQLite: one
//! `UPDATE … RETURNING` under its single writer). Must not: decide what a
//! transition means (that is `scheduler::lifecycle`), or know about HTTP.
//!
//! One [`Store`] value wraps either pool. Most statements are written once
//! with `$N` placeholders, which both drivers accept; the `on_pool!` macro
//! expands the same code for each backend, so each expansion is checked
//! against its own driver's types. Columns use native types on each side
//! (Postgres `UUID`/`TIMESTAMPTZ`/`JSONB`, SQLite blobs and RFC 3339 text),
//! see `migrations/postgres` and `migrations/sqlite`; rows are read with
//! runtime-checked `FromRow` (`model`), so no database is needed to build.
//!
//! Concurrency: every write to an experiment states the `version` it read
//! and bumps it ([`Store::commit`]); claiming bumps it too. A worker whose
//! lease expired and was claimed by another, or whose row an API call
//! changed meanwhile, therefore writes nothing.

pub mod model;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use uuid::Uuid;

pub use model::*;

/// What went wrong talking to the database. Messages never contain the
/// database URL's password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one we can open.
    #[error("invalid database URL ({url}): {message}")]
    Url { url: String, message: String },
    /// Connecting failed.
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    /// A migration failed.
    #[error("migrating the database at {url} failed: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
    /// A unique constraint rejected an insert.
    #[error("{what} already exists")]
    Duplicate { what: &'static str },
    /// A statement failed.
    #[error("database error while {doing}: {source}")]
    Query {
        doing: &'static str,
        source: sqlx::Error,
    },
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool to SQLite or Postgres. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Expands `$body` once per backend with `$pool` bound to that backend's pool.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a transaction (`$tx`) on either backend and commits
/// it when `$body` returns `Ok(Some(_))` or `Ok(true)`-like values chosen by
/// `$keep`; otherwise rolls back. SQLite transactions start `IMMEDIATE`, so
/// the write lock is taken up front instead of failing on upgrade.
macro_rules! in_tx {
    ($store:expr, $doing:expr, |$tx:ident| $body:expr, keep = $keep:expr) => {
        match $store {
            Store::Sqlite(pool) => {
                let mut $tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(q($doing))?;
                let out = $body;
                if $keep(&out) {
                    $tx.commit().await.map_err(q($doing))?;
                }
                out
            }
            Store::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err(q($doing))?;
                let out = $body;
                if $keep(&out) {
                    $tx.commit().await.map_err(q($doing))?;
                }
                out
            }
        }
    };
}

fn q(doing: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { doing, source }
}

fn unique_or(what: &'static str, doing: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |source| match source.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Duplicate { what },
        _ => StoreError::Query { doing, source },
    }
}

/// The migrations for a backend, embedded in the binary.
pub fn migrator(backend: Backend) -> Migrator {
    let sql = match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/0001_experiments.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/0001_experiments.sql"),
    };
    let notifications = match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/0002_notifications.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/0002_notifications.sql"),
    };
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "experiments".into(),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "notifications".into(),
            MigrationType::Simple,
            notifications.into_sql_str(),
            false,
        ),
    ])
}

const GET_EXPERIMENT: &str = "SELECT e.*, v.outcome AS verdict_outcome FROM experiments e \
     LEFT JOIN verdicts v ON v.experiment_id = e.id WHERE e.id = $1";

const GET_BY_IDEMPOTENCY_KEY: &str = "SELECT e.*, v.outcome AS verdict_outcome FROM experiments e \
     LEFT JOIN verdicts v ON v.experiment_id = e.id WHERE e.idempotency_key = $1";

const LIST_EXPERIMENTS: &str = "SELECT e.*, v.outcome AS verdict_outcome FROM experiments e \
     LEFT JOIN verdicts v ON v.experiment_id = e.id \
     WHERE ($1 IS NULL OR e.service = $1) \
       AND ($2 IS NULL OR e.status = $2) \
       AND ($3 IS NULL OR v.outcome = $3) \
       AND ($4 IS NULL OR e.created_at >= $4) \
       AND ($5 IS NULL OR e.id < $5) \
     ORDER BY e.id DESC LIMIT $6";

const INSERT_EXPERIMENT: &str = "INSERT INTO experiments (id, name, service, namespace, \
     target_labels, fault_type, slo_selector, slo_ids, baseline_seconds, observe_seconds, \
     abort_webhook, routing_labels, links, status, fault_start, fault_end, abort_reason, error, \
     created_at, updated_at, finished_at, idempotency_key, request_hash, due_at, eval_attempts, \
     webhook_state, webhook_attempts, webhook_last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, \
     $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
     $26, $27, $28) RETURNING *";

const COMMIT_EXPERIMENT: &str = "UPDATE experiments SET status = $3, fault_start = $4, \
     fault_end = $5, abort_reason = $6, error = $7, finished_at = $8, due_at = $9, \
     eval_attempts = $10, webhook_state = $11, webhook_attempts = $12, webhook_last_error = $13, \
     updated_at = $14, lease_owner = NULL, lease_expires_at = NULL, version = version + 1 \
     WHERE id = $1 AND version = $2 RETURNING *";

const INSERT_VERDICT: &str =
    "INSERT INTO verdicts (experiment_id, outcome, body, created_at) VALUES ($1, $2, $3, $4)";

const INSERT_EVENT: &str =
    "INSERT INTO events (experiment_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)";

/// Postgres: lock due rows nobody holds, skipping rows another replica is
/// claiming right now.
const CLAIM_DUE_PG: &str = "UPDATE experiments SET lease_owner = $1, lease_expires_at = $2, \
     version = version + 1 WHERE id IN (SELECT id FROM experiments WHERE due_at <= $3 \
     AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ORDER BY due_at LIMIT $4 \
     FOR UPDATE SKIP LOCKED) RETURNING *";

/// SQLite: one statement under the database's single writer lock is atomic.
const CLAIM_DUE_SQLITE: &str = "UPDATE experiments SET lease_owner = $1, lease_expires_at = $2, \
     version = version + 1 WHERE id IN (SELECT id FROM experiments WHERE due_at <= $3 \
     AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ORDER BY due_at LIMIT $4) \
     RETURNING *";

const RENEW_LEASE: &str = "UPDATE experiments SET lease_expires_at = $4 \
     WHERE id = $1 AND version = $2 AND lease_owner = $3";

const RELEASE_LEASE: &str = "UPDATE experiments SET lease_owner = NULL, \
     lease_expires_at = NULL, version = version + 1 WHERE id = $1 AND version = $2 \
     AND lease_owner = $3";

const RELEASE_ALL: &str = "UPDATE experiments SET lease_owner = NULL, lease_expires_at = NULL, \
     version = version + 1 WHERE lease_owner = $1";

const COUNT_DUE: &str = "SELECT COUNT(*) FROM experiments WHERE due_at <= $1 \
     AND (lease_expires_at IS NULL OR lease_expires_at <= $1)";

const LIST_RUNNING: &str = "SELECT id, name, service, fault_type FROM experiments \
     WHERE status = 'running' ORDER BY id";

impl Store {
    /// Opens the database at `url` and runs the migrations. SQLite files are
    /// created if missing and put in WAL mode; `sqlite::memory:` uses a
    /// single connection (each connection would otherwise get its own,
    /// empty, database).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let shown = crate::config::redact_url(url);
        let store = if url.starts_with("sqlite:") {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Url {
                    url: shown.clone(),
                    message: e.to_string(),
                })?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(SqliteSynchronous::Normal);
            let options = if memory {
                options
            } else {
                options.journal_mode(SqliteJournalMode::Wal)
            };
            let pool = if memory {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(8)
            };
            let pool = pool
                .connect_with(options)
                .await
                .map_err(|source| StoreError::Connect {
                    url: shown.clone(),
                    source,
                })?;
            Store::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
                url: shown.clone(),
                message: e.to_string(),
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|source| StoreError::Connect {
                    url: shown.clone(),
                    source,
                })?;
            Store::Postgres(pool)
        } else {
            return Err(StoreError::Url {
                url: shown,
                message: "expected sqlite:… or postgres://…".to_owned(),
            });
        };
        store
            .migrate()
            .await
            .map_err(|source| StoreError::Migrate {
                url: crate::config::redact_url(url),
                source,
            })?;
        Ok(store)
    }

    /// Runs the embedded migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        let m = migrator(self.backend());
        on_pool!(self, |pool| m.run(pool).await)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    /// A round trip to the database, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(q("checking the connection")))
    }

    // ---- experiments ----------------------------------------------------

    /// Inserts a new experiment. A reused idempotency key is
    /// [`StoreError::Duplicate`].
    pub async fn insert_experiment(&self, e: &NewExperiment) -> Result<ExperimentRow, StoreError> {
        let s = &e.state;
        on_pool!(self, |pool| sqlx::query_as(INSERT_EXPERIMENT)
            .bind(e.id)
            .bind(&e.name)
            .bind(&e.service)
            .bind(&e.namespace)
            .bind(Json(&e.target_labels))
            .bind(e.fault_type)
            .bind(Json(&e.slo_selector))
            .bind(Json(&e.slo_ids))
            .bind(e.baseline_seconds)
            .bind(e.observe_seconds)
            .bind(&e.abort_webhook)
            .bind(Json(&e.routing_labels))
            .bind(Json(&e.links))
            .bind(s.status)
            .bind(s.fault_start)
            .bind(s.fault_end)
            .bind(&s.abort_reason)
            .bind(&s.error)
            .bind(e.created_at)
            .bind(s.updated_at)
            .bind(s.finished_at)
            .bind(&e.idempotency_key)
            .bind(&e.request_hash)
            .bind(s.due_at)
            .bind(s.eval_attempts)
            .bind(s.webhook_state)
            .bind(s.webhook_attempts)
            .bind(&s.webhook_last_error)
            .fetch_one(pool)
            .await
            .map_err(unique_or(
                "an experiment with this Idempotency-Key",
                "inserting an experiment"
            )))
    }

    /// One experiment with its verdict outcome.
    pub async fn get_experiment(
        &self,
        id: Uuid,
    ) -> Result<Option<ExperimentWithVerdict>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(GET_EXPERIMENT)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(q("reading an experiment")))
    }

    /// The experiment created with this idempotency key.
    pub async fn get_experiment_by_idempotency_key(
        &self,
        key: &str,
    ) -> Result<Option<ExperimentWithVerdict>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(GET_BY_IDEMPOTENCY_KEY)
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(q("reading an experiment by idempotency key")))
    }

    /// Experiments matching `filter`, newest first.
    pub async fn list_experiments(
        &self,
        f: &ListFilter,
    ) -> Result<Vec<ExperimentWithVerdict>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(LIST_EXPERIMENTS)
            .bind(&f.service)
            .bind(f.status)
            .bind(f.verdict)
            .bind(f.since)
            .bind(f.before)
            .bind(f.limit)
            .fetch_all(pool)
            .await
            .map_err(q("listing experiments")))
    }

    /// Writes `state` to the experiment if its version is still `version`,
    /// releasing any lease, and in the same transaction stores `verdict` and
    /// `event`. Returns the new row, or `None` (nothing written) when the row
    /// changed meanwhile.
    pub async fn commit(
        &self,
        id: Uuid,
        version: i64,
        state: &ExperimentState,
        verdict: Option<&NewVerdict>,
        event: Option<&NewEvent>,
    ) -> Result<Option<ExperimentRow>, StoreError> {
        const DOING: &str = "committing an experiment transition";
        let keep = |r: &Result<Option<ExperimentRow>, StoreError>| matches!(r, Ok(Some(_)));
        in_tx!(
            self,
            DOING,
            |tx| {
                async {
                    let row: Option<ExperimentRow> = sqlx::query_as(COMMIT_EXPERIMENT)
                        .bind(id)
                        .bind(version)
                        .bind(state.status)
                        .bind(state.fault_start)
                        .bind(state.fault_end)
                        .bind(&state.abort_reason)
                        .bind(&state.error)
                        .bind(state.finished_at)
                        .bind(state.due_at)
                        .bind(state.eval_attempts)
                        .bind(state.webhook_state)
                        .bind(state.webhook_attempts)
                        .bind(&state.webhook_last_error)
                        .bind(state.updated_at)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(q(DOING))?;
                    let Some(row) = row else { return Ok(None) };
                    if let Some(v) = verdict {
                        sqlx::query(INSERT_VERDICT)
                            .bind(id)
                            .bind(v.outcome)
                            .bind(&v.body)
                            .bind(state.updated_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(unique_or("a verdict for this experiment", DOING))?;
                    }
                    if let Some(ev) = event {
                        sqlx::query(INSERT_EVENT)
                            .bind(id)
                            .bind(ev.kind)
                            .bind(Json(&ev.payload))
                            .bind(state.updated_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(unique_or("this lifecycle event", DOING))?;
                    }
                    Ok(Some(row))
                }
                .await
            },
            keep = keep
        )
    }

    // ---- scheduling -----------------------------------------------------

    /// Claims up to `limit` due experiments nobody holds: sets the lease to
    /// `owner` until `lease_until` and bumps their version.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ExperimentRow>, StoreError> {
        let sql = match self {
            Store::Sqlite(_) => CLAIM_DUE_SQLITE,
            Store::Postgres(_) => CLAIM_DUE_PG,
        };
        on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(q("claiming due experiments")))
    }

    /// Extends a lease we hold; `false` when it is no longer ours.
    pub async fn renew_lease(
        &self,
        id: Uuid,
        version: i64,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| sqlx::query(RENEW_LEASE)
            .bind(id)
            .bind(version)
            .bind(owner)
            .bind(until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(q("renewing a lease")))
    }

    /// Gives a claimed row back without changing it (another worker may take it).
    pub async fn release_lease(
        &self,
        id: Uuid,
        version: i64,
        owner: &str,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| sqlx::query(RELEASE_LEASE)
            .bind(id)
            .bind(version)
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(q("releasing a lease")))
    }

    /// Releases every lease `owner` holds (on shutdown). Returns how many.
    pub async fn release_all_leases(&self, owner: &str) -> Result<u64, StoreError> {
        on_pool!(self, |pool| sqlx::query(RELEASE_ALL)
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(q("releasing leases")))
    }

    /// Work items due at `now` that nobody holds (the scheduler's queue depth).
    pub async fn count_due(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        on_pool!(self, |pool| sqlx::query_scalar(COUNT_DUE)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(q("counting due work")))
    }

    /// Experiments whose fault is on.
    pub async fn list_running(&self) -> Result<Vec<RunningExperiment>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(LIST_RUNNING)
            .fetch_all(pool)
            .await
            .map_err(q("listing running experiments")))
    }

    // ---- verdicts and events --------------------------------------------

    /// The stored verdict of an experiment.
    pub async fn get_verdict(&self, id: Uuid) -> Result<Option<VerdictRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM verdicts WHERE experiment_id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(q("reading a verdict")))
    }

    /// The verdicts of earlier runs of the experiment named `name`: runs
    /// whose fault started before `before`, other than `except`, newest
    /// fault first, at most `limit` (the report's trend section).
    pub async fn list_previous_verdicts(
        &self,
        name: &str,
        except: Uuid,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<VerdictRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT v.* FROM verdicts v JOIN experiments e ON e.id = v.experiment_id \
             WHERE e.name = $1 AND e.id <> $2 AND e.fault_start < $3 \
             ORDER BY e.fault_start DESC, e.id DESC LIMIT $4"
        )
        .bind(name)
        .bind(except)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(q("listing the verdicts of previous runs")))
    }

    /// Every verdict (for tests and exports), oldest first.
    pub async fn list_verdicts(&self) -> Result<Vec<VerdictRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM verdicts ORDER BY created_at, experiment_id"
        )
        .fetch_all(pool)
        .await
        .map_err(q("listing verdicts")))
    }

    /// The events of one experiment, in order.
    pub async fn list_events(&self, experiment_id: Uuid) -> Result<Vec<EventRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM events WHERE experiment_id = $1 ORDER BY id"
        )
        .bind(experiment_id)
        .fetch_all(pool)
        .await
        .map_err(q("listing events")))
    }

    /// Events after `after_id`, in order (the notification outbox's input).
    pub async fn list_events_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2"
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(q("listing events")))
    }

    // ---- tokens ---------------------------------------------------------

    /// Stores a token's hash.
    pub async fn insert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(t.id)
        .bind(&t.name)
        .bind(t.role)
        .bind(&t.token_hash)
        .bind(t.created_at)
        .bind(t.revoked_at)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(unique_or("a token with this hash", "storing a token")))
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM api_tokens ORDER BY created_at, id"
        )
        .fetch_all(pool)
        .await
        .map_err(q("listing tokens")))
    }

    /// The active (not revoked) token with this hash.
    pub async fn find_active_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<TokenRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(q("looking up a token")))
    }

    /// Revokes a token; `None` when no such token exists, otherwise the row
    /// (already revoked tokens keep their first revocation time).
    pub async fn revoke_token(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *"
        )
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(q("revoking a token")))
    }
}

mod notify;
pub use notify::{ActiveExperiment, AlertRow, DeliveryRow, NewAlert, NewDelivery};
