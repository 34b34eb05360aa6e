//! verdict: turns Prometheus metrics into reliability verdicts.
//!
//! The library does the work; `src/main.rs` only parses the command line and
//! calls into it. See ARCHITECTURE.md for the module map.

pub mod api;
pub mod cli;
pub mod config;
pub mod eval;
pub mod metrics;
pub mod prom;
pub mod scheduler;
pub mod spec;
pub mod store;
