//! Benchmarks of the evaluation core on large inputs: recovery over a
//! 100,000-point series, and Mann–Whitney U + Hodges–Lehmann over two
//! 100,000-point samples (10¹⁰ pairs, selected without enumerating them).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use verdict::eval::detection::{BurnAlertWindow, predict_page_alert};
use verdict::eval::recovery::{HealthRule, RecoveryParams, analyze_recovery, find_peak_burn};
use verdict::eval::series::SeriesShape;
use verdict::eval::stats::{Tolerance, compare_samples, hodges_lehmann_shift, mann_whitney_u};
use verdict::eval::timeline::Timeline;

const POINTS: usize = 100_000;
const STEP: f64 = 15.0;

/// Deterministic pseudo-random numbers in [0, 1) (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 100,000 samples at 15s (about 17 days): a noisy healthy baseline, a
/// fault at 20% errors from sample 40,000 to 50,000, a noisy recovery with
/// a relapse at 60,000.
fn error_ratio_series() -> (Vec<(f64, f64)>, Timeline) {
    let mut rng = Lcg(42);
    let series = (0..POINTS)
        .map(|i| {
            let noise = rng.next() * 0.0008;
            let value = match i {
                40_000..50_000 => 0.2 + noise,
                60_000..60_010 => 0.01,
                _ if i % 997 == 0 => f64::NAN,
                _ => noise,
            };
            (i as f64 * STEP, value)
        })
        .collect();
    let timeline = Timeline::new(
        0.0,
        40_000.0 * STEP,
        50_000.0 * STEP,
        (POINTS - 1) as f64 * STEP,
    )
    .unwrap_or_else(|e| panic!("benchmark timeline: {e}"));
    (series, timeline)
}

fn bench_recovery(c: &mut Criterion) {
    let (series, timeline) = error_ratio_series();
    let shape = SeriesShape::new(STEP, 60.0).unwrap_or_default();
    let params = RecoveryParams {
        error_budget: 0.001,
        shape,
        stable_for_seconds: 60.0,
        rule: HealthRule::default(),
    };
    let windows = BurnAlertWindow::page_windows(30.0 * 86_400.0);
    let mut group = c.benchmark_group("recovery");
    group.bench_function("analyze_recovery/100k", |b| {
        b.iter(|| analyze_recovery(black_box(&series), &timeline, &params))
    });
    group.bench_function("find_peak_burn/100k", |b| {
        b.iter(|| find_peak_burn(black_box(&series), &timeline, &shape, 0.001))
    });
    group.bench_function("predict_page_alert/100k", |b| {
        b.iter(|| predict_page_alert(black_box(&series), &shape, 0.001, &windows, &timeline))
    });
    group.finish();
}

/// Two latency samples of 100,000 points each, the fault one shifted by 5ms.
fn latency_samples() -> (Vec<f64>, Vec<f64>) {
    let mut rng = Lcg(7);
    let mut draw = |center: f64| center + (rng.next() + rng.next() + rng.next() - 1.5) * 0.02;
    let baseline = (0..POINTS).map(|_| draw(0.100)).collect();
    let fault = (0..POINTS).map(|_| draw(0.105)).collect();
    (baseline, fault)
}

fn bench_stats(c: &mut Criterion) {
    let (baseline, fault) = latency_samples();
    let mut group = c.benchmark_group("stats");
    group.sample_size(10);
    group.bench_function("mann_whitney_u/2x100k", |b| {
        b.iter(|| mann_whitney_u(black_box(&baseline), black_box(&fault)))
    });
    group.bench_function("hodges_lehmann_shift/2x100k", |b| {
        b.iter(|| hodges_lehmann_shift(black_box(&baseline), black_box(&fault)))
    });
    group.bench_function("compare_samples/2x100k", |b| {
        b.iter(|| {
            compare_samples(
                black_box(&baseline),
                black_box(&fault),
                Tolerance::Absolute(0.001),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_recovery, bench_stats);
criterion_main!(benches);
