//! SLO spec formats, defaults and validation. No network I/O.
pub mod check;
pub mod decode;
pub mod duration;
pub mod error;
pub mod model;
pub mod openslo;
pub mod promql;
pub mod pyrra;
pub mod yaml;
