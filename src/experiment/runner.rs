//! `verdict run`'s experiment: check the baseline has data, run the chaos
//! command (the fault window is its runtime) with the guardrail loop beside
//! it, stop it on a breach or Ctrl-C, and say when the fault started and
//! ended. Evaluation afterwards is the ordinary `verdict evaluate` path.

use std::process::ExitStatus;
use std::time::Duration;

use crate::prom::{PromClient, QueryData};
use crate::spec::model::Slo;
use crate::spec::promql::render_window;

use super::chaos::{ChaosError, ChaosProcess};
use super::guard::{GuardOutcome, check_guardrails};
use super::timeparse::promql_duration;

/// Unix seconds, with millisecond precision.
pub fn unix_now() -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    (now * 1000.0).floor() / 1000.0
}

/// Checks that every SLO's error ratio over the baseline window (ending at
/// `now`) is a number. Returns the problems found, one per SLO.
pub async fn check_baseline(
    client: &PromClient,
    slos: &[Slo],
    baseline_seconds: f64,
    now: f64,
) -> Vec<String> {
    let mut problems = Vec::new();
    for slo in slos {
        let q = render_window(
            &slo.sli.error_ratio_template(),
            &promql_duration(baseline_seconds),
        );
        match client.query_instant(&q, now).await {
            Ok(r) => match &r.data {
                QueryData::Vector(v) if v.len() == 1 && v[0].v.is_finite() => {}
                QueryData::Vector(v) if v.is_empty() => problems.push(format!(
                    "{}: no data in the baseline window (no series returned by {})",
                    slo.id,
                    q.replace('\n', " ")
                )),
                QueryData::Vector(v) if v.len() > 1 => problems.push(format!(
                    "{}: {} series returned where 1 was expected",
                    slo.id,
                    v.len()
                )),
                QueryData::Vector(v) => problems.push(format!(
                    "{}: the baseline error ratio is {} (no traffic?)",
                    slo.id, v[0].v
                )),
                other => problems.push(format!(
                    "{}: unexpected {} result",
                    slo.id,
                    other.result_type()
                )),
            },
            Err(e) => problems.push(format!("{}: {e}", slo.id)),
        }
    }
    problems
}

/// How the chaos command's run ended.
#[derive(Debug)]
pub struct ChaosRun {
    pub fault_start: f64,
    pub fault_end: f64,
    /// The command's exit status (after it was stopped, if it was).
    pub status: ExitStatus,
    /// The guardrail breaches that stopped it.
    pub aborted: Option<Vec<String>>,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Guard checks that could not be made (missing data), deduplicated.
    pub unchecked: Vec<String>,
}

impl ChaosRun {
    /// Why the run itself failed, if it did: a breach, an interruption, or
    /// the command's own failure.
    pub fn failure(&self, command: &str) -> Option<String> {
        if let Some(reasons) = &self.aborted {
            return Some(format!("aborted by the guardrails: {}", reasons.join("; ")));
        }
        if self.interrupted {
            return Some(format!("`{command}` was interrupted (Ctrl-C)"));
        }
        if !self.status.success() {
            return Some(match self.status.code() {
                Some(code) => format!("`{command}` exited with status {code}"),
                None => format!("`{command}` was killed by a signal"),
            });
        }
        None
    }
}

/// Runs the chaos command with the guardrail loop every `guard_interval`.
/// `on_tick` is called after each guard check with the seconds since the
/// fault started (for a progress line).
pub async fn run_chaos(
    client: &PromClient,
    slos: &[Slo],
    program: &str,
    args: &[String],
    guard_interval: Duration,
    mut on_tick: impl FnMut(f64),
) -> Result<ChaosRun, ChaosError> {
    let fault_start = unix_now();
    let mut process = ChaosProcess::spawn(program, args)?;
    let mut aborted = None;
    let mut interrupted = false;
    let mut unchecked: Vec<String> = Vec::new();
    let status = loop {
        tokio::select! {
            status = process.wait() => break status?,
            _ = tokio::signal::ctrl_c() => {
                interrupted = true;
                break process.stop(Duration::from_secs(5)).await?;
            }
            _ = tokio::time::sleep(guard_interval) => {
                let now = unix_now();
                on_tick(now - fault_start);
                match check_guardrails(client, slos, fault_start, now).await {
                    Ok(GuardOutcome::Abort { reasons }) => {
                        aborted = Some(reasons);
                        break process.stop(Duration::from_secs(5)).await?;
                    }
                    Ok(GuardOutcome::Continue { unchecked: u }) => {
                        for item in u {
                            if !unchecked.contains(&item) {
                                unchecked.push(item);
                            }
                        }
                    }
                    Err(e) => {
                        let item = format!("guardrails: {e}");
                        if !unchecked.contains(&item) {
                            unchecked.push(item);
                        }
                    }
                }
            }
        }
    };
    Ok(ChaosRun {
        fault_start,
        fault_end: unix_now(),
        status,
        aborted,
        interrupted,
        unchecked,
    })
}
