//! A real Prometheus over a backfilled scenario, for one test.
//!
//! Owns: the temp dir (scenario text, config, TSDB, stderr logs), running
//! promtool, picking a free loopback port, starting `prometheus`, waiting
//! until it is ready and provably ours, checking the backfill, and killing
//! and reaping it on drop. Also a minimal instant-query helper.
//!
//! Must not: wait without bound (readiness is capped at 30s, port retries at
//! 5), listen beyond 127.0.0.1, or enable the lifecycle API.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use verdict::prom::{PromClient, PromConfig, QueryData};

use serde_json::Value;
use tempfile::TempDir;

use super::HarnessError;
use super::binary::{Binaries, default_search_path};
use super::scenario::{Labels, Scenario};

/// How long prometheus may take to answer `/-/ready` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// Ports tried when another process takes the free port before prometheus.
const BIND_ATTEMPTS: u32 = 5;
/// Lines of prometheus's stderr quoted when startup fails.
const TAIL_LINES: usize = 30;

/// Where the time went while starting a server, and what was backfilled.
#[derive(Clone, Debug)]
pub struct Startup {
    /// Validating and rendering the scenario as OpenMetrics.
    pub render: Duration,
    /// promtool creating the TSDB blocks.
    pub backfill: Duration,
    /// From spawning prometheus (first attempt) to ready and checked.
    pub ready: Duration,
    /// Processes spawned (more than 1 when a port was taken meanwhile).
    pub attempts: u32,
    /// Series backfilled.
    pub series: usize,
    /// Samples backfilled.
    pub samples: usize,
}

impl Startup {
    /// Render + backfill + ready.
    pub fn total(&self) -> Duration {
        self.render + self.backfill + self.ready
    }
}

/// A running prometheus serving one scenario's history on 127.0.0.1.
///
/// Dropping it kills the process, waits for it, then removes the temp dir.
pub struct PromServer {
    // Declared before `dir`: fields drop in order, so the process is killed
    // and reaped before its data directory is removed.
    process: Process,
    dir: TempDir,
    base_url: String,
    http: reqwest::Client,
    startup: Startup,
}

impl PromServer {
    /// Backfills `scenario` and starts prometheus over it, with the
    /// binaries found on PATH or in /usr/bin.
    pub async fn start(scenario: &Scenario) -> Result<Self, HarnessError> {
        Self::start_with(scenario, &Binaries::locate(&default_search_path())?).await
    }

    /// Same as [`PromServer::start`] with given binaries.
    pub async fn start_with(scenario: &Scenario, bin: &Binaries) -> Result<Self, HarnessError> {
        Self::start_inner(scenario, bin, &[]).await
    }

    /// Like [`PromServer::start`], and the TSDB blocks found in each of
    /// `block_dirs` (for example the `--output-dir` of `promtool tsdb
    /// create-blocks-from rules`) are copied into the data directory before
    /// prometheus starts, so it serves the scenario and those blocks (they
    /// may overlap in time: Prometheus 2.39+ merges overlapping blocks).
    pub async fn start_with_extra_blocks(
        scenario: &Scenario,
        block_dirs: &[PathBuf],
    ) -> Result<Self, HarnessError> {
        let bin = Binaries::locate(&default_search_path())?;
        Self::start_inner(scenario, &bin, block_dirs).await
    }

    async fn start_inner(
        scenario: &Scenario,
        bin: &Binaries,
        block_dirs: &[PathBuf],
    ) -> Result<Self, HarnessError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let began = Instant::now();
        let rendered = scenario.to_openmetrics()?;
        let render = began.elapsed();

        let dir = tempfile::Builder::new()
            .prefix("verdict-prom-")
            .tempdir()
            .map_err(io("creating the harness temp dir"))?;
        let input = dir.path().join("scenario.om");
        let data = dir.path().join("data");
        let config = dir.path().join("prometheus.yml");
        write(&input, &rendered.text).await?;
        // No scrape targets: the server only serves the backfilled history.
        write(
            &config,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
        .await?;
        tokio::fs::create_dir(&data)
            .await
            .map_err(io(format!("creating {}", data.display())))?;

        let began = Instant::now();
        if rendered.samples > 0 {
            let span = scenario.end() - scenario.start();
            backfill(&bin.promtool, &input, &data, span, rendered.samples).await?;
        }
        for dir in block_dirs {
            copy_blocks(dir, &data)?;
        }
        let backfill = began.elapsed();

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| HarnessError::Startup {
                base_url: String::new(),
                reason: format!("building the HTTP client: {e}"),
                tail: String::new(),
            })?;

        let began = Instant::now();
        let mut attempt = 0;
        let (process, base_url) = loop {
            attempt += 1;
            match launch(&bin.prometheus, dir.path(), &data, &config, attempt, &http).await {
                Ok(running) => break running,
                Err(Launch::PortTaken(_)) if attempt < BIND_ATTEMPTS => continue,
                Err(Launch::PortTaken(e) | Launch::Failed(e)) => return Err(e),
            }
        };
        let mut server = Self {
            process,
            dir,
            base_url,
            http,
            startup: Startup {
                render,
                backfill,
                ready: Duration::ZERO,
                attempts: attempt,
                series: rendered.series,
                samples: rendered.samples,
            },
        };
        server
            .check_series(scenario, rendered.series, &input, block_dirs.is_empty())
            .await?;
        server.startup.ready = began.elapsed();
        Ok(server)
    }

    /// Starts a prometheus with no history that scrapes live targets:
    /// `config` is the whole prometheus.yml (scrape jobs, rule files,
    /// alerting). Rule files named in it are resolved by prometheus relative
    /// to the temp dir, so pass absolute paths.
    pub async fn start_live(config: &str) -> Result<Self, HarnessError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bin = Binaries::locate(&default_search_path())?;
        let dir = tempfile::Builder::new()
            .prefix("verdict-prom-live-")
            .tempdir()
            .map_err(io("creating the harness temp dir"))?;
        let data = dir.path().join("data");
        let config_path = dir.path().join("prometheus.yml");
        write(&config_path, config).await?;
        tokio::fs::create_dir(&data)
            .await
            .map_err(io(format!("creating {}", data.display())))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| HarnessError::Startup {
                base_url: String::new(),
                reason: format!("building the HTTP client: {e}"),
                tail: String::new(),
            })?;
        let began = Instant::now();
        let mut attempt = 0;
        let (process, base_url) = loop {
            attempt += 1;
            match launch(
                &bin.prometheus,
                dir.path(),
                &data,
                &config_path,
                attempt,
                &http,
            )
            .await
            {
                Ok(running) => break running,
                Err(Launch::PortTaken(_)) if attempt < BIND_ATTEMPTS => continue,
                Err(Launch::PortTaken(e) | Launch::Failed(e)) => return Err(e),
            }
        };
        Ok(Self {
            process,
            dir,
            base_url,
            http,
            startup: Startup {
                render: Duration::ZERO,
                backfill: Duration::ZERO,
                ready: began.elapsed(),
                attempts: attempt,
                series: 0,
                samples: 0,
            },
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's temp dir (scenario.om, prometheus.yml, data/, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Timings and sizes of this server's startup.
    pub fn startup(&self) -> &Startup {
        &self.startup
    }

    /// A verdict Prometheus client for this server (short timeout, few retries).
    pub fn client(&self) -> PromClient {
        PromClient::new(PromConfig {
            base_url: self.base_url.clone(),
            timeout: std::time::Duration::from_secs(10),
            max_retries: 1,
            backoff_initial: std::time::Duration::from_millis(50),
            ..PromConfig::default()
        })
        .expect("a loopback base URL is a valid client config")
    }

    /// Evaluates `query` at `at` (unix seconds) with verdict's own client:
    /// the vector's samples, or a scalar as one sample without labels.
    pub async fn instant_query(
        &self,
        query: &str,
        at: i64,
    ) -> Result<Vec<(Labels, f64)>, HarnessError> {
        let fail = |reason: String| HarnessError::Query {
            query: query.to_owned(),
            reason,
        };
        let result = self
            .client()
            .query_instant(query, at as f64)
            .await
            .map_err(|e| fail(e.to_string()))?;
        match result.data {
            QueryData::Vector(samples) => {
                Ok(samples.into_iter().map(|s| (s.labels, s.v)).collect())
            }
            QueryData::Scalar { v, .. } => Ok(vec![(Labels::new(), v)]),
            other => Err(fail(format!(
                "unsupported result type {}",
                other.result_type()
            ))),
        }
    }

    /// The value of a query that must return exactly one sample.
    pub async fn query_value(&self, query: &str, at: i64) -> Result<f64, HarnessError> {
        match self.instant_query(query, at).await?.as_slice() {
            [(_, v)] => Ok(*v),
            other => Err(HarnessError::Query {
                query: query.to_owned(),
                reason: format!("expected exactly one sample at {at}, got {other:?}"),
            }),
        }
    }

    /// Checks that every backfilled series is queryable.
    async fn check_series(
        &self,
        scenario: &Scenario,
        expected: usize,
        input: &Path,
        exact: bool,
    ) -> Result<(), HarnessError> {
        let query = "series {__name__=~\".+\"}";
        let fail = |reason: String| HarnessError::Query {
            query: query.to_owned(),
            reason,
        };
        let body: Value = self
            .http
            .get(format!("{}/api/v1/series", self.base_url))
            .query(&[
                ("match[]", "{__name__=~\".+\"}".to_owned()),
                ("start", scenario.start().to_string()),
                ("end", scenario.end().to_string()),
            ])
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(format!("reading the response: {e}")))?;
        let found = body["data"].as_array().map(Vec::len);
        // Extra blocks add series of their own: the scenario's must all be there.
        if found == Some(expected) || (!exact && found.is_some_and(|n| n >= expected)) {
            Ok(())
        } else {
            Err(HarnessError::Backfill {
                input: input.display().to_string(),
                what: format!("prometheus serves {found:?} series, the scenario has {expected}"),
            })
        }
    }
}

/// A spawned prometheus, killed and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        // SIGKILL then wait, so no zombie is left; errors mean it already exited.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

enum Launch {
    /// Another process bound the port first: try another one.
    PortTaken(HarnessError),
    Failed(HarnessError),
}

/// Spawns prometheus on a free port and waits until it is ready and is ours.
async fn launch(
    prometheus: &Path,
    dir: &Path,
    data: &Path,
    config: &Path,
    attempt: u32,
    http: &reqwest::Client,
) -> Result<(Process, String), Launch> {
    let port = free_port().map_err(Launch::Failed)?;
    let base_url = format!("http://127.0.0.1:{port}");
    let log_path = dir.join(format!("prometheus-{attempt}.log"));
    let log = File::create(&log_path)
        .map_err(io(format!("creating {}", log_path.display())))
        .map_err(Launch::Failed)?;
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(io(format!("spawning {}", prometheus.display())))
        .map_err(Launch::Failed)?;
    let mut process = Process(child);

    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let exited = process
            .0
            .try_wait()
            .map_err(io("checking on prometheus"))
            .map_err(Launch::Failed)?;
        if let Some(status) = exited {
            let tail = tail(&log_path);
            let error = HarnessError::Startup {
                base_url,
                reason: format!("it exited with {status} (attempt {attempt} of {BIND_ATTEMPTS})"),
                tail: tail.clone(),
            };
            return Err(if tail.contains("address already in use") {
                Launch::PortTaken(error)
            } else {
                Launch::Failed(error)
            });
        }
        if serves(http, &base_url, data).await {
            return Ok((process, base_url));
        }
        if Instant::now() >= deadline {
            drop(process);
            return Err(Launch::Failed(HarnessError::Startup {
                reason: format!("/-/ready did not answer 200 within {READY_TIMEOUT:?}"),
                tail: tail(&log_path),
                base_url,
            }));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Ready, and serving our data dir: a server of another test that grabbed
/// the port between our probe and our bind must not be mistaken for ours.
async fn serves(http: &reqwest::Client, base_url: &str, data: &Path) -> bool {
    let ready = http
        .get(format!("{base_url}/-/ready"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
    if !ready {
        return false;
    }
    let flags: Option<Value> = match http
        .get(format!("{base_url}/api/v1/status/flags"))
        .send()
        .await
    {
        Ok(response) => response.json().await.ok(),
        Err(_) => None,
    };
    flags.is_some_and(|f| f["data"]["storage.tsdb.path"].as_str() == data.to_str())
}

/// Runs promtool, then checks it wrote every sample: it silently drops
/// samples that are out of order within a series.
async fn backfill(
    promtool: &Path,
    input: &Path,
    data: &Path,
    span_seconds: i64,
    expected_samples: usize,
) -> Result<(), HarnessError> {
    // promtool re-reads the whole input once per block it writes; allowing
    // blocks as long as twice the scenario keeps that to a few passes
    // (it rounds down to 2h, 6h, 18h, 54h, … aligned blocks).
    let max_block_hours = (span_seconds / 3600 + 1) * 2;
    let output = tokio::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(format!("--max-block-duration={max_block_hours}h"))
        .arg(input)
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(io(format!("running {}", promtool.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(HarnessError::Promtool {
            input: input.display().to_string(),
            status: output.status.to_string(),
            output: format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
        });
    }
    // Table rows: ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, ….
    let written: usize = stdout
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells.len() >= 5 && cells[0].len() == 26).then(|| cells[4].parse::<usize>().ok())?
        })
        .sum();
    if written != expected_samples {
        return Err(HarnessError::Backfill {
            input: input.display().to_string(),
            what: format!(
                "promtool wrote {written} samples, the scenario has {expected_samples}:\n{stdout}"
            ),
        });
    }
    Ok(())
}

/// Copies every TSDB block (a directory with a `meta.json`) found directly
/// under `from` into `data`.
fn copy_blocks(from: &Path, data: &Path) -> Result<(), HarnessError> {
    let entries = std::fs::read_dir(from).map_err(io(format!("reading {}", from.display())))?;
    for entry in entries {
        let block = entry
            .map_err(io(format!("reading {}", from.display())))?
            .path();
        if block.join("meta.json").is_file() {
            let name = block.file_name().unwrap_or_default();
            copy_dir(&block, &data.join(name))?;
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), HarnessError> {
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    let entries = std::fs::read_dir(from).map_err(io(format!("reading {}", from.display())))?;
    for entry in entries {
        let path = entry
            .map_err(io(format!("reading {}", from.display())))?
            .path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(io(format!(
                "copying {} to {}",
                path.display(),
                target.display()
            )))?;
        }
    }
    Ok(())
}

/// A port the OS had free on 127.0.0.1 a moment ago (prometheus may still
/// lose it to another process: see [`BIND_ATTEMPTS`]).
fn free_port() -> Result<u16, HarnessError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io("binding 127.0.0.1:0 to find a free port"))
}

fn tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

async fn write(path: &PathBuf, contents: &str) -> Result<(), HarnessError> {
    tokio::fs::write(path, contents)
        .await
        .map_err(io(format!("writing {}", path.display())))
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}
