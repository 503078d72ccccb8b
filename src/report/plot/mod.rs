//! A report's figures, each as SVG and PNG, drawn with the DejaVu Sans shipped in `assets/fonts` (registered
//! with plotters' own font renderer), so that a figure looks the same on every machine:
//! (a) per-module test accuracy against epoch, one colour per setting, the 95 % CI shaded — the stagnation
//! figure; (b) each module's final test accuracy against τ, log axis, ∞ drawn at the right end, CI bars — the
//! τ-robustness figure (when the runs vary τ); (c) kinetic energy per module against epoch; (d) peak memory
//! and training images per second of each setting (when the runs vary K or the mode); (e) each module's
//! final test accuracy against its depth, CI bars (when the runs have two modules or more).

pub mod curves;
pub mod figure;
pub mod modules;
pub mod resource;
pub mod tau;

use std::path::{Path, PathBuf};

pub use curves::CurvesFigure;
pub use figure::{Figure, render};
pub use modules::DepthFigure;
pub use resource::ResourceFigure;
pub use tau::TauFigure;

use super::aggregate::Report;
use crate::error::Result;

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
    let depth = DepthFigure::final_accuracy(&report.groups);
    if depth.applies() {
        let (svg, paths) = render(&depth, out)?;
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
