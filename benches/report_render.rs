//! Rendering a full report: 4 SLOs and 2 indicators, with every chart
//! (4 SLO charts, the burn-rate chart, 2 indicator charts, each drawn wide
//! and narrow as inline SVG) into the standalone HTML page; plus the email
//! (7 PNG charts), the Markdown summary and the Slack message for scale.
//! Target: the HTML page under 100 ms in release.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use verdict::report::email::render_email;
use verdict::report::html::render_html_with;
use verdict::report::markdown::render_markdown_with;
use verdict::report::sample::{SampleVerdict, sample_extras, sample_report};
use verdict::report::slack::render_slack;
use verdict::report::templates::Templates;

fn bench_render(c: &mut Criterion) {
    let report = sample_report(SampleVerdict::Fail, 4);
    let extras = sample_extras();
    let templates = Templates::embedded().unwrap_or_else(|e| panic!("templates: {e}"));
    let mut group = c.benchmark_group("report_render");
    group.sample_size(30);
    group.bench_function("html_4_slos_7_charts", |b| {
        b.iter(|| {
            render_html_with(black_box(&report), &extras, templates)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.bench_function("email_4_slos_7_png_charts", |b| {
        b.iter(|| {
            render_email(black_box(&report), &extras, templates).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.bench_function("markdown_4_slos", |b| {
        b.iter(|| {
            render_markdown_with(black_box(&report), &extras, templates)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.bench_function("slack_4_slos", |b| {
        b.iter(|| {
            render_slack(black_box(&report), &extras, templates).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
