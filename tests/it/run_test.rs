//! `verdict run` in real time: a live target scraped every second by a real
//! Prometheus, and chaos commands that change its error ratio.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::live::LiveTarget;

/// A 99% SLO on the live target, judged on its peak burn rate (a 2-second
/// fault cannot move a 30-day budget).
const SPEC: &str = r#"version: verdict/v1
service: checkout
slos:
  - name: availability
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    verdict:
      min_events: 50
      max_peak_burn_rate: 10
"#;

struct Setup {
    target: LiveTarget,
    prom: crate::harness::PromServer,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let target = LiveTarget::start(100.0).await;
    let prom = target.prometheus().await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("checkout.yaml"), SPEC).expect("spec");
    // A baseline of at least 8 seconds of scrapes.
    tokio::time::sleep(Duration::from_secs(9)).await;
    Setup { target, prom, dir }
}

/// Runs `verdict run` with short windows (1s scrapes), guardrails every
/// `guard_interval`, and `command`.
fn verdict_run(s: &Setup, guard_interval: &str, command: &[&str]) -> (Output, Duration) {
    let json = s.dir.path().join("verdict.json");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("run")
        .arg("--slos")
        .arg(s.dir.path())
        .args(["--prometheus", s.prom.base_url()])
        .args(["--baseline", "6s", "--observe", "6s", "--settle", "2s"])
        .args(["--step", "1s", "--rate-window", "3s"])
        .args(["--guard-interval", guard_interval])
        .arg("--json")
        .arg(&json)
        .arg("--")
        .args(command)
        .env("NO_COLOR", "1")
        .output()
        .expect("run verdict");
    (out, started.elapsed())
}

fn report(s: &Setup) -> serde_json::Value {
    let text = std::fs::read_to_string(s.dir.path().join("verdict.json")).expect("the JSON report");
    serde_json::from_str(&text).expect("JSON")
}

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harmless_command_passes_with_exit_code_0() {
    let s = setup().await;
    let (out, _) = verdict_run(&s, "1s", &["sleep", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = report(&s);
    assert_eq!(r["verdict"], "pass");
    assert_eq!(
        r["slos"][0]["windows"]["fault"]["error_ratio"].as_f64(),
        Some(0.0)
    );
    let chaos = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chaos_command")
        .unwrap();
    assert_eq!(chaos["outcome"], "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_induces_a_fault_fails_with_exit_code_1() {
    let s = setup().await;
    // Half the requests fail for 4 seconds: burn 0.5 / 0.01 = 50 > 10.
    let script = format!(
        "curl -fsS --max-time 5 '{}' >/dev/null && sleep 4 && curl -fsS --max-time 5 '{}' >/dev/null",
        s.target.fault_url(0.5),
        s.target.fault_url(0.0)
    );
    // Guardrails every 30s: none is checked during the 4s fault, which is
    // judged by the verdict alone.
    let (out, _) = verdict_run(&s, "30s", &["sh", "-c", &script]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = report(&s);
    assert_eq!(r["verdict"], "fail");
    let slo = &r["slos"][0];
    assert_eq!(slo["verdict"], "fail");
    let peak = slo["burn_rate"]["peak"].as_f64().expect("peak burn");
    // The 3s window fully inside the fault sees 50% errors: burn 50 (±
    // scrape jitter of a live target).
    assert!((40.0..=55.0).contains(&peak), "peak burn {peak}");
    assert!(
        slo["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("peak burn rate")),
        "{slo}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guardrail_breach_kills_the_command() {
    let s = setup().await;
    // Every request fails and the command would run for a minute; the 5m
    // burn (≥ 1/3 of the ~10s of data in error → burn ≥ 33) crosses 14.4
    // within a few guard checks, and the whole process group is killed.
    let marker = s.dir.path().join("survived");
    let script = format!(
        "curl -fsS --max-time 5 '{}' >/dev/null; sleep 60; touch {}",
        s.target.fault_url(1.0),
        marker.display()
    );
    let (out, elapsed) = verdict_run(&s, "1s", &["sh", "-c", &script]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        elapsed < Duration::from_secs(40),
        "the command was stopped early: {elapsed:?}"
    );
    assert!(!marker.exists(), "the command did not run to its end");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "verdict run: aborted by the guardrails: checkout-availability: 5m burn rate"
        ),
        "{}",
        text(&out)
    );
    let r = report(&s);
    let chaos = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chaos_command")
        .unwrap();
    assert_eq!(chaos["outcome"], "fail");
    assert!(
        chaos["reason"]
            .as_str()
            .unwrap()
            .starts_with("aborted by the guardrails")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_baseline_data_means_the_command_is_not_run() {
    let target = LiveTarget::start(100.0).await;
    let prom = target.prometheus().await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("checkout.yaml"),
        SPEC.replace("service=\"checkout\"", "service=\"nothing\""),
    )
    .expect("spec");
    let marker = dir.path().join("ran");
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("run")
        .arg("--slos")
        .arg(dir.path())
        .args([
            "--prometheus",
            prom.base_url(),
            "--baseline",
            "5s",
            "--step",
            "1s",
            "--rate-window",
            "3s",
        ])
        .arg("--")
        .args(["touch", marker.to_str().unwrap()])
        .output()
        .expect("run verdict");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        !marker.exists(),
        "the chaos command must not run without a baseline"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("checkout-availability: no data in the baseline window"),
        "{}",
        text(&out)
    );
}

/// A verdict server with the real engine at the live target's resolution.
async fn live_server(
    prom: &crate::harness::PromServer,
    db: &crate::support::db::TestDb,
) -> crate::support::app::TestApp {
    crate::support::app::spawn_app_with(
        db,
        prom.base_url(),
        |specs, client| {
            std::sync::Arc::new(verdict::scheduler::engine::PromEvaluator::new(
                specs.clone(),
                client.clone(),
                verdict::experiment::Resolution::new(1.0, 3.0).expect("resolution"),
                4,
            )) as std::sync::Arc<dyn verdict::scheduler::Evaluator>
        },
        |config| {
            config.scheduler.guard_interval = Duration::from_secs(1);
        },
    )
    .await
}

fn run_on_server(
    s: &Setup,
    app: &crate::support::app::TestApp,
    command: &[&str],
) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("run")
        .args(["--prometheus", s.prom.base_url()])
        .args(["--server", &app.base, "--token", &app.operator])
        .args(["--service", "checkout", "--name", "live fault"])
        .args([
            "--baseline",
            "6s",
            "--observe",
            "4s",
            "--guard-interval",
            "1s",
        ])
        .arg("--json")
        .arg(s.dir.path().join("verdict.json"))
        .arg("--")
        .args(command)
        .env("NO_COLOR", "1")
        .output()
        .expect("run verdict");
    (out, started.elapsed())
}

crate::support::on_both_backends!(
    with_a_server_a_harmless_command_passes_and_the_verdict_is_stored
);

async fn with_a_server_a_harmless_command_passes_and_the_verdict_is_stored(
    backend: verdict::store::Backend,
) {
    let s = setup().await;
    let db = crate::support::db::TestDb::create(backend).await;
    let app = live_server(&s.prom, &db).await;
    let (out, _) = tokio::task::block_in_place(|| run_on_server(&s, &app, &["sleep", "2"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "verdict: pass\n");
    let r = report(&s);
    assert_eq!(r["schema"], "verdict.evaluate/v1");
    assert_eq!(r["slos"][0]["id"], "checkout-availability");
    let list = app.get("/api/v1/experiments").await;
    assert_eq!(list.json["items"][0]["name"], "live fault", "{}", list.text);
    assert_eq!(list.json["items"][0]["status"], "completed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_server_its_guardrail_abort_kills_the_command() {
    let s = setup().await;
    let db = crate::support::db::TestDb::create(verdict::store::Backend::Sqlite).await;
    let app = live_server(&s.prom, &db).await;
    let marker = s.dir.path().join("survived");
    let script = format!(
        "curl -fsS --max-time 5 '{}' >/dev/null; sleep 60; touch {}",
        s.target.fault_url(1.0),
        marker.display()
    );
    let (out, elapsed) =
        tokio::task::block_in_place(|| run_on_server(&s, &app, &["sh", "-c", &script]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        elapsed < Duration::from_secs(40),
        "stopped early: {elapsed:?}"
    );
    assert!(!marker.exists());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("verdict: fail (experiment ")
            && stdout.contains("aborted: checkout-availability: 5m burn rate"),
        "{}",
        text(&out)
    );
    app.stop().await;
}

/// Starts `verdict serve` (the real binary) on `port` over `db_url`.
fn serve_binary(config: &std::path::Path, db_url: &str, port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(["serve", "--config"])
        .arg(config)
        .args([
            "--database-url",
            db_url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start verdict serve")
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "verdict serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_sigkill_while_recovering_completes_exactly_once_after_restart() {
    let s = setup().await;
    let db_path = s.dir.path().join("verdict.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let config = s.dir.path().join("verdict.toml");
    std::fs::write(
        &config,
        format!(
            "slos = [{:?}]\n[prometheus]\nurl = {:?}\nstep = \"1s\"\nrate_window = \"3s\"\n[scheduler]\npoll_interval = \"200ms\"\nlease = \"2s\"\nguard_interval = \"1s\"\n",
            s.dir.path().join("checkout.yaml").display().to_string(),
            s.prom.base_url()
        ),
    )
    .expect("config");
    let token_out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args([
            "token",
            "create",
            "--role",
            "operator",
            "--database-url",
            &db_url,
        ])
        .output()
        .expect("token create");
    let token = String::from_utf8_lossy(&token_out.stdout).trim().to_owned();
    assert!(token.starts_with("vdt_"), "{}", text(&token_out));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut first = serve_binary(&config, &db_url, port);
    wait_ready(&http, &base).await;
    let call = |method: reqwest::Method, path: String, body: serde_json::Value| {
        let req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await.expect("request");
            let status = r.status().as_u16();
            let json: serde_json::Value = r.json().await.expect("json");
            assert!(status < 300, "{status}: {json}");
            json
        }
    };
    let created = call(
        reqwest::Method::POST,
        "/api/v1/experiments".into(),
        serde_json::json!({"name": "crash", "target": {"service": "checkout"}, "type": "pod-kill", "baseline": "6s", "observe_recovery": "4s"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    call(
        reqwest::Method::POST,
        format!("/api/v1/experiments/{id}/start"),
        serde_json::json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ended = call(
        reqwest::Method::POST,
        format!("/api/v1/experiments/{id}/end"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(ended["status"], "recovering");
    // SIGKILL in the middle of the recovery observation.
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");

    let mut second = serve_binary(&config, &db_url, port);
    wait_ready(&http, &base).await;
    let deadline = Instant::now() + Duration::from_secs(40);
    let done = loop {
        let e = call(
            reqwest::Method::GET,
            format!("/api/v1/experiments/{id}"),
            serde_json::json!(null),
        )
        .await;
        if e["status"] == "completed" {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "not completed after the restart: {e}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(done["verdict"], "pass", "{done}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    second.kill().expect("SIGKILL");
    second.wait().expect("reaped");

    // Exactly one verdict and one completion event in the database.
    let store = verdict::store::Store::connect(&db_url)
        .await
        .expect("open the database");
    let verdict::store::Store::Sqlite(pool) = &store else {
        panic!("sqlite")
    };
    let verdicts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM verdicts")
        .fetch_one(pool)
        .await
        .unwrap();
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind = 'experiment.completed'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((verdicts, events), (1, 1));
}
