//! Loading and validating SLO specs: 1,000 SLOs in 100 files (target < 200 ms).
//!
//! Run: `cargo bench --bench spec_load` (release). The figure that matters is
//! the time per iteration of `load_and_validate/1000_slos`.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

/// 100 native files with 10 SLOs each: events, raw and latency SLIs, with
/// alerting and verdict blocks and two indicators per service.
fn corpus(files: usize, slos_per_file: usize) -> Vec<(PathBuf, String)> {
    (0..files)
        .map(|f| {
            let mut text = format!(
                "version: verdict/v1\nservice: svc{f}\nlabels:\n  team: t{f}\nslos:\n"
            );
            for s in 0..slos_per_file {
                let sli = match s % 3 {
                    0 => format!(
                        "      events:\n        error_query: sum(rate(http_requests_total{{service=\"svc{f}\",code=~\"5..\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{service=\"svc{f}\"}}[{{{{.window}}}}]))\n"
                    ),
                    1 => format!(
                        "      raw:\n        error_ratio_query: |\n          sum(rate(errors_total{{service=\"svc{f}\"}}[{{{{.window}}}}]))\n          /\n          sum(rate(requests_total{{service=\"svc{f}\"}}[{{{{.window}}}}]))\n"
                    ),
                    _ => format!(
                        "      latency:\n        histogram: http_request_duration_seconds\n        selector: '{{service=\"svc{f}\"}}'\n        threshold: 0.3\n"
                    ),
                };
                text.push_str(&format!(
                    "  - name: slo{s}\n    objective: 99.9\n    period: 30d\n    description: SLO {s}\n    labels:\n      slo_kind: k{s}\n    sli:\n{sli}    alerting:\n      name: Svc{f}Slo{s}\n      page_alert:\n        labels:\n          severity: page\n      ticket_alert:\n        labels:\n          severity: ticket\n    verdict:\n      max_budget_consumed: 2%\n      max_time_to_recover: 30s\n"
                ));
            }
            text.push_str("indicators:\n  - name: p99\n    query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))\n    pass:\n      - [\"<=+20%\"]\n");
            (PathBuf::from(format!("slos/svc{f}.yaml")), text)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let sources = corpus(100, 10);
    let set = verdict::spec::load_sources(&sources).expect("the corpus is valid");
    assert_eq!(set.slos().count(), 1000);
    let mut group = c.benchmark_group("load_and_validate");
    group.sample_size(20);
    group.bench_function("1000_slos", |b| {
        b.iter(|| {
            verdict::spec::load_sources(std::hint::black_box(&sources)).map(|s| s.services.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
