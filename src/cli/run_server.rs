//! `verdict run --server URL`: the same chaos step, with the experiment
//! registered on a verdict server. The server checks the guardrails (this
//! process stops the command when the server aborts the experiment),
//! observes recovery, evaluates and stores the verdict; this process waits
//! for it and exits like `verdict evaluate`.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

use super::evaluate::exit_code;
use super::exit;
use super::run::RunArgs;
use crate::eval::Outcome;
use crate::experiment::chaos::ChaosProcess;
use crate::spec::PromDuration;

/// A small client of verdict's API (also used by `verdict demo`): JSON in
/// and out, problem+json `detail` as the error.
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) http: reqwest::Client,
}

impl Api {
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        if status.is_success() {
            Ok(value)
        } else {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or(text);
            Err(format!(
                "{method} {path}: HTTP {}: {detail}",
                status.as_u16()
            ))
        }
    }
}

/// Polls experiment `id` until it is completed, aborted or in error (its
/// verdict is then stored, or why not); an error after `limit`.
pub(crate) async fn wait_finished(api: &Api, id: &str, limit: Duration) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let exp = api
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/experiments/{id}"),
                None,
            )
            .await?;
        if matches!(
            exp["status"].as_str(),
            Some("completed" | "aborted" | "error")
        ) {
            return Ok(exp);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "experiment {id} did not finish within {}s (status {})",
                limit.as_secs(),
                exp["status"]
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn token(args: &RunArgs) -> Result<String, String> {
    if let Some(path) = &args.token_file {
        return std::fs::read_to_string(path)
            .map(|t| t.trim().to_owned())
            .map_err(|e| format!("--token-file {}: cannot read: {e}", path.display()));
    }
    args.token
        .clone()
        .ok_or_else(|| "--server needs --token, --token-file or VERDICT_TOKEN".to_owned())
}

/// Runs the experiment through the server; returns the exit code, or an
/// error message for usage and server problems (exit 2).
pub fn run_on_server(
    args: &RunArgs,
    server: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, String> {
    let token = token(args)?;
    let guard =
        PromDuration::parse(&args.guard_interval).map_err(|e| format!("--guard-interval: {e}"))?;
    let observe = PromDuration::parse(&args.observe).map_err(|e| format!("--observe: {e}"))?;
    let service = match args.services.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err("--server needs exactly one --service: the experiment's target".to_owned());
        }
    };
    let (program, program_args) = args
        .command
        .split_first()
        .ok_or_else(|| "give the chaos command after `--`".to_owned())?;
    let command_line = args.command.join(" ");
    let api = Api {
        base: server.trim_end_matches('/').to_owned(),
        token,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    runtime.block_on(async {
        let created = api
            .call(
                reqwest::Method::POST,
                "/api/v1/experiments",
                Some(json!({
                    "name": args.name.clone().unwrap_or_else(|| command_line.clone()),
                    "target": {"service": service},
                    "type": args.fault_type,
                    "baseline": args.baseline,
                    "observe_recovery": args.observe,
                })),
            )
            .await?;
        let id = created["id"].as_str().ok_or("the server returned no experiment id")?.to_owned();
        let _ = writeln!(err, "verdict run: experiment {id} registered on {}", api.base);
        api.call(reqwest::Method::POST, &format!("/api/v1/experiments/{id}/start"), Some(json!({})))
            .await?;
        let mut process = ChaosProcess::spawn(program, program_args).map_err(|e| e.to_string())?;
        let mut aborted: Option<String> = None;
        let status = loop {
            tokio::select! {
                status = process.wait() => break status.map_err(|e| e.to_string())?,
                _ = tokio::time::sleep(guard.as_std()) => {
                    let exp = api.call(reqwest::Method::GET, &format!("/api/v1/experiments/{id}"), None).await?;
                    if exp["status"] == "aborted" {
                        aborted = Some(exp["abort_reason"].as_str().unwrap_or("aborted").to_owned());
                        break process.stop(Duration::from_secs(5)).await.map_err(|e| e.to_string())?;
                    }
                }
            }
        };
        if aborted.is_none() {
            api.call(reqwest::Method::POST, &format!("/api/v1/experiments/{id}/end"), Some(json!({})))
                .await?;
        }
        // Wait for the verdict: the observation, then the evaluation.
        let exp = wait_finished(&api, &id, observe.as_std() + Duration::from_secs(300)).await?;
        let command_failed = if let Some(reason) = &aborted {
            Some(format!("aborted by the server's guardrails: {reason}"))
        } else if !status.success() {
            Some(format!("`{command_line}` exited with {status}"))
        } else {
            None
        };
        let outcome = match exp["status"].as_str() {
            Some("completed") => {
                let verdict = api
                    .call(reqwest::Method::GET, &format!("/api/v1/experiments/{id}/verdict"), None)
                    .await?;
                if let Some(path) = &args.outputs.json {
                    let text = serde_json::to_string_pretty(&verdict).map_err(|e| e.to_string())?;
                    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                let _ = writeln!(out, "verdict: {}", verdict["verdict"].as_str().unwrap_or("?"));
                for r in verdict["reasons"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "  {}", r.as_str().unwrap_or_default());
                }
                match verdict["verdict"].as_str() {
                    Some("pass") => Outcome::Pass,
                    Some("warn") => Outcome::Warn,
                    Some("fail") => Outcome::Fail,
                    _ => Outcome::Inconclusive,
                }
            }
            Some("aborted") => {
                let _ = writeln!(out, "verdict: fail (experiment {id} aborted: {})", exp["abort_reason"].as_str().unwrap_or("?"));
                Outcome::Fail
            }
            _ => {
                let _ = writeln!(out, "verdict: inconclusive (experiment {id} ended in error: {})", exp["error"].as_str().unwrap_or("?"));
                Outcome::Inconclusive
            }
        };
        if let Some(reason) = &command_failed {
            let _ = writeln!(err, "verdict run: {reason}");
            return Ok(exit::FAIL);
        }
        Ok(exit_code(outcome, args.outputs.fail_on_warn))
    })
}
