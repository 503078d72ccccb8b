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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub label: String,
    pub mode: String,
    pub modules: Vec<ModuleSummary>,
    pub seconds: f64,
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
                ModuleSummary { module: i + 1, blocks: b, final_acc: fin, best_acc: best, epochs }
            })
            .collect();
        RunSummary { label: label.into(), mode: mode.into(), modules, seconds }
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
