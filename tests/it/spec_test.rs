//! `verdict check` and spec loading, end to end through the binary.
//!
//! Broken specs assert the exact `file:line:col: path: message` lines and
//! exit code 2; the conformance fixtures of Sloth must load unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

use verdict::spec::{self, Sli};

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `verdict check` in `dir` with relative paths, so messages are stable.
fn check_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run verdict");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write spec");
    }
    dir
}

/// Asserts that checking `name` fails with exactly these error lines.
fn assert_errors(name: &str, text: &str, expected: &[&str]) {
    let dir = write_files(&[(name, text)]);
    let run = check_in(dir.path(), &[name]);
    assert_eq!(run.code, 2, "exit code; stderr:\n{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let (errors, summary) = lines.split_at(lines.len() - 1);
    assert_eq!(errors, expected, "stderr:\n{}", run.stderr);
    let n = expected.len();
    assert_eq!(
        summary,
        [format!(
            "{n} error{} in 1 file",
            if n == 1 { "" } else { "s" }
        )]
    );
    assert!(
        run.stdout.is_empty(),
        "nothing printed on stdout when invalid"
    );
}

const VALID_EVENTS: &str = r#"version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
"#;

#[test]
fn a_typo_in_a_field_name_is_reported_with_a_suggestion() {
    let text = VALID_EVENTS.replace("    objective: 99.9", "    objectve: 99.9");
    assert_errors(
        "typo.yaml",
        &text,
        &[
            "typo.yaml:4:5: slos[0]: missing required field `objective`",
            "typo.yaml:5:5: slos[0].objectve: unknown field `objectve`, did you mean `objective`?",
        ],
    );
}

#[test]
fn invalid_promql_names_the_field_and_points_at_the_character() {
    let text = VALID_EVENTS.replace(
        r#"sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))"#,
        r#"sum(rate(http_requests_total{code=~"5.."}[{{.window}}])"#,
    );
    assert_errors(
        "promql.yaml",
        &text,
        &[
            "promql.yaml:8:25: slos[0].sli.events.error_query: invalid PromQL at position 4: unclosed left parenthesis (near `(rate(http_requests_tota`) (with {{.window}} rendered as 5m)",
        ],
    );
}

#[test]
fn invalid_promql_in_a_block_scalar_points_at_the_line_inside_it() {
    let text = r#"version: prometheus/v1
service: checkout
slos:
  - name: ratio
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          sum(rate(errors_total[{{.window}}]))
          / /
          sum(rate(requests_total[{{.window}}]))
"#;
    assert_errors(
        "block.yaml",
        text,
        &[
            "block.yaml:10:13: slos[0].sli.raw.error_ratio_query: invalid PromQL at position 31: syntax error near `/` (with {{.window}} rendered as 5m)",
        ],
    );
}

#[test]
fn a_query_without_the_window_placeholder_is_rejected() {
    let text = VALID_EVENTS.replace(r#"{code=~"5.."}[{{.window}}]"#, r#"{code=~"5.."}[5m]"#);
    assert_errors(
        "nowindow.yaml",
        &text,
        &[
            "nowindow.yaml:8:22: slos[0].sli.events.error_query: query has no `{{.window}}` placeholder; verdict needs it to evaluate the query over different windows, e.g. rate(x[{{.window}}])",
        ],
    );
}

#[test]
fn objectives_of_100_and_0_are_rejected() {
    let text = r#"version: prometheus/v1
service: checkout
slos:
  - name: perfect
    objective: 100
    sli:
      raw:
        error_ratio_query: rate(x[{{.window}}])
  - name: nothing
    objective: 0
    sli:
      raw:
        error_ratio_query: rate(x[{{.window}}])
"#;
    assert_errors(
        "objective.yaml",
        text,
        &[
            "objective.yaml:5:16: slos[0].objective: objective must be between 0 and 100 (exclusive), got 100",
            "objective.yaml:10:16: slos[1].objective: objective must be between 0 and 100 (exclusive), got 0",
        ],
    );
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let dir = write_files(&[("a.yaml", VALID_EVENTS), ("b.yaml", VALID_EVENTS)]);
    let run = check_in(dir.path(), &["."]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "./b.yaml:4:11: slos[0].name: duplicate SLO id `checkout-availability` (service `checkout`, SLO `availability`): already defined at ./a.yaml:4:11\n1 error in 1 file\n"
    );
}

#[test]
fn bad_durations_are_rejected_with_the_reason() {
    let text = r#"version: verdict/v1
service: checkout
slos:
  - name: a
    objective: 99
    period: 30 days
    sli:
      raw:
        error_ratio_query: rate(x[{{.window}}])
    verdict:
      max_time_to_recover: 1.5m
      stable_for: 90
"#;
    assert_errors(
        "duration.yaml",
        text,
        &[
            "duration.yaml:6:13: slos[0].period: invalid duration \"30 days\": spaces are not allowed (expected e.g. 30s, 5m, 1h30m, 28d)",
            "duration.yaml:11:28: slos[0].verdict.max_time_to_recover: invalid duration \"1.5m\": fractions are not allowed; use a smaller unit, e.g. 90m (expected e.g. 30s, 5m, 1h30m, 28d)",
            "duration.yaml:12:19: slos[0].verdict.stable_for: a duration needs a unit, e.g. 30s, 5m, 1h (a bare number is ambiguous)",
        ],
    );
}

#[test]
fn wrong_types_are_reported_for_every_field_at_once() {
    let text = r#"version: verdict/v1
service: checkout
slos:
  - name: a
    objective: "high"
    labels: [a, b]
    sli:
      raw:
        error_ratio_query: rate(x[{{.window}}])
    verdict:
      min_events: many
      expect_alerts: CheckoutDown
      max_budget_consumed: 5
"#;
    assert_errors(
        "types.yaml",
        text,
        &[
            "types.yaml:5:16: slos[0].objective: expected a number, found a string",
            "types.yaml:6:13: slos[0].labels: expected a mapping of names to strings, found a list",
            "types.yaml:11:19: slos[0].verdict.min_events: expected an integer, found a string",
            "types.yaml:12:22: slos[0].verdict.expect_alerts: expected a list, found a string",
            "types.yaml:13:28: slos[0].verdict.max_budget_consumed: 5 is more than the whole budget; write a percentage like 5% or a fraction like 0.05",
        ],
    );
}

#[test]
fn sloth_plugins_are_reported_as_unsupported() {
    let text = r#"version: prometheus/v1
service: checkout
slos:
  - name: a
    objective: 99
    sli:
      plugin:
        id: sloth-common/kubernetes/apiserver/availability
"#;
    assert_errors(
        "plugin.yaml",
        text,
        &[
            "plugin.yaml:8:9: slos[0].sli.plugin: SLI plugins are not supported by verdict: write the SLI as `events` or `raw` queries (plugins run Go code inside Sloth)",
        ],
    );
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    assert_errors(
        "broken.yaml",
        "version: prometheus/v1\nservice: [checkout\n",
        &["broken.yaml:2:10: invalid YAML: unclosed bracket '['"],
    );
}

#[test]
fn native_extras_are_validated() {
    let text = r#"version: verdict/v1
service: shop
slos:
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds_bucket
        selector: 'service="shop"'
        threshold: 0
    verdict:
      on_no_data: ignore
      max_time_to_detect: 5m
indicators:
  - name: p99
    query: histogram_quantile(0.99, rate(x_bucket[5m]))
    pass:
      - ["<=20%", "<0.5"]
"#;
    assert_errors(
        "native.yaml",
        text,
        &[
            "native.yaml:8:20: slos[0].sli.latency.histogram: give the histogram's base name without the suffix, e.g. `http_request_duration_seconds`",
            "native.yaml:9:19: slos[0].sli.latency.selector: selector must be label matchers in braces, e.g. {service=\"order\"}",
            "native.yaml:10:20: slos[0].sli.latency.threshold: threshold must be greater than zero (seconds, or a duration like 300ms)",
            "native.yaml:12:19: slos[0].verdict.on_no_data: unknown value \"ignore\", expected one of: inconclusive, fail, pass",
            "native.yaml:13:27: slos[0].verdict.max_time_to_detect: max_time_to_detect needs `expect_alerts`: name the alerts whose firing counts as detection",
            "native.yaml:18:10: indicators[0].pass[0][0]: invalid criterion \"<=20%\" at column 3: a percentage is relative to the baseline and needs a sign, e.g. <=+10% or >=-5%",
        ],
    );
}

#[test]
fn the_example_slos_of_the_repository_pass_check() {
    let run = check_in(Path::new(env!("CARGO_MANIFEST_DIR")), &[]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert!(
        run.stdout.ends_with("OK: 3 services, 6 SLOs in 3 files\n"),
        "{}",
        run.stdout
    );
    let set = spec::load_paths(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("slos")]).unwrap();
    let ids: Vec<&str> = set.slos().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "inventory-availability",
            "inventory-latency",
            "notification-availability",
            "notification-latency",
            "order-availability",
            "order-latency"
        ]
    );
    let order = set.services.iter().find(|s| s.name == "order").unwrap();
    assert_eq!(order.indicators.len(), 2);
    let latency = &order.slos[1];
    assert_eq!(
        latency.sli,
        Sli::Latency {
            histogram: "http_request_duration_seconds".into(),
            selector: r#"{service="order"}"#.into(),
            threshold: 0.3
        }
    );
    assert_eq!(
        latency.sli.latency_queries().unwrap(),
        (
            r#"sum(rate(http_request_duration_seconds_bucket{service="order",le="0.3"}[{{.window}}]))"#.to_string(),
            r#"sum(rate(http_request_duration_seconds_count{service="order"}[{{.window}}]))"#.to_string()
        )
    );
    assert_eq!(order.slos[0].verdict.max_budget_consumed, 0.02);
    assert_eq!(
        order.slos[0]
            .verdict
            .max_time_to_recover
            .map(|d| d.as_millis()),
        Some(30_000)
    );
}

#[test]
fn every_sloth_conformance_input_loads() {
    // (fixture, expected SLO ids)
    let cases: &[(&str, &[&str])] = &[
        ("01-base-30d", &["svc01-slo1", "svc01-slo02"]),
        ("02-base-28d", &["svc01-slo1", "svc01-slo02"]),
        ("03-base-custom-windows-7d", &["svc01-slo1", "svc01-slo02"]),
        ("04-base-k8s-crd", &["svc01-slo1", "svc01-slo02"]),
        ("05-openslo-v1alpha", &["svc01-slo1-0"]),
        ("06-base-extra-labels", &["svc01-slo1", "svc01-slo02"]),
        ("07-base-no-alerts", &["svc01-slo1", "svc01-slo02"]),
        (
            "08-multifile",
            &["svc01-slo1", "svc01-slo02", "svc02-slo1", "svc02-slo02"],
        ),
        (
            "09-example-getting-started",
            &["myservice-requests-availability"],
        ),
    ];
    for (dir, ids) in cases {
        let path = conformance().join("sloth").join(dir).join("in.yaml");
        let set = spec::load_paths(&[path]).unwrap_or_else(|e| panic!("{dir}: {e}"));
        let got: Vec<&str> = set.slos().map(|s| s.id.as_str()).collect();
        assert_eq!(&got, ids, "{dir}");
    }
    // The CRD keeps its Kubernetes metadata and camelCase queries.
    let crd = spec::load_paths(&[conformance().join("sloth/04-base-k8s-crd/in.yaml")]).unwrap();
    let svc = &crd.services[0];
    let meta = svc.k8s.as_ref().unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.namespace.as_deref()),
        ("svc", Some("test-ns"))
    );
    assert_eq!(svc.slos[0].objective, 99.9);
    assert_eq!(svc.slos[1].sli.kind(), "raw");
    assert_eq!(svc.slos[0].alerting.name.as_deref(), Some("myServiceAlert"));
    assert!(svc.slos[1].alerting.page.disable && svc.slos[1].alerting.ticket.disable);
}

/// Loads a conformance path and returns the error lines with the
/// conformance prefix removed, so the expectations stay readable.
fn conformance_errors(rel: &str) -> Vec<String> {
    let root = conformance();
    let err = spec::load_paths(&[root.join(rel)]).expect_err("should fail");
    let prefix = format!("{}/", root.display());
    err.0
        .iter()
        .map(|e| e.to_string().replace(&prefix, ""))
        .collect()
}

#[test]
fn pyrra_ratio_and_latency_objectives_load() {
    let root = conformance().join("pyrra");
    let set = spec::load_paths(&[
        root.join("prometheus-http.yaml"),
        root.join("caddy-response-latency.yaml"),
        root.join("slo-apiserver-read-response-errors.yaml"),
    ])
    .unwrap();
    let ids: Vec<&str> = set.slos().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "prometheus-api-query-prometheus-api-query",
            "caddy-response-latency-caddy-response-latency",
            "apiserver-read-response-errors-apiserver-read-response-errors"
        ]
    );
    let http = set.slos().next().unwrap();
    assert_eq!(http.objective, 99.0);
    assert_eq!(http.period.map(|p| p.to_string()).as_deref(), Some("1w"));
    assert_eq!(
        http.sli,
        Sli::Events {
            error_query: r#"sum by (handler) (rate(prometheus_http_requests_total{code=~"5..",handler=~"/api.*"}[{{.window}}]))"#.into(),
            total_query: r#"sum by (handler) (rate(prometheus_http_requests_total{handler=~"/api.*"}[{{.window}}]))"#.into(),
        }
    );
    let caddy = set.slos().nth(1).unwrap();
    assert_eq!((caddy.objective, caddy.sli.kind()), (90.0, "good/total"));
    assert_eq!(caddy.period.map(|p| p.to_string()).as_deref(), Some("4w"));
}

#[test]
fn pyrra_indicators_verdict_cannot_honour_are_refused_by_name() {
    assert_eq!(
        conformance_errors("pyrra/pyrra-connect-latency.yaml"),
        [
            "pyrra/pyrra-connect-latency.yaml:15:7: spec.indicator.latencyNative: latencyNative is not supported: it reads native histograms, and verdict's latency SLIs read classic histogram buckets; use `latency` with a `_bucket{le=\"...\"}` success metric"
        ]
    );
    assert_eq!(
        conformance_errors("pyrra/prometheus-probe-success.yaml"),
        [
            "pyrra/prometheus-probe-success.yaml:13:7: spec.indicator.bool_gauge: bool_gauge is not supported: a boolean gauge counts good samples (time), and verdict computes error ratios from request counters; use `ratio` with counters"
        ]
    );
}

#[test]
fn openslo_v1_examples_load_across_files_except_documented_unsupported_features() {
    assert_eq!(
        conformance_errors("openslo/go-sdk-v1"),
        [
            "openslo/go-sdk-v1/slos.yaml:35:11: [0].spec.timeWindow[0].calendar: calendar-aligned time windows are not supported: verdict's SLO period is a rolling window; use `isRolling: true` without `calendar`",
            "openslo/go-sdk-v1/slos.yaml:37:22: [0].spec.budgetingMethod: budgetingMethod Timeslices is not supported: verdict computes occurrence-based error ratios",
        ]
    );
}

#[test]
fn openslo_spec_repo_placeholders_are_not_promql() {
    let errors = conformance_errors("openslo/spec-repo/budgeting-method__ratio-timeslices.yaml");
    let f = "openslo/spec-repo/budgeting-method__ratio-timeslices.yaml";
    assert_eq!(
        errors,
        [
            format!(
                "{f}:18:19: spec.indicator.spec.ratioMetric.good.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)"
            ),
            format!(
                "{f}:20:22: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: placeholder query `Any` is not PromQL"
            ),
            format!(
                "{f}:23:19: spec.indicator.spec.ratioMetric.total.metricSource.type: metric source type `Any` is not supported: verdict reads Prometheus queries only (type: Prometheus)"
            ),
            format!(
                "{f}:25:22: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: placeholder query `Any` is not PromQL"
            ),
            format!(
                "{f}:29:20: spec.budgetingMethod: budgetingMethod RatioTimeslices is not supported: verdict computes occurrence-based error ratios"
            ),
        ]
    );
    // Every spec-repo example fails, each for a stated reason; none loads silently.
    let all = conformance_errors("openslo/spec-repo");
    assert_eq!(all.len(), 18);
    assert!(
        all.iter()
            .any(|e| e.contains("thresholdMetric is not supported"))
    );
}
