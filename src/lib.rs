//! verdict: turns Prometheus metrics into reliability verdicts.
//!
//! The library does the work; `src/main.rs` only parses the command line and
//! calls into it. See ARCHITECTURE.md for the module map.

pub mod api;
pub mod chart;
pub mod cli;
pub mod config;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod generate;
pub mod metrics;
pub mod notify;
pub mod prom;
pub mod report;
pub mod scheduler;
pub mod spec;
pub mod store;
