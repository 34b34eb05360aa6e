//! verdict's integration tests: a single test binary with one module per
//! area, so they share one build and the real-Prometheus harness.

mod alertmanager_test;
mod dashboards_test;
mod deploy;
mod email_test;
mod evaluate_test;
mod generate_test;
mod harness;
mod harness_test;
mod live;
mod notify_outbox_test;
mod notify_webhook_test;
mod pages_test;
mod report_api_test;
mod report_input_test;
mod report_test;
mod run_test;
mod server_api_test;
mod server_auth_test;
mod server_engine_test;
mod server_scheduler_test;
mod server_store_test;
mod spec_test;
mod support;
