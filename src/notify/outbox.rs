//! The notification outbox: routes stored events to receivers (one
//! `deliveries` row per event and receiver) and delivers them with leases,
//! exponential backoff with jitter, `Retry-After`, and `dead` after the
//! configured number of attempts.
//!
//! Owns: fan-out (labels of an event → route → delivery rows), the worker
//! loop, rendering an event for each receiver type, and the retry policy.
//! Must not: write experiments or verdicts, or log any secret (receivers
//! hold them as [`Secret`](super::delivery::Secret); errors are scrubbed).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::delivery::DeliveryError;
use super::email::{EmailMessage, EmailReceiver, InlineImage, message_id};
use super::pagerduty::{EventAction, PagerDuty, PdEvent, PdPayload, Severity, dedup_key};
use super::route::{DuringExperiment, LabelSet};
use super::slack::{SlackMessage, SlackReceiver};
use crate::config::NotificationSettings;
use crate::report::email::render_email;
use crate::report::slack::render_slack;
use crate::report::templates::Templates;
use crate::report::{ExperimentInfo, Report, ReportExtras};
use crate::store::{DeliveryRow, EventRow, NewDelivery, Store, StoreError, utc_now};

/// A configured receiver.
#[derive(Debug, Clone)]
pub enum Receiver {
    Slack(SlackReceiver),
    Email(EmailReceiver),
    PagerDuty(PagerDuty),
}

/// What failed in the outbox loop (not a delivery: those are recorded on
/// their rows).
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("notification outbox: {0}")]
    Store(#[from] StoreError),
}

/// The outbox worker of one server.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    settings: Arc<NotificationSettings>,
    owner: String,
    http: reqwest::Client,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// The labels an event is routed by, and the experiment that explains an
/// alert (if any).
pub fn event_labels(event: &EventRow) -> (LabelSet, Option<String>) {
    let p = &event.payload.0;
    let mut labels = LabelSet::new();
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    labels.insert("kind".into(), event.kind.clone());
    if let Some(alert) = event.kind.strip_prefix("alert.") {
        if let Some(Value::Object(m)) = p.get("labels") {
            for (k, v) in m {
                if let Some(v) = text(v) {
                    labels.insert(k.clone(), v);
                }
            }
        }
        labels.insert("state".into(), alert.to_owned());
        let experiment = p.get("experiment").and_then(text);
        if let Some(name) = &experiment {
            labels.insert("experiment".into(), name.clone());
        }
        return (labels, experiment);
    }
    if let Some(Value::Object(m)) = p.get("routing_labels") {
        for (k, v) in m {
            if let Some(v) = text(v) {
                labels.insert(k.clone(), v);
            }
        }
    }
    let state = event
        .kind
        .strip_prefix("experiment.")
        .unwrap_or(&event.kind);
    labels.insert("state".into(), state.to_owned());
    if let Some(v) = p.get("service").and_then(text) {
        labels.insert("service".into(), v);
    }
    if let Some(v) = p.get("name").and_then(text) {
        labels.insert("experiment".into(), v);
    }
    let verdict = match state {
        "aborted" => "abort".to_owned(),
        "error" => "error".to_owned(),
        _ => p.get("verdict").and_then(text).unwrap_or_default(),
    };
    let severity = match verdict.as_str() {
        "abort" => "critical",
        "fail" | "error" => "error",
        "warn" | "inconclusive" => "warning",
        _ => "info",
    };
    labels.insert("verdict".into(), verdict);
    labels.insert("severity".into(), severity.into());
    (labels, None)
}

/// The delivery rows an event gets under `settings`' route.
pub fn plan_deliveries(settings: &NotificationSettings, event: &EventRow) -> Vec<NewDelivery> {
    let Some(route) = &settings.route else {
        return Vec::new();
    };
    let (labels, experiment) = event_labels(event);
    route
        .route(&labels)
        .into_iter()
        .filter_map(|m| {
            let context = match (&experiment, m.during_experiment) {
                (None, _) => None,
                (Some(_), DuringExperiment::Suppress) => return None,
                (Some(x), DuringExperiment::Annotate) => Some(format!("annotate:{x}")),
                (Some(x), DuringExperiment::Escalate) => Some(format!("escalate:{x}")),
            };
            Some(NewDelivery {
                receiver: m.receiver,
                context,
            })
        })
        .collect()
}

/// The delay before attempt `attempts + 1`: `base · 2^(attempts-1)`, capped
/// at `max`, with up to 20% random jitter added; at least `retry_after`.
pub fn backoff(
    base: Duration,
    max: Duration,
    attempts: i64,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let plain = base.saturating_mul(2u32.saturating_pow(exp)).min(max);
    let jitter = plain.mul_f64(rand::random::<f64>() * 0.2);
    let delay = plain + jitter;
    match retry_after {
        Some(r) if r > delay => r,
        _ => delay,
    }
}

impl Outbox {
    /// An outbox worker identified by `owner` in leases.
    pub fn new(store: Store, settings: Arc<NotificationSettings>, owner: String) -> Outbox {
        Outbox {
            store,
            settings,
            owner,
            http: reqwest::Client::new(),
            metrics: None,
        }
    }

    /// Counts delivery attempts in the server's metrics
    /// (`verdict_delivery_attempts_total{result}`).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Outbox {
        self.metrics = Some(metrics);
        self
    }

    fn count(&self, result: &'static str) {
        if let Some(m) = &self.metrics {
            m.delivery_attempt(result);
        }
    }

    /// The lease owner id.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Routes every unrouted event (at most `limit`). Returns how many.
    pub async fn fan_out(&self, limit: i64) -> Result<usize, OutboxError> {
        let events = self.store.unrouted_events(limit).await?;
        for event in &events {
            let deliveries = plan_deliveries(&self.settings, event);
            self.store
                .route_event(event.id, &deliveries, utc_now())
                .await?;
        }
        Ok(events.len())
    }

    /// Claims due deliveries and attempts them concurrently. Returns how
    /// many were claimed.
    pub async fn deliver_due(&self, limit: i64) -> Result<usize, OutboxError> {
        let now = utc_now();
        let until = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let rows = self
            .store
            .claim_due_deliveries(&self.owner, now, until, limit)
            .await?;
        let n = rows.len();
        let mut tasks = JoinSet::new();
        for row in rows {
            let me = self.clone();
            tasks.spawn(async move { me.attempt(row).await });
        }
        while let Some(r) = tasks.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::warn!(error = %e, "recording a delivery failed");
            }
        }
        Ok(n)
    }

    async fn attempt(&self, row: DeliveryRow) -> Result<(), OutboxError> {
        let attempts = row.attempts + 1;
        let result = match self.settings.receivers.get(&row.receiver) {
            None => Err(DeliveryError::Permanent {
                receiver: row.receiver.clone(),
                reason: "no such receiver in the configuration".into(),
            }),
            Some(receiver) => match self.store.get_event(row.event_id).await? {
                None => Err(DeliveryError::Permanent {
                    receiver: row.receiver.clone(),
                    reason: format!("event {} no longer exists", row.event_id),
                }),
                Some(event) => self.send(receiver, &event, &row).await,
            },
        };
        match result {
            Ok(()) => {
                self.store
                    .delivery_delivered(row.id, &self.owner, attempts, utc_now())
                    .await?;
                self.count("delivered");
                tracing::info!(delivery = row.id, receiver = %row.receiver, attempts, "delivered");
            }
            Err(e) => {
                let dead = !e.is_retryable() || attempts >= i64::from(self.settings.max_attempts);
                let next = if dead {
                    None
                } else {
                    let delay = backoff(
                        self.settings.backoff,
                        self.settings.max_backoff,
                        attempts,
                        e.retry_after(),
                    );
                    Some(utc_now() + chrono::Duration::from_std(delay).unwrap_or_default())
                };
                let reason = e.to_string();
                self.store
                    .delivery_failed(row.id, &self.owner, attempts, &reason, next)
                    .await?;
                self.count(if dead { "dead" } else { "failed" });
                tracing::warn!(delivery = row.id, receiver = %row.receiver, attempts, dead, error = %reason, "delivery failed");
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        receiver: &Receiver,
        event: &EventRow,
        row: &DeliveryRow,
    ) -> Result<(), DeliveryError> {
        let verdict = self.verdict_json(event).await;
        let message = Message::of(event, row.context.as_deref(), verdict.as_ref());
        // A completed experiment's stored verdict is a full report: Slack and
        // email then carry the report templates (key numbers, charts).
        let report = verdict
            .as_ref()
            .and_then(|(body, _)| serde_json::from_value::<Report>(body.clone()).ok());
        let extras = ReportExtras {
            experiment: Some(ExperimentInfo {
                id: event.experiment_id.map(|id| id.to_string()),
                name: message
                    .labels
                    .get("experiment")
                    .cloned()
                    .unwrap_or_default(),
                kind: message.labels.get("type").cloned(),
                target: message.labels.get("service").cloned(),
                description: None,
                links: Vec::new(),
            }),
            ..ReportExtras::default()
        };
        let templates = Templates::embedded().map_err(|e| DeliveryError::Permanent {
            receiver: row.receiver.clone(),
            reason: format!("built-in templates: {e}"),
        })?;
        let render_failed = |e: crate::report::ReportError| DeliveryError::Permanent {
            receiver: row.receiver.clone(),
            reason: format!("rendering the report: {e}"),
        };
        match receiver {
            Receiver::Slack(slack) => match &report {
                Some(report) => {
                    let value = render_slack(report, &extras, templates).map_err(render_failed)?;
                    let msg = SlackMessage {
                        text: value["text"].as_str().unwrap_or(&message.title).to_owned(),
                        blocks: value["blocks"].clone(),
                    };
                    slack.send(&msg).await
                }
                None => slack.send(&message.slack()).await,
            },
            Receiver::Email(email) => match &report {
                Some(report) => {
                    let rendered =
                        render_email(report, &extras, templates).map_err(render_failed)?;
                    let msg = EmailMessage {
                        subject: rendered.subject,
                        text: rendered.text,
                        html: rendered.html,
                        inline_images: rendered
                            .images
                            .into_iter()
                            .map(|i| InlineImage {
                                content_id: i.content_id,
                                content_type: i.content_type.to_owned(),
                                bytes: i.data,
                            })
                            .collect(),
                        message_id: message_id(&format!("evt-{}", event.id), &email.name),
                    };
                    email.send(&msg).await
                }
                None => {
                    email
                        .send(&message.email(&event.id.to_string(), &email.name))
                        .await
                }
            },
            Receiver::PagerDuty(pd) => {
                for e in message.pagerduty() {
                    pd.send(&self.http, &e).await?;
                }
                Ok(())
            }
        }
    }

    async fn verdict_json(&self, event: &EventRow) -> Option<(Value, Vec<String>)> {
        let id = event.experiment_id?;
        let slo_ids = match self.store.get_experiment(id).await {
            Ok(Some(e)) => e.experiment.slo_ids.0.clone(),
            _ => Vec::new(),
        };
        let body = match self.store.get_verdict(id).await {
            Ok(Some(v)) => serde_json::from_str(&v.body).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Some((body, slo_ids))
    }

    /// Runs until `shutdown` turns true: routes new events, delivers due
    /// deliveries, sleeps `poll_interval`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "notification outbox started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let mut busy = false;
            match self.fan_out(100).await {
                Ok(n) => busy |= n == 100,
                Err(e) => tracing::warn!(error = %e, "routing events failed"),
            }
            match self.deliver_due(32).await {
                Ok(n) => busy |= n == 32,
                Err(e) => tracing::warn!(error = %e, "delivering notifications failed"),
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }
}

/// An event made ready for every receiver type.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// One line: what happened.
    pub title: String,
    /// Further lines (reasons, alert summary).
    pub details: Vec<String>,
    /// `firing`/`resolved` for alerts, `completed`/`aborted`/`error` otherwise.
    pub state: String,
    pub verdict: String,
    pub severity: Severity,
    pub source: String,
    /// PagerDuty dedup keys: one per SLO of an experiment, one per alert.
    pub dedup_keys: Vec<String>,
    /// Trigger, resolve, or nothing (a warn verdict is not a page).
    pub page: Option<EventAction>,
    pub labels: BTreeMap<String, String>,
}

impl Message {
    /// Builds the message of `event`; `context` is the delivery's
    /// during-experiment decision; `verdict` the stored verdict JSON and
    /// the experiment's SLO ids.
    pub fn of(
        event: &EventRow,
        context: Option<&str>,
        verdict: Option<&(Value, Vec<String>)>,
    ) -> Message {
        let (labels, _) = event_labels(event);
        let p = &event.payload.0;
        let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
        if event.kind.starts_with("alert.") {
            let name = get("alertname");
            let state = get("state");
            let summary = p
                .pointer("/annotations/summary")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut title = format!("[{}] {}", state.to_uppercase(), name);
            if let Some(s) = labels.get("service") {
                title.push_str(&format!(" on {s}"));
            }
            let escalate = context.is_some_and(|c| c.starts_with("escalate:"));
            if let Some((how, x)) = context.and_then(|c| c.split_once(':')) {
                title.push_str(&format!(" (during experiment {x})"));
                let _ = how;
            }
            let severity = if escalate {
                Severity::Critical
            } else {
                match labels.get("severity").map(String::as_str) {
                    Some("critical" | "page") => Severity::Critical,
                    Some("error") => Severity::Error,
                    Some("warning") => Severity::Warning,
                    _ => Severity::Info,
                }
            };
            let fingerprint = p.get("fingerprint").and_then(Value::as_str).unwrap_or("");
            return Message {
                title,
                details: if summary.is_empty() {
                    vec![]
                } else {
                    vec![summary]
                },
                page: Some(if state == "resolved" {
                    EventAction::Resolve
                } else {
                    EventAction::Trigger
                }),
                state,
                verdict: String::new(),
                severity,
                source: "alertmanager".into(),
                dedup_keys: vec![format!("alertmanager/{fingerprint}")],
                labels,
            };
        }
        let experiment = get("experiment");
        let state = get("state");
        let verdict_label = get("verdict");
        let (body, slo_ids) = verdict.cloned().unwrap_or((Value::Null, Vec::new()));
        let mut details: Vec<String> = body
            .get("reasons")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(r) = p.get("reason").and_then(Value::as_str) {
            details.push(format!(
                "aborted by {}: {r}",
                p.get("by").and_then(Value::as_str).unwrap_or("?")
            ));
        }
        if let Some(r) = p.get("error").and_then(Value::as_str) {
            details.push(r.to_owned());
        }
        let title = match state.as_str() {
            "completed" => format!(
                "Experiment {experiment} on {}: {}",
                get("service"),
                verdict_label.to_uppercase()
            ),
            "aborted" => format!("Experiment {experiment} on {} was aborted", get("service")),
            _ => format!(
                "Experiment {experiment} on {} failed to evaluate",
                get("service")
            ),
        };
        let severity = super::pagerduty::severity_for(&verdict_label, state == "aborted");
        let page = match (state.as_str(), verdict_label.as_str()) {
            ("aborted", _) | (_, "fail") => Some(EventAction::Trigger),
            ("completed", "pass") => Some(EventAction::Resolve),
            _ => None,
        };
        let slos = if slo_ids.is_empty() {
            vec!["experiment".to_owned()]
        } else {
            slo_ids
        };
        Message {
            title,
            details,
            state,
            verdict: verdict_label,
            severity,
            source: format!("verdict/{}", get("service")),
            dedup_keys: slos.iter().map(|s| dedup_key(&experiment, s)).collect(),
            page,
            labels,
        }
    }

    /// Block Kit: a header and a section with the details.
    pub fn slack(&self) -> SlackMessage {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": self.title}
        })];
        if !self.details.is_empty() {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": self.details.iter().map(|d| format!("• {}", slack_escape(d))).collect::<Vec<_>>().join("\n")}
            }));
        }
        SlackMessage {
            text: self.title.clone(),
            blocks: Value::Array(blocks),
        }
    }

    /// A plain text and HTML email.
    pub fn email(&self, event_id: &str, receiver: &str) -> EmailMessage {
        let text = std::iter::once(self.title.clone())
            .chain(self.details.iter().map(|d| format!("- {d}")))
            .collect::<Vec<_>>()
            .join("\n");
        let html = format!(
            "<h1>{}</h1><ul>{}</ul>",
            html_escape(&self.title),
            self.details
                .iter()
                .map(|d| format!("<li>{}</li>", html_escape(d)))
                .collect::<String>()
        );
        EmailMessage {
            subject: format!("[verdict] {}", self.title),
            text,
            html,
            inline_images: Vec::new(),
            message_id: message_id(&format!("evt-{event_id}"), receiver),
        }
    }

    /// The PagerDuty events (none when the message is not a page).
    pub fn pagerduty(&self) -> Vec<PdEvent> {
        let Some(action) = self.page else {
            return Vec::new();
        };
        self.dedup_keys
            .iter()
            .map(|key| PdEvent {
                event_action: action,
                dedup_key: key.clone(),
                payload: (action == EventAction::Trigger).then(|| PdPayload {
                    summary: self.title.clone(),
                    severity: self.severity,
                    source: self.source.clone(),
                    component: self.labels.get("service").cloned(),
                    group: None,
                    class: Some(self.labels.get("kind").cloned().unwrap_or_default()),
                    custom_details: if self.details.is_empty() {
                        Value::Null
                    } else {
                        json!({ "details": self.details })
                    },
                }),
                links: Vec::new(),
                client: "verdict".into(),
                client_url: None,
            })
            .collect()
    }
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html_escape(s: &str) -> String {
    slack_escape(s).replace('"', "&quot;")
}

/// The `verdict_deliveries{state}` gauge in the Prometheus text format,
/// every state present (0 when none).
pub fn render_delivery_gauges(counts: &[(String, i64)]) -> String {
    let mut out = String::from(
        "# HELP verdict_deliveries Notification deliveries in the outbox by state.\n# TYPE verdict_deliveries gauge\n",
    );
    for state in ["pending", "delivered", "dead"] {
        let n = counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        out.push_str(&format!("verdict_deliveries{{state=\"{state}\"}} {n}\n"));
    }
    out
}

/// Now, for callers that compute due times.
pub fn now() -> DateTime<Utc> {
    utc_now()
}
