//! The notification outbox end to end: events from the scheduler and from
//! the Alertmanager webhook are routed to receivers (wiremock PagerDuty and
//! Slack), delivered with retries, survive a crash, and never leak secrets.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use verdict::config::Config;
use verdict::eval::Outcome;
use verdict::notify::delivery::Secret;
use verdict::notify::outbox::{Outbox, Receiver};
use verdict::notify::pagerduty::PagerDuty;
use verdict::notify::route::{Route, RouteConfig};
use verdict::notify::slack::SlackReceiver;
use verdict::scheduler::{
    BoxFuture, EvalFailure, EvalWindow, Evaluator, GuardDecision, StoredVerdict,
};
use verdict::store::{Backend, ExperimentRow};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::app::{TestApp, dead_url, spawn_app_with};
use crate::support::db::TestDb;
use crate::support::on_both_backends;

pub const ROUTING_KEY: &str = "R0UT1NGKEY-0123456789abcdef";
pub const SLACK_TOKEN: &str = "xoxb-secret-token-98765";

/// Fails the first evaluation, passes every later one.
struct FailThenPass(AtomicUsize);

impl Evaluator for FailThenPass {
    fn evaluate<'a>(
        &'a self,
        _exp: &'a ExperimentRow,
        _window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let (outcome, verdict, reasons) = if n == 0 {
                (
                    Outcome::Fail,
                    "fail",
                    json!(["checkout-availability: budget consumed 4.1% > max 2%"]),
                )
            } else {
                (Outcome::Pass, "pass", json!([]))
            };
            Ok(StoredVerdict {
                outcome,
                body: json!({"verdict": verdict, "reasons": reasons}).to_string(),
            })
        })
    }

    fn guard<'a>(
        &'a self,
        _exp: &'a ExperimentRow,
        _now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>> {
        Box::pin(async { Ok(GuardDecision::Continue) })
    }
}

/// A scripted HTTP answer per request, recording when each arrived.
#[derive(Clone)]
pub struct Script {
    answers: Arc<Vec<ResponseTemplate>>,
    pub seen: Arc<Mutex<Vec<(Instant, Value)>>>,
}

impl Script {
    pub fn new(answers: Vec<ResponseTemplate>) -> Script {
        Script {
            answers: Arc::new(answers),
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }
    pub fn bodies(&self) -> Vec<Value> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
    pub fn times(&self) -> Vec<Instant> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut seen = self.seen.lock().expect("lock");
        let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        seen.push((Instant::now(), body));
        let i = (seen.len() - 1).min(self.answers.len() - 1);
        self.answers[i].clone()
    }
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202)
        .set_body_json(json!({"status": "success", "message": "Event processed", "dedup_key": "x"}))
}

pub fn pagerduty(base_url: &str) -> Receiver {
    Receiver::PagerDuty(PagerDuty {
        name: "pd".into(),
        base_url: base_url.to_owned(),
        routing_key: Secret::new(ROUTING_KEY),
        timeout: Duration::from_secs(5),
    })
}

fn slack(api_url: &str) -> Receiver {
    Receiver::Slack(SlackReceiver {
        name: "chat".into(),
        api_url: api_url.to_owned(),
        token: Secret::new(SLACK_TOKEN),
        channel: "C0SHOP".into(),
        timeout: Duration::from_secs(5),
    })
}

/// Routes as written in a config file (TOML), validated.
pub fn route(toml_text: &str, receivers: &BTreeMap<String, Receiver>) -> Route {
    let config: RouteConfig = toml::from_str(toml_text).expect("route TOML");
    let known: Vec<String> = receivers.keys().cloned().collect();
    Route::build(&config, Some(&known)).expect("a valid route")
}

/// Notification settings for tests: fast polling and backoff.
pub fn notify_config(c: &mut Config, receivers: BTreeMap<String, Receiver>, route_toml: &str) {
    c.notifications.route = Some(route(route_toml, &receivers));
    c.notifications.receivers = receivers;
    c.notifications.poll_interval = Duration::from_millis(50);
    c.notifications.backoff = Duration::from_millis(100);
    c.notifications.max_backoff = Duration::from_secs(2);
    c.notifications.lease = Duration::from_secs(2);
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let began = Instant::now();
    while !done().await {
        assert!(began.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deliveries(app: &TestApp, state: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/deliveries?state={state}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json.as_array().cloned().unwrap_or_default()
}

pub fn alert_payload(alerts: Vec<Value>) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"CheckoutErrors\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "verdict",
        "groupLabels": {"alertname": "CheckoutErrors"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    })
}

pub fn alert(fingerprint: &str, status: &str, service: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "CheckoutErrors", "service": service, "severity": "warning"},
        "annotations": {"summary": "5xx above 1%"},
        "startsAt": "2026-01-01T10:00:00Z",
        "endsAt": if status == "resolved" { "2026-01-01T10:05:00Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://127.0.0.1:9090/graph",
        "fingerprint": fingerprint,
    })
}

on_both_backends!(
    a_failed_run_pages_and_posts_to_slack_and_a_green_rerun_resolves,
    a_receiver_failing_three_times_then_accepting_gets_the_alert_once,
    retry_after_is_honoured_and_a_400_is_dead_at_once_until_retried,
    fifty_pending_deliveries_are_each_delivered_once_after_a_crash,
    an_alert_reaches_a_real_smtp_server_through_the_outbox,
);

async fn an_alert_reaches_a_real_smtp_server_through_the_outbox(backend: Backend) {
    let db = TestDb::create(backend).await;
    let smtp = crate::email_test::SmtpServer::start();
    let receivers = BTreeMap::from([(
        "mail".to_owned(),
        Receiver::Email(verdict::notify::email::EmailReceiver {
            name: "mail".into(),
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: verdict::notify::email::SmtpSecurity::None,
            username: None,
            password: None,
            from: "verdict <verdict@example.org>".into(),
            to: vec!["sre@example.org".into()],
            timeout: Duration::from_secs(5),
        }),
    )]);
    let app = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(crate::support::evaluator::NoEvaluation),
        |c| notify_config(c, receivers, "receiver = \"mail\"\n"),
    )
    .await;
    post_alerts(&app, vec![alert("fp-mail", "firing", "cart")]).await;
    wait_until("mailed", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 1 }
    })
    .await;
    let event_id = deliveries(&app, "delivered").await[0]["event_id"]
        .as_i64()
        .expect("event id");
    let messages = tokio::task::spawn_blocking(move || smtp.wait_for(1))
        .await
        .expect("maildir");
    assert_eq!(messages.len(), 1);
    let mail = mailparse::parse_mail(&messages[0]).expect("a MIME message");
    use mailparse::MailHeaderMap as _;
    assert_eq!(
        mail.headers.get_first_value("Subject").as_deref(),
        Some("[verdict] [FIRING] CheckoutErrors on cart")
    );
    assert_eq!(
        mail.headers.get_first_value("Message-ID"),
        Some(format!("<evt-{event_id}.mail@verdict>"))
    );
    assert_eq!(
        mail.headers.get_first_value("To").as_deref(),
        Some("sre@example.org")
    );
    let part = |mime: &str| -> String {
        fn find<'a>(
            p: &'a mailparse::ParsedMail<'a>,
            mime: &str,
        ) -> Option<&'a mailparse::ParsedMail<'a>> {
            if p.ctype.mimetype == mime {
                return Some(p);
            }
            p.subparts.iter().find_map(|s| find(s, mime))
        }
        find(&mail, mime)
            .and_then(|p| p.get_body().ok())
            .unwrap_or_default()
    };
    assert_eq!(
        part("text/plain").trim_end(),
        "[FIRING] CheckoutErrors on cart\n- 5xx above 1%"
    );
    assert_eq!(
        part("text/html").trim_end(),
        "<h1>[FIRING] CheckoutErrors on cart</h1><ul><li>5xx above 1%</li></ul>"
    );
    app.stop().await;
}

async fn a_failed_run_pages_and_posts_to_slack_and_a_green_rerun_resolves(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mock = MockServer::start().await;
    let pd = Script::new(vec![accepted()]);
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(pd.clone())
        .mount(&mock)
        .await;
    let chat = Script::new(vec![ResponseTemplate::new(200).set_body_json(json!({
        "ok": true, "channel": "C0SHOP", "ts": "1767225600.000100",
        "message": {"text": "x", "ts": "1767225600.000100"}
    }))]);
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(chat.clone())
        .mount(&mock)
        .await;
    let receivers = BTreeMap::from([
        ("pd".to_owned(), pagerduty(&mock.uri())),
        ("chat".to_owned(), slack(&format!("{}/api", mock.uri()))),
    ]);
    let app = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(FailThenPass(AtomicUsize::new(0))),
        |c| {
            notify_config(
                c,
                receivers,
                r#"
receiver = "chat"
[[routes]]
receiver = "pd"
matchers = ['kind=~"experiment\\..*"', 'team="payments"']
continue = true
[[routes]]
receiver = "chat"
matchers = ['verdict="fail"']
"#,
            )
        },
    )
    .await;
    let body = |name: &str| {
        json!({
            "name": name,
            "target": {"service": "checkout"},
            "type": "pod-kill",
            "observe_recovery": "0s",
            "routing_labels": {"team": "payments"},
            "fault_start": "2026-01-01T10:00:00Z",
            "fault_end": "2026-01-01T10:10:00Z",
        })
    };
    let first = app.create(&body("kill-checkout")).await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    app.wait_for_status(&first_id, "completed").await;
    wait_until(
        "the page and the Slack post",
        Duration::from_secs(20),
        || {
            let (pd, chat) = (pd.clone(), chat.clone());
            async move { pd.bodies().len() == 1 && chat.bodies().len() == 1 }
        },
    )
    .await;
    let second = app.create(&body("kill-checkout")).await;
    let second_id = second["id"].as_str().expect("id").to_owned();
    app.wait_for_status(&second_id, "completed").await;
    wait_until("the resolve", Duration::from_secs(20), || {
        let pd = pd.clone();
        async move { pd.bodies().len() == 2 }
    })
    .await;

    assert_eq!(
        pd.bodies(),
        vec![
            json!({
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "dedup_key": "verdict/kill-checkout/checkout-availability",
                "payload": {
                    "summary": "Experiment kill-checkout on checkout: FAIL",
                    "severity": "error",
                    "source": "verdict/checkout",
                    "component": "checkout",
                    "class": "experiment.completed",
                    "custom_details": {"details": ["checkout-availability: budget consumed 4.1% > max 2%"]},
                },
                "client": "verdict",
            }),
            json!({
                "routing_key": ROUTING_KEY,
                "event_action": "resolve",
                "dedup_key": "verdict/kill-checkout/checkout-availability",
                "client": "verdict",
            }),
        ]
    );
    // Only the failed run matched the Slack route (the pass went to pd only).
    assert_eq!(
        chat.bodies(),
        vec![json!({
            "channel": "C0SHOP",
            "text": "Experiment kill-checkout on checkout: FAIL",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Experiment kill-checkout on checkout: FAIL"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "• checkout-availability: budget consumed 4.1% &gt; max 2%"}},
            ],
        })]
    );
    wait_until("three deliveries recorded", Duration::from_secs(10), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 3 }
    })
    .await;
    let delivered = deliveries(&app, "delivered").await;
    let mut receivers: Vec<&str> = delivered
        .iter()
        .map(|d| d["receiver"].as_str().unwrap_or(""))
        .collect();
    receivers.sort();
    assert_eq!(receivers, vec!["chat", "pd", "pd"]);
    assert!(delivered.iter().all(|d| d["attempts"] == 1));
    assert!(deliveries(&app, "pending").await.is_empty());
    // The API never shows a secret.
    let listed = app.get("/api/v1/deliveries").await.text;
    assert!(!listed.contains(ROUTING_KEY) && !listed.contains(SLACK_TOKEN));
    let config = app
        .call(Method::GET, "/api/v1/config", Some(&app.admin), None)
        .await
        .text;
    assert!(!config.contains(ROUTING_KEY) && !config.contains(SLACK_TOKEN));
    app.stop().await;
}

async fn spawn_alert_app(db: &TestDb, mock: &MockServer) -> TestApp {
    let receivers = BTreeMap::from([("pd".to_owned(), pagerduty(&mock.uri()))]);
    spawn_app_with(
        db,
        &dead_url(),
        |_, _| Arc::new(crate::support::evaluator::NoEvaluation),
        |c| notify_config(c, receivers, "receiver = \"pd\"\n"),
    )
    .await
}

async fn post_alerts(app: &TestApp, alerts: Vec<Value>) {
    let r = app
        .post("/api/v1/alerts/alertmanager", &alert_payload(alerts))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn a_receiver_failing_three_times_then_accepting_gets_the_alert_once(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mock = MockServer::start().await;
    let pd = Script::new(vec![
        ResponseTemplate::new(500),
        ResponseTemplate::new(500),
        ResponseTemplate::new(500),
        accepted(),
    ]);
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(pd.clone())
        .mount(&mock)
        .await;
    let app = spawn_alert_app(&db, &mock).await;
    post_alerts(&app, vec![alert("fp1", "firing", "cart")]).await;
    wait_until("delivered", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 1 }
    })
    .await;
    let d = &deliveries(&app, "delivered").await[0];
    assert_eq!(d["attempts"], 4);
    assert_eq!(d["last_error"], Value::Null);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bodies = pd.bodies();
    assert_eq!(bodies.len(), 4, "three 500s, then one accepted");
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "the same event each time"
    );
    assert_eq!(
        bodies[0],
        json!({
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": "alertmanager/fp1",
            "payload": {
                "summary": "[FIRING] CheckoutErrors on cart",
                "severity": "warning",
                "source": "alertmanager",
                "component": "cart",
                "class": "alert.firing",
                "custom_details": {"details": ["5xx above 1%"]},
            },
            "client": "verdict",
        })
    );
    // The resolved alert maps to a resolve of the same dedup key.
    post_alerts(&app, vec![alert("fp1", "resolved", "cart")]).await;
    wait_until("resolve delivered", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 2 }
    })
    .await;
    assert_eq!(
        pd.bodies()[4],
        json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "alertmanager/fp1", "client": "verdict"})
    );
    app.stop().await;
}

async fn retry_after_is_honoured_and_a_400_is_dead_at_once_until_retried(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mock = MockServer::start().await;
    let pd = Script::new(vec![
        ResponseTemplate::new(429).insert_header("Retry-After", "2"),
        accepted(),
        ResponseTemplate::new(400).set_body_string(format!("invalid routing key {ROUTING_KEY}")),
        accepted(),
    ]);
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(pd.clone())
        .mount(&mock)
        .await;
    let app = spawn_alert_app(&db, &mock).await;
    post_alerts(&app, vec![alert("fp-429", "firing", "cart")]).await;
    wait_until("delivered after 429", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 1 }
    })
    .await;
    let times = pd.times();
    assert_eq!(times.len(), 2);
    let waited = times[1] - times[0];
    assert!(waited >= Duration::from_secs(2), "waited only {waited:?}");

    post_alerts(&app, vec![alert("fp-400", "firing", "cart")]).await;
    wait_until("dead after 400", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "dead").await.len() == 1 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pd.bodies().len(), 3, "a 400 is not retried");
    let dead = &deliveries(&app, "dead").await[0];
    assert_eq!(dead["attempts"], 1);
    assert_eq!(
        dead["last_error"],
        "pd: HTTP 400: invalid routing key <redacted> (not retried)"
    );
    // An operator puts it back; a viewer may not.
    let id = dead["id"].as_i64().expect("id");
    let path = format!("/api/v1/deliveries/{id}/retry");
    let denied = app.call(Method::POST, &path, Some(&app.viewer), None).await;
    assert_eq!(denied.status, 403);
    let r = app
        .call(Method::POST, &path, Some(&app.operator), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "pending");
    wait_until("delivered after retry", Duration::from_secs(20), || {
        let app = &app;
        async move { deliveries(app, "delivered").await.len() == 2 }
    })
    .await;
    assert_eq!(pd.bodies().len(), 4);
    let metrics = app.get("/metrics").await.text;
    for line in [
        "verdict_deliveries{state=\"pending\"} 0",
        "verdict_deliveries{state=\"delivered\"} 2",
        "verdict_deliveries{state=\"dead\"} 0",
        // attempts: the 429 (failed, retried), two successes, the 400 (dead)
        "verdict_delivery_attempts_total{result=\"failed\"} 1",
        "verdict_delivery_attempts_total{result=\"delivered\"} 2",
        "verdict_delivery_attempts_total{result=\"dead\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in {metrics}"
        );
    }
    let again = app
        .call(Method::POST, &path, Some(&app.operator), None)
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.content_type, "application/problem+json");
    app.stop().await;
}

async fn fifty_pending_deliveries_are_each_delivered_once_after_a_crash(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mock = MockServer::start().await;
    let pd = Script::new(vec![accepted()]);
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(pd.clone())
        .mount(&mock)
        .await;
    let receivers = BTreeMap::from([("pd".to_owned(), pagerduty(&mock.uri()))]);
    // Server A polls too rarely to deliver anything in this test.
    let a = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(crate::support::evaluator::NoEvaluation),
        |c| {
            notify_config(c, receivers.clone(), "receiver = \"pd\"\n");
            c.notifications.poll_interval = Duration::from_secs(3600);
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alerts: Vec<Value> = (0..50)
        .map(|i| alert(&format!("fp{i:02}"), "firing", "cart"))
        .collect();
    post_alerts(&a, alerts).await;
    // Route them (as A's worker would) and claim ten under A's name, as if
    // A crashed mid-send: those wait for their lease to expire.
    let mut settings = verdict::config::NotificationSettings::default();
    notify_settings(&mut settings, receivers.clone());
    let outbox = Outbox::new(a.store.clone(), Arc::new(settings), "a-outbox".into());
    assert_eq!(outbox.fan_out(100).await.expect("fan out"), 50);
    let now = chrono::Utc::now();
    let claimed = a
        .store
        .claim_due_deliveries("a-outbox", now, now + chrono::Duration::seconds(2), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 10);
    assert_eq!(deliveries(&a, "pending").await.len(), 50);
    a.kill();

    let b = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(crate::support::evaluator::NoEvaluation),
        |c| notify_config(c, receivers, "receiver = \"pd\"\n"),
    )
    .await;
    wait_until("all fifty delivered", Duration::from_secs(30), || {
        let b = &b;
        async move { deliveries(b, "delivered").await.len() == 50 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut keys: Vec<String> = pd
        .bodies()
        .iter()
        .map(|b| b["dedup_key"].as_str().unwrap_or("").to_owned())
        .collect();
    keys.sort();
    let expected: Vec<String> = (0..50).map(|i| format!("alertmanager/fp{i:02}")).collect();
    assert_eq!(keys, expected, "each delivered exactly once");
    b.stop().await;
}

fn notify_settings(
    s: &mut verdict::config::NotificationSettings,
    receivers: BTreeMap<String, Receiver>,
) {
    s.route = Some(route("receiver = \"pd\"\n", &receivers));
    s.receivers = receivers;
}
