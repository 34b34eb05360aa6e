//! SLO spec formats, defaults and validation. No network I/O.
