//! A report's files: `report.md` (tables a person reads), `report.csv` (one row per group and module),
//! `report.json` (everything, curves included), the figures (SVG and PNG, see `plot`) and `report.html`, one
//! self-contained page with the tables and the figures inline.

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
    let has_val = report.groups.iter().any(|g| g.modules.iter().any(|m| m.final_val_acc.is_some()));
    for g in &report.groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "## {}\n", g.label);
        let _ = writeln!(s, "n = {}, seeds {}; wall time {} s; {} training images/s; peak host allocation {} MiB\n", g.runs.len(), seeds.join(", "), plain(&g.seconds, 1.0, 1), plain(&g.images_per_second, 1.0, 1), plain(&g.peak_alloc_bytes, 1.0 / (1 << 20) as f64, 1));
        let _ = write!(s, "| module | final test | best test | train (last epoch) | train − test | kinetic energy |");
        let _ = writeln!(s, "{}", if has_val { " final val | test at the best val epoch |\n|---:|---:|---:|---:|---:|---:|---:|---:|" } else { "\n|---:|---:|---:|---:|---:|---:|" });
        for m in &g.modules {
            let _ = write!(s, "| {} | {} | {} | {} | {} | {} |", m.module, pct(&m.final_acc), pct(&m.best_acc), pct(&m.train_acc), pct(&m.gap), plain(&m.kinetic_energy, 1.0, 4));
            let _ = writeln!(s, "{}", if has_val { format!(" {} | {} |", pct(&m.final_val_acc), pct(&m.val_selected_test_acc)) } else { String::new() });
        }
        let _ = writeln!(s);
    }
    for c in &report.selections {
        let _ = writeln!(
            s,
            "## Chosen on validation: {} among {} values ({})\n\n{} = {}: last module's final validation accuracy {}, its test accuracy {}\n",
            c.field, c.candidates, c.among, c.field, c.chosen, c.val_acc.display(100.0, 2), pct(&c.test_acc)
        );
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
    let mut s = String::from("group,module,n,seeds,final_mean,final_half_width,best_mean,best_half_width,train_acc_mean,gap_mean,gap_half_width,kinetic_energy_mean,seconds_mean,images_per_second_mean,peak_alloc_bytes_mean\n");
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
                num(mean(&g.images_per_second)),
                num(mean(&g.peak_alloc_bytes)),
            ];
            let _ = writeln!(s, "{}", row.join(","));
        }
    }
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One page, nothing fetched: the tables of `markdown` as HTML and each figure's SVG inline.
pub fn html(report: &Report, figures: &[(String, String)]) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>trgl report</title><style>\n\
         body{font-family:sans-serif;margin:2em;max-width:1500px;color:#222}\n\
         table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 9px;text-align:right}\n\
         th{background:#f2f2f2}figure{margin:1em 0 2em}figcaption{font-weight:bold;margin-bottom:0.4em}\n\
         </style></head><body>\n<h1>trgl report</h1>\n\
         <p>Accuracies in %, mean ± half-width of the two-sided 95 % Student-t interval over seeds; (n = 1): one seed, no interval.</p>\n",
    );
    for (caption, svg) in figures {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(s, "<figure><figcaption>{}</figcaption>\n{body}\n</figure>", escape(caption));
    }
    let has_val = report.groups.iter().any(|g| g.modules.iter().any(|m| m.final_val_acc.is_some()));
    for g in &report.groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "<h2>{}</h2>\n<p>n = {}, seeds {}; wall time {} s; {} training images/s; peak host allocation {} MiB</p>", escape(&g.label), g.runs.len(), seeds.join(", "), plain(&g.seconds, 1.0, 1), plain(&g.images_per_second, 1.0, 1), plain(&g.peak_alloc_bytes, 1.0 / (1 << 20) as f64, 1));
        let val_head = if has_val { "<th>final val</th><th>test at the best val epoch</th>" } else { "" };
        let _ = writeln!(s, "<table><tr><th>module</th><th>final test</th><th>best test</th><th>train (last epoch)</th><th>train − test</th><th>kinetic energy</th>{val_head}</tr>");
        for m in &g.modules {
            let val = if has_val { format!("<td>{}</td><td>{}</td>", pct(&m.final_val_acc), pct(&m.val_selected_test_acc)) } else { String::new() };
            let _ = writeln!(s, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{val}</tr>", m.module, pct(&m.final_acc), pct(&m.best_acc), pct(&m.train_acc), pct(&m.gap), plain(&m.kinetic_energy, 1.0, 4));
        }
        let _ = writeln!(s, "</table>");
    }
    for c in &report.selections {
        let _ = writeln!(
            s,
            "<h2>Chosen on validation: {} among {} values ({})</h2>\n<p>{} = {}: last module's final validation accuracy {}, its test accuracy {}</p>",
            escape(&c.field), c.candidates, escape(&c.among), escape(&c.field), escape(&c.chosen), c.val_acc.display(100.0, 2), pct(&c.test_acc)
        );
    }
    for c in &report.comparisons {
        let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "<h2>Paired difference: ({}) − ({})</h2>\n<p>Per seed, then mean ± 95 % CI over the {} seeds present in both ({}); points of accuracy.</p>", escape(&c.group), escape(&c.baseline), c.seeds.len(), seeds.join(", "));
        let _ = writeln!(s, "<table><tr><th>module</th><th>final test</th><th>best test</th><th>final: CI</th></tr>");
        for m in &c.modules {
            let _ = writeln!(s, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", m.module, pct(&m.final_acc), pct(&m.best_acc), escape(&m.verdict));
        }
        let _ = writeln!(s, "</table>");
    }
    // Where each figure lies on the page, for tools/check_report_html.py (read with Chromium's --dump-dom).
    s.push_str(
        "<pre id=\"figure-rects\" hidden></pre>\n<script>document.getElementById('figure-rects').textContent = \
         [...document.querySelectorAll('figure > svg')].map(e => { const b = e.getBoundingClientRect(); \
         return [b.left, b.top + window.scrollY, b.width, b.height].map(Math.round).join(','); }).join(';');</script>\n",
    );
    s.push_str("</body></html>\n");
    s
}

/// Writes report.md, report.csv, report.json, the figures and report.html into `out`; returns their paths.
pub fn write_all(report: &Report, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let (figures, mut paths) = super::plot::figures(report, out)?;
    let files = [
        ("report.md", markdown(report)),
        ("report.csv", csv(report)),
        ("report.json", serde_json::to_string_pretty(report).expect("a report serialises")),
        ("report.html", html(report, &figures)),
    ];
    for (name, body) in files {
        let p = out.join(name);
        std::fs::write(&p, body).map_err(|e| Error::io(&p, e))?;
        paths.push(p);
    }
    Ok(paths)
}
