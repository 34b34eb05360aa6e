//! The JSON output: the [`Report`] serialized, pretty-printed.
//!
//! The schema is documented field by field in docs/evaluation.md and a test
//! holds the two together. Times are Unix seconds, ratios and budgets are
//! fractions, durations are seconds; a number that could not be measured is
//! `null` and its reason is listed in `unavailable` (and in the reasons of
//! the checks it made inconclusive).

use super::{Report, ReportError};

/// The report as pretty-printed JSON, with a trailing newline.
pub fn render_json(report: &Report) -> Result<String, ReportError> {
    let mut text =
        serde_json::to_string_pretty(report).map_err(|e| ReportError::Json(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
