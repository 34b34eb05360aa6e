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

/// How the y axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YScale {
    /// From 0 (or the minimum, if negative) up.
    #[default]
    Linear,
    /// Logarithmic, for values spanning decades (burn rates against
    /// 1×–14.4× thresholds). Values at or below the axis floor (a decade
    /// below the smallest positive value, at most 4 decades below the
    /// largest) are drawn on the floor.
    Log,
}

/// A time-series chart of one signal over an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeChart {
    pub title: String,
    pub y_label: String,
    pub y_format: YFormat,
    pub y_scale: YScale,
    pub series: Vec<ChartSeries>,
    pub hlines: Vec<HLine>,
    pub bands: Vec<Band>,
    pub markers: Vec<Marker>,
}

/// How much larger SVG text is asked for (see `TimeChart::draw`).
const SVG_TEXT_SCALE: f64 = 1.24;

/// Height of the legend strip above the plot (charts of several series).
const LEGEND_HEIGHT: f64 = 20.0;

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
        MarkerKind::PredictedAlert => RGBColor(108, 117, 125),
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

    /// Every finite y value: series points and reference lines.
    fn y_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(self.hlines.iter().map(|h| h.y))
            .filter(|y| y.is_finite())
    }

    /// The y axis: its scale, and its range in plot coordinates (log10 of
    /// the value on a log scale).
    fn y_axis(&self) -> YAxis {
        match self.y_scale {
            YScale::Linear => {
                let (lo, hi) = self
                    .y_values()
                    .fold((0.0f64, f64::NEG_INFINITY), |(lo, hi), y| {
                        (lo.min(y), hi.max(y))
                    });
                let hi = if hi.is_finite() && hi > lo {
                    hi
                } else {
                    lo + 1.0
                };
                YAxis {
                    log: false,
                    floor: 0.0,
                    lo,
                    // Room at the top for band and marker labels.
                    hi: hi + (hi - lo) * if self.markers.is_empty() { 0.12 } else { 0.3 },
                }
            }
            YScale::Log => {
                let (min, max) = self
                    .y_values()
                    .filter(|y| *y > 0.0)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
                        (lo.min(y), hi.max(y))
                    });
                let (min, max) = if min.is_finite() {
                    (min, max)
                } else {
                    (0.1, 10.0)
                };
                let top = max.log10().ceil().max(min.log10().floor() + 1.0);
                let floor_exp = (min.log10().floor() - 1.0).max(top - 5.0);
                let floor = 10f64.powf(floor_exp);
                let hi = max.log10().max(floor_exp + 1.0);
                YAxis {
                    log: true,
                    floor,
                    lo: floor_exp,
                    hi: hi + (hi - floor_exp) * 0.1,
                }
            }
        }
    }

    /// Renders an SVG document.
    pub fn render_svg(&self, size: (u32, u32)) -> Result<String, ChartError> {
        register_fonts()?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&root, SVG_TEXT_SCALE)?;
            root.present().map_err(|e| self.draw_error(e))?;
        }
        Ok(out)
    }

    /// Renders a PNG image.
    pub fn render_png(&self, size: (u32, u32)) -> Result<Vec<u8>, ChartError> {
        self.render_png_scaled(size, 1.0)
    }

    /// Renders a PNG image whose text (and the room kept for it) is
    /// `text_scale` times the usual size: for images shown smaller than
    /// they are drawn, like charts in emails drawn at twice their width.
    pub fn render_png_scaled(
        &self,
        size: (u32, u32),
        text_scale: f64,
    ) -> Result<Vec<u8>, ChartError> {
        register_fonts()?;
        let text_scale = if text_scale.is_finite() && text_scale > 0.0 {
            text_scale.clamp(0.5, 4.0)
        } else {
            1.0
        };
        let (w, h) = size;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            self.draw(&root, text_scale)?;
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

    /// `ts` scales every font size: plotters' SVG backend writes
    /// `font-size` as the size divided by 1.24, so SVG text is drawn that
    /// much larger to come out the size PNG text has.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        ts: f64,
    ) -> Result<(), ChartError> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| self.draw_error(e);
        root.fill(&WHITE).map_err(err)?;
        let (x0, x1) = self.x_range();
        let axis = self.y_axis();
        let (y0, y1) = (axis.lo, axis.hi);
        let fmt = self.y_format;
        let span = x1 - x0;
        // The title at 18px, smaller (down to 12px) or cut short when the
        // chart is too narrow for it.
        let width = i32::try_from(root.dim_in_pixel().0).unwrap_or(i32::MAX);
        // Narrow charts (phones) give the plot the room of the axis title.
        let narrow = width < 600;
        // Room kept for text grows with it.
        let room = |n: f64| (n * ts).round() as u32;
        let mut title = self.title.clone();
        let mut title_size = 18.0 * ts;
        let title_width = |text: &str, size: f64| {
            let style = (FAMILY, size)
                .into_font()
                .style(FontStyle::Bold)
                .color(&INK);
            root.estimate_text_size(text, &style)
                .map_or(0, |(w, _)| w as i32)
        };
        while title_size > 12.0 * ts && title_width(&title, title_size) > width - 48 {
            title_size -= 1.0;
        }
        let mut keep = title.chars().count();
        while keep > 4 && title_width(&title, title_size) > width - 48 {
            keep -= 1;
            let cut: String = self.title.chars().take(keep).collect();
            title = format!("{}…", cut.trim_end());
        }
        let mut chart = ChartBuilder::on(root)
            .caption(
                &title,
                (FAMILY, title_size)
                    .into_font()
                    .style(FontStyle::Bold)
                    .color(&INK),
            )
            .margin(room(12.0))
            .margin_right(room(40.0))
            .margin_bottom(room(6.0))
            .set_label_area_size(
                LabelAreaPosition::Top,
                if self.series.len() > 1 {
                    room(LEGEND_HEIGHT)
                } else {
                    0
                },
            )
            .x_label_area_size(room(24.0))
            .y_label_area_size(room(if narrow { 50.0 } else { 64.0 }))
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK.mix(0.6))
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(if axis.log { 0 } else { 6 })
            .y_label_formatter(&|y| fmt.format(*y))
            .y_desc(if narrow { "" } else { self.y_label.as_str() })
            .label_style((FAMILY, 12.0 * ts).into_font().color(&INK))
            .axis_desc_style((FAMILY, 12.0 * ts).into_font().color(&INK))
            .draw()
            .map_err(err)?;

        // Time ticks on round clock times (15s, 1m, 5m, … apart), about
        // one per 110 pixels.
        let max_ticks = (f64::from(chart.plotting_area().dim_in_pixel().0) / 110.0).clamp(3.0, 8.0);
        let step = tick_step(span, max_ticks);
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
        let y_ticks = if axis.log {
            log_ticks(y0, y1)
        } else {
            Vec::new()
        };
        for &y in &y_ticks {
            chart
                .draw_series(std::iter::once(PathElement::new([(x0, y), (x1, y)], GRID)))
                .map_err(err)?;
        }
        let plot = chart.plotting_area();
        for &t in &ticks {
            let (px, py) = plot.map_coordinate(&(t, y0));
            let style = (FAMILY, 12.0 * ts)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(format_time(t, span), (px, py + 6), style))
                .map_err(err)?;
        }

        // A log axis: labels at 1, 2 and 5 of each decade (grid drawn above).
        if axis.log {
            for &y in &y_ticks {
                let (px, py) = plot.map_coordinate(&(x0, y));
                let style = (FAMILY, 12.0 * ts)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                root.draw(&Text::new(fmt.format(10f64.powf(y)), (px - 6, py), style))
                    .map_err(err)?;
            }
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
        }

        // Reference lines, labelled at the right end.
        for line in &self.hlines {
            if !line.y.is_finite() {
                continue;
            }
            let y = axis.map(line.y);
            let color = line_color(line.kind);
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, y), (x1, y)],
                    6,
                    4,
                    color.stroke_width(2),
                ))
                .map_err(err)?;
        }

        // Series, split at non-finite values so gaps stay gaps.
        for (i, s) in self.series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            for run in s.points.split(|p| !p.1.is_finite()) {
                if run.is_empty() {
                    continue;
                }
                chart
                    .draw_series(LineSeries::new(
                        run.iter().map(|&(t, v)| (t, axis.map(v))),
                        color.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }

        // Event markers: a vertical line each, then their labels in rows
        // below the band labels, each in the first row where it does not
        // overlap another, on a light background so lines stay readable.
        let mut shown: Vec<&Marker> = self
            .markers
            .iter()
            .filter(|m| m.t.is_finite() && m.t >= x0 && m.t <= x1)
            .collect();
        shown.sort_by(|a, b| a.t.total_cmp(&b.t));
        for m in &shown {
            let color = marker_color(m.kind);
            let style = if m.kind == MarkerKind::PredictedAlert {
                color.stroke_width(1)
            } else {
                color.stroke_width(2)
            };
            chart
                .draw_series(DashedLineSeries::new(
                    [(m.t, y0), (m.t, y1)],
                    if m.kind == MarkerKind::PredictedAlert {
                        4
                    } else {
                        200
                    },
                    if m.kind == MarkerKind::PredictedAlert {
                        3
                    } else {
                        0
                    },
                    style,
                ))
                .map_err(err)?;
        }
        let plot = chart.plotting_area();
        let (left, top) = plot.map_coordinate(&(x0, y1));
        let (right, _) = plot.map_coordinate(&(x1, y1));
        let (_, bottom) = plot.map_coordinate(&(x0, y0));

        // Say so when there is nothing to draw, rather than an empty frame.
        let has_data = self
            .series
            .iter()
            .any(|s| s.points.iter().any(|p| p.0.is_finite() && p.1.is_finite()));
        if !has_data {
            let style = (FAMILY, 16.0 * ts)
                .into_font()
                .color(&INK.mix(0.6))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                "no data",
                ((left + right) / 2, (top + bottom) / 2),
                style,
            ))
            .map_err(err)?;
        }

        // Band labels at the top left of each band.
        for band in &self.bands {
            let (a, b) = (band.start.max(x0), band.end.min(x1));
            if b <= a {
                continue;
            }
            let (px, _) = plot.map_coordinate(&(a, y1));
            let style = (FAMILY, 12.0 * ts)
                .into_font()
                .color(&INK.mix(0.75))
                .pos(Pos::new(HPos::Left, VPos::Top));
            root.draw(&Text::new(band.label.clone(), (px + 4, top + 2), style))
                .map_err(err)?;
        }

        // Reference line labels at the right end, above their line, or
        // below it when that would cover another label.
        let mut placed: Vec<(i32, i32)> = Vec::new();
        for line in self.hlines.iter().filter(|l| l.y.is_finite()) {
            let text = format!("{} {}", line.label, fmt.format(line.y));
            let style = (FAMILY, 12.0 * ts)
                .into_font()
                .color(&line_color(line.kind))
                .pos(Pos::new(HPos::Left, VPos::Top));
            let (w, h) = root.estimate_text_size(&text, &style).map_err(err)?;
            let (w, h) = (w as i32, h as i32);
            let (_, py) = plot.map_coordinate(&(x1, axis.map(line.y)));
            let above = (py - h - 3).max(top);
            let below = (py + 3).min(bottom - h);
            let clear = |y: i32| placed.iter().all(|&(a, b)| y + h + 2 <= a || y >= b + 2);
            let y = if clear(above) {
                above
            } else if clear(below) {
                below
            } else {
                above
            };
            placed.push((y, y + h));
            let x = right - w - 6;
            root.draw(&Rectangle::new(
                [(x - 2, y - 1), (x + w + 2, y + h + 1)],
                WHITE.mix(0.8).filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(text, (x, y), style)).map_err(err)?;
        }

        let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
        for m in &shown {
            let color = marker_color(m.kind);
            let style = (FAMILY, 12.0 * ts)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Left, VPos::Top));
            let (w, h) = root.estimate_text_size(&m.label, &style).map_err(err)?;
            let (w, h) = (w as i32, h as i32);
            let (px, _) = plot.map_coordinate(&(m.t, y1));
            // Right of the line, or left of it near the right edge.
            let a = if px + 4 + w <= right {
                px + 4
            } else {
                (px - 4 - w).max(left)
            };
            let b = a + w;
            let free = |row: &Vec<(i32, i32)>| row.iter().all(|&(c, d)| b + 6 <= c || a >= d + 6);
            let row = match rows.iter().position(free) {
                Some(r) => r,
                None if rows.len() < 4 => {
                    rows.push(Vec::new());
                    rows.len() - 1
                }
                None => rows.len() - 1,
            };
            rows[row].push((a, b));
            let y = top + room(18.0) as i32 + row as i32 * (h + 5);
            root.draw(&Rectangle::new(
                [(a - 2, y - 1), (b + 2, y + h + 1)],
                WHITE.mix(0.85).filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(m.label.clone(), (a, y), style))
                .map_err(err)?;
        }

        // A legend only tells series apart: none for a single one. It is a
        // strip between the title and the plot, so it never covers data.
        if self.series.len() > 1 {
            let mut x = left;
            let y = top - room(LEGEND_HEIGHT) as i32 + 2;
            for (i, s) in self.series.iter().enumerate() {
                let color = SERIES_COLORS[i % SERIES_COLORS.len()];
                let style = (FAMILY, 12.0 * ts)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Top));
                let (w, _) = root.estimate_text_size(&s.label, &style).map_err(err)?;
                if x + 22 + w as i32 > right && x > left {
                    break;
                }
                root.draw(&PathElement::new(
                    [(x, y + 7), (x + 16, y + 7)],
                    color.stroke_width(3),
                ))
                .map_err(err)?;
                root.draw(&Text::new(s.label.clone(), (x + 20, y), style))
                    .map_err(err)?;
                x += 20 + w as i32 + 18;
            }
        }
        Ok(())
    }
}

/// The y axis in plot coordinates.
struct YAxis {
    log: bool,
    /// On a log axis, values at or below this are drawn on it.
    floor: f64,
    lo: f64,
    hi: f64,
}

impl YAxis {
    /// A value's plot coordinate.
    fn map(&self, y: f64) -> f64 {
        if self.log {
            if y.is_nan() {
                y
            } else {
                y.max(self.floor).log10()
            }
        } else {
            y
        }
    }
}

/// Ticks of a log axis between the plot coordinates `lo` and `hi`: 1, 2
/// and 5 of each decade when there are at most 3 decades, only the powers
/// of ten otherwise.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = hi - lo;
    let mut out = Vec::new();
    let first = lo.floor() as i32;
    let last = hi.ceil() as i32;
    for exp in first..=last.min(first + 12) {
        for (m, minor) in [(1.0f64, false), (2.0, true), (5.0, true)] {
            let y = exp as f64 + m.log10();
            if y < lo - 1e-9 || y > hi + 1e-9 {
                continue;
            }
            if minor && decades > 3.0 {
                continue;
            }
            out.push(y);
        }
    }
    out
}

/// A round tick spacing giving at most `max_ticks` ticks over `span` seconds.
fn tick_step(span: f64, max_ticks: f64) -> f64 {
    const STEPS: [f64; 14] = [
        15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
        43200.0, 86400.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= max_ticks)
        .unwrap_or_else(|| (span / max_ticks / 86400.0).ceil() * 86400.0)
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
            y_scale: YScale::Linear,
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
        // The series colour strokes the two runs; one series needs no legend.
        assert_eq!(svg.matches(r##"stroke="#0D6EFD""##).count(), 2);
        assert!(!svg.contains(">\nerror ratio\n<"), "no legend entry");
    }

    #[test]
    fn several_series_get_a_legend_strip() {
        let mut chart = sample_chart();
        let mut other = chart.series[0].clone();
        other.label = "checkout-latency".into();
        chart.series.push(other);
        let svg = chart.render_svg(DEFAULT_SIZE).unwrap();
        assert!(svg.contains(">\nerror ratio\n<"));
        assert!(svg.contains(">\ncheckout-latency\n<"));
    }

    #[test]
    fn a_log_axis_spans_decades_and_puts_zero_on_its_floor() {
        let mut chart = sample_chart();
        chart.y_scale = YScale::Log;
        chart.y_format = YFormat::Factor;
        chart.series[0].points = vec![(0.0, 0.0), (15.0, 0.5), (30.0, 200.0)];
        chart.hlines = vec![HLine {
            y: 14.4,
            label: "page".into(),
            kind: LineKind::Page,
        }];
        let axis = chart.y_axis();
        // The smallest positive value 0.5 is in the decade of 0.1; one more
        // decade below makes the floor 0.01, where zero is drawn.
        assert!(axis.log);
        assert_eq!(axis.floor, 0.01);
        assert_eq!(axis.lo, -2.0);
        assert_eq!(axis.map(0.0), -2.0);
        assert_eq!(axis.map(100.0), 2.0);
        assert!(axis.hi > 200f64.log10());
        // Over more than 3 decades only the powers of ten are ticked.
        let ticks: Vec<String> = log_ticks(axis.lo, axis.hi)
            .into_iter()
            .map(|y| YFormat::Factor.format(10f64.powf(y)))
            .collect();
        assert_eq!(ticks, vec!["0.01×", "0.1×", "1×", "10×", "100×"]);
        let svg = chart.render_svg(DEFAULT_SIZE).unwrap();
        for text in ["0.01×", "100×", "page 14.4×"] {
            assert!(svg.contains(text), "missing {text:?}");
        }
    }

    /// The `y` attribute of the `<text>` element holding `label`.
    fn text_y(svg: &str, label: &str) -> i32 {
        let at = svg.find(&format!(">\n{label}\n<")).unwrap();
        let start = svg[..at].rfind("<text").unwrap();
        let tag = &svg[start..at];
        let y = tag.split(" y=\"").nth(1).unwrap();
        y[..y.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn marker_labels_that_would_overlap_go_to_separate_rows() {
        let mut chart = sample_chart();
        let t = chart.markers[0].t;
        chart.markers = vec![
            Marker {
                t,
                label: "CheckoutErrorBudgetBurn fired (TTD 30s)".into(),
                kind: MarkerKind::AlertFired,
            },
            Marker {
                t: t + 15.0,
                label: "page alert due (+45s)".into(),
                kind: MarkerKind::PredictedAlert,
            },
            Marker {
                t: t + 900.0,
                label: "far away".into(),
                kind: MarkerKind::Recovered,
            },
        ];
        let svg = chart.render_svg(DEFAULT_SIZE).unwrap();
        let rows = [
            text_y(&svg, "CheckoutErrorBudgetBurn fired (TTD 30s)"),
            text_y(&svg, "page alert due (+45s)"),
            text_y(&svg, "far away"),
        ];
        assert!(
            rows[1] > rows[0],
            "the second label moves down a row: {rows:?}"
        );
        assert_eq!(rows[2], rows[0], "a label with room stays in the first row");
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
            y_scale: YScale::Linear,
            series: vec![],
            hlines: vec![],
            bands: vec![],
            markers: vec![],
        };
        assert!(chart.render_png(DEFAULT_SIZE).is_ok());
        assert!(chart.render_svg(DEFAULT_SIZE).unwrap().contains("no data"));
    }
}
