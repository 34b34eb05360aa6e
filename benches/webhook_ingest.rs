//! Alertmanager webhook ingestion on SQLite: alerts stored (durably, each
//! with its routed event) per second through the real HTTP server.
//!
//! `cargo bench --bench webhook_ingest` prints the figure; requests of 10
//! alerts, 8 in flight, 300 requests after a warm-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use verdict::api::tokens::issue_token;
use verdict::cli::serve::start;
use verdict::config::{Config, Secret};
use verdict::scheduler::{
    BoxFuture, EvalFailure, EvalWindow, Evaluator, GuardDecision, StoredVerdict,
};
use verdict::store::{ExperimentRow, Role};

struct NoEval;

impl Evaluator for NoEval {
    fn evaluate<'a>(
        &'a self,
        _exp: &'a ExperimentRow,
        _window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>> {
        Box::pin(async { Err(EvalFailure::permanent("bench")) })
    }
    fn guard<'a>(
        &'a self,
        _exp: &'a ExperimentRow,
        _now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>> {
        Box::pin(async { Ok(GuardDecision::Continue) })
    }
}

const PER_REQUEST: usize = 10;
const REQUESTS: usize = 300;
const IN_FLIGHT: usize = 8;

fn payload(batch: usize) -> serde_json::Value {
    let alerts: Vec<_> = (0..PER_REQUEST)
        .map(|i| {
            json!({
                "status": "firing",
                "labels": {"alertname": "CheckoutErrors", "service": "checkout", "pod": format!("p{batch}-{i}")},
                "annotations": {"summary": "5xx above 1%"},
                "startsAt": "2026-01-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": format!("{batch:08x}{i:08x}"),
            })
        })
        .collect();
    json!({"version": "4", "groupKey": "g", "status": "firing", "receiver": "verdict", "alerts": alerts})
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            database_url: Secret::new(format!(
                "sqlite://{}",
                dir.path().join("bench.db").display()
            )),
            slos: vec![dir.path().to_path_buf()],
            slos_explicit: true,
            ..Config::default()
        };
        config.scheduler.enabled = false;
        let server = start(config, |_, _| Arc::new(NoEval)).await.expect("server");
        let token = issue_token(&server.state.store, Role::Operator, Some("bench"))
            .await
            .expect("token")
            .token;
        let url = format!("http://{}/api/v1/alerts/alertmanager", server.addr);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let send = |batch: usize| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            async move {
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&payload(batch))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status().as_u16(), 200);
            }
        };
        for b in 0..20 {
            send(1_000_000 + b).await;
        }
        let began = Instant::now();
        let mut next = 0;
        let mut tasks = tokio::task::JoinSet::new();
        while next < REQUESTS || !tasks.is_empty() {
            while next < REQUESTS && tasks.len() < IN_FLIGHT {
                tasks.spawn(send(next));
                next += 1;
            }
            if let Some(r) = tasks.join_next().await {
                r.expect("task");
            }
        }
        let took = began.elapsed();
        let alerts = REQUESTS * PER_REQUEST;
        let stored = server.state.store.list_alerts().await.expect("alerts").len();
        assert_eq!(stored, alerts + 20 * PER_REQUEST);
        println!(
            "webhook ingestion (SQLite, {PER_REQUEST} alerts/request, {IN_FLIGHT} in flight): {alerts} alerts in {:.2}s = {:.0} alerts/s, {:.1} ms/request",
            took.as_secs_f64(),
            alerts as f64 / took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / REQUESTS as f64
        );
        server.shutdown().await.expect("shutdown");
    });
}
