//! Shared helpers of the server tests: a fresh database per test on either
//! backend (`db`), an in-process server (`app`), a deterministic evaluator
//! over the real Prometheus harness (`evaluator`), and the macro that runs
//! one test body on both backends.

// Helpers for several test modules: not each one uses each helper.
#![allow(dead_code)]

pub mod app;
pub mod db;
pub mod evaluator;

/// Runs each named `async fn(Backend)` as two tests, `<name>::sqlite` and
/// `<name>::postgres`: the same body on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(verdict::store::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(verdict::store::Backend::Postgres).await
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;
