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

/// A table of the report: its header, whether each column is right-aligned, its rows.
struct Table {
    header: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

/// One section of the report as Markdown and HTML both show it: a heading, a sentence, maybe a table.
struct Section {
    heading: String,
    text: String,
    table: Option<Table>,
}

/// Each group's table, the settings chosen on validation, the paired differences.
fn sections(report: &Report) -> Vec<Section> {
    let has_val = report.groups.iter().any(|g| g.modules.iter().any(|m| m.final_val_acc.is_some()));
    let mut out = Vec::new();
    for g in &report.groups {
        let seeds: Vec<String> = g.seeds.iter().map(u64::to_string).collect();
        let mut header = vec!["module", "final test", "best test", "train (last epoch)", "train − test", "kinetic energy"];
        if has_val {
            header.extend(["final val", "test at the best val epoch"]);
        }
        let rows = g
            .modules
            .iter()
            .map(|m| {
                let mut row = vec![m.module.to_string(), pct(&m.final_acc), pct(&m.best_acc), pct(&m.train_acc), pct(&m.gap), plain(&m.kinetic_energy, 1.0, 4)];
                if has_val {
                    row.extend([pct(&m.final_val_acc), pct(&m.val_selected_test_acc)]);
                }
                row
            })
            .collect();
        out.push(Section {
            heading: g.label.clone(),
            text: format!(
                "n = {}, seeds {}; wall time {} s; {} training images/s; peak host allocation {} MiB",
                g.runs.len(),
                seeds.join(", "),
                plain(&g.seconds, 1.0, 1),
                plain(&g.images_per_second, 1.0, 1),
                plain(&g.peak_alloc_bytes, 1.0 / (1 << 20) as f64, 1)
            ),
            table: Some(Table { right: vec![true; header.len()], header, rows }),
        });
    }
    for c in &report.selections {
        out.push(Section {
            heading: format!("Chosen on validation: {} among {} values ({})", c.field, c.candidates, c.among),
            text: format!("{} = {}: last module's final validation accuracy {}, its test accuracy {}", c.field, c.chosen, c.val_acc.display(100.0, 2), pct(&c.test_acc)),
            table: None,
        });
    }
    for c in &report.comparisons {
        let seeds: Vec<String> = c.seeds.iter().map(u64::to_string).collect();
        out.push(Section {
            heading: format!("Paired difference: ({}) − ({})", c.group, c.baseline),
            text: format!("Per seed, then mean ± 95 % CI over the {} seeds present in both ({}); points of accuracy.", c.seeds.len(), seeds.join(", ")),
            table: Some(Table {
                header: vec!["module", "final test", "best test", "final: CI"],
                right: vec![true, true, true, false],
                rows: c.modules.iter().map(|m| vec![m.module.to_string(), pct(&m.final_acc), pct(&m.best_acc), m.verdict.clone()]).collect(),
            }),
        });
    }
    out
}

pub fn markdown(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Report\n");
    let _ = writeln!(s, "Accuracies in %, mean ± half-width of the two-sided 95 % Student-t interval over seeds; `(n = 1)`: one seed, no interval.\n");
    for section in sections(report) {
        let _ = writeln!(s, "## {}\n\n{}\n", section.heading, section.text);
        if let Some(t) = section.table {
            let _ = writeln!(s, "| {} |", t.header.join(" | "));
            let _ = writeln!(s, "|{}|", t.right.iter().map(|&r| if r { "---:" } else { "---" }).collect::<Vec<_>>().join("|"));
            for row in &t.rows {
                let _ = writeln!(s, "| {} |", row.join(" | "));
            }
            let _ = writeln!(s);
        }
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
         figure svg{max-width:100%;height:auto}\n\
         </style></head><body>\n<h1>trgl report</h1>\n\
         <p>Accuracies in %, mean ± half-width of the two-sided 95 % Student-t interval over seeds; (n = 1): one seed, no interval.</p>\n",
    );
    for (caption, svg) in figures {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(s, "<figure><figcaption>{}</figcaption>\n{body}\n</figure>", escape(caption));
    }
    for section in sections(report) {
        let _ = writeln!(s, "<h2>{}</h2>\n<p>{}</p>", escape(&section.heading), escape(&section.text));
        if let Some(t) = section.table {
            let cells = |tag: &str, row: &[String]| row.iter().map(|c| format!("<{tag}>{}</{tag}>", escape(c))).collect::<String>();
            let header: Vec<String> = t.header.iter().map(|h| h.to_string()).collect();
            let _ = writeln!(s, "<table><tr>{}</tr>", cells("th", &header));
            for row in &t.rows {
                let _ = writeln!(s, "<tr>{}</tr>", cells("td", row));
            }
            let _ = writeln!(s, "</table>");
        }
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
