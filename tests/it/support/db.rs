//! A fresh database per test: a SQLite file in a temp dir, or a new
//! Postgres database `verdict_test_<uuid>` on 127.0.0.1:5432 (user
//! postgres, trust auth; override with VERDICT_TEST_POSTGRES_URL), dropped
//! at the end even when the test panics.

use sqlx::Connection as _;
use uuid::Uuid;
use verdict::store::Backend;

/// The maintenance database used to create and drop test databases.
fn admin_url() -> String {
    std::env::var("VERDICT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates an empty database on `backend`. Postgres must be running:
    /// `make test` starts it (scripts/install-deps.sh).
    pub async fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("verdict-db-")
                    .tempdir()
                    .expect("creating a temp dir for SQLite");
                let url = format!("sqlite://{}", dir.path().join("verdict.db").display());
                TestDb {
                    backend,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("verdict_test_{}", Uuid::new_v4().simple());
                let admin = admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "cannot reach Postgres at {admin} ({e}); run `make test` (it starts or installs Postgres) or set VERDICT_TEST_POSTGRES_URL"
                    )
                });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
                let _ = conn.close().await;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                TestDb {
                    backend,
                    url: format!("{base}/{name}"),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
