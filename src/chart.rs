//! Charts of an experiment as PNG and SVG, drawn with plotters.
//!
//! Owns the chart description ([`TimeChart`]: series, horizontal reference
//! lines, shaded experiment windows, event markers) and its rendering. Text
//! is drawn with an embedded DejaVu Sans, so PNGs render the same on a
//! machine without any system font. Must not: query, decide or send
//! anything; it draws what it is given.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

static FONT_REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static FONT_BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The family name charts use; registered from the embedded font.
const FAMILY: &str = "sans-serif";

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("chart {title:?}: drawing failed: {reason}")]
    Draw { title: String, reason: String },
    #[error("chart {title:?}: PNG encoding failed: {reason}")]
    Encode { title: String, reason: String },
}

fn register_fonts() -> Result<(), ChartError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_REGULAR).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT_BOLD).is_ok()
    });
    if *ok { Ok(()) } else { Err(ChartError::Font) }
}

/// How values on the y axis are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YFormat {
    /// 0.012 → "1.2%".
    Percent,
    /// Plain numbers with up to 3 significant decimals.
    Plain,
    /// Seconds: "250ms", "1.5s".
    Seconds,
    /// Burn rates: "14.4×".
    Factor,
}

impl YFormat {
    pub fn format(self, v: f64) -> String {
        match self {
            YFormat::Percent => format_sig(v * 100.0) + "%",
            YFormat::Plain => format_sig(v),
            YFormat::Seconds if v.abs() < 1.0 && v != 0.0 => format_sig(v * 1000.0) + "ms",
            YFormat::Seconds => format_sig(v) + "s",
            YFormat::Factor => format_sig(v) + "×",
        }
    }
}

/// A number with at most three significant decimals, without trailing zeros.
fn format_sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            format!("{v}")
        };
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// One line on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub label: String,
    /// (unix seconds, value); non-finite values leave a gap.
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line (objective, alert threshold, baseline level).
#[derive(Debug, Clone, PartialEq)]
pub struct HLine {
    pub y: f64,
    pub label: String,
    pub kind: LineKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The SLO objective / error budget line.
    Objective,
    /// A page alert threshold.
    Page,
    /// A ticket alert threshold.
    Ticket,
    /// The level measured during the baseline.
    Baseline,
}

/// A shaded time span with a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub start: f64,
    pub end: f64,
    pub label: String,
    pub kind: BandKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    Baseline,
    Fault,
    Recovery,
}

/// A vertical marker at a point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub t: f64,
    pub label: String,
    pub kind: MarkerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Impact,
    Recovered,
    AlertFired,
    PredictedAlert,
}

/// A time-series chart of one signal over an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeChart {
    pub title: String,
    pub y_label: String,
    pub y_format: YFormat,
    pub series: Vec<ChartSeries>,
    pub hlines: Vec<HLine>,
    pub bands: Vec<Band>,
    pub markers: Vec<Marker>,
}

/// Chart size in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (900, 360);

const INK: RGBColor = RGBColor(33, 37, 41);
const GRID: RGBColor = RGBColor(222, 226, 230);
const SERIES_COLORS: [RGBColor; 4] = [
    RGBColor(13, 110, 253),
    RGBColor(111, 66, 193),
    RGBColor(32, 201, 151),
    RGBColor(253, 126, 20),
];

fn band_color(kind: BandKind) -> RGBAColor {
    match kind {
        BandKind::Baseline => RGBColor(108, 117, 125).mix(0.10),
        BandKind::Fault => RGBColor(220, 53, 69).mix(0.14),
        BandKind::Recovery => RGBColor(25, 135, 84).mix(0.10),
    }
}

fn line_color(kind: LineKind) -> RGBColor {
    match kind {
        LineKind::Objective => RGBColor(25, 135, 84),
        LineKind::Page => RGBColor(220, 53, 69),
        LineKind::Ticket => RGBColor(255, 153, 0),
        LineKind::Baseline => RGBColor(108, 117, 125),
    }
}

fn marker_color(kind: MarkerKind) -> RGBColor {
    match kind {
        MarkerKind::Impact => RGBColor(220, 53, 69),
        MarkerKind::Recovered => RGBColor(25, 135, 84),
        MarkerKind::AlertFired => RGBColor(111, 66, 193),
        MarkerKind::PredictedAlert => RGBColor(173, 181, 189),
    }
}

impl TimeChart {
    /// The x range: every band, series point and marker, padded by nothing.
    fn x_range(&self) -> (f64, f64) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(self.bands.iter().flat_map(|b| [b.start, b.end]))
            .chain(self.markers.iter().map(|m| m.t))
            .filter(|x| x.is_finite());
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 60.0, lo + 60.0)
        } else {
            (0.0, 60.0)
        }
    }

    /// The y range: from 0 (or the minimum, if negative) to a little above
    /// the largest value or reference line.
    fn y_range(&self) -> (f64, f64) {
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(self.hlines.iter().map(|h| h.y))
            .filter(|y| y.is_finite());
        let (lo, hi) = ys.fold((0.0f64, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let hi = if hi.is_finite() && hi > lo {
            hi
        } else {
            lo + 1.0
        };
        (lo, hi + (hi - lo) * 0.12)
    }

    /// Renders an SVG document.
    pub fn render_svg(&self, size: (u32, u32)) -> Result<String, ChartError> {
        register_fonts()?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| self.draw_error(e))?;
        }
        Ok(out)
    }

    /// Renders a PNG image.
    pub fn render_png(&self, size: (u32, u32)) -> Result<Vec<u8>, ChartError> {
        register_fonts()?;
        let (w, h) = size;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| self.draw_error(e))?;
        }
        let mut png_bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let encode = |e: png::EncodingError| ChartError::Encode {
                title: self.title.clone(),
                reason: e.to_string(),
            };
            let mut writer = encoder.write_header().map_err(encode)?;
            writer.write_image_data(&rgb).map_err(encode)?;
        }
        Ok(png_bytes)
    }

    fn draw_error<E: std::fmt::Display>(&self, e: E) -> ChartError {
        ChartError::Draw {
            title: self.title.clone(),
            reason: e.to_string(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| self.draw_error(e);
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        let fmt = self.y_format;
        let span = x1 - x0;
        let mut chart = ChartBuilder::on(root)
            .caption(
                &self.title,
                (FAMILY, 18).into_font().style(FontStyle::Bold).color(&INK),
            )
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.6))
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|y| fmt.format(*y))
            .y_desc(self.y_label.as_str())
            .label_style((FAMILY, 12).into_font().color(&INK))
            .axis_desc_style((FAMILY, 12).into_font().color(&INK))
            .draw()
            .map_err(err)?;

        // Time ticks on round clock times (15s, 1m, 5m, … apart).
        let step = tick_step(span);
        let first = (x0 / step).ceil() * step;
        let ticks: Vec<f64> = (0..)
            .map(|i| first + step * i as f64)
            .take_while(|t| *t <= x1)
            .take(64)
            .collect();
        for &t in &ticks {
            chart
                .draw_series(std::iter::once(PathElement::new([(t, y0), (t, y1)], GRID)))
                .map_err(err)?;
        }
        let plot = chart.plotting_area();
        for &t in &ticks {
            let (px, py) = plot.map_coordinate(&(t, y0));
            let style = (FAMILY, 12)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(format_time(t, span), (px, py + 6), style))
                .map_err(err)?;
        }

        // Shaded windows with their label at the top.
        for band in &self.bands {
            let (a, b) = (band.start.max(x0), band.end.min(x1));
            if b <= a {
                continue;
            }
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, y0), (b, y1)],
                    band_color(band.kind).filled(),
                )))
                .map_err(err)?;
            let style = (FAMILY, 12)
                .into_font()
                .color(&INK.mix(0.75))
                .pos(Pos::new(HPos::Left, VPos::Top));
            chart
                .draw_series(std::iter::once(Text::new(
                    band.label.clone(),
                    (a + span * 0.004, y1),
                    style,
                )))
                .map_err(err)?;
        }

        // Reference lines, labelled at the right end.
        for line in &self.hlines {
            if !line.y.is_finite() {
                continue;
            }
            let color = line_color(line.kind);
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, line.y), (x1, line.y)],
                    6,
                    4,
                    color.stroke_width(2),
                ))
                .map_err(err)?;
            let style = (FAMILY, 11)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Right, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{} {}", line.label, fmt.format(line.y)),
                    (x1 - span * 0.004, line.y),
                    style,
                )))
                .map_err(err)?;
        }

        // Series, split at non-finite values so gaps stay gaps.
        for (i, s) in self.series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let mut first = true;
            for run in s.points.split(|p| !p.1.is_finite()) {
                if run.is_empty() {
                    continue;
                }
                let drawn = chart
                    .draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))
                    .map_err(err)?;
                if first {
                    drawn.label(s.label.clone()).legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], color.stroke_width(3))
                    });
                    first = false;
                }
            }
        }

        // Event markers: a vertical line and a label near the bottom.
        for (i, m) in self.markers.iter().enumerate() {
            if !(m.t.is_finite() && m.t >= x0 && m.t <= x1) {
                continue;
            }
            let color = marker_color(m.kind);
            let style = if m.kind == MarkerKind::PredictedAlert {
                color.stroke_width(1)
            } else {
                color.stroke_width(2)
            };
            chart
                .draw_series(std::iter::once(PathElement::new(
                    [(m.t, y0), (m.t, y1)],
                    style,
                )))
                .map_err(err)?;
            // Stagger labels so neighbouring markers do not overlap.
            let level = y0 + (y1 - y0) * (0.08 + 0.09 * (i % 3) as f64);
            let text_style = (FAMILY, 11)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    m.label.clone(),
                    (m.t + span * 0.004, level),
                    text_style,
                )))
                .map_err(err)?;
        }

        if !self.series.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .margin(22)
                .background_style(WHITE.mix(0.85))
                .border_style(GRID)
                .label_font((FAMILY, 12).into_font().color(&INK))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// A round tick spacing giving at most 8 ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 14] = [
        15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
        43200.0, 86400.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8.0)
        .unwrap_or_else(|| (span / 8.0 / 86400.0).ceil() * 86400.0)
}

/// `HH:MM:SS` in UTC for spans under a day, `MM-DD HH:MM` beyond.
fn format_time(t: f64, span: f64) -> String {
    let Some(dt) = DateTime::<Utc>::from_timestamp(t.floor() as i64, 0) else {
        return String::new();
    };
    if span <= 2.0 * 3600.0 {
        dt.format("%H:%M:%S").to_string()
    } else if span <= 86_400.0 {
        dt.format("%H:%M").to_string()
    } else {
        dt.format("%m-%d %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_chart() -> TimeChart {
        let start = 1_767_225_600.0;
        let points: Vec<(f64, f64)> = (0..=80)
            .map(|i| {
                let t = start + 15.0 * i as f64;
                let v = if (30..38).contains(&i) { 0.2 } else { 0.0 };
                (t, v)
            })
            .collect();
        TimeChart {
            title: "checkout-availability: error ratio".into(),
            y_label: "error ratio (1m)".into(),
            y_format: YFormat::Percent,
            series: vec![ChartSeries {
                label: "error ratio".into(),
                points,
            }],
            hlines: vec![HLine {
                y: 0.001,
                label: "budget".into(),
                kind: LineKind::Objective,
            }],
            bands: vec![
                Band {
                    start,
                    end: start + 450.0,
                    label: "baseline".into(),
                    kind: BandKind::Baseline,
                },
                Band {
                    start: start + 450.0,
                    end: start + 570.0,
                    label: "fault".into(),
                    kind: BandKind::Fault,
                },
                Band {
                    start: start + 570.0,
                    end: start + 1200.0,
                    label: "recovery".into(),
                    kind: BandKind::Recovery,
                },
            ],
            markers: vec![
                Marker {
                    t: start + 465.0,
                    label: "impact".into(),
                    kind: MarkerKind::Impact,
                },
                Marker {
                    t: start + 630.0,
                    label: "recovered (TTR 60s)".into(),
                    kind: MarkerKind::Recovered,
                },
            ],
        }
    }

    #[test]
    fn a_png_is_a_valid_image_of_the_requested_size() {
        let png_bytes = sample_chart().render_png(DEFAULT_SIZE).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), DEFAULT_SIZE);
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        // A chart whose title is drawn must have dark (ink) pixels in the
        // caption strip; with no usable font the strip stays white.
        let png_bytes = sample_chart().render_png(DEFAULT_SIZE).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&png_bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buf).unwrap();
        let width = DEFAULT_SIZE.0 as usize;
        let dark = (0..30)
            .flat_map(|y| (0..width).map(move |x| (y * width + x) * 3))
            .filter(|&i| buf[i] < 100 && buf[i + 1] < 100 && buf[i + 2] < 100)
            .count();
        assert!(dark > 200, "caption pixels drawn: {dark}");
    }

    #[test]
    fn svg_contains_labels_and_one_path_per_series_run() {
        let mut chart = sample_chart();
        chart.series[0].points[10].1 = f64::NAN; // a gap splits the line in two
        let svg = chart.render_svg(DEFAULT_SIZE).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "checkout-availability: error ratio",
            "baseline",
            "fault",
            "recovery",
            "impact",
            "recovered (TTR 60s)",
            "budget 0.1%",
        ] {
            assert!(svg.contains(text), "missing {text:?}");
        }
        // The series colour strokes the two runs and the legend sample.
        assert_eq!(
            svg.matches(r##"stroke="#0D6EFD""##).count(),
            2 + 1,
            "two runs + legend"
        );
    }

    #[test]
    fn y_values_are_formatted_for_people() {
        assert_eq!(YFormat::Percent.format(0.001), "0.1%");
        assert_eq!(YFormat::Percent.format(0.2), "20%");
        assert_eq!(YFormat::Percent.format(0.0123), "1.23%");
        assert_eq!(YFormat::Seconds.format(0.25), "250ms");
        assert_eq!(YFormat::Seconds.format(1.5), "1.5s");
        assert_eq!(YFormat::Factor.format(14.4), "14.4×");
        assert_eq!(YFormat::Plain.format(0.0), "0");
    }

    #[test]
    fn empty_charts_still_render() {
        let chart = TimeChart {
            title: "no data".into(),
            y_label: String::new(),
            y_format: YFormat::Plain,
            series: vec![],
            hlines: vec![],
            bands: vec![],
            markers: vec![],
        };
        assert!(chart.render_png(DEFAULT_SIZE).is_ok());
        assert!(chart.render_svg(DEFAULT_SIZE).unwrap().contains("no data"));
    }
}
