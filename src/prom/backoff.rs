//! Retry delays: exponential backoff with "equal jitter", and the small
//! random source behind the jitter. Pure arithmetic plus a clock-seeded
//! xorshift generator; it must not sleep or do I/O itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// No retry waits longer than this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The delay before retry number `retry` (1 for the first retry).
///
/// The nominal delay is `initial × 2^(retry−1)`, capped at [`BACKOFF_CAP`];
/// the returned delay lies in `[nominal / 2, nominal)`: half of it fixed, half
/// scaled by `unit` (a number in `[0, 1)`, clamped into that range), so that
/// clients failing together do not retry together.
pub fn backoff_delay(initial: Duration, retry: u32, unit: f64) -> Duration {
    let doublings = retry.saturating_sub(1).min(31);
    let nominal = initial.saturating_mul(1u32 << doublings).min(BACKOFF_CAP);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    nominal.mul_f64(0.5 + 0.5 * unit)
}

/// A xorshift64* generator: plenty for spreading retries, no dependency.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

/// Distinguishes generators created in the same clock tick.
static SEED_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Jitter {
    /// A generator with a fixed seed (tests use this to get repeatable values).
    pub fn from_seed(seed: u64) -> Self {
        let state = splitmix64(seed);
        Jitter {
            // xorshift never leaves the all-zero state
            state: if state == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                state
            },
        }
    }

    /// A generator seeded from the wall clock's nanoseconds and a process-wide
    /// counter, so concurrent requests get different sequences.
    pub fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let count = SEED_COUNTER.fetch_add(1, Ordering::Relaxed);
        Jitter::from_seed(nanos ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The next number, uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // top 53 bits → exactly representable in an f64, strictly below 1
        (out >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn delay_doubles_per_retry_from_the_initial_value() {
        // unit 0 gives exactly half the nominal delay
        assert_eq!(backoff_delay(MS(200), 1, 0.0), MS(100));
        assert_eq!(backoff_delay(MS(200), 2, 0.0), MS(200));
        assert_eq!(backoff_delay(MS(200), 3, 0.0), MS(400));
        assert_eq!(backoff_delay(MS(200), 4, 0.0), MS(800));
        // unit 0.5 gives three quarters of it
        assert_eq!(backoff_delay(MS(200), 1, 0.5), MS(150));
        assert_eq!(backoff_delay(MS(200), 3, 0.5), MS(600));
    }

    #[test]
    fn delay_is_capped_at_five_seconds() {
        // 200ms × 2^5 = 6.4s > 5s
        assert_eq!(backoff_delay(MS(200), 6, 0.0), MS(2500));
        assert_eq!(backoff_delay(MS(200), 6, 0.5), MS(3750));
        // huge retry numbers neither overflow nor exceed the cap
        assert_eq!(backoff_delay(MS(200), u32::MAX, 0.0), MS(2500));
        assert!(backoff_delay(Duration::MAX, 1, 0.999_999) < BACKOFF_CAP);
    }

    #[test]
    fn out_of_range_jitter_units_are_clamped() {
        assert_eq!(backoff_delay(MS(200), 1, -3.0), MS(100));
        assert_eq!(backoff_delay(MS(200), 1, f64::NAN), MS(100));
        assert_eq!(backoff_delay(MS(200), 1, 7.0), MS(200));
    }

    #[test]
    fn zero_initial_backoff_means_no_wait() {
        assert_eq!(backoff_delay(Duration::ZERO, 3, 0.7), Duration::ZERO);
    }

    #[test]
    fn jittered_delays_stay_within_half_and_full_nominal_delay() {
        for seed in 0..500u64 {
            let mut jitter = Jitter::from_seed(seed);
            for retry in 1..=8u32 {
                let nominal = MS(200).saturating_mul(1 << (retry - 1)).min(BACKOFF_CAP);
                let delay = backoff_delay(MS(200), retry, jitter.next_unit());
                assert!(
                    delay >= nominal / 2 && delay < nominal,
                    "seed {seed} retry {retry}: {delay:?} outside [{:?}, {nominal:?})",
                    nominal / 2
                );
            }
        }
    }

    #[test]
    fn jitter_units_are_in_unit_interval_and_spread_out() {
        let mut jitter = Jitter::from_seed(42);
        let n = 10_000;
        let mut sum = 0.0;
        let mut below_tenth = 0;
        for _ in 0..n {
            let u = jitter.next_unit();
            assert!((0.0..1.0).contains(&u), "{u} not in [0, 1)");
            sum += u;
            if u < 0.1 {
                below_tenth += 1;
            }
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        assert!(
            (800..1200).contains(&below_tenth),
            "{below_tenth} of {n} below 0.1"
        );
    }

    #[test]
    fn same_seed_repeats_and_different_seeds_differ() {
        let a: Vec<f64> = {
            let mut j = Jitter::from_seed(7);
            (0..5).map(|_| j.next_unit()).collect()
        };
        let b: Vec<f64> = {
            let mut j = Jitter::from_seed(7);
            (0..5).map(|_| j.next_unit()).collect()
        };
        let c: Vec<f64> = {
            let mut j = Jitter::from_seed(8);
            (0..5).map(|_| j.next_unit()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        // two clock-seeded generators created back to back still differ
        assert_ne!(
            Jitter::from_clock().next_unit(),
            Jitter::from_clock().next_unit()
        );
    }
}
