//! Storage of notifications: the outbox (`deliveries`, one row per event
//! and receiver), the fan-out marker on `events`, and received alerts.
//!
//! Owns: the SQL for these tables and the lease-based claiming of due
//! deliveries (Postgres `FOR UPDATE SKIP LOCKED`; SQLite one
//! `UPDATE … RETURNING` under its single writer). Must not: decide whom to
//! notify or how to render (that is `notify::outbox`).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{EventRow, Store, StoreError, q};

macro_rules! from_row {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $ty {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok($ty { $($field: row.try_get(stringify!($field))?,)* })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $ty {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok($ty { $($field: row.try_get(stringify!($field))?,)* })
            }
        }
    };
}

/// One row of `deliveries`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: i64,
    pub receiver: String,
    /// `annotate:<experiment>` or `escalate:<experiment>` for alerts a
    /// running experiment explains.
    pub context: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub lease_owner: Option<String>,
    #[serde(skip)]
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

from_row!(DeliveryRow {
    id,
    event_id,
    receiver,
    context,
    state,
    attempts,
    next_attempt_at,
    last_error,
    lease_owner,
    lease_expires_at,
    created_at,
    delivered_at
});

/// A delivery to create for a routed event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub receiver: String,
    pub context: Option<String>,
}

/// An alert as Alertmanager sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub fingerprint: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The running or recovering experiment that explains it.
    pub experiment_id: Option<Uuid>,
    /// The event payload written with it.
    pub event_payload: serde_json::Value,
}

/// One row of `alerts`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub fingerprint: String,
    pub status: String,
    pub labels: Json<std::collections::BTreeMap<String, String>>,
    pub annotations: Json<std::collections::BTreeMap<String, String>>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub experiment_id: Option<Uuid>,
}

from_row!(AlertRow {
    id,
    fingerprint,
    status,
    labels,
    annotations,
    starts_at,
    ends_at,
    received_at,
    experiment_id
});

/// A running or recovering experiment an alert may belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveExperiment {
    pub id: Uuid,
    pub name: String,
    pub service: String,
    pub namespace: Option<String>,
}

from_row!(ActiveExperiment {
    id,
    name,
    service,
    namespace
});

const CLAIM_PG: &str = "UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 \
     WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
     AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ORDER BY next_attempt_at, id \
     LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *";

const CLAIM_SQLITE: &str = "UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 \
     WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
     AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ORDER BY next_attempt_at, id \
     LIMIT $4) RETURNING *";

const INSERT_DELIVERY: &str = "INSERT INTO deliveries (event_id, receiver, context, state, \
     attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4) \
     ON CONFLICT (event_id, receiver) DO NOTHING";

const INSERT_ALERT: &str = "INSERT INTO alerts (fingerprint, status, labels, annotations, \
     starts_at, ends_at, received_at, experiment_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const INSERT_EVENT: &str =
    "INSERT INTO events (experiment_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)";

impl Store {
    /// Events not yet routed to receivers, oldest first.
    pub async fn unrouted_events(&self, limit: i64) -> Result<Vec<EventRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, experiment_id, kind, payload, created_at FROM events \
             WHERE routed = FALSE ORDER BY id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(q("listing unrouted events")))
    }

    /// One event.
    pub async fn get_event(&self, id: i64) -> Result<Option<EventRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, experiment_id, kind, payload, created_at FROM events WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(q("reading an event")))
    }

    /// Creates the deliveries of an event and marks it routed, in one
    /// transaction. Existing (event, receiver) rows are kept, so routing the
    /// same event twice (two replicas, or a crash between) creates each
    /// delivery once.
    pub async fn route_event(
        &self,
        event_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const DOING: &str = "routing an event";
        let keep = |r: &Result<(), StoreError>| r.is_ok();
        in_tx!(
            self,
            DOING,
            |tx| {
                async {
                    for d in deliveries {
                        sqlx::query(INSERT_DELIVERY)
                            .bind(event_id)
                            .bind(&d.receiver)
                            .bind(&d.context)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(q(DOING))?;
                    }
                    sqlx::query("UPDATE events SET routed = TRUE WHERE id = $1")
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(q(DOING))?;
                    Ok(())
                }
                .await
            },
            keep = keep
        )
    }

    /// Claims up to `limit` pending deliveries that are due and not leased.
    pub async fn claim_due_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = match self {
            Store::Sqlite(_) => CLAIM_SQLITE,
            Store::Postgres(_) => CLAIM_PG,
        };
        on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(q("claiming due deliveries")))
    }

    /// Records a successful delivery we hold the lease of; `false` when the
    /// lease was lost.
    pub async fn delivery_delivered(
        &self,
        id: i64,
        owner: &str,
        attempts: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE deliveries SET state = 'delivered', attempts = $3, delivered_at = $4, \
             last_error = NULL, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'"
        )
        .bind(id)
        .bind(owner)
        .bind(attempts)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(q("recording a delivery")))
    }

    /// Records a failed attempt: `next` is when to try again, or `None`
    /// for `dead`.
    pub async fn delivery_failed(
        &self,
        id: i64,
        owner: &str,
        attempts: i64,
        error: &str,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let state = if next.is_some() { "pending" } else { "dead" };
        on_pool!(self, |pool| sqlx::query(
            "UPDATE deliveries SET state = $3, attempts = $4, last_error = $5, \
             next_attempt_at = COALESCE($6, next_attempt_at), lease_owner = NULL, \
             lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'pending'"
        )
        .bind(id)
        .bind(owner)
        .bind(state)
        .bind(attempts)
        .bind(error)
        .bind(next)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
        .map_err(q("recording a failed delivery")))
    }

    /// Deliveries, newest first, optionally in one state.
    pub async fn list_deliveries(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM deliveries WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2"
        )
        .bind(state)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(q("listing deliveries")))
    }

    /// One delivery.
    pub async fn get_delivery(&self, id: i64) -> Result<Option<DeliveryRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM deliveries WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(q("reading a delivery")))
    }

    /// Puts a dead delivery back in the queue (attempts start over);
    /// `None` when there is no dead delivery with this id.
    pub async fn retry_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE id = $1 AND state = 'dead' RETURNING *"
        )
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(q("retrying a delivery")))
    }

    /// How many deliveries are in each state.
    pub async fn count_deliveries(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT state, COUNT(*) FROM deliveries GROUP BY state ORDER BY state"
        )
        .fetch_all(pool)
        .await
        .map_err(q("counting deliveries")))
    }

    /// Running or recovering experiments (alerts may belong to them).
    pub async fn active_experiments(&self) -> Result<Vec<ActiveExperiment>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, name, service, namespace FROM experiments \
             WHERE status IN ('running', 'recovering') ORDER BY id"
        )
        .fetch_all(pool)
        .await
        .map_err(q("listing active experiments")))
    }

    /// Stores alerts and, with each, its `alert.firing`/`alert.resolved`
    /// event, in one transaction.
    pub async fn insert_alerts(
        &self,
        alerts: &[NewAlert],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const DOING: &str = "storing alerts";
        let keep = |r: &Result<(), StoreError>| r.is_ok();
        in_tx!(
            self,
            DOING,
            |tx| {
                async {
                    for a in alerts {
                        sqlx::query(INSERT_ALERT)
                            .bind(&a.fingerprint)
                            .bind(&a.status)
                            .bind(Json(&a.labels))
                            .bind(Json(&a.annotations))
                            .bind(a.starts_at)
                            .bind(a.ends_at)
                            .bind(now)
                            .bind(a.experiment_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(q(DOING))?;
                        let kind = if a.status == "resolved" {
                            "alert.resolved"
                        } else {
                            "alert.firing"
                        };
                        sqlx::query(INSERT_EVENT)
                            .bind(a.experiment_id)
                            .bind(kind)
                            .bind(Json(&a.event_payload))
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(q(DOING))?;
                    }
                    Ok(())
                }
                .await
            },
            keep = keep
        )
    }

    /// Every stored alert, oldest first.
    pub async fn list_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM alerts ORDER BY id"
        )
        .fetch_all(pool)
        .await
        .map_err(q("listing alerts")))
    }
}
