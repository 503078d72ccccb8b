//! Per-module curves against the run's epoch: test accuracy (the stagnation figure) and kinetic energy.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawResult, FAMILY, Figure, LEGEND_ENTRY, colour, draw_legend, err, grid, y_range};
use crate::report::aggregate::{CurvePoint, Group};

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
        let labels: Vec<&str> = self.groups.iter().map(|g| g.label.as_str()).collect();
        draw_legend(&legend, &labels, per_row, (10, 6))?;
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
