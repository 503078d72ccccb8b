//! What a report holds: the groups of runs with their figures over seeds, the paired comparisons and the
//! settings selected on validation accuracy.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::stats::MeanCi;

#[derive(Clone, Debug, Serialize)]
pub struct ModuleStats {
    pub module: usize,
    /// Test accuracy of the module's head at the end of training.
    pub final_acc: Option<MeanCi>,
    /// Its best test accuracy over its epochs.
    pub best_acc: Option<MeanCi>,
    /// Training accuracy of its last epoch (on augmented batches, while it trained).
    pub train_acc: Option<MeanCi>,
    /// train_acc − final_acc: how much the module overfits.
    pub gap: Option<MeanCi>,
    /// Kinetic energy of its last epoch.
    pub kinetic_energy: Option<MeanCi>,
    /// Validation accuracy at the end of training (runs with `data.val_fraction`).
    pub final_val_acc: Option<MeanCi>,
    /// Test accuracy at the epoch of the module's best validation accuracy: the epoch chosen on
    /// validation, scored on test.
    pub val_selected_test_acc: Option<MeanCi>,
}

/// One epoch of a per-module curve, over the group's seeds.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    /// Epoch of the whole run: sequential and multi-lap count every module's epochs one after the other.
    pub epoch: usize,
    pub value: MeanCi,
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// The fields whose values set this group apart from the others (`key=value`).
    pub label: String,
    pub settings: BTreeMap<String, String>,
    pub runs: Vec<String>,
    pub seeds: Vec<u64>,
    pub modules: Vec<ModuleStats>,
    pub seconds: Option<MeanCi>,
    pub peak_alloc_bytes: Option<MeanCi>,
    pub peak_rss_bytes: Option<MeanCi>,
    /// Training images per second over the run's epochs (absent with `output.timings = false`).
    pub images_per_second: Option<MeanCi>,
    /// Per module, test accuracy against the run's epoch (the stagnation curve).
    pub test_acc_curves: Vec<Vec<CurvePoint>>,
    /// Per module, the kinetic energy of each epoch.
    pub kinetic_curves: Vec<Vec<CurvePoint>>,
    #[serde(skip)]
    pub key: BTreeMap<String, String>,
    #[serde(skip)]
    pub(super) members: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModuleDifference {
    pub module: usize,
    pub final_acc: Option<MeanCi>,
    pub best_acc: Option<MeanCi>,
    /// `above 0`, `below 0` or `inconclusive` by the final accuracy's 95 % CI; `n = 1` without one.
    pub verdict: String,
}

/// Paired per-seed differences: `group` − `baseline`, seeds present in both.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub field: String,
    pub group: String,
    pub baseline: String,
    pub seeds: Vec<u64>,
    pub modules: Vec<ModuleDifference>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub groups: Vec<Group>,
    pub comparisons: Vec<Comparison>,
    /// Values of a swept field chosen on validation (where the runs have a validation split).
    pub selections: Vec<Selection>,
    pub skipped: Vec<String>,
}

/// Among groups that differ only in `field`, the one whose last module has the best mean final validation
/// accuracy, and its test accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct Selection {
    pub field: String,
    /// The other settings the candidates share.
    pub among: String,
    pub candidates: usize,
    pub chosen: String,
    pub val_acc: MeanCi,
    pub test_acc: Option<MeanCi>,
}
