//! Generated Grafana dashboards, proven against a real Prometheus.
//!
//! The shop scenario below is backfilled into Prometheus; the rules
//! `verdict generate rules` makes for `slos/` are then backfilled over it
//! with `promtool tsdb create-blocks-from rules`, one dependency level per
//! pass (promtool only reads the source server, so a rule that reads another
//! rule's output needs that output loaded first), each pass against a new
//! server whose data directory holds the scenario and the blocks so far
//! ([`PromServer::start_with_extra_blocks`]). Every query of every generated
//! dashboard then runs at the end of the scenario and must return data, and
//! the SLI, budget and burn-rate panels must show what the scenario implies.
//!
//! The structural check is written against Grafana's dashboard model as
//! published in `@grafana/schema` (npm, 13.2.3,
//! `dist/types/raw/dashboard/x/types.gen.d.ts`: `Dashboard`, `Panel`,
//! `RowPanel`, `GridPos`, `VariableModel`, `AnnotationQuery`,
//! `DashboardLink`, `FieldConfigSource`, `Threshold`). That package ships
//! TypeScript types, not a JSON schema a Rust test can run, so the required
//! fields and enumerations are checked here by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use promql_parser::parser::Expr;
use promql_parser::util::{ExprVisitor, walk_expr};
use serde_json::{Value, json};
use verdict::chart::{Band, BandKind, ChartSeries, HLine, LineKind, TimeChart, YFormat};
use verdict::cli::generate::{
    DashboardsArgs, GenerateArgs, GenerateCommand, read_generated_dashboards, run_with,
};
use verdict::generate::dashboards::{
    self, Dashboard, DashboardOptions, PanelQuery, SCHEMA_VERSION, queries,
};
use verdict::generate::{FileKind, OutputOptions, RuleOptions};
use verdict::prom::QueryData;
use verdict::spec::{self, PromDuration};

use crate::harness::{
    Gauge, HarnessError, Histogram, JAN_1_2026, Labels, Observations, PromServer, Scenario,
    default_search_path, find_binary,
};

// ---------------------------------------------------------------------------
// The scenario: 26 hours of the shop, and a 20-minute chaos experiment at the end.
//
// How promtool records the rules: it evaluates a group at `t + offset`
// every 60s, where the offset (in [0, 60s)) is a hash of the group's name
// and file, like Prometheus does to spread groups. With samples every 60s
// and 0 < offset < 60s, a window `[e − w, e]` ending at `e = g + offset` holds exactly the
// samples in `(g − w, g]`, those of a left-open window at the grid point `g`
// (Prometheus 3's semantics). A `w` window therefore spans `w − 60s` of
// samples, and an error ratio is Δerrors / Δtotal over that span: both
// counters are sampled at the same times, so Prometheus's extrapolation
// scales both alike and cancels — provided neither counter starts its window
// at 0 while the other does not (then only one is clipped at its zero
// point). That is why order has a small baseline error ratio: its error
// counter is never 0 after T0.

const T0: i64 = JAN_1_2026;
/// The last grid point the rules are evaluated for (recorded at G + offset).
const G: i64 = T0 + 26 * 3600;
/// 5m error ratios recorded, for g = T0 + 60s … G (at T0 a 5m window
/// holds one sample, so no rate).
const N: f64 = 1560.0;
/// The end of the scenario, and when every query runs: after G + offset,
/// so each recorded series' latest sample is the one for G.
const Q: i64 = G + 60;
/// The experiment injects 5% errors into order for the last 20 minutes.
const FAULT: i64 = G - 1200;
/// Samples every 60s; promtool evaluates the rules every 60s too.
const STEP: i64 = 60;
/// order's error ratio before the experiment, and during it.
const P0: f64 = 0.0001;
const P1: f64 = 0.05;
/// The page alert of order-availability: the 1h window (3540s of samples)
/// exceeds 14.4 × 0.1% = 1.44% from g = FAULT + 1020 on
/// ((P0 × 2520 + P1 × 1020) / 3540 = 1.4478%; at FAULT + 960: 1.3632%), so
/// on the sample grid the alert is first seen at FAULT + 1080. The 5m window
/// has held 5% since FAULT + 4m. The slow page pair (30m/6h ×6: the 6h ratio
/// peaks at 0.288%) and both ticket pairs (2h/1d ×3: the 1d ratio is 0.079%
/// at most; 6h/3d ×1: the 3d ratio is 0.074%) stay below their thresholds.
const PAGE_FIRES: i64 = FAULT + 1080;

/// order's error ratio over a window whose samples span `span` seconds, the
/// last `fault` of them in the experiment.
fn order_ratio(span: f64, fault: f64) -> f64 {
    (P0 * (span - fault) + P1 * fault) / span
}

const BOUNDS: [f64; 6] = [0.1, 0.25, 0.3, 0.5, 1.0, 2.5];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slo_set() -> spec::SpecSet {
    spec::load_paths(&[repo().join("slos")]).unwrap()
}

/// The labels an alert of the generated rules carries: the SLO's series
/// labels and the alert's own (as `ALERTS` shows them, plus `alertstate`).
fn alert_labels(slo_id: &str, severity: &str) -> (String, Labels) {
    let set = slo_set();
    for service in &set.services {
        for slo in &service.slos {
            if slo.id != slo_id {
                continue;
            }
            let rules =
                verdict::generate::slo_rules(service, slo, &RuleOptions::default()).unwrap();
            let plan = [rules.plan.page, rules.plan.ticket]
                .into_iter()
                .flatten()
                .find(|a| a.severity.as_str() == severity)
                .unwrap();
            let mut labels: Labels = rules.plan.series_labels.clone();
            labels.extend(plan.labels.clone());
            return (plan.name, labels);
        }
    }
    panic!("no SLO {slo_id}")
}

fn observations(at_or_below: [f64; 6], mean: f64) -> Observations {
    Observations {
        per_second: 10.0,
        at_or_below: at_or_below.to_vec(),
        mean,
    }
}

/// Every service serves 10 req/s all along.
/// - order: 0.01% errors until FAULT, then 5% (the experiment); 99.5% of its
///   requests within 0.3s (latency error ratio 0.5%).
/// - inventory: 0.1% errors; 99.2% within 0.25s (0.8%).
/// - notification: 0.5% errors; 99% within 1s (1%).
fn shop_scenario() -> Scenario {
    let (alert, labels) = alert_labels("order-availability", "page");
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let histogram = |service: &str, at_or_below: [f64; 6]| {
        Histogram::new(
            "http_request_duration_seconds",
            &[("service", service)],
            &BOUNDS,
            observations(at_or_below, 0.1),
        )
    };
    Scenario::new(T0, Q)
        .scrape_interval(STEP)
        .traffic("order", 10.0, crate::harness::Steps::new(P0).at(FAULT, P1))
        .traffic("inventory", 10.0, 0.001)
        .traffic("notification", 10.0, 0.005)
        .histogram(histogram("order", [0.5, 0.9, 0.995, 0.999, 1.0, 1.0]))
        .histogram(histogram("inventory", [0.6, 0.992, 0.995, 0.999, 1.0, 1.0]))
        .histogram(histogram("notification", [0.2, 0.5, 0.6, 0.8, 0.99, 1.0]))
        .alert(&alert, &labels, &[(PAGE_FIRES, Q + STEP)])
        .gauge(
            Gauge::new(
                "verdict_experiment_running",
                &[
                    ("experiment", "order-http-errors"),
                    ("service", "order"),
                    ("type", "http-errors"),
                ],
                1.0,
            )
            .during(FAULT, Q + STEP),
        )
}

// ---------------------------------------------------------------------------
// Backfilling the generated recording rules.

/// One recording rule of the generated files.
#[derive(Clone, Debug)]
struct Recording {
    record: String,
    expr: String,
    labels: BTreeMap<String, String>,
}

fn generated_recordings() -> Vec<Recording> {
    let set = slo_set();
    let generated = verdict::generate::generate_files(
        &set,
        &[repo().join("slos")],
        &RuleOptions::default(),
        &OutputOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    for f in generated.files.iter().filter(|f| f.kind == FileKind::Rules) {
        let doc: Value = serde_saphyr::from_str(&f.contents).unwrap();
        for group in doc["groups"].as_array().unwrap() {
            for rule in group["rules"].as_array().unwrap() {
                if let Some(record) = rule["record"].as_str() {
                    let labels = rule["labels"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push(Recording {
                        record: record.to_string(),
                        expr: rule["expr"].as_str().unwrap().to_string(),
                        labels,
                    });
                }
            }
        }
    }
    out
}

struct MetricNames(BTreeSet<String>);

impl ExprVisitor for MetricNames {
    type Error = ();
    fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
        match e {
            Expr::VectorSelector(v) => self.0.extend(v.name.clone()),
            Expr::MatrixSelector(m) => self.0.extend(m.vs.name.clone()),
            _ => {}
        }
        Ok(true)
    }
}

fn metric_names(expr: &str) -> BTreeSet<String> {
    let parsed = promql_parser::parser::parse(expr).unwrap_or_else(|e| panic!("{e}: {expr}"));
    let mut names = MetricNames(BTreeSet::new());
    walk_expr(&mut names, &parsed).unwrap();
    names.0
}

/// Rules grouped by dependency level: level 0 reads only scraped series,
/// level n reads a metric recorded at level n − 1 at most.
fn dependency_levels(rules: &[Recording]) -> Vec<Vec<Recording>> {
    let recorded: BTreeSet<&str> = rules.iter().map(|r| r.record.as_str()).collect();
    let reads: Vec<BTreeSet<String>> = rules.iter().map(|r| metric_names(&r.expr)).collect();
    let mut level: BTreeMap<&str, usize> = recorded.iter().map(|r| (*r, 0)).collect();
    for _ in 0..=rules.len() {
        let mut changed = false;
        for (r, names) in rules.iter().zip(&reads) {
            let need = names
                .iter()
                .filter(|n| recorded.contains(n.as_str()))
                .map(|n| level[n.as_str()] + 1)
                .max()
                .unwrap_or(0);
            if need > level[r.record.as_str()] {
                level.insert(&r.record, need);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let depth = level.values().max().copied().unwrap_or(0);
    (0..=depth)
        .map(|l| {
            rules
                .iter()
                .filter(|r| level[r.record.as_str()] == l)
                .cloned()
                .collect()
        })
        .collect()
}

fn promtool() -> PathBuf {
    find_binary("promtool", &default_search_path()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Scenario + every generated recording rule, evaluated every 60s (see the
/// offset above) from T0 to G. The server's own temp dir holds copies of the blocks.
async fn shop_with_recorded_rules() -> Result<(PromServer, Vec<f64>), HarnessError> {
    let scenario = shop_scenario();
    let levels = dependency_levels(&generated_recordings());
    // SLI windows and constants; 30d SLI and current burn; period burn; budget remaining.
    assert_eq!(levels.len(), 4, "{levels:#?}");
    let work = tempfile::tempdir().unwrap();
    let mut blocks: Vec<PathBuf> = Vec::new();
    let mut prom = PromServer::start(&scenario).await?;
    for (i, rules) in levels.iter().enumerate() {
        // A relative path, run from the work dir: the evaluation offset is
        // a hash of the group's name and file as given, so it is the same
        // on every run (see `recording_offsets`).
        let name = format!("level-{i}.rules.json");
        let file = work.path().join(&name);
        let group = json!({"groups": [{"name": format!("level-{i}"), "rules": rules.iter().map(|r| json!({
            "record": r.record, "expr": r.expr, "labels": r.labels
        })).collect::<Vec<_>>()}]});
        std::fs::write(&file, serde_json::to_string(&group).unwrap()).unwrap();
        let out = work.path().join(format!("level-{i}"));
        let o = Command::new(promtool())
            .args(["tsdb", "create-blocks-from", "rules", "--quiet"])
            .arg(format!("--start={T0}"))
            .arg(format!("--end={Q}"))
            .arg(format!("--eval-interval={STEP}s"))
            .arg(format!("--url={}", prom.base_url()))
            .arg(format!("--output-dir={}", out.display()))
            .arg(&name)
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "promtool create-blocks-from rules (level {i}) failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        blocks.push(out);
        prom = PromServer::start_with_extra_blocks(&scenario, &blocks).await?;
    }
    let offsets = recording_offsets(&prom, &levels).await?;
    Ok((prom, offsets))
}

/// Seconds after the minute at which each level was evaluated (the
/// timestamp of its last sample minus G).
async fn recording_offsets(
    prom: &PromServer,
    levels: &[Vec<Recording>],
) -> Result<Vec<f64>, HarnessError> {
    let mut out = Vec::new();
    for rules in levels {
        let name = &rules[0].record;
        let ts = prom
            .query_value(&format!(r#"max(timestamp({{__name__="{name}"}}))"#), Q)
            .await?;
        out.push(ts - G as f64);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Dashboards and their queries.

fn repo_dashboards() -> Vec<Dashboard> {
    dashboards::generate_dashboards(&slo_set(), &DashboardOptions::default()).unwrap()
}

/// What Grafana substitutes: the dashboard's own variables (a constant's
/// value; `All` of a multi-value variable is its `allValue`, `.*`) and
/// `$__rate_interval` (4 × the 15s scrape interval Grafana assumes, here 5m).
fn substitute(expr: &str, model: &Value) -> String {
    let mut out = expr.replace("$__rate_interval", "5m");
    for v in model["templating"]["list"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let value = match v["type"].as_str().unwrap() {
            "constant" => v["query"].as_str().unwrap().to_string(),
            "query" | "custom" => v["allValue"].as_str().unwrap().to_string(),
            _ => continue,
        };
        out = out
            .replace(&format!("${{{name}}}"), &value)
            .replace(&format!("${name}"), &value);
    }
    assert!(!out.contains('$'), "unsubstituted variable in {out}");
    out
}

struct Answer {
    uid: String,
    query: PanelQuery,
    expr: String,
    samples: Vec<(Labels, f64)>,
}

struct Answers(Vec<Answer>);

impl Answers {
    /// The samples of the query `ref_id` of panel `title` in dashboard `uid`
    /// whose expression mentions `needle` (an SLO id, to tell rows apart).
    fn samples(&self, uid: &str, title: &str, ref_id: &str, needle: &str) -> &[(Labels, f64)] {
        let found: Vec<&Answer> = self
            .0
            .iter()
            .filter(|a| {
                a.uid == uid
                    && a.query.panel == title
                    && a.query.ref_id == ref_id
                    && a.expr.contains(needle)
            })
            .collect();
        match found.as_slice() {
            [a] => &a.samples,
            other => panic!(
                "{uid} / {title} / {ref_id} / {needle}: {} matching queries",
                other.len()
            ),
        }
    }

    fn value(&self, uid: &str, title: &str, ref_id: &str, needle: &str) -> f64 {
        match self.samples(uid, title, ref_id, needle) {
            [(_, v)] => *v,
            other => panic!("{uid} / {title} / {ref_id}: expected one sample, got {other:?}"),
        }
    }

    /// The value of the series whose `label` is `value`.
    fn by_label(&self, uid: &str, title: &str, ref_id: &str, label: &str, value: &str) -> f64 {
        let samples = self.samples(uid, title, ref_id, "");
        let hits: Vec<f64> = samples
            .iter()
            .filter(|(l, _)| l.get(label).map(String::as_str) == Some(value))
            .map(|(_, v)| *v)
            .collect();
        match hits.as_slice() {
            [v] => *v,
            _ => panic!(
                "{uid} / {title} / {ref_id}: no single series {label}={value} in {samples:?}"
            ),
        }
    }
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: expected {expected}, got {actual}"
    );
}

#[tokio::test]
async fn every_panel_query_returns_data_and_the_values_the_scenario_implies()
-> Result<(), HarnessError> {
    let (prom, offsets) = shop_with_recorded_rules().await?;
    // Each level is evaluated later within the minute than the levels it
    // reads (so the 30d SLI for g sees the 5m ratio for g), and before 59s
    // (promtool ends each 2h block at B + 7199s: an evaluation at
    // B + 7199.5s would be lost). The offsets are hashes of fixed names
    // (21.4s, 39.9s, 44.3s, 52.4s with Prometheus 2.42), so this holds on
    // every run; the check says so should a Prometheus change the hash.
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]) && offsets.iter().all(|o| *o > 0.0 && *o < 59.0),
        "rule levels evaluated at {offsets:?}s after the minute: rename the groups"
    );

    // The 30d SLI at Q is the mean of the N 5m error ratios.
    let five_m = r#"slo:sli_error:ratio_rate5m{sloth_id="order-availability"}"#;
    assert_eq!(
        prom.query_value(&format!("count_over_time({five_m}[30d])"), Q)
            .await?,
        N
    );
    // Their sum: each 5m window spans 240s of samples. N × P0 for the
    // baseline, plus (P1 − P0) × the share of each window inside the
    // experiment: 1/4, 2/4, 3/4 for the windows ending 1, 2, 3 minutes in,
    // then 1 for the 17 ending 4 … 20 minutes in: 18.5 windows' worth.
    let sum_5m = N * P0 + 18.5 * (P1 - P0);
    assert_close(
        prom.query_value(&format!("sum_over_time({five_m}[30d])"), Q)
            .await?,
        sum_5m,
        "sum of the 5m error ratios",
    );
    // The page alert's own expression (from the generated rules) agrees
    // with the ALERTS history the scenario holds.
    let page_expr = page_alert_expr("order-availability");
    assert!(
        prom.instant_query(&page_expr, PAGE_FIRES - STEP)
            .await?
            .is_empty()
    );
    assert_eq!(prom.instant_query(&page_expr, PAGE_FIRES).await?.len(), 1);
    assert_eq!(prom.instant_query(&page_expr, Q).await?.len(), 1);

    // Every query of every dashboard returns data at Q.
    let dashboards = repo_dashboards();
    let mut answers = Vec::new();
    for d in &dashboards {
        for q in queries(&d.model) {
            let expr = substitute(&q.expr, &d.model);
            let samples = prom.instant_query(&expr, Q).await?;
            assert!(
                !samples.is_empty(),
                "{}: panel {:?} query {} returns no data: {expr}",
                d.uid,
                q.panel,
                q.ref_id
            );
            answers.push(Answer {
                uid: d.uid.clone(),
                query: q,
                expr,
                samples,
            });
        }
    }
    let total = answers.len();
    let a = Answers(answers);

    // The error budget as the meta rule records it: vector(1-0.9990000000000001).
    let budget = |objective: f64| 1.0 - objective / 100.0;
    let b = budget(99.9);
    // The budget as the alert expressions and panel divisors print it.
    let lit = 0.0009999999999999432;
    // order-availability's windows at G (samples span w − 60s; the
    // experiment covers the last 1200s of each).
    let r5m = order_ratio(240.0, 240.0); // 5%
    let r30m = order_ratio(1740.0, 1200.0);
    let r1h = order_ratio(3540.0, 1200.0);
    let r2h = order_ratio(7140.0, 1200.0);
    let r6h = order_ratio(21_540.0, 1200.0);
    let r1d = order_ratio(86_340.0, 1200.0);
    // The 3d window reaches back past T0: all 93600s (both counters start
    // at 0 there, so neither is extrapolated before it). The 1d window
    // starts 2h in, where order's error counter is already far from 0.
    let r3d = order_ratio(93_600.0, 1200.0);
    let period_ratio = sum_5m / N; // 0.0692…%: burn 0.69, 30.8% left
    let order = "verdict-svc-order";
    let id = "order-availability";
    assert_close(
        a.value(order, "SLI over 30d", "A", id),
        1.0 - period_ratio,
        "order SLI 30d",
    );
    assert_close(
        a.value(order, "Error budget remaining (30d)", "A", id),
        1.0 - period_ratio / b,
        "order budget remaining",
    );
    assert_close(
        a.value(order, "Burn rate now (5m)", "A", id),
        r5m / b,
        "burn now = 50",
    );
    assert_close(
        a.value(order, "Burn rate over 30d", "A", id),
        period_ratio / b,
        "burn 30d",
    );
    assert_close(a.value(order, "SLI vs objective", "A", id), 0.95, "SLI 5m");
    assert_close(
        a.value(order, "SLI vs objective", "B", id),
        1.0 - r1h,
        "SLI 1h",
    );
    assert_close(
        a.value(order, "SLI vs objective", "C", id),
        1.0 - period_ratio,
        "SLI 30d",
    );
    assert_close(
        a.value(order, "SLI vs objective", "D", id),
        0.999,
        "objective",
    );
    assert_close(
        a.value(order, "Error budget remaining over 30d, over time", "A", id),
        1.0 - period_ratio / b,
        "budget over time",
    );
    // The last hour cost r1h ÷ 0.1% ÷ 720 hours ≈ 2.35% of the 30d budget.
    assert_close(
        a.value(order, "Error budget burned per 1h", "A", id),
        r1h / lit / 720.0,
        "budget burned in 1h",
    );
    // Alert conditions: min(short, long) ÷ (factor × budget).
    for (ref_id, value, what) in [
        (
            "A",
            r5m.min(r1h) / (14.4 * lit),
            "page 5m & 1h (fires: above 100%)",
        ),
        ("B", r30m.min(r6h) / (6.0 * lit), "page 30m & 6h"),
        ("C", r2h.min(r1d) / (3.0 * lit), "ticket 2h & 1d"),
        ("D", r6h.min(r3d) / (1.0 * lit), "ticket 6h & 3d"),
    ] {
        assert_close(
            a.value(order, "Alert conditions (100% = fires)", ref_id, id),
            value,
            what,
        );
    }
    assert!(a.value(order, "Alert conditions (100% = fires)", "A", id) > 1.0);
    assert_eq!(a.value(order, "SLO alerts", "A", id), 1.0, "page fires");
    assert_eq!(
        a.value(order, "SLO alerts", "B", id),
        0.0,
        "ticket does not"
    );
    // Latency: 99.5% within 0.3s all along.
    let lat = "order-latency";
    assert_close(
        a.value(order, "SLI over 30d", "A", lat),
        0.995,
        "order latency SLI",
    );
    assert_close(
        a.value(order, "Error budget remaining (30d)", "A", lat),
        1.0 - (1.0 - 0.995) / budget(99.0),
        "order latency budget",
    );
    // p50 and p90 sit exactly on bucket bounds; p99 interpolates within
    // (0.25, 0.3]: 0.25 + 0.05 × (0.99 − 0.9) / (0.995 − 0.9).
    assert_close(
        a.value(order, "Latency quantiles", "A", "order"),
        0.1,
        "p50",
    );
    assert_close(
        a.value(order, "Latency quantiles", "B", "order"),
        0.25,
        "p90",
    );
    assert_close(
        a.value(order, "Latency quantiles", "C", "order"),
        0.25 + 0.05 * 0.09 / 0.095,
        "p99",
    );
    // The service summary.
    let summary = "Error budget remaining over the period";
    assert_close(
        a.by_label(order, summary, "A", "sloth_slo", "availability"),
        1.0 - period_ratio / b,
        "order availability",
    );
    assert_close(
        a.by_label(order, summary, "A", "sloth_slo", "latency"),
        0.5,
        "order latency",
    );
    assert_eq!(a.value(order, "Firing SLO alerts", "A", ""), 1.0);
    assert_eq!(
        a.value(order, "Chaos experiments on this service", "A", ""),
        1.0
    );
    for (uid, availability, latency) in [
        // 0.8 and 0.2 left: burns of 0.1% / 0.5% = 0.2 and 0.8% / 1% = 0.8.
        (
            "verdict-svc-inventory",
            1.0 - 0.001 / budget(99.5),
            1.0 - 0.008 / budget(99.0),
        ),
        // 0.5 and 0.8 left: 0.5% / 1% and 1% / 5%.
        (
            "verdict-svc-notification",
            1.0 - 0.005 / budget(99.0),
            1.0 - 0.01 / budget(95.0),
        ),
    ] {
        assert_close(
            a.by_label(uid, summary, "A", "sloth_slo", "availability"),
            availability,
            uid,
        );
        assert_close(
            a.by_label(uid, summary, "A", "sloth_slo", "latency"),
            latency,
            uid,
        );
        assert_eq!(a.value(uid, "Firing SLO alerts", "A", ""), 0.0);
        assert_eq!(
            a.value(uid, "Chaos experiments on this service", "A", ""),
            0.0
        );
    }
    assert_close(1.0 - 0.001 / budget(99.5), 0.8, "inventory availability");
    assert_close(1.0 - 0.01 / budget(95.0), 0.8, "notification latency");

    // The overview table: one row per SLO once Grafana merges A…G.
    let ov = dashboards::OVERVIEW_UID;
    let table = "SLOs: objective, SLI, error budget, burn rate";
    let rows: [(&str, f64, f64, f64, f64); 6] = [
        // (sloth_id, objective %, error ratio now, over the period, firing alerts)
        ("order-availability", 99.9, r5m, period_ratio, 1.0),
        ("order-latency", 99.0, 0.005, 0.005, 0.0),
        ("inventory-availability", 99.5, 0.001, 0.001, 0.0),
        ("inventory-latency", 99.0, 0.008, 0.008, 0.0),
        ("notification-availability", 99.0, 0.005, 0.005, 0.0),
        ("notification-latency", 95.0, 0.01, 0.01, 0.0),
    ];
    for (slo, objective, now, period, alerts) in rows {
        let col = |r: &str| a.by_label(ov, table, r, "sloth_id", slo);
        let b = budget(objective);
        assert_close(col("A"), objective / 100.0, slo);
        // 1 − burn × budget: the error ratio, within float rounding.
        assert!(
            (col("B") - (1.0 - now)).abs() < 1e-12,
            "{slo}: SLI now {}",
            col("B")
        );
        assert!(
            (col("C") - (1.0 - period)).abs() < 1e-12,
            "{slo}: SLI over the period {}",
            col("C")
        );
        assert_close(col("D"), 1.0 - period / b, slo);
        assert_close(col("E"), now / b, slo);
        assert_close(col("F"), period / b, slo);
        assert_eq!(col("G"), alerts, "{slo}: firing alerts");
    }
    let firing = a.samples(ov, "Firing SLO alerts", "A", "");
    assert_eq!(firing.len(), 1);
    assert_eq!(firing[0].0["alertname"], "OrderHighErrorRate");
    assert_eq!(firing[0].0["sloth_severity"], "page");
    assert_eq!(a.value(ov, "Chaos experiments running", "A", ""), 1.0);
    // Variables list what Grafana would offer.
    let values = |uid: &str, var: &str, label: &str| -> BTreeSet<String> {
        a.samples(uid, &format!("variable: {var}"), var, "")
            .iter()
            .map(|(l, _)| l[label].clone())
            .collect()
    };
    assert_eq!(
        values(ov, "service", "sloth_service"),
        ["inventory", "notification", "order"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        values(ov, "slo", "sloth_slo"),
        ["availability", "latency"].map(String::from).into()
    );
    // The experiment annotation: there at Q, absent before the experiment.
    let annotation = a.samples(ov, "annotation: Chaos experiments", "Chaos experiments", "");
    assert_eq!(annotation[0].0["experiment"], "order-http-errors");
    let before = prom
        .instant_query(
            &substitute(&annotation_expr(&dashboards[0]), &dashboards[0].model),
            FAULT - 600,
        )
        .await?;
    assert!(before.is_empty(), "{before:?}");

    // Four dashboards and 170 queries: the overview has 11 panel queries,
    // 1 annotation and 2 variables; a service dashboard 4 summary queries,
    // 22 per SLO (4 stats, 4 SLI, 6 burn, 1 budget, 1 burned, 4 alert
    // conditions, 2 alert states) plus 3 quantiles per latency SLO, and 1
    // annotation: 4 + 22 + 25 + 1 = 52, three times. (A guard against a
    // dashboard silently losing panels.)
    assert_eq!(dashboards.len(), 4);
    assert_eq!(total, 14 + 3 * 52);

    render_charts(&prom, &dashboards).await?;
    Ok(())
}

fn page_alert_expr(slo_id: &str) -> String {
    let set = slo_set();
    let slo = set.slos().find(|s| s.id == slo_id).unwrap();
    let service = set.services.iter().find(|s| s.name == slo.service).unwrap();
    let rules = verdict::generate::slo_rules(service, slo, &RuleOptions::default()).unwrap();
    rules
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .find_map(|r| match r {
            verdict::generate::Rule::Alert { expr, labels, .. }
                if labels["sloth_severity"] == "page" =>
            {
                Some(expr.clone())
            }
            _ => None,
        })
        .unwrap()
}

fn annotation_expr(d: &Dashboard) -> String {
    d.model["annotations"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a["expr"].as_str())
        .unwrap()
        .to_string()
}

/// Draws three panels of the order dashboard over the last 3 hours as PNGs
/// in `$TMPDIR/verdict-dashboards/`, the way Grafana would show them: the
/// series, the thresholds as lines, and the experiment as a shaded band.
async fn render_charts(prom: &PromServer, dashboards: &[Dashboard]) -> Result<(), HarnessError> {
    let order = dashboards
        .iter()
        .find(|d| d.uid == "verdict-svc-order")
        .unwrap();
    let dir = std::env::temp_dir().join("verdict-dashboards");
    std::fs::create_dir_all(&dir).unwrap();
    let start = Q - 3 * 3600;
    let band = Band {
        start: FAULT as f64,
        end: Q as f64,
        label: "experiment order-http-errors".into(),
        kind: BandKind::Fault,
    };
    for (title, file, format) in [
        (
            "SLI vs objective",
            "order-availability-sli.png",
            YFormat::Percent,
        ),
        (
            "Burn rate vs alert thresholds",
            "order-availability-burn.png",
            YFormat::Factor,
        ),
        (
            "Error budget remaining over 30d, over time",
            "order-availability-budget.png",
            YFormat::Percent,
        ),
    ] {
        let panel = order.model["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["title"] == title
                    && p["targets"][0]["expr"]
                        .as_str()
                        .is_some_and(|e| e.contains("order-availability"))
            })
            .unwrap();
        let mut chart = TimeChart {
            title: format!("order-availability: {title}"),
            y_label: String::new(),
            y_format: format,
            y_scale: Default::default(),
            series: Vec::new(),
            hlines: Vec::new(),
            bands: vec![band.clone()],
            markers: Vec::new(),
        };
        for t in panel["targets"].as_array().unwrap() {
            let expr = substitute(t["expr"].as_str().unwrap(), &order.model);
            let legend = t["legendFormat"].as_str().unwrap().to_string();
            // Constant thresholds and the objective are reference lines.
            if let Some(n) = expr
                .strip_prefix("vector(")
                .and_then(|r| r.strip_suffix(')'))
            {
                let kind = if legend.starts_with("page") {
                    LineKind::Page
                } else {
                    LineKind::Ticket
                };
                chart.hlines.push(HLine {
                    y: n.parse().unwrap(),
                    label: legend,
                    kind,
                });
                continue;
            }
            let result = prom
                .client()
                .query_range(&expr, start as f64, Q as f64, STEP as f64)
                .await
                .map_err(|e| HarnessError::Query {
                    query: expr.clone(),
                    reason: e.to_string(),
                })?;
            let QueryData::Matrix(series) = result.data else {
                panic!("{expr}: not a matrix")
            };
            assert_eq!(series.len(), 1, "{expr}");
            if expr.starts_with("slo:objective:ratio") {
                chart.hlines.push(HLine {
                    y: series[0].points[0].1,
                    label: legend,
                    kind: LineKind::Objective,
                });
                continue;
            }
            chart.series.push(ChartSeries {
                label: legend,
                points: series[0].points.clone(),
            });
        }
        let png = chart.render_png(verdict::chart::DEFAULT_SIZE).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::write(dir.join(file), png).unwrap();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Structure, PromQL, files.

#[test]
fn every_query_parses_as_promql_once_grafana_substitutes_its_variables() {
    for d in repo_dashboards() {
        let qs = queries(&d.model);
        assert!(qs.len() > 10, "{}", d.uid);
        for q in qs {
            let expr = substitute(&q.expr, &d.model);
            if let Err(e) = promql_parser::parser::parse(&expr) {
                panic!("{} / {} / {}: {e}\n{expr}", d.uid, q.panel, q.ref_id);
            }
        }
    }
}

fn is_uid(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_thresholds(t: &Value, at: &str) {
    assert!(
        ["absolute", "percentage"].contains(&t["mode"].as_str().unwrap()),
        "{at}"
    );
    let steps = t["steps"].as_array().unwrap();
    assert!(
        steps[0]["value"].is_null(),
        "{at}: the base step has no value"
    );
    let mut last = f64::NEG_INFINITY;
    for s in steps {
        assert!(s["color"].is_string(), "{at}");
        if let Some(v) = s["value"].as_f64() {
            assert!(v > last, "{at}: steps must increase");
            last = v;
        }
    }
}

fn check_field_config(fc: &Value, at: &str) {
    assert!(fc["defaults"].is_object(), "{at}: fieldConfig.defaults");
    for o in fc["overrides"].as_array().unwrap() {
        assert!(o["matcher"]["id"].is_string(), "{at}: override matcher id");
        for p in o["properties"].as_array().unwrap() {
            assert!(
                p["id"].is_string() && !p["value"].is_null(),
                "{at}: override property"
            );
            if p["id"] == "thresholds" {
                check_thresholds(&p["value"], at);
            }
        }
    }
    if !fc["defaults"]["thresholds"].is_null() {
        check_thresholds(&fc["defaults"]["thresholds"], at);
    }
}

/// The fields Grafana's model (`@grafana/schema` `Dashboard`) requires or
/// constrains, and what verdict promises on top (datasource variable, no
/// hard-coded datasource uid, links to verdict, tags).
fn check_dashboard(d: &Value) {
    let uid = d["uid"].as_str().unwrap();
    assert!(is_uid(uid), "uid {uid:?}: 1–40 of [a-zA-Z0-9-_]");
    assert!(!d["title"].as_str().unwrap().is_empty());
    assert_eq!(d["schemaVersion"], SCHEMA_VERSION);
    assert!(d["id"].is_null(), "importable: no instance id");
    assert!(d["time"]["from"].is_string() && d["time"]["to"].is_string());
    assert!(d["tags"].as_array().unwrap().iter().all(Value::is_string));
    assert!(d["editable"].is_boolean() && d["graphTooltip"].is_u64());
    for l in d["links"].as_array().unwrap() {
        for f in ["asDropdown", "includeVars", "keepTime", "targetBlank"] {
            assert!(l[f].is_boolean(), "{uid}: link.{f}");
        }
        for f in ["icon", "title", "tooltip", "url"] {
            assert!(l[f].is_string(), "{uid}: link.{f}");
        }
        assert!(["link", "dashboards"].contains(&l["type"].as_str().unwrap()));
        assert!(l["tags"].is_array());
    }

    // templating.list: VariableModel needs a name and a type from VariableType.
    let vars = d["templating"]["list"].as_array().unwrap();
    let mut names = BTreeSet::new();
    for v in vars {
        let name = v["name"].as_str().unwrap();
        assert!(names.insert(name), "{uid}: variable {name} twice");
        let kind = v["type"].as_str().unwrap();
        assert!(
            [
                "query",
                "adhoc",
                "groupby",
                "constant",
                "datasource",
                "interval",
                "textbox",
                "custom",
                "system",
                "snapshot",
                "switch"
            ]
            .contains(&kind),
            "{uid}: variable type {kind}"
        );
        assert!(v["hide"].is_u64() && v["hide"].as_u64().unwrap() <= 2);
        match kind {
            "datasource" => assert_eq!(v["query"], "prometheus"),
            "query" => {
                assert_eq!(
                    v["datasource"],
                    json!({"type": "prometheus", "uid": "${datasource}"})
                );
                assert!(v["query"].as_str().unwrap().starts_with("label_values("));
            }
            "custom" | "constant" | "textbox" => assert!(v["query"].is_string()),
            _ => {}
        }
    }
    for required in ["datasource", "verdict_url"] {
        assert!(names.contains(required), "{uid}: no {required} variable");
    }
    assert!(
        names.contains("service") && names.contains("slo"),
        "{uid}: service/SLO variables"
    );

    // annotations.list: AnnotationQuery needs datasource, enable, iconColor, name.
    let annotations = d["annotations"]["list"].as_array().unwrap();
    for a in annotations {
        assert!(a["datasource"].is_object() && a["enable"].is_boolean());
        assert!(a["iconColor"].is_string() && a["name"].is_string());
    }
    assert!(
        annotations.iter().any(|a| a["expr"]
            .as_str()
            .is_some_and(|e| e.contains("verdict_experiment_running"))),
        "{uid}: experiment annotations"
    );

    // panels: Panel needs a type; Grafana places it by gridPos and needs
    // unique ids; every target needs a refId (unique in its panel) and an expr.
    let mut ids = BTreeSet::new();
    for p in d["panels"].as_array().unwrap() {
        let title = p["title"].as_str().unwrap();
        let at = format!("{uid} / {title}");
        assert!(!title.is_empty(), "{at}");
        assert!(ids.insert(p["id"].as_u64().unwrap()), "{at}: id twice");
        let g = &p["gridPos"];
        for f in ["h", "w", "x", "y"] {
            assert!(g[f].is_u64(), "{at}: gridPos.{f}");
        }
        assert!(g["w"].as_u64().unwrap() >= 1 && g["h"].as_u64().unwrap() >= 1);
        assert!(
            g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24,
            "{at}"
        );
        let kind = p["type"].as_str().unwrap();
        if kind == "row" {
            assert!(
                p["collapsed"].is_boolean() && p["panels"].is_array(),
                "{at}"
            );
            continue;
        }
        assert!(
            ["timeseries", "stat", "bargauge", "table", "state-timeline"].contains(&kind),
            "{at}: panel type {kind}"
        );
        assert_eq!(
            p["datasource"],
            json!({"type": "prometheus", "uid": "${datasource}"}),
            "{at}"
        );
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{at}: no targets");
        let mut refs = BTreeSet::new();
        for t in targets {
            let r = t["refId"].as_str().unwrap();
            assert!(refs.insert(r), "{at}: refId {r} twice");
            assert!(!t["expr"].as_str().unwrap().trim().is_empty(), "{at}");
            assert_eq!(t["datasource"], p["datasource"], "{at}");
        }
        check_field_config(&p["fieldConfig"], &at);
        assert!(p["options"].is_object(), "{at}: options");
        let links = p["links"].as_array().unwrap();
        assert!(
            links
                .iter()
                .any(|l| l["url"] == "${verdict_url}/experiments" && l["title"].is_string()),
            "{at}: no link to verdict's experiments"
        );
        for tr in p["transformations"].as_array().into_iter().flatten() {
            assert!(tr["id"].is_string() && tr["options"].is_object(), "{at}");
        }
    }
    // Nothing in the whole model names a datasource uid but the variable
    // (and Grafana's built-in annotation source).
    let text = d.to_string();
    let uids: BTreeSet<&str> = text
        .match_indices("\"uid\":\"")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(
        uids,
        BTreeSet::from(["${datasource}", "-- Grafana --", uid])
    );
}

#[test]
fn the_dashboards_have_the_fields_grafanas_model_requires() {
    let ds = repo_dashboards();
    let titles: Vec<&str> = ds.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "SLO overview",
            "SLOs: inventory",
            "SLOs: notification",
            "SLOs: order"
        ]
    );
    for d in &ds {
        // What is checked is the file as written, parsed back.
        let model: Value = serde_json::from_str(&d.contents()).unwrap();
        check_dashboard(&model);
    }
    // Per-SLO content: every SLO of a service has its row, and latency
    // quantiles appear only for latency SLIs.
    let order = &ds[3].model;
    let titles: Vec<&str> = order["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles.iter().filter(|t| **t == "SLI vs objective").count(),
        2
    );
    assert_eq!(
        titles.iter().filter(|t| **t == "Latency quantiles").count(),
        1
    );
    assert!(titles.contains(
        &"availability — 99.9% of requests without errors over 30d (SLO order-availability)"
    ));
}

/// What is broken, and how.
type Breakage = (&'static str, fn(&mut Value));

#[test]
fn the_structural_check_catches_what_grafana_would_reject() {
    let good = repo_dashboards()[3].model.clone();
    let breakages: [Breakage; 6] = [
        ("no gridPos", |d| {
            d["panels"][1].as_object_mut().unwrap().remove("gridPos");
        }),
        ("a target without refId", |d| {
            d["panels"][1]["targets"][0]
                .as_object_mut()
                .unwrap()
                .remove("refId");
        }),
        ("a hard-coded datasource uid", |d| {
            d["panels"][1]["datasource"]["uid"] = json!("P1809F7CD0C75ACF3");
        }),
        ("an unknown variable type", |d| {
            d["templating"]["list"][0]["type"] = json!("dropdown");
        }),
        ("a uid too long", |d| d["uid"] = json!("x".repeat(41))),
        ("a panel wider than the grid", |d| {
            d["panels"][2]["gridPos"]["x"] = json!(20);
        }),
    ];
    for (what, breaks) in breakages {
        let mut d = good.clone();
        breaks(&mut d);
        let caught = std::panic::catch_unwind(|| check_dashboard(&d)).is_err();
        assert!(caught, "the check accepts a dashboard with {what}");
    }
}

#[test]
fn dashboards_directory_is_up_to_date_with_slos() {
    // cargo runs integration tests in the package root.
    let dashboards = repo_dashboards_relative();
    let existing = read_generated_dashboards(Path::new("deploy/grafana/dashboards")).unwrap();
    let differences = dashboards::compare(&dashboards, &existing);
    let report: Vec<String> = differences.iter().map(|d| d.to_string()).collect();
    assert!(
        differences.is_empty(),
        "deploy/grafana/dashboards is out of date; run `cargo run -- generate dashboards --slos slos --out deploy/grafana/dashboards`:\n{}",
        report.join("\n")
    );
}

/// As the CLI generates them from the repository root (`--slos slos`): the
/// description names the spec files relative to it.
fn repo_dashboards_relative() -> Vec<Dashboard> {
    let set = spec::load_paths(&[PathBuf::from("slos")]).unwrap();
    dashboards::generate_dashboards(&set, &DashboardOptions::default()).unwrap()
}

#[test]
fn grafana_provisioning_points_at_the_generated_dashboards() {
    let provider: Value = serde_saphyr::from_str(
        &std::fs::read_to_string("deploy/grafana/provisioning/dashboards/verdict.yaml").unwrap(),
    )
    .unwrap();
    assert_eq!(provider["apiVersion"], 1);
    let p = &provider["providers"][0];
    assert_eq!(p["type"], "file");
    assert_eq!(p["options"]["path"], "/var/lib/grafana/dashboards/verdict");
    assert_eq!(p["allowUiUpdates"], false);
    let sources: Value = serde_saphyr::from_str(
        &std::fs::read_to_string("deploy/grafana/provisioning/datasources/prometheus.yaml")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sources["apiVersion"], 1);
    let ds = &sources["datasources"][0];
    assert_eq!(ds["type"], "prometheus");
    assert_eq!(ds["isDefault"], true);
    // The dashboards do not depend on its uid or name: they pick any
    // Prometheus datasource through the `datasource` variable.
    for d in repo_dashboards_relative() {
        assert!(!d.contents().contains(ds["name"].as_str().unwrap()));
    }
}

fn dash_args(slos: &Path, out: &Path, check: bool) -> GenerateArgs {
    GenerateArgs {
        what: GenerateCommand::Dashboards(DashboardsArgs {
            slos: vec![slos.to_path_buf()],
            out: out.to_path_buf(),
            period: PromDuration::from_secs(30 * 86_400),
            windows: None,
            verdict_url: "http://verdict.test:9797/".into(),
            check,
        }),
    }
}

fn run(args: &GenerateArgs) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn check_reports_missing_changed_and_stale_dashboards_and_write_fixes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dashboards");
    let slos = repo().join("slos");
    let (code, _, err) = run(&dash_args(&slos, &out, true));
    assert_eq!(code, 1);
    assert_eq!(err.matches("missing: ").count(), 4, "{err}");

    let (code, stdout, _) = run(&dash_args(&slos, &out, false));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("4 dashboards generated (4 changed) from 3 spec files"),
        "{stdout}"
    );
    let order = std::fs::read_to_string(out.join("verdict-svc-order.json")).unwrap();
    // The trailing slash of --verdict-url is dropped.
    assert!(order.contains("\"query\": \"http://verdict.test:9797\""));
    let (code, stdout, _) = run(&dash_args(&slos, &out, true));
    assert_eq!(
        (code, stdout.trim()),
        (
            0,
            format!("{}: up to date (4 dashboards)", out.display()).as_str()
        )
    );

    // A hand edit, a stale generated file and a hand-made dashboard.
    std::fs::write(
        out.join("verdict-svc-order.json"),
        order.replace("now-24h", "now-7d"),
    )
    .unwrap();
    let stale = out.join("verdict-svc-gone.json");
    std::fs::copy(out.join("verdict-svc-inventory.json"), &stale).unwrap();
    std::fs::write(out.join("mine.json"), r#"{"title": "hand-made"}"#).unwrap();
    let (code, _, err) = run(&dash_args(&slos, &out, true));
    assert_eq!(code, 1);
    assert!(err.contains("changed: verdict-svc-order.json"), "{err}");
    assert!(err.contains("stale: verdict-svc-gone.json"), "{err}");
    assert!(!err.contains("mine.json"), "{err}");
    let (code, stdout, _) = run(&dash_args(&slos, &out, false));
    assert_eq!(code, 0);
    assert!(stdout.contains("(1 changed, 1 stale removed)"), "{stdout}");
    assert!(!stale.exists() && out.join("mine.json").exists());
}

#[test]
fn invalid_specs_and_flags_are_invalid_input() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("bad.yaml");
    std::fs::write(
        &spec,
        "version: verdict/v1\nservice: cart\nslos:\n  - name: a\n    objective: 99\n    period: 14d\n    sli:\n      raw:\n        error_ratio_query: x[{{.window}}]\n",
    )
    .unwrap();
    let (code, _, err) = run(&dash_args(&spec, &tmp.path().join("o"), false));
    assert_eq!(code, 2);
    assert!(
        err.contains("slos[0].period: no alert windows for this SLO's period 14d (2w)"),
        "{err}"
    );
    let mut args = dash_args(&repo().join("slos"), &tmp.path().join("o"), false);
    if let GenerateCommand::Dashboards(d) = &mut args.what {
        d.verdict_url = "verdict:9797".into();
    }
    let (code, _, err) = run(&args);
    assert_eq!(code, 2);
    assert!(
        err.contains("--verdict-url \"verdict:9797\" must be an http:// or https:// URL"),
        "{err}"
    );
    assert!(!tmp.path().join("o").exists());
}
