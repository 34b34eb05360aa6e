//! The demo shop: `order`, `inventory` and `notification`, two replicas
//! ("pods") each behind a round-robin balancer, all in this process on
//! loopback ports, plus a load generator.
//!
//! - Every pod serves its API and `/metrics`: `http_requests_total{service,
//!   pod, code}` and the histogram `http_request_duration_seconds`, both
//!   measured where the request is answered. The 5xx series exist from the
//!   start at 0, as a well-instrumented service exports them.
//! - `order` (POST `/orders`) calls `inventory` (`/reserve`) with a 150 ms
//!   timeout and up to 3 attempts (503 or 504 when all fail), then
//!   `notification` (`/notify`, 300 ms, 2 attempts; a failed notification
//!   does not fail the order: it is best effort).
//! - A balancer plays the Kubernetes Service with a mesh proxy: round robin,
//!   and a connection that is refused (a dead pod) is retried on the next
//!   pod. It answers a request itself only when no pod could: those answers
//!   are counted in its own `/metrics` (`http_requests_total{…,
//!   pod="balancer"}`), so every request is counted exactly once. It also
//!   exports `kube_pod_container_status_restarts_total` for its pods, as
//!   kube-state-metrics would.
//! - Faults: kill a pod (its listener and every open connection are dropped
//!   at once, like SIGKILL; it restarts after a delay with fresh counters
//!   and a restart counted), added latency on a share of a service's
//!   requests, and an error ratio on one pod or a whole service.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{JoinHandle, JoinSet};

/// The services, in port order (`base`, `base + 10`, `base + 20`).
pub const SERVICES: [&str; 3] = ["order", "inventory", "notification"];
/// Pods per service.
pub const REPLICAS: usize = 2;
/// Histogram bounds: every latency threshold of slos/ is one of them.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0, 2.5, 5.0,
];
/// Status codes exported from the start (0 until they happen).
const CODES: [u16; 5] = [200, 500, 502, 503, 504];
/// Order's calls to inventory: per-attempt timeout and attempts.
const INVENTORY_TIMEOUT: Duration = Duration::from_millis(150);
const INVENTORY_ATTEMPTS: usize = 3;
/// Order's calls to notification.
const NOTIFY_TIMEOUT: Duration = Duration::from_millis(300);
const NOTIFY_ATTEMPTS: usize = 2;

/// Why the shop could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        what: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// Request counts and latencies of one pod (or the requests a balancer answered).
#[derive(Debug, Default)]
struct RequestMetrics {
    by_code: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl RequestMetrics {
    fn fresh() -> RequestMetrics {
        RequestMetrics {
            by_code: CODES.iter().map(|c| (*c, 0)).collect(),
            ..RequestMetrics::default()
        }
    }

    fn observe(&mut self, code: u16, seconds: f64) {
        *self.by_code.entry(code).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// The exposition of both families (only the counter without
    /// `with_histogram`), each under its HELP and TYPE lines.
    fn render(&self, out: &mut String, labels: &str, with_histogram: bool) {
        out.push_str(REQUESTS_HELP);
        for (code, n) in &self.by_code {
            let _ = writeln!(out, "http_requests_total{{{labels},code=\"{code}\"}} {n}");
        }
        if with_histogram {
            out.push_str(DURATION_HELP);
            for (bound, n) in BUCKETS.iter().zip(self.buckets) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                self.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                self.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                self.count
            );
        }
    }
}

const REQUESTS_HELP: &str = "# HELP http_requests_total Requests answered, by HTTP status code.\n\
# TYPE http_requests_total counter\n";
const DURATION_HELP: &str = "# HELP http_request_duration_seconds Time to answer a request.\n\
# TYPE http_request_duration_seconds histogram\n";

/// Added latency on a share of a service's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    pub extra: Duration,
    pub share: f64,
}

/// The faults in effect; pods read them on every request.
#[derive(Debug, Default)]
pub struct Faults {
    delays: Mutex<BTreeMap<String, Delay>>,
    /// Error ratio by pod name, or by service name for every pod of it.
    errors: Mutex<BTreeMap<String, (f64, u16)>>,
}

impl Faults {
    /// Adds `delay` to a share of `service`'s requests (`None` removes it).
    pub fn set_delay(&self, service: &str, delay: Option<Delay>) {
        let mut d = self.delays.lock().expect("delays");
        match delay {
            Some(x) => d.insert(service.to_owned(), x),
            None => d.remove(service),
        };
    }

    /// Fails `ratio` of the requests of `target` (a pod or a whole service)
    /// with `code`; `ratio` 0 removes the fault.
    pub fn set_errors(&self, target: &str, ratio: f64, code: u16) {
        let mut e = self.errors.lock().expect("errors");
        if ratio > 0.0 {
            e.insert(target.to_owned(), (ratio, code));
        } else {
            e.remove(target);
        }
    }

    fn delay_of(&self, service: &str) -> Option<Delay> {
        self.delays.lock().expect("delays").get(service).copied()
    }

    fn errors_of(&self, pod: &str, service: &str) -> Option<(f64, u16)> {
        let e = self.errors.lock().expect("errors");
        e.get(pod).or_else(|| e.get(service)).copied()
    }
}

/// A small, fast random source per pod (SplitMix64): the demo needs
/// reproducible noise, not cryptography.
#[derive(Debug)]
struct Noise(Mutex<u64>);

impl Noise {
    fn new(seed: u64) -> Noise {
        Noise(Mutex::new(seed))
    }
    /// Uniform in [0, 1).
    fn next(&self) -> f64 {
        let mut s = self.0.lock().expect("noise");
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&self, lo_ms: u64, hi_ms: u64) -> Duration {
        Duration::from_micros(lo_ms * 1000 + (self.next() * ((hi_ms - lo_ms) * 1000) as f64) as u64)
    }
}

/// One replica.
struct Pod {
    name: String,
    service: &'static str,
    addr: SocketAddr,
    metrics: Mutex<Arc<Mutex<RequestMetrics>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    restarts: AtomicU64,
    noise: Noise,
}

#[derive(Clone)]
struct PodState {
    pod: Arc<Pod>,
    metrics: Arc<Mutex<RequestMetrics>>,
    faults: Arc<Faults>,
    /// Balancer URLs of the services this pod calls.
    upstream: Arc<BTreeMap<&'static str, String>>,
    http: reqwest::Client,
}

/// A service's balancer.
struct Balancer {
    service: &'static str,
    addr: SocketAddr,
    pods: Vec<Arc<Pod>>,
    next: AtomicUsize,
    answered: Mutex<RequestMetrics>,
    http: reqwest::Client,
}

/// What the load generator saw, from the client's side.
#[derive(Debug, Default)]
pub struct ClientCounts {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
}

/// The running shop. Dropping it stops every task it started.
pub struct Shop {
    pub faults: Arc<Faults>,
    pub client: Arc<ClientCounts>,
    balancers: Vec<Arc<Balancer>>,
    pods: BTreeMap<String, (Arc<Pod>, PodState)>,
    tasks: Vec<JoinHandle<()>>,
    restarts: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.restarts.lock().expect("restarts").iter() {
            t.abort();
        }
        for (pod, _) in self.pods.values() {
            if let Some(t) = pod.task.lock().expect("pod task").take() {
                t.abort();
            }
        }
    }
}

/// A scrape target of the shop: its address and its Prometheus labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub addr: SocketAddr,
    pub job: String,
    pub service: &'static str,
    pub name: String,
}

/// Binds `addr` with SO_REUSEADDR, so a restarted pod gets its port back
/// while old connections linger in TIME_WAIT.
fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, ShopError> {
    let err = |source| ShopError::Bind {
        what: what.to_owned(),
        addr,
        source,
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(1024).map_err(err)
}

/// Serves `app` on `listener`; every connection is a task of this future,
/// so dropping (aborting) it closes the listener and every connection.
async fn serve_owned(listener: TcpListener, app: Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        conns.spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

impl Shop {
    /// Starts the shop on `host`: with `base_port` 0 every listener gets a
    /// free port, otherwise service `i` uses `base_port + 10·i` for its
    /// balancer and the next ports for its pods. `rps` > 0 starts the load
    /// generator at that many orders per second.
    pub async fn start(host: IpAddr, base_port: u16, rps: f64) -> Result<Shop, ShopError> {
        let faults = Arc::new(Faults::default());
        let direct = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .map_err(ShopError::Client)?;
        let pooled = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(ShopError::Client)?;
        let port = |svc: usize, k: u16| {
            if base_port == 0 {
                0
            } else {
                base_port + 10 * svc as u16 + k
            }
        };
        // Bind everything first: the order pods need the balancers' URLs.
        let mut balancer_listeners = Vec::new();
        let mut pod_listeners = Vec::new();
        for (i, svc) in SERVICES.iter().enumerate() {
            let l = bind(
                SocketAddr::new(host, port(i, 0)),
                &format!("the {svc} balancer"),
            )?;
            balancer_listeners.push(l);
            for r in 0..REPLICAS {
                let name = format!("{svc}-{r}");
                let l = bind(
                    SocketAddr::new(host, port(i, 1 + r as u16)),
                    &format!("pod {name}"),
                )?;
                pod_listeners.push((i, name, l));
            }
        }
        let upstream: Arc<BTreeMap<&'static str, String>> = Arc::new(
            SERVICES
                .iter()
                .zip(&balancer_listeners)
                .map(|(s, l)| {
                    let a = l.local_addr().expect("bound");
                    (*s, format!("http://{a}"))
                })
                .collect(),
        );
        let mut shop = Shop {
            faults: faults.clone(),
            client: Arc::new(ClientCounts::default()),
            balancers: Vec::new(),
            pods: BTreeMap::new(),
            tasks: Vec::new(),
            restarts: Mutex::new(Vec::new()),
        };
        for (idx, (i, name, listener)) in pod_listeners.into_iter().enumerate() {
            let addr = listener.local_addr().map_err(|source| ShopError::Bind {
                what: format!("pod {name}"),
                addr: SocketAddr::new(host, 0),
                source,
            })?;
            let pod = Arc::new(Pod {
                name: name.clone(),
                service: SERVICES[i],
                addr,
                metrics: Mutex::new(Arc::new(Mutex::new(RequestMetrics::fresh()))),
                task: Mutex::new(None),
                restarts: AtomicU64::new(0),
                noise: Noise::new(0x5EED_0000 + idx as u64),
            });
            let state = PodState {
                pod: pod.clone(),
                metrics: pod.metrics.lock().expect("metrics").clone(),
                faults: faults.clone(),
                upstream: upstream.clone(),
                http: pooled.clone(),
            };
            let task = tokio::spawn(serve_owned(listener, pod_router(state.clone())));
            *pod.task.lock().expect("pod task") = Some(task);
            shop.pods.insert(name, (pod, state));
        }
        for (i, listener) in balancer_listeners.into_iter().enumerate() {
            let svc = SERVICES[i];
            let balancer = Arc::new(Balancer {
                service: svc,
                addr: listener.local_addr().expect("bound"),
                pods: (0..REPLICAS)
                    .map(|r| shop.pods[&format!("{svc}-{r}")].0.clone())
                    .collect(),
                next: AtomicUsize::new(0),
                answered: Mutex::new(RequestMetrics {
                    by_code: [(502, 0), (503, 0)].into_iter().collect(),
                    ..RequestMetrics::default()
                }),
                http: direct.clone(),
            });
            let app = Router::new()
                .route("/metrics", get(balancer_metrics))
                .fallback(any(forward))
                .with_state(balancer.clone());
            shop.tasks.push(tokio::spawn(serve_owned(listener, app)));
            shop.balancers.push(balancer);
        }
        if rps > 0.0 {
            let url = format!("{}/orders", upstream["order"]);
            shop.tasks
                .push(tokio::spawn(load(url, rps, pooled, shop.client.clone())));
        }
        Ok(shop)
    }

    /// The balancer URL of `service`.
    pub fn url(&self, service: &str) -> Option<String> {
        self.balancers
            .iter()
            .find(|b| b.service == service)
            .map(|b| format!("http://{}", b.addr))
    }

    /// Every `/metrics` endpoint: balancers first, then pods.
    pub fn targets(&self) -> Vec<Target> {
        let mut out: Vec<Target> = self
            .balancers
            .iter()
            .map(|b| Target {
                addr: b.addr,
                job: "shop-balancer".to_owned(),
                service: b.service,
                name: format!("{}-balancer", b.service),
            })
            .collect();
        let mut pods: Vec<&Arc<Pod>> = self.pods.values().map(|(p, _)| p).collect();
        pods.sort_by_key(|p| {
            (
                SERVICES.iter().position(|s| *s == p.service),
                p.name.clone(),
            )
        });
        out.extend(pods.into_iter().map(|p| Target {
            addr: p.addr,
            job: "shop".to_owned(),
            service: p.service,
            name: p.name.clone(),
        }));
        out
    }

    /// Kills `pod` at once (listener and connections dropped); with
    /// `restart_after` it comes back on the same port after that delay,
    /// with fresh counters and its restart counted. Returns false for an
    /// unknown pod.
    pub fn kill(&self, pod: &str, restart_after: Option<Duration>) -> bool {
        let Some((p, state)) = self.pods.get(pod) else {
            return false;
        };
        if let Some(t) = p.task.lock().expect("pod task").take() {
            t.abort();
        }
        if let Some(delay) = restart_after {
            let p = p.clone();
            let mut state = state.clone();
            let handle = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                // The old task is gone once its listener is closed; retry the bind briefly.
                let deadline = Instant::now() + Duration::from_secs(5);
                let listener = loop {
                    match bind(p.addr, &p.name) {
                        Ok(l) => break l,
                        Err(e) if Instant::now() > deadline => {
                            tracing::warn!(pod = %p.name, error = %e, "demo pod could not restart");
                            return;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                };
                let fresh = Arc::new(Mutex::new(RequestMetrics::fresh()));
                *p.metrics.lock().expect("metrics") = fresh.clone();
                state.metrics = fresh;
                p.restarts.fetch_add(1, Ordering::SeqCst);
                let task = tokio::spawn(serve_owned(listener, pod_router(state)));
                *p.task.lock().expect("pod task") = Some(task);
            });
            self.restarts.lock().expect("restarts").push(handle);
        }
        true
    }

    /// Whether `pod` is serving.
    pub fn is_up(&self, pod: &str) -> bool {
        self.pods
            .get(pod)
            .is_some_and(|(p, _)| p.task.lock().expect("pod task").is_some())
    }

    /// Restarts counted for `pod`.
    pub fn restarts(&self, pod: &str) -> u64 {
        self.pods
            .get(pod)
            .map_or(0, |(p, _)| p.restarts.load(Ordering::SeqCst))
    }
}

fn pod_router(state: PodState) -> Router {
    let api = match state.pod.service {
        "order" => Router::new().route("/orders", any(order)),
        "inventory" => Router::new().route("/reserve", any(leaf)),
        _ => Router::new().route("/notify", any(leaf)),
    };
    api.route("/metrics", get(pod_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

async fn pod_metrics(State(s): State<PodState>) -> Response {
    let labels = format!("service=\"{}\",pod=\"{}\"", s.pod.service, s.pod.name);
    let mut out = String::new();
    s.metrics
        .lock()
        .expect("metrics")
        .render(&mut out, &labels, true);
    text(out)
}

async fn balancer_metrics(State(b): State<Arc<Balancer>>) -> Response {
    let mut out = String::new();
    let labels = format!("service=\"{}\",pod=\"balancer\"", b.service);
    b.answered
        .lock()
        .expect("answered")
        .render(&mut out, &labels, false);
    out.push_str(
        "# HELP kube_pod_container_status_restarts_total Container restarts, as kube-state-metrics exports them.\n\
         # TYPE kube_pod_container_status_restarts_total counter\n",
    );
    for p in &b.pods {
        let _ = writeln!(
            out,
            "kube_pod_container_status_restarts_total{{namespace=\"shop\",pod=\"{}\",container=\"{}\"}} {}",
            p.name,
            p.service,
            p.restarts.load(Ordering::SeqCst)
        );
    }
    text(out)
}

fn text(body: String) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Applies this pod's faults and base latency; `Err` is the injected error status.
async fn work(s: &PodState, lo_ms: u64, hi_ms: u64) -> Result<(), u16> {
    let mut wait = s.pod.noise.between(lo_ms, hi_ms);
    if let Some(d) = s.faults.delay_of(s.pod.service)
        && s.pod.noise.next() < d.share
    {
        wait += d.extra;
    }
    tokio::time::sleep(wait).await;
    if let Some((ratio, code)) = s.faults.errors_of(&s.pod.name, s.pod.service)
        && s.pod.noise.next() < ratio
    {
        return Err(code);
    }
    Ok(())
}

fn record(s: &PodState, started: Instant, code: u16) -> Response {
    s.metrics
        .lock()
        .expect("metrics")
        .observe(code, started.elapsed().as_secs_f64());
    StatusCode::from_u16(code)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// Runs a request to the end even when the client gives up (a timed-out
/// caller does not stop the server's work), so it is always counted.
async fn to_completion<F>(handler: F) -> Response
where
    F: Future<Output = Response> + Send + 'static,
{
    tokio::spawn(handler)
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// inventory `/reserve` and notification `/notify`.
async fn leaf(State(s): State<PodState>) -> Response {
    to_completion(async move {
        let started = Instant::now();
        let code = match work(&s, 4, 20).await {
            Ok(()) => 200,
            Err(c) => c,
        };
        record(&s, started, code)
    })
    .await
}

/// How a call with retries ended.
enum Call {
    Ok,
    Failed,
    TimedOut,
}

async fn call(http: &reqwest::Client, url: &str, timeout: Duration, attempts: usize) -> Call {
    let mut last = Call::Failed;
    for _ in 0..attempts {
        match http.post(url).timeout(timeout).send().await {
            Ok(r) if r.status().is_success() => return Call::Ok,
            Ok(_) => last = Call::Failed,
            Err(e) if e.is_timeout() => last = Call::TimedOut,
            Err(_) => last = Call::Failed,
        }
    }
    last
}

/// order `/orders`: reserve stock (required), then notify (best effort).
async fn order(State(s): State<PodState>) -> Response {
    to_completion(place_order(s)).await
}

async fn place_order(s: PodState) -> Response {
    let started = Instant::now();
    if let Err(code) = work(&s, 2, 8).await {
        return record(&s, started, code);
    }
    let reserve = format!("{}/reserve", s.upstream["inventory"]);
    match call(&s.http, &reserve, INVENTORY_TIMEOUT, INVENTORY_ATTEMPTS).await {
        Call::Ok => {}
        Call::Failed => return record(&s, started, 503),
        Call::TimedOut => return record(&s, started, 504),
    }
    let notify = format!("{}/notify", s.upstream["notification"]);
    let _ = call(&s.http, &notify, NOTIFY_TIMEOUT, NOTIFY_ATTEMPTS).await;
    record(&s, started, 200)
}

/// The balancer: round robin; a refused connection moves on to the next
/// pod; no pod reachable, or a pod that died mid-request: the balancer
/// answers (503 / 502) and counts it.
async fn forward(State(b): State<Arc<Balancer>>, req: axum::extract::Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let first = b.next.fetch_add(1, Ordering::Relaxed);
    let mut answer = 503;
    for k in 0..b.pods.len() {
        let pod = &b.pods[(first + k) % b.pods.len()];
        let url = format!("http://{}{path}", pod.addr);
        match b
            .http
            .request(method.clone(), &url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status();
                let body = r.bytes().await.unwrap_or_default();
                return (status, body).into_response();
            }
            Err(e) if e.is_connect() => continue,
            Err(_) => {
                answer = 502;
                break;
            }
        }
    }
    b.answered
        .lock()
        .expect("answered")
        .observe(answer, started.elapsed().as_secs_f64());
    StatusCode::from_u16(answer)
        .unwrap_or(StatusCode::BAD_GATEWAY)
        .into_response()
}

/// Sends `rps` orders per second to `url` until aborted.
async fn load(url: String, rps: f64, http: reqwest::Client, counts: Arc<ClientCounts>) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rps));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (http, url, counts) = (http.clone(), url.clone(), counts.clone());
        tokio::spawn(async move {
            let ok = http
                .post(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let c = if ok { &counts.ok } else { &counts.failed };
            c.fetch_add(1, Ordering::Relaxed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_counts_cumulatively_and_exports_every_code() {
        let mut m = RequestMetrics::fresh();
        m.observe(200, 0.02);
        m.observe(504, 0.31);
        let mut out = String::new();
        m.render(&mut out, "service=\"order\",pod=\"order-0\"", true);
        assert!(
            out.contains("http_requests_total{service=\"order\",pod=\"order-0\",code=\"200\"} 1\n")
        );
        assert!(
            out.contains("http_requests_total{service=\"order\",pod=\"order-0\",code=\"500\"} 0\n")
        );
        assert!(
            out.contains("http_requests_total{service=\"order\",pod=\"order-0\",code=\"504\"} 1\n")
        );
        assert!(out.contains("le=\"0.025\"} 1\n"));
        assert!(out.contains("le=\"0.3\"} 1\n"));
        assert!(out.contains("le=\"0.4\"} 2\n"));
        assert!(out.contains("le=\"1\"} 2\n"));
        assert!(out.contains("le=\"+Inf\"} 2\n"));
        assert!(out.contains(
            "http_request_duration_seconds_count{service=\"order\",pod=\"order-0\"} 2\n"
        ));
    }

    #[test]
    fn noise_is_uniform_enough_and_reproducible() {
        let a = Noise::new(7);
        let b = Noise::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.next()).collect();
        assert_eq!(xs[..5], (0..5).map(|_| b.next()).collect::<Vec<_>>()[..]);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let below = xs.iter().filter(|x| **x < 0.2).count();
        assert!(
            (1_800..2_200).contains(&below),
            "{below} of 10000 below 0.2"
        );
    }

    #[test]
    fn a_pod_fault_wins_over_a_service_fault_and_zero_removes_it() {
        let f = Faults::default();
        f.set_errors("inventory", 0.1, 503);
        f.set_errors("inventory-1", 1.0, 500);
        assert_eq!(f.errors_of("inventory-1", "inventory"), Some((1.0, 500)));
        assert_eq!(f.errors_of("inventory-0", "inventory"), Some((0.1, 503)));
        f.set_errors("inventory", 0.0, 503);
        assert_eq!(f.errors_of("inventory-0", "inventory"), None);
    }
}
