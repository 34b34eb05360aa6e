//! `verdict demo`: the whole story on one machine. A demo shop (three
//! services, two pods each, balancers, steady load), a real Prometheus
//! scraping it with the rules generated from the SLO specs, a real
//! Alertmanager sending alerts to verdict's webhook, and verdict's server on
//! a temporary SQLite database. The demo then acts as a chaos tool: it
//! registers an experiment through the API, waits out a baseline, injects a
//! [`Scenario`]'s fault, ends it, lets the server observe the recovery and
//! evaluate, prints the verdict and writes the reports.
//!
//! Owns: orchestration, progress output and the report files. The shop,
//! the child processes and the scenarios are the submodules; evaluation is
//! the server's, unchanged.

pub mod scenario;
pub mod shop;
pub mod stack;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

pub use scenario::{Scenario, Timing};

use crate::cli::run_server::Api;
use crate::config::{Config, Secret};
use crate::eval::Outcome;
use crate::experiment::runner::unix_now;
use crate::prom::{PromClient, PromConfig, QueryData};
use crate::report::{ExperimentInfo, Link, Report, ReportExtras};
use crate::spec::SpecSet;
use crate::spec::promql::render_window;
use crate::store::Role;

/// Scrape interval of the demo's Prometheus; also the evaluation step.
const SCRAPE: Duration = Duration::from_secs(2);
/// Rolling window of the error-ratio series the verdict reads recovery from.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// The window of the live SLI in the progress lines.
const LIVE_WINDOW: &str = "10s";

/// Why the demo could not run (the verdict itself is not an error).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    #[error(transparent)]
    Shop(#[from] shop::ShopError),
    #[error("the SLO specs in {path}: {message}")]
    Specs { path: String, message: String },
    #[error("generating the Prometheus rules: {0}")]
    Rules(String),
    #[error("starting verdict's server: {0}")]
    Server(String),
    #[error("verdict's API: {0}")]
    Api(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Stalled(String),
    #[error("rendering the report: {0}")]
    Render(#[from] crate::report::ReportError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DemoError {
    let what = what.into();
    move |source| DemoError::Io { what, source }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub scenario: Scenario,
    pub timing: Timing,
    /// Where the reports go (created; files in it are replaced).
    pub out: PathBuf,
    /// The SLO specs (the shop is built for `slos/`).
    pub slos: PathBuf,
    /// Where Prometheus, Alertmanager and SQLite keep their files; a fresh
    /// temporary directory (removed afterwards) when `None`.
    pub work_dir: Option<PathBuf>,
    /// Keep everything running after the verdict, until Ctrl-C.
    pub serve: bool,
    /// Where verdict's server listens.
    pub listen: SocketAddr,
    /// Orders per second of the load generator.
    pub rps: f64,
    /// ANSI colours in the verdict table.
    pub colour: bool,
}

/// Everything started, stopped in reverse by [`Parts::teardown`].
#[derive(Default)]
struct Parts {
    shop: Option<shop::Shop>,
    server: Option<crate::cli::serve::RunningServer>,
    alertmanager: Option<stack::Managed>,
    prometheus: Option<stack::Managed>,
}

impl Parts {
    async fn teardown(&mut self) {
        if let Some(p) = self.prometheus.take() {
            p.stop(Duration::from_secs(10)).await;
        }
        if let Some(a) = self.alertmanager.take() {
            a.stop(Duration::from_secs(10)).await;
        }
        if let Some(s) = self.server.take()
            && let Err(e) = s.shutdown().await
        {
            tracing::warn!(error = %e, "verdict's server did not stop cleanly");
        }
        self.shop.take();
    }
}

/// Runs the demo, printing to `out`; returns the verdict (`None` when
/// interrupted). Every process and task it started is stopped before it
/// returns, on every path.
pub async fn run(
    opts: &DemoOptions,
    out: &mut (dyn Write + Send),
) -> Result<Option<Outcome>, DemoError> {
    let (work, temporary) = match &opts.work_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("verdict-demo-{}", uuid::Uuid::now_v7())),
            true,
        ),
    };
    std::fs::create_dir_all(&work).map_err(io(format!("creating {}", work.display())))?;
    let mut parts = Parts::default();
    let result = tokio::select! {
        r = run_parts(opts, &work, &mut parts, out) => r.map(Some),
        _ = crate::cli::serve::shutdown_signal() => Ok(None),
    };
    if matches!(result, Ok(None)) {
        let _ = writeln!(out, "\ninterrupted: stopping everything the demo started");
    }
    parts.teardown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

/// The demo's steps; `parts` receives what is started, for the teardown.
async fn run_parts(
    opts: &DemoOptions,
    work: &Path,
    parts: &mut Parts,
    out: &mut (dyn Write + Send),
) -> Result<Outcome, DemoError> {
    let clock = Instant::now();
    if !opts.slos.exists() {
        return Err(DemoError::Specs {
            path: opts.slos.display().to_string(),
            message: "it does not exist: run the demo from the repository root (the shop serves the metrics of its slos/), or pass --slos DIR".to_owned(),
        });
    }
    let specs = crate::spec::load_paths(std::slice::from_ref(&opts.slos)).map_err(|e| {
        DemoError::Specs {
            path: opts.slos.display().to_string(),
            message: format!("not valid:\n{e}"),
        }
    })?;
    let prometheus_bin = stack::find_program("Prometheus", &["prometheus"], "prometheus")?;
    let alertmanager_bin = stack::find_program(
        "Alertmanager",
        &["prometheus-alertmanager", "alertmanager"],
        "prometheus-alertmanager",
    )?;
    let rules_dir = work.join("rules");
    let rule_files = write_rules(&specs, &opts.slos, &rules_dir)?;

    let s = opts.scenario;
    let _ = writeln!(
        out,
        "verdict demo — scenario {}: {}\n  built to end in `{}`; baseline {}s, fault {}s, recovery observed {}s\n",
        s.name(),
        s.story(),
        s.expected(),
        opts.timing.baseline.as_secs(),
        opts.timing.fault.as_secs(),
        opts.timing.recovery.as_secs(),
    );

    let shop = shop::Shop::start(IpAddr::from([127, 0, 0, 1]), 0, opts.rps).await?;
    let targets = shop.targets();
    let order_url = shop.url("order").unwrap_or_default();
    parts.shop = Some(shop);
    let _ = writeln!(
        out,
        "started  demo shop: order, inventory, notification × 2 pods behind balancers; {} orders/s to {order_url}/orders",
        opts.rps
    );

    let alertmanager_port = stack::free_port()?;
    let prometheus_port = stack::free_port()?;
    let prometheus_url = format!("http://127.0.0.1:{prometheus_port}");
    let config = server_config(opts, work, &prometheus_url);
    let make_evaluator =
        crate::cli::serve::evaluator(&config.prometheus).map_err(DemoError::Server)?;
    let server = crate::cli::serve::start(config, make_evaluator)
        .await
        .map_err(|e| DemoError::Server(e.to_string()))?;
    let verdict_addr = server.addr;
    let store = server.state.store.clone();
    parts.server = Some(server);
    let operator = crate::api::tokens::issue_token(&store, Role::Operator, Some("demo"))
        .await
        .map_err(|e| DemoError::Server(format!("creating the demo's API token: {e}")))?;
    let token_file = work.join("alertmanager-token");
    write_secret(&token_file, &operator.token)?;
    let _ = writeln!(
        out,
        "started  verdict server on http://{verdict_addr} (SQLite in {})",
        work.display()
    );

    let am_config = stack::alertmanager_config(verdict_addr, &token_file);
    let alertmanager =
        stack::start_alertmanager(&alertmanager_bin, work, &am_config, alertmanager_port).await?;
    let _ = writeln!(
        out,
        "started  Alertmanager on {} → verdict's webhook",
        alertmanager.url
    );
    parts.alertmanager = Some(alertmanager);
    let prom_config = stack::prometheus_config(
        &targets,
        verdict_addr,
        alertmanager_port,
        &rules_dir,
        SCRAPE,
    );
    let prometheus =
        stack::start_prometheus(&prometheus_bin, work, &prom_config, prometheus_port).await?;
    let _ = writeln!(
        out,
        "started  Prometheus on {} scraping {} targets every {}s, {} rule files from {}",
        prometheus.url,
        targets.len() + 1,
        SCRAPE.as_secs(),
        rule_files,
        opts.slos.display()
    );
    parts.prometheus = Some(prometheus);

    let prom = PromClient::new(PromConfig {
        base_url: prometheus_url.clone(),
        timeout: Duration::from_secs(5),
        max_retries: 1,
        ..PromConfig::default()
    })
    .map_err(|e| DemoError::Server(e.to_string()))?;
    wait_for_targets(&prom, targets.len()).await?;

    let api = Api {
        base: format!("http://{verdict_addr}"),
        token: operator.token.clone(),
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| DemoError::Api(e.to_string()))?,
    };
    let created = api
        .call(
            reqwest::Method::POST,
            "/api/v1/experiments",
            Some(json!({
                "name": format!("demo: {}", s.name()),
                "target": {"service": s.target(), "namespace": "shop"},
                "type": s.fault_type(),
                "slos": {"labels": {"team": "shop"}},
                "baseline": format!("{}s", opts.timing.baseline.as_secs()),
                "observe_recovery": format!("{}s", opts.timing.recovery.as_secs()),
                "links": [{"name": "prometheus", "url": prometheus_url}],
            })),
        )
        .await
        .map_err(DemoError::Api)?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| DemoError::Api("the server returned no experiment id".to_owned()))?
        .to_owned();
    let _ = writeln!(
        out,
        "created  experiment {id} through the API (like a chaos tool would)\n\nlive SLI over the last {LIVE_WINDOW}, per service availability|latency in %:"
    );

    let live = Live {
        prom: &prom,
        specs: &specs,
        shop: parts.shop.as_ref().expect("shop started"),
        clock,
        down: Default::default(),
    };
    live.watch(out, "baseline", opts.timing.baseline, None, &[])
        .await;

    api.call(
        reqwest::Method::POST,
        &format!("/api/v1/experiments/{id}/start"),
        Some(json!({})),
    )
    .await
    .map_err(DemoError::Api)?;
    let injected = s.inject(live.shop, &opts.timing);
    let aborted = live
        .watch(
            out,
            "fault",
            opts.timing.fault,
            Some((&api, &id)),
            &injected,
        )
        .await;
    let removed = s.remove(live.shop);
    if let Some(reason) = &aborted {
        let _ = writeln!(out, "aborted  by verdict's guardrails: {reason}");
    } else {
        api.call(
            reqwest::Method::POST,
            &format!("/api/v1/experiments/{id}/end"),
            Some(json!({})),
        )
        .await
        .map_err(DemoError::Api)?;
        live.watch(out, "recovery", opts.timing.recovery, None, &removed)
            .await;
    }

    let _ = writeln!(out, "\nevaluating…");
    let experiment = crate::cli::run_server::wait_finished(&api, &id, Duration::from_secs(180))
        .await
        .map_err(DemoError::Stalled)?;
    let outcome = match experiment["status"].as_str() {
        Some("completed") => {
            let verdict = api
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/experiments/{id}/verdict"),
                    None,
                )
                .await
                .map_err(DemoError::Api)?;
            let report: Report = serde_json::from_value(verdict)
                .map_err(|e| DemoError::Api(format!("the verdict is not a report: {e}")))?;
            let _ = writeln!(
                out,
                "\n{}",
                crate::report::text::render_text(&report, opts.colour)
            );
            let extras = extras(&experiment, s);
            let written = write_reports(&opts.out, &report, &extras)?;
            let _ = writeln!(
                out,
                "reports in {}/: {}\n  open file://{}/report.html",
                opts.out.display(),
                written.join("  "),
                display_dir(&opts.out)
            );
            report.verdict
        }
        Some("aborted") => {
            let _ = writeln!(
                out,
                "\nverdict: FAIL — experiment aborted: {}",
                experiment["abort_reason"].as_str().unwrap_or("?")
            );
            Outcome::Fail
        }
        _ => {
            let _ = writeln!(
                out,
                "\nverdict: INCONCLUSIVE — the experiment could not be evaluated: {}",
                experiment["error"].as_str().unwrap_or("?")
            );
            Outcome::Inconclusive
        }
    };
    print_alerts(&store, &id, out).await;
    let _ = writeln!(
        out,
        "finished in {}s (scenario {} is built to end in `{}`)",
        clock.elapsed().as_secs(),
        s.name(),
        s.expected()
    );

    if opts.serve {
        let viewer = crate::api::tokens::issue_token(&store, Role::Viewer, Some("demo viewer"))
            .await
            .map_err(|e| DemoError::Server(format!("creating a viewer token: {e}")))?;
        let base = format!("http://{verdict_addr}");
        let _ = writeln!(
            out,
            "\nserving until Ctrl-C:\n  report page   {base}/experiments/{id}?token={}\n  experiments   {base}/experiments\n  API           curl -H 'Authorization: Bearer {}' {base}/api/v1/experiments/{id}\n  Prometheus    {prometheus_url}\n  Alertmanager  http://127.0.0.1:{alertmanager_port}",
            viewer.token, viewer.token
        );
        let _ = out.flush();
        std::future::pending::<()>().await;
    }
    Ok(outcome)
}

/// What Alertmanager delivered to verdict's webhook: each alert's first
/// firing, and whether verdict matched it to the running experiment.
async fn print_alerts(store: &crate::store::Store, id: &str, out: &mut (dyn Write + Send)) {
    let alerts = match store.list_alerts().await {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(out, "alerts: cannot list them: {e}");
            return;
        }
    };
    let mut firing: Vec<(String, String, chrono::DateTime<chrono::Utc>, bool)> = Vec::new();
    for a in alerts.iter().filter(|a| a.status == "firing") {
        let name = a.labels.0.get("alertname").cloned().unwrap_or_default();
        let severity = a.labels.0.get("severity").cloned().unwrap_or_default();
        let during = a.experiment_id.is_some_and(|e| e.to_string() == id);
        match firing
            .iter_mut()
            .find(|(n, s, _, _)| *n == name && *s == severity)
        {
            Some(f) => {
                f.2 = f.2.min(a.starts_at);
                f.3 |= during;
            }
            None => firing.push((name, severity, a.starts_at, during)),
        }
    }
    if firing.is_empty() {
        let _ = writeln!(
            out,
            "alerts: none reached verdict's webhook (no SLO burned its budget fast enough for its page or ticket alert)"
        );
        return;
    }
    let _ = writeln!(out, "alerts Alertmanager delivered to verdict's webhook:");
    for (name, severity, since, during) in firing {
        let _ = writeln!(
            out,
            "  {name} severity={severity} firing since {}{}",
            since.format("%H:%M:%S"),
            if during {
                ", matched to this experiment"
            } else {
                ""
            }
        );
    }
}

/// The demo server's configuration: SQLite in the work directory, the
/// demo's Prometheus at a 2s step and 10s rate window, guardrails every 5s.
fn server_config(opts: &DemoOptions, work: &Path, prometheus_url: &str) -> Config {
    let mut c = Config {
        listen: opts.listen,
        database_url: Secret::new(format!("sqlite://{}", work.join("verdict.db").display())),
        slos: vec![opts.slos.clone()],
        slos_explicit: true,
        ..Config::default()
    };
    c.prometheus.url = prometheus_url.to_owned();
    c.prometheus.timeout = Duration::from_secs(10);
    c.prometheus.step = SCRAPE;
    c.prometheus.rate_window = RATE_WINDOW;
    c.scheduler.guard_interval = Duration::from_secs(5);
    c.scheduler.eval_backoff = Duration::from_secs(2);
    c
}

/// Writes the rule files of `specs` into `dir`; returns how many.
fn write_rules(specs: &SpecSet, root: &Path, dir: &Path) -> Result<usize, DemoError> {
    use crate::generate::output::{FileKind, OutputOptions, generate_files};
    let generated = generate_files(
        specs,
        &[root.to_path_buf()],
        &crate::generate::RuleOptions::default(),
        &OutputOptions::default(),
    )
    .map_err(|e| DemoError::Rules(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let mut n = 0;
    for (i, f) in generated
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Rules)
        .enumerate()
    {
        // Flat names: Prometheus loads `rules/*.yml`.
        let name = format!(
            "{i:02}-{}",
            f.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let path = dir.join(name);
        std::fs::write(&path, &f.contents).map_err(io(format!("writing {}", path.display())))?;
        n += 1;
    }
    Ok(n)
}

fn write_secret(path: &Path, secret: &str) -> Result<(), DemoError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("writing {}", path.display())))?;
    f.write_all(secret.as_bytes())
        .map_err(io(format!("writing {}", path.display())))
}

/// Waits until Prometheus has scraped every shop target once.
async fn wait_for_targets(prom: &PromClient, expected: usize) -> Result<(), DemoError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = unix_now();
        let up = prom
            .query_instant(r#"count(up{job=~"shop.*"} == 1)"#, now)
            .await
            .ok()
            .and_then(|r| match r.data {
                QueryData::Vector(v) => v.first().map(|s| s.v),
                _ => None,
            })
            .unwrap_or(0.0);
        if up >= expected as f64 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(DemoError::Stalled(format!(
                "Prometheus scraped only {up} of {expected} shop targets within 30s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the progress lines read.
struct Live<'a> {
    prom: &'a PromClient,
    specs: &'a SpecSet,
    shop: &'a shop::Shop,
    clock: Instant,
    /// Pods seen down at the last progress line.
    down: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Live<'_> {
    /// Prints a progress line every [`PROGRESS_EVERY`] for `length`; with
    /// `experiment`, also watches for an abort and returns its reason.
    async fn watch(
        &self,
        out: &mut (dyn Write + Send),
        phase: &str,
        length: Duration,
        experiment: Option<(&Api, &str)>,
        events: &[String],
    ) -> Option<String> {
        let end = Instant::now() + length;
        for e in events {
            let _ = writeln!(out, "  {}  {phase:<8}  {e}", self.elapsed());
        }
        loop {
            let now = Instant::now();
            if now >= end {
                return None;
            }
            tokio::time::sleep(PROGRESS_EVERY.min(end - now)).await;
            let line = self.line().await;
            for pod in self.restarted() {
                let _ = writeln!(
                    out,
                    "  {}  {phase:<8}  pod {pod} restarted and is serving again (restarts: {})",
                    self.elapsed(),
                    self.shop.restarts(&pod)
                );
            }
            let _ = writeln!(out, "  {}  {phase:<8}  {line}", self.elapsed());
            let _ = out.flush();
            if let Some((api, id)) = experiment
                && let Ok(e) = api
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/v1/experiments/{id}"),
                        None,
                    )
                    .await
                && e["status"] == "aborted"
            {
                return Some(e["abort_reason"].as_str().unwrap_or("aborted").to_owned());
            }
        }
    }

    /// Pods that were down at the last look and serve now.
    fn restarted(&self) -> Vec<String> {
        let mut down = self.down.lock().expect("down pods");
        let now: std::collections::BTreeSet<String> = shop::SERVICES
            .iter()
            .flat_map(|s| (0..shop::REPLICAS).map(move |r| format!("{s}-{r}")))
            .filter(|p| !self.shop.is_up(p))
            .collect();
        let back = down.difference(&now).cloned().collect();
        *down = now;
        back
    }

    fn elapsed(&self) -> String {
        let s = self.clock.elapsed().as_secs();
        format!("{}:{:02}", s / 60, s % 60)
    }

    /// `order 100.0|96.1  inventory …  orders ok 912 failed 3  pods 5/6 up`.
    async fn line(&self) -> String {
        let now = unix_now();
        let mut parts: Vec<String> = Vec::new();
        for svc in &self.specs.services {
            let mut slis = Vec::new();
            for slo in &svc.slos {
                let q = render_window(&slo.sli.error_ratio_template(), LIVE_WINDOW);
                let e = self
                    .prom
                    .query_instant(&q, now)
                    .await
                    .ok()
                    .and_then(|r| match r.data {
                        QueryData::Vector(v) if v.len() == 1 => Some(v[0].v),
                        _ => None,
                    });
                slis.push(match e {
                    Some(e) if e.is_finite() => format!("{:.1}", 100.0 * (1.0 - e)),
                    _ => "—".to_owned(),
                });
            }
            parts.push(format!("{} {}", svc.name, slis.join("|")));
        }
        let c = &self.shop.client;
        let up = shop::SERVICES
            .iter()
            .flat_map(|s| (0..shop::REPLICAS).map(move |r| format!("{s}-{r}")))
            .filter(|p| self.shop.is_up(p))
            .count();
        format!(
            "{}   orders ok {} failed {}   pods {up}/{} up",
            parts.join("  "),
            c.ok.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
            shop::SERVICES.len() * shop::REPLICAS
        )
    }
}

/// The experiment as the reports show it.
fn extras(experiment: &Value, s: Scenario) -> ReportExtras {
    let str_of = |k: &str| experiment[k].as_str().map(str::to_owned);
    ReportExtras {
        experiment: Some(ExperimentInfo {
            id: str_of("id"),
            name: str_of("name").unwrap_or_else(|| format!("demo: {}", s.name())),
            kind: str_of("type"),
            target: Some(format!("{} in namespace shop", s.target())),
            description: Some(format!(
                "verdict demo, scenario {}: {}.",
                s.name(),
                s.story()
            )),
            links: Vec::<Link>::new(),
        }),
        ..ReportExtras::default()
    }
}

/// Writes report.html, report.md, report.json, junit.xml and charts/*.png
/// into `dir`; returns the names written.
fn write_reports(
    dir: &Path,
    report: &Report,
    extras: &ReportExtras,
) -> Result<Vec<String>, DemoError> {
    use crate::report::{Format, ReportError};
    let templates = crate::report::templates::Templates::embedded().map_err(ReportError::from)?;
    let charts_dir = dir.join("charts");
    // Charts of an earlier run must not linger beside this run's.
    if charts_dir.is_dir() {
        std::fs::remove_dir_all(&charts_dir)
            .map_err(io(format!("clearing {}", charts_dir.display())))?;
    }
    std::fs::create_dir_all(&charts_dir)
        .map_err(io(format!("creating {}", charts_dir.display())))?;
    let charts = crate::report::charts::report_charts(report);
    let mut chart_links = String::from("\n## Charts\n\n");
    for c in &charts {
        let png = c
            .chart
            .render_png(crate::report::html::CHART_SIZE)
            .map_err(ReportError::from)?;
        let name = format!("charts/{}.png", c.id);
        let path = dir.join(&name);
        std::fs::write(&path, png).map_err(io(format!("writing {}", path.display())))?;
        chart_links.push_str(&format!(
            "![{}]({name})\n\n",
            crate::report::templates::escape_markdown(&c.alt)
        ));
    }
    let mut written = Vec::new();
    for format in Format::ALL {
        let name = match format {
            Format::Html => "report.html",
            Format::Markdown => "report.md",
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
        };
        let mut body = crate::report::render_as(report, extras, templates, format)?;
        if format == Format::Markdown {
            // The local copy links the chart files written beside it.
            body.push_str(&chart_links);
        }
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(io(format!("writing {}", path.display())))?;
        written.push(name.to_owned());
    }
    written.push(format!("charts/ ({} PNG)", charts.len()));
    Ok(written)
}

fn display_dir(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// `verdict demo --shop-only`: only the shop and its load, on fixed ports
/// (for docker-compose and trying Prometheus configs), until interrupted.
pub async fn run_shop(
    host: IpAddr,
    port: u16,
    rps: f64,
    out: &mut (dyn Write + Send),
) -> Result<(), DemoError> {
    let shop = Arc::new(shop::Shop::start(host, port, rps).await?);
    for t in shop.targets() {
        let _ = writeln!(out, "{:<22} http://{}/metrics", t.name, t.addr);
    }
    let _ = writeln!(
        out,
        "{rps} orders/s to {}/orders; Ctrl-C to stop",
        shop.url("order").unwrap_or_default()
    );
    let _ = out.flush();
    crate::cli::serve::shutdown_signal().await;
    Ok(())
}
