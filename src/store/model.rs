//! The persisted vocabulary: experiment status, fault types, roles, webhook
//! delivery states, and the row types read from and written to the tables.
//!
//! Owns how each value is spelled in the database (kebab-case text with a
//! `CHECK` constraint on both backends). Must not: decide transitions (that
//! is `scheduler::lifecycle`) or know about HTTP.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// The current time, truncated to microseconds (the precision both
/// backends store), so a value written and read back compares equal.
pub fn utc_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Truncates a time to the precision the database stores.
pub fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A value that does not name a variant of a text enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownVariant {
    /// What was being parsed (`status`, `role`, …).
    pub what: &'static str,
    /// The rejected text.
    pub value: String,
    /// The accepted spellings, comma-separated.
    pub expected: String,
}

/// Declares a text-valued enum stored as TEXT on both backends, with
/// `as_str`, `FromStr`, `Display`, serde and sqlx `Type`/`Encode`/`Decode`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in the database, the API and metrics.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'static str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}

text_enum! {
    /// Where an experiment is in its lifecycle.
    Status ("status") {
        /// Created; waits for its fault to start (a start call or its start time).
        Scheduled = "scheduled",
        /// The fault is on; guardrails are checked.
        Running = "running",
        /// The fault ended; recovery is observed.
        Recovering = "recovering",
        /// Observation is over; the verdict is being computed.
        Evaluating = "evaluating",
        /// The verdict is stored.
        Completed = "completed",
        /// Stopped by a guardrail or an abort call.
        Aborted = "aborted",
        /// The evaluation could not be done (see `error`).
        Error = "error",
    }
}

impl Status {
    /// No further transition happens from this status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Aborted | Status::Error)
    }
}

text_enum! {
    /// What kind of fault an experiment injects.
    FaultType ("type") {
        PodKill = "pod-kill",
        NetworkDelay = "network-delay",
        CpuStress = "cpu-stress",
        MemoryStress = "memory-stress",
        Custom = "custom",
    }
}

text_enum! {
    /// What an API token may do. Each role includes the ones before it.
    Role ("role") {
        /// Read experiments, verdicts and SLOs.
        Viewer = "viewer",
        /// Also create and drive experiments.
        Operator = "operator",
        /// Also manage tokens and read the configuration.
        Admin = "admin",
    }
}

impl Role {
    /// Whether this role may do what `required` may.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

text_enum! {
    /// Delivery state of an experiment's abort webhook.
    WebhookState ("webhook state") {
        /// Nothing to deliver.
        None = "none",
        /// To be delivered (or retried) by the scheduler.
        Pending = "pending",
        /// The webhook answered 2xx.
        Delivered = "delivered",
        /// Every attempt failed; see `webhook_last_error`.
        Failed = "failed",
    }
}

text_enum! {
    /// A verdict's overall outcome, as stored (mirrors `eval::Outcome`).
    VerdictOutcome ("outcome") {
        Pass = "pass",
        Warn = "warn",
        Fail = "fail",
        Inconclusive = "inconclusive",
    }
}

impl From<crate::eval::Outcome> for VerdictOutcome {
    fn from(o: crate::eval::Outcome) -> Self {
        match o {
            crate::eval::Outcome::Pass => VerdictOutcome::Pass,
            crate::eval::Outcome::Warn => VerdictOutcome::Warn,
            crate::eval::Outcome::Fail => VerdictOutcome::Fail,
            crate::eval::Outcome::Inconclusive => VerdictOutcome::Inconclusive,
        }
    }
}

/// Which SLOs an experiment is judged against: all SLOs of `service` (when
/// given) whose labels (service labels included) contain `labels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SloSelector {
    /// Service name as in the SLO specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Labels every selected SLO must carry, with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A link to the chaos tool's run, a dashboard, a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Short label, e.g. `chaos-mesh`.
    pub name: String,
    /// Where it points.
    pub url: String,
}

/// One row of `experiments`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRow {
    pub id: Uuid,
    pub name: String,
    pub service: String,
    pub namespace: Option<String>,
    pub target_labels: Json<BTreeMap<String, String>>,
    pub fault_type: FaultType,
    pub slo_selector: Json<SloSelector>,
    /// SLO ids the selector resolved to at creation.
    pub slo_ids: Json<Vec<String>>,
    /// Baseline length; `None`: as long as the fault window, at least 5m.
    pub baseline_seconds: Option<i64>,
    /// Recovery observation after the fault ends.
    pub observe_seconds: i64,
    pub abort_webhook: Option<String>,
    pub routing_labels: Json<BTreeMap<String, String>>,
    pub links: Json<Vec<Link>>,
    pub status: Status,
    pub fault_start: Option<DateTime<Utc>>,
    pub fault_end: Option<DateTime<Utc>>,
    pub abort_reason: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    /// When the scheduler should look at this row next (`None`: nothing to do).
    pub due_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Bumped by every write; a writer states the version it read.
    pub version: i64,
    pub eval_attempts: i64,
    pub webhook_state: WebhookState,
    pub webhook_attempts: i64,
    pub webhook_last_error: Option<String>,
}

impl ExperimentRow {
    /// The mutable part of the row, to change and hand to `Store::commit`.
    pub fn state(&self) -> ExperimentState {
        ExperimentState {
            status: self.status,
            fault_start: self.fault_start,
            fault_end: self.fault_end,
            abort_reason: self.abort_reason.clone(),
            error: self.error.clone(),
            finished_at: self.finished_at,
            due_at: self.due_at,
            eval_attempts: self.eval_attempts,
            webhook_state: self.webhook_state,
            webhook_attempts: self.webhook_attempts,
            webhook_last_error: self.webhook_last_error.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// The columns a lifecycle step may change. Everything else is fixed at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentState {
    pub status: Status,
    pub fault_start: Option<DateTime<Utc>>,
    pub fault_end: Option<DateTime<Utc>>,
    pub abort_reason: Option<String>,
    pub error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub eval_attempts: i64,
    pub webhook_state: WebhookState,
    pub webhook_attempts: i64,
    pub webhook_last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// An experiment row with its verdict's outcome, for lists and reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentWithVerdict {
    pub experiment: ExperimentRow,
    pub verdict: Option<VerdictOutcome>,
}

/// Everything needed to insert an experiment (in its initial state).
#[derive(Debug, Clone)]
pub struct NewExperiment {
    pub id: Uuid,
    pub name: String,
    pub service: String,
    pub namespace: Option<String>,
    pub target_labels: BTreeMap<String, String>,
    pub fault_type: FaultType,
    pub slo_selector: SloSelector,
    pub slo_ids: Vec<String>,
    pub baseline_seconds: Option<i64>,
    pub observe_seconds: i64,
    pub abort_webhook: Option<String>,
    pub routing_labels: BTreeMap<String, String>,
    pub links: Vec<Link>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub state: ExperimentState,
}

/// Filters and page of `list_experiments`; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub service: Option<String>,
    pub status: Option<Status>,
    pub verdict: Option<VerdictOutcome>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Only ids before this one (the previous page's last id): newest first.
    pub before: Option<Uuid>,
    /// Page size.
    pub limit: i64,
}

/// One row of `verdicts`.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRow {
    pub experiment_id: Uuid,
    pub outcome: VerdictOutcome,
    /// The evaluator's JSON, byte for byte.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A verdict to store with the transition to `completed`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVerdict {
    pub outcome: VerdictOutcome,
    pub body: String,
}

/// Kinds of lifecycle events (the `events.kind` column).
pub mod event_kind {
    /// The verdict was stored.
    pub const COMPLETED: &str = "experiment.completed";
    /// A guardrail or an abort call stopped the experiment.
    pub const ABORTED: &str = "experiment.aborted";
    /// The evaluation failed for good.
    pub const ERROR: &str = "experiment.error";
}

/// An event to insert with a transition.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: &'static str,
    pub payload: serde_json::Value,
}

/// One row of `events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub experiment_id: Option<Uuid>,
    pub kind: String,
    pub payload: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// One row of `api_tokens` (the token itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A running experiment, for the `verdict_experiment_running` gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningExperiment {
    pub id: Uuid,
    pub name: String,
    pub service: String,
    pub fault_type: FaultType,
}

/// Implements `FromRow` for both backends by reading each field by its
/// column name (runtime-checked; no build-time database).
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

from_row!(ExperimentRow {
    id,
    name,
    service,
    namespace,
    target_labels,
    fault_type,
    slo_selector,
    slo_ids,
    baseline_seconds,
    observe_seconds,
    abort_webhook,
    routing_labels,
    links,
    status,
    fault_start,
    fault_end,
    abort_reason,
    error,
    created_at,
    updated_at,
    finished_at,
    idempotency_key,
    request_hash,
    due_at,
    lease_owner,
    lease_expires_at,
    version,
    eval_attempts,
    webhook_state,
    webhook_attempts,
    webhook_last_error,
});
from_row!(VerdictRow {
    experiment_id,
    outcome,
    body,
    created_at
});
from_row!(EventRow {
    id,
    experiment_id,
    kind,
    payload,
    created_at
});
from_row!(TokenRow {
    id,
    name,
    role,
    token_hash,
    created_at,
    revoked_at
});
from_row!(RunningExperiment {
    id,
    name,
    service,
    fault_type
});

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for ExperimentWithVerdict {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        Ok(ExperimentWithVerdict {
            experiment: ExperimentRow::from_row(row)?,
            verdict: row.try_get("verdict_outcome")?,
        })
    }
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for ExperimentWithVerdict {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        Ok(ExperimentWithVerdict {
            experiment: ExperimentRow::from_row(row)?,
            verdict: row.try_get("verdict_outcome")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_its_spelling() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
        }
        for t in FaultType::ALL {
            assert_eq!(t.as_str().parse::<FaultType>(), Ok(*t));
        }
        assert_eq!(
            "pod_kill"
                .parse::<FaultType>()
                .expect_err("underscore")
                .to_string(),
            "unknown type \"pod_kill\" (expected one of: pod-kill, network-delay, cpu-stress, memory-stress, custom)"
        );
    }

    #[test]
    fn roles_include_the_ones_below_them() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
    }
}
