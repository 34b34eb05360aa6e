//! The scheduler against real databases and a real Prometheus: guardrail
//! aborts with the webhook, crash safety (a server dropped mid-evaluation,
//! restarted on the same database), two schedulers sharing one database,
//! and graceful shutdown releasing leases.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;
use verdict::store::{Backend, ListFilter, Status};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{JAN_1_2026, PromServer, Scenario, Steps};
use crate::support::app::{id_of, spawn_app, spawn_app_with};
use crate::support::db::TestDb;
use crate::support::evaluator::{Calls, RatioEvaluator};
use crate::support::on_both_backends;

const T0: i64 = JAN_1_2026;
const FS: i64 = T0 + 3600;
const FE: i64 = T0 + 4200;

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn past_scenario() -> Scenario {
    Scenario::new(T0, T0 + 3 * 3600).traffic(
        "checkout",
        10.0,
        Steps::new(0.0).at(FS, 0.002).at(FE, 0.0),
    )
}

fn after_the_fact(name: &str) -> Value {
    json!({
        "name": name,
        "target": {"service": "checkout"},
        "type": "pod-kill",
        "observe_recovery": "2m",
        "fault_start": rfc3339(FS),
        "fault_end": rfc3339(FE),
    })
}

on_both_backends!(
    a_guardrail_breach_aborts_calls_the_webhook_and_records_why,
    a_server_killed_mid_evaluation_completes_exactly_once_after_restart,
    two_schedulers_evaluate_twenty_experiments_exactly_once,
    graceful_shutdown_releases_the_lease_of_unfinished_work,
);

async fn a_guardrail_breach_aborts_calls_the_webhook_and_records_why(backend: Backend) {
    // Live history up to now: half of checkout's requests fail for the last
    // 15 minutes, a 5m burn rate of 0.5 / 0.001 = 500 > 14.4.
    let now = Utc::now().timestamp();
    let end = now - now % 15;
    let scenario = Scenario::new(end - 1800, end).traffic(
        "checkout",
        10.0,
        Steps::new(0.0).at(end - 900, 0.5),
    );
    let prom = PromServer::start(&scenario).await.expect("prometheus");
    let hook = MockServer::start().await;
    // The receiver fails once, then accepts: the delivery is retried.
    Mock::given(method("POST"))
        .and(path("/hooks/abort"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&hook)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks/abort"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&hook)
        .await;

    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let app = spawn_app(&db, prom.base_url(), |specs, client| {
        Arc::new(RatioEvaluator::new("main", specs, client, &calls))
    })
    .await;
    let created = app
        .create(&json!({
            "name": "kill checkout pods",
            "target": {"service": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
            "type": "pod-kill",
            "abort_webhook": format!("{}/hooks/abort?token=s3cret", hook.uri()),
            "routing_labels": {"team": "payments"},
            "fault_start": rfc3339(end - 600),
        }))
        .await;
    assert_eq!(created["status"], "running");
    // The webhook's path and query (which may hold a secret) are not shown.
    assert_eq!(created["abort_webhook"], hook.uri());
    let id = created["id"].as_str().expect("id").to_owned();

    let aborted = app
        .wait_for(&id, Duration::from_secs(20), |e| {
            e["status"] == "aborted" && e["webhook"]["state"] == "delivered"
        })
        .await;
    let reason = "checkout-availability: 5m burn rate 500.0 above 14.4";
    assert_eq!(aborted["abort_reason"], reason);
    assert_eq!(aborted["webhook"]["attempts"], 2);
    assert_eq!(aborted["verdict"], Value::Null);

    let received = hook.received_requests().await.expect("recorded requests");
    assert_eq!(received.len(), 2, "one failed attempt, one delivered");
    let expected = json!({
        "kind": "experiment.aborted",
        "experiment": {
            "id": id,
            "name": "kill checkout pods",
            "type": "pod-kill",
            "target": {"service": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
            "routing_labels": {"team": "payments"},
        },
        "reason": reason,
        "fault_start": aborted["fault_start"],
        "aborted_at": aborted["finished_at"],
    });
    for r in &received {
        assert_eq!(r.url.query(), Some("token=s3cret"));
        let body: Value = serde_json::from_slice(&r.body).expect("JSON payload");
        assert_eq!(body, expected);
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }

    let events = app
        .store
        .list_events(id_of(&created))
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "experiment.aborted");
    assert_eq!(events[0].payload.0["reason"], reason);
    assert_eq!(events[0].payload.0["by"], "guardrail");
    assert_eq!(events[0].payload.0["previous_status"], "running");
    let v = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    assert_eq!(v.status, 404);
    assert_eq!(
        v.json["detail"],
        format!("experiment {id} was aborted ({reason}); it has no verdict")
    );
    assert_eq!(calls.total(), 0, "an aborted experiment is not evaluated");
    let m = app
        .call(reqwest::Method::GET, "/metrics", None, None)
        .await
        .text;
    for line in [
        "verdict_guard_checks_total{decision=\"abort\"} 1",
        "verdict_experiments_aborted_total{by=\"guardrail\"} 1",
        "verdict_webhook_deliveries_total{result=\"failed\"} 1",
        "verdict_webhook_deliveries_total{result=\"delivered\"} 1",
    ] {
        assert!(m.contains(line), "missing {line:?}:\n{m}");
    }
    app.stop().await;
}

async fn a_server_killed_mid_evaluation_completes_exactly_once_after_restart(backend: Backend) {
    let prom = PromServer::start(&past_scenario())
        .await
        .expect("prometheus");
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();

    // Server A hangs in the evaluation; it is dropped there, like SIGKILL.
    let a = spawn_app(&db, prom.base_url(), |specs, client| {
        let mut e = RatioEvaluator::new("a", specs, client, &calls);
        e.hang = Some(started_tx);
        Arc::new(e)
    })
    .await;
    let a_owner = a.owner.clone().expect("a scheduler");
    let evaluating = a.create(&after_the_fact("evaluating when killed")).await;
    // A second experiment still observing recovery (for 3 more seconds).
    let now = Utc::now().timestamp();
    let recovering = a
        .create(&json!({
            "name": "recovering when killed",
            "target": {"service": "checkout"},
            "type": "network-delay",
            "observe_recovery": "4s",
            "fault_start": rfc3339(now - 60),
            "fault_end": rfc3339(now - 1),
        }))
        .await;
    assert_eq!(recovering["status"], "recovering");
    let hung = tokio::time::timeout(Duration::from_secs(20), started.recv())
        .await
        .expect("A starts evaluating")
        .expect("an id");
    assert_eq!(hung, id_of(&evaluating));
    let store = a.store.clone();
    a.kill();

    let row = store
        .get_experiment(id_of(&evaluating))
        .await
        .expect("read")
        .expect("row")
        .experiment;
    assert_eq!(row.status, Status::Evaluating);
    assert_eq!(row.lease_owner.as_deref(), Some(a_owner.as_str()));
    assert!(row.lease_expires_at.expect("a lease") > Utc::now());
    assert_eq!(store.list_verdicts().await.expect("verdicts").len(), 0);
    let row = store
        .get_experiment(id_of(&recovering))
        .await
        .expect("read")
        .expect("row")
        .experiment;
    assert_eq!(row.status, Status::Recovering);

    // Server B on the same database takes over once A's lease expires.
    let b = spawn_app(&db, prom.base_url(), |specs, client| {
        Arc::new(RatioEvaluator::new("b", specs, client, &calls))
    })
    .await;
    let done = b
        .wait_for_status(evaluating["id"].as_str().expect("id"), "completed")
        .await;
    assert_eq!(done["verdict"], "pass");
    let done2 = b
        .wait_for_status(recovering["id"].as_str().expect("id"), "completed")
        .await;
    // No data at today's times in the harness: inconclusive, not pass.
    assert_eq!(done2["verdict"], "inconclusive");

    let verdicts = b.store.list_verdicts().await.expect("verdicts");
    assert_eq!(verdicts.len(), 2);
    for exp in [&evaluating, &recovering] {
        let events = b.store.list_events(id_of(exp)).await.expect("events");
        let completed = events
            .iter()
            .filter(|e| e.kind == "experiment.completed")
            .count();
        assert_eq!(completed, 1, "{events:?}");
        assert_eq!(events.len(), 1);
    }
    let per_exp = calls.per_experiment();
    assert_eq!(
        per_exp.get(&id_of(&evaluating)),
        Some(&2),
        "A (killed) and B"
    );
    assert_eq!(per_exp.get(&id_of(&recovering)), Some(&1), "B only");
    assert_eq!(calls.per_evaluator().get("b"), Some(&2));
    let stored = b
        .store
        .get_verdict(id_of(&evaluating))
        .await
        .expect("read")
        .expect("row");
    let body: Value = serde_json::from_str(&stored.body).expect("json");
    assert!((body["slos"][0]["error_ratio"].as_f64().expect("ratio") - 0.002).abs() < 1e-12);
    b.stop().await;
}

async fn two_schedulers_evaluate_twenty_experiments_exactly_once(backend: Backend) {
    let prom = PromServer::start(&past_scenario())
        .await
        .expect("prometheus");
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let make = |name: &'static str| {
        let calls = calls.clone();
        move |specs: &Arc<verdict::spec::SpecSet>, client: &verdict::prom::PromClient| {
            let mut e = RatioEvaluator::new(name, specs, client, &calls);
            e.delay = Duration::from_millis(100);
            Arc::new(e) as Arc<dyn verdict::scheduler::Evaluator>
        }
    };
    let tweak = |c: &mut verdict::config::Config| c.scheduler.max_in_flight = 2;
    let a = spawn_app_with(&db, prom.base_url(), make("a"), tweak).await;
    let b = spawn_app_with(&db, prom.base_url(), make("b"), tweak).await;
    assert_ne!(a.owner, b.owner);
    let mut ids = Vec::new();
    for i in 0..20 {
        let app = if i % 2 == 0 { &a } else { &b };
        ids.push(id_of(
            &app.create(&after_the_fact(&format!("exp {i}"))).await,
        ));
    }
    let began = Instant::now();
    loop {
        let done = a
            .store
            .list_experiments(&ListFilter {
                status: Some(Status::Completed),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("list");
        if done.len() == 20 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "only {} of 20 completed",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let per_exp = calls.per_experiment();
    assert_eq!(per_exp.len(), 20);
    for id in &ids {
        assert_eq!(
            per_exp.get(id),
            Some(&1),
            "experiment {id} evaluated more than once"
        );
    }
    let per_evaluator = calls.per_evaluator();
    let (by_a, by_b) = (
        per_evaluator.get("a").copied().unwrap_or(0),
        per_evaluator.get("b").copied().unwrap_or(0),
    );
    assert_eq!(by_a + by_b, 20);
    assert!(
        by_a > 0 && by_b > 0,
        "both schedulers took work: a {by_a}, b {by_b}"
    );
    let verdicts = a.store.list_verdicts().await.expect("verdicts");
    assert_eq!(verdicts.len(), 20);
    let mut verdict_ids: Vec<Uuid> = verdicts.iter().map(|v| v.experiment_id).collect();
    verdict_ids.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(verdict_ids, expected);
    for id in &ids {
        let events = a.store.list_events(*id).await.expect("events");
        assert_eq!(events.len(), 1, "{events:?}");
    }
    a.stop().await;
    b.stop().await;
}

async fn graceful_shutdown_releases_the_lease_of_unfinished_work(backend: Backend) {
    let prom = PromServer::start(&past_scenario())
        .await
        .expect("prometheus");
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    // Long leases: only a release lets B take the work within the test.
    let long_lease = |c: &mut verdict::config::Config| {
        c.scheduler.lease = Duration::from_secs(120);
        c.scheduler.shutdown_grace = Duration::from_millis(300);
    };
    let a = spawn_app_with(
        &db,
        prom.base_url(),
        |specs, client| {
            let mut e = RatioEvaluator::new("a", specs, client, &calls);
            e.hang = Some(started_tx);
            Arc::new(e)
        },
        long_lease,
    )
    .await;
    let exp = a.create(&after_the_fact("interrupted")).await;
    tokio::time::timeout(Duration::from_secs(20), started.recv())
        .await
        .expect("A starts evaluating");
    let store = a.store.clone();
    let before = store
        .get_experiment(id_of(&exp))
        .await
        .expect("read")
        .expect("row")
        .experiment;
    assert!(before.lease_owner.is_some());
    let stopping = Instant::now();
    a.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        stopping.elapsed()
    );
    let db2 = verdict::store::Store::connect(&db.url)
        .await
        .expect("reconnect");
    let after = db2
        .get_experiment(id_of(&exp))
        .await
        .expect("read")
        .expect("row")
        .experiment;
    assert_eq!(after.status, Status::Evaluating);
    assert_eq!(after.lease_owner, None, "the lease was released");
    assert_eq!(after.lease_expires_at, None);
    assert!(after.version > before.version);

    let b = spawn_app_with(
        &db,
        prom.base_url(),
        |specs, client| Arc::new(RatioEvaluator::new("b", specs, client, &calls)),
        long_lease,
    )
    .await;
    let done = b
        .wait_for(
            exp["id"].as_str().expect("id"),
            Duration::from_secs(10),
            |e| e["status"] == "completed",
        )
        .await;
    assert_eq!(done["verdict"], "pass");
    assert_eq!(b.store.list_verdicts().await.expect("verdicts").len(), 1);
    b.stop().await;
    db2.close().await;
}
