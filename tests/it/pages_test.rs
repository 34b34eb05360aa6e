//! The server's HTML pages in headless Chromium: the report page of a
//! really evaluated experiment and the experiments list, opened through
//! the token-once-then-cookie flow, checked in the browser's own DOM
//! (verdict title, one chart per SLO, no broken images, no sideways
//! scrolling on a phone) and screenshotted at desktop and phone widths
//! (kept in `$CARGO_TARGET_TMPDIR/pages-screens`).

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use verdict::store::Backend;

use crate::harness::PromServer;
use crate::report_api_test::{FE, FE2, FS, FS2, completed_run, engine, scenario};
use crate::report_test::{check_result, chromium, read_png, run_chromium};
use crate::support::app::spawn_app;
use crate::support::db::TestDb;

/// The check page, served on the same origin as the pages (through the
/// proxy below): frames the page at desktop and phone width and writes
/// what it finds as JSON into `#result`.
const CHECK_PAGE: &str = r#"<!doctype html>
<html><body>
<pre id="result">pending</pre>
<iframe id="desktop" src="PAGE" style="width:1280px;height:1600px;border:0"></iframe>
<iframe id="phone" src="PAGE" style="width:390px;height:1600px;border:0"></iframe>
<script>
function inspect(frame) {
  return new Promise(resolve => {
    const go = async () => {
      const d = frame.contentDocument;
      const imgs = Array.from(d.images);
      await Promise.all(imgs.map(i => i.decode().then(() => true, () => false)));
      const ok = i => i.complete && i.naturalWidth > 0;
      const title = d.getElementById('verdict-title');
      resolve({
        url: frame.contentWindow.location.pathname + frame.contentWindow.location.search,
        title: title ? title.textContent.replace(/\s+/g, ' ').trim() : null,
        h1: (d.querySelector('h1') || {}).textContent || null,
        slos: Array.from(d.querySelectorAll('article.slo')).map(a => ({
          id: a.dataset.slo,
          charts: a.querySelectorAll('figure.chart img').length,
          loaded: Array.from(a.querySelectorAll('figure.chart img')).filter(ok).length
        })),
        rows: d.querySelectorAll('tbody tr').length,
        badges: Array.from(d.querySelectorAll('td .pill')).map(p => p.textContent),
        trend: !!d.getElementById('trend'),
        images: imgs.length,
        broken: imgs.filter(i => !ok(i)).map(i => i.alt),
        overflow: d.documentElement.scrollWidth - d.documentElement.clientWidth
      });
    };
    if (frame.contentDocument && frame.contentDocument.readyState === 'complete'
        && frame.contentWindow.location.href !== 'about:blank') go();
    else frame.addEventListener('load', go);
  });
}
window.addEventListener('load', async () => {
  const [desktop, phone] = await Promise.all([
    inspect(document.getElementById('desktop')),
    inspect(document.getElementById('phone'))
  ]);
  document.getElementById('result').textContent = JSON.stringify({ desktop, phone });
});
</script>
</body></html>
"#;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    check_page: String,
    http: reqwest::Client,
}

/// Serves `/check.html` and forwards every other GET (query, cookie and
/// all) to the verdict server, so the check page and the pages share an
/// origin.
async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    if path == "/check.html" {
        return (
            [("content-type", "text/html; charset=utf-8")],
            p.check_page.clone(),
        )
            .into_response();
    }
    let mut upstream = p.http.get(format!("{}{path}", p.upstream));
    if let Some(cookie) = req.headers().get("cookie") {
        upstream = upstream.header("cookie", cookie.clone());
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = answer.headers().clone();
    let body = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for name in [
        "content-type",
        "set-cookie",
        "location",
        "content-security-policy",
    ] {
        if let Some(v) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

async fn start_proxy(upstream: &str, check_page: String) -> (String, tokio::task::JoinHandle<()>) {
    let proxy = Proxy {
        upstream: upstream.to_owned(),
        check_page,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
    };
    let router = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, task)
}

async fn check_in_chromium(base: &str) -> serde_json::Value {
    let dom = run_chromium(&[
        "--virtual-time-budget=20000",
        "--window-size=1700,1700",
        "--dump-dom",
        &format!("{base}/check.html"),
    ])
    .await;
    check_result(&dom)
}

async fn screenshots(url: &str, prefix: &str) {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages-screens");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    for (name, size, width) in [("desktop", "1280,3200", 1280), ("phone", "390,1600", 390)] {
        let path = shots.join(format!("{prefix}-{name}.png"));
        let _ = std::fs::remove_file(&path);
        run_chromium(&[
            "--virtual-time-budget=10000",
            &format!("--screenshot={}", path.display()),
            &format!("--window-size={size}"),
            url,
        ])
        .await;
        let png = read_png(&path);
        assert_eq!(png.0, width, "{prefix}-{name} width");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_page_and_the_list_render_in_chromium_on_a_desktop_and_a_phone() {
    let _ = chromium(); // fail first, and clearly, without it
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let db = TestDb::create(Backend::Sqlite).await;
    let app = spawn_app(&db, prom.base_url(), engine).await;
    let _first = completed_run(&app, "kill one checkout pod", FS, FE).await;
    let id = completed_run(&app, "kill one checkout pod", FS2, FE2).await;

    // The report page.
    let page = format!("/experiments/{id}?token={}", app.viewer);
    let (base, proxy) = start_proxy(&app.base, CHECK_PAGE.replace("PAGE", &page)).await;
    let result = check_in_chromium(&base).await;
    for (width, view) in [("desktop", &result["desktop"]), ("phone", &result["phone"])] {
        // The token went into the cookie and out of the URL.
        assert_eq!(view["url"], format!("/experiments/{id}"), "{width}: {view}");
        assert_eq!(
            view["title"], "PASS kill one checkout pod",
            "{width}: {view}"
        );
        assert_eq!(
            view["slos"],
            serde_json::json!([{"id": "checkout-availability", "charts": 1, "loaded": 1}]),
            "{width}"
        );
        assert_eq!(view["trend"], true, "{width}: the second run has a trend");
        // The SLO chart and the burn-rate chart.
        assert_eq!(view["images"], 2, "{width}: {view}");
        assert_eq!(view["broken"], serde_json::json!([]), "{width}");
        assert_eq!(view["overflow"], 0, "{width}: the page scrolls sideways");
    }
    proxy.abort();

    // The list page.
    let list = format!("/experiments?token={}", app.viewer);
    let (base, proxy) = start_proxy(&app.base, CHECK_PAGE.replace("PAGE", &list)).await;
    let result = check_in_chromium(&base).await;
    for (width, view) in [("desktop", &result["desktop"]), ("phone", &result["phone"])] {
        assert_eq!(view["url"], "/experiments", "{width}: {view}");
        assert_eq!(view["h1"], "Experiments", "{width}: {view}");
        assert_eq!(view["rows"], 2, "{width}: {view}");
        assert_eq!(
            view["badges"],
            serde_json::json!(["PASS", "PASS"]),
            "{width}"
        );
        assert_eq!(view["broken"], serde_json::json!([]), "{width}");
        assert_eq!(view["overflow"], 0, "{width}: the list scrolls sideways");
    }

    // Screenshots, for people.
    screenshots(&format!("{base}{page}"), "report").await;
    screenshots(&format!("{base}{list}"), "list").await;
    proxy.abort();
    app.stop().await;
}
