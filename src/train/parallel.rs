//! Parallel (simultaneous) module-wise training: every batch flows through all modules; each takes its
//! local step on its detached input, so no gradient crosses a module boundary. Module k+1's input is
//! module k's output *before* module k's update on that batch (the paper's code does the same).

use std::time::Instant;

use super::session::Session;
use crate::error::Result;

pub fn run(s: &mut Session) -> Result<()> {
    let k_total = s.modules();
    let epochs = s.config.train.epochs;
    let schedules: Vec<_> = (0..k_total).map(|_| s.schedule(epochs)).collect();
    let mut optims = s.optimizers();
    let mut steps = vec![0usize; k_total];
    for e in 0..epochs {
        let start = Instant::now();
        let stats = s.local_epoch(0..k_total, &mut optims, &schedules, &mut steps, format!("epoch {}", e + 1))?;
        let accs = s.evaluate(0..k_total);
        let seconds = start.elapsed().as_secs_f64();
        for (k, (st, lr)) in stats.iter().enumerate() {
            s.record_epoch(1, k, e + 1, st, *lr, accs[k], seconds)?;
        }
    }
    s.record_final(0..k_total)
}
