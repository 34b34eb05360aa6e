//! The real parts the demo runs beside the shop: Prometheus (scraping the
//! shop and verdict, loading the rules generated from the SLOs) and
//! Alertmanager (sending every alert to verdict's webhook), as child
//! processes on free loopback ports with their files in the work directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use super::shop::Target;

/// How long a child may take to answer `/-/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a part of the stack could not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(
        "{program} is not installed (looked for {candidates} in PATH and /usr/bin); \
         install it with `apt-get install {package}` or run `make demo`, which does"
    )]
    Missing {
        program: &'static str,
        candidates: String,
        package: &'static str,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{name} did not become ready at {url}: {reason}\n--- last lines of {log} ---\n{tail}")]
    NotReady {
        name: &'static str,
        url: String,
        reason: String,
        log: String,
        tail: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StackError {
    let what = what.into();
    move |source| StackError::Io { what, source }
}

/// Finds the first of `names` in PATH, then in /usr/bin.
pub fn find_program(
    program: &'static str,
    names: &[&str],
    package: &'static str,
) -> Result<PathBuf, StackError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/bin"));
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(StackError::Missing {
        program,
        candidates: names.join(" or "),
        package,
    })
}

/// A free TCP port on 127.0.0.1 (another process may still take it before
/// the child binds it; the child's log then says so).
pub fn free_port() -> Result<u16, StackError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(l.local_addr().map_err(io("finding a free port"))?.port())
}

/// A child process of the demo: stopped with SIGTERM (then SIGKILL) by
/// [`Managed::stop`], and killed if dropped without it.
pub struct Managed {
    pub name: &'static str,
    pub url: String,
    pub log: PathBuf,
    child: Child,
}

impl Managed {
    /// The child's process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; always reaped.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

async fn spawn(
    name: &'static str,
    program: &Path,
    args: &[String],
    url: String,
    log: PathBuf,
) -> Result<Managed, StackError> {
    let file = std::fs::File::create(&log).map_err(io(format!("creating {}", log.display())))?;
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .map_err(io(format!("starting {}", program.display())))?;
    let mut managed = Managed {
        name,
        url,
        log,
        child,
    };
    wait_ready(&mut managed).await?;
    Ok(managed)
}

async fn wait_ready(m: &mut Managed) -> Result<(), StackError> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| StackError::Io {
            what: "building an HTTP client".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let deadline = Instant::now() + READY_TIMEOUT;
    let not_ready = |m: &Managed, reason: String| StackError::NotReady {
        name: m.name,
        url: m.url.clone(),
        reason,
        log: m.log.display().to_string(),
        tail: tail(&m.log),
    };
    loop {
        if let Ok(Some(status)) = m.child.try_wait() {
            return Err(not_ready(m, format!("it exited with {status}")));
        }
        let ready = http
            .get(format!("{}/-/ready", m.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(not_ready(
                m,
                format!("no answer within {}s", READY_TIMEOUT.as_secs()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// The Prometheus configuration: every shop target and verdict scraped
/// every `scrape` interval, rules from `rules_dir`, alerts to Alertmanager.
pub fn prometheus_config(
    targets: &[Target],
    verdict: SocketAddr,
    alertmanager_port: u16,
    rules_dir: &Path,
    scrape: Duration,
) -> String {
    let secs = scrape.as_secs().max(1);
    let mut jobs: Vec<(String, Vec<&Target>)> = Vec::new();
    for t in targets {
        match jobs.iter_mut().find(|(j, _)| *j == t.job) {
            Some((_, v)) => v.push(t),
            None => jobs.push((t.job.clone(), vec![t])),
        }
    }
    let mut out = format!(
        "# Written by `verdict demo`.\n\
         global:\n  scrape_interval: {secs}s\n  scrape_timeout: {secs}s\n  evaluation_interval: {secs}s\n  \
         external_labels: {{namespace: shop}}\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{alertmanager_port}']\n\
         rule_files:\n  - '{}/*.yml'\n\
         scrape_configs:\n  - job_name: verdict\n    static_configs:\n      - targets: ['{verdict}']\n",
        rules_dir.display()
    );
    for (job, ts) in jobs {
        out.push_str(&format!("  - job_name: {job}\n    static_configs:\n"));
        for t in ts {
            // `pod` comes from the exposed series; the target is named by `instance`.
            out.push_str(&format!(
                "      - targets: ['{}']\n        labels: {{instance: {}}}\n",
                t.addr, t.name
            ));
        }
    }
    out
}

/// The Alertmanager configuration: every alert to verdict's webhook, with
/// an operator token read from `token_file`.
pub fn alertmanager_config(verdict: SocketAddr, token_file: &Path) -> String {
    format!(
        "# Written by `verdict demo`.\n\
         route:\n  receiver: verdict\n  group_by: ['alertname', 'sloth_service', 'sloth_slo']\n  \
         group_wait: 1s\n  group_interval: 5s\n  repeat_interval: 1h\n\
         receivers:\n  - name: verdict\n    webhook_configs:\n      \
         - url: 'http://{verdict}/api/v1/alerts/alertmanager'\n        send_resolved: true\n        \
         http_config:\n          authorization:\n            type: Bearer\n            \
         credentials_file: '{}'\n",
        token_file.display()
    )
}

/// Starts Prometheus with `config` (written to `dir`) on `port`.
pub async fn start_prometheus(
    program: &Path,
    dir: &Path,
    config: &str,
    port: u16,
) -> Result<Managed, StackError> {
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).map_err(io(format!("writing {}", file.display())))?;
    let args = vec![
        format!("--config.file={}", file.display()),
        format!(
            "--storage.tsdb.path={}",
            dir.join("prometheus-data").display()
        ),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-lifecycle".to_owned(),
    ];
    spawn(
        "prometheus",
        program,
        &args,
        format!("http://127.0.0.1:{port}"),
        dir.join("prometheus.log"),
    )
    .await
}

/// Starts Alertmanager with `config` (written to `dir`) on `port`, without clustering.
pub async fn start_alertmanager(
    program: &Path,
    dir: &Path,
    config: &str,
    port: u16,
) -> Result<Managed, StackError> {
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, config).map_err(io(format!("writing {}", file.display())))?;
    let args = vec![
        format!("--config.file={}", file.display()),
        format!("--storage.path={}", dir.join("alertmanager-data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_owned(),
    ];
    spawn(
        "alertmanager",
        program,
        &args,
        format!("http://127.0.0.1:{port}"),
        dir.join("alertmanager.log"),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prometheus_config_names_every_target_and_the_rules() {
        let t = |port: u16, job: &str, name: &str| Target {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            job: job.to_owned(),
            service: "order",
            name: name.to_owned(),
        };
        let cfg = prometheus_config(
            &[
                t(8000, "shop-balancer", "order-balancer"),
                t(8001, "shop", "order-0"),
            ],
            SocketAddr::from(([127, 0, 0, 1], 9797)),
            9093,
            Path::new("/tmp/x/rules"),
            Duration::from_secs(2),
        );
        assert!(cfg.contains("scrape_interval: 2s\n"));
        assert!(cfg.contains("- '/tmp/x/rules/*.yml'\n"));
        assert!(cfg.contains("- targets: ['127.0.0.1:9093']\n"));
        assert!(cfg.contains(
            "  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:8001']\n        labels: {instance: order-0}\n"
        ));
        assert!(cfg.contains(
            "  - job_name: verdict\n    static_configs:\n      - targets: ['127.0.0.1:9797']\n"
        ));
    }
}
