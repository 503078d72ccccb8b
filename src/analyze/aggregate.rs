//! Many runs' analyses by setting: the runs grouped as `trgl report` groups them (every config field but
//! the seed and `output.*`), each measurement per module as mean ± 95 % CI over the seeds, written as a
//! table and drawn against depth (one line per setting).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{ModuleAnalysis, RunAnalysis};
use crate::error::{Error, Result};
use crate::flat::flatten_toml;
use crate::report::aggregate::group_by_setting;
use crate::report::plot::{DepthFigure, render};
use crate::report::stats::MeanCi;

/// How a measurement is read from a module's analysis.
type Read = fn(&ModuleAnalysis) -> f64;

/// The measurements drawn and tabulated: name, axis, scale (100 for accuracies), and how to read it.
pub const MEASUREMENTS: &[(&str, &str, f64, Read)] = &[
    ("kinetic_energy", "kinetic energy Σ mean(r²)", 1.0, |m| m.kinetic_energy),
    ("relative_displacement", "‖T(x) − P(x)‖ / ‖P(x)‖", 1.0, |m| m.relative_displacement),
    ("lipschitz_near", "local Lipschitz (near pairs, median)", 1.0, |m| m.lipschitz_near.median),
    ("lipschitz_pairs", "Lipschitz ratio (random pairs, median)", 1.0, |m| m.lipschitz_pairs.median),
    ("jacobian_norm", "Jacobian spectral norm (median)", 1.0, |m| m.jacobian.sigma.median),
    ("optimality_ratio", "W₂² / own cost", 1.0, |m| m.optimality.ratio),
    ("holder_eta", "Hölder exponent η", 1.0, |m| m.holder.eta),
    ("head_accuracy", "head test accuracy %", 100.0, |m| m.head_accuracy),
    ("probe_accuracy", "linear probe test accuracy %", 100.0, |m| m.probe.test_accuracy),
];

#[derive(Clone, Debug, Serialize)]
pub struct AnalysisGroup {
    pub label: String,
    pub runs: Vec<String>,
    pub seeds: Vec<String>,
    /// Per measurement, per module: mean ± CI over the group's runs.
    pub measurements: BTreeMap<String, Vec<Option<MeanCi>>>,
}

/// Groups analysed runs (`(run directory, analysis)`) by setting, as `trgl report` does.
pub fn group(runs: &[(PathBuf, RunAnalysis)]) -> Result<Vec<AnalysisGroup>> {
    let flats = runs
        .iter()
        .map(|(dir, _)| {
            let path = dir.join("config.toml");
            Ok(flatten_toml(&std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?))
        })
        .collect::<Result<Vec<_>>>()?;
    let (groups, _) = group_by_setting(flats.iter());
    Ok(groups
        .into_iter()
        .map(|g| {
            let members: Vec<&(PathBuf, RunAnalysis)> = g.members.iter().map(|&i| &runs[i]).collect();
            let modules = members.iter().map(|(_, a)| a.modules.len()).max().unwrap_or(0);
            let measurements = MEASUREMENTS
                .iter()
                .map(|(name, _, _, read)| {
                    let per_module = (0..modules).map(|j| MeanCi::of(&members.iter().filter_map(|(_, a)| a.modules.get(j).map(read)).collect::<Vec<_>>())).collect();
                    (name.to_string(), per_module)
                })
                .collect();
            AnalysisGroup {
                label: g.label,
                runs: members.iter().map(|(dir, _)| dir.display().to_string()).collect(),
                seeds: g.members.iter().map(|&i| flats[i].get("seed").cloned().unwrap_or_default()).collect(),
                measurements,
            }
        })
        .collect())
}

/// Writes `analysis_groups.json`, `analysis.md` and a figure per measurement (`analysis_<name>.svg/.png`).
pub fn write(groups: &[AnalysisGroup], out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut files = Vec::new();
    let json = out.join("analysis_groups.json");
    std::fs::write(&json, serde_json::to_string_pretty(groups).expect("groups serialise")).map_err(|e| Error::io(&json, e))?;
    files.push(json);
    let mut md = String::from("# trgl analyze: each measurement per module, mean ± 95 % CI over seeds\n");
    let header: Vec<String> = groups.iter().map(|g| format!("{} (n = {})", g.label, g.runs.len())).collect();
    for (name, desc, scale, _) in MEASUREMENTS {
        md.push_str(&format!("\n## {desc} (`{name}`)\n\n| module | {} |\n|---:|{}\n", header.join(" | "), "---:|".repeat(groups.len())));
        let modules = groups.iter().map(|g| g.measurements[*name].len()).max().unwrap_or(0);
        for j in 0..modules {
            let cells: Vec<String> = groups.iter().map(|g| g.measurements[*name].get(j).cloned().flatten().map_or("–".into(), |v| v.display(*scale, 4))).collect();
            md.push_str(&format!("| {} | {} |\n", j + 1, cells.join(" | ")));
        }
        let series = groups.iter().map(|g| (g.label.clone(), g.measurements[*name].iter().enumerate().filter_map(|(j, v)| v.clone().map(|v| (j + 1, v))).collect())).collect();
        let figure = DepthFigure { name: format!("analysis_{name}"), caption: desc.to_string(), y_desc: desc.to_string(), scale: *scale, bounds: (f64::NEG_INFINITY, f64::INFINITY), series };
        files.extend(render(&figure, out)?.1);
    }
    let path = out.join("analysis.md");
    std::fs::write(&path, md).map_err(|e| Error::io(&path, e))?;
    files.push(path);
    Ok(files)
}
