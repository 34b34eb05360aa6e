//! The server with the real evaluation engine: an experiment recorded after
//! the fact gets exactly the verdict `verdict evaluate` computes for the
//! same window, and a real guardrail breach aborts a running experiment.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use verdict::experiment::Resolution;
use verdict::scheduler::Evaluator;
use verdict::scheduler::engine::PromEvaluator;

use crate::harness::{JAN_1_2026, PromServer, Scenario, Steps};
use crate::support::app::{CHECKOUT_SLOS, id_of, spawn_app};
use crate::support::db::TestDb;
use crate::support::on_both_backends;
use verdict::store::Backend;

const T0: i64 = JAN_1_2026;
/// A 2-minute fault of 20% errors at 10 req/s on checkout (99.9%).
const FS: i64 = T0 + 3600;
const FE: i64 = T0 + 3720;

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn scenario() -> Scenario {
    Scenario::new(T0, T0 + 2 * 3600)
        .traffic("checkout", 10.0, Steps::new(0.0).at(FS, 0.2).at(FE, 0.0))
        .traffic("payments", 5.0, 0.0)
}

fn engine(
    specs: &Arc<verdict::spec::SpecSet>,
    prom: &verdict::prom::PromClient,
) -> Arc<dyn Evaluator> {
    Arc::new(PromEvaluator::new(
        specs.clone(),
        prom.clone(),
        Resolution::new(15.0, 60.0).expect("resolution"),
        4,
    ))
}

/// Removes what differs between two runs of the same evaluation: the
/// clock reading and the wall time of each query.
fn stable(mut report: Value) -> Value {
    report["evaluated_at"] = Value::Null;
    if let Some(checks) = report["checks"].as_array_mut() {
        for c in checks.iter_mut().filter(|c| c["name"] == "window_complete") {
            c["measured"] = Value::Null; // the evaluation time
        }
    }
    if let Some(queries) = report["queries"].as_array_mut() {
        for q in queries {
            q["duration_seconds"] = Value::Null;
        }
    }
    report
}

on_both_backends!(an_after_the_fact_experiment_gets_the_same_verdict_as_verdict_evaluate);

async fn an_after_the_fact_experiment_gets_the_same_verdict_as_verdict_evaluate(backend: Backend) {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;

    let created = app
        .create(&json!({
            "name": "kill one checkout pod",
            "target": {"service": "checkout", "namespace": "shop"},
            "type": "pod-kill",
            "baseline": "10m",
            "observe_recovery": "5m",
            "fault_start": rfc3339(FS),
            "fault_end": rfc3339(FE),
        }))
        .await;
    let id = id_of(&created).to_string();
    let done = app.wait_for_status(&id, "completed").await;
    // 0.2 / 0.001 = burn 200 for 2 minutes: 200 × 120 / 2_592_000 = 0.93% of
    // the period's budget — under the default 5% maximum, so a pass.
    assert_eq!(done["verdict"], "pass", "{done}");
    let served = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    assert_eq!(served.status, 200, "{}", served.text);
    let slo = &served.json["slos"][0];
    assert_eq!(slo["id"], "checkout-availability");
    assert_eq!(slo["windows"]["fault"]["error_ratio"].as_f64(), Some(0.2));
    let consumed = slo["budget_consumed"]["fault"].as_f64().expect("budget");
    assert!(
        (consumed - 200.0 * 120.0 / 2_592_000.0).abs() < 1e-12,
        "{consumed}"
    );

    // The CLI over the same window and specs says the same, number for number.
    let slos = tempfile::tempdir().expect("temp dir");
    std::fs::write(slos.path().join("checkout.yaml"), CHECKOUT_SLOS).expect("write spec");
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args([
            "evaluate",
            "--format",
            "json",
            "--slo",
            "checkout-availability",
        ])
        .arg("--slos")
        .arg(slos.path())
        .args(["--prometheus", prom.base_url()])
        .args(["--from", &FS.to_string(), "--to", &(FE + 300).to_string()])
        .args([
            "--fault-start",
            &FS.to_string(),
            "--fault-end",
            &FE.to_string(),
        ])
        .args(["--baseline", "10m"])
        .output()
        .expect("run verdict evaluate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).expect("JSON from the CLI");
    assert_eq!(stable(served.json.clone()), stable(cli));
    app.stop().await;
}

on_both_backends!(a_real_guardrail_breach_aborts_the_running_experiment);

async fn a_real_guardrail_breach_aborts_the_running_experiment(backend: Backend) {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;
    let created = app
        .create(&json!({
            "name": "kill one checkout pod",
            "target": {"service": "checkout"},
            "type": "pod-kill",
            "observe_recovery": "5m",
        }))
        .await;
    let id = id_of(&created).to_string();
    // Started at the scenario's fault: the guard asks Prometheus for the
    // error ratio since then. The 240 failed requests of the fault against
    // the scenario's traffic since the fault (burn ≈ 6.7) over the months
    // since that start far exceed the default 5% of the period's budget.
    let started = app
        .post(
            &format!("/api/v1/experiments/{id}/start"),
            &json!({"at": rfc3339(FS)}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let aborted = app
        .wait_for(&id, Duration::from_secs(20), |e| e["status"] != "running")
        .await;
    assert_eq!(aborted["status"], "aborted", "{aborted}");
    let reason = aborted["abort_reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("checkout-availability: budget consumed ")
            && reason.ends_with("% > max 5.0%"),
        "{reason}"
    );
    app.stop().await;

    // The guardrail function, asked at a time inside the fault, sees the 5m
    // burn: 20% errors over the last 90s of a 300s window = 0.2 × 90 / 300
    // = 0.06 → burn 60 > 14.4, while the budget since the fault start is
    // 200 × 90 / 2_592_000 = 0.69% < 5%.
    let set = verdict::spec::load_sources(&[("c.yaml".into(), CHECKOUT_SLOS.to_string())]).unwrap();
    let slos: Vec<_> = set.slos().cloned().collect();
    let outcome = verdict::experiment::guard::check_guardrails(
        &prom.client(),
        &slos,
        FS as f64,
        (FS + 90) as f64,
    )
    .await
    .expect("prometheus answers");
    assert_eq!(
        outcome,
        verdict::experiment::guard::GuardOutcome::Abort {
            reasons: vec!["checkout-availability: 5m burn rate 60.0 above 14.4".into()]
        }
    );
}

/// Records the scenario's fault after the fact and waits until the server
/// has evaluated it; returns the experiment id.
async fn complete_after_the_fact(app: &crate::support::app::TestApp) -> String {
    let created = app
        .create(&json!({
            "name": "kill one checkout pod",
            "target": {"service": "checkout"},
            "type": "pod-kill",
            "baseline": "10m",
            "observe_recovery": "5m",
            "fault_start": rfc3339(FS),
            "fault_end": rfc3339(FE),
        }))
        .await;
    let id = id_of(&created).to_string();
    app.wait_for_status(&id, "completed").await;
    id
}

/// A completed experiment of the real engine reaches Slack as the report
/// template's Block Kit message (verdict, key numbers), not a bare title.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_experiment_posts_the_rendered_report_to_slack() {
    use crate::notify_outbox_test::{Script, notify_config};
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(Backend::Sqlite).await;
    let mock = wiremock::MockServer::start().await;
    let chat = Script::new(vec![wiremock::ResponseTemplate::new(200).set_body_json(
        json!({
            "ok": true, "channel": "C0SHOP", "ts": "1767225600.000100",
            "message": {"text": "x", "ts": "1767225600.000100"}
        }),
    )]);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/api/chat.postMessage"))
        .respond_with(chat.clone())
        .mount(&mock)
        .await;
    let receivers = std::collections::BTreeMap::from([(
        "chat".to_owned(),
        verdict::notify::outbox::Receiver::Slack(verdict::notify::slack::SlackReceiver {
            name: "chat".into(),
            api_url: format!("{}/api", mock.uri()),
            token: verdict::notify::delivery::Secret::new("xoxb-engine-test"),
            channel: "C0SHOP".into(),
            timeout: Duration::from_secs(5),
        }),
    )]);
    let app = crate::support::app::spawn_app_with(&db, prom.base_url(), engine, |c| {
        notify_config(c, receivers, "receiver = \"chat\"\n")
    })
    .await;
    let id = complete_after_the_fact(&app).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while chat.bodies().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no Slack message");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = chat.bodies().remove(0);
    // Exactly what the report template renders for the stored verdict.
    let stored = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    let report: verdict::report::Report = serde_json::from_value(stored.json).expect("a report");
    let extras = verdict::report::ReportExtras {
        experiment: Some(verdict::report::ExperimentInfo {
            id: Some(id.clone()),
            name: "kill one checkout pod".into(),
            kind: None,
            target: Some("checkout".into()),
            description: None,
            links: vec![],
        }),
        ..Default::default()
    };
    let expected = verdict::report::slack::render_slack(
        &report,
        &extras,
        verdict::report::templates::Templates::embedded().expect("templates"),
    )
    .expect("rendered");
    assert_eq!(sent["channel"], "C0SHOP");
    assert_eq!(sent["blocks"], expected["blocks"], "{sent}");
    let text = sent.to_string();
    assert!(text.contains("PASS") || text.contains("pass"), "{text}");
    assert!(text.contains("checkout-availability"), "{text}");
    app.stop().await;
}

/// The same experiment by email: the report template's subject with the
/// verdict, a text and an HTML part, and the charts inline by Content-ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_experiment_emails_the_report_with_its_charts_inline() {
    use crate::email_test::{SmtpServer, part_by_type};
    use crate::notify_outbox_test::notify_config;
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(Backend::Sqlite).await;
    let smtp = SmtpServer::start();
    let receivers = std::collections::BTreeMap::from([(
        "mail".to_owned(),
        verdict::notify::outbox::Receiver::Email(verdict::notify::email::EmailReceiver {
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
    let app = crate::support::app::spawn_app_with(&db, prom.base_url(), engine, |c| {
        notify_config(c, receivers, "receiver = \"mail\"\n")
    })
    .await;
    complete_after_the_fact(&app).await;
    let received = smtp.wait_for(1);
    assert_eq!(received.len(), 1, "one email");
    let mail = mailparse::parse_mail(&received[0]).expect("MIME");
    let subject = mail
        .headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case("Subject"))
        .map(|h| h.get_value())
        .unwrap_or_default();
    assert!(
        subject.to_lowercase().contains("pass"),
        "verdict in the subject: {subject}"
    );
    let text = part_by_type(&mail, "text/plain")
        .expect("text part")
        .get_body()
        .unwrap();
    assert!(text.contains("checkout-availability"), "{text}");
    let html = part_by_type(&mail, "text/html")
        .expect("html part")
        .get_body()
        .unwrap();
    let image = part_by_type(&mail, "image/png").expect("an inline chart");
    let cid = image
        .headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case("Content-ID"))
        .map(|h| h.get_value())
        .unwrap_or_default();
    let cid = cid.trim_matches(|c| c == '<' || c == '>');
    assert!(
        html.contains(&format!("cid:{cid}")),
        "the HTML shows the chart {cid}"
    );
    let png = image.get_body_raw().unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    app.stop().await;
}
