//! The server's HTML pages: `/experiments` (a filterable, paginated list)
//! and `/experiments/{id}` (the experiment's report page).
//!
//! Authentication: browsers do not send bearer tokens, so a page accepts
//! a viewer token once as `?token=`, answers with a redirect to the same
//! URL without it and sets it in an `HttpOnly; SameSite=Strict` cookie
//! (`verdict_token`, `Path=/`, 12 hours) that later page requests send.
//! An `Authorization: Bearer` header works too. Without a valid token a
//! page is a 401 HTML page with a form asking for one. The cookie is
//! honoured by the pages only, never by `/api/v1` (no CSRF surface on the
//! API). Every value from the database is HTML-escaped.
//!
//! Must not: render reports itself (that is [`super::reports`] and
//! `report::html`) or write anything.

use std::fmt::Write as _;
use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AppState;
use super::auth::{Principal, require};
use super::error::ApiError;
use super::experiments::{DEFAULT_PAGE, MAX_PAGE};
use super::reports::{ReportFormat, load_report, render, report_extras, request_origin};
use crate::report::templates::escape_html;
use crate::store::{ExperimentWithVerdict, ListFilter, Role, Status, VerdictOutcome};

/// The cookie the pages keep the token in.
pub const TOKEN_COOKIE: &str = "verdict_token";
/// Lifetime of that cookie, seconds.
pub const COOKIE_MAX_AGE: u64 = 12 * 3600;

const STYLE: &str = r#"
:root { --ink:#1f2328; --muted:#59636e; --line:#d8dee4; --soft:#f6f8fa;
  --pass:#1a7f37; --pass-bg:#dafbe1; --warn:#9a6700; --warn-bg:#fff8c5;
  --inconclusive:#8250df; --inconclusive-bg:#fbefff; --fail:#cf222e; --fail-bg:#ffebe9; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:var(--soft);
  font:15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
a { color:#0969da; }
.wrap { max-width:1080px; margin:0 auto; padding:0 24px; }
header { background:#fff; border-bottom:1px solid var(--line); padding:20px 0 16px; }
h1 { margin:0 0 4px; font-size:26px; }
.muted { color:var(--muted); }
form.filters { display:flex; flex-wrap:wrap; gap:8px 12px; align-items:flex-end; margin:16px 0; }
form.filters > a { padding-bottom:6px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
form.filters input, form.filters select { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; background:#fff; min-width:9em; }
button { font:inherit; padding:5px 14px; border-radius:6px; border:1px solid #1f883d; background:#1f883d; color:#fff; cursor:pointer; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
td.name a { font-weight:600; overflow-wrap:anywhere; }
.pill { display:inline-block; border-radius:999px; padding:1px 10px; font-size:13px; font-weight:600; border:1px solid transparent; white-space:nowrap; }
.pill-pass { color:var(--pass); background:var(--pass-bg); border-color:var(--pass); }
.pill-warn { color:var(--warn); background:var(--warn-bg); border-color:var(--warn); }
.pill-inconclusive { color:var(--inconclusive); background:var(--inconclusive-bg); border-color:var(--inconclusive); }
.pill-fail { color:var(--fail); background:var(--fail-bg); border-color:var(--fail); }
.pill-none { color:var(--muted); background:#fff; border-color:var(--line); }
.pager { margin:16px 0 32px; display:flex; gap:16px; }
.empty { padding:24px; text-align:center; color:var(--muted); background:#fff; border:1px solid var(--line); border-radius:8px; }
.box { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 24px; margin:32px 0; }
.box input { font:inherit; padding:5px 8px; border:1px solid var(--line); border-radius:6px; width:min(100%, 34em); }
@media (max-width: 720px) {
  .wrap { padding:0 12px; }
  table, tbody, tr, td { display:block; width:100%; }
  thead { display:none; }
  tr { border-bottom:1px solid var(--line); padding:8px 0; }
  td { border:0; padding:2px 12px; }
  td[data-label]::before { content:attr(data-label) ": "; color:var(--muted); font-size:12px; text-transform:uppercase; }
}
"#;

/// A whole page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · verdict</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape_html(title)
    )
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'",
        ),
    );
    r
}

/// An error as an HTML page with the problem's status.
fn error_page(e: &ApiError) -> Response {
    let p = e.problem();
    let mut body = format!(
        "<header><div class=\"wrap\"><h1>{}</h1><div class=\"muted\">{} {}</div></div></header>\n\
         <div class=\"wrap\"><div class=\"box\"><p>{}</p>",
        escape_html(&p.title),
        p.status,
        escape_html(&p.problem_type),
        escape_html(&p.detail)
    );
    if matches!(e, ApiError::Unauthorized(_)) {
        body.push_str(
            "<form method=\"get\"><p><label>Viewer token<br>\
             <input type=\"password\" name=\"token\" autocomplete=\"off\" placeholder=\"vdt_…\"></label></p>\
             <p><button type=\"submit\">Open</button></p>\
             <p class=\"muted\">Create one with <code>verdict token create --role viewer</code>. \
             It is kept in an HttpOnly cookie for 12 hours.</p></form>",
        );
    }
    body.push_str("<p><a href=\"/experiments\">All experiments</a></p></div></div>");
    html_response(e.status(), page(&p.title, &body))
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .and_then(|q| reqwest::Url::parse(&format!("http://page/?{q}")).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// `application/x-www-form-urlencoded` text of `pairs`.
fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    match reqwest::Url::parse("http://page/") {
        Ok(mut u) => {
            u.query_pairs_mut().extend_pairs(pairs);
            u.query().unwrap_or("").to_owned()
        }
        Err(_) => String::new(),
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == TOKEN_COOKIE)
        .map(|(_, v)| v.trim().to_owned())
}

/// Checks `token` for the viewer role as if it came as a bearer header.
async fn check_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ApiError::Unauthorized("the token is unknown or revoked"))?;
    headers.insert(header::AUTHORIZATION, value);
    require(state, &headers, Role::Viewer).await
}

/// What a page request may do: go on, or answer with this response
/// (the redirect that sets the cookie, or an error page).
enum Gate {
    Open,
    Answer(Response),
}

async fn gate(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Gate {
    let pairs = query_pairs(uri.query());
    if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "token") {
        let token = token.trim().to_owned();
        let token = token.as_str();
        let well_formed = !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let checked = if well_formed {
            check_token(state, token).await
        } else {
            Err(ApiError::Unauthorized("the token is unknown or revoked"))
        };
        return Gate::Answer(match checked {
            Err(e) => error_page(&e),
            Ok(_) => {
                let rest: Vec<(String, String)> = pairs
                    .iter()
                    .filter(|(k, _)| k != "token")
                    .cloned()
                    .collect();
                let mut location = uri.path().to_owned();
                if !rest.is_empty() {
                    location.push('?');
                    location.push_str(&encode_query(rest));
                }
                let cookie = format!(
                    "{TOKEN_COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Strict"
                );
                let mut r = StatusCode::SEE_OTHER.into_response();
                let h = r.headers_mut();
                if let (Ok(loc), Ok(c)) = (
                    HeaderValue::from_str(&location),
                    HeaderValue::from_str(&cookie),
                ) {
                    h.insert(header::LOCATION, loc);
                    h.insert(header::SET_COOKIE, c);
                }
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
        });
    }
    let result = if headers.contains_key(header::AUTHORIZATION) {
        require(state, headers, Role::Viewer).await
    } else if let Some(token) = cookie_token(headers) {
        check_token(state, &token).await
    } else {
        Err(ApiError::Unauthorized(
            "this page needs a viewer token: open it once with ?token=<token>, or send Authorization: Bearer <token>",
        ))
    };
    match result {
        Ok(_) => Gate::Open,
        Err(e) => Gate::Answer(error_page(&e)),
    }
}

/// `GET /experiments/{id}`: the report page of one experiment.
pub async fn report_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Gate::Answer(r) = gate(&state, &headers, &uri).await {
        return r;
    }
    let result = async {
        let id = super::extract::parse_id("an experiment", &id)?;
        let stored = load_report(&state, id).await?;
        let extras = report_extras(&state, &stored, request_origin(&headers).as_deref()).await?;
        render(stored.report, extras, ReportFormat::Html).await
    }
    .await;
    match result {
        Ok(html) => html_response(StatusCode::OK, html),
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                tracing::error!(error = %cause, "report page failed");
            }
            error_page(&e)
        }
    }
}

/// The list page's filters, as given (kept as text to refill the form).
#[derive(Debug, Default)]
struct ListQuery {
    service: String,
    status: String,
    verdict: String,
    since: String,
    limit: String,
    cursor: String,
}

fn parse_list_query(query: Option<&str>) -> Result<(ListQuery, ListFilter), ApiError> {
    let mut q = ListQuery::default();
    for (k, v) in query_pairs(query) {
        let v = v.trim().to_owned();
        match k.as_str() {
            "service" => q.service = v,
            "status" => q.status = v,
            "verdict" => q.verdict = v,
            "since" => q.since = v,
            "limit" => q.limit = v,
            "cursor" => q.cursor = v,
            other => {
                return Err(ApiError::InvalidParameter(format!(
                    "unknown filter {:?}; filters: service, status, verdict, since, limit, cursor",
                    other.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    let status = (!q.status.is_empty())
        .then(|| Status::from_str(&q.status))
        .transpose()
        .map_err(|e| ApiError::InvalidParameter(format!("status: {e}")))?;
    let verdict = (!q.verdict.is_empty())
        .then(|| VerdictOutcome::from_str(&q.verdict))
        .transpose()
        .map_err(|e| ApiError::InvalidParameter(format!("verdict: {e}")))?;
    let since = (!q.since.is_empty())
        .then(|| DateTime::parse_from_rfc3339(&q.since).map(|t| t.with_timezone(&Utc)))
        .transpose()
        .map_err(|e| ApiError::InvalidParameter(format!("since is not an RFC 3339 time: {e}")))?;
    let limit = if q.limit.is_empty() {
        DEFAULT_PAGE
    } else {
        q.limit
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| {
                ApiError::InvalidParameter(format!("limit must be between 1 and {MAX_PAGE}"))
            })?
    };
    let before = (!q.cursor.is_empty())
        .then(|| Uuid::parse_str(&q.cursor))
        .transpose()
        .map_err(|_| ApiError::InvalidParameter("cursor is not a cursor this page made".into()))?;
    let filter = ListFilter {
        service: (!q.service.is_empty()).then(|| q.service.clone()),
        status,
        verdict,
        since,
        before,
        limit: limit + 1,
    };
    Ok((q, filter))
}

fn select(name: &str, current: &str, options: &[&str]) -> String {
    let mut s = format!("<select name=\"{name}\"><option value=\"\">any</option>");
    for o in options {
        let sel = if *o == current { " selected" } else { "" };
        let _ = write!(s, "<option{sel}>{}</option>", escape_html(o));
    }
    s.push_str("</select>");
    s
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}

fn row_html(x: &ExperimentWithVerdict) -> String {
    let e = &x.experiment;
    let (badge_class, badge) = match x.verdict {
        Some(v) => (v.as_str(), v.as_str().to_uppercase()),
        None => ("none", "—".to_owned()),
    };
    let report_link = if x.verdict.is_some() {
        format!("<a href=\"/experiments/{}\">report</a>", e.id)
    } else {
        String::new()
    };
    let mut links = vec![report_link];
    for l in &e.links.0 {
        if l.url.starts_with("http://") || l.url.starts_with("https://") {
            links.push(format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                escape_html(&l.url),
                escape_html(&l.name)
            ));
        }
    }
    links.retain(|l| !l.is_empty());
    let name = if x.verdict.is_some() {
        format!(
            "<a href=\"/experiments/{}\">{}</a>",
            e.id,
            escape_html(&e.name)
        )
    } else {
        escape_html(&e.name)
    };
    format!(
        "<tr><td class=\"name\">{name}</td><td data-label=\"service\">{}</td>\
         <td data-label=\"type\">{}</td><td data-label=\"status\">{}</td>\
         <td data-label=\"verdict\"><span class=\"pill pill-{badge_class}\">{badge}</span></td>\
         <td data-label=\"fault start\">{}</td><td data-label=\"links\">{}</td></tr>\n",
        escape_html(&e.service),
        escape_html(e.fault_type.as_str()),
        escape_html(e.status.as_str()),
        when(e.fault_start),
        if links.is_empty() {
            "—".to_owned()
        } else {
            links.join(" · ")
        }
    )
}

/// `GET /experiments`: experiments, newest first, with the API's filters.
pub async fn list_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    if let Gate::Answer(r) = gate(&state, &headers, &uri).await {
        return r;
    }
    let (q, filter) = match parse_list_query(uri.query()) {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let limit = filter.limit - 1;
    let mut rows = match state.store.list_experiments(&filter).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&ApiError::from(e)),
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));

    let mut body = String::from(
        "<header><div class=\"wrap\"><h1>Experiments</h1>\
         <div class=\"muted\">Chaos experiments and their verdicts, newest first.</div></div></header>\n<div class=\"wrap\">\n",
    );
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\">\
         <label>service<input name=\"service\" value=\"{}\"></label>\
         <label>status{}</label><label>verdict{}</label>\
         <label>since<input name=\"since\" value=\"{}\" placeholder=\"2026-01-01T00:00:00Z\"></label>\
         <button type=\"submit\">Filter</button> <a href=\"/experiments\">clear</a></form>",
        escape_html(&q.service),
        select(
            "status",
            &q.status,
            &[
                "scheduled",
                "running",
                "recovering",
                "evaluating",
                "completed",
                "aborted",
                "error"
            ]
        ),
        select(
            "verdict",
            &q.verdict,
            &["pass", "warn", "fail", "inconclusive"]
        ),
        escape_html(&q.since),
    );
    body.push('\n');
    if rows.is_empty() {
        body.push_str("<div class=\"empty\">No experiments match.</div>\n");
    } else {
        body.push_str(
            "<table><thead><tr><th>name</th><th>service</th><th>type</th><th>status</th>\
             <th>verdict</th><th>fault start</th><th>links</th></tr></thead><tbody>\n",
        );
        for x in &rows {
            body.push_str(&row_html(x));
        }
        body.push_str("</tbody></table>\n");
    }
    body.push_str("<div class=\"pager\">");
    if !q.cursor.is_empty() {
        body.push_str("<a href=\"/experiments\">« newest</a>");
    }
    if more && let Some(last) = rows.last() {
        let mut pairs: Vec<(&str, String)> = vec![];
        for (k, v) in [
            ("service", &q.service),
            ("status", &q.status),
            ("verdict", &q.verdict),
            ("since", &q.since),
            ("limit", &q.limit),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        pairs.push(("cursor", last.experiment.id.to_string()));
        let next = encode_query(pairs);
        let _ = write!(
            body,
            "<a rel=\"next\" href=\"/experiments?{}\">older »</a>",
            escape_html(&next)
        );
    }
    body.push_str("</div></div>");
    html_response(StatusCode::OK, page("Experiments", &body))
}
