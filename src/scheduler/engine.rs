//! The real [`Evaluator`]: the same evaluation `verdict evaluate` runs,
//! and the guardrails of [`crate::experiment::guard`], against Prometheus.
//!
//! The stored verdict body is exactly `verdict evaluate --format json` for
//! the experiment's window, so the API and the CLI cannot disagree.

use std::sync::Arc;

use crate::experiment::guard::{GuardOutcome, check_guardrails};
use crate::experiment::runner::unix_now;
use crate::experiment::{ExperimentWindow, Resolution, RunOptions, evaluate_plan, plan_queries};
use crate::prom::PromClient;
use crate::report::{QueryStatus, Report};
use crate::spec::{Indicator, Slo, SpecSet};
use crate::store::ExperimentRow;

use super::{BoxFuture, EvalFailure, EvalWindow, Evaluator, GuardDecision, StoredVerdict};

/// An experiment's SLOs, and the indicators of their services.
type Selection = (Vec<Slo>, Vec<(String, Indicator)>);

/// Evaluates experiments with the loaded specs and a Prometheus client.
pub struct PromEvaluator {
    specs: Arc<SpecSet>,
    client: PromClient,
    resolution: Resolution,
    concurrency: usize,
}

impl PromEvaluator {
    pub fn new(
        specs: Arc<SpecSet>,
        client: PromClient,
        resolution: Resolution,
        concurrency: usize,
    ) -> Self {
        PromEvaluator {
            specs,
            client,
            resolution,
            concurrency: concurrency.max(1),
        }
    }

    /// The experiment's SLOs and the indicators of their services; an SLO
    /// that is no longer loaded is a permanent failure, never a silent skip.
    fn selection(&self, exp: &ExperimentRow) -> Result<Selection, EvalFailure> {
        let mut slos = Vec::new();
        for id in exp.slo_ids.0.iter() {
            match self.specs.slos().find(|s| &s.id == id) {
                Some(slo) => slos.push(slo.clone()),
                None => {
                    return Err(EvalFailure::permanent(format!(
                        "SLO `{id}` of this experiment is no longer in the loaded specs"
                    )));
                }
            }
        }
        let indicators = self
            .specs
            .services
            .iter()
            .filter(|svc| slos.iter().any(|s| s.service == svc.name))
            .flat_map(|svc| svc.indicators.iter().map(|i| (svc.name.clone(), i.clone())))
            .collect();
        Ok((slos, indicators))
    }
}

/// Every query failed to reach Prometheus: worth retrying later rather than
/// storing an inconclusive verdict for an outage of our own dependency.
fn prometheus_unreachable(report: &Report) -> Option<String> {
    let all_failed = !report.queries.is_empty()
        && report
            .queries
            .iter()
            .all(|q| q.status == QueryStatus::Failed);
    if all_failed {
        report.queries[0]
            .error
            .clone()
            .or_else(|| Some("Prometheus failed".into()))
    } else {
        None
    }
}

impl Evaluator for PromEvaluator {
    fn evaluate<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>> {
        Box::pin(async move {
            let (slos, indicators) = self.selection(exp)?;
            let w = ExperimentWindow::new(
                window.fault_start,
                window.observe_end,
                Some(window.fault_start),
                Some(window.fault_end),
                Some(window.fault_start - window.baseline_start),
            )
            .map_err(|e| EvalFailure::permanent(e.to_string()))?;
            let plan = plan_queries(&w, &self.resolution, &slos, &indicators)
                .map_err(|e| EvalFailure::permanent(e.to_string()))?;
            let options = RunOptions {
                concurrency: self.concurrency,
                now: unix_now(),
                progress: None,
            };
            let report = evaluate_plan(&self.client, &plan, &options).await;
            if let Some(reason) = prometheus_unreachable(&report) {
                return Err(EvalFailure::prometheus(reason));
            }
            let body = crate::report::json::render_json(&report)
                .map_err(|e| EvalFailure::permanent(format!("rendering the verdict: {e}")))?;
            Ok(StoredVerdict {
                outcome: report.verdict,
                body,
            })
        })
    }

    fn guard<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>> {
        Box::pin(async move {
            let (slos, _) = self.selection(exp)?;
            let Some(fault_start) = exp.fault_start else {
                return Ok(GuardDecision::Continue);
            };
            let fault_start = fault_start.timestamp_micros() as f64 / 1e6;
            match check_guardrails(&self.client, &slos, fault_start, now).await {
                Ok(GuardOutcome::Continue { unchecked }) => {
                    for u in unchecked {
                        tracing::warn!(experiment = %exp.id, "guardrail not checked: {u}");
                    }
                    Ok(GuardDecision::Continue)
                }
                Ok(GuardOutcome::Abort { reasons }) => Ok(GuardDecision::Abort {
                    reason: reasons.join("; "),
                }),
                Err(e) => Err(EvalFailure::prometheus(e.to_string())),
            }
        })
    }
}
