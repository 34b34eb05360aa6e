//! Authentication and roles, on SQLite and Postgres: every route in the
//! OpenAPI document needs a token except health and metrics; roles limit
//! what a token can do; tokens are stored only as hashes; revocation is
//! immediate; the router and the OpenAPI document list the same routes.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use verdict::api::auth::hash_token;
use verdict::cli::Cli;
use verdict::store::{Backend, Store};

use crate::support::app::{dead_url, spawn_app, spawn_app_with};
use crate::support::db::TestDb;
use crate::support::on_both_backends;

on_both_backends!(
    every_route_but_health_and_metrics_needs_a_token,
    roles_limit_what_a_token_can_do,
    tokens_are_stored_hashed_and_revocation_is_immediate,
    the_token_command_creates_lists_and_revokes_tokens,
);

fn engine() -> Arc<dyn verdict::scheduler::Evaluator> {
    Arc::new(crate::support::evaluator::NoEvaluation)
}

/// `(METHOD, path)` of every operation in an OpenAPI document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

async fn every_route_but_health_and_metrics_needs_a_token(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| engine()).await;
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    let ops = operations(&doc.json);
    assert_eq!(ops.len(), 21, "{ops:?}");
    let open: BTreeSet<&str> = ["/healthz", "/readyz", "/metrics"].into();
    let nil = uuid::Uuid::nil().to_string();
    for (method, path) in &ops {
        let concrete = path.replace("{id}", &nil);
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let body = (method == "POST").then(|| json!({}));
        for token in [
            None,
            Some("vdt_0000000000000000000000000000000000000000000000000000000000000000"),
        ] {
            let r = app.call(m.clone(), &concrete, token, body.as_ref()).await;
            if open.contains(path.as_str()) {
                assert_ne!(r.status, 401, "{method} {path} must be open: {}", r.text);
            } else {
                assert_eq!(
                    r.status, 401,
                    "{method} {path} without a valid token: {}",
                    r.text
                );
                assert_eq!(r.content_type, "application/problem+json");
                assert_eq!(r.json["type"], "/problems/unauthorized");
                assert_eq!(
                    r.headers
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok()),
                    Some("Bearer realm=\"verdict\"")
                );
                let expected = if token.is_some() {
                    "the token is unknown or revoked"
                } else {
                    "this route needs an `Authorization: Bearer <token>` header"
                };
                assert_eq!(r.json["detail"], expected, "{method} {path}");
            }
        }
    }
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (health.status, health.json.clone()),
        (200, json!({"status": "ok"}))
    );
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 503, "Prometheus is down: {}", ready.text);
    assert_eq!(ready.json["type"], "/problems/unavailable");
    app.stop().await;

    // /metrics can be made to need a token.
    let app = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| engine(),
        |c| {
            c.http.metrics_require_token = true;
        },
    )
    .await;
    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (401, Some("/problems/unauthorized"))
    );
    let r = app.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text
            .contains("# TYPE verdict_scheduler_queue_depth gauge"),
        "{}",
        r.text
    );
    app.stop().await;
}

async fn roles_limit_what_a_token_can_do(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| engine()).await;
    let create = json!({"name": "x", "target": {"service": "checkout"}, "type": "custom"});
    let forbidden = |r: &crate::support::app::Resp, required: &str, have: &str| {
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.json["type"], "/problems/forbidden");
        assert_eq!(
            r.json["detail"],
            format!("this needs the {required} role; the token has {have}")
        );
    };
    // viewer: read only
    let r = app
        .call(
            Method::POST,
            "/api/v1/experiments",
            Some(&app.viewer),
            Some(&create),
        )
        .await;
    forbidden(&r, "operator", "viewer");
    assert_eq!(app.get("/api/v1/experiments").await.status, 200);
    assert_eq!(app.get("/api/v1/slos").await.status, 200);
    // operator: experiments, not tokens or config
    let made = app
        .call(
            Method::POST,
            "/api/v1/experiments",
            Some(&app.operator),
            Some(&create),
        )
        .await;
    assert_eq!(made.status, 201);
    let id = made.json["id"].as_str().expect("id");
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/experiments/{id}/abort"),
            Some(&app.viewer),
            None,
        )
        .await;
    forbidden(&r, "operator", "viewer");
    for (m, path, body) in [
        (Method::GET, "/api/v1/tokens".to_owned(), None),
        (
            Method::POST,
            "/api/v1/tokens".to_owned(),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{}", uuid::Uuid::nil()),
            None,
        ),
        (Method::GET, "/api/v1/config".to_owned(), None),
    ] {
        let r = app.call(m, &path, Some(&app.operator), body.as_ref()).await;
        forbidden(&r, "admin", "operator");
    }
    // admin: everything
    let r = app
        .call(Method::GET, "/api/v1/config", Some(&app.admin), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["listen"], "127.0.0.1:0");
    assert_eq!(r.json["scheduler.lease"], "2s");
    let r = app
        .call(
            Method::POST,
            "/api/v1/experiments",
            Some(&app.admin),
            Some(&create),
        )
        .await;
    assert_eq!(r.status, 201);
    app.stop().await;
}

/// Every column of every `api_tokens` row as one string, read with SQL.
async fn token_table_text(store: &Store) -> Vec<String> {
    match store {
        Store::Sqlite(pool) => sqlx::query_scalar(
            "SELECT hex(id) || '|' || name || '|' || role || '|' || token_hash || '|' || \
             created_at || '|' || coalesce(revoked_at, '') FROM api_tokens",
        )
        .fetch_all(pool)
        .await
        .expect("read api_tokens"),
        Store::Postgres(pool) => sqlx::query_scalar("SELECT t::text FROM api_tokens t")
            .fetch_all(pool)
            .await
            .expect("read api_tokens"),
    }
}

async fn tokens_are_stored_hashed_and_revocation_is_immediate(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app(&db, &dead_url(), |_, _| engine()).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&app.admin),
            Some(&json!({"role": "operator", "name": "ci"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.json["token"]
        .as_str()
        .expect("the token, once")
        .to_owned();
    let token_id = r.json["id"].as_str().expect("id").to_owned();
    assert_eq!(r.json["role"], "operator");
    assert_eq!(r.json["name"], "ci");

    let rows = token_table_text(&app.store).await;
    assert_eq!(rows.len(), 4, "admin, operator, viewer of the test and ci");
    let secret = token.trim_start_matches("vdt_");
    for row in &rows {
        assert!(!row.contains(secret), "a token is stored in clear: {row}");
    }
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains(&hash_token(&token)))
            .count(),
        1
    );
    if let Backend::Sqlite = backend {
        // Not in the database file either (nor the WAL).
        let path = db.url.trim_start_matches("sqlite://");
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(secret), "token found in {file}");
            }
        }
    }

    let listed = app
        .call(Method::GET, "/api/v1/tokens", Some(&app.admin), None)
        .await;
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains(secret));
    assert!(
        listed
            .json
            .as_array()
            .expect("list")
            .iter()
            .all(|t| t.get("token").is_none())
    );

    assert_eq!(
        app.call(Method::GET, "/api/v1/experiments", Some(&token), None)
            .await
            .status,
        200
    );
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{token_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.json["revoked_at"].is_string());
    let r = app
        .call(Method::GET, "/api/v1/experiments", Some(&token), None)
        .await;
    assert_eq!(
        (r.status, r.json["detail"].as_str()),
        (401, Some("the token is unknown or revoked"))
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", uuid::Uuid::nil()),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (404, Some("/problems/not-found"))
    );
    app.stop().await;
}

/// Runs `verdict ARGS…` in-process; returns (exit code, stdout, stderr).
async fn verdict_cli(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        use clap::Parser as _;
        let cli = Cli::try_parse_from(std::iter::once("verdict".to_owned()).chain(args))
            .expect("valid command line");
        let verdict::cli::Command::Token(t) = cli.command else {
            panic!("a token command")
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = verdict::cli::token::run_with(&t, &mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    })
    .await
    .expect("the command runs")
}

async fn the_token_command_creates_lists_and_revokes_tokens(backend: Backend) {
    let db = TestDb::create(backend).await;
    let url = db.url.clone();
    let arg = |s: &str| s.to_owned();
    let (code, out, err) = verdict_cli(vec![
        arg("token"),
        arg("create"),
        arg("--role"),
        arg("operator"),
        arg("--name"),
        arg("pipeline"),
        arg("--database-url"),
        url.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_owned();
    assert!(token.starts_with("vdt_") && token.len() == 68, "{out}");
    assert!(
        err.starts_with("created operator token \"pipeline\" (id "),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with("it is shown only this once"),
        "{err}"
    );

    let (code, out, _) = verdict_cli(vec![
        arg("token"),
        arg("list"),
        arg("--json"),
        arg("--database-url"),
        url.clone(),
    ])
    .await;
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&out).expect("JSON list");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["name"], "pipeline");
    assert_eq!(listed[0]["role"], "operator");
    assert!(!out.contains(token.trim_start_matches("vdt_")));
    let id = listed[0]["id"].as_str().expect("id").to_owned();

    // The printed token works against a server on that database.
    let app = spawn_app_with(
        &db,
        &dead_url(),
        |_, _| engine(),
        |c| {
            c.http.auth_cache_ttl = std::time::Duration::ZERO;
        },
    )
    .await;
    assert_eq!(
        app.call(Method::GET, "/api/v1/experiments", Some(&token), None)
            .await
            .status,
        200
    );

    let (code, _, err) = verdict_cli(vec![
        arg("token"),
        arg("revoke"),
        id.clone(),
        arg("--database-url"),
        url.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        format!("revoked operator token \"pipeline\" (id {id})")
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/experiments", Some(&token), None)
            .await
            .status,
        401
    );
    let (code, _, err) = verdict_cli(vec![
        arg("token"),
        arg("revoke"),
        uuid::Uuid::nil().to_string(),
        arg("--database-url"),
        url,
    ])
    .await;
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "verdict token revoke: no token with id {}",
            uuid::Uuid::nil()
        )
    );
    app.stop().await;
}

/// The `.route("PATH", get(…).post(…))` calls of `src/api/mod.rs`, as
/// `(METHOD, PATH)`.
fn routes_in_router_source() -> BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs"))
        .expect("read src/api/mod.rs");
    let method = regex::Regex::new(r"\b(get|post|put|delete|patch)\(").expect("regex");
    let mut routes = BTreeSet::new();
    let mut rest = src.as_str();
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        // The call's text up to its closing parenthesis.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(j, _)| j)
            .expect("balanced .route( call");
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("a path literal").to_owned();
        for m in method.captures_iter(call) {
            routes.insert((m[1].to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_of_the_router() {
    use utoipa::OpenApi as _;
    let doc = serde_json::to_value(verdict::api::openapi::ApiDoc::openapi()).expect("json");
    let documented = operations(&doc);
    let mut routed = routes_in_router_source();
    // HTML pages for browsers are not API operations: not in the document.
    for page in ["/experiments", "/experiments/{id}"] {
        assert!(
            routed.remove(&("GET".to_owned(), page.to_owned())),
            "page {page} is routed"
        );
    }
    assert_eq!(routed.len(), 21, "{routed:?}");
    assert_eq!(documented, routed);
    // Every documented operation says how it is secured.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            assert!(
                op.get("security").is_some(),
                "{method} {path} has no security entry"
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
