//! The Markdown summary, for pull requests and CI step summaries
//! (`$GITHUB_STEP_SUMMARY`).
//!
//! Rendered from `templates/summary.md.tera` over the shared view model
//! ([`super::view`]); every value from labels, names or queries is
//! Markdown-escaped or put in a code span (see [`super::templates`]). No
//! charts (CI summaries cannot embed local images). No I/O.

use super::templates::{SUMMARY_MD, Templates};
use super::view::build_view;
use super::{Report, ReportError, ReportExtras};

/// The Markdown summary of a report, from the embedded template.
pub fn render_markdown(report: &Report) -> Result<String, ReportError> {
    render_markdown_with(report, &ReportExtras::default(), Templates::embedded()?)
}

/// The Markdown summary with the experiment, trend and links of `extras`,
/// from `templates`.
pub fn render_markdown_with(
    report: &Report,
    extras: &ReportExtras,
    templates: &Templates,
) -> Result<String, ReportError> {
    let view = build_view(report, extras, &[]);
    Ok(templates.render(SUMMARY_MD, &view)?)
}
