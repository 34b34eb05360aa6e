//! Rule generation throughput: 1,000 and 10,000 SLOs (events, raw and
//! latency SLIs mixed, 10 SLOs per service, one spec file per 10 services)
//! turned into rule files, as `verdict generate rules --out DIR` does minus
//! the disk writes. Specs are loaded once, outside the measurement.
//!
//! Run: `cargo bench --bench generate_rules -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use verdict::generate::{self, OutputOptions, RuleOptions};
use verdict::spec::{self, SpecSet};

const SLOS_PER_SERVICE: usize = 10;
const SERVICES_PER_FILE: usize = 10;

fn service_yaml(s: usize) -> String {
    let mut y = format!(
        "version: verdict/v1\nservice: svc{s}\nlabels:\n  team: team{}\nslos:\n",
        s % 7
    );
    for i in 0..SLOS_PER_SERVICE {
        let _ = write!(
            y,
            "  - name: slo{i}\n    objective: {}\n    description: SLO {i} of svc{s}\n",
            [99.9, 99.5, 99.0, 99.95][i % 4]
        );
        match i % 3 {
            0 => {
                let _ = write!(
                    y,
                    "    sli:\n      events:\n        error_query: sum(rate(http_requests_total{{service=\"svc{s}\",route=\"/r{i}\",code=~\"5..\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{service=\"svc{s}\",route=\"/r{i}\"}}[{{{{.window}}}}]))\n"
                );
            }
            1 => {
                let _ = write!(
                    y,
                    "    sli:\n      raw:\n        error_ratio_query: |\n          sum(rate(rpc_errors_total{{service=\"svc{s}\",method=\"m{i}\"}}[{{{{.window}}}}]))\n          /\n          sum(rate(rpc_total{{service=\"svc{s}\",method=\"m{i}\"}}[{{{{.window}}}}]))\n"
                );
            }
            _ => {
                let _ = write!(
                    y,
                    "    sli:\n      latency:\n        histogram: http_request_duration_seconds\n        selector: '{{service=\"svc{s}\",route=\"/r{i}\"}}'\n        threshold: 0.25\n"
                );
            }
        }
        let _ = write!(
            y,
            "    alerting:\n      name: Svc{s}Slo{i}Burn\n      labels:\n        category: bench\n      page_alert:\n        labels:\n          severity: page\n      ticket_alert:\n        labels:\n          severity: ticket\n"
        );
    }
    y
}

fn spec_set(slos: usize) -> SpecSet {
    let services = slos / SLOS_PER_SERVICE;
    let sources: Vec<(PathBuf, String)> = (0..services.div_ceil(SERVICES_PER_FILE))
        .map(|f| {
            let docs: Vec<String> = (f * SERVICES_PER_FILE
                ..((f + 1) * SERVICES_PER_FILE).min(services))
                .map(service_yaml)
                .collect();
            (
                PathBuf::from(format!("slos/file{f:04}.yaml")),
                docs.join("---\n"),
            )
        })
        .collect();
    let set = spec::load_sources(&sources).expect("bench specs are valid");
    assert_eq!(set.slos().count(), slos);
    set
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate_rules");
    group.sample_size(10);
    let opts = RuleOptions::default();
    let out = OutputOptions::default();
    for slos in [1_000usize, 10_000] {
        let set = spec_set(slos);
        let roots = [PathBuf::from("slos")];
        group.throughput(Throughput::Elements(slos as u64));
        group.bench_with_input(BenchmarkId::from_parameter(slos), &set, |b, set| {
            b.iter(|| {
                let g = generate::generate_files(set, &roots, &opts, &out).expect("generates");
                assert_eq!(g.files.len(), slos / (SLOS_PER_SERVICE * SERVICES_PER_FILE));
                g
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
