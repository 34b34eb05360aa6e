//! The experiments API end to end, on SQLite and on Postgres: the lifecycle
//! through start/end to a stored verdict computed from a real Prometheus,
//! listing with filters and cursors, idempotent creation, bad input, and
//! the server's own metrics.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use verdict::store::Backend;

use crate::harness::{JAN_1_2026, PromServer, Scenario, Steps};
use crate::support::app::{dead_url, id_of, spawn_app};
use crate::support::db::TestDb;
use crate::support::evaluator::{Calls, RatioEvaluator};
use crate::support::on_both_backends;

const T0: i64 = JAN_1_2026;
/// The checkout fault: 10 minutes at 0.2% errors.
const FS: i64 = T0 + 3600;
const FE: i64 = T0 + 4200;
/// The payments fault: 20 minutes at 60% errors.
const PAY_FE: i64 = T0 + 4800;

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn scenario() -> Scenario {
    Scenario::new(T0, T0 + 3 * 3600)
        .traffic("checkout", 10.0, Steps::new(0.0).at(FS, 0.002).at(FE, 0.0))
        .traffic("payments", 5.0, Steps::new(0.0).at(FS, 0.6).at(PAY_FE, 0.0))
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {actual}"));
    assert!(
        (a - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: expected {expected}, got {a}"
    );
}

on_both_backends!(
    create_start_end_then_the_verdict_is_stored_and_listed,
    an_idempotency_key_returns_the_first_experiment,
    bad_input_is_a_problem_that_names_it_and_writes_nothing,
    the_running_gauge_follows_the_fault_and_prometheus_errors_are_counted,
    an_evaluation_that_keeps_failing_ends_in_error,
    an_abort_call_stops_the_experiment_and_calls_its_webhook,
    a_slow_request_ends_with_a_timeout_problem,
);

async fn create_start_end_then_the_verdict_is_stored_and_listed(backend: Backend) {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let app = spawn_app(&db, prom.base_url(), |specs, client| {
        Arc::new(RatioEvaluator::new("main", specs, client, &calls))
    })
    .await;

    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(
        ready.json,
        json!({"status": "ok", "checks": {"database": "ok", "prometheus": "ok"}})
    );

    // Create: scheduled, SLOs resolved from the target service.
    let created = app
        .create(&json!({
            "name": "kill one checkout pod",
            "target": {"service": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
            "type": "pod-kill",
            "baseline": "10m",
            "observe_recovery": "2m",
            "routing_labels": {"team": "payments"},
            "links": [{"name": "chaos-mesh", "url": "https://chaos.example/runs/42"}],
        }))
        .await;
    let id = id_of(&created).to_string();
    assert_eq!(created["status"], "scheduled");
    assert_eq!(created["slos"]["ids"], json!(["checkout-availability"]));
    assert_eq!(created["slos"]["selector"], json!({"service": "checkout"}));
    assert_eq!(created["baseline"], "10m");
    assert_eq!(created["observe_recovery"], "2m");
    assert_eq!(created["verdict"], Value::Null);
    let got = app.get(&format!("/api/v1/experiments/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json, created);

    // Start and end at the scenario's fault times.
    let started = app
        .post(
            &format!("/api/v1/experiments/{id}/start"),
            &json!({"at": rfc3339(FS)}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert_eq!(started.json["status"], "running");
    assert_eq!(started.json["fault_start"], rfc3339(FS));
    let ended = app
        .post(
            &format!("/api/v1/experiments/{id}/end"),
            &json!({"at": rfc3339(FE)}),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.json["status"], "recovering");
    assert_eq!(ended.json["fault_end"], rfc3339(FE));

    let done = app.wait_for_status(&id, "completed").await;
    assert_eq!(done["verdict"], "pass");
    assert!(done["finished_at"].is_string());

    // The verdict is the evaluator's JSON: E = 0.2%, burn 2, 600s of a 30d budget.
    let verdict = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    assert_eq!(verdict.status, 200);
    assert_eq!(verdict.content_type, "application/json");
    let v = &verdict.json;
    assert_eq!(v["outcome"], "pass");
    assert_eq!(v["experiment"], id.as_str());
    assert_close(
        &v["window"]["baseline_start"],
        (FS - 600) as f64,
        "baseline start",
    );
    assert_close(&v["window"]["fault_start"], FS as f64, "fault start");
    assert_close(&v["window"]["fault_end"], FE as f64, "fault end");
    assert_close(
        &v["window"]["observe_end"],
        (FE + 120) as f64,
        "observe end",
    );
    let slo = &v["slos"][0];
    assert_eq!(slo["slo"], "checkout-availability");
    assert_close(&slo["error_ratio"], 0.002, "error ratio");
    assert_close(&slo["burn_rate"], 2.0, "burn rate");
    assert_close(
        &slo["budget_consumed"],
        2.0 * 600.0 / 2_592_000.0,
        "budget consumed",
    );
    let stored = app
        .store
        .get_verdict(id_of(&created))
        .await
        .expect("read")
        .expect("one verdict row");
    assert_eq!(stored.body, verdict.text, "served byte for byte");

    // An after-the-fact experiment on payments: 60% errors for 20 minutes
    // burn 120× a 0.5% budget = 5.56% of 30 days > 5%: fail.
    let pay = app
        .create(&json!({
            "name": "payments network delay",
            "target": {"service": "payments"},
            "type": "network-delay",
            "slos": {"labels": {"tier": "2"}},
            "observe_recovery": "1m",
            "fault_start": rfc3339(FS),
            "fault_end": rfc3339(PAY_FE),
        }))
        .await;
    assert_eq!(pay["status"], "recovering");
    assert_eq!(pay["slos"]["ids"], json!(["payments-availability"]));
    let pay_id = id_of(&pay).to_string();
    let pay_done = app.wait_for_status(&pay_id, "completed").await;
    assert_eq!(pay_done["verdict"], "fail");
    let pv = app
        .get(&format!("/api/v1/experiments/{pay_id}/verdict"))
        .await
        .json;
    assert_close(&pv["slos"][0]["burn_rate"], 120.0, "payments burn rate");
    assert_close(
        &pv["slos"][0]["budget_consumed"],
        120.0 * 1200.0 / 2_592_000.0,
        "payments budget consumed",
    );

    // Lists: newest first, filters, cursor pages.
    let ids = |r: &Value| -> Vec<String> {
        r["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let all = app.get("/api/v1/experiments").await.json;
    assert_eq!(ids(&all), vec![pay_id.clone(), id.clone()]);
    assert_eq!(all["next_cursor"], Value::Null);
    let failed = app.get("/api/v1/experiments?verdict=fail").await.json;
    assert_eq!(ids(&failed), vec![pay_id.clone()]);
    let checkout = app.get("/api/v1/experiments?service=checkout").await.json;
    assert_eq!(ids(&checkout), vec![id.clone()]);
    let completed = app.get("/api/v1/experiments?status=completed").await.json;
    assert_eq!(ids(&completed).len(), 2);
    let running = app.get("/api/v1/experiments?status=running").await.json;
    assert_eq!(ids(&running).len(), 0);
    let future = app
        .get("/api/v1/experiments?since=2100-01-01T00:00:00Z")
        .await
        .json;
    assert_eq!(ids(&future).len(), 0);
    let page1 = app.get("/api/v1/experiments?limit=1").await.json;
    assert_eq!(ids(&page1), vec![pay_id.clone()]);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let page2 = app
        .get(&format!("/api/v1/experiments?limit=1&cursor={cursor}"))
        .await
        .json;
    assert_eq!(ids(&page2), vec![id.clone()]);
    assert_eq!(page2["next_cursor"], Value::Null);

    // Exactly one completed event each; one evaluation each.
    for e in [&id, &pay_id] {
        let events = app
            .store
            .list_events(uuid::Uuid::parse_str(e).expect("uuid"))
            .await
            .expect("events");
        let kinds: Vec<&str> = events.iter().map(|ev| ev.kind.as_str()).collect();
        assert_eq!(kinds, vec!["experiment.completed"]);
    }
    assert_eq!(calls.total(), 2);

    // Own metrics.
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, 200);
    for line in [
        "verdict_verdicts_total{outcome=\"pass\"} 1",
        "verdict_verdicts_total{outcome=\"fail\"} 1",
        "verdict_evaluations_total{result=\"ok\"} 2",
        "verdict_http_requests_total{method=\"POST\",route=\"/api/v1/experiments\",status=\"201\"} 2",
        "verdict_scheduler_queue_depth 0",
    ] {
        assert!(
            metrics.text.contains(line),
            "missing {line:?} in:\n{}",
            metrics.text
        );
    }
    app.stop().await;
}

async fn an_idempotency_key_returns_the_first_experiment(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| {
        Arc::new(crate::support::evaluator::NoEvaluation)
    })
    .await;
    let body = json!({"name": "cpu", "target": {"service": "checkout"}, "type": "cpu-stress"});
    let send = |b: Value| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(format!("{}/api/v1/experiments", app.base))
                .bearer_auth(&app.operator)
                .header("Idempotency-Key", "run-42")
                .json(&b)
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (status, replayed, r.json::<Value>().await.expect("json"))
        }
    };
    let (s1, r1, first) = send(body.clone()).await;
    assert_eq!((s1, r1), (201, false));
    // The same request, fields in another order: the same experiment.
    let reordered = json!({"type": "cpu-stress", "target": {"service": "checkout"}, "name": "cpu"});
    let (s2, r2, second) = send(reordered).await;
    assert_eq!((s2, r2), (200, true));
    assert_eq!(second["id"], first["id"]);
    let (s3, _, third) =
        send(json!({"name": "cpu", "target": {"service": "checkout"}, "type": "memory-stress"}))
            .await;
    assert_eq!(s3, 409);
    assert_eq!(third["type"], "/problems/idempotency-key-reused");
    assert_eq!(
        third["detail"],
        format!(
            "the Idempotency-Key \"run-42\" was already used for a different request (experiment {})",
            first["id"].as_str().expect("id")
        )
    );
    let all = app.get("/api/v1/experiments").await.json;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1));
    app.stop().await;
}

async fn bad_input_is_a_problem_that_names_it_and_writes_nothing(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| {
        Arc::new(crate::support::evaluator::NoEvaluation)
    })
    .await;
    let ok = json!({"name": "x", "target": {"service": "checkout"}, "type": "pod-kill"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        serde_json::to_vec(&b).expect("json")
    };
    let huge = serde_json::to_vec(&json!({
        "name": "x".repeat(2 * 1024 * 1024),
        "target": {"service": "checkout"}, "type": "pod-kill"
    }))
    .expect("json");
    // (what, content type, body, status, problem type, detail contains)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, &'a str, String);
    let cases: Vec<Case> = vec![
        ("malformed JSON", "application/json", b"{\"name\": \"x\",".to_vec(), 400,
         "malformed-json", "the request body is not valid JSON: EOF while parsing a value at line 1 column 13".into()),
        ("unknown field", "application/json", with("colour", json!("red")), 422,
         "invalid-body", "unknown field `colour`".into()),
        ("unknown type", "application/json", with("type", json!("pod_kill")), 422,
         "invalid-body", "unknown variant `pod_kill`, expected one of `pod-kill`, `network-delay`, `cpu-stress`, `memory-stress`, `custom`".into()),
        ("missing target", "application/json", br#"{"name":"x","type":"custom"}"#.to_vec(), 422,
         "invalid-body", "missing field `target`".into()),
        ("end before start", "application/json",
         serde_json::to_vec(&json!({"name": "x", "target": {"service": "checkout"}, "type": "pod-kill",
            "fault_start": rfc3339(FE), "fault_end": rfc3339(FS)})).expect("json"), 422,
         "invalid-window", "the fault ends (2026-01-01T01:00:00+00:00) before it starts (2026-01-01T01:10:00+00:00)".into()),
        ("end without start", "application/json", with("fault_end", json!(rfc3339(FE))), 422,
         "invalid-window", "fault_end is given without fault_start".into()),
        ("unknown SLO labels", "application/json",
         with("slos", json!({"service": "checkout", "labels": {"tier": "3"}})), 422,
         "unknown-slo-selector",
         "no loaded SLO matches service \"checkout\" and labels {tier=\"3\"}; services with SLOs: checkout, payments".into()),
        ("unknown service", "application/json",
         serde_json::to_vec(&json!({"name": "x", "target": {"service": "cart"}, "type": "pod-kill"})).expect("json"), 422,
         "unknown-slo-selector", "no loaded SLO matches service \"cart\"".into()),
        ("bad duration", "application/json", with("observe_recovery", json!("5 minutes")), 422,
         "invalid-field", "invalid observe_recovery: invalid duration \"5 minutes\"".into()),
        ("bad webhook", "application/json", with("abort_webhook", json!("ftp://127.0.0.1/x")), 422,
         "invalid-field", "invalid abort_webhook: must be an http or https URL with a host".into()),
        ("empty name", "application/json", with("name", json!("  ")), 422,
         "invalid-field", "invalid name: must not be empty".into()),
        ("oversized body", "application/json", huge, 413,
         "payload-too-large", "the request body is larger than the limit of 1048576 bytes".into()),
        ("form body", "application/x-www-form-urlencoded", b"name=x".to_vec(), 415,
         "unsupported-media-type", "expected Content-Type application/json, got application/x-www-form-urlencoded".into()),
    ];
    for (what, ct, body, status, kind, detail) in cases {
        let r = app
            .call_raw(
                Method::POST,
                "/api/v1/experiments",
                Some(&app.operator),
                ct,
                body,
            )
            .await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        assert_eq!(r.content_type, "application/problem+json", "{what}");
        assert_eq!(
            r.json["type"],
            format!("/problems/{kind}"),
            "{what}: {}",
            r.text
        );
        assert_eq!(r.json["status"], status, "{what}");
        let d = r.json["detail"].as_str().unwrap_or_default();
        assert!(
            d.contains(&detail),
            "{what}: detail {d:?} does not contain {detail:?}"
        );
    }
    let none = app
        .store
        .list_experiments(&verdict::store::ListFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(
        none.is_empty(),
        "a rejected request wrote {} experiments",
        none.len()
    );

    // A bad transition leaves the row as it was.
    let exp = app.create(&ok).await;
    let id = exp["id"].as_str().expect("id");
    let r = app
        .post(&format!("/api/v1/experiments/{id}/end"), &json!({}))
        .await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (409, Some("/problems/invalid-transition"))
    );
    assert_eq!(
        r.json["detail"],
        "cannot end an experiment that is scheduled; only running experiments can be ended"
    );
    let started = app
        .post(
            &format!("/api/v1/experiments/{id}/start"),
            &json!({"at": rfc3339(FE)}),
        )
        .await;
    assert_eq!(started.status, 200);
    let r = app
        .post(
            &format!("/api/v1/experiments/{id}/end"),
            &json!({"at": rfc3339(FS)}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (422, Some("/problems/invalid-window"))
    );
    let after = app.get(&format!("/api/v1/experiments/{id}")).await.json;
    assert_eq!(after["fault_end"], Value::Null);
    assert_eq!(after["fault_start"], rfc3339(FE));
    let r = app
        .call_raw(
            Method::POST,
            &format!("/api/v1/experiments/{id}/abort"),
            Some(&app.operator),
            "application/json",
            b"{\"reason\": 5}".to_vec(),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app.get("/api/v1/experiments/not-a-uuid").await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (400, Some("/problems/invalid-parameter"))
    );
    let r = app
        .get(&format!("/api/v1/experiments/{}", uuid::Uuid::nil()))
        .await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (404, Some("/problems/not-found"))
    );
    let r = app.get("/api/v1/experiments?status=sleeping").await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (400, Some("/problems/invalid-parameter"))
    );
    let r = app.get("/api/v1/experiments?limit=0").await;
    assert_eq!(r.json["detail"], "limit must be between 1 and 500, got 0");
    let r = app.get("/api/v1/nothing-here").await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (404, Some("/problems/not-found"))
    );
    let r = app
        .call(
            Method::PUT,
            "/api/v1/experiments",
            Some(&app.operator),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (405, Some("/problems/method-not-allowed"))
    );
    app.stop().await;
}

async fn the_running_gauge_follows_the_fault_and_prometheus_errors_are_counted(backend: Backend) {
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    // Prometheus is down: every guard check fails and the experiment keeps running.
    let app = spawn_app(&db, &dead_url(), |specs, client| {
        Arc::new(RatioEvaluator::new("main", specs, client, &calls))
    })
    .await;
    let exp = app
        .create(
            &json!({"name": "burn cpu", "target": {"service": "checkout"}, "type": "cpu-stress"}),
        )
        .await;
    let id = exp["id"].as_str().expect("id").to_owned();
    let started = app
        .post(&format!("/api/v1/experiments/{id}/start"), &json!({}))
        .await;
    assert_eq!(started.json["status"], "running");
    let gauge = format!(
        "verdict_experiment_running{{experiment=\"{id}\",service=\"checkout\",type=\"cpu-stress\"}} 1"
    );
    let began = std::time::Instant::now();
    loop {
        let m = app.call(Method::GET, "/metrics", None, None).await.text;
        if m.contains("verdict_prometheus_query_errors_total{during=\"guard\"}") {
            assert!(m.contains(&gauge), "{m}");
            assert!(
                m.contains("verdict_guard_checks_total{decision=\"error\"}"),
                "{m}"
            );
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "no guard error counted: {m}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let still = app.get(&format!("/api/v1/experiments/{id}")).await.json;
    assert_eq!(
        still["status"], "running",
        "a failing guard check does not abort"
    );
    let ended = app
        .post(&format!("/api/v1/experiments/{id}/end"), &json!({}))
        .await;
    assert_eq!(ended.json["status"], "recovering", "{}", ended.text);
    let m = app.call(Method::GET, "/metrics", None, None).await.text;
    assert!(!m.contains("verdict_experiment_running{"), "{m}");
    app.stop().await;
}

async fn an_evaluation_that_keeps_failing_ends_in_error(backend: Backend) {
    let db = TestDb::create(backend).await;
    let calls = Calls::default();
    let app = crate::support::app::spawn_app_with(
        &db,
        &dead_url(),
        |specs, client| Arc::new(RatioEvaluator::new("main", specs, client, &calls)),
        |c| c.scheduler.eval_max_attempts = 2,
    )
    .await;
    let exp = app
        .create(&json!({
            "name": "after the fact", "target": {"service": "checkout"}, "type": "custom",
            "observe_recovery": "0s", "fault_start": rfc3339(FS), "fault_end": rfc3339(FE),
        }))
        .await;
    let id = exp["id"].as_str().expect("id").to_owned();
    let failed = app
        .wait_for(&id, Duration::from_secs(30), |e| e["status"] == "error")
        .await;
    let error = failed["error"].as_str().expect("an error message");
    assert!(
        error.starts_with("evaluation failed 2 times; last error: could not connect to Prometheus"),
        "{error}"
    );
    assert_eq!(calls.total(), 2);
    let v = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    assert_eq!(
        (v.status, v.json["type"].as_str()),
        (404, Some("/problems/verdict-not-ready"))
    );
    let events = app.store.list_events(id_of(&exp)).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "experiment.error");
    assert_eq!(events[0].payload.0["error"], error);
    app.stop().await;
}

async fn an_abort_call_stops_the_experiment_and_calls_its_webhook(backend: Backend) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/abort"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&hook)
        .await;
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| {
        Arc::new(crate::support::evaluator::NoEvaluation)
    })
    .await;
    let exp = app
        .create(&json!({
            "name": "memory", "target": {"service": "checkout"}, "type": "memory-stress",
            "abort_webhook": format!("{}/abort", hook.uri()),
        }))
        .await;
    let id = exp["id"].as_str().expect("id").to_owned();
    let started = app
        .post(&format!("/api/v1/experiments/{id}/start"), &json!({}))
        .await;
    assert_eq!(started.json["status"], "running");
    let aborted = app
        .post(
            &format!("/api/v1/experiments/{id}/abort"),
            &json!({"reason": "customers affected"}),
        )
        .await;
    assert_eq!(aborted.status, 200, "{}", aborted.text);
    assert_eq!(aborted.json["status"], "aborted");
    assert_eq!(aborted.json["abort_reason"], "customers affected");
    let done = app
        .wait_for(&id, Duration::from_secs(20), |e| {
            e["webhook"]["state"] == "delivered"
        })
        .await;
    assert_eq!(done["webhook"]["attempts"], 1);
    let received = hook.received_requests().await.expect("requests");
    let body: Value = serde_json::from_slice(&received[0].body).expect("json");
    assert_eq!(body["reason"], "customers affected");
    assert_eq!(body["experiment"]["id"], id.as_str());
    assert_eq!(body["experiment"]["type"], "memory-stress");
    let events = app.store.list_events(id_of(&exp)).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "experiment.aborted");
    assert_eq!(events[0].payload.0["by"], "api:test-operator");
    // A second abort is a conflict; nothing changes.
    let again = app
        .post(&format!("/api/v1/experiments/{id}/abort"), &json!({}))
        .await;
    assert_eq!(
        (again.status, again.json["type"].as_str()),
        (409, Some("/problems/invalid-transition"))
    );
    assert_eq!(
        again.json["detail"],
        "cannot abort an experiment that is aborted; it has already finished"
    );
    let m = app.call(Method::GET, "/metrics", None, None).await.text;
    assert!(
        m.contains("verdict_experiments_aborted_total{by=\"api\"} 1"),
        "{m}"
    );
    app.stop().await;
}

async fn a_slow_request_ends_with_a_timeout_problem(backend: Backend) {
    let db = TestDb::create(backend).await;
    // /readyz waits for an unreachable Prometheus (with retries) far longer than 100ms.
    let app = crate::support::app::spawn_app_with(
        &db,
        &dead_url(),
        |_, _| Arc::new(crate::support::evaluator::NoEvaluation),
        |c| c.http.request_timeout = Duration::from_millis(100),
    )
    .await;
    let began = std::time::Instant::now();
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(r.status, 503);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.json["type"], "/problems/request-timeout");
    assert_eq!(
        r.json["detail"],
        "the request did not complete within 100ms"
    );
    app.stop().await;
}

/// The real binary with default settings (in a temp dir, on a free port):
/// it creates `verdict.db`, serves, and exits 0 on SIGTERM after releasing
/// its work.
#[tokio::test]
async fn the_binary_serves_with_defaults_and_stops_cleanly_on_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("VERDICT_PROMETHEUS_URL", dead_url())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn verdict serve");
    let http = reqwest::Client::new();
    let began = std::time::Instant::now();
    loop {
        let up = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if up {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt as _;
                let _ = e.read_to_string(&mut stderr).await;
            }
            panic!("verdict serve exited with {status} before serving:\n{stderr}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(15),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.path().join("verdict.db").exists(),
        "the default SQLite file is created"
    );
    let pid = child.id().expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("exits after SIGTERM")
        .expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shutting down: finishing requests and releasing work"),
        "{stderr}"
    );
    assert!(stderr.contains("scheduler stopped"), "{stderr}");
}
