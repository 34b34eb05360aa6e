//! The real-Prometheus test harness shared by every integration test.
//!
//! A test describes history as a [`Scenario`] (traffic, error ratio, latency
//! histograms, gauges, `ALERTS`, counter resets, scrape gaps at known times),
//! then [`PromServer::start`] writes it as OpenMetrics text, backfills it
//! with `promtool tsdb create-blocks-from openmetrics` into a fresh temp dir
//! and runs `prometheus` over it on a free loopback port. Every expected
//! number of a query is therefore known exactly.
//!
//! Owns: scenarios (`scenario`), locating the binaries (`binary`) and the
//! server's lifecycle (`server`). Must not: skip when Prometheus is missing
//! (that is an error with the install command), share state between servers
//! (each has its own temp dir and port, so tests run in parallel), or
//! outlive its test (the process is killed and reaped, the dir removed, on drop).
//!
//! ```ignore
//! let fault = Steps::new(0.0).at(FAULT_START, 0.2).at(FAULT_END, 0.0);
//! let scenario = Scenario::new(JAN_1_2026, JAN_1_2026 + 7200).traffic("checkout", 10.0, fault);
//! let prom = PromServer::start(&scenario).await?; // ~0.2s for 2h of a few series
//! let errors = prom
//!     .query_value(r#"sum(increase(http_requests_total{code=~"5.."}[2m]))"#, FAULT_END)
//!     .await?; // exactly 240: see the extrapolation note in harness_test.rs
//! ```
//!
//! Exact answers: query at sample times (multiples of the scrape interval
//! from the start) with windows that are multiples of it; Prometheus then
//! does not extrapolate. Backfilled series have no staleness markers, so an
//! instant query sees a series up to 5m (the lookback delta) past its last
//! sample.

// Helpers for every integration test: not each one is used by each test.
#![allow(dead_code)]

mod binary;
mod scenario;
mod server;

use std::fmt;

pub use binary::{Binaries, default_search_path, find_binary};
pub use scenario::{
    Counter, Gauge, Histogram, JAN_1_2026, Labels, Observations, OpenMetrics, Scenario,
    ScenarioError, Steps,
};
pub use server::{PromServer, Startup};

/// Why the harness could not give a test its Prometheus, or a query failed.
#[derive(thiserror::Error)]
pub enum HarnessError {
    /// `prometheus` or `promtool` is not installed where we looked.
    #[error(
        "{name} not found: run `make test`, which installs it, or `apt-get install prometheus` (searched {searched})"
    )]
    BinaryNotFound { name: String, searched: String },
    /// The scenario is malformed.
    #[error("invalid scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// A file or process operation of the harness failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// promtool rejected the OpenMetrics text.
    #[error(
        "`promtool tsdb create-blocks-from openmetrics` failed on {input} ({status}):\n{output}"
    )]
    Promtool {
        input: String,
        status: String,
        output: String,
    },
    /// The backfilled TSDB does not hold what the scenario describes.
    #[error("backfill of {input} is incomplete: {what}")]
    Backfill { input: String, what: String },
    /// prometheus did not become ready (its stderr tail is included).
    #[error(
        "prometheus at {base_url} did not start: {reason}\n--- last lines of its stderr ---\n{tail}"
    )]
    Startup {
        base_url: String,
        reason: String,
        tail: String,
    },
    /// An HTTP query to the test server failed or returned an error.
    #[error("query {query:?} failed: {reason}")]
    Query { query: String, reason: String },
}

/// Same as `Display`, so a test returning `Result<(), HarnessError>` or
/// calling `expect` prints the readable message (with real line breaks).
impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
