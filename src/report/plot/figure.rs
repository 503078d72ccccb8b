//! The figure trait, rendering a figure to SVG and PNG, and the drawing helpers every figure shares.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).unwrap_or_else(|_| panic!("the shipped font is a valid TrueType file"));
    });
}

/// Distinct, colour-blind-safe colours (Okabe–Ito), then plotters' palette.
pub(super) fn colour(i: usize) -> RGBColor {
    const OKABE_ITO: [(u8, u8, u8); 7] = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233), (0, 0, 0)];
    match OKABE_ITO.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            let c = Palette99::pick(i).to_rgba();
            RGBColor(c.0, c.1, c.2)
        }
    }
}

pub(super) type DrawResult = std::result::Result<(), String>;

/// A figure drawn by `draw` into any backend.
pub trait Figure {
    fn name(&self) -> &str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

pub(super) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Width of one legend entry, in pixels.
pub(super) const LEGEND_ENTRY: usize = 340;

/// Each line's colour and label, `per_row` entries of LEGEND_ENTRY pixels to a row, from `origin`.
pub(super) fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, labels: &[&str], per_row: usize, origin: (i32, i32)) -> DrawResult {
    for (i, label) in labels.iter().enumerate() {
        let x = origin.0 + (i % per_row * LEGEND_ENTRY) as i32;
        let y = origin.1 + (i / per_row * 18) as i32;
        area.draw(&Rectangle::new([(x, y + 4), (x + 18, y + 10)], colour(i).filled())).map_err(err)?;
        area.draw(&Text::new(label.to_string(), (x + 24, y), (FAMILY, 13))).map_err(err)?;
    }
    Ok(())
}

/// Panels for K modules: up to four per row.
pub(super) fn grid(k: usize) -> (usize, usize) {
    let cols = k.clamp(1, 4);
    (k.div_ceil(cols), cols)
}

pub(super) fn y_range(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
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
