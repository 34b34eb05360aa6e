//! A live test target for experiments that run in real time: a tiny HTTP
//! service on 127.0.0.1 whose `/metrics` counts requests at a steady rate,
//! with an error ratio that a chaos command changes through
//! `GET /fault?ratio=0.5`, and a Prometheus that scrapes it every second.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;

use crate::harness::PromServer;

#[derive(Debug)]
struct Counters {
    last: Instant,
    ok: f64,
    errors: f64,
    ratio: f64,
    rps: f64,
}

impl Counters {
    /// Integrates the rates up to now.
    fn advance(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.ok += self.rps * (1.0 - self.ratio) * dt;
        self.errors += self.rps * self.ratio * dt;
    }
}

/// The target: a service named `checkout` serving `rps` requests per second.
pub struct LiveTarget {
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LiveTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(serde::Deserialize)]
struct FaultQuery {
    ratio: f64,
}

impl LiveTarget {
    pub async fn start(rps: f64) -> LiveTarget {
        let state = Arc::new(Mutex::new(Counters {
            last: Instant::now(),
            ok: 0.0,
            errors: 0.0,
            ratio: 0.0,
            rps,
        }));
        let app = Router::new()
            .route(
                "/metrics",
                get(|State(s): State<Arc<Mutex<Counters>>>| async move {
                    let mut c = s.lock().expect("counters");
                    c.advance();
                    format!(
                        "# TYPE http_requests_total counter\n\
                         http_requests_total{{service=\"checkout\",code=\"200\"}} {}\n\
                         http_requests_total{{service=\"checkout\",code=\"500\"}} {}\n",
                        c.ok, c.errors
                    )
                }),
            )
            .route(
                "/fault",
                get(
                    |State(s): State<Arc<Mutex<Counters>>>, Query(q): Query<FaultQuery>| async move {
                        let mut c = s.lock().expect("counters");
                        c.advance();
                        c.ratio = q.ratio.clamp(0.0, 1.0);
                        format!("error ratio now {}\n", c.ratio)
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the live target");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LiveTarget { addr, task }
    }

    /// A Prometheus scraping this target every second.
    pub async fn prometheus(&self) -> PromServer {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: ['{}']\n",
            self.addr
        );
        PromServer::start_live(&config)
            .await
            .expect("live prometheus")
    }

    /// The URL a chaos command calls to set the error ratio.
    pub fn fault_url(&self, ratio: f64) -> String {
        format!("http://{}/fault?ratio={ratio}", self.addr)
    }
}
