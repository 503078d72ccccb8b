//! A per-module quantity against the module's depth: one line per group, CI bars. The report draws each
//! module's final test accuracy this way; `trgl analyze` draws its measurements.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawResult, FAMILY, Figure, colour, draw_legend, err, y_range};
use crate::report::aggregate::Group;
use crate::report::stats::MeanCi;

/// One line per group: (module, value over seeds) pairs, scaled by `scale`, bars kept inside `bounds`.
pub struct DepthFigure {
    pub name: String,
    pub caption: String,
    pub y_desc: String,
    pub scale: f64,
    pub bounds: (f64, f64),
    pub series: Vec<(String, Vec<(usize, MeanCi)>)>,
}

impl DepthFigure {
    /// Final test accuracy against the module's depth: the stagnation across depth that a module-wise run
    /// is read by (do later modules still improve on earlier ones).
    pub fn final_accuracy(groups: &[Group]) -> DepthFigure {
        let series = groups.iter().map(|g| (g.label.clone(), g.modules.iter().filter_map(|m| m.final_acc.clone().map(|f| (m.module, f))).collect())).collect();
        DepthFigure {
            name: "modules".into(),
            caption: "final test accuracy of each module's head".into(),
            y_desc: "test accuracy %".into(),
            scale: 100.0,
            bounds: (0.0, 100.0),
            series,
        }
    }

    /// Whether a line has two modules or more to join.
    pub fn applies(&self) -> bool {
        self.series.iter().any(|(_, points)| points.len() >= 2)
    }
}

impl Figure for DepthFigure {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> (u32, u32) {
        // The legend goes under the chart, a row per group: sweep labels are long and would hide the lines.
        (760, 420 + 18 * self.series.len() as u32 + 12)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let (root, legend) = root.split_vertically(420);
        let labels: Vec<&str> = self.series.iter().map(|(l, _)| l.as_str()).collect();
        draw_legend(&legend, &labels, 1, (60, 4))?;
        let (floor, ceiling) = self.bounds;
        // per group: (module, mean, low, high), scaled
        let s = self.scale;
        let series: Vec<Vec<(f64, f64, f64, f64)>> = self
            .series
            .iter()
            .map(|(_, points)| points.iter().map(|(m, f)| (*m as f64, s * f.mean, s * f.low().unwrap_or(f.mean), s * f.high().unwrap_or(f.mean))).collect())
            .collect();
        let k = series.iter().flatten().map(|p| p.0 as usize).max().unwrap_or(1).max(2);
        let (lo, hi) = y_range(series.iter().flatten().map(|p| (p.2.max(floor), p.3.min(ceiling))));
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.caption, (FAMILY, 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.7f64..k as f64 + 0.3, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("module")
            .y_desc(&self.y_desc)
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
            chart.draw_series(points.iter().map(|p| ErrorBar::new_vertical(p.0, p.2.max(floor), p.1, p.3.min(ceiling), c.filled(), 6))).map_err(err)?;
        }
        Ok(())
    }
}
