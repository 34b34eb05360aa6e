//! A small deterministic evaluator for the server tests, querying the real
//! Prometheus of the harness. It stands in for the evaluation engine so the
//! tests exercise the scheduler, leases, crash safety and exactly-once
//! storage with real queries, not canned answers.
//!
//! - evaluate: per SLO, the error ratio `E` over the fault window (one
//!   instant query at the fault end), burn `E / B`, budget consumed
//!   `burn × window / 30d`; fail above the SLO's `max_budget_consumed`, warn
//!   above half of it, inconclusive without data; the worst outcome wins.
//! - guard: per SLO, the 5m burn rate at `now`; abort above the SLO's
//!   `abort_burn_rate`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;
use verdict::eval::Outcome;
use verdict::prom::{PromClient, QueryData};
use verdict::scheduler::{
    BoxFuture, EvalFailure, EvalWindow, Evaluator, GuardDecision, StoredVerdict,
};
use verdict::spec::{SpecSet, promql::render_window};
use verdict::store::ExperimentRow;

const PERIOD_SECONDS: f64 = 30.0 * 86_400.0;

/// Who evaluated what, shared by every evaluator of a test.
#[derive(Clone, Default)]
pub struct Calls(Arc<Mutex<Vec<(String, Uuid)>>>);

impl Calls {
    pub fn record(&self, by: &str, id: Uuid) {
        self.0.lock().expect("calls lock").push((by.to_owned(), id));
    }
    /// Evaluations per experiment.
    pub fn per_experiment(&self) -> HashMap<Uuid, usize> {
        let mut m = HashMap::new();
        for (_, id) in self.0.lock().expect("calls lock").iter() {
            *m.entry(*id).or_insert(0) += 1;
        }
        m
    }
    /// Evaluations per evaluator name.
    pub fn per_evaluator(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (by, _) in self.0.lock().expect("calls lock").iter() {
            *m.entry(by.clone()).or_insert(0) += 1;
        }
        m
    }
    pub fn total(&self) -> usize {
        self.0.lock().expect("calls lock").len()
    }
}

/// See the module docs.
pub struct RatioEvaluator {
    pub name: String,
    pub specs: Arc<SpecSet>,
    pub prom: PromClient,
    pub calls: Calls,
    /// Extra time each evaluation takes.
    pub delay: Duration,
    /// When set, an evaluation reports its start here and then never ends
    /// (the test kills or stops the server meanwhile).
    pub hang: Option<mpsc::UnboundedSender<Uuid>>,
}

impl RatioEvaluator {
    pub fn new(name: &str, specs: &Arc<SpecSet>, prom: &PromClient, calls: &Calls) -> Self {
        RatioEvaluator {
            name: name.to_owned(),
            specs: specs.clone(),
            prom: prom.clone(),
            calls: calls.clone(),
            delay: Duration::ZERO,
            hang: None,
        }
    }

    async fn error_ratio(
        &self,
        template: &str,
        window: &str,
        at: f64,
    ) -> Result<Option<f64>, EvalFailure> {
        let query = render_window(template, window);
        let result = self
            .prom
            .query_instant(&query, at)
            .await
            .map_err(|e| EvalFailure::prometheus(e.to_string()))?;
        Ok(match result.data {
            QueryData::Vector(samples) if samples.len() == 1 && samples[0].v.is_finite() => {
                Some(samples[0].v)
            }
            QueryData::Scalar { v, .. } if v.is_finite() => Some(v),
            _ => None,
        })
    }
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Pass => 0,
        Outcome::Warn => 1,
        Outcome::Inconclusive => 2,
        Outcome::Fail => 3,
    }
}

impl Evaluator for RatioEvaluator {
    fn evaluate<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>> {
        Box::pin(async move {
            self.calls.record(&self.name, exp.id);
            if let Some(tx) = &self.hang {
                let _ = tx.send(exp.id);
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(self.delay).await;
            let seconds = (window.fault_end - window.fault_start).round();
            let mut checks = Vec::new();
            let mut worst = Outcome::Pass;
            for id in &exp.slo_ids.0 {
                let slo = self
                    .specs
                    .slos()
                    .find(|s| &s.id == id)
                    .ok_or_else(|| EvalFailure::permanent(format!("SLO {id} is not loaded")))?;
                let budget = slo.error_budget();
                let ratio = self
                    .error_ratio(
                        &slo.sli.error_ratio_template(),
                        &format!("{seconds}s"),
                        window.fault_end,
                    )
                    .await?;
                let (outcome, burn, consumed) = match ratio {
                    None => (Outcome::Inconclusive, None, None),
                    Some(e) => {
                        let burn = e / budget;
                        let consumed = burn * seconds / PERIOD_SECONDS;
                        let limit = slo.verdict.max_budget_consumed;
                        let o = if consumed > limit {
                            Outcome::Fail
                        } else if consumed > limit / 2.0 {
                            Outcome::Warn
                        } else {
                            Outcome::Pass
                        };
                        (o, Some(burn), Some(consumed))
                    }
                };
                if rank(outcome) > rank(worst) {
                    worst = outcome;
                }
                checks.push(json!({
                    "slo": id,
                    "error_ratio": ratio,
                    "burn_rate": burn,
                    "budget_consumed": consumed,
                    "outcome": outcome.as_str(),
                }));
            }
            let body = json!({
                "experiment": exp.id,
                "window": {
                    "baseline_start": window.baseline_start,
                    "fault_start": window.fault_start,
                    "fault_end": window.fault_end,
                    "observe_end": window.observe_end,
                },
                "slos": checks,
                "outcome": worst.as_str(),
            });
            Ok(StoredVerdict {
                outcome: worst,
                body: body.to_string(),
            })
        })
    }

    fn guard<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>> {
        Box::pin(async move {
            for id in &exp.slo_ids.0 {
                let Some(slo) = self.specs.slos().find(|s| &s.id == id) else {
                    continue;
                };
                let ratio = self
                    .error_ratio(&slo.sli.error_ratio_template(), "5m", now)
                    .await?;
                if let Some(e) = ratio {
                    let burn = e / slo.error_budget();
                    if burn > slo.verdict.abort_burn_rate {
                        return Ok(GuardDecision::Abort {
                            reason: format!(
                                "{id}: 5m burn rate {burn:.1} above {}",
                                slo.verdict.abort_burn_rate
                            ),
                        });
                    }
                }
            }
            Ok(GuardDecision::Continue)
        })
    }
}

/// For tests where evaluation is beside the point (auth, input errors):
/// every guard check continues and every evaluation fails permanently.
pub struct NoEvaluation;

impl Evaluator for NoEvaluation {
    fn evaluate<'a>(
        &'a self,
        exp: &'a ExperimentRow,
        _window: EvalWindow,
    ) -> BoxFuture<'a, Result<StoredVerdict, EvalFailure>> {
        Box::pin(async move {
            Err(EvalFailure::permanent(format!(
                "this test server does not evaluate; experiment {} cannot be judged",
                exp.id
            )))
        })
    }

    fn guard<'a>(
        &'a self,
        _exp: &'a ExperimentRow,
        _now: f64,
    ) -> BoxFuture<'a, Result<GuardDecision, EvalFailure>> {
        Box::pin(async { Ok(GuardDecision::Continue) })
    }
}
