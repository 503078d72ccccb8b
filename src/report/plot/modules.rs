//! Each module's final test accuracy against its depth.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawResult, FAMILY, Figure, colour, draw_legend, err, y_range};
use crate::report::aggregate::Group;

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
