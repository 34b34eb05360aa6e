//! The experiment state machine as pure functions: given a row, a command
//! or a result, and `now`, the next [`ExperimentState`] (and the event to
//! record). `scheduled → running → recovering → evaluating → completed`,
//! or `aborted` / `error`.
//!
//! Owns: which transitions exist, their preconditions (the errors the API
//! reports as 409/422), when the scheduler should look at a row next
//! (`due_at`), and retry delays. Must not: do I/O or read the clock.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::store::{
    ExperimentRow, ExperimentState, NewEvent, NewVerdict, Status, WebhookState, event_kind,
};

/// The shortest default baseline (the design's "at least 5m").
pub const MIN_DEFAULT_BASELINE_SECONDS: i64 = 300;
/// Longest delay between retries of an evaluation or a webhook.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// A command the API cannot apply to the experiment as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The command does not apply in the current status.
    #[error("cannot {action} an experiment that is {status}{hint}")]
    InvalidState {
        action: &'static str,
        status: Status,
        hint: &'static str,
    },
    /// The fault window would not be a window.
    #[error("{0}")]
    InvalidWindow(String),
}

/// Converts a duration to a `TimeDelta`, saturating at 100 years.
pub fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::days(36_500))
}

fn seconds(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

/// The state of a new experiment with optional explicit fault times.
///
/// Without times it waits for a start call; with a future start it waits
/// for that time; with a past start it is running (first guard check now);
/// with a past end it goes straight to observing recovery — after-the-fact
/// evaluation needs no further calls.
pub fn initial_state(
    fault_start: Option<DateTime<Utc>>,
    fault_end: Option<DateTime<Utc>>,
    observe_seconds: i64,
    now: DateTime<Utc>,
) -> Result<ExperimentState, TransitionError> {
    check_window(fault_start, fault_end)?;
    let (status, due_at) = match (fault_start, fault_end) {
        (None, _) => (Status::Scheduled, None),
        (Some(start), _) if start > now => (Status::Scheduled, Some(start)),
        (Some(_), Some(end)) if end <= now => {
            (Status::Recovering, Some(end + seconds(observe_seconds)))
        }
        (Some(_), _) => (Status::Running, Some(now)),
    };
    Ok(ExperimentState {
        status,
        fault_start,
        fault_end,
        abort_reason: None,
        error: None,
        finished_at: None,
        due_at,
        eval_attempts: 0,
        webhook_state: WebhookState::None,
        webhook_attempts: 0,
        webhook_last_error: None,
        updated_at: now,
    })
}

fn check_window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Result<(), TransitionError> {
    match (start, end) {
        (None, Some(_)) => Err(TransitionError::InvalidWindow(
            "fault_end is given without fault_start".to_owned(),
        )),
        (Some(s), Some(e)) if e <= s => Err(TransitionError::InvalidWindow(format!(
            "the fault ends ({}) before it starts ({})",
            e.to_rfc3339(),
            s.to_rfc3339()
        ))),
        _ => Ok(()),
    }
}

/// `start`: the fault begins at `at` (default now). Only from `scheduled`.
pub fn start(
    row: &ExperimentRow,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ExperimentState, TransitionError> {
    if row.status != Status::Scheduled {
        return Err(TransitionError::InvalidState {
            action: "start",
            status: row.status,
            hint: "; only scheduled experiments can be started",
        });
    }
    check_window(Some(at), row.fault_end)?;
    let mut s = row.state();
    s.fault_start = Some(at);
    s.updated_at = now;
    if at > now {
        s.due_at = Some(at);
    } else {
        s.status = Status::Running;
        s.due_at = Some(now);
    }
    Ok(s)
}

/// `end`: the fault stopped at `at` (default now). Only from `running`.
pub fn end(
    row: &ExperimentRow,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ExperimentState, TransitionError> {
    if row.status != Status::Running {
        return Err(TransitionError::InvalidState {
            action: "end",
            status: row.status,
            hint: "; only running experiments can be ended",
        });
    }
    check_window(row.fault_start, Some(at))?;
    let mut s = row.state();
    s.fault_end = Some(at);
    s.updated_at = now;
    if at > now {
        // Ends later: keep guarding until then.
        s.due_at = Some(now);
    } else {
        s.status = Status::Recovering;
        s.due_at = Some(at + seconds(row.observe_seconds));
    }
    Ok(s)
}

/// `abort`, by a guardrail or a call: stops the experiment, queues the
/// webhook (if any) and records an `experiment.aborted` event.
pub fn abort(
    row: &ExperimentRow,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(ExperimentState, NewEvent), TransitionError> {
    if row.status.is_terminal() {
        return Err(TransitionError::InvalidState {
            action: "abort",
            status: row.status,
            hint: "; it has already finished",
        });
    }
    let mut s = row.state();
    s.status = Status::Aborted;
    s.abort_reason = Some(reason.to_owned());
    s.finished_at = Some(now);
    s.updated_at = now;
    if row.abort_webhook.is_some() {
        s.webhook_state = WebhookState::Pending;
        s.due_at = Some(now);
    } else {
        s.due_at = None;
    }
    let event = NewEvent {
        kind: event_kind::ABORTED,
        payload: json!({
            "experiment_id": row.id,
            "name": row.name,
            "service": row.service,
            "type": row.fault_type,
            "previous_status": row.status,
            "by": by,
            "reason": reason,
            "routing_labels": row.routing_labels.0,
        }),
    };
    Ok((s, event))
}

/// What the scheduler does with a claimed row.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Write this state (a time-driven transition or a new due time).
    Advance(ExperimentState),
    /// Check the guardrails of a running experiment.
    Guard,
    /// Compute and store the verdict.
    Evaluate(EvalWindow),
    /// POST the abort webhook.
    DeliverWebhook,
}

/// The instants an evaluation judges, in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalWindow {
    /// Start of the baseline, `fault_start − baseline`.
    pub baseline_start: f64,
    /// When the fault started.
    pub fault_start: f64,
    /// When the fault ended.
    pub fault_end: f64,
    /// End of the recovery observation, `fault_end + observe`.
    pub observe_end: f64,
}

fn unix(t: DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

/// The evaluation window of an experiment whose fault has ended.
pub fn eval_window(row: &ExperimentRow) -> Option<EvalWindow> {
    let (start, end) = (row.fault_start?, row.fault_end?);
    let fault = (end - start).num_seconds();
    let baseline = row
        .baseline_seconds
        .unwrap_or(fault.max(MIN_DEFAULT_BASELINE_SECONDS));
    Some(EvalWindow {
        baseline_start: unix(start - seconds(baseline)),
        fault_start: unix(start),
        fault_end: unix(end),
        observe_end: unix(end + seconds(row.observe_seconds)),
    })
}

/// Decides the next step for a claimed row at `now`.
pub fn plan(row: &ExperimentRow, now: DateTime<Utc>) -> Step {
    let mut s = row.state();
    s.updated_at = now;
    match row.status {
        Status::Scheduled => match row.fault_start {
            Some(start) if start <= now => {
                s.status = Status::Running;
                s.due_at = Some(now);
                Step::Advance(s)
            }
            other => {
                s.due_at = other;
                Step::Advance(s)
            }
        },
        Status::Running => match row.fault_end {
            Some(end) if end <= now => {
                s.status = Status::Recovering;
                s.due_at = Some(end + seconds(row.observe_seconds));
                Step::Advance(s)
            }
            _ => Step::Guard,
        },
        Status::Recovering => match row.fault_end {
            Some(end) if end + seconds(row.observe_seconds) <= now => {
                s.status = Status::Evaluating;
                s.due_at = Some(now);
                Step::Advance(s)
            }
            Some(end) => {
                s.due_at = Some(end + seconds(row.observe_seconds));
                Step::Advance(s)
            }
            None => failed(s, "recovering without a fault end time", now),
        },
        Status::Evaluating => match eval_window(row) {
            Some(w) => Step::Evaluate(w),
            None => failed(s, "evaluating without fault start and end times", now),
        },
        Status::Aborted if row.webhook_state == WebhookState::Pending => Step::DeliverWebhook,
        Status::Completed | Status::Aborted | Status::Error => {
            s.due_at = None;
            Step::Advance(s)
        }
    }
}

fn failed(mut s: ExperimentState, why: &str, now: DateTime<Utc>) -> Step {
    s.status = Status::Error;
    s.error = Some(why.to_owned());
    s.finished_at = Some(now);
    s.due_at = None;
    Step::Advance(s)
}

/// After a guard check said "continue": look again after `interval`, or
/// when the fault is due to end, whichever is first.
pub fn after_guard(row: &ExperimentRow, interval: Duration, now: DateTime<Utc>) -> ExperimentState {
    let mut s = row.state();
    s.updated_at = now;
    let next = now + delta(interval);
    s.due_at = Some(match row.fault_end {
        Some(end) if end < next => end.max(now),
        _ => next,
    });
    s
}

/// The stored verdict: `completed`, and the `experiment.completed` event.
pub fn completed(
    row: &ExperimentRow,
    verdict: &NewVerdict,
    now: DateTime<Utc>,
) -> (ExperimentState, NewEvent) {
    let mut s = row.state();
    s.status = Status::Completed;
    s.finished_at = Some(now);
    s.due_at = None;
    s.updated_at = now;
    s.eval_attempts = row.eval_attempts + 1;
    let event = NewEvent {
        kind: event_kind::COMPLETED,
        payload: json!({
            "experiment_id": row.id,
            "name": row.name,
            "service": row.service,
            "type": row.fault_type,
            "verdict": verdict.outcome,
            "routing_labels": row.routing_labels.0,
        }),
    };
    (s, event)
}

/// An evaluation attempt failed. Retryable failures are retried with
/// doubling delays until `max_attempts`; then (or at once for permanent
/// ones) the experiment goes to `error` with an `experiment.error` event.
pub fn evaluation_failed(
    row: &ExperimentRow,
    reason: &str,
    retryable: bool,
    max_attempts: u32,
    backoff: Duration,
    now: DateTime<Utc>,
) -> (ExperimentState, Option<NewEvent>) {
    let mut s = row.state();
    s.updated_at = now;
    s.eval_attempts = row.eval_attempts + 1;
    if retryable && s.eval_attempts < i64::from(max_attempts) {
        s.due_at = Some(now + delta(retry_delay(backoff, s.eval_attempts)));
        s.error = Some(format!(
            "attempt {} of {max_attempts} failed: {reason}",
            s.eval_attempts
        ));
        return (s, None);
    }
    s.status = Status::Error;
    s.error = Some(if retryable {
        format!(
            "evaluation failed {} times; last error: {reason}",
            s.eval_attempts
        )
    } else {
        format!("evaluation failed: {reason}")
    });
    s.finished_at = Some(now);
    s.due_at = None;
    let event = NewEvent {
        kind: event_kind::ERROR,
        payload: json!({
            "experiment_id": row.id,
            "name": row.name,
            "service": row.service,
            "error": s.error,
            "routing_labels": row.routing_labels.0,
        }),
    };
    (s, Some(event))
}

/// A webhook attempt ended: delivered, or retried until `max_attempts`.
pub fn webhook_attempted(
    row: &ExperimentRow,
    result: Result<(), String>,
    max_attempts: u32,
    backoff: Duration,
    now: DateTime<Utc>,
) -> ExperimentState {
    let mut s = row.state();
    s.updated_at = now;
    s.webhook_attempts = row.webhook_attempts + 1;
    match result {
        Ok(()) => {
            s.webhook_state = WebhookState::Delivered;
            s.webhook_last_error = None;
            s.due_at = None;
        }
        Err(e) => {
            s.webhook_last_error = Some(e);
            if s.webhook_attempts < i64::from(max_attempts) {
                s.due_at = Some(now + delta(retry_delay(backoff, s.webhook_attempts)));
            } else {
                s.webhook_state = WebhookState::Failed;
                s.due_at = None;
            }
        }
    }
    s
}

/// `backoff × 2^(attempts − 1)`, capped at [`MAX_RETRY_DELAY`].
pub fn retry_delay(backoff: Duration, attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    backoff
        .checked_mul(1u32 << exp)
        .unwrap_or(MAX_RETRY_DELAY)
        .min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FaultType, SloSelector, VerdictOutcome};
    use chrono::TimeZone;
    use sqlx::types::Json;
    use uuid::Uuid;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_767_225_600 + s, 0)
            .single()
            .expect("valid time")
    }

    fn row(status: Status, start: Option<i64>, end: Option<i64>) -> ExperimentRow {
        ExperimentRow {
            id: Uuid::nil(),
            name: "kill".into(),
            service: "checkout".into(),
            namespace: None,
            target_labels: Json(Default::default()),
            fault_type: FaultType::PodKill,
            slo_selector: Json(SloSelector::default()),
            slo_ids: Json(vec!["checkout-availability".into()]),
            baseline_seconds: None,
            observe_seconds: 120,
            abort_webhook: None,
            routing_labels: Json(Default::default()),
            links: Json(vec![]),
            status,
            fault_start: start.map(t),
            fault_end: end.map(t),
            abort_reason: None,
            error: None,
            created_at: t(0),
            updated_at: t(0),
            finished_at: None,
            idempotency_key: None,
            request_hash: None,
            due_at: None,
            lease_owner: None,
            lease_expires_at: None,
            version: 3,
            eval_attempts: 0,
            webhook_state: WebhookState::None,
            webhook_attempts: 0,
            webhook_last_error: None,
        }
    }

    #[test]
    fn a_new_experiment_starts_where_its_times_put_it() {
        let now = t(1000);
        let s = initial_state(None, None, 60, now).expect("ok");
        assert_eq!((s.status, s.due_at), (Status::Scheduled, None));
        let s = initial_state(Some(t(2000)), None, 60, now).expect("ok");
        assert_eq!((s.status, s.due_at), (Status::Scheduled, Some(t(2000))));
        let s = initial_state(Some(t(500)), None, 60, now).expect("ok");
        assert_eq!((s.status, s.due_at), (Status::Running, Some(now)));
        let s = initial_state(Some(t(100)), Some(t(400)), 60, now).expect("ok");
        assert_eq!((s.status, s.due_at), (Status::Recovering, Some(t(460))));
        let s = initial_state(Some(t(100)), Some(t(4000)), 60, now).expect("ok");
        assert_eq!((s.status, s.due_at), (Status::Running, Some(now)));
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_rejected() {
        let err = initial_state(Some(t(100)), Some(t(100)), 60, t(0)).expect_err("empty");
        assert_eq!(
            err.to_string(),
            "the fault ends (2026-01-01T00:01:40+00:00) before it starts (2026-01-01T00:01:40+00:00)"
        );
        let err = initial_state(None, Some(t(100)), 60, t(0)).expect_err("end only");
        assert_eq!(err.to_string(), "fault_end is given without fault_start");
        let running = row(Status::Running, Some(100), None);
        let err = end(&running, t(50), t(200)).expect_err("before start");
        assert!(matches!(err, TransitionError::InvalidWindow(_)), "{err}");
    }

    #[test]
    fn start_and_end_apply_only_in_their_status() {
        let r = row(Status::Running, Some(100), None);
        assert_eq!(
            start(&r, t(200), t(200)).expect_err("running").to_string(),
            "cannot start an experiment that is running; only scheduled experiments can be started"
        );
        let s = end(&r, t(300), t(310)).expect("ends");
        assert_eq!(s.status, Status::Recovering);
        assert_eq!(s.fault_end, Some(t(300)));
        assert_eq!(s.due_at, Some(t(420)));
        let sched = row(Status::Scheduled, None, None);
        assert_eq!(
            end(&sched, t(300), t(310))
                .expect_err("scheduled")
                .to_string(),
            "cannot end an experiment that is scheduled; only running experiments can be ended"
        );
        let s = start(&sched, t(300), t(310)).expect("starts");
        assert_eq!(
            (s.status, s.fault_start, s.due_at),
            (Status::Running, Some(t(300)), Some(t(310)))
        );
    }

    #[test]
    fn abort_queues_the_webhook_only_when_there_is_one() {
        let mut r = row(Status::Running, Some(100), None);
        let (s, ev) = abort(&r, "burn rate 20 > 14.4", "guardrail", t(200)).expect("aborts");
        assert_eq!(s.status, Status::Aborted);
        assert_eq!((s.webhook_state, s.due_at), (WebhookState::None, None));
        assert_eq!(ev.kind, "experiment.aborted");
        assert_eq!(ev.payload["reason"], "burn rate 20 > 14.4");
        assert_eq!(ev.payload["by"], "guardrail");
        r.abort_webhook = Some("http://127.0.0.1:1/hook".into());
        let (s, _) = abort(&r, "x", "api", t(200)).expect("aborts");
        assert_eq!(
            (s.webhook_state, s.due_at),
            (WebhookState::Pending, Some(t(200)))
        );
        let done = row(Status::Completed, Some(100), Some(200));
        assert!(abort(&done, "x", "api", t(300)).is_err());
    }

    #[test]
    fn plan_walks_the_lifecycle_by_time() {
        let r = row(Status::Scheduled, Some(100), None);
        let Step::Advance(s) = plan(&r, t(100)) else {
            panic!("advance")
        };
        assert_eq!(s.status, Status::Running);
        let r = row(Status::Running, Some(100), Some(200));
        assert_eq!(plan(&r, t(150)), Step::Guard);
        let Step::Advance(s) = plan(&r, t(200)) else {
            panic!("advance")
        };
        assert_eq!((s.status, s.due_at), (Status::Recovering, Some(t(320))));
        let r = row(Status::Recovering, Some(100), Some(200));
        let Step::Advance(s) = plan(&r, t(319)) else {
            panic!("advance")
        };
        assert_eq!((s.status, s.due_at), (Status::Recovering, Some(t(320))));
        let Step::Advance(s) = plan(&r, t(320)) else {
            panic!("advance")
        };
        assert_eq!(s.status, Status::Evaluating);
        let r = row(Status::Evaluating, Some(100), Some(200));
        assert_eq!(
            plan(&r, t(400)),
            Step::Evaluate(EvalWindow {
                baseline_start: unix(t(-200)),
                fault_start: unix(t(100)),
                fault_end: unix(t(200)),
                observe_end: unix(t(320)),
            })
        );
    }

    #[test]
    fn the_default_baseline_is_the_fault_length_but_at_least_five_minutes() {
        let r = row(Status::Evaluating, Some(1000), Some(1100));
        assert_eq!(
            eval_window(&r).expect("window").baseline_start,
            unix(t(700))
        );
        let r = row(Status::Evaluating, Some(1000), Some(1600));
        assert_eq!(
            eval_window(&r).expect("window").baseline_start,
            unix(t(400))
        );
        let mut r = row(Status::Evaluating, Some(1000), Some(1600));
        r.baseline_seconds = Some(60);
        assert_eq!(
            eval_window(&r).expect("window").baseline_start,
            unix(t(940))
        );
    }

    #[test]
    fn guard_checks_happen_every_interval_and_at_the_fault_end() {
        let r = row(Status::Running, Some(100), None);
        assert_eq!(
            after_guard(&r, Duration::from_secs(15), t(200)).due_at,
            Some(t(215))
        );
        let r = row(Status::Running, Some(100), Some(205));
        assert_eq!(
            after_guard(&r, Duration::from_secs(15), t(200)).due_at,
            Some(t(205))
        );
    }

    #[test]
    fn failed_evaluations_retry_with_doubling_delays_then_error() {
        let mut r = row(Status::Evaluating, Some(100), Some(200));
        let b = Duration::from_secs(5);
        let (s, ev) = evaluation_failed(&r, "prometheus down", true, 3, b, t(400));
        assert_eq!(
            (s.status, s.due_at, s.eval_attempts),
            (Status::Evaluating, Some(t(405)), 1)
        );
        assert!(ev.is_none());
        r.eval_attempts = 1;
        let (s, _) = evaluation_failed(&r, "prometheus down", true, 3, b, t(400));
        assert_eq!(s.due_at, Some(t(410)));
        r.eval_attempts = 2;
        let (s, ev) = evaluation_failed(&r, "prometheus down", true, 3, b, t(400));
        assert_eq!(s.status, Status::Error);
        assert_eq!(
            s.error.as_deref(),
            Some("evaluation failed 3 times; last error: prometheus down")
        );
        assert_eq!(ev.map(|e| e.kind), Some("experiment.error"));
        let (s, _) = evaluation_failed(
            &row(Status::Evaluating, Some(1), Some(2)),
            "no SLO",
            false,
            3,
            b,
            t(9),
        );
        assert_eq!(s.status, Status::Error);
    }

    #[test]
    fn completion_records_the_outcome_in_its_event() {
        let r = row(Status::Evaluating, Some(100), Some(200));
        let v = NewVerdict {
            outcome: VerdictOutcome::Fail,
            body: "{}".into(),
        };
        let (s, ev) = completed(&r, &v, t(500));
        assert_eq!(
            (s.status, s.finished_at, s.due_at),
            (Status::Completed, Some(t(500)), None)
        );
        assert_eq!(ev.payload["verdict"], "fail");
    }

    #[test]
    fn retry_delays_double_and_are_capped() {
        let b = Duration::from_secs(1);
        assert_eq!(retry_delay(b, 1), Duration::from_secs(1));
        assert_eq!(retry_delay(b, 2), Duration::from_secs(2));
        assert_eq!(retry_delay(b, 4), Duration::from_secs(8));
        assert_eq!(retry_delay(b, 60), MAX_RETRY_DELAY);
    }

    #[test]
    fn webhooks_are_retried_until_the_last_attempt() {
        let mut r = row(Status::Aborted, Some(100), None);
        r.webhook_state = WebhookState::Pending;
        let b = Duration::from_secs(1);
        let s = webhook_attempted(&r, Err("HTTP 500".into()), 2, b, t(300));
        assert_eq!(
            (s.webhook_state, s.webhook_attempts, s.due_at),
            (WebhookState::Pending, 1, Some(t(301)))
        );
        r.webhook_attempts = 1;
        let s = webhook_attempted(&r, Err("HTTP 500".into()), 2, b, t(300));
        assert_eq!((s.webhook_state, s.due_at), (WebhookState::Failed, None));
        assert_eq!(s.webhook_last_error.as_deref(), Some("HTTP 500"));
        let s = webhook_attempted(&r, Ok(()), 2, b, t(300));
        assert_eq!(s.webhook_state, WebhookState::Delivered);
    }
}
