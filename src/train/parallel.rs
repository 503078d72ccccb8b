//! Parallel (simultaneous) module-wise training: every batch flows through all modules; each takes its
//! local step on its detached input, so no gradient crosses a module boundary. Module k+1's input is
//! module k's output *before* module k's update on that batch (the paper's code does the same).

use std::time::Instant;

use burn::optim::ModuleOptimizer;

use super::optim::LrSchedule;
use super::session::Session;
use super::step::EpochStats;
use crate::error::Result;

pub fn run(s: &mut Session) -> Result<()> {
    let k_total = s.modules();
    run_epochs(s, |s, optims, schedules, steps, label| s.local_epoch(0..k_total, optims, schedules, steps, label))
}

/// The epochs of parallel training, each pass done by `epoch` (serial here, pipelined in `pipelined`).
pub fn run_epochs(s: &mut Session, mut epoch: impl FnMut(&mut Session, &mut [ModuleOptimizer], &[LrSchedule], &mut [usize], String) -> Result<Vec<(EpochStats, f64)>>) -> Result<()> {
    let k_total = s.modules();
    let epochs = s.config.train.epochs;
    let schedules: Vec<_> = (0..k_total).map(|_| s.schedule(epochs)).collect();
    let mut optims = s.optimizers();
    let mut steps = vec![0usize; k_total];
    s.resume_into(&mut optims, &mut steps)?;
    for e in 0..epochs {
        if s.skip_unit() {
            continue;
        }
        let start = Instant::now();
        let stats = epoch(s, &mut optims, &schedules, &mut steps, format!("epoch {}", e + 1))?;
        let accs = s.evaluate(0..k_total);
        let seconds = start.elapsed().as_secs_f64();
        for (k, (st, lr)) in stats.iter().enumerate() {
            s.record_epoch(1, k, e + 1, st, *lr, accs[k], seconds)?;
        }
        s.end_unit(&optims, &steps, false)?;
    }
    s.record_final(0..k_total)
}
