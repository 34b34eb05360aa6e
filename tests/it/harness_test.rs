//! Tests of the real-Prometheus harness: the scenario's numbers come back
//! from a real Prometheus exactly, servers are isolated, and a missing
//! binary says how to install it.
//!
//! Why the expected values are exact (Prometheus 2.42, `extrapolatedRate`):
//! a range selector `[w]` evaluated at `t` takes the samples in `[t − w, t]`
//! (both ends included in 2.x). `increase` is `last − first` (plus the value
//! before each counter reset), then scaled by
//! `(sampled interval + extrapolation at both ends) / sampled interval`,
//! where each end is extrapolated by its distance to the window edge when
//! that is below 1.1 × the average sample spacing. Every query below is
//! evaluated at a sample time with a window that is a multiple of the 15s
//! scrape interval, so the first and last samples sit exactly on the window
//! edges: the extrapolation is 0 on both sides, the factor is exactly 1, and
//! `increase(x[w])` is exactly `x(t) − x(t − w)`; `rate` is that over `w`.
//! (Prometheus 3 excludes the left edge; then the factor is w / (w − 15s)
//! applied to a constant-rate window, which gives the same numbers.)

use std::time::Duration;

use crate::harness::{
    Binaries, Counter, Gauge, HarnessError, Histogram, JAN_1_2026, Labels, Observations,
    OpenMetrics, PromServer, Scenario, ScenarioError, Startup, Steps, default_search_path,
    find_binary,
};

const T0: i64 = JAN_1_2026;
const END: i64 = T0 + 2 * 3600;
/// A two-minute fault, one hour in.
const FAULT_START: i64 = T0 + 3600;
const FAULT_END: i64 = FAULT_START + 120;

const ERROR_RATIO_1M: &str =
    r#"sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))"#;

/// checkout at 10 req/s; 20% of requests fail during the fault.
fn checkout_fault() -> Scenario {
    Scenario::new(T0, END).traffic(
        "checkout",
        10.0,
        Steps::new(0.0).at(FAULT_START, 0.2).at(FAULT_END, 0.0),
    )
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: expected {expected}, got {actual}"
    );
}

#[tokio::test]
async fn error_ratio_during_a_fault_is_exactly_the_injected_ratio() -> Result<(), HarnessError> {
    let prom = PromServer::start(&checkout_fault()).await?;

    // Window [FAULT_START, FAULT_START + 60]: 5xx grow 2/s, 2xx 8/s.
    let ratio = prom.query_value(ERROR_RATIO_1M, FAULT_START + 60).await?;
    assert_close(ratio, 0.2, "error ratio in the middle of the fault");

    // Window [FAULT_START, FAULT_END] covers the whole fault: 2/s × 120s.
    let errors = r#"sum(increase(http_requests_total{code=~"5.."}[2m]))"#;
    assert_eq!(prom.query_value(errors, FAULT_END).await?, 240.0);
    let successes = r#"sum(increase(http_requests_total{code=~"2.."}[2m]))"#;
    assert_eq!(prom.query_value(successes, FAULT_END).await?, 960.0);

    // Window [FAULT_END − 30, FAULT_END + 30]: half faulty, so 1/s of 10/s.
    let ratio = prom.query_value(ERROR_RATIO_1M, FAULT_END + 30).await?;
    assert_close(ratio, 0.1, "error ratio straddling the fault end");
    Ok(())
}

#[tokio::test]
async fn error_ratio_is_zero_before_and_after_the_fault() -> Result<(), HarnessError> {
    let prom = PromServer::start(&checkout_fault()).await?;

    assert_eq!(
        prom.query_value(ERROR_RATIO_1M, FAULT_START - 600).await?,
        0.0
    );
    // The window [FAULT_START − 60, FAULT_START] ends as the fault begins.
    assert_eq!(prom.query_value(ERROR_RATIO_1M, FAULT_START).await?, 0.0);
    assert_eq!(prom.query_value(ERROR_RATIO_1M, FAULT_END + 60).await?, 0.0);
    // Both series exist all along, so the ratio is 0 rather than no data.
    let by_code = prom
        .instant_query(
            "sum by (code) (rate(http_requests_total[1m]))",
            FAULT_START - 600,
        )
        .await?;
    assert_eq!(
        by_code,
        vec![
            (labels(&[("code", "200")]), 10.0),
            (labels(&[("code", "500")]), 0.0)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn histogram_fraction_below_a_bound_is_what_the_scenario_says() -> Result<(), HarnessError> {
    let slow_from = T0 + 3600;
    let slow_to = T0 + 4200;
    let normal = Observations {
        per_second: 10.0,
        at_or_below: vec![0.5, 0.95, 0.999],
        mean: 0.12,
    };
    let slow = Observations {
        per_second: 10.0,
        at_or_below: vec![0.2, 0.6, 0.9],
        mean: 0.4,
    };
    let scenario = Scenario::new(T0, END).histogram(Histogram::new(
        "http_request_duration_seconds",
        &[("service", "checkout")],
        &[0.1, 0.3, 1.0],
        Steps::new(normal.clone())
            .at(slow_from, slow)
            .at(slow_to, normal),
    ));
    let prom = PromServer::start(&scenario).await?;

    let below = r#"sum(rate(http_request_duration_seconds_bucket{le="0.3"}[5m])) / sum(rate(http_request_duration_seconds_count[5m]))"#;
    assert_close(prom.query_value(below, slow_from).await?, 0.95, "before");
    assert_close(prom.query_value(below, slow_from + 300).await?, 0.6, "slow");
    assert_close(prom.query_value(below, slow_to + 300).await?, 0.95, "after");

    let mean = "sum(rate(http_request_duration_seconds_sum[5m])) / sum(rate(http_request_duration_seconds_count[5m]))";
    assert_close(
        prom.query_value(mean, slow_from).await?,
        0.12,
        "mean before",
    );
    assert_close(
        prom.query_value(mean, slow_from + 300).await?,
        0.4,
        "mean slow",
    );

    // Half of the requests are at or below 0.1 before the slowdown, so the
    // median is exactly the bound (the top of the first bucket).
    let median =
        "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))";
    assert_close(prom.query_value(median, slow_from).await?, 0.1, "median");
    let infinity = r#"sum(rate(http_request_duration_seconds_bucket{le="+Inf"}[5m]))"#;
    assert_close(
        prom.query_value(infinity, slow_from).await?,
        10.0,
        "+Inf bucket",
    );
    Ok(())
}

#[tokio::test]
async fn a_counter_reset_does_not_break_increase() -> Result<(), HarnessError> {
    let reset = T0 + 600;
    let scenario = Scenario::new(T0, END)
        .counter(Counter::new("jobs_processed_total", &[("queue", "emails")], 4.0).reset_at(reset));
    let prom = PromServer::start(&scenario).await?;

    // The counter really dropped: 4/s for 150s since the reset.
    assert_eq!(
        prom.query_value("jobs_processed_total", reset + 150)
            .await?,
        600.0
    );
    // Window [reset − 150, reset + 150]: last − first = 600 − 1800, plus the
    // value before the reset (4 × 585 = 2340) = 1140 = 4/s × (300s − 15s):
    // the 15s between the last sample before the crash and the crash are lost.
    let increase = "increase(jobs_processed_total[5m])";
    assert_eq!(prom.query_value(increase, reset + 150).await?, 1140.0);
    assert_eq!(
        prom.query_value("resets(jobs_processed_total[5m])", reset + 150)
            .await?,
        1.0
    );
    // A window after the reset sees the full rate again.
    assert_eq!(prom.query_value(increase, reset + 600).await?, 1200.0);
    Ok(())
}

#[tokio::test]
async fn gauges_alerts_and_gaps_appear_exactly_where_described() -> Result<(), HarnessError> {
    let firing = (FAULT_START + 60, FAULT_END + 60);
    let gap = (T0 + 600, T0 + 660);
    let scenario = Scenario::new(T0, END)
        .gauge(Gauge::new(
            "container_cpu_usage",
            &[("pod", "checkout-0")],
            Steps::new(0.3).at(FAULT_START, 0.9).at(FAULT_END, 0.3),
        ))
        .alert("HighErrorRate", &[("service", "checkout")], &[firing])
        .gap(gap.0, gap.1);
    let prom = PromServer::start(&scenario).await?;

    let cpu = "container_cpu_usage";
    assert_eq!(prom.query_value(cpu, FAULT_START - 1).await?, 0.3);
    assert_eq!(prom.query_value(cpu, FAULT_START).await?, 0.9);
    assert_eq!(prom.query_value(cpu, FAULT_END).await?, 0.3);

    let alerts = r#"ALERTS{alertname="HighErrorRate"}"#;
    assert_eq!(prom.instant_query(alerts, firing.0 - 1).await?, vec![]);
    let expected = labels(&[
        ("__name__", "ALERTS"),
        ("alertname", "HighErrorRate"),
        ("alertstate", "firing"),
        ("service", "checkout"),
    ]);
    assert_eq!(
        prom.instant_query(alerts, firing.0).await?,
        vec![(expected, 1.0)]
    );
    // No staleness markers in backfilled data: the last sample (15s before
    // the interval's end) is seen for the 5m lookback delta, then nothing.
    let last = firing.1 - 15;
    assert_eq!(prom.query_value(alerts, last + 300).await?, 1.0);
    assert_eq!(prom.instant_query(alerts, last + 301).await?, vec![]);

    // [gap.0 − 300, gap.0] has 21 samples; the 4 at 600, 615, 630, 645 s of
    // the gap are missing from [gap.0, gap.0 + 300].
    let count = "count_over_time(container_cpu_usage[5m])";
    assert_eq!(prom.query_value(count, gap.0 - 15).await?, 21.0);
    assert_eq!(prom.query_value(count, gap.0 + 300).await?, 17.0);
    Ok(())
}

#[tokio::test]
async fn parallel_servers_each_see_only_their_own_scenario() -> Result<(), HarnessError> {
    let alpha = Scenario::new(T0, END).traffic("alpha", 10.0, 0.0);
    let beta = Scenario::new(T0 + 86_400, END + 86_400).traffic("beta", 3.0, 0.5);
    let (a, b) = tokio::join!(PromServer::start(&alpha), PromServer::start(&beta));
    let (a, b) = (a?, b?);
    assert_ne!(a.base_url(), b.base_url());

    let by_service = "sum by (service) (rate(http_requests_total[1m]))";
    assert_eq!(
        a.instant_query(by_service, T0 + 600).await?,
        vec![(labels(&[("service", "alpha")]), 10.0)]
    );
    assert_eq!(
        b.instant_query(by_service, T0 + 86_400 + 600).await?,
        vec![(labels(&[("service", "beta")]), 3.0)]
    );
    // Neither sees the other's time range or series.
    assert_eq!(
        a.instant_query(by_service, T0 + 86_400 + 600).await?,
        vec![]
    );
    assert_eq!(b.instant_query(by_service, T0 + 600).await?, vec![]);
    Ok(())
}

#[tokio::test]
async fn dropping_a_server_stops_it_and_removes_its_dir() -> Result<(), HarnessError> {
    let prom = PromServer::start(&checkout_fault()).await?;
    let (url, dir) = (prom.base_url().to_owned(), prom.dir().to_owned());
    assert!(dir.join("data").is_dir());
    drop(prom);

    assert!(!dir.exists(), "{} should be removed", dir.display());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let after = reqwest::Client::new()
        .get(format!("{url}/-/ready"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(after.is_err(), "{url} still answers after drop: {after:?}");
    Ok(())
}

#[tokio::test]
async fn a_two_hour_scenario_is_ready_in_a_few_seconds() -> Result<(), HarnessError> {
    let fault = Steps::new(0.0).at(FAULT_START, 0.2).at(FAULT_END, 0.0);
    let latency = Observations {
        per_second: 10.0,
        at_or_below: vec![0.05, 0.5, 0.9, 0.99, 1.0],
        mean: 0.2,
    };
    let scenario = Scenario::new(T0, END)
        .traffic("checkout", 10.0, fault.clone())
        .traffic("payments", 5.0, fault)
        .traffic("search", 50.0, 0.001)
        .histogram(Histogram::new(
            "http_request_duration_seconds",
            &[("service", "checkout")],
            &[0.05, 0.1, 0.3, 1.0, 5.0],
            latency,
        ))
        .gauge(Gauge::new(
            "kube_pod_container_status_restarts_total",
            &[("pod", "checkout-0")],
            0.0,
        ))
        .alert(
            "HighErrorRate",
            &[("service", "checkout")],
            &[(FAULT_START + 60, FAULT_END)],
        );
    let prom = PromServer::start(&scenario).await?;
    let startup: &Startup = prom.startup();
    eprintln!(
        "two-hour scenario startup: {startup:?}, total {:?}",
        startup.total()
    );

    // 3 × 2 traffic series, 5 + 1 buckets + count + sum, 1 gauge, 1 alert.
    assert_eq!(startup.series, 6 + 8 + 1 + 1);
    // 481 samples per full series (both ends included); the alert fires 60s = 4 samples.
    assert_eq!(startup.samples, 15 * 481 + 4);
    // Generous for a loaded 2-core machine; typically well under a second.
    assert!(startup.total() < Duration::from_secs(20), "{startup:?}");
    Ok(())
}

#[test]
fn the_scenario_renders_as_exact_openmetrics() -> Result<(), ScenarioError> {
    let scenario = Scenario::new(T0, T0 + 30)
        .counter(Counter::new(
            "jobs_total",
            &[("queue", "a\"b")],
            Steps::new(2.0).at(T0 + 15, 4.0),
        ))
        .gauge(Gauge::new("up", &[], 1.0).gap(T0 + 15, T0 + 30))
        .histogram(Histogram::new(
            "latency_seconds",
            &[],
            &[0.5],
            Observations {
                per_second: 2.0,
                at_or_below: vec![0.25],
                mean: 0.5,
            },
        ));
    let rendered: OpenMetrics = scenario.to_openmetrics()?;
    let expected = "\
# TYPE jobs counter
jobs_total{queue=\"a\\\"b\"} 0 1767225600
jobs_total{queue=\"a\\\"b\"} 30 1767225615
jobs_total{queue=\"a\\\"b\"} 90 1767225630
# TYPE latency_seconds histogram
latency_seconds_bucket{le=\"0.5\"} 0 1767225600
latency_seconds_bucket{le=\"0.5\"} 7.5 1767225615
latency_seconds_bucket{le=\"0.5\"} 15 1767225630
latency_seconds_bucket{le=\"+Inf\"} 0 1767225600
latency_seconds_bucket{le=\"+Inf\"} 30 1767225615
latency_seconds_bucket{le=\"+Inf\"} 60 1767225630
latency_seconds_count 0 1767225600
latency_seconds_count 30 1767225615
latency_seconds_count 60 1767225630
latency_seconds_sum 0 1767225600
latency_seconds_sum 15 1767225615
latency_seconds_sum 30 1767225630
# TYPE up gauge
up 1 1767225600
up 1 1767225630
# EOF
";
    assert_eq!(rendered.text, expected);
    assert_eq!((rendered.series, rendered.samples), (6, 17));
    Ok(())
}

#[test]
fn malformed_scenarios_are_rejected_with_the_series_named() {
    let no_total = Scenario::new(T0, END).counter(Counter::new("requests", &[], 1.0));
    assert_eq!(
        no_total.to_openmetrics(),
        Err(ScenarioError::InvalidSeries {
            series: "requests".to_owned(),
            reason: "a counter's name must end in _total (OpenMetrics)".to_owned(),
        })
    );

    let twice = Scenario::new(T0, END)
        .traffic("checkout", 1.0, 0.0)
        .traffic("checkout", 2.0, 0.0);
    assert_eq!(
        twice.to_openmetrics(),
        Err(ScenarioError::DuplicateSeries(
            r#"http_requests_total{code="200",service="checkout"}"#.to_owned()
        ))
    );

    let unordered = Scenario::new(T0, END).gauge(Gauge::new(
        "g",
        &[],
        Steps::new(1.0).at(T0 + 60, 2.0).at(T0 + 30, 3.0),
    ));
    assert!(matches!(
        unordered.to_openmetrics(),
        Err(ScenarioError::InvalidSeries { series, reason })
            if series == "g" && reason.contains("strictly increasing")
    ));

    let reversed = Scenario::new(END, T0);
    assert_eq!(
        reversed.to_openmetrics(),
        Err(ScenarioError::TimeRange {
            start: END,
            end: T0,
            interval: 15
        })
    );
}

#[test]
fn a_missing_binary_says_how_to_install_it() {
    let empty = tempfile::tempdir().expect("temp dir");
    let search_path = vec![empty.path().to_owned()];

    let error = find_binary("prometheus", &search_path).expect_err("nothing to find");
    assert_eq!(
        error.to_string(),
        format!(
            "prometheus not found: run `make test`, which installs it, or `apt-get install prometheus` (searched {})",
            empty.path().display()
        )
    );
}

#[test]
fn only_executable_files_on_the_search_path_count() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prometheus");
    std::fs::write(&path, "#!/bin/sh\n").expect("write");
    let search_path = vec![dir.path().to_owned()];

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(find_binary("prometheus", &search_path).is_err());

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(find_binary("prometheus", &search_path).ok(), Some(path));
    // promtool is still missing, and the error names it.
    let error = Binaries::locate(&search_path).expect_err("no promtool");
    assert!(
        error
            .to_string()
            .starts_with("promtool not found: run `make test`"),
        "{error}"
    );
}

#[test]
fn the_default_search_path_ends_with_usr_bin() {
    let dirs = default_search_path();
    assert!(
        dirs.contains(&std::path::PathBuf::from("/usr/bin")),
        "{dirs:?}"
    );
    // The real lookup the harness uses finds both binaries on this machine.
    let found = Binaries::locate(&dirs).expect("prometheus installed");
    assert!(found.prometheus.ends_with("prometheus") && found.promtool.ends_with("promtool"));
}

/// Real promtool, and a shell script in place of prometheus.
fn with_fake_prometheus(dir: &std::path::Path, script: &str) -> Binaries {
    use std::os::unix::fs::PermissionsExt as _;

    let fake = dir.join("prometheus");
    std::fs::write(&fake, script).expect("write the fake prometheus");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let real = Binaries::locate(&default_search_path()).expect("promtool installed");
    Binaries {
        prometheus: fake,
        promtool: real.promtool,
    }
}

#[tokio::test]
async fn a_prometheus_that_fails_to_start_reports_the_tail_of_its_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = with_fake_prometheus(
        dir.path(),
        "#!/bin/sh\necho 'level=info msg=starting' >&2\necho 'level=error msg=\"opening storage failed\"' >&2\nexit 3\n",
    );

    let error = PromServer::start_with(&checkout_fault(), &bin)
        .await
        .err()
        .expect("the fake exits at once");
    let message = error.to_string();
    assert!(
        message.contains("did not start: it exited with exit status: 3 (attempt 1 of 5)"),
        "{message}"
    );
    assert!(
        message.ends_with("--- last lines of its stderr ---\nlevel=info msg=starting\nlevel=error msg=\"opening storage failed\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_taken_port_is_retried_a_bounded_number_of_times() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = dir.path().join("calls");
    let bin = with_fake_prometheus(
        dir.path(),
        &format!(
            "#!/bin/sh\necho call >> '{}'\necho 'err=\"listen tcp 127.0.0.1:1: bind: address already in use\"' >&2\nexit 1\n",
            calls.display()
        ),
    );

    let error = PromServer::start_with(&checkout_fault(), &bin)
        .await
        .err()
        .expect("every attempt fails to bind");
    assert!(error.to_string().contains("(attempt 5 of 5)"), "{error}");
    let attempts = std::fs::read_to_string(&calls).expect("the fake ran");
    assert_eq!(attempts.lines().count(), 5);
}
