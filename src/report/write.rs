//! A report's files: `report.md` (tables a person reads), `report.csv` (one row per group and module),
//! `report.json` (everything, curves included).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::aggregate::Report;
use super::stats::MeanCi;
use crate::error::{Error, Result};

fn pct(m: &Option<MeanCi>) -> String {
    m.as_ref().map_or("-".into(), |m| m.display(100.0, 2))
}

fn plain(m: &Option<MeanCi>, scale: f64, decimals: usize) -> String {
    m.as_ref().map_or("-".into(), |m| m.display(scale, decimals))
}

pub fn markdown(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Report\n");
    let _ = writeln!(s, "Accuracies in %, mean ± half-width of the two-sided 95 % Student-t interval over seeds; `(n = 1)`: one seed, no interval.\n");
    for g in &report.groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "## {}\n", g.label);
        let _ = writeln!(s, "n = {}, seeds {}; wall time {} s; peak host allocation {} MiB\n", g.runs.len(), seeds.join(", "), plain(&g.seconds, 1.0, 1), plain(&g.peak_alloc_bytes, 1.0 / (1 << 20) as f64, 1));
        let _ = writeln!(s, "| module | final test | best test | train (last epoch) | train − test | kinetic energy |");
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|");
        for m in &g.modules {
            let _ = writeln!(s, "| {} | {} | {} | {} | {} | {} |", m.module, pct(&m.final_acc), pct(&m.best_acc), pct(&m.train_acc), pct(&m.gap), plain(&m.kinetic_energy, 1.0, 4));
        }
        let _ = writeln!(s);
    }
    for c in &report.comparisons {
        let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "## Paired difference: ({}) − ({})\n", c.group, c.baseline);
        let _ = writeln!(s, "Per seed, then mean ± 95 % CI over the {} seeds present in both ({}); points of accuracy.\n", c.seeds.len(), seeds.join(", "));
        let _ = writeln!(s, "| module | final test | best test | final: CI |");
        let _ = writeln!(s, "|---:|---:|---:|---|");
        for m in &c.modules {
            let _ = writeln!(s, "| {} | {} | {} | {} |", m.module, pct(&m.final_acc), pct(&m.best_acc), m.verdict);
        }
        let _ = writeln!(s);
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(s, "## Left out\n");
        for k in &report.skipped {
            let _ = writeln!(s, "- {k}");
        }
    }
    s
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

pub fn csv(report: &Report) -> String {
    let mut s = String::from("group,module,n,seeds,final_mean,final_half_width,best_mean,best_half_width,train_acc_mean,gap_mean,gap_half_width,kinetic_energy_mean,seconds_mean,peak_alloc_bytes_mean\n");
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for g in &report.groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        for m in &g.modules {
            let mean = |x: &Option<MeanCi>| x.as_ref().map(|x| x.mean);
            let half = |x: &Option<MeanCi>| x.as_ref().and_then(|x| x.half_width);
            let row = [
                csv_field(&g.label),
                m.module.to_string(),
                g.runs.len().to_string(),
                csv_field(&seeds.join(" ")),
                num(mean(&m.final_acc)),
                num(half(&m.final_acc)),
                num(mean(&m.best_acc)),
                num(half(&m.best_acc)),
                num(mean(&m.train_acc)),
                num(mean(&m.gap)),
                num(half(&m.gap)),
                num(mean(&m.kinetic_energy)),
                num(mean(&g.seconds)),
                num(mean(&g.peak_alloc_bytes)),
            ];
            let _ = writeln!(s, "{}", row.join(","));
        }
    }
    s
}

/// Writes report.md, report.csv and report.json into `out`; returns their paths.
pub fn write_all(report: &Report, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let files = [
        ("report.md", markdown(report)),
        ("report.csv", csv(report)),
        ("report.json", serde_json::to_string_pretty(report).expect("a report serialises")),
    ];
    let mut paths = Vec::new();
    for (name, body) in files {
        let p = out.join(name);
        std::fs::write(&p, body).map_err(|e| Error::io(&p, e))?;
        paths.push(p);
    }
    Ok(paths)
}
