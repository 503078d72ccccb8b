//! Sequential training: module 1 to the end, then module 2 on the frozen module 1, and so on. Module k
//! (from 0) trains ne1 + k·ne2 epochs; earlier modules run in inference mode (no graph, BatchNorm running
//! statistics fixed), so they are bit-for-bit unchanged. `laps` > 1 repeats the pass (multi-lap), each
//! module keeping its optimizer state and its LR schedule running across laps.

use super::pass::{Optimizers, Pass};
use super::schedule::{Schedule, Unit};
use super::session::Session;

pub fn schedule(s: &Session) -> Schedule {
    laps(s, 1)
}

/// `laps` rounds of the sequential pass.
pub fn laps(s: &Session, laps: usize) -> Schedule {
    let k_total = s.modules();
    let (ne1, ne2) = (s.config.train.ne1, s.config.train.ne2);
    let epochs_of = |k: usize| ne1 + k * ne2;
    let mut units = Vec::new();
    for lap in 0..laps {
        for k in 0..k_total {
            for e in 0..epochs_of(k) {
                let epoch = lap * epochs_of(k) + e + 1;
                let label = if laps > 1 { format!("lap {} module {} ep {}", lap + 1, k + 1, epoch) } else { format!("module {} epoch {}", k + 1, epoch) };
                units.push(Unit { pass: Pass::Local(k..k + 1), lap: lap + 1, epoch, label, boundary: e + 1 == epochs_of(k) });
            }
        }
    }
    Schedule { optimizers: Optimizers::per_module(s, |k| laps * epochs_of(k)), units, reported: 0..k_total }
}
