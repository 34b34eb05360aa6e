//! Baseline comparison: relative change, Mann–Whitney U and Hodges–Lehmann.
//!
//! Owns the statistics of the design's "Baseline" definition: the relative
//! change `Δ = (x_exp − x_base) / |x_base|` (a zero or non-finite baseline is
//! a stated condition, not a division), the two-sided Mann–Whitney U test
//! (normal approximation with tie and continuity corrections, the same
//! numbers as SciPy's `mannwhitneyu(x, y, alternative='two-sided',
//! method='asymptotic', use_continuity=True)`), the Hodges–Lehmann shift
//! estimate (median of all pairwise differences, found exactly by selection
//! without enumerating the pairs) and [`compare_samples`], which ties them
//! together with the "significant when p < 0.02 and beyond tolerance" rule.
//! Pure arithmetic: no I/O, no randomness beyond a fixed-seed pivot choice.

use serde::{Deserialize, Serialize};

use super::measure::Measure;

/// Fewest samples per side for a comparison.
pub const MIN_SAMPLES: usize = 10;
/// A difference is significant below this p-value (and beyond tolerance).
pub const SIGNIFICANCE_LEVEL: f64 = 0.02;

/// Relative change `(experiment − baseline) / |baseline|`.
///
/// For the positive baselines of real signals this is the design's
/// `(x_exp − x_base) / x_base`; dividing by `|x_base|` keeps "+" meaning
/// "went up" for a negative baseline too. A zero or non-finite baseline (or
/// a non-finite experiment value) gives a missing value with the reason.
pub fn relative_change(baseline: f64, experiment: f64) -> Measure<f64> {
    if !baseline.is_finite() {
        return Measure::missing(format!("baseline value {baseline} is not finite"));
    }
    if !experiment.is_finite() {
        return Measure::missing(format!("experiment value {experiment} is not finite"));
    }
    if baseline == 0.0 {
        return Measure::missing("baseline value is 0: a relative change is undefined");
    }
    Measure::Value((experiment - baseline) / baseline.abs())
}

/// `erfc(x) = 1 − erf(x)`, to about 1e-15 relative accuracy.
///
/// Below 2, from the everywhere-convergent series
/// `erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))` (all terms
/// positive, no cancellation); from 2 on, from the continued fraction
/// `erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`
/// evaluated with the modified Lentz method.
pub fn erfc(x: f64) -> f64 {
    const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        let two_x2 = 2.0 * x * x;
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= two_x2 / f64::from(2 * n + 1);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        return 1.0 - 2.0 * FRAC_1_SQRT_PI * (-x * x).exp() * sum;
    }
    if x > 27.3 {
        return 0.0; // e^(−x²) underflows
    }
    let tiny = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (f, 0.0);
    for n in 1..500 {
        let a = f64::from(n) / 2.0;
        d = x + a * d;
        if d == 0.0 {
            d = tiny;
        }
        c = x + a / c;
        if c == 0.0 {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    FRAC_1_SQRT_PI * (-x * x).exp() / f
}

/// Result of a two-sided Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// `U₁`, the statistic of the first sample (SciPy's `statistic`):
    /// `R₁ − n₁(n₁ + 1)/2`.
    pub u: f64,
    /// `(max(U₁, U₂) − n₁n₂/2 − 0.5) / σ`, σ tie-corrected; 0 when all
    /// values are tied.
    pub z: f64,
    /// Two-sided p-value `2 · (1 − Φ(z))`, clipped to `[0, 1]`.
    pub p_value: f64,
}

/// Two-sided Mann–Whitney U test with the normal approximation, tie
/// correction and continuity correction. `None` when a side is empty or a
/// value is not finite (use [`compare_samples`] to drop such values).
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let (n1, n2) = (x.len(), y.len());
    let mut all: Vec<(f64, bool)> = x
        .iter()
        .map(|v| (*v, true))
        .chain(y.iter().map(|v| (*v, false)))
        .collect();
    all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Average ranks over ties; Σ (t³ − t) for the tie correction.
    let (mut rank_sum_x, mut tie_term) = (0.0f64, 0.0f64);
    let mut start = 0;
    while start < all.len() {
        let value = all[start].0;
        let end = start + all[start..].iter().take_while(|(v, _)| *v == value).count();
        let tied = (end - start) as f64;
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let from_x = all[start..end].iter().filter(|(_, is_x)| *is_x).count() as f64;
        rank_sum_x += from_x * average_rank;
        tie_term += tied * tied * tied - tied;
        start = end;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let n = n1f + n2f;
    let u1 = rank_sum_x - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;
    let mu = n1f * n2f / 2.0;
    let variance = n1f * n2f / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    let sigma = if n > 1.0 && variance > 0.0 {
        variance.sqrt()
    } else {
        0.0
    };
    if sigma == 0.0 {
        // Every value is the same: no evidence of any difference.
        return Some(MannWhitney {
            u: u1,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = (u1.max(u2) - mu - 0.5) / sigma;
    let p_value = erfc(z / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Some(MannWhitney { u: u1, z, p_value })
}

/// A small deterministic generator for pivot choice (SplitMix64).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // Multiply-shift maps to [0, bound) without division bias worth caring about here.
        ((u128::from(z) * u128::from(bound)) >> 64) as u64
    }
}

/// For each row `i` of the implicit sorted matrix `y[j] − x[i]`, how many
/// entries are below `pivot` (`< pivot`, or `≤ pivot` when `inclusive`).
/// Rows are non-decreasing in `j` and counts non-decreasing in `i`, so one
/// pointer sweeps both: O(n + m).
fn count_rows(x: &[f64], y: &[f64], pivot: f64, inclusive: bool, counts: &mut [usize]) -> u64 {
    let mut j = 0usize;
    let mut total = 0u64;
    for (i, xi) in x.iter().enumerate() {
        while j < y.len() && {
            let d = y[j] - xi;
            if inclusive { d <= pivot } else { d < pivot }
        } {
            j += 1;
        }
        counts[i] = j;
        total += j as u64;
    }
    total
}

/// The `k`-th smallest (1-based) of all `y[j] − x[i]`, both sorted: a
/// randomized selection over the implicit matrix (Monahan's algorithm).
/// Each round counts entries below a pivot in O(n + m) and discards, per
/// row, the columns that cannot hold the answer; about 40–60 rounds for
/// 10¹⁰ pairs, then the few hundred thousand remaining are selected directly.
fn select_difference(x: &[f64], y: &[f64], k: u64, direct_limit: u64) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut low = vec![0usize; n];
    let mut high = vec![m; n];
    let mut below = vec![0usize; n];
    let mut at_or_below = vec![0usize; n];
    let mut rng = SplitMix64(0x5EED_5EED_5EED_5EED);
    let direct = ((4 * (n + m)) as u64).max(direct_limit);
    let mut previous = u64::MAX;
    loop {
        let candidates: u64 = low
            .iter()
            .zip(&high)
            .map(|(l, h)| h.saturating_sub(*l) as u64)
            .sum();
        // Every round removes at least the pivot; stopping when a round did
        // not is only a guard against inconsistent arithmetic.
        let pivot = if candidates > direct && candidates < previous {
            pick_pivot(x, y, &low, &high, rng.next_below(candidates))
        } else {
            None
        };
        previous = candidates;
        let Some(pivot) = pivot else {
            return select_directly(x, y, &low, &high, k);
        };
        let less = count_rows(x, y, pivot, false, &mut below);
        let less_or_equal = count_rows(x, y, pivot, true, &mut at_or_below);
        if k <= less {
            for (h, b) in high.iter_mut().zip(&below) {
                *h = (*h).min(*b);
            }
        } else if k > less_or_equal {
            for (l, a) in low.iter_mut().zip(&at_or_below) {
                *l = (*l).max(*a);
            }
        } else {
            return pivot;
        }
    }
}

/// The `pick`-th remaining candidate, counting row by row.
fn pick_pivot(x: &[f64], y: &[f64], low: &[usize], high: &[usize], mut pick: u64) -> Option<f64> {
    for ((xi, l), h) in x.iter().zip(low).zip(high) {
        let width = h.saturating_sub(*l) as u64;
        if pick < width {
            return y.get(l + pick as usize).map(|yj| yj - xi);
        }
        pick -= width;
    }
    None
}

/// Selects the answer among the remaining candidates directly: entries
/// left of `low` are all below it, so it is the `(k − Σ low)`-th of them.
fn select_directly(x: &[f64], y: &[f64], low: &[usize], high: &[usize], k: u64) -> f64 {
    let known_below: u64 = low.iter().map(|l| *l as u64).sum();
    let mut rest: Vec<f64> = Vec::new();
    for ((xi, l), h) in x.iter().zip(low).zip(high) {
        rest.extend(y.get(*l..*h).unwrap_or(&[]).iter().map(|yj| yj - xi));
    }
    if rest.is_empty() {
        return f64::NAN;
    }
    let index = (k.saturating_sub(known_below + 1) as usize).min(rest.len() - 1);
    let (_, value, _) = rest.select_nth_unstable_by(index, f64::total_cmp);
    *value
}

/// Hodges–Lehmann shift estimate: the median of all `fault[j] − baseline[i]`
/// (the average of the two middle ones for an even count). Exact, in about
/// O((n + m) log(nm)) time. `None` when a side is empty or a value is not finite.
pub fn hodges_lehmann_shift(baseline: &[f64], fault: &[f64]) -> Option<f64> {
    hodges_lehmann_with(baseline, fault, DIRECT_SELECTION_LIMIT)
}

/// Below this many candidate pairs the selection finishes directly.
const DIRECT_SELECTION_LIMIT: u64 = 1 << 16;

fn hodges_lehmann_with(baseline: &[f64], fault: &[f64], direct_limit: u64) -> Option<f64> {
    if baseline.is_empty()
        || fault.is_empty()
        || baseline.iter().chain(fault).any(|v| !v.is_finite())
    {
        return None;
    }
    let mut x = baseline.to_vec();
    let mut y = fault.to_vec();
    x.sort_unstable_by(f64::total_cmp);
    y.sort_unstable_by(f64::total_cmp);
    let pairs = x.len() as u64 * y.len() as u64;
    let lower = select_difference(&x, &y, pairs.div_ceil(2), direct_limit);
    if pairs % 2 == 1 {
        return Some(lower);
    }
    // The next one up: `lower` again if it repeats, else the smallest entry above it.
    let mut counts = vec![0usize; x.len()];
    let at_or_below = count_rows(&x, &y, lower, true, &mut counts);
    let upper = if at_or_below > pairs / 2 {
        lower
    } else {
        x.iter()
            .zip(&counts)
            .filter_map(|(xi, c)| y.get(*c).map(|yj| yj - xi))
            .min_by(f64::total_cmp)
            .unwrap_or(lower)
    };
    Some((lower + upper) / 2.0)
}

/// How large a shift must be to matter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Tolerance {
    /// In the signal's unit.
    Absolute(f64),
    /// As a fraction of the baseline median's magnitude (0.1 for 10%).
    Relative(f64),
}

/// Result of comparing baseline and fault samples of a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Comparison {
    /// Too few samples; `reason` says how many.
    NotComputed {
        /// E.g. "only 7 baseline samples, at least 10 are needed".
        reason: String,
        /// Non-finite baseline samples that were dropped.
        dropped_baseline: usize,
        /// Non-finite fault samples that were dropped.
        dropped_fault: usize,
    },
    /// The test ran.
    Computed {
        /// `U` of the baseline sample.
        u: f64,
        /// Standardized statistic.
        z: f64,
        /// Two-sided p-value.
        p_value: f64,
        /// Hodges–Lehmann shift, fault minus baseline.
        shift: f64,
        /// `p < 0.02` and `|shift|` beyond tolerance.
        significant: bool,
        /// Finite baseline samples used.
        n_baseline: usize,
        /// Finite fault samples used.
        n_fault: usize,
        /// Non-finite baseline samples that were dropped.
        dropped_baseline: usize,
        /// Non-finite fault samples that were dropped.
        dropped_fault: usize,
    },
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Compares the per-step samples of the baseline and of the fault window:
/// Mann–Whitney U and Hodges–Lehmann shift, significant when `p < 0.02` and
/// `|shift|` is beyond `tolerance` (strictly). Non-finite samples are
/// dropped and counted; fewer than 10 on either side: not computed.
pub fn compare_samples(baseline: &[f64], fault: &[f64], tolerance: Tolerance) -> Comparison {
    let mut base: Vec<f64> = baseline.iter().copied().filter(|v| v.is_finite()).collect();
    let exp: Vec<f64> = fault.iter().copied().filter(|v| v.is_finite()).collect();
    let dropped_baseline = baseline.len() - base.len();
    let dropped_fault = fault.len() - exp.len();
    let short = [("baseline", base.len()), ("fault", exp.len())]
        .into_iter()
        .find(|(_, n)| *n < MIN_SAMPLES);
    if let Some((side, n)) = short {
        return Comparison::NotComputed {
            reason: format!("only {n} {side} samples, at least {MIN_SAMPLES} are needed"),
            dropped_baseline,
            dropped_fault,
        };
    }
    let (Some(test), Some(shift)) = (
        mann_whitney_u(&base, &exp),
        hodges_lehmann_shift(&base, &exp),
    ) else {
        // Unreachable with ≥ 10 finite samples per side; stated rather than assumed.
        return Comparison::NotComputed {
            reason: "the samples could not be compared".to_owned(),
            dropped_baseline,
            dropped_fault,
        };
    };
    let allowed = match tolerance {
        Tolerance::Absolute(a) => a.abs(),
        Tolerance::Relative(r) => {
            base.sort_unstable_by(f64::total_cmp);
            r.abs() * median_of_sorted(&base).abs()
        }
    };
    Comparison::Computed {
        u: test.u,
        z: test.z,
        p_value: test.p_value,
        shift,
        significant: test.p_value < SIGNIFICANCE_LEVEL && shift.abs() > allowed,
        n_baseline: base.len(),
        n_fault: exp.len(),
        dropped_baseline,
        dropped_fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs().max(1e-300)
    }

    #[test]
    fn erfc_matches_reference_values_across_both_methods() {
        // Reference values from scipy.special.erfc 1.17.1.
        let table = [
            (0.1, 0.8875370839817152),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028516),
            (1.5, 0.03389485352468927),
            (1.99, 0.004888586800383002),
            (2.0, 0.004677734981047266),
            (2.5, 0.00040695201744495886),
            (3.0, 2.2090496998585445e-05),
            (5.0, 1.5374597944280347e-12),
            (10.0, 2.0884875837625446e-45),
            (26.0, 5.663192408856145e-296),
            (-1.0, 1.8427007929497148),
            (0.0, 1.0),
        ];
        for (x, expected) in table {
            assert!(
                close(erfc(x), expected, 1e-13),
                "erfc({x}) = {} ≠ {expected}",
                erfc(x)
            );
        }
        assert_eq!(erfc(30.0), 0.0);
        assert!(erfc(f64::NAN).is_nan());
    }

    #[test]
    fn mann_whitney_matches_scipy_on_known_samples() {
        // (x, y, U₁, p) from scipy.stats.mannwhitneyu(x, y, alternative='two-sided',
        // method='asymptotic', use_continuity=True), SciPy 1.17.1.
        let table: [(&[f64], &[f64], f64, f64); 5] = [
            // Textbook, by hand: sorted 11 12 16 17 19 20 22 24 29, x holds ranks
            // 3 (16), 5 (19), 7 (22), 8 (24), 9 (29): R₁ = 32, U₁ = 32 − 5·6/2 = 17.
            (
                &[19.0, 22.0, 16.0, 29.0, 24.0],
                &[20.0, 11.0, 17.0, 12.0],
                17.0,
                0.11134688653314041,
            ),
            (
                &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0],
                &[3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 8.0, 9.0, 9.0],
                17.5,
                0.005206707948297662,
            ),
            (
                &[
                    0.110, 0.112, 0.108, 0.115, 0.111, 0.109, 0.113, 0.110, 0.114, 0.112, 0.111,
                    0.110,
                ],
                &[
                    0.140, 0.180, 0.150, 0.111, 0.160, 0.175, 0.145, 0.190, 0.155, 0.170, 0.165,
                    0.150,
                ],
                6.0,
                0.00015071271654923607,
            ),
            (&[1.0, 1.0, 1.0], &[1.0, 1.0], 3.0, 1.0),
            (
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                &[1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5],
                45.0,
                0.7337299956962472,
            ),
        ];
        for (x, y, u, p) in table {
            let r = mann_whitney_u(x, y);
            assert_eq!(r.map(|r| r.u), Some(u), "U for {x:?}");
            assert!(
                r.is_some_and(|r| close(r.p_value, p, 1e-12)),
                "p {r:?} ≠ {p}"
            );
        }
        // Textbook z by hand: U = max(17, 3) = 17, μ = 10, σ = √(20/12 × 10) = 4.0825;
        // z = (17 − 10 − 0.5)/4.0825 = 1.59217.
        let z =
            mann_whitney_u(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).map(|r| r.z);
        assert!(
            z.is_some_and(|z| close(z, 6.5 / (200.0f64 / 12.0).sqrt(), 1e-14)),
            "{z:?}"
        );
    }

    #[test]
    fn mann_whitney_refuses_empty_or_non_finite_input() {
        assert_eq!(mann_whitney_u(&[], &[1.0]), None);
        assert_eq!(mann_whitney_u(&[1.0, f64::NAN], &[1.0]), None);
    }

    #[test]
    fn hodges_lehmann_matches_the_median_of_pairwise_differences() {
        // Medians of y − x over all pairs, from numpy.median(numpy.subtract.outer(y, x)).
        let table: [(&[f64], &[f64], f64); 4] = [
            (
                &[19.0, 22.0, 16.0, 29.0, 24.0],
                &[20.0, 11.0, 17.0, 12.0],
                -7.0,
            ),
            (
                &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0],
                &[3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 8.0, 9.0, 9.0],
                3.0,
            ),
            (
                &[
                    0.110, 0.112, 0.108, 0.115, 0.111, 0.109, 0.113, 0.110, 0.114, 0.112, 0.111,
                    0.110,
                ],
                &[
                    0.140, 0.180, 0.150, 0.111, 0.160, 0.175, 0.145, 0.190, 0.155, 0.170, 0.165,
                    0.150,
                ],
                0.046,
            ),
            (&[1.0], &[3.0], 2.0),
        ];
        for (x, y, shift) in table {
            let hl = hodges_lehmann_shift(x, y);
            assert!(
                hl.is_some_and(|h| close(h, shift, 1e-12)),
                "{hl:?} ≠ {shift}"
            );
        }
        assert_eq!(hodges_lehmann_shift(&[], &[1.0]), None);
    }

    #[test]
    fn hodges_lehmann_selects_exactly_on_inputs_too_large_for_the_direct_path() {
        // 1000 × 1000 = 10⁶ pairs (above the direct threshold of 65 536):
        // x = 0..999, y = x + 0.5: differences j − i + 0.5, symmetric around
        // 0.5, so the median is exactly 0.5. With y = 3x (0, 3, …, 2997) the
        // differences 3j − i have median found by brute force below.
        let x: Vec<f64> = (0..1000).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| v + 0.5).collect();
        assert_eq!(hodges_lehmann_shift(&x, &y), Some(0.5));
        let y3: Vec<f64> = x.iter().map(|v| 3.0 * v).collect();
        let mut all: Vec<f64> = y3
            .iter()
            .flat_map(|b| x.iter().map(move |a| b - a))
            .collect();
        all.sort_unstable_by(f64::total_cmp);
        let brute = (all[all.len() / 2 - 1] + all[all.len() / 2]) / 2.0;
        assert_eq!(hodges_lehmann_shift(&x, &y3), Some(brute));
    }

    #[test]
    fn relative_change_states_why_it_is_undefined() {
        assert_eq!(relative_change(100.0, 130.0), Measure::Value(0.3));
        assert_eq!(relative_change(200.0, 150.0), Measure::Value(-0.25));
        assert_eq!(relative_change(-10.0, -5.0), Measure::Value(0.5));
        assert_eq!(
            relative_change(0.0, 0.0).reason(),
            Some("baseline value is 0: a relative change is undefined")
        );
        assert_eq!(
            relative_change(f64::NAN, 1.0).reason(),
            Some("baseline value NaN is not finite")
        );
        assert_eq!(
            relative_change(1.0, f64::INFINITY).reason(),
            Some("experiment value inf is not finite")
        );
    }

    #[test]
    fn comparisons_need_ten_finite_samples_per_side() {
        let nine: Vec<f64> = (0..9)
            .map(f64::from)
            .chain([f64::NAN, f64::INFINITY])
            .collect();
        let ten: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(
            compare_samples(&nine, &ten, Tolerance::Absolute(0.0)),
            Comparison::NotComputed {
                reason: "only 9 baseline samples, at least 10 are needed".to_owned(),
                dropped_baseline: 2,
                dropped_fault: 0,
            }
        );
        assert_eq!(
            compare_samples(&ten, &ten[..3], Tolerance::Absolute(0.0)),
            Comparison::NotComputed {
                reason: "only 3 fault samples, at least 10 are needed".to_owned(),
                dropped_baseline: 0,
                dropped_fault: 0,
            }
        );
    }

    #[test]
    fn a_shift_is_significant_only_when_p_is_small_and_the_shift_beyond_tolerance() {
        // The latency samples above: p = 0.000150712…, shift 0.046 (46ms).
        let base = [
            0.110,
            0.112,
            0.108,
            0.115,
            0.111,
            0.109,
            0.113,
            0.110,
            0.114,
            0.112,
            0.111,
            0.110,
            f64::NAN,
        ];
        let fault = [
            0.140, 0.180, 0.150, 0.111, 0.160, 0.175, 0.145, 0.190, 0.155, 0.170, 0.165, 0.150,
        ];
        let significant = |tolerance| match compare_samples(&base, &fault, tolerance) {
            Comparison::Computed {
                significant,
                p_value,
                shift,
                n_baseline,
                dropped_baseline,
                ..
            } => {
                assert!(close(p_value, 0.00015071271654923607, 1e-12));
                assert!(close(shift, 0.046, 1e-12));
                assert_eq!((n_baseline, dropped_baseline), (12, 1));
                Some(significant)
            }
            Comparison::NotComputed { .. } => None,
        };
        assert_eq!(significant(Tolerance::Absolute(0.01)), Some(true));
        assert_eq!(significant(Tolerance::Absolute(0.05)), Some(false));
        // Baseline median 0.111: 10% of it is 0.0111 < 0.046; 50% is 0.0555 > 0.046.
        assert_eq!(significant(Tolerance::Relative(0.1)), Some(true));
        assert_eq!(significant(Tolerance::Relative(0.5)), Some(false));
        // Overlapping samples: p = 0.7337 ≥ 0.02, not significant whatever the tolerance.
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| v + 0.5).collect();
        assert!(matches!(
            compare_samples(&x, &y, Tolerance::Absolute(0.0)),
            Comparison::Computed {
                significant: false,
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn mann_whitney_p_is_a_probability_and_symmetric_in_its_sides(
            x in proptest::collection::vec(-50i32..50, 1..40),
            y in proptest::collection::vec(-50i32..50, 1..40),
        ) {
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let y: Vec<f64> = y.into_iter().map(f64::from).collect();
            let a = mann_whitney_u(&x, &y);
            let b = mann_whitney_u(&y, &x);
            prop_assert!(a.is_some() && b.is_some());
            if let (Some(a), Some(b)) = (a, b) {
                prop_assert!((0.0..=1.0).contains(&a.p_value));
                prop_assert_eq!(a.p_value, b.p_value);
                prop_assert_eq!(a.u + b.u, (x.len() * y.len()) as f64);
            }
        }

        #[test]
        fn hodges_lehmann_of_a_shifted_copy_is_the_shift(
            x in proptest::collection::vec(-1000i32..1000, 1..60),
            c in -500i32..500,
        ) {
            let xs: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
            let ys: Vec<f64> = x.iter().map(|v| f64::from(*v + c)).collect();
            prop_assert_eq!(hodges_lehmann_shift(&xs, &ys), Some(f64::from(c)));
        }

        #[test]
        fn hodges_lehmann_equals_brute_force(
            x in proptest::collection::vec(-100i32..100, 1..50),
            y in proptest::collection::vec(-100i32..100, 1..50),
        ) {
            let xs: Vec<f64> = x.iter().map(|v| f64::from(*v) / 4.0).collect();
            let ys: Vec<f64> = y.iter().map(|v| f64::from(*v) / 8.0).collect();
            let mut all: Vec<f64> = ys.iter().flat_map(|b| xs.iter().map(move |a| b - a)).collect();
            all.sort_unstable_by(f64::total_cmp);
            let n = all.len();
            let median = if n % 2 == 1 { all[n / 2] } else { (all[n / 2 - 1] + all[n / 2]) / 2.0 };
            prop_assert_eq!(hodges_lehmann_shift(&xs, &ys), Some(median));
            // The same through the selection rounds (direct path only at the end).
            prop_assert_eq!(hodges_lehmann_with(&xs, &ys, 0), Some(median));
        }
    }
}
