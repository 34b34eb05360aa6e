//! verdict's integration tests: a single test binary with one module per
//! area, so they share one build and the real-Prometheus harness.

mod evaluate_test;
mod generate_test;
mod harness;
mod harness_test;
mod report_test;
mod spec_test;
