//! `verdict evaluate` end to end: the binary against a real Prometheus over
//! backfilled scenarios whose answers are known exactly.
//!
//! Common timeline (Unix seconds, all on the 15s scrape grid):
//! history from `T0`; baseline `[FS − 5m, FS]` (the default: the fault is
//! shorter than 5m); fault `[FS, FE]` with `FE = FS + 2m`; recovery observed
//! until `TO = FE + 10m`. So the experiment window `[FS, TO]` is 720s.
//!
//! Why the numbers are exact (see harness_test.rs): every instant query is
//! evaluated at a sample time with a window that is a multiple of 15s, so
//! `rate(x[w])` is exactly `(x(t) − x(t − w)) / w`, and the range queries
//! start at `FS − 5m`, on the grid, so every `E_r(t)` sample is exact too.
//!
//! The tolerance on times: `E_r(t)` is the error ratio over `[t − r, t]`
//! (r = 1m) sampled every s = 15s, so a time read from it lags the truth by
//! up to `r` and is quantised to `s`: verdict reports `± (s + r)` = 75s. The
//! scenario's errors stop exactly at `FE` (true TTR 0); the last window that
//! still holds fault errors ends at `FE + 45s`, the first clean one at
//! `FE + 60s`, stable for the required 1m from there: measured TTR = 60s,
//! within the stated ± 75s of the truth. Ratios, events and budgets carry
//! no such lag (they are exact window queries): asserted to 1e-9 relative.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{
    Counter, Gauge, Histogram, JAN_1_2026, Observations, PromServer, Scenario, Steps,
};

const T0: i64 = JAN_1_2026;
const FS: i64 = T0 + 1800;
const FE: i64 = FS + 120;
const TO: i64 = FE + 600;
const FROM: i64 = FS - 300;
/// The budget of a 99.9% SLO and its 30d period.
const B: f64 = 0.001;
const PERIOD: f64 = 30.0 * 86_400.0;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    dir: tempfile::TempDir,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Runs `verdict evaluate` with `spec` as the only SLO file, the common
/// window unless `args` overrides it, JSON on stdout unless `args` says
/// otherwise, and no colour.
async fn evaluate(url: &str, spec: &str, args: &[&str], envs: &[(&str, &Path)]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("slos.yaml"), spec).expect("write spec");
    let (from, to, fs, fe) = (
        FROM.to_string(),
        TO.to_string(),
        FS.to_string(),
        FE.to_string(),
    );
    let mut all: Vec<&str> = vec!["evaluate", "--slos", "slos.yaml", "--prometheus", url];
    let has = |flag: &str| args.contains(&flag);
    for (flag, value) in [
        ("--from", from.as_str()),
        ("--to", to.as_str()),
        ("--fault-start", fs.as_str()),
        ("--fault-end", fe.as_str()),
        ("--format", "json"),
    ] {
        if !has(flag) {
            all.extend([flag, value]);
        }
    }
    all.extend(args);
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_verdict"));
    command
        .args(&all)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("VERDICT_PROMETHEUS_URL");
    for (k, v) in envs {
        command.env(k, v);
    }
    let out = command.output().await.expect("run verdict");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

#[track_caller]
fn assert_close(v: &Value, expected: f64) {
    let actual = num(v);
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1e-9),
        "expected {expected}, got {actual}"
    );
}

fn slo<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["slos"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("no SLO {id} in {json}"))
}

fn check<'a>(slo: &'a Value, name: &str) -> &'a Value {
    slo["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {}", slo["checks"]))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An events SLO on `service` at 99.9% with the given `verdict:` lines.
fn events_spec(service: &str, verdict: &str) -> String {
    format!(
        r#"version: verdict/v1
service: {service}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))
    verdict:
{verdict}
"#
    )
}

/// checkout at 10 req/s, 20% errors during `[FS, FE)`, then `after`.
fn fault_scenario(after: f64) -> Scenario {
    Scenario::new(T0, TO).traffic("checkout", 10.0, Steps::new(0.0).at(FS, 0.2).at(FE, after))
}

#[tokio::test]
async fn a_clean_run_passes_with_exit_code_0_and_exact_numbers() {
    let prom = PromServer::start(&Scenario::new(T0, TO).traffic("checkout", 10.0, 0.0005))
        .await
        .expect("prometheus");
    let run = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 30s"),
        &[],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["reasons"], Value::Array(vec![]));
    let s = slo(&json, "checkout-availability");
    // 0.05% errors at 10 req/s: E = 0.0005 in every window; events = 10/s × length.
    for (window, seconds) in [
        ("baseline", 300.0),
        ("fault", 120.0),
        ("recovery", 600.0),
        ("experiment", 720.0),
    ] {
        let w = &s["windows"][window];
        assert_close(&w["error_ratio"], 0.0005);
        assert_close(&w["sli"], 0.9995);
        assert_close(&w["total_events"], 10.0 * seconds);
        assert_close(&w["bad_events"], 0.005 * seconds);
    }
    // C = (E / B) × (w / P) = 0.5 × 720 / 2592000.
    assert_close(&s["budget_consumed"]["experiment"], 0.5 * 720.0 / PERIOD);
    assert_close(&s["burn_rate"]["average"], 0.5);
    assert_eq!(s["recovery"]["impact"], "none");
    assert_eq!(s["recovery"]["time_to_recover_seconds"], 0.0);
    assert_eq!(s["recovery"]["recovered"], true);
    assert!(
        s["checks"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["outcome"] == "pass")),
        "{}",
        s["checks"]
    );
    // 4 window ratios + 4 event counts + E_r; every one answered.
    assert_eq!(json["queries"].as_array().map(Vec::len), Some(9));
    assert!(
        json["queries"]
            .as_array()
            .is_some_and(|q| q.iter().all(|q| q["status"] == "ok"))
    );
}

/// The fault of the issue: 20% errors for 2 minutes at 10 req/s, 99.9% SLO.
#[tokio::test]
async fn a_two_minute_twenty_percent_fault_is_measured_exactly_and_ttr_decides_both_ways() {
    let prom = PromServer::start(&fault_scenario(0.0))
        .await
        .expect("prometheus");

    let lenient = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 1m"),
        &[],
        &[],
    )
    .await;
    assert_eq!(lenient.code, 0, "stderr: {}", lenient.stderr);
    let json = lenient.json();
    assert_eq!(json["verdict"], "pass");
    let s = slo(&json, "checkout-availability");
    let fault = &s["windows"]["fault"];
    // 2 errors/s of 10/s over [FS, FE]: E = 0.2, 1200 events, 240 bad.
    assert_close(&fault["error_ratio"], 0.2);
    assert_close(&fault["total_events"], 1200.0);
    assert_close(&fault["bad_events"], 240.0);
    assert_close(&s["burn_rate"]["average"], 200.0);
    // Budget: 200 × 120s / 30d for the fault; the experiment [FS, TO] holds
    // the same 240 bad events of 7200: (240/7200)/0.001 × 720/2592000.
    assert_close(&s["budget_consumed"]["fault"], 200.0 * 120.0 / PERIOD);
    assert_close(&s["windows"]["experiment"]["error_ratio"], 240.0 / 7200.0);
    assert_close(&s["windows"]["experiment"]["bad_events"], 240.0);
    assert_close(
        &s["budget_consumed"]["experiment"],
        240.0 / (B * 10.0 * PERIOD),
    );
    assert_close(&s["windows"]["baseline"]["error_ratio"], 0.0);
    assert_close(&s["windows"]["recovery"]["total_events"], 6000.0);
    // Peak: E_r = 0.2 once [t − 1m, t] lies inside the fault, first at FS + 60.
    assert_close(&s["burn_rate"]["peak"], 200.0);
    assert_eq!(num(&s["burn_rate"]["peak_at"]), (FS + 60) as f64);
    // First unhealthy sample FS + 15 (E_r = 0.05); last FE + 45; healthy
    // from FE + 60 for 1m: TTR 60s, 180s from the fault start, ± 75s.
    let r = &s["recovery"];
    assert_eq!(r["impact"], "impacted");
    assert_eq!(num(&r["time_to_impact_seconds"]), 15.0);
    assert_eq!(num(&r["time_to_recover_seconds"]), 60.0);
    assert_eq!(num(&r["time_to_recover_from_fault_start_seconds"]), 180.0);
    assert_eq!(num(&r["recovered_at"]), (FE + 60) as f64);
    assert_eq!(r["recovered"], true);
    assert_eq!(num(&r["uncertainty_seconds"]), 75.0);
    // The truth (errors stop at FE: TTR 0) lies within the stated uncertainty.
    assert!((num(&r["time_to_recover_seconds"]) - 0.0).abs() <= num(&r["uncertainty_seconds"]));
    assert_eq!(check(s, "max_time_to_recover")["outcome"], "pass");
    assert_eq!(check(s, "min_events")["outcome"], "pass");
    assert_eq!(check(s, "max_budget_consumed")["outcome"], "pass");

    // The same fault against 59s: fail, exit 1, the reason says by how much.
    let strict = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 59s"),
        &[],
        &[],
    )
    .await;
    assert_eq!(strict.code, 1, "stderr: {}", strict.stderr);
    let json = strict.json();
    assert_eq!(json["verdict"], "fail");
    let s = slo(&json, "checkout-availability");
    assert_eq!(check(s, "max_time_to_recover")["outcome"], "fail");
    assert_eq!(
        strings(&json["reasons"]),
        vec!["checkout-availability: time to recover 1m > max 59s".to_owned()]
    );
}

#[tokio::test]
async fn a_service_that_never_recovers_fails_with_recovered_false() {
    // After the fault, 1% errors until the end: ten times the budget.
    let prom = PromServer::start(&fault_scenario(0.01))
        .await
        .expect("prometheus");
    let run = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 5m"),
        &[],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let json = run.json();
    let s = slo(&json, "checkout-availability");
    assert_eq!(s["recovery"]["recovered"], false);
    assert_eq!(s["recovery"]["time_to_recover_seconds"], Value::Null);
    assert_close(&s["windows"]["recovery"]["error_ratio"], 0.01);
    let ttr = check(s, "max_time_to_recover");
    assert_eq!(ttr["outcome"], "fail");
    assert_eq!(
        ttr["reason"],
        "never recovered within the 10m observation (still unhealthy at its last sample)"
    );
    assert_eq!(json["verdict"], "fail");
}

#[tokio::test]
async fn no_series_and_no_traffic_are_inconclusive_and_name_the_query() {
    // `idle` exists but serves nothing; `ghost` has no series at all.
    let prom = PromServer::start(&Scenario::new(T0, TO).traffic("idle", 0.0, 0.0))
        .await
        .expect("prometheus");
    let spec = format!(
        "{}---\n{}",
        events_spec("idle", "      min_events: 100"),
        events_spec("ghost", "      min_events: 100")
    );
    let run = evaluate(prom.base_url(), &spec, &[], &[]).await;
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["verdict"], "inconclusive");

    let idle = slo(&json, "idle-availability");
    assert_eq!(idle["verdict"], "inconclusive");
    assert_eq!(
        check(idle, "min_events")["reason"],
        "only 0 events in the fault window < min_events 100"
    );
    let unavailable = idle["unavailable"].to_string();
    assert!(
        unavailable.contains(&format!(
            "value is NaN (0/0: no events in the window?) from `(sum(rate(http_requests_total{{service=\\\"idle\\\",code=~\\\"5..\\\"}}[120s]))) / (sum(rate(http_requests_total{{service=\\\"idle\\\"}}[120s])))` at {}",
            verdict::experiment::format_time(FE as f64)
        )),
        "{unavailable}"
    );

    let ghost = slo(&json, "ghost-availability");
    assert_eq!(ghost["verdict"], "inconclusive");
    let reason = check(ghost, "min_events")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        reason,
        format!(
            "events in the fault window unknown: no series returned by `sum(rate(http_requests_total{{service=\"ghost\"}}[120s]))` at {}",
            verdict::experiment::format_time(FE as f64)
        )
    );
    assert!(
        strings(&json["reasons"]).iter().any(|r| r.starts_with("ghost-availability: budget consumed unknown: no series returned by `(sum(rate(http_requests_total{service=\"ghost\",code=~\"5..\"}[720s])))")),
        "{}",
        json["reasons"]
    );
}

#[tokio::test]
async fn an_unreachable_prometheus_is_inconclusive_never_a_pass() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let url = format!("http://127.0.0.1:{port}");
    // Even on_no_data: pass cannot make a report without answers pass.
    let run = evaluate(
        &url,
        &events_spec("checkout", "      on_no_data: pass"),
        &[],
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["verdict"], "inconclusive");
    let prometheus = &json["checks"][0];
    assert_eq!(prometheus["name"], "prometheus");
    assert_eq!(prometheus["outcome"], "inconclusive");
    let reason = prometheus["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("9 of 9 queries failed; the first: could not connect to Prometheus at {url}/api/v1/query")),
        "{reason}"
    );
    assert!(reason.contains("after 4 attempts"), "{reason}");
    assert!(
        json["queries"]
            .as_array()
            .is_some_and(|q| q.iter().all(|q| q["status"] == "failed"))
    );
}

#[tokio::test]
async fn several_series_where_one_is_expected_is_inconclusive_with_the_reason() {
    let prom = PromServer::start(
        &Scenario::new(T0, TO)
            .traffic("checkout", 10.0, 0.0)
            .traffic("payments", 5.0, 0.0),
    )
    .await
    .expect("prometheus");
    // `by (service)` keeps both services apart: two series, one expected.
    let spec = r#"version: prometheus/v1
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum by (service) (rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum by (service) (rate(http_requests_total[{{.window}}]))
"#;
    let run = evaluate(prom.base_url(), spec, &[], &[]).await;
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let json = run.json();
    let s = slo(&json, "shop-availability");
    assert_eq!(s["verdict"], "inconclusive");
    assert_eq!(
        check(s, "min_events")["reason"],
        format!(
            "events in the fault window unknown: 2 series returned where 1 was expected by `sum by (service) (rate(http_requests_total[120s]))` at {}",
            verdict::experiment::format_time(FE as f64)
        )
    );
    assert!(
        s["recovery"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with(
                "error-ratio series unavailable: 2 series returned where 1 was expected by"
            )),
        "{}",
        s["recovery"]
    );
}

/// 10 req/s; 0.5% slower than 0.3s normally, 30% while slow during the fault.
fn latency_scenario() -> Scenario {
    let obs = |at_or_below_0_3: f64| Observations {
        per_second: 10.0,
        at_or_below: vec![0.5, at_or_below_0_3, 1.0],
        mean: 0.1,
    };
    Scenario::new(T0, TO).histogram(Histogram::new(
        "http_request_duration_seconds",
        &[("service", "checkout")],
        &[0.1, 0.3, 1.0],
        Steps::new(obs(0.995)).at(FS, obs(0.7)).at(FE, obs(0.995)),
    ))
}

fn latency_spec(max_peak_burn_rate: f64) -> String {
    format!(
        r#"version: verdict/v1
service: checkout
slos:
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: '{{service="checkout"}}'
        threshold: 0.3
    verdict:
      max_peak_burn_rate: {max_peak_burn_rate}
"#
    )
}

#[tokio::test]
async fn a_latency_sli_over_a_histogram_decides_both_sides_of_its_limit() {
    let prom = PromServer::start(&latency_scenario())
        .await
        .expect("prometheus");
    // Peak: E_r = 1 − 0.7 = 0.3 over a fully slow minute; B = 0.01: burn 30.
    let pass = evaluate(prom.base_url(), &latency_spec(31.0), &[], &[]).await;
    assert_eq!(pass.code, 0, "stderr: {}", pass.stderr);
    let json = pass.json();
    let s = slo(&json, "checkout-latency");
    assert_eq!(s["sli"], "latency");
    assert_close(&s["windows"]["fault"]["error_ratio"], 0.3);
    // Events are the increase of _count: 10/s × 120s; 30% of them slow.
    assert_close(&s["windows"]["fault"]["total_events"], 1200.0);
    assert_close(&s["windows"]["fault"]["bad_events"], 360.0);
    assert_close(&s["windows"]["baseline"]["error_ratio"], 0.005);
    assert_close(&s["burn_rate"]["peak"], 30.0);
    assert_eq!(check(s, "max_peak_burn_rate")["outcome"], "pass");
    // Recovery: healthy again (0.5% ≤ 1%) once the last slow request left
    // the 1m window: FE + 60.
    assert_eq!(num(&s["recovery"]["time_to_recover_seconds"]), 60.0);
    let events = &json["queries"][num(&s["queries"]["windows"]["fault"]["events"]) as usize];
    assert_eq!(
        events["promql"],
        "sum(increase(http_request_duration_seconds_count{service=\"checkout\"}[120s]))"
    );

    let fail = evaluate(prom.base_url(), &latency_spec(29.0), &[], &[]).await;
    assert_eq!(fail.code, 1, "stderr: {}", fail.stderr);
    let json = fail.json();
    let s = slo(&json, "checkout-latency");
    assert_eq!(check(s, "max_peak_burn_rate")["outcome"], "fail");
    assert_eq!(
        check(s, "max_peak_burn_rate")["reason"],
        "peak burn rate 30x > max 29x"
    );
}

#[tokio::test]
async fn an_indicator_relative_to_its_baseline_decides_both_sides_of_twenty_percent() {
    // A 5-minute fault so both windows hold 20 samples and the statistical
    // comparison runs. cpu of pod a rises 0.3 → 0.35 (+16.7%), of b 0.3 → 0.39 (+30%).
    let fe = FS + 300;
    let scenario = Scenario::new(T0, TO)
        .traffic("checkout", 10.0, 0.0)
        .gauge(Gauge::new(
            "container_cpu_usage",
            &[("pod", "a")],
            Steps::new(0.3).at(FS, 0.35).at(fe, 0.3),
        ))
        .gauge(Gauge::new(
            "container_cpu_usage",
            &[("pod", "b")],
            Steps::new(0.3).at(FS, 0.39).at(fe, 0.3),
        ));
    let prom = PromServer::start(&scenario).await.expect("prometheus");
    let spec = r#"version: verdict/v1
service: checkout
slos: []
indicators:
  - name: cpu-a
    query: sum(container_cpu_usage{pod="a"})
    pass:
      - ["<=+20%"]
  - name: cpu-b
    query: sum(container_cpu_usage{pod="b"})
    pass:
      - ["<=+20%"]
"#;
    let fe_arg = fe.to_string();
    let run = evaluate(prom.base_url(), spec, &["--fault-end", &fe_arg], &[]).await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let json = run.json();
    let ind = |name: &str| {
        json["indicators"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no indicator {name}"))
    };
    let a = ind("cpu-a");
    assert_eq!(a["verdict"], "pass");
    assert_close(&a["value"], 0.35);
    assert_close(&a["baseline"], 0.3);
    assert_close(&a["change"], 0.05 / 0.3);
    assert_eq!(a["samples"]["baseline"], 20);
    assert_eq!(a["samples"]["fault"], 20);
    assert_eq!(a["comparison"]["status"], "computed");
    assert_eq!(
        a["comparison"]["significant"], false,
        "a shift of 0.05 is within 20% of 0.3"
    );
    let b = ind("cpu-b");
    assert_eq!(b["verdict"], "fail");
    assert_close(&b["change"], 0.09 / 0.3);
    assert_eq!(b["criteria"]["decided_by"], "<=+20%");
    assert_close(&b["criteria"]["threshold"], 0.36);
    assert_eq!(b["comparison"]["significant"], true);
    assert_eq!(
        strings(&json["reasons"]),
        vec!["indicator checkout/cpu-b: cpu-b 0.39 against <=+20% (threshold 0.36): pass criterion not met".to_owned()]
    );
}

#[tokio::test]
async fn an_expected_alert_gives_the_time_to_detect_and_a_missing_one_fails() {
    let scenario = fault_scenario(0.0).alert(
        "CheckoutHighErrorRate",
        &[("severity", "page")],
        &[(FS + 60, FE + 120)],
    );
    let prom = PromServer::start(&scenario).await.expect("prometheus");
    let fired = evaluate(
        prom.base_url(),
        &events_spec(
            "checkout",
            "      expect_alerts: [CheckoutHighErrorRate]\n      max_time_to_detect: 2m",
        ),
        &[],
        &[],
    )
    .await;
    assert_eq!(fired.code, 0, "stderr: {}", fired.stderr);
    let json = fired.json();
    let s = slo(&json, "checkout-availability");
    // Firing from FS + 60: TTD 60s.
    assert_eq!(num(&s["detection"]["time_to_detect_seconds"]), 60.0);
    assert_eq!(s["detection"]["fired"][0]["name"], "CheckoutHighErrorRate");
    assert_eq!(
        num(&s["detection"]["fired"][0]["first_firing_at"]),
        (FS + 60) as f64
    );
    assert_eq!(
        check(s, "expect_alerts[CheckoutHighErrorRate]")["outcome"],
        "pass"
    );
    assert_eq!(check(s, "max_time_to_detect")["outcome"], "pass");
    let alerts = &json["queries"][num(&s["queries"]["alerts"]) as usize];
    assert_eq!(
        alerts["promql"],
        "ALERTS{alertstate=\"firing\",alertname=~\"CheckoutHighErrorRate\"}"
    );

    let absent = evaluate(
        prom.base_url(),
        &events_spec(
            "checkout",
            "      expect_alerts: [CheckoutTicket]\n      max_time_to_detect: 2m",
        ),
        &[],
        &[],
    )
    .await;
    assert_eq!(absent.code, 1, "stderr: {}", absent.stderr);
    let json = absent.json();
    assert_eq!(
        strings(&json["reasons"]),
        vec![
            "checkout-availability: expected alert CheckoutTicket did not fire".to_owned(),
            "checkout-availability: no expected alert fired (max time to detect 2m)".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_counter_reset_inside_the_fault_does_not_break_the_numbers() {
    // The process restarts at FS + 60: both counters drop to 0. The 15s
    // between the last scrape (FS + 45) and the crash are lost, as in life:
    // Prometheus sees 105s of the fault's traffic, 1050 requests, 210 errors.
    let reset = FS + 60;
    let ok = Steps::new(10.0).at(FS, 8.0).at(FE, 10.0);
    let failed = Steps::new(0.0).at(FS, 2.0).at(FE, 0.0);
    let scenario = Scenario::new(T0, TO)
        .counter(
            Counter::new(
                "http_requests_total",
                &[("service", "checkout"), ("code", "200")],
                ok,
            )
            .reset_at(reset),
        )
        .counter(
            Counter::new(
                "http_requests_total",
                &[("service", "checkout"), ("code", "500")],
                failed,
            )
            .reset_at(reset),
        );
    let prom = PromServer::start(&scenario).await.expect("prometheus");
    let run = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 1m"),
        &[],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let json = run.json();
    let s = slo(&json, "checkout-availability");
    let fault = &s["windows"]["fault"];
    assert_close(&fault["error_ratio"], 0.2);
    assert_close(&fault["total_events"], 1050.0);
    assert_close(&fault["bad_events"], 210.0);
    // Experiment: 7200 − 150 lost = 7050 requests, 210 errors.
    assert_close(&s["windows"]["experiment"]["total_events"], 7050.0);
    assert_close(&s["windows"]["experiment"]["error_ratio"], 210.0 / 7050.0);
    assert_close(
        &s["budget_consumed"]["experiment"],
        (210.0 / 7050.0) / B * 720.0 / PERIOD,
    );
    // E_r never goes negative or above 0.2 across the reset; TTR as without it.
    assert_close(&s["burn_rate"]["peak"], 200.0);
    assert_eq!(num(&s["recovery"]["time_to_recover_seconds"]), 60.0);
    assert_eq!(s["recovery"]["missing_samples"], 0);
}

#[tokio::test]
async fn a_raw_sli_has_no_event_count_and_min_events_zero_accepts_that() {
    let prom = PromServer::start(&fault_scenario(0.0))
        .await
        .expect("prometheus");
    let raw = |min_events: u64| {
        format!(
            r#"version: verdict/v1
service: checkout
slos:
  - name: raw
    objective: 99.9
    sli:
      raw:
        error_ratio_query: sum(rate(http_requests_total{{code="500"}}[{{{{.window}}}}])) / sum(rate(http_requests_total[{{{{.window}}}}]))
    verdict:
      min_events: {min_events}
"#
        )
    };
    let strict = evaluate(prom.base_url(), &raw(100), &[], &[]).await;
    assert_eq!(strict.code, 3, "stderr: {}", strict.stderr);
    let json = strict.json();
    let s = slo(&json, "checkout-raw");
    assert_eq!(
        check(s, "min_events")["reason"],
        "raw SLI has no event count; set min_events: 0 to accept"
    );
    assert_eq!(s["windows"]["fault"]["total_events"], Value::Null);
    assert_close(&s["windows"]["fault"]["error_ratio"], 0.2);

    let accepted = evaluate(prom.base_url(), &raw(0), &[], &[]).await;
    assert_eq!(accepted.code, 0, "stderr: {}", accepted.stderr);
    let json = accepted.json();
    let s = slo(&json, "checkout-raw");
    assert_eq!(check(s, "min_events")["outcome"], "pass");
    assert_close(
        &s["budget_consumed"]["experiment"],
        240.0 / (B * 10.0 * PERIOD),
    );
}

#[tokio::test]
async fn a_window_that_ends_in_the_future_is_inconclusive_and_not_queried() {
    let prom = PromServer::start(&fault_scenario(0.0))
        .await
        .expect("prometheus");
    let run = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      min_events: 0"),
        &[
            "--from",
            "now-10m",
            "--to",
            "now+10m",
            "--fault-start",
            "now-5m",
            "--fault-end",
            "now-3m",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let json = run.json();
    let complete = &json["checks"][1];
    assert_eq!(complete["name"], "window_complete");
    assert_eq!(complete["outcome"], "inconclusive");
    assert!(
        complete["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("window not complete: --to ")
                && r.contains(" is 10m after the evaluation time ")),
        "{complete}"
    );
    // Windows ending at `to` were not sent; those ending at the fault start or end were.
    let skipped = json["queries"]
        .as_array()
        .map_or(0, |q| q.iter().filter(|q| q["status"] == "skipped").count());
    assert_eq!(skipped, 5, "recovery ×2, experiment ×2 and E_r");
}

#[tokio::test]
async fn invalid_flags_and_specs_exit_2_with_the_reason() {
    let url = "http://127.0.0.1:9";
    let spec = events_spec("checkout", "      min_events: 0");
    let table: [(&[&str], &str); 5] = [
        (
            &["--from", "yesterday"],
            "verdict evaluate: --from: invalid time \"yesterday\"",
        ),
        (
            &["--step", "15s", "--rate-window", "20s"],
            "verdict evaluate: invalid resolution: --rate-window 20s must be at least twice the step 15s",
        ),
        (
            &["--fault-end", "1"],
            "verdict evaluate: invalid experiment window: --fault-end",
        ),
        (
            &["--slo", "nope"],
            "verdict evaluate: --slo nope: no such SLO id in the specs (known: checkout-availability)",
        ),
        (
            &["--service", "nope"],
            "verdict evaluate: --service nope: no such service in the specs (known: checkout)",
        ),
    ];
    for (args, expected) in table {
        let run = evaluate(url, &spec, args, &[]).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with(expected), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let broken = evaluate(
        url,
        "version: prometheus/v1\nservice: x\nslos: [{name: a}]\n",
        &[],
        &[],
    )
    .await;
    assert_eq!(broken.code, 2);
    assert!(broken.stderr.contains("slos.yaml:3:"), "{}", broken.stderr);
}

#[tokio::test]
async fn junit_output_is_xml_a_junit_consumer_reads_with_the_measured_value_criterion_and_query() {
    use quick_xml::events::Event;

    let prom = PromServer::start(&fault_scenario(0.0))
        .await
        .expect("prometheus");
    let spec = events_spec(
        "checkout",
        "      max_time_to_recover: 59s\n      expect_alerts: [Nope]",
    );
    let summary = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(summary.path(), "previous step\n").expect("write");
    let run = evaluate(
        prom.base_url(),
        &spec,
        &[
            "--format",
            "junit",
            "--json",
            "report.json",
            "--markdown",
            "summary.md",
        ],
        &[("GITHUB_STEP_SUMMARY", summary.path())],
    )
    .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);

    // Parse with a real XML reader (it checks well-formedness and end tags).
    let mut reader = quick_xml::Reader::from_str(&run.stdout);
    let mut suites = Vec::new();
    // (classname, name, (failure or error: message, text))
    type Case = (String, String, Option<(String, String)>);
    let mut cases: Vec<Case> = Vec::new();
    let mut in_failure: Option<String> = None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                text.clear();
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default()
                };
                let tag = String::from_utf8_lossy(e.name().as_ref().as_bytes()).into_owned();
                match tag.as_str() {
                    "testsuite" => suites.push((
                        attr("name"),
                        attr("tests"),
                        attr("failures"),
                        attr("errors"),
                    )),
                    "testcase" => cases.push((attr("classname"), attr("name"), None)),
                    "failure" | "error" => {
                        in_failure = Some(format!("{tag}:{}", attr("message")));
                    }
                    _ => {}
                }
            }
            // Text arrives in pieces between entity references (`&quot;`).
            Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => {
                let name = r.xml10_content();
                match quick_xml::escape::resolve_predefined_entity(&name) {
                    Some(resolved) => text.push_str(resolved),
                    None => panic!("unexpected entity &{name};"),
                }
            }
            Ok(Event::End(e)) => {
                let tag = String::from_utf8_lossy(e.name().as_ref().as_bytes()).into_owned();
                if (tag == "failure" || tag == "error")
                    && let (Some(head), Some(last)) = (in_failure.take(), cases.last_mut())
                {
                    last.2 = Some((head, std::mem::take(&mut text)));
                }
                text.clear();
            }
            Ok(_) => {}
            Err(e) => panic!(
                "invalid XML at {}: {e}\n{}",
                reader.buffer_position(),
                run.stdout
            ),
        }
    }
    assert_eq!(
        suites,
        vec![
            (
                "verdict".to_owned(),
                "2".to_owned(),
                "0".to_owned(),
                "0".to_owned()
            ),
            (
                "checkout".to_owned(),
                "4".to_owned(),
                "2".to_owned(),
                "0".to_owned()
            ),
        ]
    );
    let names: Vec<&str> = cases.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "prometheus",
            "window_complete",
            "min_events",
            "max_budget_consumed",
            "max_time_to_recover",
            "expect_alerts[Nope]"
        ]
    );
    let (classname, _, failure) = &cases[4];
    assert_eq!(classname, "checkout.checkout-availability");
    let (head, text) = failure.clone().unwrap_or_default();
    assert_eq!(head, "failure:time to recover 1m > max 59s");
    assert!(text.contains("measured: 1m (60s)\n"), "{text}");
    assert!(
        text.contains("criterion: max_time_to_recover: at most 59s\n"),
        "{text}"
    );
    assert!(
        text.contains("query: (sum(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[60s]))) / (sum(rate(http_requests_total{service=\"checkout\"}[60s]))) over "),
        "{text}"
    );

    // The other outputs of the same run.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(run.path("report.json")).expect("report.json"),
    )
    .expect("JSON");
    assert_eq!(report["verdict"], "fail");
    let markdown = std::fs::read_to_string(run.path("summary.md")).expect("summary.md");
    assert!(markdown.starts_with("## ❌ verdict: FAIL\n"), "{markdown}");
    assert!(
        markdown.contains("| `checkout-availability` | 99.9% | ❌ fail | 20% | 1200 | 240 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "- ❌ `checkout-availability` max_time_to_recover: time to recover 1m > max 59s\n"
        ),
        "{markdown}"
    );
    let step_summary = std::fs::read_to_string(summary.path()).expect("summary");
    assert_eq!(step_summary, format!("previous step\n{markdown}"));
}

#[tokio::test]
async fn the_text_table_is_plain_without_a_terminal() {
    let prom = PromServer::start(&fault_scenario(0.0))
        .await
        .expect("prometheus");
    let run = evaluate(
        prom.base_url(),
        &events_spec("checkout", "      max_time_to_recover: 59s"),
        &["--format", "text"],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour off a TTY:\n{}",
        run.stdout
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "verdict: FAIL  (1 fail, 0 inconclusive, 0 warn, 4 pass)"
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("checkout-availability"))
        .copied()
        .unwrap_or_default();
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        vec![
            "checkout-availability",
            "99.9%",
            "fail",
            "20%",
            "1200",
            "240",
            "0.93%",
            "200x",
            "1m ±1m15s",
            "-"
        ]
    );
    assert!(run.stdout.contains("  fail         checkout-availability max_time_to_recover: time to recover 1m > max 59s\n"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "quiet off a TTY: {}", run.stderr);
}

/// The JSON schema documented in docs/evaluation.md: `| path | type | … |`
/// rows of its "JSON schema" section.
fn documented_schema() -> Vec<(String, String)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/evaluation.md"))
            .expect("docs/evaluation.md");
    let section = doc
        .split("## JSON schema")
        .nth(1)
        .expect("a JSON schema section");
    section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", path, kind, _, ""] if path.starts_with('`') => Some((
                    path.trim_matches('`').to_owned(),
                    kind.trim_matches('`').to_owned(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// Every path of `value` with the JSON type found there.
fn json_paths(value: &Value, path: &str, out: &mut Vec<(String, &'static str)>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !path.is_empty() {
        out.push((path.to_owned(), kind));
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                json_paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                json_paths(v, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_json_output_matches_the_documented_schema() {
    let scenario = fault_scenario(0.0)
        .alert("CheckoutHighErrorRate", &[], &[(FS + 60, FE)])
        .gauge(Gauge::new(
            "container_cpu_usage",
            &[],
            Steps::new(0.3).at(FS, 0.33).at(FE, 0.3),
        ));
    let prom = PromServer::start(&scenario).await.expect("prometheus");
    let spec = format!(
        "{}indicators:\n  - name: cpu\n    query: sum(container_cpu_usage)\n    pass:\n      - [\"<=+20%\"]\n",
        events_spec(
            "checkout",
            "      expect_alerts: [CheckoutHighErrorRate, Missing]\n      max_time_to_detect: 5m\n      max_peak_burn_rate: 100"
        )
    );
    // Plus an SLO with a missing value, so `unavailable` has entries.
    let spec = format!("{spec}---\n{}", events_spec("ghost", "      min_events: 0"));
    let run = evaluate(prom.base_url(), &spec, &[], &[]).await;
    let json = run.json();
    let schema = documented_schema();
    assert!(
        schema.len() > 80,
        "the schema table was found: {} rows",
        schema.len()
    );
    let mut paths = Vec::new();
    json_paths(&json, "", &mut paths);
    for (path, kind) in &paths {
        let documented = schema.iter().find(|(p, _)| p == path);
        let Some((_, types)) = documented else {
            panic!("{path} ({kind}) is in the JSON but not documented in docs/evaluation.md");
        };
        let allowed: Vec<&str> = types.split(" or ").collect();
        assert!(
            allowed.contains(kind),
            "{path} is {kind}, documented as {types}"
        );
    }
    // A documented field must be present wherever its parent is an object
    // (array items exist only in non-empty arrays), unless documented as
    // `absent` in some variants.
    for (path, types) in &schema {
        let parent = match (path.rfind('.'), path.ends_with("[]")) {
            (_, true) => continue,
            (Some(i), false) => &path[..i],
            (None, false) => "",
        };
        let parent_is_object =
            parent.is_empty() || paths.iter().any(|(p, k)| p == parent && *k == "object");
        if parent_is_object && !types.split(" or ").any(|t| t == "absent") {
            assert!(
                paths.iter().any(|(p, _)| p == path),
                "{path} is documented but not in the JSON"
            );
        }
    }
}
