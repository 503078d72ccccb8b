//! Each module's final test accuracy against τ: the τ-robustness figure.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{DrawResult, FAMILY, Figure, colour, err, y_range};
use crate::report::aggregate::Group;

/// Final test accuracy of each module against τ; series = the groups' other settings × module.
pub struct TauFigure<'a> {
    pub groups: &'a [Group],
}

/// τ values as plotted: log10 τ, ∞ one decade right of the largest finite τ.
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
