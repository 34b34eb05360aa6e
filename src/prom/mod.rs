//! Prometheus HTTP API client. Knows nothing about SLOs.
