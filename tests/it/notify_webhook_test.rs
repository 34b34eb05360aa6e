//! The Alertmanager webhook: a real Alertmanager delivers to the server,
//! which stores the alert, marks it with the running experiment it belongs
//! to and routes it; bad input stores nothing; secrets stay out of logs.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use verdict::config::Secret as ConfigSecret;
use verdict::notify::delivery::Secret;
use verdict::notify::outbox::Receiver;
use verdict::notify::slack::SlackReceiver;
use verdict::store::Backend;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::notify_outbox_test::{
    ROUTING_KEY, SLACK_TOKEN, Script, alert, alert_payload, notify_config, pagerduty,
};
use crate::support::app::{TestApp, dead_url, spawn_app_with};
use crate::support::db::TestDb;
use crate::support::evaluator::NoEvaluation;
use crate::support::on_both_backends;

const AM_PASSWORD: &str = "am-basic-s3cr3t-4242";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A real Alertmanager on loopback, no clustering.
struct Alertmanager {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    fn start(webhook_url: &str) -> Alertmanager {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                r#"route:
  receiver: verdict
  group_by: ['alertname', 'service']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: verdict
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
        http_config:
          basic_auth:
            username: alertmanager
            password: {AM_PASSWORD}
"#
            ),
        )
        .expect("write config");
        let port = free_port();
        let child = Command::new("/usr/bin/prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager");
        let am = Alertmanager {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "alertmanager did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        am
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receivers(pd_url: &str) -> BTreeMap<String, Receiver> {
    BTreeMap::from([("pd".to_owned(), pagerduty(pd_url))])
}

async fn spawn(db: &TestDb, pd_url: &str) -> TestApp {
    let r = receivers(pd_url);
    spawn_app_with(
        db,
        &dead_url(),
        |_, _| Arc::new(NoEvaluation),
        |c| {
            notify_config(
                c,
                r,
                "receiver = \"pd\"\nduring_experiment = \"annotate\"\n",
            );
            c.notifications.alertmanager_username = Some("alertmanager".into());
            c.notifications.alertmanager_password = Some(ConfigSecret::new(AM_PASSWORD));
        },
    )
    .await
}

on_both_backends!(
    a_real_alertmanager_delivers_an_alert_the_running_experiment_explains,
    bad_webhook_input_is_a_problem_and_stores_nothing,
);

async fn a_real_alertmanager_delivers_an_alert_the_running_experiment_explains(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mock = MockServer::start().await;
    let pd = Script::new(vec![
        ResponseTemplate::new(202).set_body_json(json!({"status": "success"})),
    ]);
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(pd.clone())
        .mount(&mock)
        .await;
    let app = spawn(&db, &mock.uri()).await;
    let now = chrono::Utc::now();
    let created = app
        .create(&json!({
            "name": "kill-checkout",
            "target": {"service": "checkout", "namespace": "shop"},
            "type": "pod-kill",
            "fault_start": (now - chrono::Duration::seconds(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }))
        .await;
    assert_eq!(created["status"], "running");
    let experiment_id = created["id"].as_str().expect("id").to_owned();

    let am = Alertmanager::start(&format!("{}/api/v1/alerts/alertmanager", app.base));
    let http = reqwest::Client::new();
    let posted = http
        .post(format!("{}/api/v2/alerts", am.url()))
        .json(&json!([
            {"labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "warning"},
             "annotations": {"summary": "5xx above 1%"}},
            {"labels": {"alertname": "CartSlow", "service": "cart", "severity": "warning"},
             "annotations": {"summary": "p99 above 1s"}},
        ]))
        .send()
        .await
        .expect("Alertmanager API");
    assert_eq!(posted.status().as_u16(), 200);

    let began = Instant::now();
    let alerts = loop {
        let alerts = app.store.list_alerts().await.expect("alerts");
        if alerts.len() >= 2 {
            break alerts;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "Alertmanager did not deliver within 30s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(alerts.len(), 2);
    let by_name: BTreeMap<String, _> = alerts
        .iter()
        .map(|a| (a.labels.0["alertname"].clone(), a))
        .collect();
    let checkout = by_name["CheckoutErrors"];
    assert_eq!(checkout.status, "firing");
    assert_eq!(
        checkout.experiment_id.map(|u| u.to_string()),
        Some(experiment_id)
    );
    assert_eq!(checkout.ends_at, None);
    assert_eq!(by_name["CartSlow"].experiment_id, None);
    assert_eq!(checkout.fingerprint.len(), 16, "Alertmanager's fingerprint");

    let began = Instant::now();
    while pd.bodies().len() < 2 {
        assert!(began.elapsed() < Duration::from_secs(20), "not routed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut summaries: Vec<String> = pd
        .bodies()
        .iter()
        .map(|b| b["payload"]["summary"].as_str().unwrap_or("").to_owned())
        .collect();
    summaries.sort();
    assert_eq!(
        summaries,
        vec![
            "[FIRING] CartSlow on cart".to_owned(),
            "[FIRING] CheckoutErrors on checkout (during experiment kill-checkout)".to_owned(),
        ]
    );
    let keys: Vec<String> = pd
        .bodies()
        .iter()
        .map(|b| b["dedup_key"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(keys.contains(&format!("alertmanager/{}", checkout.fingerprint)));
    app.stop().await;
}

/// What is sent, with which token, and the expected status and problem type.
type Case = (&'static str, Vec<u8>, Option<String>, u16, &'static str);

async fn bad_webhook_input_is_a_problem_and_stores_nothing(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn(&db, &dead_url()).await;
    let hook = "/api/v1/alerts/alertmanager";
    let send = |body: Vec<u8>, token: Option<String>| {
        let app = &app;
        async move {
            app.call_raw(
                Method::POST,
                hook,
                token.as_deref(),
                "application/json",
                body,
            )
            .await
        }
    };
    let op = Some(app.operator.clone());
    let mut wrong_version = alert_payload(vec![alert("fp", "firing", "cart")]);
    wrong_version["version"] = json!("3");
    let cases: Vec<Case> = vec![
        (
            "wrong version",
            serde_json::to_vec(&wrong_version).expect("json"),
            op.clone(),
            422,
            "invalid-body",
        ),
        (
            "malformed JSON",
            b"{\"version\": \"4\", \"alerts\": [".to_vec(),
            op.clone(),
            400,
            "malformed-json",
        ),
        (
            "a viewer token",
            serde_json::to_vec(&alert_payload(vec![])).expect("json"),
            Some(app.viewer.clone()),
            403,
            "forbidden",
        ),
        (
            "no credentials",
            serde_json::to_vec(&alert_payload(vec![])).expect("json"),
            None,
            401,
            "unauthorized",
        ),
    ];
    for (what, body, token, status, slug) in cases {
        let r = send(body, token).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        assert_eq!(r.content_type, "application/problem+json", "{what}");
        assert!(
            r.json["type"].as_str().unwrap_or("").ends_with(slug),
            "{what}: {}",
            r.json
        );
    }
    // 5 MiB: the server answers before reading it all, so the request is
    // written by hand (a client that stops at the first write error would
    // not see the answer).
    let mut big = b"{\"version\":\"4\",\"alerts\":[],\"pad\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    big.extend(b"\"}");
    let answer = raw_post(&app.base, hook, &app.operator, big).await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "5 MiB body: {}",
        answer.lines().next().unwrap_or("")
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json")
    );
    assert!(answer.contains("payload-too-large"), "{answer}");
    // Wrong basic-auth password.
    let r = app
        .http
        .post(format!("{}{hook}", app.base))
        .basic_auth("alertmanager", Some("wrong"))
        .json(&alert_payload(vec![alert("fp", "firing", "cart")]))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401);
    assert!(app.store.list_alerts().await.expect("alerts").is_empty());
    assert!(
        app.store
            .unrouted_events(10)
            .await
            .expect("events")
            .is_empty()
    );
    assert!(
        app.store
            .list_deliveries(None, 10)
            .await
            .expect("deliveries")
            .is_empty()
    );
    // The right password works.
    let r = app
        .http
        .post(format!("{}{hook}", app.base))
        .basic_auth("alertmanager", Some(AM_PASSWORD))
        .json(&alert_payload(vec![alert("fp", "firing", "cart")]))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(app.store.list_alerts().await.expect("alerts").len(), 1);
    app.stop().await;
}

/// POSTs `body` over a plain TCP connection, ignoring write errors after
/// the server answered, and returns the raw answer.
async fn raw_post(base: &str, path: &str, token: &str, body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.write_all(&body)).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Every task of the server runs on this one thread, so the thread-local
/// subscriber sees all of their logs.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_appear_in_logs_api_answers_or_stored_rows() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary hit the same log call sites on other
    // threads, where no subscriber listens; make sure no call site keeps a
    // "nobody listens" interest cached from before this subscriber existed.
    tracing::callsite::rebuild_interest_cache();

    let db = TestDb::create(Backend::Sqlite).await;
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("routing key {ROUTING_KEY} is invalid")),
        )
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": false, "error": format!("invalid_auth for {SLACK_TOKEN}")}),
        ))
        .mount(&mock)
        .await;
    let mut receivers = receivers(&mock.uri());
    receivers.insert(
        "chat".into(),
        Receiver::Slack(SlackReceiver {
            name: "chat".into(),
            api_url: format!("{}/api", mock.uri()),
            token: Secret::new(SLACK_TOKEN),
            channel: "C0SHOP".into(),
            timeout: Duration::from_secs(5),
        }),
    );
    let app = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(NoEvaluation),
        |c| {
            notify_config(
                c,
                receivers,
                "receiver = \"pd\"\n[[routes]]\nreceiver = \"pd\"\ncontinue = true\n[[routes]]\nreceiver = \"chat\"\n",
            );
            c.notifications.alertmanager_username = Some("alertmanager".into());
            c.notifications.alertmanager_password = Some(ConfigSecret::new(AM_PASSWORD));
        },
    )
    .await;
    let r = app
        .http
        .post(format!("{}/api/v1/alerts/alertmanager", app.base))
        .basic_auth("alertmanager", Some(AM_PASSWORD))
        .json(&alert_payload(vec![alert("fp", "firing", "cart")]))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let began = Instant::now();
    loop {
        let dead = app
            .store
            .list_deliveries(Some("dead"), 10)
            .await
            .expect("deliveries");
        if dead.len() == 2 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "not dead: {dead:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A delivery is marked dead before its failure is logged: give the
    // outbox task the moment to log before the server is stopped (bounded).
    let logged = Instant::now();
    while !String::from_utf8_lossy(&captured.0.lock().expect("lock")).contains("delivery failed")
        && logged.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut answers = String::new();
    for path in ["/api/v1/deliveries", "/api/v1/config"] {
        answers.push_str(
            &app.call(Method::GET, path, Some(&app.admin), None)
                .await
                .text,
        );
    }
    let stored = format!(
        "{:?} {:?}",
        app.store.list_deliveries(None, 100).await.expect("rows"),
        app.store.list_alerts().await.expect("rows")
    );
    app.stop().await;
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    assert!(
        logs.contains("delivery failed"),
        "the failures were logged: {logs}"
    );
    for secret in [ROUTING_KEY, SLACK_TOKEN, AM_PASSWORD] {
        assert!(!logs.contains(secret), "{secret} in the logs");
        assert!(!answers.contains(secret), "{secret} in an API answer");
        assert!(!stored.contains(secret), "{secret} in a stored row");
    }
    assert!(
        stored.contains("<redacted>"),
        "errors were scrubbed: {stored}"
    );
}
