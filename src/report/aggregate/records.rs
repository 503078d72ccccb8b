//! The figures one run's records give: a module's last and final records, its validation-selected
//! accuracy, the run's epochs, throughput and per-epoch curves.

use std::collections::BTreeMap;

use super::load::LoadedRun;
use super::report::CurvePoint;
use crate::report::metrics::Record;
use crate::report::stats::MeanCi;

/// The last training record of each module (its last epoch).
pub(super) fn last_train(records: &[Record], module: usize) -> Option<&Record> {
    records.iter().filter(|r| r.phase == "train" && r.module == module).next_back()
}

pub(super) fn final_record(records: &[Record], module: usize) -> Option<&Record> {
    records.iter().filter(|r| r.phase == "final" && r.module == module).next_back()
}

/// The test accuracy of the module's epoch with the best validation accuracy (the first such epoch).
pub(super) fn val_selected(records: &[Record], module: usize) -> Option<f64> {
    let mut best: Option<(f64, Option<f64>)> = None;
    for r in records.iter().filter(|r| r.phase == "train" && r.module == module) {
        if let Some(v) = r.val_acc {
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, r.test_acc));
            }
        }
    }
    best.and_then(|(_, t)| t)
}

/// Each training record's epoch of the whole run: e2e/parallel/pipelined train every module in one epoch,
/// sequential and multi-lap one module per epoch.
pub fn run_epochs(records: &[Record]) -> Vec<(usize, &Record)> {
    let mut out = Vec::new();
    let mut epoch = 0;
    let mut prev: Option<&Record> = None;
    for r in records.iter().filter(|r| r.phase == "train") {
        let together = matches!(r.mode.as_str(), "e2e" | "parallel" | "pipelined");
        let new = match prev {
            None => true,
            Some(p) => !together || p.epoch != r.epoch || p.lap != r.lap || r.module <= p.module,
        };
        if new {
            epoch += 1;
        }
        out.push((epoch, r));
        prev = Some(r);
    }
    out
}

/// Training images per second of a run: every epoch's steps × batch over their seconds (an epoch of the
/// modes that train all modules together counted once).
pub(super) fn images_per_second(run: &LoadedRun) -> Option<f64> {
    let mut seen = std::collections::BTreeSet::new();
    let (mut images, mut seconds) = (0.0, 0.0);
    for (e, r) in run_epochs(&run.records) {
        if seen.insert(e) {
            images += (r.steps * run.config.data.batch_size) as f64;
            seconds += r.seconds?;
        }
    }
    (seconds > 0.0).then(|| images / seconds)
}

/// Module m's value at each epoch of the runs, over the runs that have it.
pub(super) fn curve(runs: &[&LoadedRun], m: usize, value: impl Fn(&Record) -> Option<f64>) -> Vec<CurvePoint> {
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in runs {
        for (e, rec) in run_epochs(&r.records) {
            if let (true, Some(v)) = (rec.module == m, value(rec)) {
                by_epoch.entry(e).or_default().push(v);
            }
        }
    }
    by_epoch.into_iter().filter_map(|(epoch, v)| MeanCi::of(&v).map(|value| CurvePoint { epoch, value })).collect()
}

pub(super) fn stat(values: impl Iterator<Item = Option<f64>>) -> Option<MeanCi> {
    let v: Option<Vec<f64>> = values.collect();
    v.and_then(|v| MeanCi::of(&v))
}

/// A record's kinetic energy, where training measured one: end-to-end training's loss has no transport
/// term, and its records' 0 means "not measured", not "no motion".
pub(super) fn measured_kinetic(r: &Record) -> Option<f64> {
    (r.mode != "e2e").then_some(r.kinetic_energy)
}
