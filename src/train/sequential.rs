//! Sequential training: module 1 to the end, then module 2 on the frozen module 1, and so on. Module k
//! (from 0) trains ne1 + k·ne2 epochs; earlier modules run in inference mode (no graph, BatchNorm running
//! statistics fixed), so they are bit-for-bit unchanged. `laps` > 1 repeats the pass (multi-lap), each
//! module keeping its optimizer state and its LR schedule running across laps.

use std::time::Instant;

use super::session::Session;
use crate::error::Result;

pub fn run(s: &mut Session) -> Result<()> {
    run_laps(s, 1)
}

pub fn run_laps(s: &mut Session, laps: usize) -> Result<()> {
    let k_total = s.modules();
    let (ne1, ne2) = (s.config.train.ne1, s.config.train.ne2);
    let epochs_of = |k: usize| ne1 + k * ne2;
    let schedules: Vec<_> = (0..k_total).map(|k| s.schedule(laps * epochs_of(k))).collect();
    let mut optims = s.optimizers();
    let mut steps = vec![0usize; k_total];
    s.resume_into(&mut optims, &mut steps)?;
    for lap in 0..laps {
        for k in 0..k_total {
            for e in 0..epochs_of(k) {
                if s.skip_unit() {
                    continue;
                }
                let start = Instant::now();
                let epoch = lap * epochs_of(k) + e + 1;
                let label = if laps > 1 { format!("lap {} module {} ep {}", lap + 1, k + 1, epoch) } else { format!("module {} epoch {}", k + 1, epoch) };
                let stats = s.local_epoch(k..k + 1, &mut optims, &schedules, &mut steps, label).map_err(|e| e.in_epoch(epoch))?;
                let acc = s.evaluate(k..k + 1)[k];
                let (st, lr) = stats[0];
                s.record_epoch(lap + 1, k, epoch, &st, lr, acc, start.elapsed().as_secs_f64())?;
                s.end_unit(&optims, &steps, e + 1 == epochs_of(k))?;
            }
        }
    }
    s.record_final(0..k_total)
}
