//! The charts of a report: which [`TimeChart`]s an experiment gets, built
//! from the [`Report`]'s series and numbers.
//!
//! - per SLO, its error ratio `E_r(t)` (for a latency SLI: the share of
//!   requests slower than the threshold, with its baseline level) against
//!   the error budget line, the baseline / fault / recovery windows shaded,
//!   and markers for impact, recovery (TTR), each expected alert's firing
//!   (TTD) and when the page alert was predicted to fire;
//! - one burn-rate chart (`E_r / B`, log scale) of every SLO against the
//!   page and ticket thresholds of its period (14.4× and 6× page, 3× and 1×
//!   ticket for 30d: the generator's windows);
//! - per indicator, its series with the baseline mean.
//!
//! Pure: a report in, chart descriptions out; drawing is [`crate::chart`].

use crate::chart::{
    Band, BandKind, ChartSeries, HLine, LineKind, Marker, MarkerKind, TimeChart, YFormat, YScale,
};
use crate::eval::detection::BurnAlertWindow;
use crate::eval::human::{format_number, format_percent, format_seconds};
use crate::generate::windows::AlertWindows;
use crate::spec::PromDuration;

use super::{IndicatorReport, Report, SloReport};

/// What a chart shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartSubject {
    /// One SLO's error ratio (its id).
    Slo(String),
    /// The burn rate of every SLO against the alert thresholds.
    BurnRate,
    /// One indicator (`<service>/<name>`).
    Indicator(String),
}

/// A chart of the report with a stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportChart {
    /// Stable within a report and URL-safe: `slo-<id>`, `burn-rate`,
    /// `indicator-<service>-<name>`.
    pub id: String,
    /// What it shows.
    pub subject: ChartSubject,
    /// A sentence describing it, for `alt` text and screen readers.
    pub alt: String,
    /// The chart itself.
    pub chart: TimeChart,
}

/// Every chart of `report`, in the order the reports show them: SLOs, the
/// burn-rate chart (when any SLO has a series), indicators.
pub fn report_charts(report: &Report) -> Vec<ReportChart> {
    let mut ids: Vec<String> = Vec::new();
    let mut unique = |base: String| {
        let mut id = base.clone();
        let mut n = 2;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids.push(id.clone());
        id
    };
    let mut out: Vec<ReportChart> = report
        .slos
        .iter()
        .map(|s| ReportChart {
            id: unique(format!("slo-{}", slug(&s.id))),
            subject: ChartSubject::Slo(s.id.clone()),
            alt: slo_alt(s),
            chart: slo_chart(report, s),
        })
        .collect();
    if report.slos.iter().any(|s| !s.error_ratio_series.is_empty()) {
        out.push(ReportChart {
            id: unique("burn-rate".to_owned()),
            subject: ChartSubject::BurnRate,
            alt: burn_alt(report),
            chart: burn_chart(report),
        });
    }
    for i in &report.indicators {
        let name = format!("{}/{}", i.service, i.name);
        out.push(ReportChart {
            id: unique(format!("indicator-{}-{}", slug(&i.service), slug(&i.name))),
            subject: ChartSubject::Indicator(name),
            alt: indicator_alt(i),
            chart: indicator_chart(report, i),
        });
    }
    out
}

/// A latency threshold as people write it: 0.3 → `300ms`, 1.5 → `1.5s`.
pub fn latency_text(seconds: f64) -> String {
    if seconds > 0.0 && seconds < 1.0 {
        format!("{}ms", format_number(seconds * 1000.0))
    } else {
        format_seconds(seconds)
    }
}

/// Lowercase letters, digits and `-`; anything else becomes `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "chart".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn bands(report: &Report) -> Vec<Band> {
    let w = &report.window;
    let mut out = vec![
        Band {
            start: w.baseline_start,
            end: w.fault_start,
            label: "baseline".to_owned(),
            kind: BandKind::Baseline,
        },
        Band {
            start: w.fault_start,
            end: w.fault_end,
            label: "fault".to_owned(),
            kind: BandKind::Fault,
        },
    ];
    if w.to > w.fault_end {
        out.push(Band {
            start: w.fault_end,
            end: w.to,
            label: "recovery".to_owned(),
            kind: BandKind::Recovery,
        });
    }
    out
}

fn slo_markers(report: &Report, s: &SloReport) -> Vec<Marker> {
    let fault_start = report.window.fault_start;
    let e = &s.evaluation;
    let mut markers = Vec::new();
    if let Some(t) = e.recovery.time_to_impact_seconds {
        markers.push(Marker {
            t: fault_start + t,
            label: format!("impact +{}", format_seconds(t)),
            kind: MarkerKind::Impact,
        });
    }
    if let (Some(true), Some(at), Some(ttr)) = (
        e.recovery.recovered,
        e.recovery.recovered_at,
        e.recovery.time_to_recover_seconds,
    ) && e.recovery.time_to_impact_seconds.is_some()
    {
        markers.push(Marker {
            t: at,
            label: format!("recovered (TTR {})", format_seconds(ttr)),
            kind: MarkerKind::Recovered,
        });
    }
    for fired in &e.detection.fired {
        markers.push(Marker {
            t: fired.first_firing_at,
            label: format!(
                "{} fired (TTD {})",
                fired.name,
                format_seconds(fired.time_to_detect_seconds)
            ),
            kind: MarkerKind::AlertFired,
        });
    }
    if let Some(t) = e.detection.predicted_time_to_detect_seconds {
        markers.push(Marker {
            t: fault_start + t,
            label: format!("page alert due (+{})", format_seconds(t)),
            kind: MarkerKind::PredictedAlert,
        });
    }
    markers.sort_by(|a, b| a.t.total_cmp(&b.t));
    markers
}

fn slo_chart(report: &Report, s: &SloReport) -> TimeChart {
    let budget = 1.0 - s.objective;
    let rate_window = format_seconds(report.window.rate_window_seconds);
    let (title, y_label, series_label) = match s.latency_threshold_seconds {
        Some(threshold) => (
            format!("{}: requests slower than {}", s.id, latency_text(threshold)),
            format!("slower than {} ({rate_window})", latency_text(threshold)),
            format!("share slower ({rate_window})"),
        ),
        None => (
            format!("{}: error ratio", s.id),
            format!("error ratio ({rate_window})"),
            format!("error ratio ({rate_window})"),
        ),
    };
    let mut hlines = vec![HLine {
        y: budget,
        label: format!("budget ({})", super::format_objective(s.objective)),
        kind: LineKind::Objective,
    }];
    if s.latency_threshold_seconds.is_some()
        && let Some(base) = s.evaluation.windows.baseline.error_ratio.get()
    {
        hlines.push(HLine {
            y: base,
            label: "baseline".to_owned(),
            kind: LineKind::Baseline,
        });
    }
    TimeChart {
        title,
        y_label,
        y_format: YFormat::Percent,
        y_scale: YScale::Linear,
        series: vec![ChartSeries {
            label: series_label,
            points: s.error_ratio_series.clone(),
        }],
        hlines,
        bands: bands(report),
        markers: slo_markers(report, s),
    }
}

fn slo_alt(s: &SloReport) -> String {
    let e = &s.evaluation;
    let what = match s.latency_threshold_seconds {
        Some(t) => format!("Share of requests slower than {}", latency_text(t)),
        None => "Error ratio".to_owned(),
    };
    if s.error_ratio_series.is_empty() {
        return format!("{what} of {}: no data to chart.", s.id);
    }
    let peak = s
        .error_ratio_series
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(f64::NAN, f64::max);
    let mut text = format!(
        "{what} of {} over the experiment, against its error budget of {}",
        s.id,
        format_percent(1.0 - s.objective)
    );
    if peak.is_finite() {
        text.push_str(&format!("; peak {}", format_percent(peak)));
    }
    match (e.recovery.recovered, e.recovery.time_to_recover_seconds) {
        (Some(true), Some(ttr)) if e.recovery.time_to_impact_seconds.is_some() => {
            text.push_str(&format!(
                "; recovered {} after the fault",
                format_seconds(ttr)
            ));
        }
        (Some(true), _) => text.push_str("; no impact"),
        (Some(false), _) => text.push_str("; not recovered by the end"),
        _ => {}
    }
    text.push('.');
    text
}

/// Page and ticket thresholds for an SLO period: the generator's windows.
fn thresholds(period_seconds: f64) -> Vec<HLine> {
    let mut out: Vec<HLine> = BurnAlertWindow::page_windows(period_seconds)
        .into_iter()
        .map(|w| HLine {
            y: w.factor,
            label: format!(
                "page {}/{}",
                prom_duration(w.short_seconds),
                prom_duration(w.long_seconds)
            ),
            kind: LineKind::Page,
        })
        .collect();
    let period = PromDuration::from_secs(period_seconds.max(0.0).round() as u64);
    let windows = AlertWindows::google(period);
    for w in [windows.ticket_quick, windows.ticket_slow] {
        out.push(HLine {
            y: w.burn_factor(period),
            label: format!("ticket {}/{}", w.short, w.long),
            kind: LineKind::Ticket,
        });
    }
    out
}

/// Seconds as Prometheus writes durations: `5m`, `1h`, `3d`.
fn prom_duration(seconds: f64) -> String {
    PromDuration::from_millis((seconds.max(0.0) * 1000.0).round() as u64).to_string()
}

fn burn_chart(report: &Report) -> TimeChart {
    let series = report
        .slos
        .iter()
        .filter(|s| !s.error_ratio_series.is_empty())
        .map(|s| {
            let budget = 1.0 - s.objective;
            ChartSeries {
                label: s.id.clone(),
                points: s
                    .error_ratio_series
                    .iter()
                    .map(|&(t, v)| (t, if budget > 0.0 { v / budget } else { f64::NAN }))
                    .collect(),
            }
        })
        .collect();
    // Thresholds of every distinct period, once each.
    let mut hlines: Vec<HLine> = Vec::new();
    let mut periods: Vec<f64> = report.slos.iter().map(|s| s.period_seconds).collect();
    periods.sort_by(f64::total_cmp);
    periods.dedup();
    let several = periods.len() > 1;
    for p in periods {
        for mut line in thresholds(p) {
            if hlines.iter().any(|h| (h.y - line.y).abs() < 1e-9) {
                continue;
            }
            if several {
                line.label = format!("{} ({})", line.label, prom_duration(p));
            }
            hlines.push(line);
        }
    }
    TimeChart {
        title: format!(
            "burn rate ({}) against alert thresholds",
            format_seconds(report.window.rate_window_seconds)
        ),
        y_label: "burn rate (log scale)".to_owned(),
        y_format: YFormat::Factor,
        y_scale: YScale::Log,
        series,
        hlines,
        bands: bands(report),
        markers: Vec::new(),
    }
}

fn burn_alt(report: &Report) -> String {
    let peaks: Vec<String> = report
        .slos
        .iter()
        .filter_map(|s| {
            s.evaluation
                .burn_rate
                .peak
                .get()
                .map(|p| format!("{} peaked at {}×", s.id, format_number(p)))
        })
        .collect();
    let first = report
        .slos
        .first()
        .map(|s| thresholds(s.period_seconds))
        .unwrap_or_default();
    let limits: Vec<String> = first
        .iter()
        .map(|h| format!("{} {}×", h.label, format_number(h.y)))
        .collect();
    format!(
        "Burn rate of each SLO over the experiment on a log scale, against the alert thresholds ({}). {}.",
        limits.join(", "),
        if peaks.is_empty() {
            "No peak measured".to_owned()
        } else {
            peaks.join("; ")
        }
    )
}

fn indicator_chart(report: &Report, i: &IndicatorReport) -> TimeChart {
    let mut hlines = Vec::new();
    if let Some(b) = i.baseline.get() {
        hlines.push(HLine {
            y: b,
            label: "baseline".to_owned(),
            kind: LineKind::Baseline,
        });
    }
    TimeChart {
        title: format!("{}/{}", i.service, i.name),
        y_label: if i.description.is_empty() {
            "value".to_owned()
        } else {
            truncate(&i.description, 40)
        },
        y_format: YFormat::Plain,
        y_scale: YScale::Linear,
        series: vec![ChartSeries {
            label: i.name.clone(),
            points: i.series.clone(),
        }],
        hlines,
        bands: bands(report),
        markers: Vec::new(),
    }
}

fn indicator_alt(i: &IndicatorReport) -> String {
    let value =
        |m: &crate::eval::Measure<f64>| m.get().map_or_else(|| "unknown".to_owned(), format_number);
    format!(
        "{}/{} over the experiment: baseline {}, during the fault {}.",
        i.service,
        i.name,
        value(&i.baseline),
        value(&i.value)
    )
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark pixels (text, axes) in the rows `[y0, y1)` of an RGB PNG.
    fn ink_in_rows(png_bytes: &[u8], y0: usize, y1: usize) -> usize {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut buf)
            .unwrap_or_else(|e| panic!("{e}"));
        let width = info.width as usize;
        (y0..y1.min(info.height as usize))
            .flat_map(|y| (0..width).map(move |x| (y * width + x) * 3))
            .filter(|&i| buf[i] < 90 && buf[i + 1] < 90 && buf[i + 2] < 90)
            .count()
    }

    #[test]
    fn report_charts_draw_their_text_with_the_embedded_font() {
        // No system font is involved: plotters draws with the DejaVu Sans
        // compiled into the binary. Text shows as dark pixels in the title
        // strip and in the time labels under the plot.
        let report =
            crate::report::sample::sample_report(crate::report::sample::SampleVerdict::Fail, 2);
        let charts = report_charts(&report);
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "slo-checkout-availability",
                "slo-checkout-latency",
                "burn-rate",
                "indicator-checkout-cpu",
                "indicator-checkout-restarts"
            ]
        );
        for c in &charts {
            let png = c
                .chart
                .render_png((960, 360))
                .unwrap_or_else(|e| panic!("{e}"));
            let title = ink_in_rows(&png, 0, 34);
            let time_labels = ink_in_rows(&png, 360 - 40, 360 - 12);
            assert!(title > 100, "{}: title pixels {title}", c.id);
            assert!(
                time_labels > 100,
                "{}: time label pixels {time_labels}",
                c.id
            );
        }
        // The SLO chart carries its markers, the burn chart its thresholds.
        let svg = charts[0]
            .chart
            .render_svg((960, 360))
            .unwrap_or_else(|e| panic!("{e}"));
        for text in [
            "impact +15s",
            "recovered (TTR 5m)",
            "CheckoutErrorBudgetBurn fired (TTD 4m15s)",
            "page alert due (+2m45s)",
            "budget (99.9%) 0.1%",
        ] {
            assert!(svg.contains(text), "missing {text:?}");
        }
        let burn = charts[2]
            .chart
            .render_svg((960, 360))
            .unwrap_or_else(|e| panic!("{e}"));
        for text in [
            "page 5m/1h 14.4×",
            "page 30m/6h 6×",
            "ticket 2h/1d 3×",
            "ticket 6h/3d 1×",
            "checkout-latency",
        ] {
            assert!(burn.contains(text), "missing {text:?}");
        }
    }

    #[test]
    fn slugs_are_url_safe_and_never_empty() {
        assert_eq!(slug("checkout-Availability"), "checkout-availability");
        assert_eq!(slug("<script>alert(1)</script>"), "script-alert-1-script");
        assert_eq!(slug("ü"), "chart");
    }

    #[test]
    fn thirty_day_thresholds_are_the_generators_factors() {
        let lines = thresholds(30.0 * 86_400.0);
        let got: Vec<(String, f64)> = lines
            .iter()
            .map(|h| (h.label.clone(), (h.y * 1000.0).round() / 1000.0))
            .collect();
        assert_eq!(
            got,
            vec![
                ("page 5m/1h".to_owned(), 14.4),
                ("page 30m/6h".to_owned(), 6.0),
                ("ticket 2h/1d".to_owned(), 3.0),
                ("ticket 6h/3d".to_owned(), 1.0),
            ]
        );
    }
}
