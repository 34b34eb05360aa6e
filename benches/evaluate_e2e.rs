//! End-to-end benchmark of `verdict evaluate`'s work: 10 SLOs over a
//! 1-hour experiment against a real Prometheus on 127.0.0.1, started by the
//! bench itself over backfilled history (the integration-test harness).
//!
//! Reports, per run: verdict's wall time (load specs → plan → query with
//! bounded concurrency → evaluate → render JSON) and number of queries,
//! next to the same queries sent directly with a bare HTTP client at the
//! same concurrency (the raw critical path at that limit), the raw
//! queries' slowest single request and their sequential sum. Target:
//! verdict within 1.3× of the raw critical path.
//!
//! Run: `cargo bench --bench evaluate_e2e` (needs `prometheus` and `promtool`).

// The bench uses only part of the shared harness.
#[allow(unused_imports)]
#[path = "../tests/it/harness/mod.rs"]
mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{JAN_1_2026, PromServer, Scenario, Steps};
use verdict::experiment::{
    DEFAULT_CONCURRENCY, ExperimentWindow, Plan, QueryTime, Resolution, RunOptions, evaluate_plan,
    plan_queries,
};
use verdict::prom::format_prom_time;

const SERVICES: usize = 10;
const RUNS: usize = 7;
const T0: i64 = JAN_1_2026;
/// The experiment: one hour from `FROM`, a 10-minute fault 15 minutes in.
const FROM: i64 = T0 + 3600;
const FAULT_START: i64 = FROM + 900;
const FAULT_END: i64 = FAULT_START + 600;
const TO: i64 = FROM + 3600;

fn spec() -> String {
    let mut text = String::new();
    for i in 0..SERVICES {
        text.push_str(&format!(
            r#"---
version: verdict/v1
service: svc{i}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{{service="svc{i}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{service="svc{i}"}}[{{{{.window}}}}]))
    verdict:
      max_time_to_recover: 2m
      expect_alerts: [Svc{i}Page]
"#
        ));
    }
    text
}

fn scenario() -> Scenario {
    (0..SERVICES).fold(Scenario::new(T0, TO + 60), |s, i| {
        let ratio = Steps::new(0.0005)
            .at(FAULT_START, 0.02 + 0.002 * i as f64)
            .at(FAULT_END, 0.0005);
        s.traffic(&format!("svc{i}"), 20.0 + i as f64, ratio).alert(
            &format!("Svc{i}Page"),
            &[],
            &[(FAULT_START + 120, FAULT_END + 60)],
        )
    })
}

/// The plan's queries sent with a bare reqwest client, `concurrency` at a
/// time: (wall time, slowest request, sum of request times).
async fn raw(base: &str, plan: &Plan, concurrency: usize) -> (Duration, Duration, Duration) {
    let http = reqwest::Client::new();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for q in &plan.queries {
        let (http, semaphore) = (http.clone(), Arc::clone(&semaphore));
        let (url, form) = match q.at {
            QueryTime::Instant { time } => (
                format!("{base}/api/v1/query"),
                vec![
                    ("query", q.promql.clone()),
                    ("time", format_prom_time(time)),
                ],
            ),
            QueryTime::Range { start, end, step } => (
                format!("{base}/api/v1/query_range"),
                vec![
                    ("query", q.promql.clone()),
                    ("start", format_prom_time(start)),
                    ("end", format_prom_time(end)),
                    ("step", format_prom_time(step)),
                ],
            ),
        };
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.ok();
            let t = Instant::now();
            let body = match http.post(&url).form(&form).send().await {
                Ok(r) => r.bytes().await.map(|b| b.len()).unwrap_or(0),
                Err(_) => 0,
            };
            assert!(body > 0, "raw query to {url} failed");
            t.elapsed()
        });
    }
    let (mut slowest, mut sum) = (Duration::ZERO, Duration::ZERO);
    while let Some(Ok(d)) = tasks.join_next().await {
        slowest = slowest.max(d);
        sum += d;
    }
    (started.elapsed(), slowest, sum)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    runtime.block_on(async {
        let prom = PromServer::start(&scenario())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!("prometheus ready: {:?}", prom.startup());
        let client = prom.client();
        let text = spec();
        let now = (TO + 3600) as f64;

        let mut verdict_times = Vec::new();
        let mut raw_times = Vec::new();
        let mut raw_slowest = Vec::new();
        let mut raw_sums = Vec::new();
        let mut queries = 0;
        // Run 0 warms up Prometheus's caches and the connection pools.
        for run in 0..=RUNS {
            let started = Instant::now();
            let set = verdict::spec::load_sources(&[("bench.yaml".into(), text.clone())])
                .unwrap_or_else(|e| panic!("{e:?}"));
            let slos: Vec<_> = set.slos().cloned().collect();
            let window = ExperimentWindow::new(
                FROM as f64,
                TO as f64,
                Some(FAULT_START as f64),
                Some(FAULT_END as f64),
                None,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let plan = plan_queries(&window, &Resolution::default(), &slos, &[])
                .unwrap_or_else(|e| panic!("{e}"));
            let options = RunOptions {
                concurrency: DEFAULT_CONCURRENCY,
                now,
                progress: None,
            };
            let report = evaluate_plan(&client, &plan, &options).await;
            let json = verdict::report::json::render_json(&report).unwrap_or_default();
            let elapsed = started.elapsed();
            assert_eq!(report.verdict.as_str(), "pass", "{}", report.reasons.join("\n"));
            assert!(json.len() > 1000);
            queries = plan.queries.len();

            let (wall, slowest, sum) = raw(prom.base_url(), &plan, DEFAULT_CONCURRENCY).await;
            if run > 0 {
                verdict_times.push(elapsed);
                raw_times.push(wall);
                raw_slowest.push(slowest);
                raw_sums.push(sum);
            }
        }
        let (v, r) = (median(verdict_times), median(raw_times));
        println!("evaluate_e2e: {SERVICES} SLOs, 1h experiment, {queries} queries, concurrency {DEFAULT_CONCURRENCY}, median of {RUNS} runs");
        println!("  verdict end to end (load, plan, query, evaluate, render): {v:?}");
        println!("  raw queries, same concurrency (critical path):             {r:?}");
        println!("  raw slowest single query:                                  {:?}", median(raw_slowest));
        println!("  raw sum of all queries (sequential):                       {:?}", median(raw_sums));
        println!(
            "  ratio verdict / raw critical path: {:.2} (target ≤ 1.3)",
            v.as_secs_f64() / r.as_secs_f64()
        );
    });
}
