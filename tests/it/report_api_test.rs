//! The report routes and pages of the server over a real evaluation: an
//! experiment recorded after the fact over a backfilled Prometheus is
//! evaluated by the real engine, then served as HTML, Markdown, JSON and
//! JUnit, its charts as PNG and SVG, its report page and the list page
//! behind the page token cookie; a second run of the same experiment name
//! gets a trend section. Also `verdict report` against that server.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::json;
use verdict::experiment::Resolution;
use verdict::scheduler::Evaluator;
use verdict::scheduler::engine::PromEvaluator;
use verdict::store::Backend;

use crate::harness::{JAN_1_2026, PromServer, Scenario, Steps};
use crate::support::app::{TestApp, id_of, spawn_app};
use crate::support::db::TestDb;
use crate::support::on_both_backends;

const T0: i64 = JAN_1_2026;
/// Two 2-minute faults of 20% errors at 10 req/s on checkout (99.9%).
pub(crate) const FS: i64 = T0 + 3600;
pub(crate) const FE: i64 = T0 + 3720;
pub(crate) const FS2: i64 = T0 + 5400;
pub(crate) const FE2: i64 = T0 + 5520;
/// A 5-minute total outage: 100% errors burn 11.6% of the budget (> 5%).
const FS3: i64 = T0 + 6300;
const FE3: i64 = T0 + 6600;

fn rfc3339(t: i64) -> String {
    Utc.timestamp_opt(t, 0)
        .single()
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) fn scenario() -> Scenario {
    Scenario::new(T0, T0 + 2 * 3600)
        .traffic(
            "checkout",
            10.0,
            Steps::new(0.0)
                .at(FS, 0.2)
                .at(FE, 0.0)
                .at(FS2, 0.2)
                .at(FE2, 0.0)
                .at(FS3, 1.0)
                .at(FE3, 0.0),
        )
        .traffic("payments", 5.0, 0.0)
}

pub(crate) fn engine(
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

/// Records a run of "kill one <checkout> pod" after the fact and waits
/// until it is evaluated; returns its id.
pub(crate) async fn completed_run(app: &TestApp, name: &str, fs: i64, fe: i64) -> String {
    completed_run_with(app, name, fs, fe, "pass").await
}

/// [`completed_run`] expecting `verdict`.
async fn completed_run_with(app: &TestApp, name: &str, fs: i64, fe: i64, verdict: &str) -> String {
    let created = app
        .create(&json!({
            "name": name,
            "target": {"service": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
            "type": "pod-kill",
            "baseline": "10m",
            "observe_recovery": "5m",
            "fault_start": rfc3339(fs),
            "fault_end": rfc3339(fe),
            "links": [{"name": "chaos <run>", "url": "https://chaos.example/runs/1?a=1&b=2"}],
        }))
        .await;
    let id = id_of(&created).to_string();
    let done = app.wait_for_status(&id, "completed").await;
    assert_eq!(done["verdict"], verdict, "{done}");
    id
}

on_both_backends!(a_completed_experiment_serves_its_report_in_every_format_and_its_charts);

async fn a_completed_experiment_serves_its_report_in_every_format_and_its_charts(backend: Backend) {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;
    let id = completed_run(&app, "kill one <b>checkout</b> pod", FS, FE).await;

    // JSON: the stored verdict read back and written again, byte for byte.
    let stored = app.get(&format!("/api/v1/experiments/{id}/verdict")).await;
    let json_report = app
        .get(&format!("/api/v1/experiments/{id}/report?format=json"))
        .await;
    assert_eq!(json_report.status, 200, "{}", json_report.text);
    assert_eq!(json_report.content_type, "application/json");
    assert_eq!(json_report.text, stored.text);
    let report: verdict::report::Report =
        serde_json::from_str(&stored.text).expect("the stored verdict is a Report");
    assert_eq!(
        verdict::report::json::render_json(&report).expect("json"),
        stored.text
    );
    assert_eq!(json_report.json["slos"][0]["id"], "checkout-availability");

    // HTML (the default format): the verdict, the experiment, escaped.
    let html = app.get(&format!("/api/v1/experiments/{id}/report")).await;
    assert_eq!(html.status, 200, "{}", html.text);
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    assert!(
        html.text.contains(r#"<h1 id="verdict-title" data-verdict="pass"><span class="badge">PASS</span> <span>kill one &lt;b&gt;checkout&lt;&#x2F;b&gt; pod</span></h1>"#)
            || html.text.contains(r#"<h1 id="verdict-title" data-verdict="pass"><span class="badge">PASS</span> <span>kill one &lt;b&gt;checkout&lt;/b&gt; pod</span></h1>"#),
        "{}",
        &html.text[..html.text.len().min(4000)]
    );
    assert!(!html.text.contains("<b>checkout</b>"));
    assert!(
        html.text
            .contains("checkout in namespace shop (app=checkout)")
    );
    assert_eq!(html.text.matches("<article class=\"card slo").count(), 1);
    assert!(!html.text.contains("id=\"trend\""), "first run: no trend");

    // Markdown and JUnit.
    let md = app
        .get(&format!("/api/v1/experiments/{id}/report?format=markdown"))
        .await;
    assert_eq!(md.status, 200, "{}", md.text);
    assert_eq!(md.content_type, "text/markdown; charset=utf-8");
    assert!(md.text.contains("PASS"), "{}", md.text);
    assert!(md.text.contains("checkout-availability"), "{}", md.text);
    let junit = app
        .get(&format!("/api/v1/experiments/{id}/report?format=junit"))
        .await;
    assert_eq!(junit.status, 200, "{}", junit.text);
    assert_eq!(junit.content_type, "application/xml");
    assert!(junit.text.starts_with("<?xml"), "{}", junit.text);
    assert!(
        junit.text.contains("checkout-availability"),
        "{}",
        junit.text
    );
    assert!(!junit.text.contains("<failure"), "{}", junit.text);

    // An unknown format is a 400 problem.
    let bad = app
        .get(&format!("/api/v1/experiments/{id}/report?format=pdf"))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json["type"], "/problems/invalid-parameter");

    // Charts at stable URLs.
    let png = app
        .get(&format!(
            "/api/v1/experiments/{id}/charts/slo-checkout-availability.png"
        ))
        .await;
    assert_eq!(png.status, 200);
    assert_eq!(png.content_type, "image/png");
    let raw = app
        .http
        .get(format!(
            "{}/api/v1/experiments/{id}/charts/burn-rate.png",
            app.base
        ))
        .bearer_auth(&app.viewer)
        .send()
        .await
        .expect("chart")
        .bytes()
        .await
        .expect("chart bytes");
    assert_eq!(&raw[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(raw.to_vec()));
    let info = decoder.read_info().expect("a valid PNG");
    assert_eq!((info.info().width, info.info().height), (960, 360));
    let svg = app
        .get(&format!(
            "/api/v1/experiments/{id}/charts/slo-checkout-availability.svg"
        ))
        .await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.text.starts_with("<svg"), "{}", &svg.text[..100]);
    assert!(svg.text.trim_end().ends_with("</svg>"));
    assert!(svg.text.contains("checkout-availability"));

    // 404 problems: unknown chart, unknown suffix, unknown experiment.
    for path in [
        format!("/api/v1/experiments/{id}/charts/slo-nope.png"),
        format!("/api/v1/experiments/{id}/charts/slo-checkout-availability.gif"),
        "/api/v1/experiments/0190a4f0-0000-7000-8000-000000000000/report".to_owned(),
        "/api/v1/experiments/0190a4f0-0000-7000-8000-000000000000/charts/burn-rate.svg".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.content_type, "application/problem+json", "{path}");
        assert_eq!(r.json["type"], "/problems/not-found", "{path}");
    }
    let r = app
        .get(&format!("/api/v1/experiments/{id}/charts/slo-nope.png"))
        .await;
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap_or("")
            .ends_with("its charts: slo-checkout-availability, burn-rate"),
        "{}",
        r.text
    );
    // Without a token: 401.
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/experiments/{id}/report"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 401);

    // Not evaluated yet: 404 verdict-not-ready.
    let pending = app
        .create(&json!({
            "name": "later",
            "target": {"service": "checkout"},
            "type": "pod-kill",
        }))
        .await;
    let pid = id_of(&pending);
    let r = app
        .get(&format!("/api/v1/experiments/{pid}/report?format=markdown"))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json["type"], "/problems/verdict-not-ready");

    // A second run of the same experiment: the trend compares with the first.
    let second = completed_run(&app, "kill one <b>checkout</b> pod", FS2, FE2).await;
    let html2 = app
        .get(&format!("/api/v1/experiments/{second}/report"))
        .await;
    assert_eq!(html2.status, 200);
    assert!(html2.text.contains("id=\"trend\""), "second run: a trend");
    assert!(
        html2
            .text
            .contains("Compared with the previous 1 run of this experiment"),
        "{}",
        html2.text
    );
    // The first run's page still has no trend (the second is later).
    let html1 = app.get(&format!("/api/v1/experiments/{id}/report")).await;
    assert!(!html1.text.contains("id=\"trend\""));
    app.stop().await;
}

on_both_backends!(the_pages_need_a_viewer_token_once_and_then_use_a_cookie);

async fn the_pages_need_a_viewer_token_once_and_then_use_a_cookie(backend: Backend) {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;
    let id = completed_run(&app, "kill one checkout pod", FS, FE).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = format!("{}/experiments/{id}", app.base);

    // No token: a 401 page asking for one.
    let r = client.get(&page).send().await.expect("page");
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["content-type"].to_str().ok(),
        Some("text/html; charset=utf-8")
    );
    let text = r.text().await.expect("body");
    assert!(
        text.contains("<input type=\"password\" name=\"token\""),
        "{text}"
    );
    // A wrong token: 401, no cookie.
    let r = client
        .get(format!("{page}?token=vdt_nope"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    // A token in the query: a redirect without it that sets the cookie.
    let r = client
        .get(format!(
            "{}/experiments?status=completed&token={}",
            app.base, app.viewer
        ))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().ok(),
        Some("/experiments?status=completed")
    );
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert_eq!(
        cookie,
        format!(
            "verdict_token={}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict",
            app.viewer
        )
    );
    let jar = format!("verdict_token={}", app.viewer);
    // With the cookie: the report page.
    let r = client
        .get(&page)
        .header("cookie", &jar)
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    assert!(text.contains(r#"<h1 id="verdict-title" data-verdict="pass"><span class="badge">PASS</span> <span>kill one checkout pod</span></h1>"#));
    assert!(text.contains(&format!("/experiments/{id}\">permalink</a>")));
    // The list page, filtered, with the verdict badge and the escaped link.
    let r = client
        .get(format!("{}/experiments?status=completed", app.base))
        .header("cookie", &jar)
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    assert!(text.contains(&format!(
        "<td class=\"name\"><a href=\"/experiments/{id}\">kill one checkout pod</a></td>"
    )));
    assert!(text.contains("<span class=\"pill pill-pass\">PASS</span>"));
    assert!(text.contains(
        "<a href=\"https://chaos.example/runs/1?a=1&amp;b=2\" rel=\"noopener noreferrer\">chaos &lt;run&gt;</a>"
    ));
    // Pages of one: the newest, then "older »" to the next.
    let second = completed_run(&app, "second run", FS2, FE2).await;
    let r = client
        .get(format!("{}/experiments?limit=1", app.base))
        .header("cookie", &jar)
        .send()
        .await
        .expect("list");
    let text = r.text().await.expect("body");
    assert_eq!(text.matches("<tr><td class=\"name\">").count(), 1);
    assert!(text.contains(&format!("<a href=\"/experiments/{second}\">second run</a>")));
    let next = format!("/experiments?limit=1&amp;cursor={second}");
    assert!(
        text.contains(&format!("<a rel=\"next\" href=\"{next}\">older »</a>")),
        "{text}"
    );
    let r = client
        .get(format!("{}{}", app.base, next.replace("&amp;", "&")))
        .header("cookie", &jar)
        .send()
        .await
        .expect("list");
    let text = r.text().await.expect("body");
    assert_eq!(text.matches("<tr><td class=\"name\">").count(), 1);
    assert!(text.contains(&format!(
        "<a href=\"/experiments/{id}\">kill one checkout pod</a>"
    )));
    assert!(!text.contains("older »"), "the last page");
    let r = client
        .get(format!("{}/experiments?status=running", app.base))
        .header("cookie", &jar)
        .send()
        .await
        .expect("list");
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("No experiments match.")
    );
    let r = client
        .get(format!("{}/experiments?status=bogus", app.base))
        .header("cookie", &jar)
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), 400);
    // The cookie does not open the API.
    let r = client
        .get(format!("{}/api/v1/experiments/{id}/report", app.base))
        .header("cookie", &jar)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), 401);
    // A bearer header works for pages too.
    let r = client
        .get(&page)
        .bearer_auth(&app.viewer)
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    app.stop().await;
}

/// Runs `verdict report` with `args` and `VERDICT_TOKEN` set to `env_token`
/// (or unset); returns (exit code, stdout, stderr).
async fn verdict_report(args: &[&str], env_token: Option<&str>) -> (Option<i32>, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_verdict"));
    cmd.arg("report")
        .args(args)
        .env_remove("VERDICT_TOKEN")
        .env_remove("VERDICT_SERVER");
    if let Some(t) = env_token {
        cmd.env("VERDICT_TOKEN", t);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("verdict report finished within 60s")
        .expect("verdict report ran");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdict_report_fetches_a_report_and_exits_with_its_verdict() {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(Backend::Sqlite).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;
    let pass = completed_run(&app, "kill one checkout pod", FS, FE).await;
    let fail = completed_run_with(&app, "total outage", FS3, FE3, "fail").await;
    let dir = tempfile::tempdir().expect("temp dir");

    // Markdown (the default) on stdout, token from the environment: exit 0.
    let (code, out, err) = verdict_report(&[&pass, "--server", &app.base], Some(&app.viewer)).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("PASS"), "{out}");
    assert!(out.contains("checkout-availability"), "{out}");
    assert_eq!(err, "");

    // JSON to a file, token from a file: the stored verdict, byte for byte.
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{}\n", app.viewer)).expect("token file");
    let report_file = dir.path().join("report.json");
    let (code, out, err) = verdict_report(
        &[
            &pass,
            "--server",
            &format!("{}/", app.base),
            "--token-file",
            token_file.to_str().expect("utf-8 path"),
            "--format",
            "json",
            "--output",
            report_file.to_str().expect("utf-8 path"),
        ],
        None,
    )
    .await;
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");
    let stored = app
        .get(&format!("/api/v1/experiments/{pass}/verdict"))
        .await;
    assert_eq!(
        std::fs::read_to_string(&report_file).expect("report written"),
        stored.text
    );

    // A failed verdict: exit 1, JUnit with a failure.
    let (code, out, err) = verdict_report(
        &[
            &fail,
            "--server",
            &app.base,
            "--token",
            &app.viewer,
            "--format",
            "junit",
        ],
        None,
    )
    .await;
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("<failure"), "{out}");

    // HTTP errors: exit 2 with the problem's detail; the token never shown.
    let unknown = "0190a4f0-0000-7000-8000-000000000000";
    let (code, out, err) =
        verdict_report(&[unknown, "--server", &app.base], Some(&app.viewer)).await;
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert_eq!(
        err,
        format!("verdict report: the server answered 404: no experiment with id {unknown}\n")
    );
    let (code, _, err) = verdict_report(&[&pass, "--server", &app.base], Some("vdt_wrong")).await;
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "verdict report: the server answered 401: the token is unknown or revoked\n"
    );
    let (code, _, err) = verdict_report(&[&pass, "--server", &app.base], None).await;
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "verdict report: no token: pass --token, --token-file or set VERDICT_TOKEN (a viewer token)\n"
    );
    let (code, _, err) =
        verdict_report(&["checkout", "--server", &app.base], Some(&app.viewer)).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("EXPERIMENT must be an experiment id"), "{err}");
    assert!(!err.contains(&app.viewer));
    app.stop().await;
}
