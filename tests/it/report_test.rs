//! The HTML report of a real evaluation, opened in headless Chromium, and
//! the report options of `verdict evaluate` (`--html`, `--format html`,
//! `--templates`).
//!
//! The scenario is the one evaluate_test.rs measures exactly: checkout at
//! 10 req/s, 20% errors during a 2-minute fault that stop with it (TTR 1m,
//! against a 59s limit: fail), an alert firing 1m into the fault, a latency
//! histogram slowing down during the fault, and a CPU gauge.
//!
//! Chromium is required (`apt-get install -y chromium`, or
//! scripts/install-deps.sh); without it the test fails saying so. It runs
//! with a fresh profile, no network but 127.0.0.1, and is killed if it
//! takes longer than a minute. The screenshots are kept under
//! `$CARGO_TARGET_TMPDIR/report-screens/` for people to look at.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{Gauge, Histogram, JAN_1_2026, Observations, PromServer, Scenario, Steps};

const T0: i64 = JAN_1_2026;
const FS: i64 = T0 + 1800;
const FE: i64 = FS + 120;
const TO: i64 = FE + 600;
const FROM: i64 = FS - 300;

const SPEC: &str = r#"version: verdict/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    description: Checkout requests answered without a 5xx.
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    verdict:
      max_time_to_recover: 59s
      expect_alerts: [CheckoutHighErrorRate]
      max_time_to_detect: 5m
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: '{service="checkout"}'
        threshold: 0.3
indicators:
  - name: cpu
    description: CPU cores
    query: sum(container_cpu_usage)
    pass:
      - ["<=+20%"]
"#;

fn scenario() -> Scenario {
    let obs = |at_or_below_0_3: f64| Observations {
        per_second: 10.0,
        at_or_below: vec![0.5, at_or_below_0_3, 1.0],
        mean: 0.1,
    };
    Scenario::new(T0, TO)
        .traffic("checkout", 10.0, Steps::new(0.0).at(FS, 0.2).at(FE, 0.0))
        .histogram(Histogram::new(
            "http_request_duration_seconds",
            &[("service", "checkout")],
            &[0.1, 0.3, 1.0],
            Steps::new(obs(0.995)).at(FS, obs(0.7)).at(FE, obs(0.995)),
        ))
        .alert("CheckoutHighErrorRate", &[], &[(FS + 60, FE + 120)])
        .gauge(Gauge::new(
            "container_cpu_usage",
            &[],
            Steps::new(0.3).at(FS, 0.33).at(FE, 0.3),
        ))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `verdict evaluate` on `SPEC` over the common window, in `dir`.
async fn evaluate(dir: &Path, url: &str, args: &[&str]) -> Run {
    std::fs::write(dir.join("slos.yaml"), SPEC).expect("write spec");
    let times = [FROM, TO, FS, FE].map(|t| t.to_string());
    let mut all: Vec<&str> = vec![
        "evaluate",
        "--slos",
        "slos.yaml",
        "--prometheus",
        url,
        "--from",
        &times[0],
        "--to",
        &times[1],
        "--fault-start",
        &times[2],
        "--fault-end",
        &times[3],
    ];
    all.extend(args);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(&all)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("VERDICT_PROMETHEUS_URL")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run verdict");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The Chromium binary, or a failure that says how to install it.
pub(crate) fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium not found (looked for /usr/bin/chromium and /usr/bin/chromium-browser): \
                 install it with `apt-get install -y chromium` or run scripts/install-deps.sh"
            )
        })
}

/// Runs headless Chromium with a fresh profile and no network access but
/// the given loopback URL; returns stdout. Killed after 60s.
pub(crate) async fn run_chromium(args: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let mut command = tokio::process::Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
            "--mute-audio",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("chromium finished within 60s")
        .expect("chromium ran");
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Serves `files` (name → content) on a free 127.0.0.1 port; returns the
/// base URL and the server task (aborted by the caller).
async fn serve(files: Vec<(&'static str, String)>) -> (String, tokio::task::JoinHandle<()>) {
    let mut router = axum::Router::new();
    for (name, body) in files {
        router = router.route(
            &format!("/{name}"),
            axum::routing::get(move || {
                let body = body.clone();
                async move { ([("content-type", "text/html; charset=utf-8")], body) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, task)
}

/// A page that loads the report in two frames, desktop and phone wide,
/// waits for every image to decode and writes what it found as JSON into
/// `#result` (the report itself has no script; this page is the test's).
const CHECK_PAGE: &str = r#"<!doctype html>
<html><body>
<pre id="result">pending</pre>
<iframe id="desktop" src="/report.html" style="width:1280px;height:1600px;border:0"></iframe>
<iframe id="phone" src="/report.html" style="width:390px;height:1600px;border:0"></iframe>
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
        title: title ? title.textContent.replace(/\s+/g, ' ').trim() : null,
        verdict: title ? title.dataset.verdict : null,
        slos: Array.from(d.querySelectorAll('article.slo')).map(a => ({
          id: a.dataset.slo,
          charts: a.querySelectorAll('figure.chart img').length,
          loaded: Array.from(a.querySelectorAll('figure.chart img')).filter(ok).length,
          chart: (a.querySelector('figure.chart img') || {}).currentSrc ? a.querySelector('figure.chart img').currentSrc.slice(0, 26) : null,
          width: (a.querySelector('figure.chart img') || {}).naturalWidth || 0
        })),
        images: imgs.length,
        broken: imgs.filter(i => !ok(i)).map(i => i.alt),
        scripts: d.scripts.length,
        external: Array.from(d.querySelectorAll('[src], link[href], source[srcset]'))
          .map(e => e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('srcset'))
          .filter(u => !u.startsWith('data:')),
        overflow: d.documentElement.scrollWidth - d.documentElement.clientWidth
      });
    };
    if (frame.contentDocument && frame.contentDocument.readyState === 'complete') go();
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

/// The JSON the check page wrote into its `#result`.
pub(crate) fn check_result(dom: &str) -> serde_json::Value {
    let start = dom
        .find("<pre id=\"result\">")
        .map(|i| i + "<pre id=\"result\">".len())
        .unwrap_or_else(|| panic!("no #result in the dumped DOM:\n{dom}"));
    let end = dom[start..]
        .find("</pre>")
        .map(|i| start + i)
        .unwrap_or(dom.len());
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("#result is not JSON ({e}): {text}"))
}

/// Width, height and RGB(A) pixels of a PNG file.
pub(crate) fn read_png(path: &Path) -> (u32, u32, usize, Vec<u8>) {
    let file = std::fs::File::open(path).expect("screenshot exists");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let channels = info.color_type.samples();
    buf.truncate(info.buffer_size());
    (info.width, info.height, channels, buf)
}

/// Pixels within `rows` that have the verdict badge's red (#cf222e).
fn badge_red_pixels(png: &(u32, u32, usize, Vec<u8>), rows: u32) -> usize {
    let (w, h, channels, data) = png;
    (0..rows.min(*h))
        .flat_map(|y| (0..*w).map(move |x| ((y * w + x) as usize) * channels))
        .filter(|&i| {
            let (r, g, b) = (data[i], data[i + 1], data[i + 2]);
            r.abs_diff(0xcf) < 12 && g.abs_diff(0x22) < 12 && b.abs_diff(0x2e) < 12
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_of_a_real_evaluation_renders_in_chromium_on_a_desktop_and_a_phone() {
    let chromium_path = chromium(); // fail first, and clearly, without it
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let dir = tempfile::tempdir().expect("temp dir");

    // One run: Markdown on stdout, the HTML and the JSON alongside.
    let run = evaluate(
        dir.path(),
        prom.base_url(),
        &[
            "--format",
            "markdown",
            "--html",
            "report.html",
            "--json",
            "report.json",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert!(
        run.stdout.starts_with("## ❌ verdict: FAIL\n"),
        "{}",
        run.stdout
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    // The JSON carries the series the charts are drawn from: E_r over
    // [FS − 5m, TO], 17 minutes every 15s, is 69 samples.
    assert_eq!(
        json["slos"][0]["error_ratio_series"]
            .as_array()
            .map(Vec::len),
        Some(69)
    );
    // `--format html` writes the same page.
    let same = evaluate(dir.path(), prom.base_url(), &["--format", "html"]).await;
    assert_eq!(same.code, 1, "stderr: {}", same.stderr);
    assert!(same.stdout.starts_with("<!doctype html>"));
    assert_eq!(
        same.stdout.matches("<article class=\"card slo").count(),
        html.matches("<article class=\"card slo").count()
    );

    // The DOM Chromium builds from the file itself.
    let report_path = dir.path().join("report.html");
    let dom = run_chromium(&["--dump-dom", &format!("file://{}", report_path.display())]).await;
    assert!(
        dom.contains(r#"<h1 id="verdict-title" data-verdict="fail"><span class="badge">FAIL</span> <span>Experiment report</span></h1>"#),
        "verdict title missing from the DOM"
    );
    assert_eq!(dom.matches("<article class=\"card slo").count(), 2);
    assert_eq!(
        dom.matches("<figure class=\"chart\" id=\"chart-slo-")
            .count(),
        2
    );
    assert!(dom.contains("time to recover 1m &gt; max 59s"));

    // Images decoded, nothing external, no overflow on a phone: checked by
    // the browser itself, through the check page on 127.0.0.1.
    let (base, server) = serve(vec![
        ("report.html", html.clone()),
        ("check.html", CHECK_PAGE.to_owned()),
    ])
    .await;
    let dom = run_chromium(&[
        "--virtual-time-budget=20000",
        "--window-size=1700,1700",
        "--dump-dom",
        &format!("{base}/check.html"),
    ])
    .await;
    let result = check_result(&dom);
    for (width, view) in [("desktop", &result["desktop"]), ("phone", &result["phone"])] {
        assert_eq!(view["title"], "FAIL Experiment report", "{width}: {view}");
        assert_eq!(view["verdict"], "fail");
        let slos = view["slos"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = slos.iter().filter_map(|s| s["id"].as_str()).collect();
        assert_eq!(ids, vec!["checkout-availability", "checkout-latency"]);
        for s in &slos {
            assert_eq!(
                (s["charts"].as_u64(), s["loaded"].as_u64()),
                (Some(1), Some(1)),
                "{width}: {s}"
            );
            assert_eq!(s["chart"], "data:image/svg+xml;base64,", "{width}: {s}");
        }
        // Two SLO charts, the burn-rate chart, the cpu indicator's.
        assert_eq!(view["images"], 4, "{width}: {view}");
        assert_eq!(view["broken"], serde_json::json!([]), "{width}");
        assert_eq!(view["scripts"], 0);
        assert_eq!(view["external"], serde_json::json!([]), "{width}");
        assert_eq!(view["overflow"], 0, "{width}: the page scrolls sideways");
    }
    // The phone gets the narrow drawing of each chart, the desktop the wide one.
    assert_eq!(result["desktop"]["slos"][0]["width"], 960);
    assert_eq!(result["phone"]["slos"][0]["width"], 400);
    server.abort();

    // Screenshots, for people: desktop and phone width.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screens");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    std::fs::write(shots.join("report.html"), &html).expect("keep the page");
    for (name, size, width) in [
        ("desktop.png", "1280,2000", 1280),
        ("phone.png", "390,1600", 390),
    ] {
        let path = shots.join(name);
        let _ = std::fs::remove_file(&path);
        run_chromium(&[
            &format!("--screenshot={}", path.display()),
            &format!("--window-size={size}"),
            &format!("file://{}", report_path.display()),
        ])
        .await;
        let png = read_png(&path);
        assert_eq!(png.0, width, "{name} width");
        // The FAIL badge (and the red top border) are in the first 250 rows.
        assert!(
            badge_red_pixels(&png, 250) > 800,
            "{name}: no red verdict badge at the top"
        );
    }
    drop(chromium_path);
}

#[tokio::test]
async fn a_user_template_overrides_the_built_in_one() {
    let prom = PromServer::start(&scenario()).await.expect("prometheus");
    let dir = tempfile::tempdir().expect("temp dir");
    let templates = dir.path().join("tpl");
    std::fs::create_dir(&templates).expect("tpl dir");
    std::fs::write(
        templates.join("summary.md.tera"),
        "{{ verdict_upper }}:{% for s in slos %} {{ s.id | code }} TTR {{ s.ttr }};{% endfor %}\n{% include \"footer.md.tera\" %}",
    )
    .expect("write template");
    std::fs::write(
        templates.join("footer.md.tera"),
        "-- {{ window.fault_length }} fault\n",
    )
    .expect("write partial");
    let run = evaluate(
        dir.path(),
        prom.base_url(),
        &["--format", "markdown", "--templates", "tpl"],
    )
    .await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    // TTR: errors stop at the fault end, the 1m window clears 1m later.
    assert_eq!(
        run.stdout,
        "FAIL: `checkout-availability` TTR 1m; `checkout-latency` TTR 1m;\n-- 2m fault\n"
    );
}

#[tokio::test]
async fn a_broken_user_template_stops_evaluate_before_any_query_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let templates = dir.path().join("tpl");
    std::fs::create_dir(&templates).expect("tpl dir");
    std::fs::write(
        templates.join("report.html.tera"),
        "<html>\n<h1>{{ title }}</h1>\n{% for s in slos %}{{ s.id }\n{% endfor %}\n",
    )
    .expect("write template");
    // Nothing listens on port 9: a query would make the run inconclusive
    // (exit 3); the template error comes first (exit 2).
    let run = evaluate(
        dir.path(),
        "http://127.0.0.1:9",
        &["--format", "html", "--templates", "tpl"],
    )
    .await;
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr
            .starts_with("verdict evaluate: --templates: tpl/report.html.tera:3:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("template syntax error"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}
