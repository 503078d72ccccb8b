//! Peak memory and throughput of each setting, where the runs vary K or the mode.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawResult, FAMILY, Figure, colour, err};
use crate::report::aggregate::Group;

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
        let metrics: [(&str, fn(&Group) -> Option<&crate::report::stats::MeanCi>, f64); 2] = [
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
