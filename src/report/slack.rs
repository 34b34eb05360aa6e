//! The Slack message of a report: Block Kit JSON.
//!
//! Rendered from `templates/slack.json.tera` over the shared view model;
//! every value is Slack-escaped (`&`, `<`, `>`, so `<!channel>` or
//! `<@U123>` in a name stays text) and JSON-escaped. The output is parsed
//! and checked before it is returned: a template that produces invalid
//! JSON or a message Slack would refuse is an error naming the template.
//! Charts appear as image blocks only when the caller serves them
//! ([`ReportExtras::chart_base_url`]). Sending is the notify module's job.

use super::charts::report_charts;
use super::templates::{SLACK_JSON, TemplateError, Templates};
use super::view::{ChartView, RenderedChart, build_view};
use super::{Report, ReportError, ReportExtras};

/// Slack accepts at most 50 blocks in a message.
pub const MAX_BLOCKS: usize = 50;

/// The Block Kit message for `report` with `extras`, from `templates`:
/// an object with `text` (the notification fallback) and `blocks`.
pub fn render_slack(
    report: &Report,
    extras: &ReportExtras,
    templates: &Templates,
) -> Result<serde_json::Value, ReportError> {
    let charts: Vec<RenderedChart> = match extras.chart_base_url.as_deref() {
        Some(base) => report_charts(report)
            .into_iter()
            .map(|c| RenderedChart {
                subject: c.subject,
                view: ChartView {
                    src: format!("{}/{}.png", base.trim_end_matches('/'), c.id),
                    src_small: String::new(),
                    id: c.id,
                    title: c.chart.title,
                    alt: c.alt,
                    width: super::email::CHART_SIZE.0,
                    height: super::email::CHART_SIZE.1,
                },
            })
            .collect(),
        None => Vec::new(),
    };
    let view = build_view(report, extras, &charts);
    let text = templates.render(SLACK_JSON, &view)?;
    let file = match templates.origin(SLACK_JSON) {
        Some(super::templates::Origin::File(p)) => p.display().to_string(),
        _ => format!("templates/{SLACK_JSON}"),
    };
    let invalid = |message: String| {
        ReportError::Template(TemplateError::InvalidOutput {
            file: file.clone(),
            message,
        })
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
        invalid(format!(
            "the rendered message is not valid JSON: {e}\n  {}: {line}",
            e.line()
        ))
    })?;
    let blocks = value
        .get("blocks")
        .and_then(|b| b.as_array())
        .ok_or_else(|| invalid("the message has no \"blocks\" array".to_owned()))?;
    if blocks.len() > MAX_BLOCKS {
        return Err(invalid(format!(
            "the message has {} blocks; Slack accepts at most {MAX_BLOCKS}",
            blocks.len()
        )));
    }
    if let Some(i) = blocks
        .iter()
        .position(|b| b.get("type").and_then(|t| t.as_str()).is_none())
    {
        return Err(invalid(format!("block {i} has no \"type\"")));
    }
    Ok(value)
}
