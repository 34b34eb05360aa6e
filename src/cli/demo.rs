//! `verdict demo`: flags and exit codes; the work is in [`crate::demo`].

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;

use super::evaluate::exit_code;
use super::exit;
use crate::demo::{DemoOptions, Scenario, Timing};
use crate::spec::PromDuration;

#[derive(Debug, Args)]
#[command(after_help = "Scenarios (--scenario):\n  \
kill-and-latency  kill pod order-1 (restarts after a delay) + 300ms on 20% of inventory's requests → warn\n  \
latency           only the inventory latency → warn\n  \
error-burst       inventory answers 10% of requests with 503 → pass\n  \
no-recovery       inventory-1 fails 10% of requests and stays broken → fail\n\n\
Needs Prometheus and Alertmanager (Debian: apt-get install prometheus prometheus-alertmanager; `make demo` installs them).\n\
Exit codes as `verdict evaluate`: 0 pass or warn, 1 fail, 3 inconclusive; 2 when the demo could not run; 130 when interrupted.\nHow it works: docs/demo.md.\n\
Examples:\n  verdict demo\n  verdict demo --scenario no-recovery --out /tmp/no-recovery\n  verdict demo --quick --serve")]
pub struct DemoArgs {
    /// The fault to inject (see below).
    #[arg(long, value_enum, default_value = "kill-and-latency")]
    pub scenario: Scenario,
    /// Where the reports (HTML, Markdown, JSON, JUnit, chart PNGs) are written.
    #[arg(long, default_value = "verdict-demo")]
    pub out: PathBuf,
    /// SLO specs to load; the demo shop serves the metrics of slos/.
    #[arg(long, default_value = "slos")]
    pub slos: PathBuf,
    /// Shorter phases (baseline 20s, fault 20s, recovery 45s): about 1.5 minutes instead of 3.
    #[arg(long)]
    pub quick: bool,
    /// Baseline length before the fault (default 60s, 20s with --quick).
    #[arg(long, value_name = "DURATION")]
    pub baseline: Option<String>,
    /// Fault length (default 45s, 20s with --quick).
    #[arg(long, value_name = "DURATION")]
    pub fault: Option<String>,
    /// Recovery observed after the fault (default 60s, 45s with --quick).
    #[arg(long, value_name = "DURATION")]
    pub recovery: Option<String>,
    /// Keep the server, shop and Prometheus running after the verdict, to browse the report pages and API; Ctrl-C stops.
    #[arg(long)]
    pub serve: bool,
    /// Where verdict's server listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Orders per second sent to the shop.
    #[arg(long, default_value_t = 20.0)]
    pub rps: f64,
    /// Keep Prometheus, Alertmanager and SQLite files here instead of a temporary directory that is removed.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Run only the demo shop and its load on fixed ports, until stopped (for docker-compose).
    #[arg(long)]
    pub shop_only: bool,
    /// Address of the shop with --shop-only.
    #[arg(long, default_value = "127.0.0.1")]
    pub shop_host: IpAddr,
    /// First port with --shop-only: order's balancer; pods on the next ports, inventory at +10, notification at +20.
    #[arg(long, default_value_t = 8000)]
    pub shop_port: u16,
}

fn duration(
    flag: &str,
    given: &Option<String>,
    default: std::time::Duration,
) -> Result<std::time::Duration, String> {
    match given {
        None => Ok(default),
        Some(text) => PromDuration::parse(text)
            .map(|d| d.as_std())
            .map_err(|e| format!("--{flag}: {e}")),
    }
}

fn options(args: &DemoArgs) -> Result<DemoOptions, String> {
    let base = if args.quick {
        Timing::QUICK
    } else {
        Timing::DEFAULT
    };
    let timing = Timing {
        baseline: duration("baseline", &args.baseline, base.baseline)?,
        fault: duration("fault", &args.fault, base.fault)?,
        recovery: duration("recovery", &args.recovery, base.recovery)?,
        restart_after: base.restart_after,
    };
    if timing.baseline.as_secs() < 10 || timing.fault.as_secs() < 10 {
        return Err(
            "--baseline and --fault must be at least 10s: the verdict needs samples on both sides"
                .to_owned(),
        );
    }
    if !(args.rps > 0.0 && args.rps <= 500.0) {
        return Err("--rps must be above 0 and at most 500".to_owned());
    }
    Ok(DemoOptions {
        scenario: args.scenario,
        timing,
        out: args.out.clone(),
        slos: args.slos.clone(),
        work_dir: args.work_dir.clone(),
        serve: args.serve,
        listen: args.listen,
        rps: args.rps,
        colour: std::io::stdout().is_terminal(),
    })
}

pub fn run(args: &DemoArgs) -> i32 {
    let options = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("verdict demo: {e}");
            return exit::INVALID;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verdict demo: cannot start the async runtime: {e}");
            return exit::INVALID;
        }
    };
    let mut out = std::io::stdout();
    let result = runtime.block_on(async {
        if args.shop_only {
            crate::demo::run_shop(args.shop_host, args.shop_port, args.rps, &mut out)
                .await
                .map(|()| Some(crate::eval::Outcome::Pass))
        } else {
            crate::demo::run(&options, &mut out).await
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(Some(outcome)) => exit_code(outcome, false),
        Ok(None) => 130,
        Err(e) => {
            eprintln!("verdict demo: {e}");
            exit::INVALID
        }
    }
}
