//! `spawn_app`: a verdict server in this process on 127.0.0.1 port 0, over
//! a test database, with SLO specs written to a temp dir, tokens of each
//! role, and an HTTP client (after zero2prod's `tests/api/helpers.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;
use verdict::api::tokens::issue_token;
use verdict::cli::serve::{RunningServer, start};
use verdict::config::{Config, Secret};
use verdict::prom::PromClient;
use verdict::scheduler::Evaluator;
use verdict::spec::SpecSet;
use verdict::store::{Role, Store};

use super::db::TestDb;

/// The SLOs every test server loads: `checkout-availability` (99.9%,
/// labels team=payments, tier=1) and `payments-availability` (99.5%,
/// team=payments, tier=2).
pub const CHECKOUT_SLOS: &str = r#"version: prometheus/v1
service: checkout
labels:
  team: payments
slos:
  - name: availability
    objective: 99.9
    labels:
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
"#;

pub const PAYMENTS_SLOS: &str = r#"version: prometheus/v1
service: payments
labels:
  team: payments
slos:
  - name: availability
    objective: 99.5
    labels:
      tier: "2"
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="payments",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="payments"}[{{.window}}]))
"#;

/// A URL where nothing listens (a port the OS just handed out and took back).
pub fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    format!("http://127.0.0.1:{port}")
}

/// Test settings: fast polling, short leases and backoffs.
pub fn test_config(db: &TestDb, slos: &std::path::Path, prometheus_url: &str) -> Config {
    let mut c = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Secret::new(db.url.clone()),
        slos: vec![slos.to_path_buf()],
        slos_explicit: true,
        ..Config::default()
    };
    c.prometheus.url = prometheus_url.to_owned();
    c.prometheus.timeout = Duration::from_secs(5);
    c.scheduler.poll_interval = Duration::from_millis(100);
    c.scheduler.lease = Duration::from_secs(2);
    c.scheduler.guard_interval = Duration::from_millis(200);
    c.scheduler.eval_backoff = Duration::from_millis(100);
    c.scheduler.webhook_backoff = Duration::from_millis(100);
    c.scheduler.shutdown_grace = Duration::from_millis(500);
    c.scheduler.default_observe_recovery = Duration::from_secs(60);
    c
}

/// A running test server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
    pub operator: String,
    pub viewer: String,
    pub store: Store,
    pub owner: Option<String>,
    pub server: Option<RunningServer>,
    _slos: tempfile::TempDir,
}

/// An HTTP answer: status, content type, body as text and (if any) JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

/// Starts a server on `db` whose evaluator `make` builds.
pub async fn spawn_app<F>(db: &TestDb, prometheus_url: &str, make: F) -> TestApp
where
    F: FnOnce(&Arc<SpecSet>, &PromClient) -> Arc<dyn Evaluator>,
{
    spawn_app_with(db, prometheus_url, make, |_| {}).await
}

/// Same as [`spawn_app`], with the configuration adjusted by `tweak`.
pub async fn spawn_app_with<F>(
    db: &TestDb,
    prometheus_url: &str,
    make: F,
    tweak: impl FnOnce(&mut Config),
) -> TestApp
where
    F: FnOnce(&Arc<SpecSet>, &PromClient) -> Arc<dyn Evaluator>,
{
    let _ = rustls::crypto::ring::default_provider().install_default();
    let slos = tempfile::Builder::new()
        .prefix("verdict-slos-")
        .tempdir()
        .expect("temp dir for SLOs");
    std::fs::write(slos.path().join("checkout.yaml"), CHECKOUT_SLOS).expect("write SLOs");
    std::fs::write(slos.path().join("payments.yaml"), PAYMENTS_SLOS).expect("write SLOs");
    let mut config = test_config(db, slos.path(), prometheus_url);
    tweak(&mut config);
    let server = start(config, make).await.expect("the test server starts");
    let store = server.state.store.clone();
    let token = |role| {
        let store = store.clone();
        async move {
            issue_token(&store, role, Some(&format!("test-{role}")))
                .await
                .expect("a token")
                .token
        }
    };
    let (admin, operator, viewer) = (
        token(Role::Admin).await,
        token(Role::Operator).await,
        token(Role::Viewer).await,
    );
    TestApp {
        base: format!("http://{}", server.addr),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client"),
        admin,
        operator,
        viewer,
        store,
        owner: server.scheduler_owner.clone(),
        server: Some(server),
        _slos: slos,
    }
}

impl TestApp {
    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::read(req.send().await.expect("the request reaches the server")).await
    }

    /// Sends raw bytes with a content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        // A server that rejects an oversized body answers 413 and closes the
        // connection while the client may still be writing it; the client
        // then sees a reset instead of the answer. Sending again (bounded)
        // reads the answer; the assertions on it are unchanged.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body.clone());
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            match req.send().await {
                Ok(r) => return Self::read(r).await,
                Err(e) if attempt < 5 && body.len() > 1024 * 1024 => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the request reaches the server: {e}"),
            }
        }
    }

    async fn read(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.expect("a response body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            content_type,
            headers,
            text,
            json,
        }
    }

    /// GET with the viewer token.
    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, Some(&self.viewer), None).await
    }

    /// POST JSON with the operator token.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::POST, path, Some(&self.operator), Some(body))
            .await
    }

    /// Creates an experiment; panics unless 201.
    pub async fn create(&self, body: &Value) -> Value {
        let r = self.post("/api/v1/experiments", body).await;
        assert_eq!(r.status, 201, "create failed: {}", r.text);
        r.json
    }

    /// Polls the experiment until `done` holds (at most `limit`).
    pub async fn wait_for(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let began = Instant::now();
        loop {
            let r = self.get(&format!("/api/v1/experiments/{id}")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if done(&r.json) {
                return r.json;
            }
            assert!(
                began.elapsed() < limit,
                "experiment {id} did not reach the expected state within {limit:?}; last: {}",
                r.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the experiment has `status`.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        self.wait_for(id, Duration::from_secs(20), |e| e["status"] == status)
            .await
    }

    /// Graceful shutdown.
    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.expect("graceful shutdown");
        }
    }

    /// Abrupt stop, like SIGKILL: no cleanup, leases stay held.
    pub fn kill(mut self) {
        if let Some(s) = self.server.take() {
            s.kill();
        }
    }
}

/// Parses an id from a JSON string field.
pub fn id_of(v: &Value) -> Uuid {
    v["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no id in {v}"))
}
