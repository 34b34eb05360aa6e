//! The standalone HTML report: one file with all CSS and every chart
//! inline (SVG as `data:` URIs, a wide and a narrow drawing of each,
//! picked by screen width), no scripts and no external assets, laid
//! out for a desktop, a phone and print.
//!
//! Rendered from `templates/report.html.tera` over the shared view model;
//! values are HTML-escaped. Charts are drawn here ([`super::charts`] →
//! [`crate::chart`]). No I/O.

use super::charts::report_charts;
use super::templates::{REPORT_HTML, Templates};
use super::view::{ChartView, RenderedChart, build_view};
use super::{Report, ReportError, ReportExtras};

/// Size the charts are drawn at; they scale to the page width.
pub const CHART_SIZE: (u32, u32) = (960, 360);
/// Size of the variant shown on narrow screens, where the wide chart's
/// text would be too small to read.
pub const SMALL_CHART_SIZE: (u32, u32) = (400, 340);

/// The HTML report from the embedded template, without extras.
pub fn render_html(report: &Report) -> Result<String, ReportError> {
    render_html_with(report, &ReportExtras::default(), Templates::embedded()?)
}

/// The HTML report with `extras`, from `templates`.
pub fn render_html_with(
    report: &Report,
    extras: &ReportExtras,
    templates: &Templates,
) -> Result<String, ReportError> {
    let charts = svg_charts(report)?;
    let view = build_view(report, extras, &charts);
    Ok(templates.render(REPORT_HTML, &view)?)
}

/// Every chart of the report as an SVG `data:` URI.
pub fn svg_charts(report: &Report) -> Result<Vec<RenderedChart>, ReportError> {
    report_charts(report)
        .into_iter()
        .map(|c| {
            let svg = c.chart.render_svg(CHART_SIZE)?;
            let small = c.chart.render_svg(SMALL_CHART_SIZE)?;
            Ok(RenderedChart {
                subject: c.subject,
                view: ChartView {
                    id: c.id,
                    title: c.chart.title,
                    alt: c.alt,
                    src: format!("data:image/svg+xml;base64,{}", base64(svg.as_bytes())),
                    src_small: format!("data:image/svg+xml;base64,{}", base64(small.as_bytes())),
                    width: CHART_SIZE.0,
                    height: CHART_SIZE.1,
                },
            })
        })
        .collect()
}

/// Standard base64 with padding (RFC 4648).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
