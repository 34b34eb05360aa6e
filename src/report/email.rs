//! The email of a report: a subject, a plain-text body and an HTML body
//! whose charts are PNG attachments referenced by `cid:` (mail clients
//! block `data:` images and most do not show SVG).
//!
//! Rendered from `templates/email.txt.tera` (no escaping: plain text) and
//! `templates/email.html.tera` (HTML-escaped) over the shared view model.
//! Sending is the notify module's job; nothing is sent here. No I/O.

use super::charts::report_charts;
use super::templates::{EMAIL_HTML, EMAIL_TEXT, Templates};
use super::view::{ChartView, RenderedChart, build_view};
use super::{Report, ReportError, ReportExtras};

/// Size of the chart PNGs: drawn at twice the ~600 pixels they are shown
/// at (sharp on high-density screens)…
pub const CHART_SIZE: (u32, u32) = (1200, 450);
/// …so with text twice the usual size.
pub const CHART_TEXT_SCALE: f64 = 2.0;

/// An image the HTML body shows with `<img src="cid:<content_id>">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// The `Content-ID` (without angle brackets).
    pub content_id: String,
    /// A file name for clients that show it as an attachment.
    pub filename: String,
    /// `image/png`.
    pub content_type: &'static str,
    /// The PNG.
    pub data: Vec<u8>,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// One line, no control characters.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// The charts the HTML part references.
    pub images: Vec<InlineImage>,
}

/// The email for `report` with `extras`, from `templates`.
pub fn render_email(
    report: &Report,
    extras: &ReportExtras,
    templates: &Templates,
) -> Result<Email, ReportError> {
    let mut images = Vec::new();
    let mut charts = Vec::new();
    for c in report_charts(report) {
        let png = c.chart.render_png_scaled(CHART_SIZE, CHART_TEXT_SCALE)?;
        let content_id = format!("{}@verdict", c.id);
        charts.push(RenderedChart {
            subject: c.subject,
            view: ChartView {
                id: c.id.clone(),
                title: c.chart.title.clone(),
                alt: c.alt,
                src: format!("cid:{content_id}"),
                src_small: String::new(),
                width: CHART_SIZE.0,
                height: CHART_SIZE.1,
            },
        });
        images.push(InlineImage {
            content_id,
            filename: format!("{}.png", c.id),
            content_type: "image/png",
            data: png,
        });
    }
    let view = build_view(report, extras, &charts);
    let subject = subject_line(&format!(
        "[verdict] {}: {} — {}",
        view.verdict_upper, view.title, view.headline
    ));
    Ok(Email {
        subject,
        text: templates.render(EMAIL_TEXT, &view)?,
        html: templates.render(EMAIL_HTML, &view)?,
        images,
    })
}

/// One line of at most 160 characters, control characters (header
/// injection) replaced by spaces.
fn subject_line(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= 160 {
        clean
    } else {
        let cut: String = clean.chars().take(159).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line_and_bounded() {
        assert_eq!(
            subject_line("a\r\nBcc: x@example.com\tb"),
            "a Bcc: x@example.com b"
        );
        assert_eq!(subject_line(&"x".repeat(300)).chars().count(), 160);
    }
}
