//! A report's figures, each as SVG and PNG, drawn with the DejaVu Sans shipped in `assets/fonts` (registered
//! with plotters' own font renderer), so that a figure looks the same on every machine:
//! (a) per-module test accuracy against epoch, one colour per setting, the 95 % CI shaded — the stagnation
//! figure; (b) each module's final test accuracy against τ, log axis, ∞ drawn at the right end, CI bars — the
//! τ-robustness figure (when the runs vary τ); (c) kinetic energy per module against epoch; (d) peak memory
//! and training images per second of each setting (when the runs vary K or the mode); (e) each module's
//! final test accuracy against its depth, CI bars (when the runs have two modules or more).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::aggregate::{CurvePoint, Group, Report};
use crate::error::{Error, Result};

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).unwrap_or_else(|_| panic!("the shipped font is a valid TrueType file"));
    });
}

/// Distinct, colour-blind-safe colours (Okabe–Ito), then plotters' palette.
fn colour(i: usize) -> RGBColor {
    const OKABE_ITO: [(u8, u8, u8); 7] = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233), (0, 0, 0)];
    match OKABE_ITO.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            let c = Palette99::pick(i).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

type DrawResult = std::result::Result<(), String>;

/// A figure drawn by `draw` into any backend.
pub trait Figure {
    fn name(&self) -> &str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Panels for K modules: up to four per row.
fn grid(k: usize) -> (usize, usize) {
    let cols = k.clamp(1, 4);
    (k.div_ceil(cols), cols)
}

fn y_range(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (a, b) in points {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-6);
    (lo - pad, hi + pad)
}

/// Per-module curves of each group against the run's epoch, the CI as a band.
pub struct CurvesFigure<'a> {
    pub name: &'a str,
    pub groups: &'a [Group],
    pub curves: fn(&Group) -> &Vec<Vec<CurvePoint>>,
    pub y_desc: &'a str,
    pub scale: f64,
    /// Where the quantity can lie (scaled): bands are drawn inside it. With two or three seeds a 95 % band
    /// can reach past 100 % or below 0, which would only squash the curves.
    pub bounds: (f64, f64),
}

/// Legend entries per row of a legend `width` pixels wide.
fn legend_columns(width: u32) -> usize {
    (width as usize / LEGEND_ENTRY).max(1)
}

const LEGEND_ENTRY: usize = 340;

/// Each group's colour and label, `per_row` entries of LEGEND_ENTRY pixels to a row, from `origin`.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, groups: &[Group], per_row: usize, origin: (i32, i32)) -> DrawResult {
    for (i, g) in groups.iter().enumerate() {
        let x = origin.0 + (i % per_row * LEGEND_ENTRY) as i32;
        let y = origin.1 + (i / per_row * 18) as i32;
        area.draw(&Rectangle::new([(x, y + 4), (x + 18, y + 10)], colour(i).filled())).map_err(err)?;
        area.draw(&Text::new(g.label.clone(), (x + 24, y), (FAMILY, 13))).map_err(err)?;
    }
    Ok(())
}

impl CurvesFigure<'_> {
    fn legend_height(&self, width: u32) -> u32 {
        (self.groups.len().div_ceil(legend_columns(width)) * 18 + 12) as u32
    }
}

impl Figure for CurvesFigure<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self) -> (u32, u32) {
        let k = self.groups.iter().map(|g| (self.curves)(g).len()).max().unwrap_or(1);
        let (rows, cols) = grid(k);
        let width = 360 * cols.max(2) as u32;
        (width, 300 * rows as u32 + self.legend_height(width))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let k = self.groups.iter().map(|g| (self.curves)(g).len()).max().unwrap_or(1);
        let (rows, cols) = grid(k);
        let (width, _) = self.size();
        let (legend, body) = root.split_vertically(self.legend_height(width));
        let per_row = legend_columns(width);
        draw_legend(&legend, self.groups, per_row, (10, 6))?;
        let max_epoch = self.groups.iter().flat_map(|g| (self.curves)(g).iter().flatten()).map(|p| p.epoch).max().unwrap_or(1).max(2);
        for (m, area) in body.split_evenly((rows, cols)).iter().enumerate().take(k) {
            let (floor, ceiling) = self.bounds;
            let band = |p: &CurvePoint| {
                let (lo, hi) = (self.scale * p.value.low().unwrap_or(p.value.mean), self.scale * p.value.high().unwrap_or(p.value.mean));
                (lo.max(floor), hi.min(ceiling))
            };
            let (lo, hi) = y_range(self.groups.iter().filter_map(|g| (self.curves)(g).get(m)).flatten().map(band));
            let mut chart = ChartBuilder::on(area)
                .caption(format!("module {}", m + 1), (FAMILY, 16))
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(1f64..max_epoch as f64, lo..hi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(self.y_desc)
                .label_style((FAMILY, 12))
                .x_labels(max_epoch.min(12))
                // epochs are whole: no label between two
                .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-9 { format!("{}", x.round()) } else { String::new() })
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            for (i, g) in self.groups.iter().enumerate() {
                let Some(points) = (self.curves)(g).get(m) else { continue };
                let c = colour(i);
                if points.iter().any(|p| p.value.half_width.is_some()) {
                    let upper = points.iter().map(|p| (p.epoch as f64, band(p).1));
                    let lower: Vec<(f64, f64)> = points.iter().map(|p| (p.epoch as f64, band(p).0)).collect();
                    let outline: Vec<(f64, f64)> = upper.chain(lower.into_iter().rev()).collect();
                    chart.draw_series(std::iter::once(Polygon::new(outline, c.mix(0.18).filled()))).map_err(err)?;
                }
                let line: Vec<(f64, f64)> = points.iter().map(|p| (p.epoch as f64, self.scale * p.value.mean)).collect();
                chart.draw_series(LineSeries::new(line.clone(), c.stroke_width(2))).map_err(err)?;
                chart.draw_series(line.into_iter().map(|xy| Circle::new(xy, 3, c.filled()))).map_err(err)?;
            }
        }
        Ok(())
    }
}

/// Final test accuracy against the module's depth, one line per group with its CI bars: the stagnation
/// across depth that a module-wise run is read by (do later modules still improve on earlier ones).
pub struct ModulesFigure<'a> {
    pub groups: &'a [Group],
}

impl ModulesFigure<'_> {
    pub fn applies(groups: &[Group]) -> bool {
        groups.iter().any(|g| g.modules.iter().filter(|m| m.final_acc.is_some()).count() >= 2)
    }
}

impl Figure for ModulesFigure<'_> {
    fn name(&self) -> &str {
        "modules"
    }

    fn size(&self) -> (u32, u32) {
        // The legend goes under the chart, a row per group: sweep labels are long and would hide the lines.
        (760, 420 + 18 * self.groups.len() as u32 + 12)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let (root, legend) = root.split_vertically(420);
        draw_legend(&legend, self.groups, 1, (60, 4))?;
        // per group: (module, mean, low, high), in %
        let series: Vec<Vec<(f64, f64, f64, f64)>> = self
            .groups
            .iter()
            .map(|g| {
                g.modules
                    .iter()
                    .filter_map(|m| m.final_acc.as_ref().map(|f| (m.module as f64, 100.0 * f.mean, 100.0 * f.low().unwrap_or(f.mean), 100.0 * f.high().unwrap_or(f.mean))))
                    .collect()
            })
            .collect();
        let k = series.iter().flatten().map(|p| p.0 as usize).max().unwrap_or(1).max(2);
        let (lo, hi) = y_range(series.iter().flatten().map(|p| (p.2.max(0.0), p.3.min(100.0))));
        let mut chart = ChartBuilder::on(&root)
            .caption("final test accuracy of each module's head", (FAMILY, 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.7f64..k as f64 + 0.3, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("module")
            .y_desc("test accuracy %")
            .label_style((FAMILY, 12))
            .x_labels(k)
            // modules are whole: no label between two
            .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-9 { format!("{}", x.round()) } else { String::new() })
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, points) in series.iter().enumerate() {
            let c = colour(i);
            chart.draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), c.stroke_width(2))).map_err(err)?;
            chart.draw_series(points.iter().map(|p| ErrorBar::new_vertical(p.0, p.2.max(0.0), p.1, p.3.min(100.0), c.filled(), 6))).map_err(err)?;
        }
        Ok(())
    }
}

/// Final test accuracy of each module against τ; series = the groups' other settings × module.
pub struct TauFigure<'a> {
    pub groups: &'a [Group],
}

/// τ values as plotted: log10 τ, ∞ one decade right of the largest finite τ.
/// Peak memory and throughput of each group, where the runs vary K or the mode: the module-wise memory
/// saving against its cost in speed.
pub struct ResourceFigure<'a> {
    pub groups: &'a [Group],
}

const RESOURCE_KEYS: [&str; 2] = ["split.modules", "train.mode"];

impl ResourceFigure<'_> {
    pub fn applies(groups: &[Group]) -> bool {
        groups.iter().any(|g| g.settings.keys().any(|k| RESOURCE_KEYS.contains(&k.as_str())))
            && groups.iter().any(|g| g.peak_alloc_bytes.is_some() || g.images_per_second.is_some())
    }

    fn short_label(g: &Group) -> String {
        let parts: Vec<String> = g.settings.iter().filter(|(k, _)| RESOURCE_KEYS.contains(&k.as_str())).map(|(k, v)| format!("{}={}", if k == "split.modules" { "K" } else { "mode" }, v.trim_matches('"'))).collect();
        parts.join(", ")
    }
}

impl Figure for ResourceFigure<'_> {
    fn name(&self) -> &str {
        "resources"
    }

    fn size(&self) -> (u32, u32) {
        ((160 * self.groups.len() as u32).clamp(360, 900) * 2, 400)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let panels = root.split_evenly((1, 2));
        let metrics: [(&str, fn(&Group) -> Option<&super::stats::MeanCi>, f64); 2] = [
            ("peak host allocation, MiB", |g| g.peak_alloc_bytes.as_ref(), 1.0 / (1 << 20) as f64),
            ("training images per second", |g| g.images_per_second.as_ref(), 1.0),
        ];
        let n = self.groups.len();
        for (area, (title, pick, scale)) in panels.iter().zip(metrics) {
            let top = self.groups.iter().filter_map(pick).map(|m| scale * m.high().unwrap_or(m.mean)).fold(0.0, f64::max).max(1e-9) * 1.1;
            let labels: Vec<String> = self.groups.iter().map(Self::short_label).collect();
            let mut chart = ChartBuilder::on(area)
                .caption(title, (FAMILY, 15))
                .margin(10)
                .x_label_area_size(34)
                .y_label_area_size(56)
                .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..top)
                .map_err(err)?;
            chart
                .configure_mesh()
                .label_style((FAMILY, 12))
                .disable_x_mesh()
                .light_line_style(WHITE.mix(0.0))
                .x_labels(n)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .draw()
                .map_err(err)?;
            for (i, g) in self.groups.iter().enumerate() {
                let Some(m) = pick(g) else { continue };
                let c = colour(i);
                let (x0, x1) = (SegmentValue::Exact(i as i32), SegmentValue::Exact(i as i32 + 1));
                chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, scale * m.mean)], c.mix(0.75).filled()))).map_err(err)?;
                if let (Some(lo), Some(hi)) = (m.low(), m.high()) {
                    let x = SegmentValue::CenterOf(i as i32);
                    chart.draw_series(std::iter::once(PathElement::new(vec![(x.clone(), scale * lo), (x, scale * hi)], BLACK.stroke_width(2)))).map_err(err)?;
                }
            }
        }
        Ok(())
    }
}

fn tau_positions(taus: &[f64]) -> (BTreeMap<u64, f64>, f64) {
    // (positions by τ's bits, where ∞ sits)
    let finite: Vec<f64> = taus.iter().copied().filter(|t| t.is_finite() && *t > 0.0).collect();
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let inf_at = if max.is_finite() { max.log10() + 1.0 } else { 0.0 };
    let pos = taus.iter().map(|&t| (t.to_bits(), if t.is_finite() { t.log10() } else { inf_at })).collect();
    (pos, inf_at)
}

fn group_tau(g: &Group) -> Option<f64> {
    let v = g.key.get("method.tau")?;
    if v == "\"inf\"" { Some(f64::INFINITY) } else { v.parse().ok() }
}

impl TauFigure<'_> {
    pub fn applies(groups: &[Group]) -> bool {
        let taus: std::collections::BTreeSet<u64> = groups.iter().filter_map(group_tau).map(f64::to_bits).collect();
        taus.len() >= 2
    }
}

impl Figure for TauFigure<'_> {
    fn name(&self) -> &str {
        "tau"
    }

    fn size(&self) -> (u32, u32) {
        (720, 440)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        // series: (the other settings, module) → points (τ, mean, low, high)
        let mut series: BTreeMap<(String, usize), Vec<(f64, f64, f64, f64)>> = BTreeMap::new();
        for g in self.groups {
            let Some(tau) = group_tau(g) else { continue };
            let others: Vec<String> = g.settings.iter().filter(|(k, _)| *k != "method.tau").map(|(k, v)| format!("{k}={}", v.trim_matches('"'))).collect();
            for m in &g.modules {
                if let Some(f) = &m.final_acc {
                    let p = (tau, 100.0 * f.mean, 100.0 * f.low().unwrap_or(f.mean), 100.0 * f.high().unwrap_or(f.mean));
                    series.entry((others.join(", "), m.module)).or_default().push(p);
                }
            }
        }
        let taus: Vec<f64> = series.values().flatten().map(|p| p.0).collect();
        let (pos, _) = tau_positions(&taus);
        let xs: Vec<f64> = pos.values().copied().collect();
        let (x0, x1) = (xs.iter().copied().fold(f64::INFINITY, f64::min) - 0.3, xs.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 0.3);
        let (lo, hi) = y_range(series.values().flatten().map(|p| (p.2, p.3)));
        let mut chart = ChartBuilder::on(root)
            .caption("final test accuracy against τ (∞ = VanGL)", (FAMILY, 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .right_y_label_area_size(0)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("τ (log scale)")
            .y_desc("test accuracy %")
            .label_style((FAMILY, 12))
            .disable_x_mesh()
            // The x labels are the swept τ values, drawn below at their own places.
            .x_label_formatter(&|_| String::new())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, ((others, module), mut points)) in series.into_iter().enumerate() {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let c = colour(i);
            let at = |t: f64| pos[&t.to_bits()];
            let label = if others.is_empty() { format!("module {module}") } else { format!("{others}, module {module}") };
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (at(p.0), p.1)), c.stroke_width(2)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            chart.draw_series(points.iter().map(|p| ErrorBar::new_vertical(at(p.0), p.2, p.1, p.3, c.filled(), 6))).map_err(err)?;
        }
        let mut swept: Vec<f64> = taus.clone();
        swept.sort_by(f64::total_cmp);
        swept.dedup();
        for t in swept {
            let x = pos[&t.to_bits()];
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], BLACK.mix(0.12)))).map_err(err)?;
            let (px, py) = chart.backend_coord(&(x, lo));
            let label = if t.is_infinite() { "∞".to_string() } else { format!("{t}") };
            let style = TextStyle::from((FAMILY, 12).into_font()).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ));
            root.draw(&Text::new(label, (px, py + 6), style)).map_err(err)?;
        }
        chart.configure_series_labels().label_font((FAMILY, 12)).background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(err)?;
        Ok(())
    }
}

/// Draws `figure` as `<out>/<name>.svg` and `.png`; returns the SVG text and both paths.
pub fn render<F: Figure>(figure: &F, out: &Path) -> Result<(String, Vec<PathBuf>)> {
    register_font();
    let (w, h) = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        figure.draw(&root).map_err(|e| Error::data(out.join(format!("{}.svg", figure.name())), e))?;
        root.present().map_err(|e| Error::data(out.join(format!("{}.svg", figure.name())), err(e)))?;
    }
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    let png_path = out.join(format!("{}.png", figure.name()));
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        figure.draw(&root).map_err(|e| Error::data(&png_path, e))?;
        root.present().map_err(|e| Error::data(&png_path, err(e)))?;
    }
    let svg_path = out.join(format!("{}.svg", figure.name()));
    std::fs::write(&svg_path, &svg).map_err(|e| Error::io(&svg_path, e))?;
    let img = image::RgbImage::from_raw(w, h, pixels).expect("the buffer holds w × h RGB pixels");
    img.save_with_format(&png_path, image::ImageFormat::Png).map_err(|e| Error::data(&png_path, e.to_string()))?;
    Ok((svg, vec![svg_path, png_path]))
}

/// Every figure that applies to `report`, written into `out`: (name, SVG text) for the HTML page, and the
/// files written.
pub fn figures(report: &Report, out: &Path) -> Result<(Vec<(String, String)>, Vec<PathBuf>)> {
    let mut inline = Vec::new();
    let mut files = Vec::new();
    let stagnation = CurvesFigure { name: "test_accuracy", groups: &report.groups, curves: |g| &g.test_acc_curves, y_desc: "test accuracy %", scale: 100.0, bounds: (0.0, 100.0) };
    let kinetic = CurvesFigure { name: "kinetic_energy", groups: &report.groups, curves: |g| &g.kinetic_curves, y_desc: "kinetic energy", scale: 1.0, bounds: (0.0, f64::INFINITY) };
    for (name, (svg, paths)) in [("test accuracy per module against epoch", render(&stagnation, out)?), ("kinetic energy per module against epoch", render(&kinetic, out)?)] {
        inline.push((name.to_string(), svg));
        files.extend(paths);
    }
    if ModulesFigure::applies(&report.groups) {
        let (svg, paths) = render(&ModulesFigure { groups: &report.groups }, out)?;
        inline.insert(1, ("final test accuracy per module".to_string(), svg));
        files.extend(paths);
    }
    if TauFigure::applies(&report.groups) {
        let (svg, paths) = render(&TauFigure { groups: &report.groups }, out)?;
        inline.insert(1, ("final test accuracy against τ".to_string(), svg));
        files.extend(paths);
    }
    if ResourceFigure::applies(&report.groups) {
        let (svg, paths) = render(&ResourceFigure { groups: &report.groups }, out)?;
        inline.push(("peak memory and throughput".to_string(), svg));
        files.extend(paths);
    }
    Ok((inline, files))
}
