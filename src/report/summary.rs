//! What a user reads first: each module's test accuracy, final and best, as a table.

use serde::{Deserialize, Serialize};

use super::metrics::Record;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleSummary {
    pub module: usize,
    pub blocks: usize,
    /// Test accuracy of the module's head at the end of training.
    pub final_acc: Option<f64>,
    /// Best test accuracy of the module's head over its epochs.
    pub best_acc: Option<f64>,
    pub epochs: usize,
    /// Highest training-phase peak of host allocations over its epochs (see `Record::peak_alloc_bytes`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_alloc_bytes: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub label: String,
    pub mode: String,
    pub modules: Vec<ModuleSummary>,
    pub seconds: f64,
    /// Highest training-phase peak of host allocations of the run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_alloc_bytes: Option<usize>,
    /// Highest peak RSS seen at the end of a training phase.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_rss_bytes: Option<usize>,
}

impl RunSummary {
    pub fn from_records(label: &str, mode: &str, blocks: &[usize], records: &[Record], seconds: f64) -> Self {
        let modules = blocks
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let of = || records.iter().filter(move |r| r.module == i + 1);
                let best = of().filter_map(|r| r.test_acc).fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))));
                let fin = of().filter(|r| r.phase == "final").filter_map(|r| r.test_acc).next_back();
                let epochs = of().filter(|r| r.phase == "train").count();
                let peak_alloc_bytes = of().filter_map(|r| r.peak_alloc_bytes).max();
                ModuleSummary { module: i + 1, blocks: b, final_acc: fin, best_acc: best, epochs, peak_alloc_bytes }
            })
            .collect();
        let peak_alloc_bytes = records.iter().filter_map(|r| r.peak_alloc_bytes).max();
        let peak_rss_bytes = records.iter().filter_map(|r| r.peak_rss_bytes).max();
        RunSummary { label: label.into(), mode: mode.into(), modules, seconds, peak_alloc_bytes, peak_rss_bytes }
    }

    /// The best test accuracy over modules and epochs (the paper's reported metric).
    pub fn best(&self) -> Option<f64> {
        self.modules.iter().filter_map(|m| m.best_acc).reduce(f64::max)
    }
}

fn pct(a: Option<f64>) -> String {
    a.map_or("-".into(), |a| format!("{:.2}", 100.0 * a))
}

/// One table, one row per module, with final and best test accuracy of each run side by side.
pub fn side_by_side(runs: &[RunSummary]) -> String {
    let mut s = String::new();
    s.push_str(&format!("{:>6} {:>6}", "module", "blocks"));
    for r in runs {
        s.push_str(&format!(" | {:^21}", r.label));
    }
    s.push('\n');
    s.push_str(&format!("{:>6} {:>6}", "", ""));
    for _ in runs {
        s.push_str(&format!(" | {:>10} {:>10}", "final %", "best %"));
    }
    s.push('\n');
    let rows = runs.iter().map(|r| r.modules.len()).max().unwrap_or(0);
    for i in 0..rows {
        let blocks = runs.iter().find_map(|r| r.modules.get(i)).map_or(0, |m| m.blocks);
        s.push_str(&format!("{:>6} {:>6}", i + 1, blocks));
        for r in runs {
            let m = r.modules.get(i);
            s.push_str(&format!(" | {:>10} {:>10}", pct(m.and_then(|m| m.final_acc)), pct(m.and_then(|m| m.best_acc))));
        }
        s.push('\n');
    }
    s.push_str(&format!("{:>13}", "best"));
    for r in runs {
        s.push_str(&format!(" | {:>10} {:>10}", "", pct(r.best())));
    }
    s.push('\n');
    s.push_str(&format!("{:>13}", "seconds"));
    for r in runs {
        s.push_str(&format!(" | {:>21.1}", r.seconds));
    }
    s.push('\n');
    s
}
